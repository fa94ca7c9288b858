"""Structure and content rules of the general passages and the interview guide.

Files under test: ``src/qda/synthetic/passages/general.yml`` and
``src/qda/synthetic/passages/interview_guide.yml`` (both SYNTHETIC, the project's own
writing). The rules are those of the passage bank's README: 4-9 sentences and 90-220 words
per passage after slot filling, only the README's slots and code slugs, in-bounds code
ranges, and general passages never carrying ``gender_inequities`` together with a mentoring
code.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path

import pytest
import yaml
from forbidden_phrases import FORBIDDEN as PHRASES

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "src" / "qda" / "synthetic" / "passages"
GENERAL = BANK / "general.yml"
GUIDE = BANK / "interview_guide.yml"
README = BANK / "README.md"

SLOTS = {
    "field",
    "trainee",
    "senior_title",
    "years",
    "meeting",
    "grant",
    "child",
    "kid_event",
    "colleague",
}
# Two fillings that bracket the word counts: the shortest and the longest README examples.
FILL_SHORT = dict(
    field="cardiology",
    trainee="postdoc",
    senior_title="vice dean",
    years="two",
    meeting="a study section",
    grant="R01",
    child="son",
    kid_event="class play",
    colleague="a colleague down the hall",
)
FILL_LONG = dict(
    field="radiation oncology",
    trainee="graduate student",
    senior_title="department chair",
    years="twelve",
    meeting="a national society meeting",
    grant="career development award",
    child="daughter",
    kid_event="school concert",
    colleague="a collaborator in another department",
)

CATEGORIES = {
    # category: (id prefix, minimum count, allowed guide sections)
    "career_path": ("gen_career_", 14, {"career_path"}),
    "mentoring_no_gender": ("gen_ment_", 14, {"being_mentored", "mentoring_others"}),
    "inequity_outside_mentoring": ("gen_ineq_", 14, {"gender_workplace"}),
    "work_family_general": ("gen_family_", 10, {"work_family"}),
    "leadership_climate": ("gen_lead_", 10, {"leadership_climate"}),
}
GUIDE_SECTIONS = [
    "career_path",
    "being_mentored",
    "mentoring_others",
    "gender_workplace",
    "work_family",
    "leadership_climate",
]
REQUIRED_KEYS = {"id", "category", "guide_section", "speaker_gender", "sentences", "codes"}
FLAG_KEYS = {"primary_caregiver", "doubts_systemic"}
OPTIONAL_KEYS = FLAG_KEYS | {"requires"}
# requires: profile fact -> allowed values, as the generator defines them
from qda.synthetic.generate import REQUIRE_VALUES  # noqa: E402

MENTORING_CODES = {"mentoring", "being_mentored"}

# Phrases of the paper or its participants that must never appear, with close variants;
# compared against lower-cased text with straight apostrophes and single spaces.
FORBIDDEN = PHRASES  # from tests/forbidden_phrases.py (stored encoded)
MONTHS = {
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
}
# Capitalised words allowed in the middle of a sentence (no proper names otherwise).
MID_SENTENCE_CAPS = re.compile(
    r"^(I|I'm|I'd|I've|I'll|R01|K|Monday|Mondays|Tuesday|Tuesdays|Wednesday|Thursday|" r"Thursdays|Friday|Fridays)$"
)


def _load(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def general() -> list[dict]:
    data = _load(GENERAL)
    assert isinstance(data, dict) and set(data) == {"passages"}, "general.yml: one key, passages"
    assert isinstance(data["passages"], list)
    return data["passages"]


@pytest.fixture(scope="module")
def guide() -> dict:
    data = _load(GUIDE)
    assert isinstance(data, dict)
    return data


def _readme_codes() -> set[str]:
    """Code slugs of the README's code table (the parent ``mentorship`` excluded)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Codes", 1)[1]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and "`" in ln]
    slugs = set()
    for row in rows:
        slugs.update(re.findall(r"`([a-z_]+)`", row.split("|")[2]))
    return slugs - {"mentorship"}


def _norm(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"\s+", " ", text).strip()


def _fill(sentence: str, values: dict) -> str:
    return sentence.format(**values)


def _slots(sentence: str) -> list[tuple[str, str | None, str | None]]:
    return [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(sentence) if name is not None]


def _split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+(?=[A-Z])", text.strip()) if s]


def _guide_strings(guide: dict) -> list[str]:
    out = list(guide["opening"]) + list(guide["closing"]) + list(guide["closing_answers"])
    for sec in guide["sections"]:
        out += [sec["title"], sec["purpose"], *sec["questions"], *sec["probes"]]
    return out


def _all_my_strings(general, guide) -> list[str]:
    return [s for p in general for s in p["sentences"]] + _guide_strings(guide)


# ------------------------------------------------------------------ readme and codes


def test_readme_code_table_parsed():
    codes = _readme_codes()
    assert {
        "mentoring",
        "being_mentored",
        "gender_inequities",
        "work_family_balance",
        "leadership",
        "institutional_policy",
        "awareness_of_inequity",
    } <= codes
    assert len(codes) == 17


# ------------------------------------------------------------------ general.yml structure


def test_passage_keys_and_values(general):
    for p in general:
        keys = set(p)
        assert keys >= REQUIRED_KEYS, f"{p.get('id')}: missing {REQUIRED_KEYS - keys}"
        assert keys <= REQUIRED_KEYS | OPTIONAL_KEYS, f"{p['id']}: extra keys {keys - REQUIRED_KEYS - OPTIONAL_KEYS}"
        assert "theme" not in p and "subtheme" not in p
        assert p["category"] in CATEGORIES, p["id"]
        prefix, _, sections = CATEGORIES[p["category"]]
        assert re.fullmatch(re.escape(prefix) + r"\d{2}", p["id"]), p["id"]
        assert p["guide_section"] in sections, f"{p['id']}: guide_section {p['guide_section']}"
        assert p["speaker_gender"] in {"man", "woman", "any"}, p["id"]
        for flag in FLAG_KEYS & keys:
            assert p[flag] is True, f"{p['id']}: {flag} must be true when present"
        assert isinstance(p["sentences"], list) and all(isinstance(s, str) for s in p["sentences"])
        assert isinstance(p["codes"], dict) and p["codes"], p["id"]


def test_requires_keys_and_values(general):
    for p in general:
        req = p.get("requires")
        if req is None:
            continue
        assert isinstance(req, dict) and req, f"{p['id']}: requires must be a non-empty mapping"
        for key, val in req.items():
            assert key in REQUIRE_VALUES, f"{p['id']}: requires key {key}"
            vals = val if isinstance(val, list) else [val]
            assert vals and set(vals) <= REQUIRE_VALUES[key], f"{p['id']}: requires {key}: {val}"
            assert len(set(vals)) < len(REQUIRE_VALUES[key]), f"{p['id']}: requires {key} allows everyone"


def test_requires_where_the_text_states_the_speakers_situation(general):
    """Spot checks of the tagging: no-patient passages need research, clinic talk a clinical setting."""
    by_id = {p["id"]: p for p in general}
    for pid, p in by_id.items():
        low = _text(p).lower()
        req = p.get("requires") or {}
        if "i don't see patients" in low or "research professor" in low:
            assert req.get("setting") == "research", pid
        if re.search(r"\b(my clinic|on service|bedside|operating room|block time|clinic days)\b", low):
            assert req.get("setting") == "clinical" or "field" in req, pid
        if "full professor" in low and low.startswith("becoming a full professor"):
            assert req.get("rank") == "full", pid
    assert by_id["gen_lead_01"]["requires"] == {"leadership": "chair"}
    assert by_id["gen_lead_02"]["requires"] == {"leadership": "center director"}
    caregivers = [p for p in general if p.get("primary_caregiver")]
    assert any("setting" not in (p.get("requires") or {}) for p in caregivers), (
        "a caregiver man in a research setting needs a caregiver passage he can tell"
    )


def test_minimum_counts(general):
    counts = Counter(p["category"] for p in general)
    for cat, (_, minimum, _) in CATEGORIES.items():
        assert counts[cat] >= minimum, f"{cat}: {counts[cat]} < {minimum}"


def test_ids_unique_across_both_files(general, guide):
    ids = [p["id"] for p in general] + [s["id"] for s in guide["sections"]]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, dupes


@pytest.mark.parametrize("values", [FILL_SHORT, FILL_LONG], ids=["short", "long"])
def test_sentence_and_word_counts(general, values):
    for p in general:
        n = len(p["sentences"])
        assert 4 <= n <= 9, f"{p['id']}: {n} sentences"
        words = len(" ".join(_fill(s, values) for s in p["sentences"]).split())
        assert 90 <= words <= 220, f"{p['id']}: {words} words"


def test_each_item_is_one_spoken_sentence(general):
    for p in general:
        for i, s in enumerate(p["sentences"]):
            assert s == s.strip() and s[:1].isupper(), f"{p['id']}[{i}]: starts badly"
            assert s[-1] in ".?!", f"{p['id']}[{i}]: no final punctuation"
            assert len(_split_sentences(s)) == 1, f"{p['id']}[{i}]: holds two sentences"


def test_only_allowed_slots(general, guide):
    texts = [(p["id"], s) for p in general for s in p["sentences"]]
    texts += [("guide", s) for s in _guide_strings(guide)]
    for where, s in texts:
        for name, spec, conv in _slots(s):
            assert name in SLOTS, f"{where}: slot {{{name}}} is not in the README"
            assert not spec and conv is None, f"{where}: slot {{{name}}} has a format spec"
        _fill(s, FILL_LONG)  # raises on a stray brace


def test_codes_known_and_in_bounds(general):
    known = _readme_codes()
    for p in general:
        n = len(p["sentences"])
        for code, rng in p["codes"].items():
            assert code in known, f"{p['id']}: unknown code {code}"
            assert isinstance(rng, list) and len(rng) == 2, f"{p['id']}: {code} range {rng}"
            a, b = rng
            assert isinstance(a, int) and isinstance(b, int)
            assert 0 <= a <= b < n, f"{p['id']}: {code} range {rng} out of 0..{n - 1}"


def test_never_gender_inequities_with_mentoring(general):
    for p in general:
        codes = set(p["codes"])
        assert not ("gender_inequities" in codes and codes & MENTORING_CODES), p["id"]


# ------------------------------------------------------------------ category rules

GENDER_WORDS = re.compile(r"\b(gender|women|woman|female|male|sexis\w*|harass\w*|discriminat\w*)\b", re.I)


def _text(p) -> str:
    return " ".join(p["sentences"])


def test_mentoring_no_gender(general):
    ment = [p for p in general if p["category"] == "mentoring_no_gender"]
    for p in ment:
        codes = set(p["codes"])
        assert "gender_inequities" not in codes, p["id"]
        assert len(codes & MENTORING_CODES) == 1, f"{p['id']}: exactly one mentoring code"
        expected = "being_mentored" if "being_mentored" in codes else "mentoring_others"
        assert p["guide_section"] == expected, p["id"]
        assert not GENDER_WORDS.search(_text(p)), f"{p['id']}: gender content"
    got = Counter(p["guide_section"] for p in ment)
    assert got["being_mentored"] >= 6 and got["mentoring_others"] >= 6, got


def test_inequity_outside_mentoring(general):
    ineq = [p for p in general if p["category"] == "inequity_outside_mentoring"]
    for p in ineq:
        codes = set(p["codes"])
        assert "gender_inequities" in codes and len(codes) >= 2, f"{p['id']}: needs a topical code"
        assert not codes & MENTORING_CODES, p["id"]
        assert "mentor" not in _text(p).lower(), f"{p['id']}: mentoring content"
        assert p["speaker_gender"] in {"man", "woman"}, p["id"]
        if p.get("doubts_systemic"):
            assert p["speaker_gender"] == "man", p["id"]
    by = Counter(p["speaker_gender"] for p in ineq)
    assert by["woman"] >= 5 and by["man"] >= 5, by
    assert sum(bool(p.get("doubts_systemic")) for p in ineq) >= 3


def test_work_family_general(general):
    fam = [p for p in general if p["category"] == "work_family_general"]
    for p in fam:
        codes = set(p["codes"])
        assert codes & {"work_family_balance", "parental_leave_childcare"}, p["id"]
        assert not codes & MENTORING_CODES, p["id"]
        assert "mentor" not in _text(p).lower(), f"{p['id']}: mentoring content"
    carers = [p for p in general if p.get("primary_caregiver")]
    assert all(p["speaker_gender"] == "man" for p in carers)
    assert all(p["category"] == "work_family_general" for p in carers)
    assert len(carers) >= 3
    assert sum(p["speaker_gender"] == "woman" for p in fam) >= 4


def test_leadership_climate(general):
    for p in general:
        if p["category"] != "leadership_climate":
            continue
        codes = set(p["codes"])
        assert codes & {"leadership", "institutional_climate", "institutional_policy"}, p["id"]


def test_career_path_is_neutral(general):
    for p in general:
        if p["category"] == "career_path":
            assert not set(p["codes"]) & (MENTORING_CODES | {"gender_inequities"}), p["id"]
            assert not GENDER_WORDS.search(_text(p)), p["id"]


# ------------------------------------------------------------------ wording rules


def test_no_forbidden_phrases(general, guide):
    for s in _all_my_strings(general, guide):
        low = _norm(s)
        for phrase in FORBIDDEN:
            assert phrase not in low, f"forbidden phrase {phrase!r} in: {s}"


def test_no_sentence_repeated(general, guide):
    sentences = [_norm(x) for s in _all_my_strings(general, guide) for x in _split_sentences(s)]
    dupes = [s for s, n in Counter(sentences).items() if n > 1]
    assert not dupes, dupes


def test_no_sentence_shared_with_other_bank_files(general, guide):
    mine = {_norm(x) for s in _all_my_strings(general, guide) for x in _split_sentences(s)}
    for path in sorted(BANK.glob("*.yml")):
        if path in (GENERAL, GUIDE):
            continue
        data = _load(path) or {}
        for p in data.get("passages", []):
            for s in p.get("sentences", []):
                assert _norm(s) not in mine, f"{path.name}:{p.get('id')}: repeats {s!r}"


def test_no_identifying_details(general, guide):
    """De-identification guard: no URLs, e-mails, digits (dates, phones) or proper names."""
    for s in _all_my_strings(general, guide):
        assert not re.search(r"https?://|www\.|@|\.com\b|\.org\b|\.edu\b", s), s
        assert not re.search(r"\d", _slotless(s)), f"digits in: {s}"
        for sent in _split_sentences(s):
            words = _slotless(sent).split()[1:]
            for w in words:
                w = w.strip(",.;:?!'\"()")
                if w[:1].isupper():
                    assert w not in MONTHS, f"month name in: {sent}"
                    assert MID_SENTENCE_CAPS.match(w), f"capitalised word {w!r} in: {sent}"


def _slotless(s: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "slot", s)


# ------------------------------------------------------------------ interview guide


def test_guide_top_level(guide):
    assert set(guide) == {"opening", "closing", "closing_answers", "sections"}
    assert len(guide["opening"]) >= 3
    assert len(guide["closing"]) >= 3
    assert len(guide["closing_answers"]) >= 6
    for s in guide["opening"]:
        low = s.lower()
        assert "record" in low and ("consent" in low or "voluntary" in low or "permission" in low), s
    for s in guide["closing"]:
        assert s.rstrip().endswith("?"), s
    assert len({_norm(s) for s in guide["opening"] + guide["closing"] + guide["closing_answers"]}) == (
        len(guide["opening"]) + len(guide["closing"]) + len(guide["closing_answers"])
    )


LEADING = re.compile(
    r"^(don't you|wouldn't you|isn't it|aren't|didn't you|surely|would you agree)|"
    r"\b(obviously|of course|clearly)\b",
    re.I,
)


def test_guide_sections(guide, general):
    ids = [s["id"] for s in guide["sections"]]
    assert ids == GUIDE_SECTIONS
    for sec in guide["sections"]:
        assert set(sec) == {"id", "title", "purpose", "questions", "probes"}, sec["id"]
        assert sec["title"].strip()
        assert len(_split_sentences(sec["purpose"])) == 1, f"{sec['id']}: purpose is one sentence"
        assert len(sec["questions"]) >= 4, sec["id"]
        assert len(sec["probes"]) >= 4, sec["id"]
        for q in sec["questions"] + sec["probes"]:
            assert q.rstrip()[-1] in "?.", q
            assert not LEADING.search(q), f"leading question: {q}"
            assert not re.match(r"^(is|are|do|does|did|was|were|has|have)\b", q, re.I) or "?" in q
    used = {p["guide_section"] for p in general}
    assert used == set(GUIDE_SECTIONS)


def test_guide_asks_about_both_mentoring_roles(guide):
    secs = {s["id"]: s for s in guide["sections"]}
    mentored = " ".join(secs["being_mentored"]["questions"]).lower()
    mentoring = " ".join(secs["mentoring_others"]["questions"]).lower()
    assert "mentored" in mentored or "helped" in mentored
    assert "mentor" in mentoring
