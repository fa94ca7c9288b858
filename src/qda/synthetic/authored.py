"""Authored interviews: one source file per participant, compiled to a transcript and its codings.

Each interview of the synthetic corpus is written by hand, as a whole, in one file
``interviews/PNNN.md`` inside this package. The file holds the participant's persona card
(YAML front matter) and the interview with its reference coding marked inline:

.. code-block:: text

    ---
    participant_id: P001
    ... persona card ...
    ---
    I: To start, could you walk me through how you came to be where you are?

    P: {career_path}I came to emergency medicine late.{/career_path} ...

A turn is one line starting ``I:`` (interviewer) or ``P:`` (participant). A code is opened
with ``{code}`` (or ``{code:attribute}``) and closed with ``{/code}``; tags sit only in
participant turns, and a span may stay open across an interviewer's probe and close in a
later answer (a story told across a probe). Offsets are never counted by hand: this module
compiles the plain transcript and computes every coding's code-point offsets
(``text[start:end]`` in Python, REFI-QDA's convention), and the tests check that each
compiled coding's text is exactly what the author marked.

Attributes record what a coder's *reading* turns on (see ``data/README.md``):
``gender_inequities`` carries ``own`` (the participant's own experience), ``observed``
(seen happening to someone else) or ``told`` (heard from a mentee, mentor or colleague);
``networks_sponsorship`` may carry ``given`` or ``received`` when it is an act of
sponsorship by or for the participant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

INTERVIEWS_DIR = Path(__file__).with_name("interviews")

#: The codes of the final codebook that the reference coding may use.
REFERENCE_CODES = (
    "mentoring",
    "being_mentored",
    "gender_inequities",
    "sexual_harassment",
    "institutional_climate",
    "networks_sponsorship",
    "career_path",
    "promotion_advancement",
    "research_funding",
    "leadership",
    "work_family_balance",
    "parental_leave_childcare",
    "advice_strategies",
    "institutional_policy",
    "reporting",
    "awareness_of_inequity",
    "role_models",
)
#: Attributes a code may (or, for gender_inequities, must) carry.
ATTRIBUTES = {
    "gender_inequities": ("own", "observed", "told"),
    "networks_sponsorship": ("given", "received"),
}
REQUIRED_ATTRIBUTE = ("gender_inequities",)

#: Columns of participants.csv that the card repeats and must agree with.
CARD_FROM_PARTICIPANTS = (
    "gender",
    "institution_id",
    "rank",
    "degree",
    "leadership",
    "endowed_chair",
    "age_band",
    "field",
    "interview_mode",
    "interview_minutes",
    "primary_caregiver",
)
#: Fields of the persona card the writer adds.
CARD_OWN_FIELDS = (
    "track",
    "clinical_duties",
    "career",
    "family",
    "mentors",
    "mentees",
    "leadership_history",
    "stance",
    "voice",
    "events",
)
TRACKS = ("tenure", "research", "clinician-educator")

HEADER = (
    "# SYNTHETIC INTERVIEW TRANSCRIPT, abridged. Written by the project for teaching and "
    "testing; not a real person.\n"
    "# Participant {pid}. Interview mode: {mode}. Length: {minutes} minutes.\n"
)
SPEAKERS = {"I": "INTERVIEWER", "P": "PARTICIPANT"}

_TAG = re.compile(r"\{(/?)([a-z_]+)(?::([a-z_-]+))?\}")
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


class AuthoredError(ValueError):
    """An authored interview file breaks the source format (message: ``FILE: where: what``)."""


@dataclass(frozen=True)
class Turn:
    """One speaker turn of a compiled transcript (offsets into the transcript text)."""

    index: int  # 1-based, counting all speakers
    speaker: str  # INTERVIEWER or PARTICIPANT
    start: int  # first code point of the spoken text (after "SPEAKER: ")
    end: int  # exclusive
    text: str


@dataclass(frozen=True)
class MarkedSpan:
    """One reference coding as the author marked it."""

    code: str
    attribute: str
    start: int
    end: int
    text: str  # the marked text, tags removed, as the author wrote it (spans joined by turns)
    first_turn: int
    last_turn: int


@dataclass
class Interview:
    """A compiled authored interview."""

    participant_id: str
    card: dict
    text: str
    turns: list[Turn] = field(default_factory=list)
    codings: list[MarkedSpan] = field(default_factory=list)

    def participant_words(self) -> int:
        return sum(len(t.text.split()) for t in self.turns if t.speaker == "PARTICIPANT")


def _strip_tags(line: str, file: str, lineno: int) -> tuple[str, list[tuple[int, str, str, str]]]:
    """Return the line's text without tags and the tags' (position, kind, code, attribute).

    Whitespace around a removed tag is collapsed so that no double space is left behind.
    """
    out: list[str] = []
    tags: list[tuple[int, str, str, str]] = []
    pos = 0
    for m in _TAG.finditer(line):
        out.append(line[pos : m.start()])
        pos = m.end()
        kind = "close" if m.group(1) else "open"
        code, attr = m.group(2), m.group(3) or ""
        text_so_far = "".join(out)
        # a tag between two spaces leaves one space, and a span never starts with a space
        if text_so_far.endswith(" ") and line[pos : pos + 1] == " ":
            pos += 1
        tags.append((len(text_so_far), kind, code, attr))
    out.append(line[pos:])
    text = "".join(out)
    if "{" in text or "}" in text:
        raise AuthoredError(f"{file}: line {lineno}: a brace that is not a tag; write tags as {{code}} and {{/code}}")
    return text, tags


def parse(source: str, file: str = "<interview>") -> Interview:
    """Compile one authored interview: the transcript text, its turns and its reference codings."""
    m = _FRONT.match(source)
    if not m:
        raise AuthoredError(f"{file}: line 1: no persona card; start the file with a YAML block between '---' lines")
    try:
        card = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise AuthoredError(f"{file}: persona card: not valid YAML ({exc}); fix the card") from None
    if not isinstance(card, dict) or "participant_id" not in card:
        raise AuthoredError(f"{file}: persona card: no participant_id; add it")
    pid = str(card["participant_id"])
    header = HEADER.format(pid=pid, mode=card.get("interview_mode", ""), minutes=card.get("interview_minutes", ""))
    pieces = [header, "\n"]
    length = len(header) + 1
    turns: list[Turn] = []
    open_spans: dict[str, tuple[int, str, int, int]] = {}  # code -> (start, attr, turn, line)
    spans: list[tuple[str, str, int, int, int, int]] = []
    first_line = source[: m.end()].count("\n") + 1
    for offset, raw in enumerate(source[m.end() :].split("\n")):
        lineno = first_line + offset
        line = raw.rstrip()
        if not line.strip():
            continue
        speaker_key, sep, rest = line.partition(": ")
        if speaker_key not in SPEAKERS or not sep:
            raise AuthoredError(
                f"{file}: line {lineno}: a turn must start with 'I: ' or 'P: '; join wrapped lines into one"
            )
        speaker = SPEAKERS[speaker_key]
        text, tags = _strip_tags(rest.strip(), file, lineno)
        if tags and speaker == "INTERVIEWER":
            raise AuthoredError(f"{file}: line {lineno}: codes are marked in participant turns only; move the tag")
        if turns:
            pieces.append("\n")
            length += 1
        prefix = f"{speaker}: "
        start = length + len(prefix)
        for pos, kind, code, attr in tags:
            where = f"{file}: line {lineno}"
            if code not in REFERENCE_CODES:
                raise AuthoredError(f"{where}: unknown code '{code}'; use a code of the final codebook")
            if kind == "open":
                if code in open_spans:
                    raise AuthoredError(f"{where}: '{code}' opened again before it was closed; close it first")
                allowed = ATTRIBUTES.get(code, ())
                if attr and attr not in allowed:
                    raise AuthoredError(f"{where}: '{code}:{attr}': attribute must be one of {allowed or 'none'}")
                if code in REQUIRED_ATTRIBUTE and not attr:
                    raise AuthoredError(f"{where}: '{code}' needs an attribute, one of {allowed}")
                open_spans[code] = (start + pos, attr, len(turns) + 1, lineno)
            else:
                if attr:
                    raise AuthoredError(f"{where}: a closing tag takes no attribute: write {{/{code}}}")
                if code not in open_spans:
                    raise AuthoredError(f"{where}: '{{/{code}}}' closes a code that is not open")
                s, a, t0, _ = open_spans.pop(code)
                spans.append((code, a, s, start + pos, t0, len(turns) + 1))
        turns.append(Turn(len(turns) + 1, speaker, start, start + len(text), text))
        pieces.append(prefix + text + "\n")
        length += len(prefix) + len(text) + 1
    for code, (_, _, _, lineno) in open_spans.items():
        raise AuthoredError(f"{file}: line {lineno}: '{code}' is never closed; add {{/{code}}}")
    text = "".join(pieces)
    codings = []
    for code, attr, s, e, t0, t1 in sorted(spans, key=lambda x: (x[2], x[3], x[0])):
        # a span never starts or ends on white space
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e <= s:
            raise AuthoredError(f"{file}: turn {t0}: '{code}' marks no text; remove the empty tag pair")
        codings.append(MarkedSpan(code, attr, s, e, text[s:e], t0, t1))
    return Interview(pid, card, text, turns, codings)


def read(path: str | Path) -> Interview:
    """Read and compile one authored interview file."""
    path = Path(path)
    return parse(path.read_text(encoding="utf-8"), str(path))


def authored_files(folder: str | Path | None = None) -> list[Path]:
    """The authored interview files, in participant order."""
    return sorted(Path(folder or INTERVIEWS_DIR).glob("P[0-9][0-9][0-9].md"))
