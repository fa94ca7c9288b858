"""Krippendorff's alpha family for unitizing a continuum: u-alpha, |u-alpha, cu-alpha and (k)u-alpha.

Coders mark spans of one continuum (a text, counted in code points as REFI-QDA counts them)
and give each span a value; what a coder leaves unmarked is a gap, Krippendorff's
irrelevant matter phi. For every coder each position of the continuum therefore lies either
in exactly one valued segment or in a gap, and the coefficients compare these partitions.

Notation (Krippendorff, Mathet, Bouvry & Widlöcher 2016, eqs. 1-13; Krippendorff 2019, sec. 12.6)
------------------------------------------------------------------------------------------------
``m`` coders, a continuum of length ``L``; ``S_ig`` is the g-th segment of coder i, a valued
unit or a gap, of length ``|S_ig|`` and value ``v(S_ig)`` (phi for a gap); ``V_j`` is the
valued matter of coder j (the union of its valued units).

* Observed coincidences, for all values c, k including phi::

      l_ck = 1/(m-1) * sum_i sum_{j!=i} sum_g sum_h |S_ig ∩ S_jh| [v(S_ig) = c] [v(S_jh) = k]

  that is, position by position, ``1/(m-1) * sum_x (n_c(x) n_k(x) - [c=k] n_c(x))`` with
  ``n_c(x)`` the number of coders who give x the value c; ``l.. = m L``.
* Expected coincidences: ``e_ck = l.. (l_c. l_.k - [c=k] T_c) / (l..^2 - T)``, where ``T_c``
  adds ``|S_ig|^2`` over the valued segments of value c (a segment cannot pair with itself)
  and ``|S_ig|`` over the gaps (a gap has no structure: each of its positions is a unit of
  its own), and ``T = sum_c T_c``.
* ``u-alpha = 1 - (l.. - sum_c l_cc) / (l.. - sum_c e_cc)``: values and gaps, nominal.
* ``|u-alpha = 1 - (l_phi. - l_phiphi) / (e_phi. - e_phiphi)``: the same matrices collapsed to
  relevant (any value) versus irrelevant matter (gaps).
* cu-alpha uses the coincidences among valued matter only, ``l*_ck = l_ck`` for c, k != phi,
  with ``e*_ck = l*.. (l*_c. l*_.k - [c=k] T*_c) / (l*..^2 - T*)``, where ``T*_c`` adds ``P_ig^2``
  over the segments of value c and ``P_ig = 1/(m-1) sum_{j!=i} |S_ig ∩ V_j|`` is what segment
  S_ig adds to the margin ``l*_c.``; ``cu-alpha = 1 - (l*.. - sum_c l*_cc) / (l*.. - sum_c e*_cc)``.
* ``(k)u-alpha = 1 - (e*_k. / l*_k.) (l*_k. - l*_kk) / (e*_k. - e*_kk)`` (2016, eq. 13b): value k
  against every other value, within the valued matter, on the nominal metric.

The correction term of cu-alpha for more than two coders
--------------------------------------------------------
The two open implementations agree with the ``T*`` above for two coders (then
``P_ig = |S_ig ∩ V_j|``) and differ from it, and from each other, for three or more.
lindanna/unitized_alpha (Python) averages the squared pairwise overlaps,
``1/(m-1) sum_{j!=i} |S_ig ∩ V_j|^2``; quallmer (R) squares the overlap with the union of
the other coders' valued matter, ``|S_ig ∩ (union over j!=i of V_j)|^2``. Neither is the square
of what the segment adds to the margin ``l*_c.``, and that square is what the self-pairing
correction removes everywhere else in the family: in u-alpha a segment adds ``|S_ig|`` to
``l_c.`` and ``|S_ig|^2`` is removed, in alpha for fixed units each value adds 1 and 1 is
removed. With ``P_ig^2`` the expected matrix keeps the observed margins' logic (it sums to
``l*..``), and on Krippendorff's (2019) Fig. 12.11, three coders, it gives cu-alpha = 0.724,
the published value (as quallmer's tests cite it); the averaged squares give 0.726 and the
union 0.728.

Choices
-------
* A coder's segments must not overlap, whatever their values: ATLAS.ti requires the codes of
  one semantic domain to be mutually exclusive within a coder, and the coefficients assume
  one value per coder and position. An overlap is an error naming the two segments; adjacent
  segments (one ends where the next starts) are two segments, as in Fig. 12.11.
* Every coder is taken to have read the whole continuum: a position a coder left unmarked is
  a gap for that coder. A coder who marked nothing at all is named in ``coders``.
* A coefficient whose expected disagreement is zero (e.g. no variation at all) is NaN.
* Written by hand: no maintained library computes this family (the ``krippendorff`` package
  and statsmodels cover fixed units only). The computation is a sweep over each pair of
  coders' sorted boundaries, O(n log n) time and O(n + V^2) memory for n segments and V
  values, never all pairs of segments.

References
----------
Krippendorff K, Mathet Y, Bouvry S, Widlöcher A (2016). On the reliability of unitizing
textual continua: Further developments. Quality & Quantity 50:2347-2364.
Krippendorff K (2019). Content Analysis: An Introduction to Its Methodology, 4th ed.,
ch. 12 (sec. 12.6, Fig. 12.11). Sage.
ATLAS.ti manual, "Intercoder agreement": semantic domains and mutually exclusive codes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qda.errors import QDAError

#: The label of the gap category (irrelevant matter, Krippendorff's phi) in the coincidences.
GAP = "(gap)"

REQUIRED_COLUMNS = ("coder", "start", "end", "value")


class UnitizingError(QDAError, ValueError):
    """Bad input to :func:`unitizing_alpha`; a ``ValueError`` too, so either can be caught."""

    def __init__(self, argument: str, what: str, fix: str):
        super().__init__(None, argument, what, fix)


@dataclass(frozen=True, eq=False)
class UnitizingAlpha:
    """The u-alpha family for one set of unitizations (Krippendorff et al. 2016).

    ``coincidences`` holds the observed coincidences ``l_ck`` (values, then :data:`GAP`);
    ``by_value`` the (k)u-alpha of each value and ``coverage`` the share of each value's
    matter that meets valued matter of the other coders (``l*_k. / l_k.``), which tells how
    much of the value (k)u-alpha and cu-alpha rest on; ``cu_coverage`` is the same share for
    all values together.
    """

    u_alpha: float
    binary_u_alpha: float
    cu_alpha: float
    by_value: pd.Series
    coincidences: pd.DataFrame
    coverage: pd.Series
    cu_coverage: float
    n_coders: int
    length: int


@dataclass(frozen=True, eq=False)
class _Partition:
    """One coder's continuum: ``bounds`` = [0, s0, e0, s1, e1, ..., L]; piece t runs from
    bounds[t] to bounds[t+1], a gap for even t and valued segment (t-1)//2 for odd t."""

    bounds: np.ndarray
    values: np.ndarray

    @property
    def n_segments(self) -> int:
        return len(self.values)

    def piece_categories(self, gap_code: int) -> np.ndarray:
        categories = np.full(2 * self.n_segments + 1, gap_code, dtype=np.int64)
        categories[1::2] = self.values
        return categories

    def segment_lengths(self) -> np.ndarray:
        return self.bounds[2:-1:2] - self.bounds[1:-1:2]


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------
def _check_columns(segments: pd.DataFrame) -> None:
    if not isinstance(segments, pd.DataFrame):
        raise UnitizingError(
            "segments",
            f"is a {type(segments).__name__}, not a DataFrame",
            "pass a DataFrame with columns coder, start, end, value",
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in segments.columns]
    if missing:
        raise UnitizingError(
            "segments",
            f"lacks the column(s) {', '.join(missing)}",
            "pass columns coder, start, end (end exclusive) and value",
        )
    for column in ("coder", "value"):
        if segments[column].isna().any():
            row = segments.index[segments[column].isna().to_numpy()][0]
            raise UnitizingError(f"segments row {row!r}", f"has no {column}", f"give every segment a {column}")


def _integer_positions(segments: pd.DataFrame, column: str) -> np.ndarray:
    series = segments[column]
    if series.empty:
        return np.zeros(0, dtype=np.int64)
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        raise UnitizingError(f"segments column {column!r}", "is not numeric", "pass integer code-point positions")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        row = segments.index[bad][0]
        raise UnitizingError(
            f"segments row {row!r}",
            f"{column} is {series.loc[row]!r}, not an integer",
            "pass integer code-point positions",
        )
    return series.to_numpy(dtype=np.int64)


def _checked_length(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise UnitizingError(
            what, f"is {value!r}, not a positive integer", "pass the continuum's length in code points"
        )
    return int(value)


def _source_layout(segments: pd.DataFrame, length: int | Mapping[Hashable, int]) -> tuple[np.ndarray, np.ndarray, int]:
    """Each row's offset on the continuum laid end to end, each row's source length, and the total length."""
    n_rows = len(segments)
    if not isinstance(length, Mapping):
        total = _checked_length(length, "length")
        if "source" in segments.columns and segments["source"].nunique(dropna=False) > 1:
            raise UnitizingError(
                "length", "is one number but segments name several sources", "pass a mapping source -> length"
            )
        return np.zeros(n_rows, dtype=np.int64), np.full(n_rows, total, dtype=np.int64), total
    if "source" not in segments.columns:
        raise UnitizingError(
            "segments", "has no source column but length is a mapping", "add a source column, or pass one length"
        )
    names = list(length)
    lengths = np.array([_checked_length(length[name], f"length[{name!r}]") for name in names], dtype=np.int64)
    codes = pd.Index(names).get_indexer(segments["source"]).astype(np.int64)
    if (codes < 0).any():
        row = segments.index[codes < 0][0]
        raise UnitizingError(
            f"segments row {row!r}",
            f"source {segments['source'].loc[row]!r} has no length",
            "add the source to the length mapping",
        )
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return offsets[codes], lengths[codes], int(lengths.sum())


def _check_spans(segments: pd.DataFrame, start: np.ndarray, end: np.ndarray, limit: np.ndarray) -> None:
    checks = (
        (start < 0, "starts before 0", "positions count from 0"),
        (end <= start, "ends where or before it starts", "give start < end, end exclusive"),
        (end > limit, "ends past the continuum's length", "check the span or the length"),
    )
    for bad, what, fix in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UnitizingError(f"segments row {segments.index[i]!r}", f"span [{start[i]}, {end[i]}) {what}", fix)


def _factorized(values: pd.Series) -> tuple[np.ndarray, list]:
    try:
        codes, labels = pd.factorize(values, sort=True)
    except TypeError:
        codes, labels = pd.factorize(values, sort=False)
    return codes.astype(np.int64), list(labels)


def _coder_codes(segments: pd.DataFrame, coders: Iterable[Hashable] | None) -> tuple[np.ndarray, list]:
    if coders is None:
        codes, names = _factorized(segments["coder"])
    else:
        names = list(dict.fromkeys(coders))
        codes = pd.Index(names).get_indexer(segments["coder"]).astype(np.int64)
        if (codes < 0).any():
            row = segments.index[codes < 0][0]
            raise UnitizingError(
                f"segments row {row!r}",
                f"coder {segments['coder'].loc[row]!r} is not in coders",
                "list every coder in coders, or leave coders out",
            )
    if len(names) < 2:
        raise UnitizingError(
            "segments",
            f"come from {len(names)} coder(s)",
            "unitizing reliability needs at least two coders of the same continuum",
        )
    return codes, names


# ---------------------------------------------------------------------------
# Partitions and the sweep
# ---------------------------------------------------------------------------
def _overlap_error(segments: pd.DataFrame, coder: Hashable, first: int, second: int) -> UnitizingError:
    def describe(i: int) -> str:
        row = segments.iloc[i]
        where = f"{row['source']!r} " if "source" in segments.columns else ""
        return f"{where}[{row['start']}, {row['end']}) {row['value']!r}"

    rows = f"segments rows {segments.index[first]!r} and {segments.index[second]!r}"
    return UnitizingError(
        rows,
        f"coder {coder!r} has {describe(first)} and {describe(second)}, which overlap",
        "a coder's values must be mutually exclusive (one semantic domain): merge or split them",
    )


def _coder_partitions(
    segments: pd.DataFrame,
    coder_codes: np.ndarray,
    coder_names: list,
    start: np.ndarray,
    end: np.ndarray,
    value_codes: np.ndarray,
    total: int,
) -> list[_Partition]:
    """Each coder's sorted, non-overlapping segments as a :class:`_Partition` of [0, total)."""
    key = coder_codes * (total + 1) + start  # one sort on (coder, start); m (total + 1) fits in int64
    order = np.arange(len(key)) if np.all(key[1:] >= key[:-1]) else np.argsort(key)
    sorted_coders = coder_codes[order]
    cuts = np.searchsorted(sorted_coders, np.arange(len(coder_names) + 1))
    partitions = []
    for c, name in enumerate(coder_names):
        rows = order[cuts[c] : cuts[c + 1]]
        s, e = start[rows], end[rows]
        clash = np.flatnonzero(s[1:] < e[:-1])
        if clash.size:
            raise _overlap_error(segments, name, int(rows[clash[0]]), int(rows[clash[0] + 1]))
        bounds = np.empty(2 * len(rows) + 2, dtype=np.int64)
        bounds[0], bounds[-1] = 0, total
        bounds[1:-1:2], bounds[2:-1:2] = s, e
        partitions.append(_Partition(bounds, value_codes[rows]))
    return partitions


def _merged_cuts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted boundary arrays (a merge: timsort finds the two runs)."""
    cuts = np.sort(np.concatenate((a, b)), kind="stable")
    keep = np.empty(len(cuts), dtype=bool)
    keep[0] = True
    np.not_equal(cuts[1:], cuts[:-1], out=keep[1:])
    return cuts[keep]


def _pair_tally(a: _Partition, b: _Partition, n_categories: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersections of two coders' partitions, by sweeping their merged boundaries.

    Returns the matrix ``C[c, k]`` = length where coder a has c and coder b has k (gap =
    ``n_categories - 1``), and for each valued segment of a (of b) its overlap with b's
    (a's) valued matter, ``|S_ag ∩ V_b|``.
    """
    cuts = _merged_cuts(a.bounds, b.bounds)
    widths = np.diff(cuts).astype(np.float64)
    piece_a = np.searchsorted(a.bounds, cuts[:-1], side="right") - 1
    piece_b = np.searchsorted(b.bounds, cuts[:-1], side="right") - 1
    gap = n_categories - 1
    pair_codes = a.piece_categories(gap)[piece_a] * n_categories + b.piece_categories(gap)[piece_b]
    matrix = np.bincount(pair_codes, weights=widths, minlength=n_categories**2).reshape(n_categories, n_categories)
    both_valued = (piece_a & 1).astype(bool) & (piece_b & 1).astype(bool)
    shared = widths[both_valued]
    overlap_a = np.bincount(piece_a[both_valued] >> 1, weights=shared, minlength=a.n_segments)
    overlap_b = np.bincount(piece_b[both_valued] >> 1, weights=shared, minlength=b.n_segments)
    return matrix, overlap_a, overlap_b


def _observed_and_pairable(partitions: list[_Partition], n_values: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The observed coincidences ``l_ck`` and, per coder, each valued segment's ``P_ig``."""
    m = len(partitions)
    n_categories = n_values + 1
    observed = np.zeros((n_categories, n_categories))
    overlaps = [np.zeros(p.n_segments) for p in partitions]
    for i in range(m):
        for j in range(i + 1, m):
            matrix, overlap_i, overlap_j = _pair_tally(partitions[i], partitions[j], n_categories)
            observed += matrix + matrix.T
            overlaps[i] += overlap_i
            overlaps[j] += overlap_j
    return observed / (m - 1), [o / (m - 1) for o in overlaps]


def _self_pairing_all_matter(partitions: list[_Partition], n_values: int, total: int) -> np.ndarray:
    """``T_c``: the sum of |S|^2 over the valued segments of value c, and of the gaps' lengths for phi."""
    terms = np.zeros(n_values + 1)
    for p in partitions:
        lengths = p.segment_lengths().astype(np.float64)
        terms[:n_values] += np.bincount(p.values, weights=lengths**2, minlength=n_values)
        terms[n_values] += total - lengths.sum()
    return terms


def _self_pairing_valued_matter(partitions: list[_Partition], pairable: list[np.ndarray], n_values: int) -> np.ndarray:
    """``T*_c``: the sum of P_ig^2 over the segments of value c (see the module docstring)."""
    terms = np.zeros(n_values)
    for p, contribution in zip(partitions, pairable, strict=True):
        terms += np.bincount(p.values, weights=contribution**2, minlength=n_values)
    return terms


# ---------------------------------------------------------------------------
# Coefficients from coincidence matrices
# ---------------------------------------------------------------------------
def expected_coincidences(observed: np.ndarray, self_pairing: np.ndarray) -> np.ndarray:
    """Expected coincidences ``e_ck = l.. (l_c. l_.k - [c=k] T_c) / (l..^2 - sum_c T_c)``.

    ``observed`` is a symmetric coincidence matrix and ``self_pairing`` the ``T_c`` that keep
    a unit from pairing with itself (Krippendorff et al. 2016, eqs. 4 and 10; Krippendorff
    2019, sec. 12.6). With unit weights (``T_c = l_c.``) this is the expected matrix of
    Krippendorff's alpha for fixed units, ``n_c (n_k - [c=k]) / (n - 1)``.
    """
    total = observed.sum()
    denominator = total**2 - self_pairing.sum()
    if not denominator > 0:
        return np.full_like(observed, np.nan)
    margins = observed.sum(axis=1)
    return total * (np.outer(margins, margins) - np.diag(self_pairing)) / denominator


def _alpha_from_disagreements(observed_disagreement: float, expected_disagreement: float, scale: float) -> float:
    if not expected_disagreement > 1e-12 * max(scale, 1.0):
        return float("nan")
    return float(1.0 - observed_disagreement / expected_disagreement)


def nominal_alpha(observed: np.ndarray, expected: np.ndarray) -> float:
    """Nominal alpha from coincidences: ``alpha = 1 - (l.. - sum_c l_cc) / (e.. - sum_c e_cc)`` (Krippendorff 2019, sec. 12.6).

    NaN when the expected disagreement is zero.
    """
    total = observed.sum()
    return _alpha_from_disagreements(total - np.trace(observed), expected.sum() - np.trace(expected), total)


def binary_alpha(observed: np.ndarray, expected: np.ndarray, category: int) -> float:
    """Alpha of one category against all others: ``alpha_c = 1 - (l_c. - l_cc) / (e_c. - e_cc)``.

    With the gap category this is |u-alpha (Krippendorff et al. 2016, eq. 6). NaN when the
    expected disagreement is zero.
    """
    observed_off = observed[category].sum() - observed[category, category]
    expected_off = expected[category].sum() - expected[category, category]
    return _alpha_from_disagreements(observed_off, expected_off, observed.sum())


def value_alphas(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """(k)u-alpha of every value: ``alpha_k = 1 - (e_k. / l_k.) (l_k. - l_kk) / (e_k. - e_kk)`` (Krippendorff et al. 2016, eq. 13b).

    ``observed`` and ``expected`` are the coincidences among valued matter (l*, e*). NaN for
    a value without valued intersections or without expected disagreement.
    """
    observed_margin = observed.sum(axis=1)
    expected_margin = expected.sum(axis=1)
    observed_off = observed_margin - np.diag(observed)
    expected_off = expected_margin - np.diag(expected)
    scale = max(float(observed.sum()), 1.0)
    defined = (observed_margin > 0) & (expected_off > 1e-12 * scale)
    alphas = np.full(len(observed), np.nan)
    alphas[defined] = 1.0 - (expected_margin[defined] / observed_margin[defined]) * (
        observed_off[defined] / expected_off[defined]
    )
    return alphas


# ---------------------------------------------------------------------------
# The public entry point
# ---------------------------------------------------------------------------
def unitizing_alpha(
    segments: pd.DataFrame, length: int | Mapping[Hashable, int], coders: Iterable[Hashable] | None = None
) -> UnitizingAlpha:
    """Krippendorff's u-alpha, |u-alpha, cu-alpha and (k)u-alpha of coders' spans on a continuum.

    ``segments`` has columns ``coder``, ``start``, ``end`` (integer positions, end exclusive,
    counted as REFI-QDA counts code points) and ``value`` (the category, hashable), and, when
    ``length`` is a mapping ``source -> length``, a ``source`` column: the sources are laid end
    to end in the mapping's order (a source no segment names is all gap). ``coders`` lists
    the coders when one of them marked nothing; by default the coders are those in
    ``segments``.

    Formulas (see the module docstring for the notation): ``u-alpha = 1 - (l.. - sum_c l_cc) /
    (l.. - sum_c e_cc)``, ``e_ck = l.. (l_c. l_.k - [c=k] T_c) / (l..^2 - T)``; |u-alpha on the
    matrices collapsed to values versus gaps; cu-alpha and (k)u-alpha on the valued matter,
    with ``T*_c = sum P_ig^2``. References: Krippendorff, Mathet, Bouvry & Widlöcher (2016),
    Quality & Quantity 50:2347-2364; Krippendorff (2019), Content Analysis, 4th ed., sec. 12.6.

    Raises :class:`UnitizingError` (one line) for a missing column, value or coder, a
    negative, empty or reversed span, a span past the length, a single coder, or two
    overlapping segments of one coder.
    """
    _check_columns(segments)
    start, end = _integer_positions(segments, "start"), _integer_positions(segments, "end")
    offsets, limits, total = _source_layout(segments, length)
    _check_spans(segments, start, end, limits)
    value_codes, value_labels = _factorized(segments["value"])
    if any(isinstance(label, str) and label == GAP for label in value_labels):
        raise UnitizingError("segments", f"use the value {GAP!r}, the name of the gap category", "rename that value")
    coder_codes, coder_names = _coder_codes(segments, coders)
    partitions = _coder_partitions(
        segments, coder_codes, coder_names, start + offsets, end + offsets, value_codes, total
    )
    n_values = len(value_labels)
    observed, pairable = _observed_and_pairable(partitions, n_values)
    expected = expected_coincidences(observed, _self_pairing_all_matter(partitions, n_values, total))
    valued_observed = observed[:n_values, :n_values]
    valued_expected = expected_coincidences(
        valued_observed, _self_pairing_valued_matter(partitions, pairable, n_values)
    )
    labels = pd.Index(value_labels + [GAP], name="value")
    value_index = labels[:n_values]
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = valued_observed.sum(axis=1) / observed[:n_values].sum(axis=1)
        cu_coverage = valued_observed.sum() / observed[:n_values].sum()
    return UnitizingAlpha(
        u_alpha=nominal_alpha(observed, expected),
        binary_u_alpha=binary_alpha(observed, expected, n_values),
        cu_alpha=nominal_alpha(valued_observed, valued_expected),
        by_value=pd.Series(value_alphas(valued_observed, valued_expected), index=value_index, name="(k)u-alpha"),
        coincidences=pd.DataFrame(observed, index=labels, columns=labels),
        coverage=pd.Series(coverage, index=value_index, name="coverage"),
        cu_coverage=float(cu_coverage),
        n_coders=len(coder_names),
        length=total,
    )
