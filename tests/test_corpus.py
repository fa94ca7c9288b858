"""The synthetic corpus in data/: determinism, the design facts, the codebook.

Facts are those of the study's design (Murphy et al., Academic Medicine 2022) as issue 4
states them; the generator is qda.synthetic.generate.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

import qda
from qda.errors import DataError
from qda.study.codebook import children, codes_in_version, compare_versions, read_codebook
from qda.synthetic.generate import PASSAGE_DIR, generate, load_bank

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def study():
    return qda.load_study(DATA)


# ---------------------------------------------------------------------------
# Determinism and writing
# ---------------------------------------------------------------------------
def test_regeneration_is_byte_identical(tmp_path):
    out = tmp_path / "out"
    generate(out)  # defaults: 104 participants, seed 2019
    made = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert len(made) == 104 + 10  # transcripts + 7 CSV + guide + marker + codebook copy
    for rel in made:
        assert (out / rel).read_bytes() == (DATA / rel).read_bytes(), f"{rel} differs from data/"
    committed = {p.relative_to(DATA) for p in DATA.rglob("*") if p.is_file()} - {Path("README.md")}
    assert committed == set(made), "data/ holds files the generator does not make (or lacks some)"
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "the generator wrote outside --out"


def test_other_seed_differs_and_size_scales(tmp_path):
    facts = generate(tmp_path / "big", n_participants=1040, seed=7)
    s = qda.load_study(tmp_path / "big")
    assert len(s.participants) == 1040 and facts["participants"] == 1040
    assert (s.participants["gender"] == "woman").sum() == 520
    qda.validate(s)  # the design size comes from the SYNTHETIC marker
    assert s.text("P0001") != (DATA / "transcripts" / "P001.txt").read_text(encoding="utf-8")


def test_cli_rejects_odd_size(tmp_path, capsys):
    from qda.__main__ import main

    assert main(["generate", "--out", str(tmp_path / "x"), "--participants", "7"]) == 2
    assert "even number" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_files_are_utf8_lf_without_bom():
    files = [p for p in DATA.rglob("*") if p.is_file()]
    assert len(files) > 110
    for p in files:
        raw = p.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), p
        assert b"\r" not in raw, p
        raw.decode("utf-8")


# ---------------------------------------------------------------------------
# The acceptance facts
# ---------------------------------------------------------------------------
def test_design_counts(study):
    p = study.participants
    assert study.synthetic
    assert len(p) == 104 and list(p["participant_id"]) == [f"P{i:03d}" for i in range(1, 105)]
    assert (p["gender"] == "woman").sum() == 52 and (p["gender"] == "man").sum() == 52
    assert len(study.institutions) == 16 and set(p["institution_id"]) == set(study.institutions["institution_id"])
    assert (p["interview_mode"] == "video call").sum() == 2
    assert 55 <= p["interview_minutes"].mean() <= 65 and p["interview_minutes"].between(45, 80).all()
    assert not study.institutions["pseudonym"].str.contains("University|College").any()
    qda.validate(study)


def test_table1_patterns(study):
    p = study.participants
    by = p.groupby("gender", observed=True)
    share = lambda col, vals: by[col].agg(lambda s: s.isin(vals).mean())  # noqa: E731
    assert share("degree", ["MD", "MD-PhD"])["man"] > share("degree", ["MD", "MD-PhD"])["woman"]
    assert share("degree", ["PhD"])["woman"] > share("degree", ["PhD"])["man"]
    lead = share("leadership", ["dean", "chair", "center director", "other"])
    assert lead["man"] > lead["woman"]
    assert by["endowed_chair"].mean()["man"] > by["endowed_chair"].mean()["woman"]
    assert pd.crosstab(p["rank"], p["gender"]).min().min() >= 5  # every rank for both genders
    men_care = p.loc[(p["gender"] == "man") & p["primary_caregiver"]]
    assert 2 <= len(men_care) < 26  # some men, not most


def test_both_analysis_codes_in_every_transcript(study):
    full = study.codings.loc[study.codings["round"] == "full"]
    per = full.groupby("transcript_id")["code"].agg(set)
    assert len(per) == 104
    for tid, codes in per.items():
        assert "gender_inequities" in codes and codes & {"mentoring", "being_mentored"}, tid


def test_harassment_only_in_womens_transcripts(study):
    gender = dict(zip(study.participants["participant_id"], study.participants["gender"], strict=False))
    t4 = study.themes.loc[study.themes["theme"] == 4, "transcript_id"]
    assert len(t4) >= 5 and {gender[t] for t in t4} == {"woman"}
    sh = study.codings.loc[study.codings["code"] == "sexual_harassment", "transcript_id"]
    assert {gender[t] for t in sh} == {"woman"}
    women_t4 = t4.nunique()
    assert women_t4 < 52  # only some women


def test_caregiver_passages_go_to_caregiver_men(study):
    bank = load_bank(PASSAGE_DIR, set(codes_in_version(study.codebook, "final")))
    markers = [p.parts[0][0] for p in bank if p.caregiver and len(p.parts[0][0]) > 30]
    assert markers, "the bank has no primary-caregiver passages"
    prof = study.participants.set_index("participant_id")
    hits = {
        tid
        for tid, text in zip(study.transcripts["transcript_id"], study.transcripts["text"], strict=False)
        if any(m in text for m in markers)
    }
    assert hits, "no transcript holds a primary-caregiver passage"
    assert all(prof.at[t, "gender"] == "man" and prof.at[t, "primary_caregiver"] for t in hits)


def test_transcripts_read_as_interviews(study):
    words = study.transcripts["n_words"]
    assert words.mean() >= 2500
    for text in study.transcripts["text"].head(5):
        assert text.startswith("# SYNTHETIC INTERVIEW TRANSCRIPT.")
        paras = text.split("\n\n")
        assert paras[1].startswith("INTERVIEWER: ") and paras[-1].startswith("PARTICIPANT: ")
        assert all(p.startswith(("INTERVIEWER: ", "PARTICIPANT: ")) and "\n" not in p.strip() for p in paras[1:])
        assert "{" not in text and "}" not in text  # every slot filled


def test_no_two_transcripts_alike(study):
    from qda.study.units import participant_units

    u = participant_units(study.transcripts)
    texts = dict(zip(study.transcripts["transcript_id"], study.transcripts["text"], strict=False))
    u["text"] = [texts[t][s:e] for t, s, e in zip(u["transcript_id"], u["start"], u["end"], strict=False)]
    answers = u.loc[u["text"].str.split().str.len() > 40].groupby("transcript_id")["text"]
    seqs = answers.agg(tuple)
    assert seqs.nunique() == len(seqs) == 104
    sets = answers.agg(frozenset)
    worst = max(len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2))
    assert worst < 0.5, f"two transcripts share {worst:.0%} of their answers"


def test_memos_and_themes(study):
    m = study.memos
    assert 40 <= len(m) <= 80
    assert set(m["attached_to"]) == {"code", "coding", "project"}
    assert m["date"].min() >= pd.Timestamp("2019-01-01") and m["date"].max() <= pd.Timestamp("2020-12-31")
    assert m["text"].str.contains("Reflexivity").any()
    th = study.themes
    assert set(th["theme"]) == {1, 2, 3, 4}
    assert set(th.loc[th["theme"] == 3, "subtheme"]) == {"role_modeling", "pregnancy_childcare"}
    assert (th.loc[th["theme"] != 3, "subtheme"] == "").all()
    assert th.groupby("transcript_id").size().reindex(study.participants["participant_id"]).notna().all()


def test_rounds_and_versions(study):
    c = study.codings
    plan = c.groupby("round", observed=True).agg(
        transcripts=("transcript_id", "nunique"),
        coders=("coder", "nunique"),
        version=("codebook_version", lambda s: set(s.astype(str))),
    )
    assert plan.loc["1", "transcripts"] == 10 and plan.loc["1", "coders"] == 1
    assert plan.loc["2", "coders"] == plan.loc["3", "coders"] == 3
    assert plan.loc["2", "version"] == {"v1"} and plan.loc["3", "version"] == {"v2"}
    assert plan.loc["full", "transcripts"] == 104 and plan.loc["full", "coders"] == 2
    full = c.loc[c["round"] == "full"]
    per_coder = full.groupby("coder")["code"].agg(set)
    assert not per_coder["analyst_a"] & per_coder["analyst_b"]  # the codebook is split
    assert "gender_inequities" in per_coder["analyst_b"] and "mentoring" in per_coder["analyst_a"]
    rec = study.reconciliation
    assert set(rec["round"].astype(str)) == {"2", "3"}
    assert (rec["resolution"] == "unresolved").mean() < 0.15
    assert (rec.loc[rec["round"] == "2"].shape[0]) > (rec.loc[rec["round"] == "3"].shape[0])


# ---------------------------------------------------------------------------
# The codebook
# ---------------------------------------------------------------------------
def test_codebook_versions(study):
    cb = study.codebook
    assert list(cb["version"].cat.categories) == ["v1", "v2", "final"]
    v1, v2, final = (set(codes_in_version(cb, v)) for v in ("v1", "v2", "final"))
    assert {"gender_inequities", "mentorship", "mentoring", "being_mentored"} <= v1
    assert v2 - v1 == {"awareness_of_inequity", "role_models"} and v1 - v2 == {"mentor_qualities"}
    assert sorted(children(cb, "mentorship")) == ["being_mentored", "mentoring"]
    assert cb["color"].str.fullmatch(r"#[0-9A-F]{6}").all()
    assert set(cb["code_group"]) == {
        "Mentorship",
        "Gender and climate",
        "Career",
        "Work and family",
        "Responses",
        "Reflection",
    }
    assert not cb.duplicated(["version", "code"]).any()
    row = cb.loc[(cb["version"] == "final") & (cb["code"] == "mentoring")].iloc[0]
    assert row["refined_round"] == 2 and row["introduced_round"] == 1
    assert pd.isna(cb.loc[(cb["version"] == "v1") & (cb["code"] == "mentoring"), "refined_round"].iloc[0])


def test_compare_versions(study):
    d = compare_versions(study.codebook, "v1", "v2")
    assert list(d.columns) == ["code", "field", "before", "after", "change"]
    kinds = d.groupby("change")["code"].agg(set)
    assert kinds["added"] == {"awareness_of_inequity", "role_models"}
    assert kinds["removed"] == {"mentor_qualities"}
    assert {"mentoring", "being_mentored", "gender_inequities", "institutional_climate"} <= kinds["refined"]
    refined = d.loc[(d["code"] == "mentoring") & (d["change"] == "refined")]
    assert set(refined["field"]) == {"inclusion", "exclusion"}
    assert (refined["before"] != refined["after"]).all()
    later = compare_versions(study.codebook, "v2", "final")
    assert set(later["change"]) == {"refined"} and len(later) <= 5  # final changes little
    assert compare_versions(study.codebook, "final", "final").empty
    with pytest.raises(KeyError, match="v9"):
        compare_versions(study.codebook, "v1", "v9")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('color: "#56B4E9"', 'color: "blue"'), "code 'mentoring': color 'blue'"),
        (
            lambda t: t.replace(
                'origin: inductive\n    introduced_round: 2\n    color: "#4477AA"',
                'origin: guessed\n    introduced_round: 2\n    color: "#4477AA"',
            ),
            "code 'awareness_of_inequity': origin 'guessed'",
        ),
        (
            lambda t: t.replace(
                "parent: mentorship\n    code_group: Mentorship\n    origin: deductive\n    introduced_round: 1\n"
                '    color: "#56B4E9"',
                "parent: mentorshipp\n    code_group: Mentorship\n    origin: deductive\n"
                '    introduced_round: 1\n    color: "#56B4E9"',
            ),
            "code 'mentoring', version v1: parent 'mentorshipp'",
        ),
        (
            lambda t: t.replace("  - code: role_models\n", "  - code: role_models\n    colour: red\n"),
            "code 'role_models': has unknown key(s) colour",
        ),
        (lambda t: t.replace("versions:\n", "versions: [\n", 1), "is not valid YAML"),
    ],
)
def test_codebook_errors_name_file_and_code(tmp_path, edit, message):
    text = (DATA / "codebook.yml").read_text(encoding="utf-8")
    bad = tmp_path / "codebook.yml"
    bad.write_text(edit(text), encoding="utf-8")
    assert bad.read_text(encoding="utf-8") != text
    with pytest.raises(DataError) as err:
        read_codebook(bad)
    assert str(bad) in str(err.value) and message in str(err.value)


def test_caregiver_passages_go_only_to_men_recorded_as_primary_caregivers():
    """A man who says he is his family's primary caregiver is recorded as one (and vice versa)."""
    import qda
    from qda.synthetic.facts import bank_passages, identify_passages

    study = qda.load_study(DATA)
    told = identify_passages(study).merge(bank_passages()[["passage_id", "primary_caregiver"]], on="passage_id")
    carers = set(told.loc[told["primary_caregiver"], "participant_id"])
    p = study.participants.set_index("participant_id")
    assert carers, "no caregiver passage was told"
    assert all(p.loc[pid, "gender"] == "man" and p.loc[pid, "primary_caregiver"] for pid in carers)
    recorded_men = set(p.index[(p["gender"] == "man") & p["primary_caregiver"]])
    assert recorded_men == carers


# ---------------------------------------------------------------------------
# Each transcript consistent with its participant
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def told(study):
    """Every bank answer of data/ with its passage, the teller's profile facts and slot fills."""
    from qda.synthetic.facts import _template_regex, bank_passages, identify_passages
    from qda.synthetic.generate import speaker_facts

    ident = identify_passages(study)
    assert not (ident["category"] == "unmatched").any(), "an answer matches no bank passage"
    ids = set(bank_passages(study)["passage_id"])
    bank = {p.id: p for p in load_bank(PASSAGE_DIR, set(codes_in_version(study.codebook, "final")))}
    assert ids == set(bank)
    facts = {r["participant_id"]: speaker_facts(r) for r in study.participants.to_dict("records")}
    texts = dict(zip(study.transcripts["transcript_id"], study.transcripts["text"], strict=False))
    rows = []
    for tid, pid, s, e, psg in ident[["transcript_id", "participant_id", "start", "end", "passage_id"]].itertuples(
        index=False
    ):
        if not psg:
            continue
        p = bank[psg]
        rx, _ = _template_regex(p.parts)
        m = rx.fullmatch(texts[tid][s:e])
        slots = [name for pieces in p.parts for name in pieces[1::2]]
        rows.append(
            {
                "transcript_id": tid,
                "participant_id": pid,
                "passage": p,
                "facts": facts[pid],
                "fills": list(zip(slots, m.groups(), strict=False)),
            }
        )
    return rows


def test_every_passage_told_fits_its_tellers_profile(told):
    """A passage's ``requires`` holds for the participant who tells it (rule: passages/README.md)."""
    from qda.synthetic.generate import passage_fits

    bad = [
        (r["transcript_id"], r["passage"].id, dict(r["passage"].requires))
        for r in told
        if not passage_fits(r["passage"].requires, r["facts"])
    ]
    assert not bad, bad[:5]
    constrained = [r for r in told if r["passage"].requires]
    assert len(constrained) >= 300  # the check is not vacuous: many told passages carry requires
    keys = {k for r in constrained for k in r["passage"].requires}
    assert keys == {"setting", "degree", "rank", "career_stage", "leadership", "field"}


def test_setting_follows_degree(study, told):
    """PhDs never tell clinical passages, MDs never research ones; MD-PhDs tell either, one per person."""
    deg = study.participants.set_index("participant_id")["degree"].astype(str)
    by_setting = {"clinical": set(), "research": set()}
    for r in told:
        want = r["passage"].requires.get("setting")
        if want:
            (s,) = want
            by_setting[s].add(r["participant_id"])
    assert by_setting["clinical"] and by_setting["research"]
    assert not by_setting["clinical"] & by_setting["research"], "someone tells both clinical and research passages"
    assert set(deg[list(by_setting["clinical"])]) <= {"MD", "MD-PhD"}
    assert set(deg[list(by_setting["research"])]) <= {"PhD", "MD-PhD"}
    md_phd = set(deg.index[deg == "MD-PhD"])
    assert md_phd & by_setting["clinical"] and md_phd & by_setting["research"]
    per_t = {}
    for r in told:
        per_t.setdefault(r["transcript_id"], set()).add(r["passage"].id)
    # the example: basic science without patients and the clinician-educator track never together
    assert not any({"gen_career_02", "gen_career_10"} <= ids for ids in per_t.values())


def test_slot_fills_fit_the_teller(told):
    """{field} is the participant's field; trainee, colleague, years and titles fit the profile."""
    from qda.synthetic.generate import SETTING_SLOTS, SLOTS, YEARS_BY_STAGE, own_title

    n_own = 0
    for r in told:
        f, p = r["facts"], r["passage"]
        for slot, value in r["fills"]:
            where = (r["transcript_id"], p.id, slot, value)
            if slot == "field":
                assert value == f["field"], where
            elif slot in ("trainee", "colleague"):
                assert value in SETTING_SLOTS[f["setting"]][slot], where
            elif slot == "years":
                assert value in SLOTS["years"][: YEARS_BY_STAGE[f["career_stage"]]], where
            elif slot == "senior_title" and p.own_title:
                assert value == own_title(f), where
                n_own += 1
            elif slot == "senior_title":
                assert value != own_title(f), where
    assert n_own >= 3  # some leaders speak of their own post


def test_two_to_four_theme_answers_per_transcript(told):
    """2-4 answers of themes 1-3 per transcript, a caregiver's theme-3 passage counted among them."""
    per = {}
    for r in told:
        if 1 <= r["passage"].theme <= 3:
            per[r["transcript_id"]] = per.get(r["transcript_id"], 0) + 1
    assert len(per) == 104 and min(per.values()) >= 2 and max(per.values()) <= 4, sorted(per.values())[-3:]
