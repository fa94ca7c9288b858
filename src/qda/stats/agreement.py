"""Intercoder reliability and agreement between two raters: percent agreement, Cohen's and Brennan-Prediger kappa.

Shared by the statistics of :mod:`qda.stats`: the error class, the result types and the
levels of measurement. Fleiss' kappa is :mod:`qda.stats.fleiss`, Krippendorff's alpha
:mod:`qda.stats.alpha`, the unitizing alphas :mod:`qda.stats.unitizing`, Gwet's AC1/AC2
and the other chance-corrected coefficients :mod:`qda.stats.coefficients`.

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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from qda.errors import QDAError

__all__ = [
    "ALL_CODES",
    "AgreementError",
    "KappaResult",
    "FleissResult",
    "LEVELS",
    "percent_agreement",
    "unit_pair_agreement",
    "cohen_kappa",
    "cohen_kappa_table",
    "brennan_prediger_kappa",
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


def factorize_frame(df: pd.DataFrame, name: str) -> np.ndarray:
    """Category codes (float, NaN = missing) for nominal data of any dtype.

    ``pandas.factorize`` over all cells at once, so equal labels get equal codes across
    raters; the form every coefficient here counts on (Krippendorff 2011, the reliability
    data matrix; :func:`percent_agreement`).
    """
    stacked = df.to_numpy(dtype=object).ravel()
    miss = pd.isna(stacked)
    codes, _ = pd.factorize(pd.Series(stacked[~miss]), sort=False)
    out = np.full(stacked.shape, np.nan)
    out[~miss] = codes
    return out.reshape(df.shape)


def equal_pairs_per_row(x: np.ndarray) -> np.ndarray:
    """Unordered pairs of equal (non-NaN) values in each row, by sorting rows.

    ``sum_c n_uc (n_uc - 1) / 2`` per unit (Fleiss 1971, the numerator of P_i); sorting each
    row and counting runs needs no categories-by-units table.
    """
    s = np.sort(x, axis=1)  # NaN sort last
    c = s.shape[1]
    idx = np.arange(c)
    same = np.zeros(s.shape, dtype=bool)
    same[:, 1:] = s[:, 1:] == s[:, :-1]  # NaN == NaN is False
    start = np.maximum.accumulate(np.where(same, 0, idx[None, :]), axis=1)
    return (idx[None, :] - start).sum(1).astype(float)


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
        codes = factorize_frame(a, "a")
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
    arr = x if isinstance(x, np.ndarray) and x.dtype.kind == "f" else factorize_frame(pd.DataFrame(x), "x")
    m = (~np.isnan(arr)).sum(1).astype(float)
    eq = equal_pairs_per_row(arr)
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
    # statsmodels is imported here, not at the top: with scipy.stats it costs about a second
    # of start-up, which every `python -m qda` command paid (they never compute kappa).
    from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

    with np.errstate(divide="ignore", invalid="ignore"):
        r = sm_cohens_kappa(table, **kw)
    kap = float(r["kappa"])
    # statsmodels takes the square root of variances that rounding leaves a hair from zero
    # (about 1e-17 either side), giving nan, 0 or 1e-8 depending on the raters' order.
    se = _root_of_variance(r["var_kappa"], n)
    se0 = _root_of_variance(r["var_kappa0"], n)
    zcrit = -special.ndtri((1 - confidence) / 2)  # the normal's upper quantile
    z = kap / se0 if se0 > 0 else float("nan")
    pval = float(2 * special.ndtr(-abs(z))) if np.isfinite(z) else float("nan")
    return KappaResult(
        kap, se, kap - zcrit * se, kap + zcrit * se, se0, float(z), pval, p_o, p_e, float(n), label, confidence
    )


def _root_of_variance(variance: float, n: float) -> float:
    """sqrt(variance), a variance within rounding of zero counting as zero (nan stays nan).

    The kappa variances are sums of terms of order 1/n; rounding leaves about machine
    epsilon / n of noise, which statsmodels' square root turns into nan (below zero) or into
    a spurious 1e-8 (above it). Anything within 64 epsilons / n of zero is zero.
    """
    v = float(variance)
    if not np.isfinite(v):
        return float("nan")
    if abs(v) <= 64 * np.finfo(float).eps / n:
        return 0.0
    return float(np.sqrt(v)) if v > 0 else float("nan")


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
