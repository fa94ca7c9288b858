"""Fleiss' kappa for many raters, with a percentile bootstrap interval.

Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychological
Bulletin 76:378-382. Our own one-pass code of the generalised form (subjects may have
different numbers of ratings), which is Fleiss' formula when every subject has the same
number; statsmodels' ``fleiss_kappa`` is the test oracle and the speed reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from qda.stats.agreement import AgreementError, FleissResult


# ---------------------------------------------------------------------------
# Fleiss
# ---------------------------------------------------------------------------
def _fleiss_counts(counts: Any) -> tuple[np.ndarray, list]:
    """The counts as a 2-D numeric array (integers kept as integers: no copy, no rounding check)."""
    if isinstance(counts, pd.DataFrame):
        cats = list(counts.columns)
        x = counts.to_numpy()
    else:
        x = np.asarray(counts)
        cats = list(range(x.shape[1])) if x.ndim == 2 else []
    if x.dtype.kind not in "iuf" or x.dtype.kind == "b":
        x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise AgreementError("counts", f"has shape {x.shape}", "pass a subjects x categories table of rating counts")
    if x.dtype.kind == "f":
        bad = not np.isfinite(x).all() or (x != np.round(x)).any()
    else:
        bad = False
    if bad or x.min() < 0:
        raise AgreementError("counts", "holds negative, missing or fractional counts", "pass whole-number counts")
    return x, cats


def _fleiss_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per subject ``n_i`` and ``P_i``, and the category totals ``sum_i x_ij`` (one pass each)."""
    n_i = x.sum(1, dtype=np.float64)
    sq = np.einsum("ij,ij->i", x, x, dtype=np.float64)  # sum_j x_ij^2 without a temporary table
    with np.errstate(divide="ignore", invalid="ignore"):  # n_i < 2 is reported by the callers
        p_i = (sq - n_i) / (n_i * (n_i - 1.0))
    return n_i, p_i, x.sum(0, dtype=np.float64)


def _fleiss_kappa_value(p_bar: Any, pe_bar: Any) -> Any:
    """Kappa from P-bar and Pe-bar, with the one convention of this module for ``Pe-bar = 1``.

    All ratings in one category make kappa 0/0; observed agreement is then perfect and
    kappa is 1.0 (as :func:`cohen_kappa_table` does for degenerate margins). Used by
    :func:`fleiss_kappa` and, replicate by replicate, by :func:`fleiss_bootstrap_ci`.
    """
    p_bar, pe_bar = np.asarray(p_bar, dtype=float), np.asarray(pe_bar, dtype=float)
    one = np.isclose(pe_bar, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(one, 1.0, (p_bar - pe_bar) / np.where(one, 1.0, 1.0 - pe_bar))
    return float(k) if k.ndim == 0 else k


def _fleiss_generalised(x: np.ndarray) -> tuple[float, float, float]:
    """(kappa, P-bar, Pe-bar) of the generalised Fleiss form for any numbers of raters.

    Hand-written because statsmodels' ``fleiss_kappa`` asserts equal raters per subject.
    """
    n_i, p_i, tot = _fleiss_parts(x)
    p_bar = float(p_i.mean())
    p_j = tot / n_i.sum()
    pe_bar = float((p_j**2).sum())
    return float(_fleiss_kappa_value(p_bar, pe_bar)), p_bar, pe_bar


def fleiss_kappa(counts: Any, by_category: bool = False) -> FleissResult:
    """Fleiss' (1971) kappa for many raters from a subjects x categories table of counts.

    ``x_ij`` raters put subject i in category j; ``n_i = sum_j x_ij``.
    ``P_i = sum_j x_ij (x_ij - 1) / (n_i (n_i - 1))``, ``P-bar = mean_i P_i``,
    ``p_j = sum_i x_ij / sum_i n_i``, ``Pe-bar = sum_j p_j^2``,
    ``kappa = (P-bar - Pe-bar) / (1 - Pe-bar)``.

    * Equal ``n_i``: this is Fleiss' formula (``method="statsmodels"``, the name kept for
      compatibility: statsmodels' ``fleiss_kappa`` gives the same number and is the test
      oracle, but it is not called, so that kappa is computed once, in one pass over the
      table; benchmarks/README.md).
    * Unequal ``n_i``: statsmodels assumes equal numbers of raters; the generalised form
      above (``method="generalised"``) reduces to Fleiss' when the ``n_i`` are equal.
      Every subject needs at least two ratings.
    * All ratings in one category: kappa is 0/0 (statsmodels returns NaN). Rule: we
      return 1.0, since observed agreement is perfect, and say so in ``note``;
      :func:`fleiss_bootstrap_ci` follows the same rule.

    ``by_category=True`` adds Fleiss' (1971) per-category kappas
    ``kappa_j = 1 - sum_i x_ij (n_i - x_ij) / (n_i - 1) / (sum_i n_i * p_j (1 - p_j))``
    (for equal ``n`` this is his ``1 - sum_i x_ij (n - x_ij) / (N n (n-1) p_j q_j)``);
    NaN for a category nobody used.
    """
    x, cats = _fleiss_counts(counts)
    n_i, p_i, tot = _fleiss_parts(x)
    if n_i.min() < 2:
        i = int(np.flatnonzero(n_i < 2)[0])
        raise AgreementError(
            "counts",
            f"subject row {i} has fewer than two ratings",
            "drop subjects rated fewer than twice (they carry no agreement)",
        )
    equal = bool(n_i.min() == n_i.max())
    p_bar = float(p_i.mean())
    p_j = tot / n_i.sum()
    pe_bar = float((p_j**2).sum())
    kappa = _fleiss_kappa_value(p_bar, pe_bar)
    note = ""
    if np.isclose(pe_bar, 1.0):
        note = "every rating falls in one category: kappa is 0/0; returned 1.0 (perfect observed agreement)"
    method = "statsmodels" if equal else "generalised"
    by_cat = None
    if by_category:
        xf = np.asarray(x, dtype=float)
        q_j = 1.0 - p_j
        num = (xf * (n_i[:, None] - xf) / (n_i[:, None] - 1)).sum(0)
        den = n_i.sum() * p_j * q_j
        with np.errstate(divide="ignore", invalid="ignore"):
            k_j = 1.0 - num / den
        k_j = np.where(p_j == 0, np.nan, np.where(p_j == 1, 1.0, k_j))
        by_cat = pd.DataFrame({"p": p_j, "kappa": k_j}, index=pd.Index(cats, name="category"))
    return FleissResult(
        float(kappa), p_bar, pe_bar, int(x.shape[0]), int(n_i[0]) if equal else None, method, by_cat, note
    )


def fleiss_bootstrap_ci(
    counts: Any, *, n_boot: int = 1000, confidence: float = 0.95, seed: int | None = 0, clusters: Any = None
) -> tuple[float, float, float]:
    """Fleiss' kappa with a percentile bootstrap interval over subjects: ``(kappa, low, high)``.

    Kappa is the generalised Fleiss (1971) form of :func:`fleiss_kappa`. Each of the
    ``n_boot`` replicates draws the subjects (rows of ``counts``) with replacement and
    recomputes kappa; the interval is the ``(1-confidence)/2`` and ``1-(1-confidence)/2``
    quantiles of the replicates (percentile bootstrap; Efron & Tibshirani 1993, ch. 13).
    With ``clusters`` (one label per subject, e.g. the transcript) whole clusters are drawn
    instead, which respects the dependence of units of one interview. A replicate whose
    ratings all fall in one category gets kappa 1.0, the rule of :func:`fleiss_kappa`, so
    a table with no variation gives ``(1.0, 1.0, 1.0)`` as ``fleiss_kappa`` gives 1.0. Seeded with
    ``numpy.random.default_rng(seed)``. Statsmodels gives no interval for Fleiss' kappa,
    hence this function.
    """
    if isinstance(counts, pd.DataFrame):
        counts = counts.to_numpy(dtype=float)
    x = np.asarray(counts, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise AgreementError(
            "counts", f"has shape {x.shape}", "pass a subjects x categories table with at least two rows and columns"
        )
    if not np.isfinite(x).all() or (x < 0).any():
        raise AgreementError("counts", "holds negative or missing counts", "pass whole-number counts")
    n_i = x.sum(1)
    if (n_i < 2).any():
        raise AgreementError(
            "counts", "has a subject with fewer than two ratings", "drop subjects rated fewer than twice"
        )
    if n_boot < 100:
        raise AgreementError("n_boot", f"is {n_boot}", "use at least 100 replicates")
    if not 0 < confidence < 1:
        raise AgreementError("confidence", f"is {confidence!r}", "pass a level between 0 and 1")
    n_i, p_i, _ = _fleiss_parts(x)
    est = _fleiss_generalised(x)[0]
    rng = np.random.default_rng(seed)
    if clusters is None:
        idx = rng.integers(0, len(x), size=(n_boot, len(x)))
        w = np.stack([np.bincount(r, minlength=len(x)) for r in idx]).astype(float)
    else:
        lab, uniq = pd.factorize(pd.Series(np.asarray(clusters)).astype(str))
        if len(lab) != len(x):
            raise AgreementError(
                "clusters", f"has {len(lab)} labels for {len(x)} subjects", "pass one label per subject"
            )
        k = len(uniq)
        draws = rng.integers(0, k, size=(n_boot, k))
        cw = np.stack([np.bincount(r, minlength=k) for r in draws]).astype(float)  # n_boot x clusters
        w = cw[:, lab]
    # weighted form of the generalised Fleiss kappa: subject i counted w_i times
    p_bar = (w @ p_i) / w.sum(1)
    p_j = (w @ x) / (w @ n_i)[:, None]
    pe = (p_j**2).sum(1)
    boot = _fleiss_kappa_value(p_bar, pe)
    tail = (1 - confidence) / 2
    return float(est), float(np.quantile(boot, tail)), float(np.quantile(boot, 1 - tail))
