"""Krippendorff's alpha family for unitizing (qda.stats.unitizing).

The published check is Krippendorff (2019, Fig. 12.11); random continua are compared with a
brute force written here from the formulas, position by position, in exact fractions.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qda.errors import QDAError
from qda.stats.unitizing import GAP, UnitizingError, unitizing_alpha

# Krippendorff (2019), Content Analysis, 4th ed., Fig. 12.11: a continuum of 60, positions
# 1-based and inclusive as printed: (first, last, value).
FIG_12_11 = {
    "Alex": [(1, 7, 1), (8, 13, 2), (31, 32, 5), (33, 37, 6), (38, 44, 6), (45, 60, 7)],
    "Paul": [(1, 7, 1), (8, 13, 3), (14, 21, 5), (33, 44, 6)],
    "Suzan": [(1, 7, 1), (8, 13, 4), (14, 21, 5), (33, 37, 6), (38, 41, 6), (42, 44, 6)],
}


def fig_12_11() -> pd.DataFrame:
    """The figure's segments, 0-based and end exclusive: [first - 1, last)."""
    rows = [
        {"coder": coder, "start": first - 1, "end": last, "value": value}
        for coder, spans in FIG_12_11.items()
        for first, last, value in spans
    ]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# The published example
# ---------------------------------------------------------------------------
def test_krippendorff_2019_figure_12_11():
    result = unitizing_alpha(fig_12_11(), 60)
    # Krippendorff (2019), sec. 12.6, Fig. 12.11: u-alpha = 0.510, |u-alpha = 0.414 (0.4136).
    assert round(result.u_alpha, 3) == 0.510
    assert round(result.binary_u_alpha, 4) == 0.4136
    # cu-alpha = 0.724 for the same figure, as quallmer's test suite (R, tests/testthat/
    # test-alpha_u.R) cites it from the book; see the module docstring on the correction term.
    assert round(result.cu_alpha, 3) == 0.724
    assert result.n_coders == 3 and result.length == 60


def test_figure_12_11_values_and_coverage():
    result = unitizing_alpha(fig_12_11(), 60)
    # Values 1, 5 and 6 are coded alike wherever valued matter meets valued matter; 2, 3 and
    # 4 never coincide; 7 meets only gaps (no valued intersection: undefined, coverage 0).
    assert result.by_value.loc[[1, 5, 6]].tolist() == [1.0, 1.0, 1.0]
    assert result.by_value.loc[[2, 3, 4]].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert math.isnan(result.by_value.loc[7])
    assert result.coverage.loc[5] == pytest.approx(8 / 18)
    assert result.coverage.loc[7] == 0.0
    coincidences = result.coincidences
    assert list(coincidences.index) == [1, 2, 3, 4, 5, 6, 7, GAP]
    assert coincidences.to_numpy().sum() == 3 * 60
    assert np.allclose(coincidences.to_numpy(), coincidences.to_numpy().T)
    assert coincidences.loc[GAP, GAP] == 45 and coincidences.loc[5, GAP] == 10 and coincidences.loc[7, GAP] == 16


# ---------------------------------------------------------------------------
# Brute force, written from the formulas (Krippendorff et al. 2016; Krippendorff 2019, 12.6)
# ---------------------------------------------------------------------------
PHI = "phi"


def brute_force(spans: dict[str, list[tuple[int, int, object]]], length: int) -> dict:
    """u-alpha, |u-alpha, cu-alpha and (k)u-alpha, position by position, in exact fractions.

    ``spans`` maps each coder to (start, end, value) with end exclusive.
    """
    coders = list(spans)
    m = len(coders)
    value_at = {c: [PHI] * length for c in coders}
    segment_at = {c: [None] * length for c in coders}
    for c in coders:
        for g, (s, e, v) in enumerate(spans[c]):
            for x in range(s, e):
                value_at[c][x], segment_at[c][x] = v, g
    # observed: l_ck = 1/(m-1) sum over ordered pairs of coders of positions where i says c and j says k
    observed: dict[tuple, Fraction] = {}
    for i in coders:
        for j in coders:
            if i != j:
                for x in range(length):
                    key = (value_at[i][x], value_at[j][x])
                    observed[key] = observed.get(key, Fraction(0)) + Fraction(1, m - 1)
    # self-pairing: |S|^2 for a valued segment, |S| for the gaps (each gap position a unit)
    self_pairing: dict = {}
    for c in coders:
        for s, e, v in spans[c]:
            self_pairing[v] = self_pairing.get(v, 0) + (e - s) ** 2
        gap_positions = sum(1 for x in range(length) if value_at[c][x] == PHI)
        self_pairing[PHI] = self_pairing.get(PHI, 0) + gap_positions
    # pairable contribution of each valued segment: mean over the other coders of its valued overlap
    valued_self_pairing: dict = {}
    for i in coders:
        for s, e, v in spans[i]:
            overlap = sum(1 for j in coders if j != i for x in range(s, e) if value_at[j][x] != PHI)
            contribution = Fraction(overlap, m - 1)
            valued_self_pairing[v] = valued_self_pairing.get(v, 0) + contribution**2
    values = sorted({v for c in coders for _, _, v in spans[c]}, key=repr)
    everything = values + [PHI]
    return {
        "u": _alpha(observed, self_pairing, everything, everything),
        "binary": _binary(observed, self_pairing, everything),
        "cu": _alpha(observed, valued_self_pairing, values, values),
        "by_value": {k: _value_alpha(observed, valued_self_pairing, values, k) for k in values},
    }


def _matrices(observed, self_pairing, categories):
    lo = {(c, k): observed.get((c, k), Fraction(0)) for c in categories for k in categories}
    total = sum(lo.values())
    margin = {c: sum(lo[c, k] for k in categories) for c in categories}
    denominator = total**2 - sum(self_pairing.get(c, 0) for c in categories)
    if denominator == 0:
        return lo, None
    ex = {
        (c, k): total * (margin[c] * margin[k] - (self_pairing.get(c, 0) if c == k else 0)) / denominator
        for c in categories
        for k in categories
    }
    return lo, ex


def _alpha(observed, self_pairing, categories, _):
    lo, ex = _matrices(observed, self_pairing, categories)
    if ex is None:
        return math.nan
    do = sum(v for (c, k), v in lo.items() if c != k)
    de = sum(v for (c, k), v in ex.items() if c != k)
    return math.nan if de == 0 else float(1 - do / de)


def _binary(observed, self_pairing, categories):
    lo, ex = _matrices(observed, self_pairing, categories)
    do = sum(v for (c, k), v in lo.items() if c == PHI and k != PHI)
    de = sum(v for (c, k), v in ex.items() if c == PHI and k != PHI)
    return math.nan if de == 0 else float(1 - do / de)


def _value_alpha(observed, self_pairing, values, k):
    lo, ex = _matrices(observed, self_pairing, values)
    if ex is None:
        return math.nan
    l_k = sum(lo[k, c] for c in values)
    e_k = sum(ex[k, c] for c in values)
    if l_k == 0 or e_k - ex[k, k] == 0:
        return math.nan
    return float(1 - (e_k / l_k) * (l_k - lo[k, k]) / (e_k - ex[k, k]))


def frame(spans: dict[str, list[tuple[int, int, object]]]) -> pd.DataFrame:
    rows = [{"coder": c, "start": s, "end": e, "value": v} for c, segs in spans.items() for s, e, v in segs]
    return pd.DataFrame(rows, columns=["coder", "start", "end", "value"])


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_matches_brute_force(spans, length):
    coders = list(spans)
    result = unitizing_alpha(frame(spans), length, coders=coders)
    expected = brute_force(spans, length)
    assert same(result.u_alpha, expected["u"]), (result.u_alpha, expected["u"])
    assert same(result.binary_u_alpha, expected["binary"]), (result.binary_u_alpha, expected["binary"])
    assert same(result.cu_alpha, expected["cu"]), (result.cu_alpha, expected["cu"])
    for value, alpha in expected["by_value"].items():
        assert same(result.by_value.loc[value], alpha), (value, result.by_value.loc[value], alpha)


def test_brute_force_reproduces_figure_12_11():
    spans = {c: [(first - 1, last, v) for first, last, v in segs] for c, segs in FIG_12_11.items()}
    expected = brute_force(spans, 60)
    assert round(expected["u"], 3) == 0.510 and round(expected["binary"], 4) == 0.4136
    assert round(expected["cu"], 3) == 0.724
    assert_matches_brute_force(spans, 60)


@st.composite
def continua(draw, n_coders: int):
    """A random continuum and, per coder, a partition into valued segments and gaps."""
    length = draw(st.integers(min_value=1, max_value=40))
    spans = {}
    for c in range(n_coders):
        pieces = draw(
            st.lists(st.tuples(st.integers(1, 8), st.sampled_from([None, "a", "b", "c"])), min_size=1, max_size=12)
        )
        position, segs = 0, []
        for size, value in pieces:
            end = min(position + size, length)
            if end <= position:
                break
            if value is not None:
                segs.append((position, end, value))
            position = end
        spans[f"coder{c}"] = segs
    return spans, length


@settings(max_examples=300, deadline=None, derandomize=True)
@given(continua(2))
def test_two_coders_agree_with_the_brute_force(case):
    spans, length = case
    assert_matches_brute_force(spans, length)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(continua(3))
def test_three_coders_agree_with_the_brute_force(case):
    spans, length = case
    assert_matches_brute_force(spans, length)


def test_unit_length_segments_give_krippendorffs_alpha_over_positions():
    """With every segment one position long (and gaps, whose positions are units anyway),
    u-alpha is Krippendorff's nominal alpha with the positions as units and phi a value."""
    krippendorff = pytest.importorskip("krippendorff", reason="the GPL reference package, used in tests only")
    rng = np.random.default_rng(7)
    length, coders = 200, 3
    data = rng.integers(0, 4, size=(coders, length))  # 0 = gap
    spans = {f"c{i}": [(x, x + 1, int(data[i, x])) for x in range(length) if data[i, x]] for i in range(coders)}
    result = unitizing_alpha(frame(spans), length, coders=list(spans))
    reference = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert result.u_alpha == pytest.approx(reference, abs=1e-12)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
def test_identical_unitizations_give_one():
    spans = [(0, 10, "a"), (12, 20, "b"), (25, 30, "a")]
    result = unitizing_alpha(frame({"x": spans, "y": spans, "z": spans}), 40)
    assert result.u_alpha == pytest.approx(1.0)
    assert result.binary_u_alpha == pytest.approx(1.0)
    assert result.cu_alpha == pytest.approx(1.0)
    assert result.by_value.tolist() == pytest.approx([1.0, 1.0])
    assert result.cu_coverage == pytest.approx(1.0)


def test_no_variation_is_undefined():
    result = unitizing_alpha(frame({"x": [(0, 10, "a")], "y": [(0, 10, "a")]}), 10)
    assert math.isnan(result.u_alpha) and math.isnan(result.binary_u_alpha) and math.isnan(result.cu_alpha)


def test_row_and_coder_order_do_not_matter():
    segments = fig_12_11()
    shuffled = segments.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a, b = unitizing_alpha(segments, 60), unitizing_alpha(shuffled, 60)
    assert (a.u_alpha, a.binary_u_alpha, a.cu_alpha) == pytest.approx((b.u_alpha, b.binary_u_alpha, b.cu_alpha))
    pd.testing.assert_frame_equal(a.coincidences, b.coincidences)


def test_sources_are_laid_end_to_end():
    one = fig_12_11()
    two = one.copy()
    two["source"] = "second"
    one["source"] = "first"
    both = pd.concat([one, two], ignore_index=True)
    result = unitizing_alpha(both, {"first": 60, "second": 60})
    single = one.drop(columns="source")
    shifted = single.assign(start=single.start + 60, end=single.end + 60)
    reference = unitizing_alpha(pd.concat([single, shifted], ignore_index=True), 120)
    assert result.length == 120
    assert result.u_alpha == pytest.approx(reference.u_alpha)
    assert result.cu_alpha == pytest.approx(reference.cu_alpha)
    pd.testing.assert_frame_equal(result.coincidences, reference.coincidences)


def test_a_source_nobody_coded_adds_gaps():
    segments = fig_12_11().assign(source="doc")
    with_empty = unitizing_alpha(segments, {"doc": 60, "blank": 40})
    assert with_empty.length == 100
    assert with_empty.coincidences.loc[GAP, GAP] == 45 + 3 * 40


def test_a_coder_who_marked_nothing_is_all_gap():
    result = unitizing_alpha(frame({"x": [(0, 5, "a")]}), 10, coders=["x", "y"])
    assert result.n_coders == 2
    assert result.coincidences.loc["a", GAP] == 5 and result.coincidences.loc[GAP, GAP] == 10


# ---------------------------------------------------------------------------
# Bad input: one specific exception, one line
# ---------------------------------------------------------------------------
def _error(segments, length=60, **kwargs) -> UnitizingError:
    with pytest.raises(UnitizingError) as caught:
        unitizing_alpha(segments, length, **kwargs)
    error = caught.value
    assert isinstance(error, QDAError) and isinstance(error, ValueError)
    assert "\n" not in str(error)
    return error


@pytest.mark.parametrize(
    ("start", "end", "fragment"),
    [(-1, 5, "starts before 0"), (5, 3, "ends where or before"), (5, 5, "ends where or before"), (50, 61, "past")],
)
def test_bad_spans(start, end, fragment):
    segments = frame({"x": [(0, 5, "a")], "y": [(start, end, "a")]})
    assert fragment in str(_error(segments))


def test_one_coder_only():
    assert "1 coder" in str(_error(frame({"x": [(0, 5, "a")]})))


@pytest.mark.parametrize("second_value", ["a", "b"])
def test_overlap_within_one_coder_names_both_segments(second_value):
    segments = frame({"x": [(0, 10, "a"), (8, 12, second_value)], "y": [(0, 5, "a")]})
    message = str(_error(segments))
    assert "rows 0 and 1" in message and "[0, 10)" in message and "[8, 12)" in message and "overlap" in message


def test_adjacent_segments_of_one_value_are_two_units():
    other = [(0, 10, "a"), (11, 15, "b")]
    merged = unitizing_alpha(frame({"x": [(0, 10, "a"), (12, 15, "b")], "y": other}), 20)
    split = unitizing_alpha(frame({"x": [(0, 5, "a"), (5, 10, "a"), (12, 15, "b")], "y": other}), 20)
    pd.testing.assert_frame_equal(merged.coincidences, split.coincidences)
    # the same matter, but a unit cannot pair with itself: two shorter units remove less
    # self-pairing (5^2 + 5^2 < 10^2), so chance expects more agreement on "a" and the same
    # observed agreement counts for less
    assert split.u_alpha < merged.u_alpha


def test_no_segments_at_all():
    empty = pd.DataFrame({"coder": [], "start": [], "end": [], "value": []})
    result = unitizing_alpha(empty, 10, coders=["x", "y"])
    assert math.isnan(result.u_alpha) and result.coincidences.loc[GAP, GAP] == 20


def test_missing_column_value_and_coder():
    assert "lacks the column" in str(_error(pd.DataFrame({"coder": ["x"], "start": [0], "end": [1]})))
    segments = frame({"x": [(0, 5, "a")], "y": [(0, 5, "a")]})
    segments.loc[1, "value"] = None
    assert "has no value" in str(_error(segments))


def test_non_integer_positions():
    segments = frame({"x": [(0, 5, "a")], "y": [(0, 5, "a")]}).astype({"start": float})
    segments.loc[0, "start"] = 0.5
    assert "not an integer" in str(_error(segments))


def test_bad_lengths_and_sources():
    segments = frame({"x": [(0, 5, "a")], "y": [(0, 5, "a")]})
    assert "positive integer" in str(_error(segments, length=0))
    assert "no source column" in str(_error(segments, length={"doc": 10}))
    sourced = segments.assign(source=["doc", "other"])
    assert "several sources" in str(_error(sourced, length=10))
    assert "has no length" in str(_error(sourced, length={"doc": 10}))


def test_the_gap_label_is_reserved():
    assert GAP in str(_error(frame({"x": [(0, 5, GAP)], "y": [(0, 5, "a")]})))


def test_coder_not_listed():
    assert "not in coders" in str(_error(frame({"x": [(0, 5, "a")], "y": [(0, 5, "a")]}), coders=["x", "z"]))
