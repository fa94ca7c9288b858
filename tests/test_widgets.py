"""Teaching widgets: the pure functions on the synthetic study, and every widget's callbacks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qda.agreement import cohen_kappa
from qda.analysis import exercises as X
from qda.analysis.analysis_set import analysis_set_under_rules, rule_label
from qda.errors import QDAError
from qda.show.widgets import (
    EXCERPT_COLUMNS,
    CodingExercise,
    browse_excerpts,
    cooccurrence_explorer,
    criteria_widget,
    excerpt_browser,
    memo_widget,
    open_coding_widget,
    reconciliation_widget,
    theme_widget,
    unitizing_widget,
)
from qda.study.units import participant_units, unit_decisions

w = pytest.importorskip("ipywidgets")


@pytest.fixture(scope="module")
def exercise(study):
    return CodingExercise(study, n_units=4, seed=0)


# ---------------------------------------------------------------------------
# CodingExercise
# ---------------------------------------------------------------------------
def test_exercise_draws_n_units_with_two_to_four_reference_codes(exercise):
    assert len(exercise.passages()) == 4
    assert exercise.passages()["unit_id"].is_unique
    per_unit = exercise.reference.groupby("unit_id").size()
    assert set(per_unit.index) == set(exercise.units["unit_id"])
    assert per_unit.between(2, 4).all()
    # the passages are participant turns, with their text
    assert exercise.units["speaker"].eq("PARTICIPANT").all()
    assert (exercise.units["text"].str.len() == exercise.units["end"] - exercise.units["start"]).all()


def test_exercise_reference_matches_unit_decisions_of_the_full_round(study, exercise):
    full = study.codings.loc[study.codings["round"].astype(str) == "full"]
    units = participant_units(study.transcripts)
    units = units.loc[units["unit_id"].isin(exercise.units["unit_id"])]
    dec = unit_decisions(full, units)
    expected = set(map(tuple, dec.loc[dec["applied"], ["unit_id", "code"]].astype(str).drop_duplicates().to_numpy()))
    assert set(map(tuple, exercise.reference[["unit_id", "code"]].to_numpy())) == expected


def test_exercise_codes_are_the_final_codebook_less_unused_parents(study, exercise):
    final = set(study.codebook.loc[study.codebook["version"] == "final", "code"])
    assert set(exercise.codes) == final - {"mentorship"}
    assert set(exercise.reference["code"]) <= set(exercise.codes)


def test_exercise_draw_is_seeded(study, exercise):
    again = CodingExercise(study, n_units=4, seed=0)
    assert list(again.units["unit_id"]) == list(exercise.units["unit_id"])
    others = {tuple(CodingExercise(study, n_units=4, seed=s).units["unit_id"]) for s in range(1, 6)}
    assert others - {tuple(exercise.units["unit_id"])}, "different seeds never changed the draw"


def test_reference_answers_score_full_agreement(exercise):
    s = exercise.score(exercise.reference_answers())
    assert s["decisions"] == 4 * len(exercise.codes)
    assert s["agreements"] == s["decisions"]
    assert s["percent_agreement"] == 1.0
    assert s["kappa"] == pytest.approx(1.0)
    assert s["only_yours"] == s["only_reference"] == 0
    assert isinstance(s["decisions"], int) and isinstance(s["kappa"], float)
    assert (exercise.per_code(exercise.reference_answers())["agree"] == 4).all()


def test_empty_answer_scores_the_share_of_absent_codes(exercise):
    empty = {u: set() for u in exercise.units["unit_id"]}
    s = exercise.score(empty)
    n = 4 * len(exercise.codes)
    n_ref = len(exercise.reference)
    assert s["percent_agreement"] == pytest.approx(1 - n_ref / n)
    assert s["only_reference"] == n_ref and s["only_yours"] == 0
    assert s["kappa"] == pytest.approx(0.0)  # one side never says yes: p_o == p_e
    assert exercise.contingency(empty).to_numpy().tolist() == [[0, n_ref], [0, n - n_ref]]


def test_partial_answer_kappa_matches_hand_formula_and_cohen_kappa(exercise):
    ref = exercise.reference_answers()
    first = exercise.units["unit_id"].iloc[0]
    answers = {u: set(sorted(c)[:1]) for u, c in ref.items()}  # one reference code per unit ...
    wrong = next(c for c in exercise.codes if c not in ref[first])
    answers[first] = answers[first] | {wrong}  # ... and one code the reference lacks
    table = exercise.contingency(answers).to_numpy()
    n = table.sum()
    p_o = np.trace(table) / n
    p_e = (table[0].sum() * table[:, 0].sum() + table[1].sum() * table[:, 1].sum()) / n**2
    s = exercise.score(answers)
    assert s["kappa"] == pytest.approx((p_o - p_e) / (1 - p_e))
    d = exercise.decisions(answers)
    assert s["kappa"] == pytest.approx(cohen_kappa(d["reference"], d["yours"]).kappa)
    assert s["percent_agreement"] == pytest.approx(p_o)
    assert 0 < s["kappa"] < 1
    assert s["only_yours"] == table[1, 0] and s["only_reference"] == table[0, 1]


def test_only_answered_units_are_scored_and_a_string_is_one_code(exercise):
    unit = exercise.units["unit_id"].iloc[0]
    code = sorted(exercise.reference_answers()[unit])[0]
    s = exercise.score({unit: code})
    assert s["decisions"] == len(exercise.codes)
    assert s["agreements"] == len(exercise.codes) - (len(exercise.reference_answers()[unit]) - 1)
    assert math.isnan(exercise.score({})["percent_agreement"])


@pytest.mark.parametrize(
    "answers",
    [
        {"P999-T001": set()},
        {"__first__": {"not_a_code"}},
        {"__first__": {"mentorship"}},  # a parent code applied only through its children
        [("P001-T002", {"mentoring"})],
    ],
)
def test_unknown_units_or_codes_raise_a_qda_error(exercise, answers):
    if isinstance(answers, dict) and "__first__" in answers:
        answers = {exercise.units["unit_id"].iloc[0]: answers["__first__"]}
    with pytest.raises(QDAError):
        exercise.score(answers)


def test_bad_exercise_arguments_raise_a_qda_error(study):
    with pytest.raises(QDAError, match="round"):
        CodingExercise(study, round="7")
    with pytest.raises(QDAError, match="n_units"):
        CodingExercise(study, n_units=0)


def test_round_two_exercise_uses_the_v1_codebook(study):
    ex = CodingExercise(study, n_units=3, seed=1, round="2")
    assert "mentor_qualities" in ex.codes and "role_models" not in ex.codes
    assert set(ex.units["transcript_id"]) <= {f"P{i:03d}" for i in range(11, 21)}
    assert ex.score(ex.reference_answers())["kappa"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------
# browse_excerpts
# ---------------------------------------------------------------------------
def _participants(study):
    return study.participants.set_index("participant_id")


def test_browse_by_code_gender_and_stage(study):
    ex = browse_excerpts(study, code="mentoring", gender="woman", career_stage="early", n=6, seed=3)
    assert list(ex.columns) == EXCERPT_COLUMNS
    assert 0 < len(ex) <= 6
    assert (ex["code_or_theme"] == "mentoring").all()
    p = _participants(study)
    assert (p.loc[ex["participant_id"], "gender"].astype(str) == "woman").all()
    assert (p.loc[ex["participant_id"], "career_stage"].astype(str) == "early").all()
    # every passage is the text of a full-round coding of that code in that transcript
    full = study.with_text(
        study.codings.loc[(study.codings["round"].astype(str) == "full") & (study.codings["code"] == "mentoring")]
    )
    known = set(zip(full["transcript_id"], full["text"], strict=False))
    assert all((pid, t) in known for pid, t in zip(ex["participant_id"], ex["text"], strict=False))


def test_browse_by_theme_filters_and_names_the_theme(study):
    ex = browse_excerpts(study, theme=4, n=5, seed=0)
    assert len(ex) > 0
    assert ex["code_or_theme"].str.contains("harassment", case=False).all()
    assert (_participants(study).loc[ex["participant_id"], "gender"].astype(str) == "woman").all()
    themed = study.with_text(study.themes.loc[study.themes["theme"] == 4])
    assert set(ex["text"]) <= set(themed["text"])


def test_browse_by_theme_and_code_keeps_passages_carrying_the_code(study):
    ex = browse_excerpts(study, theme=1, code="being_mentored", n=50, seed=0)
    only_theme = browse_excerpts(study, theme=1, n=500, seed=0)
    assert 0 < len(ex) < len(only_theme)
    codings = study.codings.loc[
        (study.codings["round"].astype(str) == "full") & (study.codings["code"] == "being_mentored")
    ]
    th = study.with_text(study.themes.loc[study.themes["theme"] == 1])
    for pid, text in zip(ex["participant_id"], ex["text"], strict=False):
        row = th.loc[(th["transcript_id"] == pid) & (th["text"] == text)].iloc[0]
        c = codings.loc[codings["transcript_id"] == pid]
        assert ((c["start"] < row["end"]) & (row["start"] < c["end"])).any()


def test_browse_is_reproducible_per_seed(study):
    for kw in ({"code": "gender_inequities"}, {"theme": 3, "gender": "man"}, {}):
        a = browse_excerpts(study, n=5, seed=11, **kw)
        b = browse_excerpts(study, n=5, seed=11, **kw)
        pd.testing.assert_frame_equal(a, b)
        draws = {tuple(browse_excerpts(study, n=5, seed=s, **kw)["text"]) for s in range(6)}
        assert len(draws) > 1, f"the seed never changed the draw for {kw}"


@pytest.mark.parametrize(
    "kw",
    [
        {"code": "no_such_code"},
        {"gender": "other"},
        {"career_stage": "late"},
        {"theme": 9},
        {"n": -1},
        {"theme": 1, "gender": "nobody"},
    ],
)
def test_browse_bad_filters_raise_a_qda_error(study, kw):
    with pytest.raises(QDAError):
        browse_excerpts(study, **kw)


# ---------------------------------------------------------------------------
# analysis_set_under_rules
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def under_rules(study):
    return analysis_set_under_rules(
        study, [("overlap", 0), ("within", 0), ("within", 100), ("within", 400), ("same_turn", 0)]
    )


def test_analysis_set_grows_weakly_as_the_rule_loosens(under_rules):
    chars = under_rules["characters"]
    order = ["overlap", "within 0 characters", "within 100 characters", "within 400 characters"]
    assert chars[order].is_monotonic_increasing
    assert chars["within 400 characters"] > chars["overlap"]  # not only weakly: it does grow here
    assert chars["same turn"] >= chars["overlap"]
    for col in [c for c in under_rules.columns if c.startswith("theme ")] + ["participants", "transcripts"]:
        assert under_rules.loc[order, col].is_monotonic_increasing, col


def test_analysis_set_under_rules_matches_analysis_set(study, under_rules):
    from qda.analysis.analysis_set import analysis_set

    seg = analysis_set(study, rule="within", within=100)
    row = under_rules.loc["within 100 characters"]
    assert row["segments"] == len(seg)
    assert row["characters"] == (seg["end"] - seg["start"]).sum()
    assert row["participants"] == seg["participant_id"].nunique() == 104  # every interview (Murphy et al.)
    assert row["theme 4 participants"] == seg.loc[seg["themes"].str.contains("4"), "participant_id"].nunique()
    assert list(under_rules.index) == [
        rule_label(r, n) for r, n in [("overlap", 0), ("within", 0), ("within", 100), ("within", 400), ("same_turn", 0)]
    ]


def test_analysis_set_under_unknown_rule_raises(study):
    with pytest.raises(QDAError):
        analysis_set_under_rules(study, [("nearby", 5)])


# ---------------------------------------------------------------------------
# The widget constructors and their callbacks
# ---------------------------------------------------------------------------
def _find(widget, kind):
    found = [widget] if isinstance(widget, kind) else []
    for child in getattr(widget, "children", ()):
        found += _find(child, kind)
    return found


def test_coding_exercise_widget_updates_the_score_live(exercise):
    view = exercise.widget()
    assert isinstance(view, w.Box)
    boxes = _find(view, w.Checkbox)
    assert len(boxes) == 4 * len(exercise.codes)
    out = _find(view, w.HTML)[-1]
    before = out.value
    assert f"0 of {len(boxes)} decisions" not in before and "Cohen" in before
    ref = exercise.reference_answers()
    first_unit = exercise.units["unit_id"].iloc[0]
    for b in boxes[: len(exercise.codes)]:  # the first passage's boxes, in exercise.codes order
        b.value = b.description in ref[first_unit]
    s = exercise.score({**{u: set() for u in ref}, first_unit: ref[first_unit]})
    assert out.value != before
    assert f"{s['agreements']} of {s['decisions']} decisions" in out.value
    assert "synthetic" in _find(view, w.HTML)[0].value.lower()


def test_excerpt_browser_redraws_on_change(study):
    view = excerpt_browser(study, n=2)
    assert isinstance(view, w.Box)
    dd = {d.description: d for d in _find(view, w.Dropdown)}
    assert set(dd) == {"code", "theme", "gender", "stage"}
    out = _find(view, w.HTML)[-1]
    before = out.value
    dd["theme"].value = dd["theme"].options[4]  # theme 4
    assert out.value != before
    assert "harassment" in out.value.lower()
    dd["gender"].value = "man"  # no man tells a theme-4 passage: a message, not an exception
    assert "no passage" in out.value
    slider = _find(view, w.IntSlider)[0]
    dd["theme"].value = "(none)"
    before = out.value
    slider.value = 5
    assert out.value != before


def test_cooccurrence_explorer_recomputes_on_change(study):
    view = cooccurrence_explorer(study)
    assert isinstance(view, w.Box)
    rule = _find(view, w.Dropdown)[0]
    within = _find(view, w.IntSlider)[0]
    out = _find(view, w.HTML)[-1]
    assert "within 100 characters" in out.value
    within.value = 400
    assert "within 400 characters" in out.value and "within 100" not in out.value
    rule.value = "overlap"
    assert within.disabled and "within" not in out.value
    rule.value = "same_turn"
    assert "same turn" in out.value


# ---------------------------------------------------------------------------
# The six craft exercises: each widget's callbacks, driven as a learner would
# ---------------------------------------------------------------------------
def test_open_coding_widget_compares_the_learners_codes(study):
    ex = X.open_coding_exercise(study, seed=0)
    view = open_coding_widget(ex)
    box, button, out = _find(view, w.Textarea)[0], _find(view, w.Button)[0], _find(view, w.HTML)[-1]
    assert ex.text[:40] in _find(view, w.HTML)[0].value.replace("&#x27;", "'")
    box.value = "pregnancy and schedules\nzzzz qqqq"
    button.click()
    for code in ex.team_codes["code"]:
        assert code in out.value
    assert "zzzz qqqq" in out.value and "one team" in out.value


def test_criteria_widget_scores_the_learners_decisions(study):
    ex = X.criteria_exercise(study, n=3, seed=0)
    view = criteria_widget(ex)
    toggles = _find(view, w.ToggleButtons)
    assert len(toggles) == 3 and len(_find(view, w.Textarea)) == 2
    toggles[0].value, toggles[1].value = "apply", "do not apply"
    _find(view, w.Button)[0].click()
    out = _find(view, w.HTML)[-1].value
    assert "1 of 2 of your decisions match" in out
    assert "gender_inequities (v2 " in out and "one team" in out


def test_unitizing_widget_rescores_as_the_span_moves(study):
    ex = X.unitizing_exercise(study, seed=0)
    view = unitizing_widget(ex)
    slider, out = _find(view, w.IntRangeSlider)[0], _find(view, w.HTML)[-1]
    whole = X.score_unitizing(ex, [(0, len(ex.text))])
    assert f"u-alpha with the team's span: {whole['u_alpha']:.2f}" in out.value
    words = X.word_spans(ex.text)
    first = int((words["start"] >= ex.reference["start"].iloc[0]).idxmax())
    last = int((words["end"] <= ex.reference["end"].iloc[-1])[::-1].idxmax())
    slider.value = (first, last)
    span = X.words_to_span(ex, first, last)
    assert f"u-alpha with the team's span: {X.score_unitizing(ex, [span])['u_alpha']:.2f}" in out.value
    assert "<mark>" in out.value


def test_reconciliation_widget_asks_for_a_decision_then_shows_the_note(study):
    case = X.reconciliation_case(study, code="mentoring", seed=0)
    view = reconciliation_widget(case)
    button, out = _find(view, w.Button)[0], _find(view, w.HTML)[-1]
    button.click()
    assert "Decide first" in out.value
    _find(view, w.ToggleButtons)[0].value = "present"
    button.click()
    assert "not the same as the team's (absent)" in out.value
    assert "networks_sponsorship (v2 exclusion)" in out.value


def test_memo_widget_checks_the_memo_and_shows_the_analysts(study):
    ex = X.memo_exercise(study, seed=0)
    view = memo_widget(ex)
    _find(view, w.Textarea)[0].value = 'I call it "quiet help": P001-S004, but not P002-S003.'
    _find(view, w.Button)[0].click()
    out = _find(view, w.HTML)[-1].value
    assert "cites segments by id" in out and ex.memo["memo_id"] in out
    assert all(sid in _find(view, w.HTML)[0].value for sid in ex.segments["segment_id"])


def test_theme_widget_scores_the_grouping(study):
    ex = X.theme_exercise(study, seed=0)
    view = theme_widget(ex)
    names = _find(view, w.Text)
    assert [t.description for t in names] == list(ex.segments["label"])
    team = ex.segments.set_index("label")["team_theme"]
    for t in names:
        t.value = "" if pd.isna(team[t.description]) else f"g{team[t.description]}"
    _find(view, w.Dropdown)[0].value = ex.negative
    _find(view, w.Button)[0].click()
    out = _find(view, w.HTML)[-1].value
    assert "agree on 15 of 15 pairs (Rand index 1.00)" in out and "negative case found" in out
