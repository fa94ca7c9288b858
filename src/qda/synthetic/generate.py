"""The seeded generator of the SYNTHETIC corpus in ``data/``.

``python -m qda generate --out data [--participants 104] [--seed 2019]`` writes the
participants, institutions, coders, transcripts, codings, reconciliation log, memos,
theme codings, the rendered interview guide and a ``SYNTHETIC`` marker into ``--out``
(and nowhere else). The same arguments give byte-identical files.

What follows the study (Murphy et al., Academic Medicine 2022,
doi:10.1097/ACM.0000000000004388) is its *design*: 104 participants, 52 women and 52
men, 16 institutions, 2 video interviews, about an hour each, a guide covering career,
being mentored, mentoring others, gender, family and leadership; three coding rounds
(10 transcripts read, 10 coded independently by three analysts with codebook v1, 10
with v2) and a full round by two analysts splitting the codebook; and the *kinds* of
experience in its four themes. Every sentence of every transcript is the project's own
writing from the passage bank in ``passages/``; the people, institutions and coders are
invented.

How each table is made (all random draws come from one ``numpy.random.Generator``
per stage, spawned from ``--seed``):

- participants: gender shuffled 50/50; institution round-robin within gender; rank,
  degree, leadership, endowed chair, age band and stage drawn from gender- and
  rank-dependent probabilities that follow the paper's Table 1 patterns (men more often
  MD or MD-PhD and in leadership and endowed chairs; every rank for both genders).
- transcripts: the guide's six sections in order; each participant answer is one bank
  passage matching the speaker's gender and whose ``requires`` fits the speaker's
  profile (:func:`speaker_facts`, :func:`passage_fits`: clinical or research setting,
  degree, rank, career stage, leadership post, field), slots filled from the profile
  (:func:`slot_options`); 2-4 theme passages (themes 1-3) per transcript, a harassment
  passage (theme 4) for some women, a primary-caregiver passage for the men who are
  primary caregivers (a theme-3 one counts among the 2-4); general passages
  fill each interview to a word target proportional to its length in minutes.
- true codings: each passage's sentence-range codes as code-point spans.
- coder codings: the truth with simulated noise (misses, confusions between
  neighbouring codes, doubled codes, boundary jitter snapped to word boundaries), more
  in round 2 than in round 3 and little in the full round.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from qda.errors import DataError
from qda.io import atomic_write, write_csv_atomic, write_text_atomic
from qda.study.codebook import codes_in_version, read_codebook
from qda.study.units import participant_units, unit_decisions

PASSAGE_DIR = Path(__file__).parent / "passages"
#: The hand-written codebook, package data (copied into --out when absent there).
PACKAGE_CODEBOOK = Path(__file__).with_name("codebook.yml")

SECTIONS = [
    "career_path",
    "being_mentored",
    "mentoring_others",
    "gender_workplace",
    "work_family",
    "leadership_climate",
]
CATEGORIES = {
    "theme1",
    "theme2",
    "theme3",
    "theme4",
    "career_path",
    "mentoring_no_gender",
    "inequity_outside_mentoring",
    "work_family_general",
    "leadership_climate",
}
GENDERS = {"man", "woman", "any"}
THEME_NAMES = {
    1: "Learning about gender inequities through mentoring relationships",
    2: "Intentionally helping women mentees navigate an inequitable environment",
    3: "Balancing work and family responsibilities",
    4: "Experiencing sexual harassment",
}
ANALYSIS_CODES = {"gender_inequities", "mentoring", "being_mentored"}
MENTOR_CODES = {"mentoring", "being_mentored"}

# Slot values (our own lists). {field} comes from the participant's profile.
SLOTS = {
    "trainee": ["postdoc", "fellow", "resident", "graduate student", "junior faculty member"],
    "senior_title": ["division chief", "department chair", "program director", "vice dean", "section head"],
    "years": ["two", "three", "four", "five", "six", "seven", "eight", "ten", "twelve"],
    "meeting": [
        "a national society meeting",
        "a study section",
        "a grant review panel",
        "an international congress",
        "a regional research retreat",
    ],
    "grant": ["K award", "R01", "foundation grant", "career development award", "pilot grant"],
    "child": ["son", "daughter"],
    "kid_event": ["soccer game", "school concert", "swim meet", "class play", "science fair"],
    "colleague": [
        "a colleague down the hall",
        "a collaborator in another department",
        "a friend from residency",
        "a friend from graduate school",
        "a senior colleague in my division",
    ],
}
CLINICAL_FIELDS = [
    "cardiology",
    "general surgery",
    "pediatrics",
    "radiation oncology",
    "internal medicine",
    "obstetrics and gynecology",
    "anesthesiology",
    "otolaryngology",
    "neurology",
    "emergency medicine",
]
RESEARCH_FIELDS = [
    "neuroscience",
    "immunology",
    "biochemistry",
    "epidemiology",
    "genetics",
    "pharmacology",
    "health services research",
]
#: Slot values that depend on the speaker's setting (a subset of SLOTS each): a
#: researcher who never trained in a clinic was no resident and has no friend from
#: residency; a clinician was no graduate student.
SETTING_SLOTS = {
    "clinical": {
        "trainee": ["postdoc", "fellow", "resident", "junior faculty member"],
        "colleague": [
            "a colleague down the hall",
            "a collaborator in another department",
            "a friend from residency",
            "a senior colleague in my division",
        ],
    },
    "research": {
        "trainee": ["postdoc", "fellow", "graduate student", "junior faculty member"],
        "colleague": [
            "a colleague down the hall",
            "a collaborator in another department",
            "a friend from graduate school",
            "a senior colleague in my division",
        ],
    },
}
#: How many of SLOTS["years"] (two ... twelve, ascending) a speaker of each career stage
#: may use: an early-career faculty member was not twelve years into the job.
YEARS_BY_STAGE = {"early": 4, "mid": 7, "senior": 9}
#: The speaker's own post as {senior_title} (leadership column -> title); "other" is a
#: division chief in a clinical setting and a section head in a research one.
OWN_TITLE = {"chair": "department chair", "dean": "vice dean"}
#: Profile facts a passage's ``requires`` may name, and their allowed values.
REQUIRE_VALUES = {
    "setting": {"clinical", "research"},
    "degree": {"MD", "PhD", "MD-PhD"},
    "rank": {"assistant", "associate", "full"},
    "career_stage": {"early", "mid", "senior"},
    "leadership": {"dean", "chair", "center director", "other", "none"},
    "field": set(CLINICAL_FIELDS) | set(RESEARCH_FIELDS),
}

CONSENT_REPLIES = [
    "Yes, that's fine, go ahead.",
    "Sure, that's all right with me.",
    "Yes, please, go ahead and record.",
    "That's fine. I'm happy to help.",
    "Of course, no problem at all.",
    "Yes. I read the sheet you sent, too.",
]
TRANSITIONS = {
    "being_mentored": [
        "I'd like to turn now to the people who have helped you.",
        "Let's talk about mentoring.",
        "Thank you. Now a different angle.",
    ],
    "mentoring_others": [
        "Now let me flip that around.",
        "Let's move to your side of mentoring.",
        "That's helpful. Turning to the people you support:",
    ],
    "gender_workplace": [
        "I want to ask about gender now.",
        "Let's move to a somewhat different topic.",
        "Thank you. The next part of the interview is about gender.",
    ],
    "work_family": [
        "Let's talk a little about life outside work.",
        "Turning to work and family:",
        "Thanks. I'd like to ask about family and caregiving.",
    ],
    "leadership_climate": [
        "A few questions about leadership and your institution.",
        "Let's finish with the bigger picture.",
        "Last topic, more or less:",
    ],
}

CODERS = pd.DataFrame(
    {
        "coder": ["analyst_a", "analyst_b", "analyst_c"],
        "role": [
            (
                "Qualitative sociologist and lead analyst (synthetic); drafted codebook v1 from the literature, "
                "the senior surgeon's experience and the reading of the first ten transcripts; codes the mentorship, "
                "career and work-family codes in the full round"
            ),
            (
                "Qualitative sociologist (synthetic); codes the gender and climate, responses and reflection codes "
                "in the full round"
            ),
            "Resident physician on the team (synthetic); codes in rounds 2 and 3 and brings a trainee's reading",
        ],
    }
)
#: Full round: which analyst applies which code groups (two analysts, the codebook split).
FULL_SPLIT = {
    "analyst_a": {"Mentorship", "Career", "Work and family"},
    "analyst_b": {"Gender and climate", "Responses", "Reflection"},
}
#: Simulated coder noise per round: probability of a miss, of swapping a code for its
#: neighbour, of adding the neighbour as a second code, of jittering the boundaries (and
#: the largest jitter in words), of coding the whole answer instead of the span.
NOISE = {
    "1": dict(miss=0.10, confuse=0.10, double=0.05, jitter=0.45, words=6, whole=0.15),
    "2": dict(miss=0.16, confuse=0.18, double=0.08, jitter=0.50, words=8, whole=0.20),
    "3": dict(miss=0.05, confuse=0.05, double=0.02, jitter=0.30, words=3, whole=0.05),
    "full": dict(miss=0.02, confuse=0.01, double=0.0, jitter=0.08, words=2, whole=0.0),
}
NEIGHBOURS = {
    "mentoring": "being_mentored",
    "being_mentored": "mentoring",
    "gender_inequities": "institutional_climate",
    "institutional_climate": "gender_inequities",
    "work_family_balance": "parental_leave_childcare",
    "parental_leave_childcare": "work_family_balance",
    "advice_strategies": "mentoring",
    "awareness_of_inequity": "gender_inequities",
    "networks_sponsorship": "mentoring",
    "promotion_advancement": "career_path",
}

_SLOT_RE = re.compile(r"\{(\w+)\}")
#: libyaml's safe loader when available (same result as yaml.safe_load, faster).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Draws:
    """Uniform draws from a numpy Generator, taken in blocks of 4096.

    One Generator call per block instead of one per small choice keeps the composition
    loop fast; the sequence is still fully determined by the seed.
    """

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.buf: list[float] = []
        self.k = 0

    def random(self) -> float:
        if self.k >= len(self.buf):
            self.buf, self.k = self.rng.random(4096).tolist(), 0
        self.k += 1
        return self.buf[self.k - 1]

    def int(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        return min(int(self.random() * n), n - 1)

    def perm(self, n: int) -> list[int]:
        """A uniform random permutation of range(n)."""
        keys = [self.random() for _ in range(n)]
        return sorted(range(n), key=keys.__getitem__)


# ---------------------------------------------------------------------------
# The passage bank
# ---------------------------------------------------------------------------
@dataclass
class Passage:
    """One hand-written answer of the bank, pre-split into literal and slot parts."""

    id: str
    category: str
    theme: int
    subtheme: str
    section: str
    gender: str
    parts: list[list[str]]  # per sentence: [literal, slot, literal, slot, ..., literal]
    codes: list[tuple[str, int, int]]
    caregiver: bool = False
    words: int = 0
    file: str = ""
    requires: dict[str, frozenset] = field(default_factory=dict)  # profile fact -> allowed values

    @property
    def own_title(self) -> bool:
        """True if ``{senior_title}`` names the speaker's own post (rule of :func:`slot_options`).

        That is: the passage uses the slot and its ``requires`` names leadership posts
        without "none".
        """
        lead = self.requires.get("leadership")
        return lead is not None and "none" not in lead and any("senior_title" in pieces[1::2] for pieces in self.parts)


def _bank_error(file: Path, pid: str, what: str, fix: str) -> DataError:
    return DataError(file, f"passage {pid!r}", what, fix)


def _parse_requires(file: Path, pid: str, raw) -> dict[str, frozenset]:
    """A passage's ``requires`` as {fact: frozenset of allowed values}, checked."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise _bank_error(
            file,
            pid,
            f"requires {raw!r} is not a mapping",
            "write e.g. requires: {setting: clinical, rank: [associate, full]}",
        )
    out = {}
    for key, val in raw.items():
        if key not in REQUIRE_VALUES:
            raise _bank_error(file, pid, f"requires key {key!r} is unknown", f"use one of {sorted(REQUIRE_VALUES)}")
        vals = val if isinstance(val, list) else [val]
        bad = [v for v in vals if v not in REQUIRE_VALUES[key]]
        if not vals or bad:
            raise _bank_error(
                file,
                pid,
                f"requires {key}: {val!r} holds no value or unknown value(s) {bad}",
                f"use values of {sorted(REQUIRE_VALUES[key])}",
            )
        out[key] = frozenset(vals)
    return out


def setting_of(degree: str, field_: str) -> str:
    """The speaker's setting, "clinical" (sees patients) or "research" (no patients).

    Rule: a PhD is "research", an MD "clinical"; an MD-PhD is "clinical" when the
    field drawn for them (seeded, in :func:`make_participants`) is one of
    :data:`CLINICAL_FIELDS`, else "research" (neuroscience, genetics, ...). Derived from
    the participants table, so it needs no column of its own.
    """
    if degree == "PhD":
        return "research"
    if degree == "MD":
        return "clinical"
    if degree == "MD-PhD":
        return "clinical" if field_ in CLINICAL_FIELDS else "research"
    raise DataError("participants", f"degree {degree!r}", "is not MD, PhD or MD-PhD", "fix the degree column")


def speaker_facts(prof: dict) -> dict[str, str]:
    """The profile facts a passage's ``requires`` is checked against.

    ``prof`` is one participants row (dict); returns ``setting`` (:func:`setting_of`),
    ``degree``, ``rank``, ``career_stage``, ``leadership`` and ``field``.
    """
    facts = {k: str(prof[k]) for k in ("degree", "rank", "career_stage", "leadership", "field")}
    facts["setting"] = setting_of(facts["degree"], facts["field"])
    return facts


def passage_fits(requires: dict, facts: dict[str, str]) -> bool:
    """True if every ``requires`` key holds the speaker's value (``facts[key] in allowed``).

    An empty ``requires`` fits everyone; keys are ANDed, the values of a key ORed.
    """
    return all(facts[k] in allowed for k, allowed in requires.items())


def own_title(facts: dict[str, str]) -> str | None:
    """The speaker's post as a ``{senior_title}`` value, or None without a matching post.

    chair -> department chair, dean -> vice dean, other -> division chief (clinical
    setting) or section head (research setting); center director and none -> None.
    """
    lead = facts["leadership"]
    if lead == "other":
        return "division chief" if facts["setting"] == "clinical" else "section head"
    return OWN_TITLE.get(lead)


def slot_options(facts: dict[str, str], passage: Passage | None = None) -> dict[str, list[str]]:
    """The values each slot may take for this speaker (and passage), drawn uniformly.

    Rules: ``{trainee}`` and ``{colleague}`` from :data:`SETTING_SLOTS` of the speaker's
    setting; ``{years}`` from the first :data:`YEARS_BY_STAGE` values for the career
    stage; ``{senior_title}`` is the speaker's own post (:func:`own_title`) in a passage
    whose ``requires`` names leadership posts without "none" (the speaker says "as
    {senior_title}"), elsewhere any title but the speaker's own (someone else's post).
    ``{field}`` is not included: it is always the participant's field.
    """
    opts = dict(SLOTS)
    opts.update(SETTING_SLOTS[facts["setting"]])
    opts["years"] = SLOTS["years"][: YEARS_BY_STAGE[facts["career_stage"]]]
    mine = own_title(facts)
    if passage is not None and passage.own_title:
        if mine is None:
            raise DataError(
                passage.file,
                f"passage {passage.id!r}",
                f"needs the speaker's own title, but leadership {facts['leadership']!r} has none",
                "require only chair, dean or other",
            )
        opts["senior_title"] = [mine]
    else:
        opts["senior_title"] = [t for t in SLOTS["senior_title"] if t != mine]
    return opts


def load_bank(folder: Path, known_codes: set[str]) -> list[Passage]:
    """Read and check every passage file of ``folder`` (all ``*.yml`` but the guide).

    Checks: unique ids, known category, section, gender and slots; sentences without
    newlines; code ranges inside the passage; codes of the codebook; theme passages carry
    ``gender_inequities`` and a mentorship child with overlapping ranges; general passages
    never carry both; theme-4 passages are spoken by women only; ``requires`` maps
    keys of :data:`REQUIRE_VALUES` to one allowed value or a non-empty list of them.
    """
    out: list[Passage] = []
    seen: set[str] = set()
    for file in sorted(folder.glob("*.yml")):
        if file.name == "interview_guide.yml":
            continue
        try:
            raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        except yaml.YAMLError as e:
            raise DataError(file, "parsing", f"is not valid YAML ({e})", "fix the indentation or quoting") from None
        for i, p in enumerate(raw.get("passages") or []):
            pid = str(p.get("id", f"#{i + 1}"))
            if pid in seen:
                raise _bank_error(file, pid, "id is used twice in the bank", "give the passage a unique id")
            seen.add(pid)
            cat, sec, gen = p.get("category"), p.get("guide_section"), p.get("speaker_gender")
            if cat not in CATEGORIES:
                raise _bank_error(file, pid, f"category {cat!r} is unknown", f"use one of {sorted(CATEGORIES)}")
            if sec not in SECTIONS:
                raise _bank_error(file, pid, f"guide_section {sec!r} is unknown", f"use one of {SECTIONS}")
            if gen not in GENDERS:
                raise _bank_error(file, pid, f"speaker_gender {gen!r} is unknown", "use man, woman or any")
            sents = p.get("sentences") or []
            if not sents:
                raise _bank_error(file, pid, "has no sentences", "write 4-9 sentences")
            parts = []
            for s in sents:
                s = " ".join(str(s).split())
                pieces = _SLOT_RE.split(s)
                for slot in pieces[1::2]:
                    if slot not in SLOTS and slot != "field":
                        raise _bank_error(
                            file,
                            pid,
                            f"slot {{{slot}}} is unknown",
                            f"use one of {{field}}, {', '.join('{' + k + '}' for k in SLOTS)}",
                        )
                parts.append(pieces)
            codes = []
            for code, rng in (p.get("codes") or {}).items():
                if code not in known_codes:
                    raise _bank_error(
                        file, pid, f"code {code!r} is not in the final codebook", "use a code slug of data/codebook.yml"
                    )
                if not (isinstance(rng, list) and len(rng) == 2 and 0 <= int(rng[0]) <= int(rng[1]) < len(sents)):
                    raise _bank_error(
                        file,
                        pid,
                        f"code {code!r} range {rng!r} is not [first, last] inside the {len(sents)} sentences",
                        "write 0-based inclusive sentence numbers",
                    )
                codes.append((code, int(rng[0]), int(rng[1])))
            names = {c for c, _, _ in codes}
            requires = _parse_requires(file, pid, p.get("requires"))
            lead = requires.get("leadership", frozenset({"none"}))
            if (
                "none" not in lead
                and not lead <= set(OWN_TITLE) | {"other"}
                and any("senior_title" in piece[1::2] for piece in parts)
            ):
                raise _bank_error(
                    file,
                    pid,
                    "says {senior_title} is the speaker's post, but requires a post with no title (center director)",
                    "require only chair, dean or other",
                )
            theme = int(p.get("theme") or 0)
            if cat.startswith("theme"):
                gi = [(a, b) for c, a, b in codes if c == "gender_inequities"]
                me = [(a, b) for c, a, b in codes if c in MENTOR_CODES]
                if not any(a <= d and c <= b for a, b in gi for c, d in me):
                    raise _bank_error(
                        file,
                        pid,
                        "theme passage lacks overlapping gender_inequities and mentoring/being_mentored ranges",
                        "code both on overlapping sentences",
                    )
                if theme != int(cat[-1]):
                    raise _bank_error(file, pid, f"theme {theme} does not match category {cat}", "make them agree")
                if theme == 4 and gen != "woman":
                    raise _bank_error(
                        file, pid, "a harassment passage must be spoken by a woman", "set speaker_gender: woman"
                    )
            elif "gender_inequities" in names and names & MENTOR_CODES:
                raise _bank_error(
                    file,
                    pid,
                    "general passage carries both gender_inequities and a mentorship code",
                    "move it to a theme file or drop one of the codes",
                )
            out.append(
                Passage(
                    id=pid,
                    category=cat,
                    theme=theme,
                    subtheme=str(p.get("subtheme") or ""),
                    section=sec,
                    gender=gen,
                    parts=parts,
                    codes=codes,
                    caregiver=bool(p.get("primary_caregiver", False)),
                    words=sum(len(" ".join(x).split()) for x in parts),
                    file=file.name,
                    requires=requires,
                )
            )
    if not out:
        raise DataError(folder, "passage bank", "holds no passages", "add passage files (see passages/README.md)")
    return out


def load_guide(folder: Path) -> dict:
    """Read ``interview_guide.yml``: opening, closing, closing_answers and the sections."""
    file = folder / "interview_guide.yml"
    try:
        raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError:
        raise DataError(file, "file", "does not exist", "write the interview guide (see passages/README.md)") from None
    secs = {s["id"]: s for s in raw.get("sections", [])}
    missing = [s for s in SECTIONS if s not in secs]
    if missing:
        raise DataError(file, "sections", f"lacks section(s) {', '.join(missing)}", "add them")
    for key in ("opening", "closing", "closing_answers"):
        if not raw.get(key):
            raise DataError(file, key, "is empty", "write at least one entry")
    for s in SECTIONS:
        if not secs[s].get("questions"):
            raise DataError(file, f"section {s}", "has no questions", "write at least one main question")
    return {
        "opening": raw["opening"],
        "closing": raw["closing"],
        "closing_answers": raw["closing_answers"],
        "sections": secs,
    }


def render_guide(guide: dict) -> str:
    """The interview guide as Markdown (``interview_guide.md``)."""
    lines = [
        "# Interview guide (SYNTHETIC)",
        "",
        (
            "Written by the project for its synthetic corpus. It mirrors the design the study describes "
            "(a semistructured guide covering being mentored and mentoring others, kept open-ended; "
            "Murphy et al., Academic Medicine 2022, doi:10.1097/ACM.0000000000004388) in our own words."
        ),
        "Placeholders such as `{field}` are filled from the participant's profile.",
        "",
        "## Opening (one of)",
        "",
    ]
    lines += [f"- {x}" for x in guide["opening"]] + [""]
    for i, sid in enumerate(SECTIONS, 1):
        s = guide["sections"][sid]
        lines += [f"## {i}. {s.get('title', sid)}", ""]
        if s.get("purpose"):
            lines += [f"*{s['purpose']}*", ""]
        lines += ["Main question (one of):", ""] + [f"- {q}" for q in s["questions"]] + [""]
        if s.get("probes"):
            lines += ["Probes:", ""] + [f"- {q}" for q in s["probes"]] + [""]
    lines += ["## Closing (one of)", ""] + [f"- {x}" for x in guide["closing"]] + [""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Participants and institutions
# ---------------------------------------------------------------------------
def make_institutions(rng: np.random.Generator, n: int = 16) -> pd.DataFrame:
    """16 invented institutions, balanced over region, ownership and prestige tier."""
    regions = np.array(["Northeast", "Midwest", "South", "West"])[rng.permutation(np.arange(n) % 4)]
    owner = np.array(["public", "private"])[rng.permutation(np.arange(n) % 2)]
    tier = np.array(["higher", "middle", "lower"])[rng.permutation(np.arange(n) % 3)]
    letters = [chr(ord("A") + i) if i < 26 else f"A{i}" for i in range(n)]
    return pd.DataFrame(
        {
            "institution_id": [f"I{i + 1:02d}" for i in range(n)],
            "pseudonym": [f"Institution {x}" for x in letters],
            "region": regions,
            "ownership": owner,
            "prestige_tier": tier,
        }
    )


def _pick(rng, options, probs, size):
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=np.asarray(probs) / sum(probs))]


def make_participants(rng: np.random.Generator, n: int, n_institutions: int = 16) -> pd.DataFrame:
    """``n`` invented participants (half women, half men) following the paper's patterns."""
    gender = np.array(["woman"] * (n // 2) + ["man"] * (n - n // 2), dtype=object)[rng.permutation(n)]
    inst = np.empty(n, dtype=object)
    rank = np.empty(n, dtype=object)
    degree = np.empty(n, dtype=object)
    for g, p_rank, p_deg in (
        ("woman", [0.38, 0.30, 0.32], [0.38, 0.47, 0.15]),
        ("man", [0.27, 0.25, 0.48], [0.52, 0.22, 0.26]),
    ):
        idx = np.flatnonzero(gender == g)
        inst[idx] = [f"I{k % n_institutions + 1:02d}" for k in rng.permutation(len(idx))]
        r = _pick(rng, ["assistant", "associate", "full"], p_rank, len(idx))
        for k, want in enumerate(["assistant", "associate", "full"]):  # every rank for both genders
            if len(idx) >= 3 and want not in r:
                r[k] = want
        rank[idx] = r
        degree[idx] = _pick(rng, ["MD", "PhD", "MD-PhD"], p_deg, len(idx))
    man = gender == "man"
    # leadership: probability by rank and gender; kind of post by gender
    p_lead = np.select([rank == "assistant", rank == "associate"], [0.04, 0.2], 0.55) * np.where(man, 1.0, 0.6)
    lead_kind = np.where(
        man,
        _pick(rng, ["dean", "chair", "center director", "other"], [0.15, 0.30, 0.30, 0.25], n),
        _pick(rng, ["dean", "chair", "center director", "other"], [0.08, 0.22, 0.30, 0.40], n),
    )
    lead_kind = np.where(rank == "assistant", "other", lead_kind)
    leadership = np.where(rng.random(n) < p_lead, lead_kind, "none")
    p_chair = np.select([rank == "full", rank == "associate"], [0.42, 0.08], 0.0) * np.where(man, 1.0, 0.55)
    endowed = rng.random(n) < p_chair
    stage = np.select([rank == "assistant", rank == "associate"], ["early", "mid"], "senior")
    u = rng.random(n)
    age = np.select(
        [
            (rank == "assistant") & (u < 0.65),
            rank == "assistant",
            (rank == "associate") & (u < 0.15),
            (rank == "associate") & (u < 0.75),
            rank == "associate",
            u < 0.10,
            u < 0.60,
        ],
        ["30-39", "40-49", "30-39", "40-49", "50-59", "40-49", "50-59"],
        "60+",
    )
    clin = _pick(rng, CLINICAL_FIELDS, [1] * len(CLINICAL_FIELDS), n)
    res = _pick(rng, RESEARCH_FIELDS, [1] * len(RESEARCH_FIELDS), n)
    field_ = np.where((degree == "MD") | ((degree == "MD-PhD") & (rng.random(n) < 0.5)), clin, res)
    mode = np.full(n, "in person", dtype=object)
    mode[rng.choice(n, size=min(2, n), replace=False)] = "video call"
    minutes = np.clip(np.rint(rng.normal(60, 8, n)), 45, 80).astype(int)
    care = rng.random(n) < np.where(man, 0.12, 0.38)
    men = np.flatnonzero(man)
    need = max(2, round(0.08 * len(men))) - int(care[men].sum())
    if need > 0:  # some men are primary caregivers (the paper notes it)
        care[rng.choice(men[~care[men]], size=need, replace=False)] = True
    return pd.DataFrame(
        {
            "participant_id": [f"P{i + 1:03d}" if n < 1000 else f"P{i + 1:0{len(str(n))}d}" for i in range(n)],
            "gender": gender,
            "institution_id": inst,
            "rank": rank,
            "degree": degree,
            "leadership": leadership,
            "endowed_chair": np.where(endowed, "yes", "no"),
            "age_band": age,
            "career_stage": stage,
            "field": field_,
            "interview_mode": mode,
            "interview_minutes": minutes,
            "primary_caregiver": np.where(care, "yes", "no"),
        }
    )


# ---------------------------------------------------------------------------
# Transcripts
# ---------------------------------------------------------------------------
def _fill(parts: list[str], values: dict[str, str]) -> str:
    """Fill one pre-split sentence: a/an before a vowel, capital at sentence start."""
    out = [parts[0]]
    for k in range(1, len(parts), 2):
        v = values[parts[k]]
        prev = out[-1]
        if v[:1].lower() in "aeiou" and (prev.endswith(" a ") or prev in ("a ", "A ")):
            out[-1] = prev[:-2] + ("an " if prev[-2] == "a" else "An ")
        elif v[:1].lower() not in "aeiou" and (prev.endswith(" an ") or prev in ("an ", "An ")):
            out[-1] = prev[:-3] + ("a " if prev[-3] == "a" else "A ")
        if k == 1 and parts[0] == "":
            v = v[:1].upper() + v[1:]
        out.append(v)
        out.append(parts[k + 1])
    return "".join(out)


@dataclass
class Composed:
    text: str
    turns: list[tuple[int, str, int, int]] = field(default_factory=list)  # (turn, speaker, start, end)
    truth: list[tuple] = field(default_factory=list)  # (turn, start, end, code, passage index, ustart, uend)
    theme_turns: list[tuple] = field(default_factory=list)  # (turn, start, end, theme, subtheme)
    sequence: tuple = ()


class Composer:
    """Composes one transcript per participant from the bank and the guide."""

    def __init__(self, bank: list[Passage], guide: dict, rng: np.random.Generator):
        self.bank, self.guide, self.d = bank, guide, _Draws(rng)
        # a primary-caregiver passage goes only to a man recorded as a primary caregiver
        self.theme_pool = {
            (g, care): [
                i
                for i, p in enumerate(bank)
                if p.theme in (1, 2, 3) and p.gender in (g, "any") and (care or not p.caregiver)
            ]
            for g in ("man", "woman")
            for care in (False, True)
        }
        self.harass_pool = [i for i, p in enumerate(bank) if p.theme == 4]
        self.care_pool = [i for i, p in enumerate(bank) if p.caregiver and p.gender in ("man", "any")]
        self.general = {
            (s, g, care): [
                i
                for i, p in enumerate(bank)
                if not p.theme and p.section == s and p.gender in (g, "any") and (care or not p.caregiver)
            ]
            for s in SECTIONS
            for g in ("man", "woman")
            for care in (False, True)
        }
        self.guide_parts = {
            s: (
                [_SLOT_RE.split(q) for q in guide["sections"][s]["questions"]],
                [_SLOT_RE.split(q) for q in guide["sections"][s].get("probes") or []],
            )
            for s in SECTIONS
        }
        self._fitting: dict[tuple, tuple] = {}

    def pools(self, facts: dict[str, str], gender: str, care: bool) -> tuple:
        """(theme pool, harassment pool, caregiver pool, general pools by section) of one speaker.

        The bank's pools restricted to the passages whose ``requires`` fits ``facts``
        (:func:`passage_fits`); cached per distinct profile.
        """
        key = (gender, care, *sorted(facts.items()))
        got = self._fitting.get(key)
        if got is None:
            ok = [passage_fits(p.requires, facts) for p in self.bank]
            got = (
                [i for i in self.theme_pool[(gender, care)] if ok[i]],
                [i for i in self.harass_pool if ok[i]],
                [i for i in self.care_pool if ok[i]],
                {s: [i for i in self.general[(s, gender, care)] if ok[i]] for s in SECTIONS},
            )
            self._fitting[key] = got
        return got

    def choose(
        self, gender: str, caregiver: bool, harassed: bool, target_words: int, facts: dict[str, str] | None = None
    ) -> dict[str, list[int]]:
        """The passages of one interview, by section (rule in the module docstring).

        Only passages whose ``requires`` fits ``facts`` (:func:`speaker_facts`) are
        drawn; ``facts=None`` ignores ``requires``. Raises :class:`DataError` if no theme
        passage (or, for a harassed woman or a caregiver man, no such passage) fits.
        """
        d = self.d
        care = caregiver and gender == "man"
        chosen: dict[str, list[int]] = {s: [] for s in SECTIONS}
        if facts is None:
            pool, harass_pool, care_pool = self.theme_pool[(gender, care)], self.harass_pool, self.care_pool
            general = {s: self.general[(s, gender, care)] for s in SECTIONS}
        else:
            pool, harass_pool, care_pool, general = self.pools(facts, gender, care)
        for name, p, needed in (
            ("theme", pool, True),
            ("harassment", harass_pool, harassed),
            ("primary-caregiver", care_pool, care),
        ):
            if needed and not p:
                raise DataError(
                    PASSAGE_DIR,
                    f"{name} passages",
                    f"none fits a {gender} speaker with profile {facts}",
                    "loosen a passage's requires or write a passage for this profile",
                )
        k = min(len(pool), 2 + d.int(3))
        picks = [pool[j] for j in d.perm(len(pool))[:k]]
        if harassed and harass_pool:
            picks.append(harass_pool[d.int(len(harass_pool))])
        if care and care_pool:
            c = care_pool[d.int(len(care_pool))]
            if self.bank[c].theme and c not in picks:
                picks[k - 1] = c  # a theme-3 caregiver passage takes the place of the last theme pick (2-4 in all)
            elif c not in picks:
                picks.append(c)
        for i in picks:
            chosen[self.bank[i].section].append(i)
        used = set(picks)
        words = sum(self.bank[i].words for i in picks)
        for s in SECTIONS:  # every section answered at least once, career path twice
            want = 2 if s == "career_path" else 1
            cands = [i for i in general[s] if i not in used]
            while len(chosen[s]) < want and cands:
                i = cands.pop(d.int(len(cands)))
                chosen[s].append(i)
                used.add(i)
                words += self.bank[i].words
        while words < target_words:
            open_ = [s for s in SECTIONS if len(chosen[s]) < 5 and any(i not in used for i in general[s])]
            if not open_:
                break
            s = open_[d.int(len(open_))]
            cands = [i for i in general[s] if i not in used]
            i = cands[d.int(len(cands))]
            chosen[s].append(i)
            used.add(i)
            words += self.bank[i].words
        for s in SECTIONS:
            chosen[s] = [chosen[s][j] for j in d.perm(len(chosen[s]))]
        return chosen

    def compose(self, pid: str, prof: dict, chosen: dict[str, list[int]]) -> Composed:
        """Lay out the turns of one interview and record the true code spans."""
        d = self.d
        g = self.guide
        header = (
            "# SYNTHETIC INTERVIEW TRANSCRIPT. Invented for teaching and testing; not a real person.\n"
            f"# Participant {pid}. Interview mode: {prof['interview_mode']}. "
            f"Length: {prof['interview_minutes']} minutes.\n\n"
        )
        pieces = [header]
        pos = len(header)
        comp = Composed(text="")
        turn = 0
        child = SLOTS["child"][d.int(2)]
        facts = speaker_facts(prof)
        options = {False: slot_options(facts)}

        def values(p: Passage | None = None) -> dict[str, str]:
            mine = p is not None and p.own_title
            if mine not in options:
                options[mine] = slot_options(facts, p)
            v = {k: opts[d.int(len(opts))] for k, opts in options[mine].items()}
            v["field"], v["child"] = prof["field"], child
            return v

        def add(speaker: str, text: str) -> tuple[int, int, int]:
            nonlocal pos, turn
            turn += 1
            if turn > 1:
                pieces.append("\n\n")
                pos += 2
            label = f"{speaker}: "
            start = pos + len(label)
            pieces.append(label + text)
            pos = start + len(text)
            comp.turns.append((turn, speaker, start, pos))
            return turn, start, pos

        add("INTERVIEWER", g["opening"][d.int(len(g["opening"]))])
        add("PARTICIPANT", CONSENT_REPLIES[d.int(len(CONSENT_REPLIES))])
        seq = []
        for si, s in enumerate(SECTIONS):
            mains, probes = self.guide_parts[s]
            asks = [mains[d.int(len(mains))]]
            if probes:
                asks += [probes[j] for j in d.perm(len(probes))]
            for k, i in enumerate(chosen[s]):
                p = self.bank[i]
                v = values(p)
                q = _fill(asks[k % len(asks)], v)
                if k == 0 and si > 0 and d.random() < 0.6:
                    opts = TRANSITIONS[s]
                    q = opts[d.int(len(opts))] + " " + q
                add("INTERVIEWER", q)
                sents = [_fill(x, v) for x in p.parts]
                t, ustart, uend = add("PARTICIPANT", " ".join(sents))
                bounds = list(accumulate([len(x) + 1 for x in sents], initial=0))  # sentence k: [b[k], b[k+1]-1)
                for code, a, b in p.codes:
                    comp.truth.append(
                        (t, ustart + int(bounds[a]), ustart + int(bounds[b + 1]) - 1, code, i, ustart, uend)
                    )
                if p.theme:
                    comp.theme_turns.append((t, ustart, uend, p.theme, p.subtheme if p.theme == 3 else ""))
                seq.append(p.id)
        add("INTERVIEWER", g["closing"][d.int(len(g["closing"]))])
        add("PARTICIPANT", g["closing_answers"][d.int(len(g["closing_answers"]))])
        pieces.append("\n")
        comp.text = "".join(pieces)
        comp.sequence = tuple(seq)
        return comp


# ---------------------------------------------------------------------------
# Coders: noise on the true codings
# ---------------------------------------------------------------------------
def _jitter(
    texts: dict[str, str], rows: pd.DataFrame, rng: np.random.Generator, max_words: int
) -> tuple[np.ndarray, np.ndarray]:
    """New (start, end) of each row, each moved by up to ``max_words`` words.

    Rule: the start moves to the start of the word ``d`` words before or after it, the
    end to the end of such a word (words are separated by single spaces inside an
    answer), never outside the answer (``ustart``..``uend``) and never to an empty span.
    Plain Python over the selected rows only (a small share of all codings): no library
    snaps spans to word boundaries.
    """
    starts = rows["start"].to_numpy(dtype=np.int64).copy()
    ends = rows["end"].to_numpy(dtype=np.int64).copy()
    shifts = rng.integers(-max_words, max_words + 1, size=(len(rows), 2)).tolist()
    for k, (tid, us, ue) in enumerate(
        zip(rows["transcript_id"], rows["ustart"].tolist(), rows["uend"].tolist(), strict=False)
    ):
        text = texts[tid]
        s, e = int(starts[k]), int(ends[k])
        ds, de = shifts[k]
        for _ in range(abs(ds)):
            if ds > 0:
                nxt = text.find(" ", s, ue)
                if nxt < 0:
                    break
                s = nxt + 1
            else:
                prv = text.rfind(" ", us, s - 1)
                s = prv + 1 if prv >= 0 else us
        for _ in range(abs(de)):
            if de > 0:
                nxt = text.find(" ", e + 1, ue)
                e = nxt if nxt >= 0 else ue
            else:
                prv = text.rfind(" ", us, e - 1)
                e = prv if prv >= 0 else e
        if s < e:
            starts[k], ends[k] = s, e
    return starts, ends


def simulate_coder(
    truth: pd.DataFrame,
    texts: dict[str, str],
    codes: set[str],
    rnd: str,
    rng: np.random.Generator,
    protect: set[str] = frozenset(),
) -> pd.DataFrame:
    """One coder's codings of ``truth`` rows in round ``rnd`` (noise of :data:`NOISE`).

    ``codes`` are the codes this coder may apply (the codebook version of the round, or
    the coder's share of it in the full round); ``protect`` are codes never missed or
    swapped away (the analysis codes in the full round, which the study found in every
    transcript).
    """
    nz = NOISE[rnd]
    t = truth.loc[truth["code"].isin(codes)].reset_index(drop=True)
    n = len(t)
    prot = t["code"].isin(protect).to_numpy()
    keep = (rng.random(n) >= nz["miss"]) | prot
    neigh = t["code"].map(NEIGHBOURS).fillna("").to_numpy(dtype=object)
    can = np.isin(neigh, list(codes))
    within_mentorship = np.isin(t["code"].to_numpy(dtype=object), list(MENTOR_CODES)) & np.isin(
        neigh, list(MENTOR_CODES)
    )
    swap = (rng.random(n) < nz["confuse"]) & can & (~prot | within_mentorship)
    code = np.where(swap, neigh, t["code"].to_numpy(dtype=object))
    out = t.assign(code=code).loc[keep]
    dbl = (rng.random(n) < nz["double"]) & can & keep
    extra = t.assign(code=neigh).loc[dbl]
    out = pd.concat([out, extra], ignore_index=True)
    whole = rng.random(len(out)) < nz["whole"]
    out.loc[whole, "start"] = out.loc[whole, "ustart"]
    out.loc[whole, "end"] = out.loc[whole, "uend"]
    jit = (rng.random(len(out)) < nz["jitter"]) & ~whole
    if jit.any():
        s, e = _jitter(texts, out.loc[jit], rng, nz["words"])
        out.loc[jit, "start"] = s
        out.loc[jit, "end"] = e
    return out


def make_codings(
    truth: pd.DataFrame, texts: dict[str, str], tids: list[str], codebook: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """All rounds of coding (round design in the module docstring)."""
    v1, v2, final = (set(codes_in_version(codebook, v)) for v in ("v1", "v2", "final"))
    v1.discard("mentorship"), v2.discard("mentorship"), final.discard("mentorship")
    groups = dict(
        zip(
            codebook.loc[codebook["version"] == "final", "code"],
            codebook.loc[codebook["version"] == "final", "code_group"],
            strict=False,
        )
    )
    plan = [
        ("1", tids[0:10], ["analyst_a"], "v1", v1),
        ("2", tids[10:20], ["analyst_a", "analyst_b", "analyst_c"], "v1", v1),
        ("3", tids[20:30], ["analyst_a", "analyst_b", "analyst_c"], "v2", v2),
    ]
    frames = []
    for rnd, part, coders, version, codes in plan:
        sub = truth.loc[truth["transcript_id"].isin(part)]
        for coder in coders:
            c = simulate_coder(sub, texts, codes, rnd, rng)
            if rnd in ("1", "2") and "mentor_qualities" in codes:  # the retired v1 code, used on mentoring talk
                m = sub.loc[sub["code"].isin(MENTOR_CODES)]
                m = m.loc[rng.random(len(m)) < 0.12].assign(code="mentor_qualities")
                c = pd.concat([c, m], ignore_index=True)
            frames.append(c.assign(coder=coder, round=rnd, codebook_version=version))
    for coder, share in FULL_SPLIT.items():
        codes = {c for c in final if groups.get(c) in share}
        c = simulate_coder(truth, texts, codes, "full", rng, protect=ANALYSIS_CODES)
        frames.append(c.assign(coder=coder, round="full", codebook_version="final"))
    out = pd.concat(frames, ignore_index=True)
    out = out.drop_duplicates(["round", "coder", "transcript_id", "start", "end", "code"])
    order = {"1": 0, "2": 1, "3": 2, "full": 3}
    out = (
        out.assign(_r=out["round"].map(order))
        .sort_values(["_r", "transcript_id", "coder", "start", "end", "code"], kind="stable")
        .reset_index(drop=True)
    )
    width = max(6, len(str(len(out))))
    out["coding_id"] = [f"C{k + 1:0{width}d}" for k in range(len(out))]
    return out[["coding_id", "transcript_id", "coder", "round", "start", "end", "code", "codebook_version"]]


# ---------------------------------------------------------------------------
# Reconciliation, memos, themes
# ---------------------------------------------------------------------------
NOTES = {
    ("mentor", "present"): [
        "The group reread the answer: the participant is clearly the one {dir} here, so {name} stays.",
        "Discussed whose help it was; the speaker describes {dir}, which the refined criteria make the test.",
        "Two of us had read past this; on rereading, the support described fits {name}.",
    ],
    ("mentor", "absent"): [
        "Agreed the help in this answer runs the other way, so {name} does not apply here.",
        "The participant only mentions the person in passing; no help is given or received. Not {name}.",
        "Dropped: the answer is about a formal course, not an ongoing relationship.",
    ],
    ("gender", "present"): [
        "The participant ties the problem to gender in their own words, so {name} applies.",
        "Kept {name}: the speaker names gender as the reason, even while hedging about it.",
        "Discussed at length; the link to gender is the participant's, not our reading, so the code stays.",
    ],
    ("gender", "absent"): [
        "The answer describes a hard place to work but never links it to gender; climate only.",
        "Removed {name}: the gender reading was ours, not the participant's.",
        "Agreed this is about workload in general; the participant does not connect it to gender.",
    ],
    ("other", "present"): [
        "Agreed {name} fits the answer once we compared it with the definition.",
        "A clear instance of {name}; the coder who skipped it had focused on the first half of the answer.",
        "Kept {name} after discussion; the criteria cover this case.",
    ],
    ("other", "absent"): [
        "Agreed {name} is not in this answer; the passage touches the topic only in passing.",
        "Dropped {name}: it overlapped another code and added nothing.",
        "The group decided {name} was a stretch here.",
    ],
    ("any", "unresolved"): [
        "No agreement reached; we flagged the answer to revisit after the next round.",
        "Left open: two readings are defensible and the criteria did not settle it.",
        "Unresolved after discussion; noted for the codebook revision.",
    ],
}


def _kind(code: str) -> str:
    if code in MENTOR_CODES or code == "mentor_qualities":
        return "mentor"
    return "gender" if code in ("gender_inequities", "institutional_climate") else "other"


def make_reconciliation(
    codings: pd.DataFrame,
    truth: pd.DataFrame,
    transcripts: pd.DataFrame,
    codebook: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per round-2/3 (unit, code) on which the three analysts disagreed before discussion.

    Uses :func:`qda.codings.unit_decisions` on participant turns. The group's resolution
    is the true coding of the unit (present/absent), with about 6 % left unresolved.
    """
    names = dict(zip(codebook["code"], codebook["name"], strict=False))
    rows = []
    for rnd in ("2", "3"):
        c = codings.loc[codings["round"] == rnd]
        if c.empty:
            continue
        tids = sorted(c["transcript_id"].unique())
        units = participant_units(transcripts.loc[transcripts["transcript_id"].isin(tids)])
        dec = unit_decisions(c, units)
        wide = dec.pivot_table(
            index=["transcript_id", "unit_id", "code"],
            columns="coder",
            values="applied",
            aggfunc="any",
            fill_value=False,
            observed=True,
        )
        coders = list(wide.columns)
        n_yes = wide.sum(axis=1)
        dis = wide.loc[(n_yes > 0) & (n_yes < len(coders))]
        tr = truth.loc[truth["transcript_id"].isin(tids)].assign(coder="truth")
        tdec = unit_decisions(tr, units)
        true_set = set(zip(tdec.loc[tdec["applied"], "unit_id"], tdec.loc[tdec["applied"], "code"], strict=False))
        for (tid, uid, code), r in dis.iterrows():
            res = "present" if (uid, code) in true_set else "absent"
            if rng.random() < 0.06:
                res = "unresolved"
            key = ("any", "unresolved") if res == "unresolved" else (_kind(code), res)
            tmpl = NOTES[key][int(rng.integers(len(NOTES[key])))]
            direction = "giving the help" if code == "mentoring" else "receiving the help"
            rows.append(
                {
                    "round": rnd,
                    "transcript_id": tid,
                    "unit_id": uid,
                    "code": code,
                    "coded_by": ";".join(k for k in coders if r[k]),
                    "not_coded_by": ";".join(k for k in coders if not r[k]),
                    "resolution": res,
                    "note": tmpl.format(name=names.get(code, code), dir=direction),
                }
            )
    return pd.DataFrame(
        rows, columns=["round", "transcript_id", "unit_id", "code", "coded_by", "not_coded_by", "resolution", "note"]
    )


MEMO_CODE = [
    (
        "Round {r}: I keep hesitating between {name} and its neighbour. My rule for now: follow the participant's "
        "own framing, not the label of the relationship."
    ),
    (
        "Definition of {name} feels too broad after today's transcripts; I will bring two borderline answers to "
        "the meeting."
    ),
    (
        "Noticed that {name} clusters in the second half of interviews, after the gender questions. Is the guide "
        "steering this, or is it how people warm up?"
    ),
    "We agreed to write the exclusion criterion of {name} as a test a new coder could apply without asking us.",
    (
        "Reading back my codings of {name}: I coded whole answers early on and only the relevant sentences later. "
        "Should tidy this before the comparison."
    ),
    "Several participants describe {name} without ever using the word. Worth a line in the inclusion criteria.",
    (
        "Compared my {name} codings with the others'. Most differences are about where the segment starts, not "
        "whether the code applies."
    ),
]
MEMO_CODING = [
    (
        "This answer shows how someone comes to see a pattern only through another person's story. Candidate "
        "exemplar for the learning theme."
    ),
    "The participant corrects themselves halfway through the answer; I coded the corrected version.",
    "Strong example of a mentor acting as a local policy maker. Flag for the family theme.",
    (
        "I am not sure the participant sees this as unfair; the tone is matter-of-fact. Coded it, but this needs "
        "the group's eye."
    ),
    "Short passage, but it ties the mentoring relationship and the inequity together very directly.",
    (
        "Here the advice given is protective: the mentor prepares the mentee for a harder standard instead of "
        "changing it."
    ),
    "The speaker describes both giving and receiving help in the same answer; split the codes by sentence.",
]
MEMO_PROJECT = [
    (
        "Reflexivity: as a sociologist I read institutional structure into almost everything. Today I caught "
        "myself coding climate where the participant spoke only of one person."
    ),
    (
        "Reflexivity: my own training was in a lab run by a woman, which may make me quicker to see supportive "
        "women mentors and slower to see the costs they carried."
    ),
    (
        "Reflexivity (resident's note): I recognise some of these training situations from my own rotations, and "
        "I need to keep my experience apart from the participant's account."
    ),
    (
        "Team meeting: agreed to stop classifying participants as mentors or mentees; the same person talks "
        "from both sides within minutes."
    ),
    (
        "Reflexivity: the interviewer is a senior surgeon. Some participants may have shaped their answers for a "
        "senior colleague; worth keeping in mind when reading praise of leadership."
    ),
    ("Meeting note: the neighbouring-code confusions of round 2 went down once the criteria were rewritten as tests."),
    (
        "Reflexivity: I expected men to describe fewer inequities; several did describe them, learned through "
        "mentees. Note my expectation so it does not bend the coding."
    ),
    ("Meeting note: the two of us coding the full set will meet every two weeks and bring one disputed answer each."),
]


def make_memos(
    codings: pd.DataFrame, codebook: pd.DataFrame, rng: np.random.Generator, n_memos: int = 60
) -> pd.DataFrame:
    """About 60 reflective memos: on codes, on codings and on the project (reflexivity).

    Dates follow the rounds: round 1 from mid-September 2019, round 2 from late
    October, round 3 December 2019 - January 2020, the full round February - November 2020.
    """
    names = dict(zip(codebook["code"], codebook["name"], strict=False))
    periods = {"1": ("2019-09-16", 25), "2": ("2019-10-21", 30), "3": ("2019-12-02", 40), "full": ("2020-02-03", 280)}
    rows = []
    rounds = [r for r in ("1", "2", "3", "full") if (codings["round"] == r).any()]
    for k in range(n_memos):
        rnd = rounds[min(int(rng.integers(len(rounds) + 2)), len(rounds) - 1)]  # more memos in the full round
        c = codings.loc[codings["round"] == rnd]
        start, span = periods[rnd]
        date = (pd.Timestamp(start) + pd.Timedelta(days=int(rng.integers(span)))).strftime("%Y-%m-%d")
        kind = ["code", "coding", "project"][k % 3]
        row = c.iloc[int(rng.integers(len(c)))]
        if kind == "code":
            text = MEMO_CODE[int(rng.integers(len(MEMO_CODE)))].format(r=rnd, name=names.get(row["code"], row["code"]))
            rows.append((row["coder"], date, "code", row["code"], "", text))
        elif kind == "coding":
            text = MEMO_CODING[int(rng.integers(len(MEMO_CODING)))]
            rows.append((row["coder"], date, "coding", "", row["coding_id"], text))
        else:
            text = MEMO_PROJECT[(k // 3) % len(MEMO_PROJECT)]
            coder = "analyst_c" if "resident" in text else ("analyst_a" if "sociologist" in text else row["coder"])
            rows.append((coder, date, "project", "", "", text))
    df = pd.DataFrame(rows, columns=["coder", "date", "attached_to", "code", "coding_id", "text"])
    df = df.sort_values(["date", "coder"], kind="stable").reset_index(drop=True)
    df.insert(0, "memo_id", [f"M{k + 1:03d}" for k in range(len(df))])
    return df


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def _write_if_changed(path: Path, data: bytes) -> None:
    """Atomic write, skipped when the file already holds exactly ``data``."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    with atomic_write(path, "wb") as f:
        f.write(data)


def _write_transcripts(out: Path, texts: dict[str, str]) -> None:
    """Write ``out/transcripts/<id>.txt`` for every transcript, all at once.

    The files are written into a staging folder inside ``out``, flushed to disk with one
    ``os.sync()`` and the folder is then renamed into place, so a failure leaves the
    previous transcripts intact (one ``fsync`` per file would dominate the run time at
    10,400 transcripts). Files of the old folder that are not generated transcripts
    (``P<digits>.txt``) are carried over; transcripts of an earlier, larger run are not.
    """
    tdir = out / "transcripts"
    stage = Path(tempfile.mkdtemp(prefix=".transcripts.", dir=out))
    old = out / f"{stage.name}.old"
    try:
        for tid, text in texts.items():
            with open(stage / f"{tid}.txt", "wb") as f:
                f.write(text.encode("utf-8"))
        if tdir.is_dir():
            for other in tdir.iterdir():
                if not re.fullmatch(r"P\d+\.txt", other.name) and not (stage / other.name).exists():
                    shutil.copy2(other, stage / other.name) if other.is_file() else shutil.copytree(
                        other, stage / other.name
                    )
        stage.chmod(0o755)
        os.sync()
        if tdir.exists():
            os.replace(tdir, old)
        os.replace(stage, tdir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if old.exists() and not tdir.exists():
            os.replace(old, tdir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def generate(
    out: str | Path,
    n_participants: int = 104,
    seed: int = 2019,
    passages: str | Path | None = None,
    codebook: str | Path | None = None,
) -> dict:
    """Generate the synthetic corpus into ``out``; return a few measured facts.

    Parameters
    ----------
    out : folder to write (created if needed); nothing is written elsewhere.
    n_participants : even number >= 2 (104 in the study).
    seed : seed of every random draw.
    passages : the passage bank folder (default: the package's ``passages/``).
    codebook : the codebook YAML (default: the package's ``qda/synthetic/codebook.yml``, the one
        source of the codebook); it is copied into ``out``.
    """
    out = Path(out)
    if n_participants < 2 or n_participants % 2:
        raise DataError(
            "--participants",
            str(n_participants),
            "must be an even number of at least 2",
            "the design has equal numbers of women and men",
        )
    cb_path = Path(codebook) if codebook else PACKAGE_CODEBOOK
    cb = read_codebook(cb_path)
    final_codes = set(codes_in_version(cb, "final"))
    folder = Path(passages) if passages else PASSAGE_DIR
    bank = load_bank(folder, final_codes)
    guide = load_guide(folder)

    ss = np.random.SeedSequence(seed)
    r_part, r_text, r_code, r_rec, r_memo = (np.random.default_rng(s) for s in ss.spawn(5))
    institutions = make_institutions(r_part)
    participants = make_participants(r_part, n_participants)
    women = np.flatnonzero(participants["gender"].to_numpy() == "woman")
    harassed = np.zeros(n_participants, dtype=bool)
    harassed[women[r_part.random(len(women)) < 0.3]] = True
    if len(women) and not harassed.any():
        harassed[women[0]] = True

    composer = Composer(bank, guide, r_text)
    texts: dict[str, str] = {}
    truth_rows: list[tuple] = []
    theme_rows: list[tuple] = []
    seen: set[tuple] = set()
    for idx, prof in enumerate(participants.to_dict("records")):
        pid = prof["participant_id"]
        target = int(prof["interview_minutes"] * r_text.uniform(40, 48))
        for _ in range(50):  # no two transcripts share a passage sequence
            chosen = composer.choose(
                prof["gender"], prof["primary_caregiver"] == "yes", bool(harassed[idx]), target, speaker_facts(prof)
            )
            seq = tuple(i for s in SECTIONS for i in chosen[s])
            if seq not in seen:
                break
        seen.add(seq)
        comp = composer.compose(pid, prof, chosen)
        texts[pid] = comp.text
        truth_rows += [(pid, *t) for t in comp.truth]
        theme_rows += [(pid, *t) for t in comp.theme_turns]

    truth = pd.DataFrame(
        truth_rows, columns=["transcript_id", "turn", "start", "end", "code", "passage", "ustart", "uend"]
    )
    tids = list(participants["participant_id"])
    codings = make_codings(truth, texts, tids, cb, r_code)
    transcripts = pd.DataFrame({"transcript_id": tids, "text": [texts[t] for t in tids]})
    recon = make_reconciliation(codings, truth, transcripts, cb, r_rec)
    memos = make_memos(codings, cb, r_memo)
    th = pd.DataFrame(theme_rows, columns=["transcript_id", "turn", "start", "end", "theme", "subtheme"])
    themes = pd.DataFrame(
        {
            "theme_coding_id": [f"T{k + 1:0{max(4, len(str(len(th))))}d}" for k in range(len(th))],
            "transcript_id": th["transcript_id"],
            "start": th["start"],
            "end": th["end"],
            "theme": th["theme"],
            "theme_name": th["theme"].map(THEME_NAMES),
            "subtheme": th["subtheme"],
            "coder": "analyst_a",
        }
    )

    # -- write (only into `out`) --------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    _write_transcripts(out, texts)
    for name, frame in (
        ("participants", participants),
        ("institutions", institutions),
        ("coders", CODERS),
        ("codings", codings),
        ("reconciliation", recon),
        ("memos", memos),
        ("themes", themes),
    ):
        write_csv_atomic(frame, out / f"{name}.csv")
    write_text_atomic(out / "interview_guide.md", render_guide(guide))
    write_text_atomic(
        out / "SYNTHETIC",
        (
            "This folder holds a SYNTHETIC corpus generated by `python -m qda generate`.\n"
            "No real person, institution or interview is described. See README.md.\n"
            f"participants: {n_participants}\nseed: {seed}\n"
        ),
    )
    if cb_path.resolve() != (out / "codebook.yml").resolve():
        _write_if_changed(out / "codebook.yml", cb_path.read_bytes())
    n_words = [len(t.split()) for t in texts.values()]
    return {
        "participants": n_participants,
        "mean_words": float(np.mean(n_words)),
        "min_words": int(min(n_words)),
        "codings": len(codings),
        "reconciliation": len(recon),
        "memos": len(memos),
        "themes": len(themes),
        "passages": len(bank),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m qda generate --out DIR [--participants N] [--seed S] [--passages DIR]``."""
    ap = argparse.ArgumentParser(prog="python -m qda generate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder to write (e.g. data)")
    ap.add_argument("--participants", type=int, default=104, help="even number of participants (default 104)")
    ap.add_argument("--seed", type=int, default=2019, help="random seed (default 2019)")
    ap.add_argument("--passages", default=None, help="passage bank folder (default: the package's)")
    ap.add_argument(
        "--codebook", default=None, help="codebook YAML (default: the package's qda/synthetic/codebook.yml)"
    )
    a = ap.parse_args(argv)
    facts = generate(a.out, a.participants, a.seed, a.passages, a.codebook)
    print(", ".join(f"{k}={v:.0f}" if isinstance(v, float) else f"{k}={v}" for k, v in facts.items()))
    return 0
