"""The craft exercises' selection and scoring (qda.analysis.exercises), checked against the data."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from qda.analysis import exercises as X
from qda.errors import QDAError
from qda.study.units import speaker_turns


@pytest.fixture(scope="module")
def turns(study):
    return speaker_turns(study.transcripts).set_index("unit_id")


# ---------------------------------------------------------------------------
# 1. Open coding
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def opening(study):
    return X.open_coding_exercise(study, seed=0)


def test_open_coding_passage_is_a_round_one_answer_with_its_round_one_codes(study, opening, turns):
    assert turns.loc[opening.unit_id, "speaker"] == "PARTICIPANT"
    assert opening.transcript_id in {f"P{i:03d}" for i in range(1, 11)}
    assert opening.text == study.text(opening.transcript_id, opening.start, opening.end)
    assert len(opening.team_codes) >= 3
    r1 = study.codings.loc[(study.codings["round"].astype(str) == "1") & (study.codings["coder"] == "analyst_a")]
    r1 = r1.loc[(r1["transcript_id"] == opening.transcript_id) & (r1["start"] < opening.end)]
    r1 = r1.loc[r1["end"] > opening.start]
    assert set(opening.team_codes["code"]) <= set(r1["code"])
    v1 = study.codebook.loc[study.codebook["version"] == "v1"].set_index("code")
    for row in opening.team_codes.itertuples():
        assert row.captures == v1.at[row.code, "definition"]
        assert row.words == "(the whole answer)" or row.words.split(" [...] ")[0] in opening.text


def test_open_coding_draw_is_seeded(study, opening):
    assert X.open_coding_exercise(study, seed=0).unit_id == opening.unit_id
    assert len({X.open_coding_exercise(study, seed=s).unit_id for s in range(6)}) > 1


def test_match_open_codes_touches_by_shared_stems(opening):
    code = opening.team_codes.iloc[0]
    label = f"my {code['name'].split()[0].lower()} code"
    touched = X.match_open_codes(opening, [label, "zzzz qqqq", ""])
    assert list(touched.columns) == ["code", "name", "your_labels", "touched"]
    assert touched.set_index("code").at[code["code"], "touched"]
    assert "zzzz" not in " ".join(touched["your_labels"])
    assert X.unmatched_labels(opening, [label, "zzzz qqqq"]) == ["zzzz qqqq"]
    assert not X.match_open_codes(opening, [])["touched"].any()


def test_open_coding_with_too_many_codes_asked_raises(study):
    with pytest.raises(QDAError):
        X.open_coding_exercise(study, min_codes=40)


# ---------------------------------------------------------------------------
# 2. Criteria
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def criteria(study):
    return X.criteria_exercise(study, n=4, seed=0)


def test_criteria_code_is_the_most_disputed_in_round_two(study, criteria):
    r2 = study.reconciliation.loc[study.reconciliation["round"].astype(str) == "2"]
    assert criteria.code == r2["code"].value_counts().index[0] == "gender_inequities"
    assert len(criteria.boundary) == 4 and criteria.boundary["unit_id"].is_unique
    assert set(criteria.boundary["unit_id"]) <= set(r2.loc[r2["code"] == criteria.code, "unit_id"])


def test_criteria_show_the_v1_and_v2_wording_and_what_was_rewritten(study, criteria):
    cb = study.codebook.set_index(["version", "code"])
    assert criteria.criteria.at["inclusion", "v1"] == cb.at[("v1", "gender_inequities"), "inclusion"]
    assert criteria.criteria.at["inclusion", "v2"] == cb.at[("v2", "gender_inequities"), "inclusion"]
    assert criteria.criteria.at["inclusion", "rewritten"]
    assert "told" in criteria.criteria.at["inclusion", "v2"]


def test_boundary_passages_are_settled_by_the_v2_criterion_their_note_names(criteria, turns):
    assert criteria.boundary["settled"].all()
    assert criteria.boundary["criterion"].str.match(r"gender_inequities \(v2 (inclusion|exclusion)\)").all()
    for row in criteria.boundary.itertuples():
        assert turns.loc[row.unit_id, "speaker"] == "PARTICIPANT" and len(row.text) > 0


def test_sponsorship_boundary_passages_are_settled_elsewhere(study):
    ex = X.criteria_exercise(study, code="mentoring", n=5)
    assert len(ex.boundary) == 2  # the two round-2 disagreements on mentoring
    assert not ex.boundary["settled"].any()  # settled by networks_sponsorship's exclusion, not mentoring's
    assert (ex.boundary["criterion"] == "networks_sponsorship (v2 exclusion)").all()
    assert (ex.boundary["resolution"] == "absent").all()


def test_score_boundary_decisions(criteria):
    units = list(criteria.boundary["unit_id"])
    scored = X.score_boundary_decisions(criteria, {units[0]: True, units[1]: False})
    assert scored["agree"].tolist() == [True, False]  # the team kept the code on all four
    with pytest.raises(QDAError):
        X.score_boundary_decisions(criteria, {"P999-T001": True})


def test_note_criterion_reads_the_rule_the_prose_names():
    codes = ["gender_inequities", "mentoring", "networks_sponsorship"]
    named = "Absent: the networks_sponsorship v2 exclusion keeps it as sponsorship alone."
    word = "Absent: no guidance from the dean, so the v2 sponsorship exclusion settles it."
    bare = "Present by the v2 inclusion for what a mentor tells the participant."
    expect = {"code": "networks_sponsorship", "version": "v2", "field": "exclusion"}
    assert X.note_criterion(named, "mentoring", codes) == expect
    assert X.note_criterion(word, "being_mentored", codes) == expect
    assert X.note_criterion(bare, "gender_inequities", codes) == {
        "code": "gender_inequities",
        "version": "v2",
        "field": "inclusion",
    }
    assert X.note_criterion("we talked it through") == {"code": "", "version": "", "field": ""}


def test_every_reconciliation_note_names_a_criterion(study):
    codes = list(study.codebook["code"])
    for note, code in zip(study.reconciliation["note"], study.reconciliation["code"], strict=True):
        crit = X.note_criterion(note, code, codes)
        assert crit["version"] == "v2" and crit["code"] in codes, note


# ---------------------------------------------------------------------------
# 3. Unitizing
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def unitizing(study):
    return X.unitizing_exercise(study, seed=0)


def test_unitizing_passage_is_partly_coded(study, unitizing):
    full = study.codings.loc[
        (study.codings["round"].astype(str) == "full") & (study.codings["code"] == "gender_inequities")
    ]
    full = full.loc[(full["transcript_id"] == unitizing.transcript_id) & (full["start"] < unitizing.end)]
    full = full.loc[full["end"] > unitizing.start]
    covered = set()
    for a, b in zip(full["start"], full["end"], strict=True):
        covered |= set(range(max(a, unitizing.start), min(b, unitizing.end)))
    ref = set()
    for a, b in zip(unitizing.reference["start"], unitizing.reference["end"], strict=True):
        ref |= {unitizing.start + k for k in range(a, b)}
    assert ref == covered
    assert 0.2 <= len(ref) / len(unitizing.text) <= 0.8


def test_unitizing_score_of_the_team_span_is_perfect(unitizing):
    spans = list(zip(unitizing.reference["start"], unitizing.reference["end"], strict=True))
    s = X.score_unitizing(unitizing, spans)
    assert s["u_alpha"] == pytest.approx(1.0)
    assert s["chars_only_yours"] == s["chars_only_team"] == 0 == s["start_shift"] == s["end_shift"]


def test_unitizing_whole_answer_counts_characters_and_finds_what_moved_alpha(unitizing):
    n = len(unitizing.text)
    s = X.score_unitizing(unitizing, [(0, n)])
    team = int((unitizing.reference["end"] - unitizing.reference["start"]).sum())
    assert s["chars_both"] == team and s["chars_only_yours"] == n - team and s["chars_only_team"] == 0
    assert s["u_alpha"] < 0.5
    assert s["start_shift"] == -int(unitizing.reference["start"].iloc[0])
    assert s["end_shift"] == n - int(unitizing.reference["end"].iloc[-1])
    assert s["alpha_start_fixed"] > s["u_alpha"] and s["alpha_end_fixed"] > s["u_alpha"]


def test_unitizing_matches_a_hand_computed_u_alpha_for_two_coders():
    # two coders on 10 positions: you mark [0, 6), the team [2, 6); one value.
    # l(code,code) = 2*4 = 8, l(gap,gap) = 2*4 = 8, l(code,gap) = l(gap,code) = 2; l.. = 20.
    # T_code = 6^2 + 4^2 = 52; T_gap = 4 + 2 + 4 = 10 (gap positions of both coders); T = 62.
    # e_cc = 20 (10*10 - 52) / (400 - 62), e_gg = 20 (10*10 - 10) / 338.
    ex = X.UnitizingExercise("u", "t", 0, 10, "x" * 10, "code", pd.DataFrame({"start": [2], "end": [6]}))
    e_cc, e_gg = 20 * (100 - 52) / 338, 20 * (100 - 10) / 338
    expected = 1 - (20 - 16) / (20 - e_cc - e_gg)
    assert X.score_unitizing(ex, [(0, 6)])["u_alpha"] == pytest.approx(expected)


def test_words_to_span_and_bad_spans(unitizing):
    w = X.word_spans(unitizing.text)
    a, b = X.words_to_span(unitizing, 3, 1)
    assert (a, b) == (w["start"][1], w["end"][3])
    assert unitizing.text[a:b].split() == unitizing.text.split()[1:4]
    with pytest.raises(QDAError):
        X.words_to_span(unitizing, 0, len(w))
    with pytest.raises(QDAError):
        X.score_unitizing(unitizing, [(5, 5)])
    empty = X.score_unitizing(unitizing, [])
    assert math.isnan(empty["start_shift"]) and empty["chars_both"] == 0


# ---------------------------------------------------------------------------
# 4. Reconciling
# ---------------------------------------------------------------------------
def test_reconciliation_case_shows_each_analyst_and_the_team_decision(study, turns):
    case = X.reconciliation_case(study, code="mentoring", seed=0)
    row = study.reconciliation.set_index(["unit_id", "code"]).loc[(case.unit_id, "mentoring")]
    assert case.resolution == row["resolution"] == "absent"
    assert set(case.codings["coder"]) == {"analyst_a", "analyst_b", "analyst_c"}
    applied = case.codings.set_index("coder")["applied"]
    assert set(applied[applied].index) == set(row["coded_by"].split(";"))
    for words in case.codings.loc[applied.to_numpy(), "words"]:
        assert words and words.split(" [...] ")[0][:40] in study.text(case.transcript_id)
    assert case.criterion["code"] == "networks_sponsorship"
    unit = turns.loc[case.unit_id]
    assert case.text == study.text(case.transcript_id, unit["start"], unit["end"])


def test_score_reconciliation(study):
    case = X.reconciliation_case(study, seed=3)
    agree = X.score_reconciliation(case, case.resolution.upper())
    assert agree["agree"] and agree["criterion"].endswith(")")
    other = "absent" if case.resolution == "present" else "present"
    assert not X.score_reconciliation(case, other)["agree"]
    with pytest.raises(QDAError):
        X.score_reconciliation(case, "maybe")
    with pytest.raises(QDAError):
        X.reconciliation_case(study, round="9")


# ---------------------------------------------------------------------------
# 5. Memo
# ---------------------------------------------------------------------------
def test_memo_exercise_shows_the_segments_the_memo_cites(study):
    ex = X.memo_exercise(study, seed=0)
    assert ex.decision == "open" and ex.theme in (1, 2, 3)
    tm = study.theme_memos.set_index("memo_id")
    assert tm.at[ex.memo["memo_id"], "decision"] == "open"
    assert 2 <= len(ex.segments) <= 4
    for sid in ex.segments["segment_id"]:
        assert sid in ex.memo["text"]
    assert ex.prompts == X.MEMO_PROMPTS


def test_memo_checklist_prompts_without_grading(study):
    ex = X.memo_exercise(study, seed=0)
    assert X.memo_checklist(ex.memo["text"])["met"].all()
    blank = X.memo_checklist("")
    assert list(blank["check"])[-1] == "at least 80 words" and not blank["met"].any()
    short = X.memo_checklist('I call it "quiet help": P001-S001, but not P002-S001.')
    assert short.set_index("check")["met"].sum() == 5


# ---------------------------------------------------------------------------
# 6. Building a theme
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def theming(study):
    return X.theme_exercise(study, seed=0)


def test_theme_exercise_draws_assigned_segments_and_one_negative_case(study, theming):
    seg = theming.segments
    assert list(seg["label"]) == list("ABCDEFG")
    assert seg["team_theme"].dropna().astype(int).value_counts().to_dict() == {1: 2, 2: 2, 3: 2}
    th = study.themes
    for row in seg.dropna(subset=["team_theme"]).itertuples():
        t = row.segment_id.split("-")[0]
        hits = th.loc[(th["transcript_id"] == t) & (th["theme"] == row.team_theme)]
        assert any(study.text(t, a, b) == row.text for a, b in zip(hits["start"], hits["end"], strict=True))
    neg = seg.set_index("label").loc[theming.negative]
    assert pd.isna(neg["team_theme"])
    t = neg["segment_id"].split("-")[0]
    assert not any(
        study.text(t, a, b) == neg["text"] for a, b in th.loc[th["transcript_id"] == t, ["start", "end"]].values
    )
    assert theming.memos["text"].str.contains(neg["segment_id"], regex=False).any()


def test_score_grouping_counts_pairs(theming):
    team = theming.segments.set_index("label")["team_theme"]
    same = {k: f"g{v}" for k, v in team.dropna().items()}
    s = X.score_grouping(theming, same, theming.negative)
    assert s["pairs"] == 15 and s["pairs_agree"] == 15 and s["rand"] == 1.0 and s["negative_found"]
    one = X.score_grouping(theming, {k: "all" for k in team.index}, None)
    assert one["pairs"] == 15 and one["pairs_agree"] == 3 and not one["negative_found"]  # 3 same-theme pairs
    assert math.isnan(X.score_grouping(theming, {})["rand"])
    with pytest.raises(QDAError):
        X.score_grouping(theming, {"Z": "x"})
