"""The synthetic corpus in data/: determinism, the design facts, the codebook.

Facts are those of the study's design (Murphy et al., Academic Medicine 2022) as issue 4
states them; the generator is qda.synthetic.generate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import qda
from qda.errors import DataError
from qda.study.codebook import children, codes_in_version, compare_versions, read_codebook
from qda.study.units import participant_units, unit_decisions
from qda.synthetic.generate import generate

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
    assert len(made) == 104 + 13  # transcripts + 9 CSV + personas + guide + marker + codebook copy
    for rel in made:
        assert (out / rel).read_bytes() == (DATA / rel).read_bytes(), f"{rel} differs from data/"
    committed = {p.relative_to(DATA) for p in DATA.rglob("*") if p.is_file()} - {Path("README.md")}
    assert committed == set(made), "data/ holds files the generator does not make (or lacks some)"
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "the generator wrote outside --out"


def test_other_seed_differs_and_size_scales(tmp_path):
    facts = generate(tmp_path / "big", n_participants=208, seed=7)  # twice the design: one tile
    s = qda.load_study(tmp_path / "big")
    assert len(s.participants) == 208 and facts["participants"] == 208
    assert (s.participants["gender"] == "woman").sum() == 104
    qda.validate(s)  # the design size comes from the SYNTHETIC marker
    # a tiled corpus: the authored interviews under new ids, said so in the marker
    assert "tiled" in (tmp_path / "big" / "SYNTHETIC").read_text()
    ids = sorted(s.participants["participant_id"])
    assert s.text(ids[104]).split("\n\n", 1)[1] == s.text(ids[0]).split("\n\n", 1)[1]  # the second tile


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
    gender = dict(zip(study.participants["participant_id"], study.participants["gender"], strict=True))
    sh = study.codings.loc[study.codings["code"] == "sexual_harassment", "transcript_id"]
    assert {gender[t] for t in sh} == {"woman"}
    assert 5 <= sh.nunique() < 52  # some women, not all
    t4 = study.themes.loc[study.themes["theme"] == 4, "transcript_id"]
    assert {gender[t] for t in t4} <= {"woman"}


def test_caregiver_men_speak_as_primary_caregivers(study):
    """Every man recorded as a primary caregiver speaks of caring at home (coded work and family)."""
    men = study.participants.loc[(study.participants["gender"] == "man") & study.participants["primary_caregiver"]]
    full = study.codings.loc[study.codings["round"] == "full"]
    family = set(full.loc[full["code"].isin(["work_family_balance", "parental_leave_childcare"]), "transcript_id"])
    assert len(men) >= 2 and set(men["participant_id"]) <= family


def test_transcripts_read_as_interviews(study):
    for text in study.transcripts["text"]:
        assert text.startswith("# SYNTHETIC INTERVIEW TRANSCRIPT, abridged.")
        paras = text.split("\n\n")
        assert paras[1].startswith("INTERVIEWER: ") and paras[-1].startswith(("INTERVIEWER: ", "PARTICIPANT: "))
        assert all(p.startswith(("INTERVIEWER: ", "PARTICIPANT: ")) and "\n" not in p.strip() for p in paras[1:])
        assert "{" not in text and "}" not in text  # no tag left by the compiler


def test_memos_and_themes(study):
    m = study.memos
    assert len(m) >= 40 and m["text"].is_unique
    assert set(m["attached_to"]) == {"code", "coding", "project"}
    assert m["date"].min() >= pd.Timestamp("2019-01-01") and m["date"].max() <= pd.Timestamp("2020-12-31")
    assert (m["coder"] == "analyst_b").any()  # the interviewer-coder's reflexivity is in the memos
    th = study.themes
    assert set(th["theme"]) == {1, 2, 3, 4}
    assert set(th.loc[th["theme"] == 3, "subtheme"]) == {"role_modeling", "pregnancy_childcare"}
    assert (th.loc[th["theme"] != 3, "subtheme"] == "").all()


def _reliability(study, rnd):
    c = study.codings.loc[study.codings["round"] == rnd]
    units = participant_units(study.transcripts)
    d = unit_decisions(c, units.loc[units["transcript_id"].isin(c["transcript_id"].unique())])
    wide = d.pivot_table(index=["unit_id", "code"], columns="coder", values="applied", aggfunc="max")
    return qda.agreement.krippendorff_alpha(wide.astype(float).to_numpy(), "nominal")


def test_round_two_reliability_below_round_three(study):
    import qda.agreement  # noqa: F401

    assert _reliability(study, "2") < _reliability(study, "3")


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
