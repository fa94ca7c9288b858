"""Intercoder reliability and agreement: kappa, alpha, and agreement on coded text.

What this module computes
-------------------------
* Two raters on categories: :func:`percent_agreement`, :func:`cohen_kappa`,
  :func:`cohen_kappa_table` (unweighted and weighted kappa with the asymptotic
  standard error and confidence interval that SAS PROC FREQ reports; statsmodels'
  ``cohens_kappa`` does the arithmetic), :func:`brennan_prediger_kappa`.
* Many raters: :func:`fleiss_kappa` (our own one-pass code, the generalised form that is
  Fleiss' formula when every subject has the same number of ratings; statsmodels is the
  test oracle), and
  :func:`krippendorff_alpha` at the nominal, ordinal, interval and ratio levels with
  :func:`alpha_bootstrap_ci` (Krippendorff's bootstrap as in the KALPHA macro of
  Hayes & Krippendorff 2007).
* Coded text, the way QDA programs report it: :func:`nvivo_coding_comparison`
  (character-level agreement and kappa, NVivo's Coding Comparison query) and
  :func:`segment_overlap_agreement` (MAXQDA's segment-level agreement).
* Fixed units in the manner of Campbell et al. (2013): :func:`decision_agreement`,
  :func:`unit_decision_alpha` and :func:`campbell_reliability_agreement` (in
  :mod:`qda.analysis.reliability`).

Krippendorff's alpha is our own vectorised numpy code. The ``krippendorff`` package
is GPL-3.0 and is never imported here (tests and benchmarks compare against it).
Our code needs memory of the order of units x coders at every level: the interval
level uses sums of squares within units, the ordinal level maps each value to its
mid-rank position (which turns the ordinal metric into the interval metric on those
positions, so it is exact), and the ratio level sums the expected disagreement over
distinct values in blocks, or, for many distinct values, by a quadrature of an
integral representation; no values-by-values matrix is ever held.

Reliability or agreement: which one the book reports
----------------------------------------------------
Campbell et al. (2013) separate two things. *Intercoder reliability* is how far coders
who work independently assign the same codes to the same fixed units before they
talk; *intercoder agreement* is how far they concur after they have discussed their
differences and reconciled them. Their own measure for both is the percentage of
units on which the coders concur, computed before and after the discussion. The
study this book follows says that its team reached intercoder agreement in this
sense in its third round. The book therefore reports, for rounds 2 and 3, the
percentage of agreement over units before discussion (reliability) and after
reconciliation (agreement), the second being the figure that matches the study's
claim, and gives Krippendorff's alpha on the pre-discussion decisions alongside,
because a percentage does not correct for the agreement that rare or frequent codes
produce by chance. Alpha after reconciliation is not reported: discussion makes the
decisions dependent, which is exactly what a reliability coefficient assumes away.

References
----------
Brennan RL, Prediger DJ (1981). Coefficient kappa: some uses, misuses, and
alternatives. Educational and Psychological Measurement 41:687-699.
Campbell JL, Quincy C, Osserman J, Pedersen OK (2013). Coding in-depth
semistructured interviews. Sociological Methods & Research 42(3):294-320.
Cohen J (1960). A coefficient of agreement for nominal scales. Educational and
Psychological Measurement 20:37-46.
Cohen J (1968). Weighted kappa. Psychological Bulletin 70:213-220.
Fleiss JL (1971). Measuring nominal scale agreement among many raters.
Psychological Bulletin 76:378-382.
Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and
weighted kappa. Psychological Bulletin 72:323-327.
Hayes AF, Krippendorff K (2007). Answering the call for a standard reliability
measure for coding data. Communication Methods and Measures 1:77-89.
Krippendorff K (2011). Computing Krippendorff's alpha-reliability. Annenberg School
for Communication, departmental paper 43.
Krippendorff K (2013). Algorithm for bootstrapping a distribution of alpha.
Annenberg School for Communication.
SAS Institute. PROC FREQ, "Tests and measures of agreement" (AGREE option).
NVivo help, "Run a coding comparison query". MAXQDA manual, "Intercoder agreement".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa as _sm_cohens_kappa

from qda.errors import QDAError

__all__ = [
    "AgreementError",
    "KappaResult",
    "FleissResult",
    "AlphaBootstrap",
    "LEVELS",
    "percent_agreement",
    "unit_pair_agreement",
    "cohen_kappa",
    "cohen_kappa_table",
    "brennan_prediger_kappa",
    "fleiss_kappa",
    "fleiss_bootstrap_ci",
    "krippendorff_alpha",
    "alpha_bootstrap_ci",
    "alpha_parts",
    "pairable_pairs",
]

LEVELS = ("nominal", "ordinal", "interval", "ratio")
ALL_CODES = "(all codes)"


class AgreementError(QDAError, ValueError):
    """Bad input to an agreement statistic; a ``ValueError`` too, so either can be caught."""

    def __init__(self, argument: str, what: str, fix: str):
        super().__init__(None, argument, what, fix)


# ---------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class KappaResult:
    """Cohen's kappa (weighted or not) with its asymptotic inference.

    ``se`` is the asymptotic standard error (ASE) that SAS PROC FREQ prints (Fleiss,
    Cohen & Everitt 1969), used for the confidence interval ``kappa +- z * se``;
    ``se0`` is the standard error under kappa = 0, used for ``z`` and ``p_value``.
    ``p_observed`` and ``p_expected`` are the (weighted) observed and chance agreement.
    """

    kappa: float
    se: float
    ci_low: float
    ci_high: float
    se0: float
    z: float
    p_value: float
    p_observed: float
    p_expected: float
    n: float
    weights: str | None
    confidence: float = 0.95

    def as_series(self) -> pd.Series:
        """The result as a pandas Series (one labelled value per field)."""
        return pd.Series(self.__dict__)


@dataclass(frozen=True)
class FleissResult:
    """Fleiss' kappa with its parts: mean observed agreement ``p_bar`` and chance ``pe_bar``.

    ``by_category`` (when asked for) is a DataFrame indexed by category with the
    columns ``p`` (share of all ratings) and ``kappa`` (Fleiss 1971, per category).
    ``method`` is ``"statsmodels"`` (equal raters) or ``"generalised"`` (unequal).
    """

    kappa: float
    p_bar: float
    pe_bar: float
    n_subjects: int
    n_raters: int | None
    method: str
    by_category: pd.DataFrame | None = None
    note: str = ""


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
# Two raters
# ---------------------------------------------------------------------------
def _as_rater(x: Any, name: str) -> pd.Series:
    s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x, dtype=object) if not hasattr(x, "dtype") else x)
    if s.ndim != 1:
        raise AgreementError(name, "is not one-dimensional", "pass one rating per unit")
    return s.reset_index(drop=True)


def _two_raters(a: Any, b: Any) -> tuple[pd.Series, pd.Series]:
    sa, sb = _as_rater(a, "a"), _as_rater(b, "b")
    if len(sa) != len(sb):
        raise AgreementError(
            "a, b",
            f"have different lengths ({len(sa)} and {len(sb)})",
            "pass one rating per unit from each rater, in the same unit order",
        )
    if len(sa) == 0:
        raise AgreementError("a, b", "are empty", "pass at least one rated unit")
    miss = sa.isna() | sb.isna()
    if miss.any():
        i = int(np.flatnonzero(miss.to_numpy())[0])
        raise AgreementError(
            "a, b",
            f"unit {i} (and {int(miss.sum()) - 1} more) is not rated by both",
            "drop units not rated by both raters, or use krippendorff_alpha, which allows missing ratings",
        )
    return sa, sb


def percent_agreement(a: Any, b: Any = None) -> float:
    """Share of agreement between raters (0 to 1).

    Two raters: ``p_o = (1/N) sum_u [a_u == b_u]``.
    A DataFrame ``a`` (one row per unit, one column per rater, NaN = not rated) and
    ``b=None``: the mean over units with at least two ratings of the share of agreeing
    rater pairs, ``(1/N') sum_u sum_c n_uc (n_uc - 1) / (m_u (m_u - 1))``, Fleiss'
    (1971) P-bar, which equals the two-rater share when there are two raters.

    This mean over pairs is the one definition of agreement among more than two raters
    used throughout ``qda`` (decision agreement, Campbell reliability and agreement,
    intervals): it is the observed agreement that Fleiss' kappa, Brennan-Prediger
    (Randolph) kappa and, for complete data, Krippendorff's alpha correct for chance, so
    a percentage and the coefficient printed beside it speak of the same quantity; and,
    unlike "all raters alike", it does not fall merely because more raters were added.

    Reference: Cohen (1960) for p_o; Fleiss (1971) for P-bar.
    """
    if b is None:
        if not isinstance(a, pd.DataFrame):
            raise AgreementError("b", "is missing", "pass two rating sequences, or one DataFrame (units x raters) as a")
        codes = _factorize_frame(a, "a")
        mask = ~np.isnan(codes)
        m = mask.sum(1)
        keep = m >= 2
        if not keep.any():
            raise AgreementError(
                "a", "has no unit rated by two or more raters", "add ratings so that units are rated twice"
            )
        return float(np.nanmean(unit_pair_agreement(codes[keep])))
    sa, sb = _two_raters(a, b)
    return float((sa.to_numpy(dtype=object) == sb.to_numpy(dtype=object)).mean())


def unit_pair_agreement(x: Any) -> np.ndarray:
    """Per unit, the share of pairs of its values that agree: ``sum_c n_uc (n_uc - 1) / (m_u (m_u - 1))``.

    ``x``: units x raters, NaN = not rated (any values comparable with ``==``; category
    codes as floats are fastest). NaN for a unit with fewer than two values. The mean over
    units is :func:`percent_agreement`'s multi-rater definition (Fleiss' 1971 P_i).
    """
    arr = x if isinstance(x, np.ndarray) and x.dtype.kind == "f" else _factorize_frame(pd.DataFrame(x), "x")
    m = (~np.isnan(arr)).sum(1).astype(float)
    eq = _equal_pairs_per_row(arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m >= 2, 2.0 * eq / (m * (m - 1.0)), np.nan)


def _resolve_scores(scores: Any, categories: Sequence[Any], k: int) -> np.ndarray:
    if scores is None or (isinstance(scores, str) and scores == "rank"):
        return np.arange(k, dtype=float)
    if isinstance(scores, str) and scores == "values":
        try:
            return np.asarray([float(c) for c in categories])
        except (TypeError, ValueError):
            raise AgreementError(
                "scores",
                "is 'values' but the categories are not numbers",
                "use scores='rank' or pass one numeric score per category",
            ) from None
    arr = np.asarray(scores, dtype=float)
    if arr.shape != (k,):
        raise AgreementError("scores", f"has {arr.size} entries for {k} categories", "pass one score per category")
    return arr


def cohen_kappa_table(
    contingency: Any, weights: str | np.ndarray | None = None, *, scores: Any = None, confidence: float = 0.95
) -> KappaResult:
    """Cohen's kappa from a two-rater contingency table (rows rater 1, columns rater 2).

    With cell proportions ``p_ij``, margins ``p_i.``, ``p_.j`` and agreement weights
    ``w_ij`` (1 on the diagonal): ``p_o = sum w_ij p_ij``, ``p_e = sum w_ij p_i. p_.j``,
    ``kappa = (p_o - p_e) / (1 - p_e)``. Unweighted: ``w_ij = [i == j]`` (Cohen 1960).
    ``weights="linear"``: ``w_ij = 1 - |s_i - s_j| / (s_max - s_min)`` (Cicchetti-Allison,
    SAS's default weighted kappa); ``"quadratic"``: ``1 - (s_i - s_j)^2 / (s_max - s_min)^2``
    (Fleiss-Cohen; Cohen 1968). Scores ``s`` default to the ranks 0..k-1 of the
    categories in table order (R ``irr::kappa2`` "equal"/"squared" weights on the
    observed levels; SAS with equally spaced scores). A 2-D array is taken as
    *disagreement* weights, as statsmodels does; they must lie in [0, 1] with 0 on the
    diagonal, else an :class:`AgreementError` is raised rather than rescaling silently
    (unscaled weights leave kappa unchanged but give a negative ``p_expected`` and wrong
    standard errors).

    Standard errors: ``se`` is the asymptotic standard error of Fleiss, Cohen & Everitt
    (1969) that SAS PROC FREQ prints as ASE, and the interval is ``kappa +- z se``;
    ``se0`` is the standard error under the null kappa = 0 behind ``z`` and ``p_value``.
    statsmodels' ``cohens_kappa`` does the arithmetic (checked against SAS output).
    """
    table = np.asarray(contingency.to_numpy() if isinstance(contingency, pd.DataFrame) else contingency, dtype=float)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise AgreementError(
            "contingency",
            f"has shape {table.shape}, not square",
            "pass a k x k table with the same categories in rows and columns",
        )
    if not np.isfinite(table).all() or (table < 0).any():
        raise AgreementError("contingency", "holds negative or missing counts", "pass non-negative counts")
    n = table.sum()
    if n <= 0:
        raise AgreementError("contingency", "is empty (all counts zero)", "pass a table of observed counts")
    if not 0 < confidence < 1:
        raise AgreementError("confidence", f"is {confidence!r}", "pass a level between 0 and 1, e.g. 0.95")
    k = table.shape[0]
    cats = list(contingency.index) if isinstance(contingency, pd.DataFrame) else list(range(k))
    label: str | None
    if weights is None:
        label = None
        kw: dict[str, Any] = {}
        w_dis = 1.0 - np.eye(k)
    elif isinstance(weights, str):
        if weights not in ("linear", "quadratic"):
            raise AgreementError("weights", f"is {weights!r}", "use None, 'linear' or 'quadratic'")
        s = _resolve_scores(scores, cats, k)
        if k < 2 or s.max() == s.min():
            raise AgreementError("scores", "give every category the same score", "pass at least two distinct scores")
        label = weights
        kw = {"weights": s, "wt": weights}
        d = np.abs(s[:, None] - s[None, :]) / (s[-1] - s[0])
        w_dis = d if weights == "linear" else d**2
    else:
        w_dis = np.asarray(weights, dtype=float)
        if w_dis.shape != (k, k):
            raise AgreementError("weights", f"has shape {w_dis.shape} for a {k} x {k} table", "pass a k x k matrix")
        if not np.isfinite(w_dis).all() or (w_dis < 0).any() or (w_dis > 1).any() or (np.diag(w_dis) != 0).any():
            raise AgreementError(
                "weights",
                f"are not disagreement weights scaled to 0-1 with 0 on the diagonal "
                f"(range {np.nanmin(w_dis):g} to {np.nanmax(w_dis):g}, diagonal max {np.nanmax(np.abs(np.diag(w_dis))):g})",
                "divide the matrix by its largest entry (kappa is unchanged; p_observed, p_expected "
                "and the standard errors need the 0-1 scale)",
            )
        label = "custom"
        kw = {"weights": w_dis}
    p = table / n
    pe_cells = np.outer(p.sum(1), p.sum(0))
    p_o = float(((1 - w_dis) * p).sum())
    p_e = float(((1 - w_dis) * pe_cells).sum())
    if np.isclose(p_e, 1.0):
        # No variation in the margins: kappa is 0/0. We follow the convention that
        # perfect observed agreement with degenerate margins is kappa = 1.
        kap = 1.0 if np.isclose(p_o, 1.0) else float("nan")
        nan = float("nan")
        return KappaResult(kap, nan, nan, nan, nan, nan, nan, p_o, p_e, float(n), label, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = _sm_cohens_kappa(table, **kw)
    kap = float(r["kappa"])
    se = float(r["std_kappa"])
    se0 = float(r["std_kappa0"])
    zcrit = stats.norm.isf((1 - confidence) / 2)
    z = kap / se0 if se0 > 0 else float("nan")
    pval = float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
    return KappaResult(
        kap, se, kap - zcrit * se, kap + zcrit * se, se0, float(z), pval, p_o, p_e, float(n), label, confidence
    )


def cohen_kappa(
    a: Any,
    b: Any,
    weights: str | np.ndarray | None = None,
    *,
    categories: Sequence[Any] | None = None,
    scores: Any = "rank",
    confidence: float = 0.95,
) -> KappaResult:
    """Cohen's kappa for two raters who rated the same units (Cohen 1960; weighted, Cohen 1968).

    Builds the k x k contingency table over ``categories`` (default: the sorted union
    of the observed ratings, as R ``irr::kappa2`` does) and calls
    :func:`cohen_kappa_table`, which gives the formula. ``scores``: ``"rank"`` (default,
    0..k-1 in category order: ``irr::kappa2``'s rule, which weights by the rank of the
    observed levels, not their numeric values), ``"values"`` (the numeric category
    values, as SAS does for numeric variables), or one number per category.
    Units not rated by both raters raise an error rather than being dropped.
    """
    sa, sb = _two_raters(a, b)
    if categories is None:
        obs = pd.unique(pd.concat([sa, sb], ignore_index=True))
        try:
            cats = sorted(obs)
        except TypeError:
            cats = list(obs)
    else:
        cats = list(categories)
        unknown = set(pd.unique(pd.concat([sa, sb]))) - set(cats)
        if unknown:
            raise AgreementError(
                "categories",
                f"lacks the observed rating(s) {sorted(map(str, unknown))}",
                "list every category that occurs",
            )
    # vectorised category codes (a Python dict lookup per rating was the slow part)
    ia = pd.Categorical(sa, categories=cats).codes.astype(np.int64)
    ib = pd.Categorical(sb, categories=cats).codes.astype(np.int64)
    k = len(cats)
    table = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k)
    frame = pd.DataFrame(table, index=cats, columns=cats)
    return cohen_kappa_table(frame, weights, scores=scores, confidence=confidence)


def brennan_prediger_kappa(a: Any, b: Any = None, n_categories: int | None = None) -> float:
    """Brennan & Prediger's (1981) kappa: chance agreement fixed at one over the categories.

    ``kappa_BP = (p_o - 1/q) / (1 - 1/q)``, with ``p_o`` from :func:`percent_agreement`
    (two raters, or a units x raters DataFrame) and ``q`` the number of categories
    available to the raters (default: the number of distinct observed ratings; pass
    the codebook's count when some categories went unused; a count below the number of
    observed categories is an error). For many raters this is Randolph's (2005)
    free-marginal kappa.
    """
    p_o = percent_agreement(a, b)
    vals = a.stack() if isinstance(a, pd.DataFrame) else pd.concat([_as_rater(a, "a"), _as_rater(b, "b")])
    observed = int(pd.Series(vals).dropna().nunique())
    if n_categories is None:
        q = observed
    else:
        q = int(n_categories)
        if q < observed:
            raise AgreementError(
                "n_categories",
                f"is {q} but the ratings use {observed} distinct categories",
                f"pass the number of categories the raters could choose from (at least {observed})",
            )
    if q < 2:
        raise AgreementError(
            "n_categories", f"is {q}", "chance agreement needs at least two categories; pass n_categories"
        )
    return float((p_o - 1.0 / q) / (1.0 - 1.0 / q))


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


# ---------------------------------------------------------------------------
# Krippendorff's alpha (own implementation; see module docstring)
# ---------------------------------------------------------------------------
_RATIO_EXACT_MAX_VALUES = 4096  # above this many distinct values the ratio D_e uses quadrature


def _factorize_frame(df: pd.DataFrame, name: str) -> np.ndarray:
    """Category codes (float, NaN = missing) for nominal data of any dtype."""
    stacked = df.to_numpy(dtype=object).ravel()
    miss = pd.isna(stacked)
    codes, _ = pd.factorize(pd.Series(stacked[~miss]), sort=False)
    out = np.full(stacked.shape, np.nan)
    out[~miss] = codes
    return out.reshape(df.shape)


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
            return _factorize_frame(df, "reliability_data")
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


def _equal_pairs_per_row(x: np.ndarray) -> np.ndarray:
    """Unordered pairs of equal (non-NaN) values in each row, by sorting rows."""
    s = np.sort(x, axis=1)  # NaN sort last
    c = s.shape[1]
    idx = np.arange(c)
    same = np.zeros(s.shape, dtype=bool)
    same[:, 1:] = s[:, 1:] == s[:, :-1]  # NaN == NaN is False
    start = np.maximum.accumulate(np.where(same, 0, idx[None, :]), axis=1)
    return (idx[None, :] - start).sum(1).astype(float)


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
            eq = _equal_pairs_per_row(x)
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
