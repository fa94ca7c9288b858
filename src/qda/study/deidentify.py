"""Confidentiality check: find identifying data in transcripts and memos.

The study promised confidentiality to each participant *and* to their institution
(Murphy et al. 2022, Methods). Before a book is published from a real project,
:func:`scan` lists every passage that looks like identifying data, and the project
owner either removes it or marks it as reviewed in ``deidentify-reviewed.yml``.
``make book`` runs ``python -m qda deidentify-check --gate "$QDA_PROJECT"`` and
refuses to build while a finding is unreviewed.

What is looked for (``kind``), each rule a regular expression plus word lists:

``person name``
    (a) a title (Dr., Prof., Professor, Doctor, Mr., Mrs., Ms., Mx.) followed by one
    or two capitalised words that are not common English words; (b) a given name
    from the built-in list followed by a capitalised word that is not a common word
    ("Sarah Whitfield"); given names that are also words or places (May, Grace,
    Austin) count only when a listed surname follows; (c) a given name that is not
    a word on its own ("Sarah"); (d) every name in the user's list, whole word,
    case-sensitive.
``e-mail``, ``URL``
    The usual address shapes (``user@host.tld``; ``http(s)://``, ``www.``, and bare
    ``host.edu``/``.com``/``.org``/... names).
``phone``
    US shapes (``(415) 555-0134``, ``415-555-0134``, ``415.555.0134``, ``+1 415 555
    0134``, optional extension) and international ones (``+44 20 7946 0958``: a ``+``,
    a country code and groups totalling 8-15 digits).
``date``
    ``March 3, 2019``, ``March 3rd``, ``3 March 2019``, ``March 2019``,
    ``3/14/2019``, ``14-03-19``, ISO ``2019-03-14``. A bare year is not reported.
``institution``
    "University of X", "X University", "X Medical Center", "X School of Medicine",
    "X Hospital", "X Clinic", "X Institute" ... where X is a capitalised name that is
    not a generic word ("the Medical Center", "National Cancer Institute" are not
    reported); a built-in list of well-known names (Stanford, Mayo, UCSF ...); and the
    user's list, whole words, case-insensitive. The ``pseudonym`` column of
    ``institutions.csv`` ("Institution A") is not identifying and is not used.

Overlapping matches are resolved by keeping the longest ("Dr. Sarah Whitfield",
not also "Sarah Whitfield"; "George Washington University", not a person).

No library does this for English interview text without a language model (Presidio
and spaCy need model downloads), so the rules are written here by hand; they are a
reviewer's aid in the spirit of the HIPAA Safe Harbor identifiers (45 CFR
164.514(b)(2)): names, geographic units below a state, dates, phone numbers,
e-mail addresses, URLs.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from qda.errors import DataError

#: Columns of the findings table returned by :func:`scan`.
FINDING_COLUMNS = ["file", "location", "kind", "match", "context", "source", "id", "start", "end", "line"]
#: The kinds of identifying data, as they appear in the ``kind`` column.
KINDS = ("person name", "e-mail", "phone", "institution", "date", "URL")
#: File names looked up beside a project (inside a data folder; next to a .qdpx/.qde).
REVIEWED_NAMES = ("deidentify-reviewed.yml", "deidentify-reviewed.yaml", "deidentify-reviewed.csv")
NAMES_FILE = "deidentify-names.txt"
#: ``status`` of an entry of the reviewed file; "unreviewed" entries do not count as reviewed.
REVIEW_STATUSES = ("reviewed", "unreviewed")
INSTITUTIONS_FILE = "deidentify-institutions.txt"

_CONTEXT = 40  # characters of context either side of a match


# ---------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WordLists:
    """The built-in lists of ``qda/data/names.txt`` and ``qda/data/institutions.txt``."""

    given: frozenset[str]
    given_ambiguous: frozenset[str]
    surname: frozenset[str]
    common: frozenset[str]
    institutions: tuple[str, ...]


def read_list(path: str | Path) -> list[str]:
    """Read a word list: one entry a line, ``#`` starts a comment, blank lines skipped.

    Raises :class:`DataError` naming the file if it is missing or not UTF-8.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, "file", "does not exist", "pass an existing file (one name a line)") from None
    except IsADirectoryError:
        raise DataError(path, "file", "is a folder", "pass a text file with one name a line") from None
    except UnicodeDecodeError as e:
        raise DataError(path, f"byte {e.start}", "is not UTF-8 text", "save the file as UTF-8") from None
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


@lru_cache(maxsize=1)
def word_lists() -> WordLists:
    """Load (once) the built-in word lists shipped as package data in ``qda/data``."""
    sections: dict[str, set[str]] = {"given": set(), "given-ambiguous": set(), "surname": set(), "common": set()}
    current = None
    text = resources.files("qda").joinpath("data/names.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        sections[current].add(line)  # type: ignore[index]
    inst_text = resources.files("qda").joinpath("data/institutions.txt").read_text(encoding="utf-8")
    institutions = tuple(s for s in (ln.split("#", 1)[0].strip() for ln in inst_text.splitlines()) if s)
    return WordLists(
        given=frozenset(sections["given"]),
        given_ambiguous=frozenset(sections["given-ambiguous"]),
        surname=frozenset(sections["surname"]),
        common=frozenset(sections["common"]),
        institutions=institutions,
    )


# ---------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------
# a capitalised word: Sarah, O'Neil, McDonald, Smith-Jones
_CAP = r"(?:(?:[A-Z]['\u2019](?=[A-Z]))?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:['\u2019-][A-Z]?[a-z]+)*)"
_WORD = re.compile(r"[A-Z][a-z]+")  # a plain capitalised word (fast: see "Speed" below)
_TITLE = re.compile(
    r"\b(?:(?:Dr|Drs|Prof|Mr|Mrs|Ms|Mx)\.?|Doctor|Professor)[ \t]+(?:Emerit(?:us|a)[ \t]+)?"
    rf"(?:[A-Z]\.[ \t]*)?(?P<w1>{_CAP})(?:[ \t]+(?:[A-Z]\.[ \t]+)?(?P<w2>{_CAP}))?"
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_DOMAIN = re.compile(
    r"\b(?:[a-z0-9-]+\.)+(?:edu|com|org|gov|net|io|us|uk|ca|de|fr|info|health)\b(?:/[^\s<>\"'()]*)?",
    re.IGNORECASE,
)
_PHONE_US = re.compile(
    r"(?<![\w+/.-])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    r"(?:[ ]*(?:x|ext\.?)[ ]*\d{1,5})?(?![\w/-])"
)
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){2,6}(?![\w-])")
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"\b(?:{_MONTH}[ \t]+{_DAY}\b(?:,?[ \t]+(?:19|20)\d\d\b)?"  # March 3, 2019 / March 3rd
    rf"|{_DAY}[ \t]+(?:of[ \t]+)?{_MONTH}(?:,?[ \t]+(?:19|20)\d\d\b)?"  # 3 March 2019
    rf"|{_MONTH},?[ \t]+(?:19|20)\d\d\b"  # March 2019
    r"|(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"  # ISO 2019-03-14
    r"|(?:19|20)\d\d/(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])\b"  # 2019/3/14
    r"|(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|[12]\d|3[01])\1(?:(?:19|20)\d\d|\d\d)\b)"  # 3/14/2019
)
_INST_SUFFIX = (
    r"(?:University|College|Medical[ \t]+Center|Medical[ \t]+School|Medical[ \t]+College|School[ \t]+of[ \t]+Medicine"
    r"|College[ \t]+of[ \t]+Medicine|Health[ \t]+Sciences?[ \t]+Center|Health[ \t]+System|Cancer[ \t]+Center"
    r"|Children's[ \t]+Hospital|Hospital|Clinic|Institute)"
)
#: Words that may end an institution's name although they are common words.
_INST_PARTS = frozenset(
    {
        "Medical",
        "School",
        "Center",
        "Medicine",
        "Health",
        "System",
        "Hospital",
        "College",
        "Institute",
        "Cancer",
        "Children's",
        "Research",
        "University",
        "Clinic",
        "Memorial",
        "Regional",
        "Community",
        "General",
        "Academic",
        "State",
    }
)
_INST_WORD = r"(?:St\.|[A-Z][A-Za-z'\u2019&-]*)"
_INST_OF = rf"(?:[ \t]+(?:of|at|in)[ \t]+(?:the[ \t]+)?{_INST_WORD}(?:[ \t]+{_INST_WORD}){{0,4}})"
_INSTITUTION = re.compile(
    rf"(?<![\w'\u2019&.-])University[ \t]+of[ \t]+(?:the[ \t]+)?(?P<of_name>{_INST_WORD}(?:,?[ \t]+{_INST_WORD}){{0,5}})"
    rf"|(?<![\w'\u2019&.-])(?P<prefix>(?:{_INST_WORD}[ \t]+){{1,4}}){_INST_SUFFIX}\b{_INST_OF}?"
)


def _institution_list_pattern(names: Iterable[str], ignore_case: bool) -> re.Pattern | None:
    """One alternation of the literal names, longest first; word boundaries are checked by the caller."""
    names = sorted({n for n in names if n}, key=len, reverse=True)
    if not names:
        return None
    alt = "|".join(re.escape(n) for n in names)
    return re.compile(rf"(?:{alt})(?![\w-])", re.IGNORECASE if ignore_case else 0)


# Speed. Python's regex engine skips quickly through text only to the first literal or
# character class of a pattern; a pattern that opens with \b or a look-behind is tried
# at every position (~60 ms per 3 MB each). So every full pattern runs only inside
# windows around the hits of a cheap "hint" pattern (a literal or a class); the
# windows are wide enough to hold any match that contains the hint.
_NEXT = re.compile(rf"(?:[ \t]+|[ \t]+[A-Z]\.[ \t]+)({_CAP})")
_H_TITLE = re.compile(r"(?:Dr|Prof|Mr|Mrs|Ms|Mx|Doctor|Professor)")
_H_EMAIL = re.compile(r"@")
_H_URL = re.compile(r"://|www\.|WWW\.")
_H_DOMAIN = re.compile(r"\.(?:edu|com|org|gov|net|io|us|uk|ca|de|fr|info|health)\b", re.IGNORECASE)
_H_DIGITS = re.compile(r"[0-9]+")
_H_PLUS = re.compile(r"\+[0-9]")
_H_MONTH = re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)")
_H_INST = re.compile(r"(?:University|College|Medical|School|Health|Cancer|Children|Hospital|Clinic|Institute)")
#: rule -> (full pattern, hint, characters before the hint, characters after it)
_WINDOWED = {
    "title": (_TITLE, _H_TITLE, 0, 120),
    "e-mail": (_EMAIL, _H_EMAIL, 128, 320),
    "url": (_URL, _H_URL, 12, 4000),
    "domain": (_DOMAIN, _H_DOMAIN, 256, 4000),
    "phone-us": (_PHONE_US, _H_DIGITS, 12, 40),
    "phone-intl": (_PHONE_INTL, _H_PLUS, 0, 60),
    "date-month": (_DATE, _H_MONTH, 16, 40),
    "date-num": (_DATE, _H_DIGITS, 12, 16),
    "institution": (_INSTITUTION, _H_INST, 200, 240),
}


def _windowed(text: str, hints: dict, rule: str):
    """``finditer`` of one rule's full pattern, restricted to windows around its hints.

    ``hints`` caches the hint spans per hint pattern, so rules sharing a hint (digits)
    scan the text once.
    """
    rx, hint, back, fwd = _WINDOWED[rule]
    spans = hints.get(hint)
    if spans is None:
        spans = hints[hint] = [m.span() for m in hint.finditer(text)]
    windows: list[list[int]] = []
    n = len(text)
    for s, e in spans:
        lo, hi = max(0, s - back), min(n, e + fwd)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    for lo, hi in windows:
        yield from rx.finditer(text, lo, hi)


def _word_start(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_-")


# ---------------------------------------------------------------------------
# Finding identifiers in one text
# ---------------------------------------------------------------------------
def find_identifiers(text: str, names: Iterable[str] = (), institutions: Iterable[str] = ()) -> pd.DataFrame:
    """Every identifying-looking span of ``text``.

    Rules: see the module docstring. ``names`` are extra person names (whole word,
    case-sensitive); ``institutions`` extra institution names (whole words,
    case-insensitive). Overlapping spans are resolved by keeping the longest.

    Returns
    -------
    DataFrame
        Columns ``start``, ``end`` (code-point offsets, end exclusive), ``kind``
        (one of :data:`KINDS`) and ``match`` (``text[start:end]``), in text order.
    """
    return _frame(_find(text, _compile_user(tuple(names), tuple(institutions))))


@lru_cache(maxsize=8)
def _compile_user(names: tuple[str, ...], institutions: tuple[str, ...]):
    lists = word_lists()
    return (
        _institution_list_pattern(names, ignore_case=False),
        _institution_list_pattern(lists.institutions, ignore_case=False),
        _institution_list_pattern(institutions, ignore_case=True),
    )


def _frame(spans: list[tuple[int, int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(spans, columns=["start", "end", "kind", "match"]).astype(
        {"start": "int64", "end": "int64", "kind": "str", "match": "str"}
    )


def _find(text: str, compiled) -> list[tuple[int, int, str, str]]:
    user_names, builtin_inst, user_inst = compiled
    lists = word_lists()
    common, given, ambiguous, surname = lists.common, lists.given, lists.given_ambiguous, lists.surname
    spans: list[tuple[int, int, str]] = []

    hints: dict = {}
    # person names (a): title + capitalised word(s)
    for m in _windowed(text, hints, "title"):
        w1, w2 = m.group("w1"), m.group("w2")
        if w1 in common:
            continue
        end = m.end("w2") if w2 and w2 not in common else m.end("w1")
        spans.append((m.start(), end, "person name"))

    # person names (b), (c): one pass over capitalised tokens
    for m in _WORD.finditer(text):
        w = m.group()
        if (w not in given and w not in ambiguous) or not _word_start(text, m.start()):
            continue
        nxt = _NEXT.match(text, m.end())
        if nxt:
            nw = nxt.group(1)
            if (w in given and nw not in common) or (w in ambiguous and nw in surname):
                spans.append((m.start(), nxt.end(), "person name"))
                continue
        if w in given:
            spans.append((m.start(), m.end(), "person name"))

    # person names (d): the user's list
    if user_names is not None:
        spans += [
            (m.start(), m.end(), "person name") for m in user_names.finditer(text) if _word_start(text, m.start())
        ]

    spans += [(m.start(), m.end(), "e-mail") for m in _windowed(text, hints, "e-mail")]
    for rule in ("url", "domain"):
        for m in _windowed(text, hints, rule):
            end = m.end()
            while end > m.start() and text[end - 1] in ".,;:!?":
                end -= 1
            spans.append((m.start(), end, "URL"))
    spans += [(m.start(), m.end(), "phone") for m in _windowed(text, hints, "phone-us")]
    for m in _windowed(text, hints, "phone-intl"):
        if 8 <= sum(c.isdigit() for c in m.group()) <= 15:
            spans.append((m.start(), m.end(), "phone"))
    for rule in ("date-month", "date-num"):
        spans += [(m.start(), m.end(), "date") for m in _windowed(text, hints, rule)]

    # institutions: patterns, then built-in and user lists
    for m in _windowed(text, hints, "institution"):
        if m.group("of_name") is not None:
            # trim trailing common words ("University of Michigan, Then I" -> "University of Michigan")
            words = list(re.finditer(r"[A-Za-z'\u2019&.-]+", m.group("of_name")))
            while words and (
                words[-1].group() in common and words[-1].group() not in _INST_PARTS or words[-1].group() == "I"
            ):
                words.pop()
            if not words or all(wd.group() in common for wd in words):
                continue
            spans.append((m.start(), m.start("of_name") + words[-1].end(), "institution"))
            continue
        # strip leading common words ("Then Stanford University" -> "Stanford University")
        words = list(re.finditer(r"\S+", m.group("prefix")))
        lead = next((k for k, wd in enumerate(words) if wd.group() not in common), None)
        if lead is None:
            continue  # "the Medical Center", "National Cancer Institute": generic
        spans.append((m.start("prefix") + words[lead].start(), m.end(), "institution"))
    for rx in (builtin_inst, user_inst):
        if rx is not None:
            spans += [(m.start(), m.end(), "institution") for m in rx.finditer(text) if _word_start(text, m.start())]

    # keep the longest of overlapping spans (greedy, longest first; ties: earlier rule)
    kept: list[tuple[int, int, str]] = []
    starts: list[int] = []
    for s, e, k in sorted(spans, key=lambda t: (t[0] - t[1], t[0])):
        j = bisect.bisect_left(starts, s)
        if (j > 0 and kept[j - 1][1] > s) or (j < len(kept) and kept[j][0] < e):
            continue
        starts.insert(j, s)
        kept.insert(j, (s, e, k))
    return [(s, e, k, text[s:e]) for s, e, k in kept]


# ---------------------------------------------------------------------------
# Scanning a study
# ---------------------------------------------------------------------------
def _rel(path: str, root: Path | None) -> str:
    """``path`` relative to the project folder (POSIX), else as given."""
    if not path:
        return ""
    if root is not None and not root.is_dir() and path.startswith(f"{root}!"):
        return path[len(str(root)) + 1 :]  # a source inside a .qdpx: "project.qdpx!name.txt" -> "name.txt"
    if root is not None and root.is_dir():
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def _context(text: str, s: int, e: int) -> str:
    left = text[max(0, s - _CONTEXT) : s]
    right = text[e : e + _CONTEXT]
    return " ".join(f"{left}[{text[s:e]}]{right}".split())


def scan(study, names: Iterable[str] | None = None, institutions: Iterable[str] | None = None) -> pd.DataFrame:
    """Find identifying data in every transcript and memo of ``study``.

    Rules: :func:`find_identifiers` (module docstring), applied to each transcript's
    text and each memo's ``text``. ``names`` and ``institutions`` extend the built-in
    lists (e.g. the real names of a project's participants and sites).

    Returns
    -------
    DataFrame
        One row per finding, columns :data:`FINDING_COLUMNS`:
        ``file`` (transcript path relative to the project folder, ``memos.csv`` for
        memos, or the project file for REFI-QDA projects), ``location`` (human-readable:
        ``"transcript P001, line 12, character 345"`` / ``"memo M003 (row 5),
        character 40"``), ``kind``, ``match``, ``context`` (40 characters either side,
        the match in brackets), ``source`` (``"transcript"``/``"memo"``), ``id``
        (transcript_id or memo_id), ``start``, ``end`` (code-point offsets) and
        ``line`` (1-based line in the transcript, or the memo's CSV row).
    """
    compiled = _compile_user(tuple(names or ()), tuple(institutions or ()))
    root = Path(study.root) if getattr(study, "root", None) is not None else None
    rows: list[dict] = []
    tr = study.transcripts
    for tid, path, text in zip(tr["transcript_id"], tr["path"], tr["text"], strict=False):
        text = text if isinstance(text, str) else ""
        found = _find(text, compiled)
        if not found:
            continue
        file = _rel(str(path), root) or (root.name if root is not None else str(tid))
        for s, e, kind, match in found:
            line = text.count("\n", 0, s) + 1
            rows.append(
                {
                    "file": file,
                    "location": f"transcript {tid}, line {line}, character {s}",
                    "kind": kind,
                    "match": match,
                    "context": _context(text, s, e),
                    "source": "transcript",
                    "id": str(tid),
                    "start": s,
                    "end": e,
                    "line": line,
                }
            )
    memos = getattr(study, "memos", None)
    if memos is not None and len(memos):
        memo_file = "memos.csv" if root is None or root.is_dir() else root.name
        for k, (mid, text) in enumerate(zip(memos["memo_id"], memos["text"], strict=False)):
            text = text if isinstance(text, str) else ""
            for s, e, kind, match in _find(text, compiled):
                row = k + 2  # CSV line: header is line 1
                rows.append(
                    {
                        "file": memo_file,
                        "location": f"memo {mid} (row {row}), character {s}",
                        "kind": kind,
                        "match": match,
                        "context": _context(text, s, e),
                        "source": "memo",
                        "id": str(mid),
                        "start": s,
                        "end": e,
                        "line": row,
                    }
                )
    out = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    return out.astype({"start": "int64", "end": "int64", "line": "int64"})
