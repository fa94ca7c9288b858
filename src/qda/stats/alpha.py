"""Krippendorff's alpha at the nominal, ordinal, interval and ratio levels, and its bootstrap.

Our own vectorised numpy code; the GPL-3.0 ``krippendorff`` package is never imported here
(tests and benchmarks compare against it). Memory is of the order of units x coders at every
level: the interval level uses sums of squares within units, the ordinal level maps each
value to its mid-rank position (which turns the ordinal metric into the interval metric on
those positions, so it is exact), and the ratio level sums the expected disagreement over
distinct values in blocks, or, for many distinct values, by a quadrature of an integral
representation; no values-by-values matrix is ever held.

Krippendorff K (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication, departmental paper 43. Krippendorff K (2013). Algorithm for bootstrapping a
distribution of alpha. Hayes AF, Krippendorff K (2007). Answering the call for a standard
reliability measure for coding data. Communication Methods and Measures 1:77-89.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qda.stats.agreement import LEVELS, AgreementError, equal_pairs_per_row, factorize_frame


@dataclass(frozen=True)
class AlphaBootstrap:
    """Bootstrap of Krippendorff's alpha (Krippendorff 2013; Hayes & Krippendorff 2007).

    ``q`` maps each ``alpha_min`` to the estimated probability that alpha is below it.
    ``distribution`` holds the sorted bootstrap alphas (after the KALPHA corrections).
    """

    alpha: float
    ci_low: float
    ci_high: float
    level: float
    q: dict[float, float]
    n_boot: int
    n_draws: int
    seed: int | None
    measure_level: str
    distribution: np.ndarray = field(repr=False)


# ---------------------------------------------------------------------------
# Krippendorff's alpha (own implementation; see module docstring)
# ---------------------------------------------------------------------------
_RATIO_EXACT_MAX_VALUES = 4096  # above this many distinct values the ratio D_e uses quadrature


def _reliability_matrix(reliability_data: Any, level: str) -> np.ndarray:
    if level not in LEVELS:
        raise AgreementError("level", f"is {level!r}", f"use one of {', '.join(LEVELS)}")
    if isinstance(reliability_data, pd.DataFrame):
        df = reliability_data
    else:
        arr = np.asarray(reliability_data)
        if arr.ndim != 2:
            raise AgreementError(
                "reliability_data",
                f"has {arr.ndim} dimension(s)",
                "pass a DataFrame with one row per unit and one column per coder",
            )
        df = pd.DataFrame(arr)
    if df.shape[1] < 2:
        raise AgreementError(
            "reliability_data", f"has {df.shape[1]} coder column(s)", "pass at least two coders (columns)"
        )
    try:
        x = df.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        x = None
    if x is None:
        ordered = all(isinstance(df[c].dtype, pd.CategoricalDtype) and df[c].cat.ordered for c in df.columns)
        if level == "nominal":
            return factorize_frame(df, "reliability_data")
        if level == "ordinal" and ordered:
            cats = df[df.columns[0]].cat.categories
            if not all(df[c].cat.categories.equals(cats) for c in df.columns):
                raise AgreementError(
                    "reliability_data",
                    "has ordered categoricals with different categories",
                    "give every coder column the same ordered categories",
                )
            codes = np.column_stack([df[c].cat.codes.to_numpy() for c in df.columns]).astype(float)
            codes[codes < 0] = np.nan
            return codes
        raise AgreementError(
            "reliability_data",
            f"holds non-numeric values at the {level} level",
            "use level='nominal', numeric codes, or (ordinal) ordered categoricals",
        )
    if np.isinf(x).any():
        raise AgreementError(
            "reliability_data", "holds infinite values", "replace them with NaN (not coded) or a value"
        )
    return x


def _ratio_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        d = ((a - b) / s) ** 2
    return np.where(s == 0, 0.0, d)


def _ratio_expected_sum(values: np.ndarray, counts: np.ndarray, exact_max: int) -> float:
    """``sum_{c,k} n_c n_k ((c-k)/(c+k))^2`` over distinct non-negative values, memory O(V).

    Up to ``exact_max`` values: exact, in row blocks. Beyond: ``delta = 1 - 4ck/(c+k)^2``
    and ``sum n_c n_k c k/(c+k)^2 = int_0^inf t F(t)^2 dt`` with ``F(t) = sum n_c c e^{-tc}``
    (from ``1/(c+k)^2 = int t e^{-t(c+k)} dt``), integrated by the trapezoidal rule in
    ``s = log t``, which converges geometrically for this analytic integrand.
    """
    n_tot = counts.sum()
    if len(values) <= exact_max:
        total = 0.0
        step = max(1, 2_000_000 // max(len(values), 1))
        for i in range(0, len(values), step):
            d = _ratio_delta(values[i : i + step, None], values[None, :])
            total += float((counts[i : i + step, None] * d * counts[None, :]).sum())
        return total
    pos = values > 0
    c = values[pos] / values[pos].max()  # alpha's ratio metric is scale-free
    w = counts[pos] * c
    h = 0.2
    s_grid = np.arange(math.log(1e-9), math.log(45.0 / c.min()) + h, h)
    integral = 0.0
    for s in s_grid:
        t = math.exp(s)
        f = float(np.dot(w, np.exp(-t * c)))
        integral += t * t * f * f
    integral *= h
    n0 = float(counts[~pos].sum())
    # pairs with both values 0 have delta 0, not 1 - 0
    return float(n_tot * n_tot - 4.0 * integral - n0 * n0)


def _value_counts(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted distinct values, code of each value, count of each distinct value).

    ``pd.factorize`` hashes (O(n)) where ``np.unique`` sorts all n values: the hot spot
    of the ordinal level at 10^6 units (benchmarks/README.md).
    """
    codes, uniq = pd.factorize(vals, sort=True)
    return np.asarray(uniq, dtype=float), codes, np.bincount(codes, minlength=len(uniq)).astype(float)


#: Up to this many coders, per-unit sums run over the c(c-1)/2 coder-column pairs
#: (cheaper than sorting every row); beyond it, rows are sorted.
_PAIRWISE_MAX_CODERS = 12


def alpha_parts(
    x: np.ndarray, level: str, *, ratio_exact_max: int = _RATIO_EXACT_MAX_VALUES
) -> tuple[float, float, float, int]:
    """Krippendorff's alpha and its parts, ``(alpha, D_o, D_e, n)``, for a units x coders matrix.

    ``x`` holds float values with NaN for missing; ``alpha = 1 - D_o / D_e`` with the
    observed and expected disagreements of Krippendorff (2011), "Computing Krippendorff's
    alpha-reliability", and ``n`` the number of pairable values. The bootstrap and the
    study-aware reliability functions need the parts, not only alpha.
    """
    mask = ~np.isnan(x)
    m_all = mask.sum(1)
    keep = m_all >= 2
    if not keep.any():
        raise AgreementError(
            "reliability_data",
            "has no pairable values (no unit coded by two or more coders)",
            "add units that at least two coders coded",
        )
    x = x[keep]
    mask = mask[keep]
    m = m_all[keep].astype(float)
    vals = x[mask]
    n = float(vals.size)
    if vals.min() == vals.max():
        # No variation: D_e is 0 exactly, but the sums of squares of the interval level can
        # leave a rounding residue (~1e-33) that would pass for variation (issue 16).
        return float("nan"), 0.0, 0.0, int(n)
    if level == "ratio" and (vals < 0).any():
        raise AgreementError(
            "reliability_data",
            "holds negative values at the ratio level",
            "the ratio metric needs values >= 0; use level='interval'",
        )
    if level == "nominal":
        c = x.shape[1]
        if c <= _PAIRWISE_MAX_CODERS:
            eq = np.zeros(len(x))
            for i in range(c):
                for j in range(i + 1, c):
                    eq += x[:, i] == x[:, j]  # NaN == NaN is False
        else:
            eq = equal_pairs_per_row(x)
        d_o = float(((m * (m - 1) - 2 * eq) / (m - 1)).sum() / n)
        _, _, cnt = _value_counts(vals)
        d_e = float((n * (n - 1) - (cnt * (cnt - 1)).sum()) / (n * (n - 1)))
    elif level in ("interval", "ordinal"):
        if level == "ordinal":
            _, inv, cnt = _value_counts(vals)
            pos = np.cumsum(cnt) - cnt / 2.0  # mid-rank: delta_ck = (pos_k - pos_c)^2
            x = np.full(x.shape, np.nan)
            x[mask] = pos[inv]
            vals = x[mask]
        mean_u = np.nanmean(x, axis=1)
        ss_u = np.nansum((x - mean_u[:, None]) ** 2, axis=1)
        d_o = float((2.0 * m * ss_u / (m - 1)).sum() / n)
        ss_tot = float(((vals - vals.mean()) ** 2).sum())
        d_e = 2.0 * ss_tot / (n - 1)
    else:  # ratio
        inv_w = 1.0 / (m - 1)
        tot = 0.0
        c = x.shape[1]
        if c <= _PAIRWISE_MAX_CODERS:
            with np.errstate(divide="ignore", invalid="ignore"):
                for i in range(c):
                    for j in range(i + 1, c):
                        a, b = x[:, i], x[:, j]
                        d = (a - b) / (a + b)  # NaN where a value is missing or both are 0 (delta 0)
                        tot += float(np.nansum(d * d * inv_w))
        else:
            srt = np.sort(x, axis=1)  # values first, NaN last
            for d in range(1, srt.shape[1]):
                a, b = srt[:, :-d], srt[:, d:]
                ok = ~np.isnan(b)  # b non-NaN implies a non-NaN (NaN sort last)
                dl = np.where(ok, _ratio_delta(np.where(ok, a, 0.0), np.where(ok, b, 0.0)), 0.0)
                tot += float((dl.sum(1) * inv_w).sum())
        d_o = 2.0 * tot / n
        uniq, _, cnt = _value_counts(vals)
        d_e = _ratio_expected_sum(uniq, cnt, ratio_exact_max) / (n * (n - 1))
    if d_e <= 0 or not np.isfinite(d_e):
        return float("nan"), d_o, d_e, int(n)
    return float(1.0 - d_o / d_e), d_o, d_e, int(n)


def krippendorff_alpha(reliability_data: Any, level: str = "nominal") -> float:
    """Krippendorff's alpha for units coded by several coders, missing codes allowed.

    ``reliability_data``: DataFrame (or 2-D array) with one row per unit and one column
    per coder; NaN = the coder did not code the unit. Only *pairable* values count:
    those in units coded by at least two coders (``m_u >= 2``); ``n`` is their number.

    ``alpha = 1 - D_o / D_e`` with
    ``D_o = (1/n) sum_u 1/(m_u - 1) sum_{i != j in u} delta(v_i, v_j)`` and
    ``D_e = 1/(n (n-1)) sum_{i != j} delta(v_i, v_j)`` over all pairable values
    (Krippendorff 2011). Metrics ``delta``: nominal ``[c != k]``; interval ``(c-k)^2``;
    ratio ``((c-k)/(c+k))^2``; ordinal ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2``, which
    equals ``(r_k - r_c)^2`` for the mid-rank positions ``r_c = N_{<=c} - n_c/2``, so the
    ordinal alpha is the interval alpha of the values' mid-rank positions.

    Computation (own numpy code, memory O(units x coders)): nominal from equal pairs in
    sorted unit rows and value counts; interval and ordinal in closed form,
    ``sum_{i != j in u} (v_i - v_j)^2 = 2 m_u SS_u`` (sum of squares about the unit mean)
    and ``sum_{i != j} (v_i - v_j)^2 = 2 n SS`` over pairable values; ratio with
    within-unit pairs and the expected disagreement summed over distinct values
    (blocks, or a quadrature for more than 4096 distinct values; see
    ``_ratio_expected_sum``).

    Returns NaN when the pairable values do not vary (``D_e = 0``): there is no
    variation to be reliable about and alpha is undefined (the KALPHA macro prints 0).
    Non-numeric data are allowed at the nominal level, and at the ordinal level as
    ordered categoricals with the same categories in every column.
    """
    x = _reliability_matrix(reliability_data, level)
    return alpha_parts(x, level)[0]


def pairable_pairs(values_per_unit: Any) -> int:
    """Number of pairs of pairable values, ``sum_u m_u (m_u - 1) / 2`` over units with ``m_u >= 2``.

    ``values_per_unit`` holds ``m_u``, the number of values (coders who coded) in each
    unit. This is the number of draws per replicate that Krippendorff's (2013) bootstrap
    takes when it is not capped (Hayes & Krippendorff 2007): 239 for their 5-observer,
    40-unit data, where ``n (m - 1) / 2`` with m = 5 columns would give 318.
    """
    m = np.asarray(values_per_unit, dtype=float)
    m = m[m >= 2]
    return int(round(float((m * (m - 1) / 2).sum())))


def alpha_bootstrap_ci(
    reliability_data: Any,
    level: str = "nominal",
    *,
    n_boot: int = 20_000,
    confidence: float = 0.95,
    alpha_min: Sequence[float] = (0.667, 0.8),
    seed: int | None = 0,
    n_draws: int | None = None,
) -> AlphaBootstrap:
    """Bootstrap confidence interval for Krippendorff's alpha and q = P(alpha < alpha_min).

    Krippendorff's (2013) algorithm, used by the KALPHA macro of Hayes & Krippendorff
    (2007): pairs of pairable values are drawn with replacement in proportion to their
    coincidences, i.e. an ordered pair (i, j) of values in unit u with probability
    ``1 / (n (m_u - 1))``; ``M`` pairs per replicate, ``M = min(25 e, sum_u m_u (m_u - 1) / 2)``
    where ``e`` is the number of non-empty cells of the coincidence matrix and ``m_u`` the
    number of values in unit u (:func:`pairable_pairs`: the pairs of pairable values the
    data hold, 239 for Hayes & Krippendorff's 5 observers x 40 units with missing values;
    ``n (m - 1) / 2`` with ``m`` the number of coder columns overcounts whenever values
    are missing). Each replicate gives ``alpha* = 1 - sum delta / (M D_e)`` with the
    metric and ``D_e`` of the full data. As in the macro, replicates below -1 are set to
    -1 and, when ``alpha* = 1`` occurs, up to ``round(n_boot * sum_c p_cc^M)`` of them
    (the replicates expected to contain only one kind of agreement, for which alpha is
    undefined) are set to 0, all of them when only one value ever agrees.
    The interval is the ``(1-confidence)/2`` and ``1-(1-confidence)/2`` order statistics;
    ``q[a] = share of alpha* < a``. Seeded with ``numpy.random.default_rng(seed)``.
    """
    x = _reliability_matrix(reliability_data, level)
    est, _d_o, d_e, n = alpha_parts(x, level)
    if not np.isfinite(est):
        raise AgreementError(
            "reliability_data",
            "has no variation in its pairable values, so alpha is undefined",
            "bootstrap data whose values vary",
        )
    if n_boot < 100:
        raise AgreementError("n_boot", f"is {n_boot}", "use at least 100 replicates (KALPHA uses 1000 or more)")
    if not 0 < confidence < 1:
        raise AgreementError("confidence", f"is {confidence!r}", "pass a level between 0 and 1")
    mask = ~np.isnan(x)
    keep = mask.sum(1) >= 2
    x = x[keep]
    m = (~np.isnan(x)).sum(1).astype(float)
    if level == "ordinal":
        vals = x[~np.isnan(x)]
        _, inv, cnt = np.unique(vals, return_inverse=True, return_counts=True)
        posn = np.cumsum(cnt) - cnt / 2.0
        x2 = np.full(x.shape, np.nan)
        x2[~np.isnan(x)] = posn[inv]
        x = x2
    s = np.sort(x, axis=1)
    pa, pb, pw = [], [], []
    for d in range(1, s.shape[1]):
        a, b = s[:, :-d], s[:, d:]
        ok = ~np.isnan(b)
        rows = np.nonzero(ok)[0]
        pa.append(a[ok])
        pb.append(b[ok])
        pw.append(2.0 / (m[rows] - 1))
    va, vb, w = np.concatenate(pa), np.concatenate(pb), np.concatenate(pw)
    if level == "nominal":
        delta = (va != vb).astype(float)
    elif level == "ratio":
        delta = _ratio_delta(va, vb)
    else:
        delta = (va - vb) ** 2
    prob = w / w.sum()
    # cells of the coincidence matrix: unordered value pairs; off-diagonal cells count twice
    pair_ids, inv_pair = np.unique(np.column_stack([va, vb]), axis=0, return_inverse=True)
    inv_pair = inv_pair.ravel()
    diag = pair_ids[:, 0] == pair_ids[:, 1]
    e_cells = int(diag.sum() + 2 * (~diag).sum())
    if n_draws is None:
        n_draws = int(min(25 * e_cells, pairable_pairs(m)))
    n_draws = max(int(n_draws), 1)
    rng = np.random.default_rng(seed)
    cum = np.cumsum(prob)
    cum[-1] = 1.0
    boot = np.empty(n_boot)
    chunk = max(1, 4_000_000 // n_draws)
    for i in range(0, n_boot, chunk):
        k = min(chunk, n_boot - i)
        idx = np.searchsorted(cum, rng.random((k, n_draws)), side="right")
        boot[i : i + k] = 1.0 - delta[idx].sum(1) / (n_draws * d_e)
    boot = np.maximum(boot, -1.0)
    ones = boot == 1.0
    if ones.any():
        p_cell = np.bincount(inv_pair, weights=prob, minlength=len(pair_ids))
        p_diag = p_cell[diag]
        if int((p_diag > 0).sum()) <= 1:
            boot[ones] = 0.0
        else:
            nx = int(round(n_boot * float((p_diag**n_draws).sum())))
            if nx >= int(ones.sum()):
                boot[ones] = 0.0
            else:
                boot.sort()
                boot[n_boot - nx :] = 0.0 if nx > 0 else boot[n_boot - nx :]
    boot.sort()
    tail = (1 - confidence) / 2
    lo = boot[max(int(tail * n_boot), 1) - 1]
    hi = boot[min(int(math.floor((1 - tail) * n_boot)), n_boot - 1)]
    q = {float(a): float((boot < a).mean()) for a in alpha_min}
    return AlphaBootstrap(est, float(lo), float(hi), confidence, q, int(n_boot), n_draws, seed, level, boot)
