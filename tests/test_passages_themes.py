"""Checks of the theme passages of the synthetic corpus's passage bank.

The four theme files (``theme1_learning.yml`` ... ``theme4_harassment.yml``) are
hand-written; these tests hold them to the format and rules of
``src/qda/synthetic/passages/README.md``: structure, id scheme, minimum counts per
sub-theme, passage length after slot filling, allowed slots, code ranges, the
code co-occurrence that puts a passage into the analysis set (Murphy et al. 2022,
doi:10.1097/ACM.0000000000004388: ``gender_inequities`` overlapping a mentorship
code), speaker gender, forbidden phrases and sentence reuse.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml
from forbidden_phrases import FORBIDDEN as PHRASES

PASSAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "qda" / "synthetic" / "passages"

# file -> (theme number, {subtheme: (id prefix, minimum count, allowed speaker genders)})
THEME_FILES = {
    "theme1_learning.yml": (
        1,
        {
            "learning_secondhand": ("t1_second_", 10, {"man"}),
            "learning_firsthand": ("t1_first_", 10, {"woman"}),
        },
    ),
    "theme2_navigating.yml": (
        2,
        {
            "warnings_advice": ("t2_warn_", 10, {"man", "woman", "any"}),
            "systems_reviews": ("t2_sys_", 8, {"man", "woman", "any"}),
        },
    ),
    "theme3_family.yml": (
        3,
        {
            "role_modeling": ("t3_model_", 10, {"man", "woman", "any"}),
            "pregnancy_childcare": ("t3_preg_", 10, {"man", "woman", "any"}),
        },
    ),
    "theme4_harassment.yml": (
        4,
        {"harassment": ("t4_harass_", 10, {"woman"})},
    ),
}

REQUIRED_KEYS = {
    "id",
    "category",
    "theme",
    "subtheme",
    "guide_section",
    "speaker_gender",
    "sentences",
    "codes",
}
OPTIONAL_KEYS = {"primary_caregiver", "requires"}
# requires: profile fact -> allowed values, as the generator defines them
from qda.synthetic.generate import REQUIRE_VALUES  # noqa: E402

GUIDE_SECTIONS = {
    "career_path",
    "being_mentored",
    "mentoring_others",
    "gender_workplace",
    "work_family",
    "leadership_climate",
}
MENTORSHIP_CODES = {"mentoring", "being_mentored"}
TOPICAL_CODES = {
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
}
ALL_CODES = MENTORSHIP_CODES | TOPICAL_CODES | {"gender_inequities"}

# Two fillings of the README's slots: the shortest and the longest sample values,
# so that the length limits hold whichever value the generator draws.
SHORT_FILL = {
    "field": "pediatrics",
    "trainee": "fellow",
    "senior_title": "vice dean",
    "years": "two",
    "meeting": "a study section",
    "grant": "R01",
    "child": "son",
    "kid_event": "swim meet",
    "colleague": "a colleague down the hall",
}
LONG_FILL = {
    "field": "radiation oncology",
    "trainee": "graduate student",
    "senior_title": "department chair",
    "years": "twelve",
    "meeting": "a national society meeting",
    "grant": "career development award",
    "child": "daughter",
    "kid_event": "school concert",
    "colleague": "a collaborator in another department",
}
ALLOWED_SLOTS = set(SHORT_FILL)

# Phrases the passages must not contain (quotations or near-quotations of the
# paper's participants, listed in the writing brief), plus close variants.
FORBIDDEN = PHRASES  # from tests/forbidden_phrases.py (stored encoded)


def _load(name: str) -> list[dict]:
    data = yaml.safe_load((PASSAGE_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"passages"}, f"{name}: top level must be {{passages: [...]}}"
    assert isinstance(data["passages"], list) and data["passages"], f"{name}: passages must be a non-empty list"
    return data["passages"]


ALL = {name: _load(name) for name in THEME_FILES}
CASES = [(name, p) for name, ps in ALL.items() for p in ps]
CASE_IDS = [p.get("id", "?") for _, p in CASES]


def _slots(text: str) -> list[str]:
    """Slot names used in ``text``, in order, via :class:`string.Formatter`."""
    return [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]


def _norm(sentence: str) -> str:
    """Sentence key for reuse checks: lower case, curly apostrophes unified, only letters and digits."""
    s = sentence.lower().replace("\u2019", "'")
    return re.sub(r"[^a-z0-9{}]+", " ", s).strip()


@pytest.mark.parametrize("name", list(THEME_FILES))
def test_counts_per_subtheme(name):
    _, subthemes = THEME_FILES[name]
    for subtheme, (_, minimum, _) in subthemes.items():
        n = sum(1 for p in ALL[name] if p.get("subtheme") == subtheme)
        assert n >= minimum, f"{name}: {subtheme} has {n} passages, needs >= {minimum}"


def test_ids_unique_across_files():
    ids = [p["id"] for _, p in CASES]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate ids: {dupes}"


@pytest.mark.parametrize(("name", "p"), CASES, ids=CASE_IDS)
def test_structure(name, p):
    theme, subthemes = THEME_FILES[name]
    # primary_caregiver (optional) marks a man who is his family's primary caregiver: the
    # generator gives such passages only to participants recorded as primary caregivers;
    # requires (optional) restricts the tellers by profile (README "Who may tell a passage")
    assert set(p) - OPTIONAL_KEYS == REQUIRED_KEYS, (
        f"keys {sorted((set(p) - OPTIONAL_KEYS) ^ REQUIRED_KEYS)} missing or unexpected"
    )
    for key, val in (p.get("requires") or {}).items():
        vals = val if isinstance(val, list) else [val]
        assert key in REQUIRE_VALUES and vals and set(vals) <= REQUIRE_VALUES[key], f"requires {key}: {val}"
    if p["theme"] == 4:
        assert "requires" not in p, "every woman may be given a harassment passage"
    if "primary_caregiver" in p:
        assert p["primary_caregiver"] is True and p["speaker_gender"] == "man"
    assert p["category"] == f"theme{theme}"
    assert p["theme"] == theme
    assert p["subtheme"] in subthemes
    prefix, _, genders = subthemes[p["subtheme"]]
    assert re.fullmatch(re.escape(prefix) + r"\d{2}", p["id"]), f"id {p['id']} should be {prefix}NN"
    assert p["guide_section"] in GUIDE_SECTIONS
    assert p["speaker_gender"] in genders
    assert isinstance(p["sentences"], list) and all(isinstance(s, str) and s.strip() for s in p["sentences"])
    assert isinstance(p["codes"], dict) and p["codes"]


@pytest.mark.parametrize(("name", "p"), CASES, ids=CASE_IDS)
def test_length_after_filling(name, p):
    n = len(p["sentences"])
    assert 4 <= n <= 9, f"{n} sentences"
    for fill in (SHORT_FILL, LONG_FILL):
        text = " ".join(s.format(**fill) for s in p["sentences"])
        words = len(text.split())
        assert 90 <= words <= 220, f"{words} words with {fill['field']!r} filling"


@pytest.mark.parametrize(("name", "p"), CASES, ids=CASE_IDS)
def test_slots(name, p):
    used = [slot for s in p["sentences"] for slot in _slots(s)]
    unknown = sorted(set(used) - ALLOWED_SLOTS)
    assert not unknown, f"unknown slots {unknown}"
    assert 1 <= len(used) <= 3, f"{len(used)} slot uses; want 1-3"
    for s in p["sentences"]:
        filled = s.format(**SHORT_FILL)
        assert "{" not in filled and "}" not in filled, f"stray brace in {s!r}"


@pytest.mark.parametrize(("name", "p"), CASES, ids=CASE_IDS)
def test_codes(name, p):
    n = len(p["sentences"])
    codes = p["codes"]
    assert set(codes) <= ALL_CODES, f"unknown codes {sorted(set(codes) - ALL_CODES)}"
    for code, rng in codes.items():
        assert isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, int) for x in rng), code
        first, last = rng
        assert 0 <= first <= last < n, f"{code} range {rng} outside 0..{n - 1}"
    assert "gender_inequities" in codes
    g0, g1 = codes["gender_inequities"]
    overlapping = [c for c in MENTORSHIP_CODES & set(codes) if codes[c][0] <= g1 and g0 <= codes[c][1]]
    assert overlapping, "gender_inequities must overlap mentoring or being_mentored"
    topical = set(codes) & TOPICAL_CODES
    assert 1 <= len(topical) <= 3, f"{len(topical)} topical codes; want 1-3"


@pytest.mark.parametrize(("name", "p"), CASES, ids=CASE_IDS)
def test_topical_code_fits_theme(name, p):
    """Theme 3 passages carry a work-family code, theme 4 passages ``sexual_harassment``."""
    if p["theme"] == 3:
        assert {"work_family_balance", "parental_leave_childcare"} & set(p["codes"])
    if p["theme"] == 4:
        assert "sexual_harassment" in p["codes"]


def test_theme4_only_women_speakers():
    genders = {p["speaker_gender"] for p in ALL["theme4_harassment.yml"]}
    assert genders == {"woman"}


def test_theme3_has_both_genders_in_each_subtheme():
    for subtheme in ("role_modeling", "pregnancy_childcare"):
        genders = {p["speaker_gender"] for p in ALL["theme3_family.yml"] if p["subtheme"] == subtheme}
        assert {"man", "woman"} <= genders, f"{subtheme}: speakers {genders}"


@pytest.mark.parametrize(("name", "p"), CASES, ids=CASE_IDS)
def test_no_forbidden_phrases(name, p):
    text = " ".join(p["sentences"]).lower().replace("\u2019", "'")
    found = [f for f in FORBIDDEN if f in text]
    assert not found, f"forbidden phrases {found}"


def test_no_sentence_shared_between_passages():
    """No sentence appears twice in the theme files, nor in ``general.yml`` if present."""
    seen: dict[str, str] = {}
    sources = list(CASES)
    general = PASSAGE_DIR / "general.yml"
    if general.exists():
        sources += [("general.yml", p) for p in _load("general.yml")]
    clashes = []
    for _, p in sources:
        for s in p["sentences"]:
            key = _norm(s)
            if key in seen and seen[key] != p["id"]:
                clashes.append((seen[key], p["id"], s))
            elif key in seen:
                clashes.append((p["id"], p["id"], s))
            seen[key] = p["id"]
    assert not clashes, f"shared sentences: {clashes[:5]}"


def test_requires_where_the_speaker_states_it():
    """Spot checks of the tagging: the speaker's own clinic, service or operating room needs a
    clinical setting; a stated full professorship needs that rank; "as {senior_title}" needs a post."""
    for _, p in CASES:
        low = " ".join(p["sentences"]).lower()
        req = p.get("requires") or {}
        if re.search(r"\b(my clinic|clinical service|operating room|on rounds|residents i mentor)\b", low):
            assert req.get("setting") == "clinical", p["id"]
        if "i made full professor" in low:
            assert req.get("rank") == "full", p["id"]
        if re.search(r"\b(as|became) \{senior_title\}", low):
            lead = req.get("leadership")
            assert lead and "none" not in lead and "center director" not in lead, p["id"]
