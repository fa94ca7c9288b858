"""Tests of qda.analysis.cooccurrence: ATLAS.ti's c, the three rules, the sweep against brute force."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qda.analysis.cooccurrence import c_coefficient, cooccurrence_matrix, cooccurring_pairs
from qda.errors import DataError, QDAError, SchemaError

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "agreement"


def frame(rows):
    """Codings frame from (transcript, start, end, code) tuples; ids C0, C1, ..."""
    return pd.DataFrame(
        [
            {"coding_id": f"C{k}", "transcript_id": t, "start": s, "end": e, "code": c}
            for k, (t, s, e, c) in enumerate(rows)
        ],
        columns=["coding_id", "transcript_id", "start", "end", "code"],
    )


# ---------------------------------------------------------------- c-coefficient
def test_c_coefficient_reproduces_atlasti_manual_example():
    f = FIXTURES / "atlasti_c_coefficient_example.csv"
    if not f.exists():
        pytest.skip(f"published fixture folder absent: {FIXTURES}")
    row = pd.read_csv(f).iloc[0]
    c = c_coefficient(row["n12_cooccurrences"], row["n1_code_A_quotations"], row["n2_code_B_quotations"])
    assert c == pytest.approx(row["expected_c"], abs=5e-5)
    assert round(c, 3) == 0.048


def test_c_coefficient_from_matrix_built_from_codings():
    # code A on 100 quotations, code B on 10; 5 B quotations coincide with A ones.
    rows = [("T1", 100 * k, 100 * k + 50, "A") for k in range(100)]
    rows += [("T1", 100 * k, 100 * k + 50, "B") for k in range(5)]  # same span as an A quotation
    rows += [("T1", 20_000 + 100 * k, 20_000 + 100 * k + 50, "B") for k in range(5)]
    m = cooccurrence_matrix(frame(rows))
    assert m.loc["A", "B"] == m.loc["B", "A"] == 5
    assert m.loc["A", "A"] == 100 and m.loc["B", "B"] == 10
    c = c_coefficient(m)
    assert c.loc["A", "B"] == pytest.approx(5 / 105)
    assert np.isnan(c.loc["A", "A"])


def test_c_coefficient_bounds_and_arrays():
    assert c_coefficient(0, 4, 6) == 0.0
    assert c_coefficient(5, 5, 5) == 1.0
    assert np.isnan(c_coefficient(0, 0, 0))
    np.testing.assert_allclose(c_coefficient(np.array([1, 2]), np.array([2, 2]), np.array([2, 2])), [1 / 3, 1.0])
    with pytest.raises(QDAError):
        c_coefficient(-1, 2, 2)
    with pytest.raises(QDAError):
        c_coefficient(1)


# ---------------------------------------------------------------- the rules by hand
def test_overlap_is_half_open_and_per_transcript():
    df = frame(
        [
            ("T1", 0, 5, "A"),
            ("T1", 5, 9, "B"),  # touching: no overlap
            ("T1", 4, 6, "C"),  # overlaps both by one character
            ("T2", 0, 5, "B"),  # other transcript: never pairs with T1
            ("T1", 3, 3, "D"),  # empty: overlaps nothing
        ]
    )
    p = cooccurring_pairs(df)
    got = {frozenset((a, b)) for a, b in zip(p["coding_id_1"], p["coding_id_2"], strict=False)}
    assert got == {frozenset({"C0", "C2"}), frozenset({"C1", "C2"})}
    row = p.loc[(p["coding_id_1"] == "C0") & (p["coding_id_2"] == "C2")].iloc[0]
    assert (row["overlap_start"], row["overlap_end"]) == (4, 5)
    assert list(p.columns) == [
        "coding_id_1",
        "coding_id_2",
        "transcript_id",
        "code_1",
        "code_2",
        "overlap_start",
        "overlap_end",
    ]


def test_nested_and_same_code():
    df = frame([("T1", 0, 100, "A"), ("T1", 10, 20, "A"), ("T1", 15, 40, "B")])
    assert len(cooccurring_pairs(df)) == 2  # A-B twice; A-A dropped
    assert len(cooccurring_pairs(df, same_code=True)) == 3
    assert cooccurrence_matrix(df).loc["A", "B"] == 2
    assert cooccurrence_matrix(df, count="transcripts").loc["A", "B"] == 1


def test_matrix_code_selection_keeps_order():
    df = frame([("T1", 0, 10, "A"), ("T1", 5, 15, "B"), ("T1", 8, 20, "C")])
    m = cooccurrence_matrix(df, codes=["C", "A", "C"])
    assert list(m.index) == list(m.columns) == ["C", "A"]
    assert m.loc["C", "A"] == 1 and m.loc["C", "C"] == 1


def test_within_counts_characters_between():
    df = frame([("T1", 0, 10, "A"), ("T1", 13, 20, "B")])  # 3 characters between
    assert len(cooccurring_pairs(df, rule="within", within=2)) == 0
    p = cooccurring_pairs(df, rule="within", within=3)
    assert len(p) == 1 and pd.isna(p["overlap_start"].iloc[0])
    assert len(cooccurring_pairs(df, rule="overlap")) == 0


def test_same_turn_uses_turn_boundaries():
    turns = pd.DataFrame(
        {
            "transcript_id": ["T1", "T1", "T1"],
            "turn": [1, 2, 3],
            "unit_id": ["u1", "u2", "u3"],
            "speaker": ["I", "P", "I"],
            "start": [0, 50, 100],
            "end": [48, 100, 150],
        }
    )
    df = frame(
        [
            ("T1", 55, 60, "A"),
            ("T1", 90, 99, "B"),  # both in turn 2
            ("T1", 10, 20, "C"),  # turn 1 only
            ("T1", 45, 52, "D"),  # touches turns 1 and 2
            ("T1", 48, 50, "E"),  # in the gap between turns 1 and 2
        ]
    )
    p = cooccurring_pairs(df, rule="same_turn", turns=turns)
    got = {frozenset((a, b)) for a, b in zip(p["code_1"], p["code_2"], strict=False)}
    assert got == {frozenset("AB"), frozenset("AD"), frozenset("BD"), frozenset("CD")}


def test_bad_input_raises_qda_errors():
    with pytest.raises(SchemaError):
        cooccurring_pairs(pd.DataFrame({"start": [0]}))
    with pytest.raises(DataError):
        cooccurring_pairs(frame([("T1", 5, 2, "A")]))
    with pytest.raises(QDAError):
        cooccurring_pairs(frame([("T1", 0, 2, "A")]), rule="nearby")
    with pytest.raises(QDAError):
        cooccurring_pairs(frame([("T1", 0, 2, "A")]), rule="same_turn")
    with pytest.raises(QDAError):
        cooccurring_pairs(frame([("T1", 0, 2, "A")]), rule="within", within=-1)
    overlapping_turns = pd.DataFrame({"transcript_id": ["T1", "T1"], "start": [0, 5], "end": [10, 20]})
    with pytest.raises(DataError):
        cooccurring_pairs(frame([("T1", 0, 2, "A")]), rule="same_turn", turns=overlapping_turns)


def test_empty_codings():
    p = cooccurring_pairs(frame([]))
    assert p.empty and list(p.columns)[0] == "coding_id_1"


# ---------------------------------------------------------------- sweep == brute force
def brute_force(df, rule, within=0, turns=None, same_code=False):
    """The O(n^2) definition, written independently of the sweep."""
    out = set()
    recs = df.to_dict("records")
    for a, b in itertools.combinations(recs, 2):
        if a["transcript_id"] != b["transcript_id"]:
            continue
        if not same_code and a["code"] == b["code"]:
            continue
        if rule == "overlap":
            ok = max(a["start"], b["start"]) < min(a["end"], b["end"])
        elif rule == "within":
            ok = max(a["start"], b["start"]) - min(a["end"], b["end"]) <= within
        else:
            t = turns[turns["transcript_id"] == a["transcript_id"]]

            def touched(c, t=t):
                return {
                    k
                    for k, ts, te in zip(t["turn"], t["start"], t["end"], strict=False)
                    if max(c["start"], ts) < min(c["end"], te)
                }

            ok = bool(touched(a) & touched(b))
        if ok:
            out.add(frozenset((a["coding_id"], b["coding_id"])))
    return out


segment = st.tuples(
    st.sampled_from(["T1", "T2", "T3"]), st.integers(0, 60), st.integers(0, 25), st.sampled_from(["A", "B", "C"])
)


@st.composite
def codings_and_turns(draw):
    segs = draw(st.lists(segment, max_size=30))
    df = frame([(t, s, s + length, c) for t, s, length, c in segs])
    rows = []
    for tid in ["T1", "T2", "T3"]:
        cuts = sorted(set(draw(st.lists(st.integers(0, 90), min_size=2, max_size=8))))
        gap = draw(st.integers(0, 2))
        for k, (s, e) in enumerate(zip(cuts[:-1], cuts[1:], strict=False)):
            if e - gap > s:
                rows.append(
                    {
                        "transcript_id": tid,
                        "turn": k + 1,
                        "unit_id": f"{tid}-{k}",
                        "speaker": "P",
                        "start": s,
                        "end": e - gap,
                    }
                )
    turns = pd.DataFrame(rows, columns=["transcript_id", "turn", "unit_id", "speaker", "start", "end"])
    return df, turns


@settings(max_examples=150, deadline=None)
@given(codings_and_turns(), st.sampled_from(["overlap", "within", "same_turn"]), st.integers(0, 6), st.booleans())
def test_sweep_equals_brute_force(data, rule, within, same_code):
    df, turns = data
    p = cooccurring_pairs(df, rule=rule, within=within, turns=turns, same_code=same_code)
    got = [frozenset((a, b)) for a, b in zip(p["coding_id_1"], p["coding_id_2"], strict=False)]
    assert len(got) == len(set(got))  # no pair twice
    assert set(got) == brute_force(df, rule, within, turns, same_code)
    # the matrix counts the same pairs
    m = cooccurrence_matrix(df, rule=rule, within=within, turns=turns)
    expected = p.loc[p["code_1"] != p["code_2"]]
    assert int(np.triu(m.to_numpy(), 1).sum()) == len(expected)
    assert (m.to_numpy() == m.to_numpy().T).all()


def test_c_is_nan_with_a_warning_whenever_pairs_outnumber_codings():
    """Issue 16: c(6, 2, 3) was NaN while c(3, 1, 3) was 3.0; one rule now, n12 > min(n1, n2) -> NaN."""
    for n12, n1, n2 in ((6, 2, 3), (3, 1, 3), (4, 3, 10)):
        with pytest.warns(RuntimeWarning, match="n12 > min"):
            assert np.isnan(c_coefficient(n12, n1, n2))
    with pytest.warns(RuntimeWarning, match="1 pair"):
        arr = c_coefficient(np.array([3, 2]), np.array([1, 2]), np.array([3, 4]))
    np.testing.assert_allclose(arr, [np.nan, 0.5])
    mat = pd.DataFrame([[2, 6], [6, 3]], index=["a", "b"], columns=["a", "b"])
    with pytest.warns(RuntimeWarning):
        assert c_coefficient(mat).isna().all().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert c_coefficient(2, 2, 3) == pytest.approx(2 / 3)  # n12 = min(n1, n2): a share, no warning


def test_c_coefficient_formula_lives_in_stats_and_the_old_name_still_imports():
    import qda.analysis.cooccurrence as old
    import qda.stats.cooccurrence as new

    assert old.c_coefficient is new.c_coefficient
