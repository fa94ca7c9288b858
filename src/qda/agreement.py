"""Intercoder reliability and agreement: kappa, alpha, and agreement on coded text.

What this module computes
-------------------------
* Two raters on categories: :func:`percent_agreement`, :func:`cohen_kappa`,
  :func:`cohen_kappa_table` (unweighted and weighted kappa with the asymptotic
  standard error and confidence interval that SAS PROC FREQ reports; statsmodels'
  ``cohens_kappa`` does the arithmetic), :func:`brennan_prediger_kappa`.
* Many raters: :func:`fleiss_kappa` (statsmodels underneath when every subject has
  the same number of ratings; our own generalised form otherwise), and
  :func:`krippendorff_alpha` at the nominal, ordinal, interval and ratio levels with
  :func:`alpha_bootstrap_ci` (Krippendorff's bootstrap as in the KALPHA macro of
  Hayes & Krippendorff 2007).
* Coded text, the way QDA programs report it: :func:`nvivo_coding_comparison`
  (character-level agreement and kappa, NVivo's Coding Comparison query) and
  :func:`segment_overlap_agreement` (MAXQDA's segment-level agreement).
* Fixed units in the manner of Campbell et al. (2013): :func:`decision_agreement`,
  :func:`unitized_alpha` and :func:`campbell_reliability_agreement`.

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
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa as _sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as _sm_fleiss_kappa

from .errors import QDAError

__all__ = [
    "AgreementError", "KappaResult", "FleissResult", "AlphaBootstrap",
    "percent_agreement", "cohen_kappa", "cohen_kappa_table", "brennan_prediger_kappa",
    "fleiss_kappa", "krippendorff_alpha", "alpha_bootstrap_ci",
    "nvivo_coding_comparison", "segment_overlap_agreement", "decision_agreement",
    "unitized_alpha", "campbell_reliability_agreement", "decision_matrix", "fleiss_bootstrap_ci",
    "reliability_with_ci", "agreement_by_unit_choice", "UNIT_CHOICES",
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
        raise AgreementError("a, b", f"have different lengths ({len(sa)} and {len(sb)})",
                             "pass one rating per unit from each rater, in the same unit order")
    if len(sa) == 0:
        raise AgreementError("a, b", "are empty", "pass at least one rated unit")
    miss = sa.isna() | sb.isna()
    if miss.any():
        i = int(np.flatnonzero(miss.to_numpy())[0])
        raise AgreementError("a, b", f"unit {i} (and {int(miss.sum()) - 1} more) is not rated by both",
                             "drop units not rated by both raters, or use krippendorff_alpha, which allows missing ratings")
    return sa, sb


def percent_agreement(a: Any, b: Any = None) -> float:
    """Share of agreement between raters (0 to 1).

    Two raters: ``p_o = (1/N) sum_u [a_u == b_u]``.
    A DataFrame ``a`` (one row per unit, one column per rater, NaN = not rated) and
    ``b=None``: the mean over units with at least two ratings of the share of agreeing
    rater pairs, ``(1/N') sum_u sum_c n_uc (n_uc - 1) / (m_u (m_u - 1))``, Fleiss'
    (1971) P-bar, which equals the two-rater share when there are two raters.

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
            raise AgreementError("a", "has no unit rated by two or more raters", "add ratings so that units are rated twice")
        eq = _equal_pairs_per_row(codes[keep])
        mk = m[keep]
        return float(np.mean(2.0 * eq / (mk * (mk - 1.0))))
    sa, sb = _two_raters(a, b)
    return float((sa.to_numpy(dtype=object) == sb.to_numpy(dtype=object)).mean())


def _resolve_scores(scores: Any, categories: Sequence[Any], k: int) -> np.ndarray:
    if scores is None or (isinstance(scores, str) and scores == "rank"):
        return np.arange(k, dtype=float)
    if isinstance(scores, str) and scores == "values":
        try:
            return np.asarray([float(c) for c in categories])
        except (TypeError, ValueError):
            raise AgreementError("scores", "is 'values' but the categories are not numbers",
                                 "use scores='rank' or pass one numeric score per category") from None
    arr = np.asarray(scores, dtype=float)
    if arr.shape != (k,):
        raise AgreementError("scores", f"has {arr.size} entries for {k} categories", "pass one score per category")
    return arr


def cohen_kappa_table(contingency: Any, weights: str | np.ndarray | None = None, *,
                      scores: Any = None, confidence: float = 0.95) -> KappaResult:
    """Cohen's kappa from a two-rater contingency table (rows rater 1, columns rater 2).

    With cell proportions ``p_ij``, margins ``p_i.``, ``p_.j`` and agreement weights
    ``w_ij`` (1 on the diagonal): ``p_o = sum w_ij p_ij``, ``p_e = sum w_ij p_i. p_.j``,
    ``kappa = (p_o - p_e) / (1 - p_e)``. Unweighted: ``w_ij = [i == j]`` (Cohen 1960).
    ``weights="linear"``: ``w_ij = 1 - |s_i - s_j| / (s_max - s_min)`` (Cicchetti-Allison,
    SAS's default weighted kappa); ``"quadratic"``: ``1 - (s_i - s_j)^2 / (s_max - s_min)^2``
    (Fleiss-Cohen; Cohen 1968). Scores ``s`` default to the ranks 0..k-1 of the
    categories in table order (R ``irr::kappa2`` "equal"/"squared" weights on the
    observed levels; SAS with equally spaced scores). A 2-D array is taken as
    *disagreement* weights (0 on the diagonal), as statsmodels does.

    Standard errors: ``se`` is the asymptotic standard error of Fleiss, Cohen & Everitt
    (1969) that SAS PROC FREQ prints as ASE, and the interval is ``kappa +- z se``;
    ``se0`` is the standard error under the null kappa = 0 behind ``z`` and ``p_value``.
    statsmodels' ``cohens_kappa`` does the arithmetic (checked against SAS output).
    """
    table = np.asarray(contingency.to_numpy() if isinstance(contingency, pd.DataFrame) else contingency, dtype=float)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise AgreementError("contingency", f"has shape {table.shape}, not square",
                             "pass a k x k table with the same categories in rows and columns")
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
    return KappaResult(kap, se, kap - zcrit * se, kap + zcrit * se, se0, float(z), pval,
                       p_o, p_e, float(n), label, confidence)


def cohen_kappa(a: Any, b: Any, weights: str | np.ndarray | None = None, *,
                categories: Sequence[Any] | None = None, scores: Any = "rank",
                confidence: float = 0.95) -> KappaResult:
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
            raise AgreementError("categories", f"lacks the observed rating(s) {sorted(map(str, unknown))}",
                                 "list every category that occurs")
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
    the codebook's count when some categories went unused). For many raters this is
    Randolph's (2005) free-marginal kappa.
    """
    p_o = percent_agreement(a, b)
    if n_categories is None:
        vals = a.stack() if isinstance(a, pd.DataFrame) else pd.concat([_as_rater(a, "a"), _as_rater(b, "b")])
        q = int(pd.Series(vals).dropna().nunique())
    else:
        q = int(n_categories)
    if q < 2:
        raise AgreementError("n_categories", f"is {q}", "chance agreement needs at least two categories; pass n_categories")
    return float((p_o - 1.0 / q) / (1.0 - 1.0 / q))


# ---------------------------------------------------------------------------
# Fleiss
# ---------------------------------------------------------------------------
def _fleiss_generalised(x: np.ndarray) -> tuple[float, float, float]:
    """(kappa, P-bar, Pe-bar) of the generalised Fleiss form for any numbers of raters.

    Hand-written because statsmodels' ``fleiss_kappa`` asserts equal raters per subject.
    """
    n_i = x.sum(1)
    p_i = (x * (x - 1)).sum(1) / (n_i * (n_i - 1))
    p_bar = float(p_i.mean())
    p_j = x.sum(0) / n_i.sum()
    pe_bar = float((p_j**2).sum())
    kappa = (p_bar - pe_bar) / (1.0 - pe_bar) if pe_bar < 1.0 else float("nan")
    return float(kappa), p_bar, pe_bar


def fleiss_kappa(counts: Any, by_category: bool = False) -> FleissResult:
    """Fleiss' (1971) kappa for many raters from a subjects x categories table of counts.

    ``x_ij`` raters put subject i in category j; ``n_i = sum_j x_ij``.
    ``P_i = sum_j x_ij (x_ij - 1) / (n_i (n_i - 1))``, ``P-bar = mean_i P_i``,
    ``p_j = sum_i x_ij / sum_i n_i``, ``Pe-bar = sum_j p_j^2``,
    ``kappa = (P-bar - Pe-bar) / (1 - Pe-bar)``.

    * Equal ``n_i``: this is Fleiss' formula, and statsmodels' ``fleiss_kappa``
      computes kappa (``method="statsmodels"``).
    * Unequal ``n_i``: statsmodels assumes equal numbers of raters, so we compute the
      generalised form above ourselves (``method="generalised"``), which reduces to
      Fleiss' when the ``n_i`` are equal. Every subject needs at least two ratings.
    * All ratings in one category: kappa is 0/0 (statsmodels returns NaN). Rule: we
      return 1.0, since observed agreement is perfect, and say so in ``note``.

    ``by_category=True`` adds Fleiss' (1971) per-category kappas
    ``kappa_j = 1 - sum_i x_ij (n_i - x_ij) / (n_i - 1) / (sum_i n_i * p_j (1 - p_j))``
    (for equal ``n`` this is his ``1 - sum_i x_ij (n - x_ij) / (N n (n-1) p_j q_j)``);
    NaN for a category nobody used.
    """
    if isinstance(counts, pd.DataFrame):
        cats = list(counts.columns)
        x = counts.to_numpy(dtype=float)
    else:
        x = np.asarray(counts, dtype=float)
        cats = list(range(x.shape[1])) if x.ndim == 2 else []
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise AgreementError("counts", f"has shape {x.shape}", "pass a subjects x categories table of rating counts")
    if not np.isfinite(x).all() or (x < 0).any() or (x != np.round(x)).any():
        raise AgreementError("counts", "holds negative, missing or fractional counts", "pass whole-number counts")
    n_i = x.sum(1)
    if (n_i < 2).any():
        i = int(np.flatnonzero(n_i < 2)[0])
        raise AgreementError("counts", f"subject row {i} has fewer than two ratings",
                             "drop subjects rated fewer than twice (they carry no agreement)")
    equal = bool((n_i == n_i[0]).all())
    gen_kappa, p_bar, pe_bar = _fleiss_generalised(x)
    p_j = x.sum(0) / n_i.sum()
    note = ""
    if np.isclose(pe_bar, 1.0):
        kappa = 1.0
        note = "every rating falls in one category: kappa is 0/0; returned 1.0 (perfect observed agreement)"
    elif equal:
        kappa = float(_sm_fleiss_kappa(x, method="fleiss"))
    else:
        kappa = gen_kappa
    method = "statsmodels" if equal else "generalised"
    by_cat = None
    if by_category:
        q_j = 1.0 - p_j
        num = (x * (n_i[:, None] - x) / (n_i[:, None] - 1)).sum(0)
        den = n_i.sum() * p_j * q_j
        with np.errstate(divide="ignore", invalid="ignore"):
            k_j = 1.0 - num / den
        k_j = np.where(p_j == 0, np.nan, np.where(p_j == 1, 1.0, k_j))
        by_cat = pd.DataFrame({"p": p_j, "kappa": k_j}, index=pd.Index(cats, name="category"))
    return FleissResult(float(kappa), p_bar, pe_bar, int(x.shape[0]), int(n_i[0]) if equal else None,
                        method, by_cat, note)


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
            raise AgreementError("reliability_data", f"has {arr.ndim} dimension(s)",
                                 "pass a DataFrame with one row per unit and one column per coder")
        df = pd.DataFrame(arr)
    if df.shape[1] < 2:
        raise AgreementError("reliability_data", f"has {df.shape[1]} coder column(s)", "pass at least two coders (columns)")
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
                raise AgreementError("reliability_data", "has ordered categoricals with different categories",
                                     "give every coder column the same ordered categories")
            codes = np.column_stack([df[c].cat.codes.to_numpy() for c in df.columns]).astype(float)
            codes[codes < 0] = np.nan
            return codes
        raise AgreementError("reliability_data", f"holds non-numeric values at the {level} level",
                             "use level='nominal', numeric codes, or (ordinal) ordered categoricals")
    if np.isinf(x).any():
        raise AgreementError("reliability_data", "holds infinite values", "replace them with NaN (not coded) or a value")
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
            d = _ratio_delta(values[i:i + step, None], values[None, :])
            total += float((counts[i:i + step, None] * d * counts[None, :]).sum())
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


def _alpha_parts(x: np.ndarray, level: str, *, ratio_exact_max: int = _RATIO_EXACT_MAX_VALUES
                 ) -> tuple[float, float, float, int]:
    """(alpha, D_o, D_e, n) for a units x coders float matrix (NaN = missing)."""
    mask = ~np.isnan(x)
    m_all = mask.sum(1)
    keep = m_all >= 2
    if not keep.any():
        raise AgreementError("reliability_data", "has no pairable values (no unit coded by two or more coders)",
                             "add units that at least two coders coded")
    x = x[keep]
    mask = mask[keep]
    m = m_all[keep].astype(float)
    vals = x[mask]
    n = float(vals.size)
    if level == "ratio" and (vals < 0).any():
        raise AgreementError("reliability_data", "holds negative values at the ratio level",
                             "the ratio metric needs values >= 0; use level='interval'")
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
    return _alpha_parts(x, level)[0]


def alpha_bootstrap_ci(reliability_data: Any, level: str = "nominal", *, n_boot: int = 20_000,
                       confidence: float = 0.95, alpha_min: Sequence[float] = (0.667, 0.8),
                       seed: int | None = 0, n_draws: int | None = None) -> AlphaBootstrap:
    """Bootstrap confidence interval for Krippendorff's alpha and q = P(alpha < alpha_min).

    Krippendorff's (2013) algorithm, used by the KALPHA macro of Hayes & Krippendorff
    (2007): pairs of pairable values are drawn with replacement in proportion to their
    coincidences, i.e. an ordered pair (i, j) of values in unit u with probability
    ``1 / (n (m_u - 1))``; ``M`` pairs per replicate, ``M = min(25 e, n (m - 1) / 2)``
    where ``e`` is the number of non-empty cells of the coincidence matrix and ``m`` the
    number of coders. Each replicate gives ``alpha* = 1 - sum delta / (M D_e)`` with the
    metric and ``D_e`` of the full data. As in the macro, replicates below -1 are set to
    -1 and, when ``alpha* = 1`` occurs, up to ``round(n_boot * sum_c p_cc^M)`` of them
    (the replicates expected to contain only one kind of agreement, for which alpha is
    undefined) are set to 0, all of them when only one value ever agrees.
    The interval is the ``(1-confidence)/2`` and ``1-(1-confidence)/2`` order statistics;
    ``q[a] = share of alpha* < a``. Seeded with ``numpy.random.default_rng(seed)``.
    """
    x = _reliability_matrix(reliability_data, level)
    est, _d_o, d_e, n = _alpha_parts(x, level)
    if not np.isfinite(est):
        raise AgreementError("reliability_data", "has no variation in its pairable values, so alpha is undefined",
                             "bootstrap data whose values vary")
    if n_boot < 100:
        raise AgreementError("n_boot", f"is {n_boot}", "use at least 100 replicates (KALPHA uses 1000 or more)")
    if not 0 < confidence < 1:
        raise AgreementError("confidence", f"is {confidence!r}", "pass a level between 0 and 1")
    n_coders = x.shape[1]
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
        pa.append(a[ok]); pb.append(b[ok]); pw.append(2.0 / (m[rows] - 1))
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
        n_draws = int(min(25 * e_cells, round(n * (n_coders - 1) / 2)))
    n_draws = max(int(n_draws), 1)
    rng = np.random.default_rng(seed)
    cum = np.cumsum(prob)
    cum[-1] = 1.0
    boot = np.empty(n_boot)
    chunk = max(1, 4_000_000 // n_draws)
    for i in range(0, n_boot, chunk):
        k = min(chunk, n_boot - i)
        idx = np.searchsorted(cum, rng.random((k, n_draws)), side="right")
        boot[i:i + k] = 1.0 - delta[idx].sum(1) / (n_draws * d_e)
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
                boot[n_boot - nx:] = 0.0 if nx > 0 else boot[n_boot - nx:]
    boot.sort()
    tail = (1 - confidence) / 2
    lo = boot[max(int(tail * n_boot), 1) - 1]
    hi = boot[min(int(math.floor((1 - tail) * n_boot)), n_boot - 1)]
    q = {float(a): float((boot < a).mean()) for a in alpha_min}
    return AlphaBootstrap(est, float(lo), float(hi), confidence, q, int(n_boot), n_draws, seed, level, boot)


# ---------------------------------------------------------------------------
# Coded text: NVivo and MAXQDA
# ---------------------------------------------------------------------------
_CODING_COLS = ["transcript_id", "coder", "code", "start", "end"]


def _check_codings(codings: pd.DataFrame, coders: Sequence[str]) -> pd.DataFrame:
    if not isinstance(codings, pd.DataFrame):
        raise AgreementError("codings", "is not a DataFrame", "pass the codings table of qda.SCHEMAS['codings']")
    miss = [c for c in _CODING_COLS if c not in codings.columns]
    if miss:
        raise AgreementError("codings", f"lacks column(s) {', '.join(miss)}", "pass the codings table of qda.SCHEMAS['codings']")
    present = set(codings["coder"].astype(str))
    for c in coders:
        if c not in present:
            raise AgreementError("coder", f"{c!r} has no codings", f"use one of {sorted(present)}")
    sub = codings.loc[codings["coder"].astype(str).isin(list(coders)), _CODING_COLS].copy()
    sub["transcript_id"] = sub["transcript_id"].astype(str)
    sub["code"] = sub["code"].astype(str)
    sub["coder"] = sub["coder"].astype(str)
    st, en = sub["start"].to_numpy(np.int64), sub["end"].to_numpy(np.int64)
    bad = (st < 0) | (en <= st)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AgreementError("codings", f"row {sub.index[i]} has start={st[i]}, end={en[i]}",
                             "every coding needs 0 <= start < end")
    return sub.reset_index(drop=True)


def _both_coded(sub: pd.DataFrame, coder_a: str, coder_b: str) -> list[str]:
    ta = set(sub.loc[sub["coder"] == coder_a, "transcript_id"])
    tb = set(sub.loc[sub["coder"] == coder_b, "transcript_id"])
    return sorted(ta & tb)


def nvivo_coding_comparison(codings: pd.DataFrame, transcripts: pd.DataFrame, coder_a: str, coder_b: str, *,
                            codes: Sequence[str] | None = None, by: str = "transcript") -> pd.DataFrame:
    """Character-level agreement and kappa per code and transcript, as NVivo reports them.

    NVivo's Coding Comparison query treats each character of a source as a unit: for
    code c in transcript t with ``N`` characters, let ``A`` and ``B`` be the characters
    each coder coded with c (overlapping codings of one coder merged). Then
    ``percent_agreement = 100 (|A and B| + |neither|) / N`` and, with
    ``p_o = (|A and B| + |neither|)/N`` and
    ``p_e = (|A|/N)(|B|/N) + (1 - |A|/N)(1 - |B|/N)``, ``kappa = (p_o - p_e)/(1 - p_e)``;
    when the coders agree on every character kappa is 1 (NVivo's rule).
    Rows: every code (``codes`` or all codes either coder used) times every transcript
    both coders coded (at least one coding each). ``by="code"`` pools the characters of
    all those transcripts per code before computing the two figures.

    Computed with interval arithmetic: boundary events sorted per (code, transcript),
    cumulative coverage counts and ``np.diff`` of positions (no per-character loop).

    Returns columns ``code, transcript_id, n_chars, a_and_b, a_only, b_only, neither,
    percent_agreement, kappa`` (``transcript_id`` omitted when ``by="code"``).
    Reference: NVivo help, "Run a coding comparison query" (how agreement and kappa are
    calculated); Cohen (1960).
    """
    if by not in ("transcript", "code"):
        raise AgreementError("by", f"is {by!r}", "use 'transcript' or 'code'")
    sub = _check_codings(codings, [coder_a, coder_b])
    if "transcript_id" not in transcripts.columns or not {"n_chars", "text"} & set(transcripts.columns):
        raise AgreementError("transcripts", "lacks transcript_id and n_chars (or text)", "pass the transcripts table of a Study")
    t_ids = _both_coded(sub, coder_a, coder_b)
    tr = transcripts.assign(transcript_id=transcripts["transcript_id"].astype(str)).drop_duplicates("transcript_id")
    lengths = (tr.set_index("transcript_id")["n_chars"] if "n_chars" in tr.columns
               else tr.set_index("transcript_id")["text"].str.len())
    missing = [t for t in t_ids if t not in lengths.index]
    if missing:
        raise AgreementError("transcripts", f"lacks transcript(s) {missing[:3]}", "pass every transcript the codings refer to")
    code_list = sorted(set(sub["code"])) if codes is None else list(codes)
    t_len = lengths.reindex(t_ids).to_numpy(np.int64)
    sub = sub.loc[sub["transcript_id"].isin(t_ids) & sub["code"].isin(code_list)]
    t_pos = pd.Index(t_ids).get_indexer(sub["transcript_id"])
    over = sub["end"].to_numpy(np.int64) > t_len[t_pos]
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise AgreementError("codings", f"a coding in {sub['transcript_id'].iloc[i]} ends at {sub['end'].iloc[i]}, "
                             f"beyond the transcript's {t_len[t_pos[i]]} characters", "fix the offsets")
    n_t, n_c = len(t_ids), len(code_list)
    g = pd.Index(code_list).get_indexer(sub["code"]) * n_t + t_pos
    is_a = (sub["coder"] == coder_a).to_numpy()
    st, en = sub["start"].to_numpy(np.int64), sub["end"].to_numpy(np.int64)
    ev_g = np.concatenate([g, g])
    ev_pos = np.concatenate([st, en])
    ev_da = np.concatenate([is_a, -is_a.astype(int)]).astype(np.int64)
    ev_db = np.concatenate([~is_a, -(~is_a).astype(int)]).astype(np.int64)
    order = np.lexsort((ev_pos, ev_g))
    ev_g, ev_pos, ev_da, ev_db = ev_g[order], ev_pos[order], ev_da[order], ev_db[order]
    cov_a = np.cumsum(ev_da) > 0  # each group's deltas sum to zero, so a global cumsum is per group
    cov_b = np.cumsum(ev_db) > 0
    seg = np.zeros(len(ev_pos))
    if len(ev_pos) > 1:
        same = ev_g[1:] == ev_g[:-1]
        seg[:-1] = np.where(same, np.diff(ev_pos), 0)
    n_groups = n_c * n_t
    len_a = np.bincount(ev_g, weights=seg * cov_a, minlength=n_groups)
    len_b = np.bincount(ev_g, weights=seg * cov_b, minlength=n_groups)
    both = np.bincount(ev_g, weights=seg * (cov_a & cov_b), minlength=n_groups)
    out = pd.DataFrame({
        "code": np.repeat(code_list, n_t),
        "transcript_id": np.tile(t_ids, n_c),
        "n_chars": np.tile(t_len, n_c).astype(np.int64),
        "a_and_b": both.astype(np.int64),
        "a_only": (len_a - both).astype(np.int64),
        "b_only": (len_b - both).astype(np.int64),
    })
    if by == "code":
        out = out.groupby("code", sort=False, as_index=False)[["n_chars", "a_and_b", "a_only", "b_only"]].sum()
    out["neither"] = out["n_chars"] - out["a_and_b"] - out["a_only"] - out["b_only"]
    n = out["n_chars"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = (out["a_and_b"] + out["neither"]).to_numpy(float) / n
        pa = (out["a_and_b"] + out["a_only"]).to_numpy(float) / n
        pb = (out["a_and_b"] + out["b_only"]).to_numpy(float) / n
        p_e = pa * pb + (1 - pa) * (1 - pb)
        kap = (p_o - p_e) / (1 - p_e)
    out["percent_agreement"] = 100.0 * p_o
    out["kappa"] = np.where(np.isclose(p_o, 1.0), 1.0, kap)
    return out.reset_index(drop=True)


def segment_overlap_agreement(codings: pd.DataFrame, coder_a: str, coder_b: str, min_overlap: float = 0.9, *,
                              codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Segment-level agreement per code, as MAXQDA's Intercoder Agreement reports it.

    Rule: a segment of one coder is *matched* when the other coder has a segment of the
    same code in the same transcript whose overlap with it is at least ``min_overlap``
    of the two segments' combined extent: ``|S1 and S2| / (max(end) - min(start)) >=
    min_overlap``, the share of the total area of both segments that MAXQDA's manual
    describes. Both directions are checked (A's segments against B's and B's against
    A's), over the transcripts both coders coded.

    Per code: ``agreements = matched_a + matched_b``, ``disagreements = unmatched_a +
    unmatched_b``, ``percent_agreement = 100 agreements / (agreements + disagreements)``.
    Kappa as MAXQDA computes it for segments, where the "neither coded" cell does not
    exist: ``P_obs = agreements / total`` and chance by Brennan & Prediger (1981),
    ``P_chance = 1 / q`` with ``q`` the number of codes in the table, so
    ``kappa = (P_obs - 1/q) / (1 - 1/q)``. The last row, code ``"(all codes)"``, sums
    the counts of all codes.

    Returns columns ``code, a_segments, a_matched, b_segments, b_matched, agreements,
    disagreements, percent_agreement, kappa``.
    """
    if not 0 < float(min_overlap) <= 1:
        raise AgreementError("min_overlap", f"is {min_overlap!r}", "pass a share in (0, 1], e.g. 0.9")
    sub = _check_codings(codings, [coder_a, coder_b])
    t_ids = _both_coded(sub, coder_a, coder_b)
    sub = sub.loc[sub["transcript_id"].isin(t_ids)]
    code_list = sorted(set(sub["code"])) if codes is None else list(codes)
    sub = sub.loc[sub["code"].isin(code_list)]
    a = sub.loc[sub["coder"] == coder_a, ["transcript_id", "code", "start", "end"]].reset_index(drop=True)
    b = sub.loc[sub["coder"] == coder_b, ["transcript_id", "code", "start", "end"]].reset_index(drop=True)
    a["ia"] = np.arange(len(a))
    b["ib"] = np.arange(len(b))
    # candidate pairs only within (transcript, code): the segments of one code in one
    # transcript are few, so this merge stays small
    pairs = a.merge(b, on=["transcript_id", "code"], suffixes=("_a", "_b"))
    inter = (np.minimum(pairs["end_a"], pairs["end_b"]) - np.maximum(pairs["start_a"], pairs["start_b"])).clip(lower=0)
    span = np.maximum(pairs["end_a"], pairs["end_b"]) - np.minimum(pairs["start_a"], pairs["start_b"])
    ok = (inter > 0) & (inter >= min_overlap * span - 1e-12)
    a_hit = np.zeros(len(a), bool)
    b_hit = np.zeros(len(b), bool)
    a_hit[pairs.loc[ok, "ia"].to_numpy()] = True
    b_hit[pairs.loc[ok, "ib"].to_numpy()] = True
    a["hit"], b["hit"] = a_hit, b_hit
    ga = a.groupby("code")["hit"].agg(["size", "sum"]).reindex(code_list, fill_value=0)
    gb = b.groupby("code")["hit"].agg(["size", "sum"]).reindex(code_list, fill_value=0)
    out = pd.DataFrame({
        "code": code_list,
        "a_segments": ga["size"].to_numpy(np.int64), "a_matched": ga["sum"].to_numpy(np.int64),
        "b_segments": gb["size"].to_numpy(np.int64), "b_matched": gb["sum"].to_numpy(np.int64),
    })
    total = out.drop(columns="code").sum()
    out = pd.concat([out, pd.DataFrame([{"code": ALL_CODES, **total.to_dict()}])], ignore_index=True)
    out["agreements"] = out["a_matched"] + out["b_matched"]
    out["disagreements"] = out["a_segments"] + out["b_segments"] - out["agreements"]
    tot = (out["agreements"] + out["disagreements"]).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_obs = out["agreements"].to_numpy(float) / tot
    q = max(len(code_list), 1)
    out["percent_agreement"] = 100.0 * p_obs
    out["kappa"] = (p_obs - 1.0 / q) / (1.0 - 1.0 / q) if q > 1 else np.nan
    return out


# ---------------------------------------------------------------------------
# Fixed units (Campbell et al. 2013)
# ---------------------------------------------------------------------------
_DECISION_COLS = ["transcript_id", "unit_id", "coder", "code", "applied"]


def _decision_matrix(decisions: pd.DataFrame, coders: Sequence[str] | None, codes: Sequence[str] | None,
                     extra_keys: Sequence[str] = ()) -> pd.DataFrame:
    miss = [c for c in _DECISION_COLS if c not in decisions.columns]
    if miss:
        raise AgreementError("decisions", f"lacks column(s) {', '.join(miss)}",
                             "pass the output of qda.codings.unit_decisions")
    d = decisions
    if coders is not None:
        d = d.loc[d["coder"].isin(list(coders))]
    if codes is not None:
        d = d.loc[d["code"].isin(list(codes))]
    if d.empty:
        raise AgreementError("decisions", "holds no decisions for the chosen coders and codes", "check coders= and codes=")
    keys = [*extra_keys, "transcript_id", "unit_id", "code"]
    # a coder who left out a (unit, code) of a transcript they coded decided "absent";
    # a coder with no decisions in a transcript did not code it (NaN).
    wide = d.pivot_table(index=keys, columns="coder", values="applied", aggfunc="max", observed=True)
    wide = wide.astype(float)
    coded = d.groupby([*extra_keys, "transcript_id", "coder"], observed=True).size().unstack("coder").notna()
    tkey = wide.index.droplevel(["unit_id", "code"])
    coded_rows = coded.reindex(index=tkey, columns=wide.columns, fill_value=False).to_numpy(dtype=bool)
    vals = wide.to_numpy()
    vals = np.where(np.isnan(vals) & coded_rows, 0.0, vals)
    return pd.DataFrame(vals, index=wide.index, columns=wide.columns)


def _agreement_row(block: pd.DataFrame) -> dict[str, Any]:
    x = block.to_numpy(float)
    mask = ~np.isnan(x)
    m = mask.sum(1)
    pairable = m >= 2
    xs = x[pairable]
    unanimous = (np.nanmax(xs, axis=1) == np.nanmin(xs, axis=1)) if len(xs) else np.array([], bool)
    alpha = float("nan")
    if pairable.any():
        alpha = _alpha_parts(x, "nominal")[0]
    return {
        "n_units": int(pairable.sum()),
        "n_coders": int(block.notna().any().sum()),
        "n_disagreements": int((~unanimous).sum()),
        "percent_agreement": float(100.0 * unanimous.mean()) if len(xs) else float("nan"),
        "alpha": alpha,
    }


def decision_agreement(decisions: pd.DataFrame, coders: Sequence[str] | None = None,
                       codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Agreement on fixed units: one binary decision (applied or not) per (unit, code, coder).

    Campbell et al. (2013): units are fixed first, then each coder decides for every
    (unit, code) whether the code applies; a unit with several codes contributes one
    decision per code. Per code and over all (unit, code) pairs (row ``"(all codes)"``):
    ``percent_agreement = 100 * share of units on which all coders made the same
    decision`` and Krippendorff's nominal ``alpha`` over the units x coders matrix of
    decisions (Krippendorff 2011). A coder with no decision rows in a transcript is
    treated as not having coded it (missing), not as "absent".

    ``decisions``: columns ``transcript_id, unit_id, coder, code, applied``
    (:func:`qda.codings.unit_decisions`). Returns ``code, n_units, n_coders,
    n_disagreements, percent_agreement, alpha``; alpha is NaN for a code that nobody
    (or everybody) applied, where it is undefined.
    """
    wide = _decision_matrix(decisions, coders, codes)
    rows = []
    for code, block in wide.groupby(level="code", sort=True, observed=True):
        rows.append({"code": code, **_agreement_row(block)})
    rows.append({"code": ALL_CODES, **_agreement_row(wide)})
    return pd.DataFrame(rows)


def unitized_alpha(codings: pd.DataFrame, units: pd.DataFrame, coders: Sequence[str] | None = None,
                   codes: Sequence[str] | None = None, min_share: float = 0.5) -> pd.DataFrame:
    """Krippendorff's alpha over a unitized design, in the manner of Campbell et al. (2013).

    Units are fixed first (participant turns, :func:`qda.codings.participant_units`);
    :func:`qda.codings.unit_decisions` projects each coder's free-span codings onto them
    (a code counts as applied to a unit when a coding covers ``min_share`` of the unit
    or of the coding). :func:`decision_agreement` then gives, per code and overall,
    the percentage of units with identical decisions and the nominal (binary) alpha
    ``1 - D_o/D_e`` (Krippendorff 2011).
    """
    from .codings import unit_decisions

    dec = unit_decisions(codings, units, min_share)
    return decision_agreement(dec, coders=coders, codes=codes)


def campbell_reliability_agreement(decisions: pd.DataFrame, reconciliation: pd.DataFrame,
                                   rounds: Any = None) -> pd.DataFrame:
    """Intercoder reliability (before discussion) and agreement (after) per round and code.

    Campbell et al. (2013). For each round and code (and ``"(all codes)"``):

    * reliability, from the independent decisions: ``n_units``, ``percent_agreement``
      (``reliability_percent``: 100 x share of units on which all coders decided alike)
      and nominal Krippendorff's alpha (``reliability_alpha``);
    * agreement, after reconciliation: of the ``n_disagreements`` initial
      disagreements, ``n_resolved`` have a ``reconciliation`` row with resolution
      ``present`` or ``absent``; ``share_resolved = n_resolved / n_disagreements`` and
      ``agreement_percent = 100 (n_units - n_disagreements + n_resolved) / n_units``.
      Disagreements without a reconciliation row, or marked ``unresolved``, count as
      unresolved (``n_not_reconciled`` counts the first kind).

    ``decisions``: :func:`qda.codings.unit_decisions` output with a ``round`` column, or
    give ``rounds`` (a mapping or Series transcript_id -> round); without either, the
    round of each transcript is read from ``reconciliation``. ``reconciliation``: the
    table of ``qda.SCHEMAS["reconciliation"]``, matched on round, transcript_id,
    unit_id and code.
    """
    need = ["round", "transcript_id", "unit_id", "code", "resolution"]
    miss = [c for c in need if c not in reconciliation.columns]
    if miss:
        raise AgreementError("reconciliation", f"lacks column(s) {', '.join(miss)}",
                             "pass the reconciliation table of qda.SCHEMAS['reconciliation']")
    rec = reconciliation.assign(**{c: reconciliation[c].astype(str) for c in need})
    dec = decisions.copy()
    dec["transcript_id"] = dec["transcript_id"].astype(str)
    if "round" not in dec.columns:
        if rounds is None:
            tr = rec[["transcript_id", "round"]].drop_duplicates()
            dup = tr["transcript_id"].duplicated()
            if dup.any():
                raise AgreementError("reconciliation", f"puts transcript {tr.loc[dup, 'transcript_id'].iloc[0]} in two rounds",
                                     "pass rounds= (transcript_id -> round) explicitly")
            rounds = dict(zip(tr["transcript_id"], tr["round"]))
        rmap = pd.Series(rounds) if not isinstance(rounds, pd.Series) else rounds
        rmap.index = rmap.index.astype(str)
        dec["round"] = dec["transcript_id"].map(rmap)
        if dec["round"].isna().any():
            t = dec.loc[dec["round"].isna(), "transcript_id"].iloc[0]
            raise AgreementError("rounds", f"gives no round for transcript {t}", "map every transcript of decisions to a round")
    dec["round"] = dec["round"].astype(str)
    wide = _decision_matrix(dec, None, None, extra_keys=["round"])
    x = wide.to_numpy(float)
    pair = (~np.isnan(x)).sum(1) >= 2
    with np.errstate(all="ignore"):
        disagree = pair & (np.nanmax(x, axis=1) != np.nanmin(x, axis=1))
    idx = wide.index.to_frame(index=False)
    idx["disagree"] = disagree
    rec_key = rec.drop_duplicates(["round", "transcript_id", "unit_id", "code"], keep="last")
    idx = idx.merge(rec_key[["round", "transcript_id", "unit_id", "code", "resolution"]],
                    on=["round", "transcript_id", "unit_id", "code"], how="left")
    idx["resolved"] = idx["disagree"] & idx["resolution"].isin(["present", "absent"])
    idx["not_reconciled"] = idx["disagree"] & idx["resolution"].isna()
    rows = []
    for rnd in sorted(idx["round"].unique()):
        in_r = (idx["round"] == rnd).to_numpy()
        codes_r = sorted(idx.loc[in_r, "code"].unique())
        for code in [*codes_r, ALL_CODES]:
            sel = in_r & ((idx["code"] == code).to_numpy() if code != ALL_CODES else True)
            base = _agreement_row(wide.loc[sel])
            nd = base["n_disagreements"]
            nr = int(idx.loc[sel, "resolved"].sum())
            rows.append({
                "round": rnd, "code": code, "n_units": base["n_units"],
                "reliability_percent": base["percent_agreement"], "reliability_alpha": base["alpha"],
                "n_disagreements": nd, "n_resolved": nr,
                "n_not_reconciled": int(idx.loc[sel, "not_reconciled"].sum()),
                "share_resolved": nr / nd if nd else float("nan"),
                "agreement_percent": 100.0 * (base["n_units"] - nd + nr) / base["n_units"] if base["n_units"] else float("nan"),
            })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Summaries for the book: one round's reliability with intervals, and the unit choice
# ---------------------------------------------------------------------------
def decision_matrix(decisions: pd.DataFrame, coders: Sequence[str] | None = None,
                    codes: Sequence[str] | None = None) -> pd.DataFrame:
    """The reliability data of fixed-unit decisions: one row per (unit, code), one column per coder.

    Values are 1.0 (the coder applied the code to the unit), 0.0 (the coder coded the
    transcript but not this code on this unit) and NaN (the coder did not code the
    transcript). This is the units x coders matrix of Krippendorff (2011) on which
    :func:`decision_agreement` computes alpha; rows are indexed by
    ``(transcript_id, unit_id, code)`` (and ``round`` first when ``decisions`` has it).
    Reference: Campbell et al. (2013) for the (unit, code) decisions.
    """
    extra = ["round"] if "round" in decisions.columns else []
    if extra:
        decisions = decisions.assign(round=decisions["round"].astype(str))
    return _decision_matrix(decisions, coders, codes, extra_keys=extra)


def fleiss_bootstrap_ci(counts: Any, *, n_boot: int = 1000, confidence: float = 0.95,
                        seed: int | None = 0, clusters: Any = None) -> tuple[float, float, float]:
    """Fleiss' kappa with a percentile bootstrap interval over subjects: ``(kappa, low, high)``.

    Kappa is the generalised Fleiss (1971) form of :func:`fleiss_kappa`. Each of the
    ``n_boot`` replicates draws the subjects (rows of ``counts``) with replacement and
    recomputes kappa; the interval is the ``(1-confidence)/2`` and ``1-(1-confidence)/2``
    quantiles of the replicates (percentile bootstrap; Efron & Tibshirani 1993, ch. 13).
    With ``clusters`` (one label per subject, e.g. the transcript) whole clusters are drawn
    instead, which respects the dependence of units of one interview. Replicates where
    kappa is undefined (one category only) are dropped. Seeded with
    ``numpy.random.default_rng(seed)``. Statsmodels gives no interval for Fleiss' kappa,
    hence this function.
    """
    if isinstance(counts, pd.DataFrame):
        counts = counts.to_numpy(dtype=float)
    x = np.asarray(counts, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise AgreementError("counts", f"has shape {x.shape}", "pass a subjects x categories table with at least two rows and columns")
    if not np.isfinite(x).all() or (x < 0).any():
        raise AgreementError("counts", "holds negative or missing counts", "pass whole-number counts")
    n_i = x.sum(1)
    if (n_i < 2).any():
        raise AgreementError("counts", "has a subject with fewer than two ratings", "drop subjects rated fewer than twice")
    if n_boot < 100:
        raise AgreementError("n_boot", f"is {n_boot}", "use at least 100 replicates")
    if not 0 < confidence < 1:
        raise AgreementError("confidence", f"is {confidence!r}", "pass a level between 0 and 1")
    est = _fleiss_generalised(x)[0]
    p_i = (x * (x - 1)).sum(1) / (n_i * (n_i - 1))
    rng = np.random.default_rng(seed)
    if clusters is None:
        idx = rng.integers(0, len(x), size=(n_boot, len(x)))
        w = np.stack([np.bincount(r, minlength=len(x)) for r in idx]).astype(float)
    else:
        lab, uniq = pd.factorize(pd.Series(np.asarray(clusters)).astype(str))
        if len(lab) != len(x):
            raise AgreementError("clusters", f"has {len(lab)} labels for {len(x)} subjects", "pass one label per subject")
        k = len(uniq)
        draws = rng.integers(0, k, size=(n_boot, k))
        cw = np.stack([np.bincount(r, minlength=k) for r in draws]).astype(float)  # n_boot x clusters
        w = cw[:, lab]
    # weighted form of the generalised Fleiss kappa: subject i counted w_i times
    p_bar = (w @ p_i) / w.sum(1)
    p_j = (w @ x) / (w @ n_i)[:, None]
    pe = (p_j**2).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = (p_bar - pe) / (1.0 - pe)
    boot = boot[np.isfinite(boot)]
    tail = (1 - confidence) / 2
    return float(est), float(np.quantile(boot, tail)), float(np.quantile(boot, 1 - tail))


def reliability_with_ci(decisions: pd.DataFrame, *, n_boot: int = 1000, seed: int | None = 0,
                        confidence: float = 0.95, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Reliability of independent fixed-unit decisions, each measure with an interval.

    Over all (unit, code) decisions (or those of ``codes``), per ``round`` when
    ``decisions`` has that column, one row per measure:

    * ``percent agreement``: share of (unit, code) rows on which all coders decided alike
      (Campbell et al. 2013), interval by the transcript-cluster bootstrap;
    * ``Krippendorff's alpha`` (nominal), twice: :func:`alpha_bootstrap_ci`, Krippendorff's
      (2013) bootstrap, once drawing as many value pairs per replicate as the data hold,
      ``M = n (m - 1) / 2`` (n pairable values, m coders), and once with the practical cap
      ``M = min(25 e, n (m - 1) / 2)`` of Hayes & Krippendorff's (2007) KALPHA, which for
      binary decisions (e <= 4 cells) means at most 100 draws and a much wider interval;
    * ``Fleiss' kappa``: subjects = (unit, code) rows with every coder's decision;
      :func:`fleiss_bootstrap_ci` with transcripts as clusters;
    * ``Cohen's kappa`` for each pair of coders (``coders`` = "a vs b"): the asymptotic
      interval of :func:`cohen_kappa` (Fleiss, Cohen & Everitt 1969).

    Returns columns ``round`` (if given), ``measure``, ``coders``, ``n_units``,
    ``estimate``, ``ci_low``, ``ci_high``, ``interval`` (how the interval was obtained).
    ``n_boot`` and ``seed`` apply to every bootstrap.
    """
    wide = decision_matrix(decisions, codes=codes)
    by_round = "round" in wide.index.names
    groups = wide.groupby(level="round", sort=True) if by_round else [(None, wide)]
    rows = []
    tail = (1 - confidence) / 2
    for rnd, block in groups:
        block = block.dropna(axis=1, how="all")
        x = block.to_numpy(float)
        full = ~np.isnan(x).any(1)
        tids = block.index.get_level_values("transcript_id").astype(str).to_numpy()
        base = {"round": rnd} if by_round else {}
        # percent agreement: cluster bootstrap over transcripts
        pair = (~np.isnan(x)).sum(1) >= 2
        if not pair.any():
            raise AgreementError("decisions", f"round {rnd} has no unit coded by two or more coders",
                                 "pass decisions of rounds in which several coders coded the same transcripts")
        xs, ts = x[pair], tids[pair]
        same = (np.nanmax(xs, 1) == np.nanmin(xs, 1)).astype(float)
        lab, uniq = pd.factorize(pd.Series(ts))
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
        cw = np.stack([np.bincount(r, minlength=len(uniq)) for r in draws]).astype(float)[:, lab]
        boot = (cw @ same) / cw.sum(1)
        rows.append({**base, "measure": "percent agreement", "coders": "all", "n_units": int(pair.sum()),
                     "estimate": 100 * same.mean(), "ci_low": 100 * np.quantile(boot, tail),
                     "ci_high": 100 * np.quantile(boot, 1 - tail), "interval": "bootstrap over transcripts"})
        n_pairable = int((~np.isnan(xs)).sum())
        all_pairs = int(round(n_pairable * (block.shape[1] - 1) / 2))
        for draws, how in ((all_pairs, "Krippendorff bootstrap, all pairs"), (None, "Krippendorff bootstrap, KALPHA cap")):
            ab = alpha_bootstrap_ci(x, "nominal", n_boot=n_boot, seed=seed, confidence=confidence, n_draws=draws)
            rows.append({**base, "measure": "Krippendorff's alpha", "coders": "all", "n_units": int(pair.sum()),
                         "estimate": ab.alpha, "ci_low": ab.ci_low, "ci_high": ab.ci_high,
                         "interval": f"{how} ({ab.n_draws} draws)"})
        xf = x[full]
        counts = np.column_stack([xf.sum(1), (1 - xf).sum(1)])
        fk, lo, hi = fleiss_bootstrap_ci(counts, n_boot=n_boot, seed=seed, confidence=confidence, clusters=tids[full])
        rows.append({**base, "measure": "Fleiss' kappa", "coders": "all", "n_units": int(full.sum()),
                     "estimate": fk, "ci_low": lo, "ci_high": hi, "interval": "bootstrap over transcripts"})
        cols = list(block.columns)
        for i in range(len(cols)):
            for j in range(i + 1, len(cols)):
                both = block[[cols[i], cols[j]]].dropna()
                k = cohen_kappa(both[cols[i]], both[cols[j]], confidence=confidence)
                rows.append({**base, "measure": "Cohen's kappa", "coders": f"{cols[i]} vs {cols[j]}",
                             "n_units": len(both), "estimate": k.kappa, "ci_low": k.ci_low, "ci_high": k.ci_high,
                             "interval": "asymptotic (ASE)"})
    return pd.DataFrame(rows)


#: Labels of the three unit choices compared by :func:`agreement_by_unit_choice`.
UNIT_CHOICES = ("characters (NVivo)", "segments (MAXQDA)", "fixed units (Campbell)")


def agreement_by_unit_choice(codings: pd.DataFrame, transcripts: pd.DataFrame, units: pd.DataFrame,
                             coder_a: str, coder_b: str, *, min_overlap: float = 0.9,
                             min_share: float = 0.5) -> pd.DataFrame:
    """The same two coders' agreement counted over three kinds of unit, pooled over codes.

    * ``characters (NVivo)``: every character of every transcript both coded is a unit for
      every code (:func:`nvivo_coding_comparison`); the cells are summed over codes and
      transcripts, ``percent = 100 (both + neither) / N`` and Cohen's kappa of that 2 x 2
      table (the pooling is ours; NVivo reports per code and source).
    * ``segments (MAXQDA)``: :func:`segment_overlap_agreement` with ``min_overlap``, its
      "(all codes)" row (percent of matched segments; Brennan-Prediger kappa).
    * ``fixed units (Campbell)``: :func:`qda.codings.unit_decisions` on ``units`` with
      ``min_share``; percent of (unit, code) decisions that agree and Cohen's kappa over
      them (Campbell et al. 2013).

    Per ``round`` when ``codings`` has that column. Returns columns ``round`` (if any),
    ``unit``, ``n``, ``percent_agreement``, ``kappa``; ``n`` counts characters, segments
    or (unit, code) decisions.
    """
    from .codings import unit_decisions

    sub = _check_codings(codings, [coder_a, coder_b])
    has_round = "round" in codings.columns
    if has_round:
        sub["round"] = codings.loc[codings["coder"].astype(str).isin([coder_a, coder_b]), "round"].astype(str).to_numpy()
    rows = []
    for rnd, part in (sub.groupby("round", sort=True) if has_round else [(None, sub)]):
        base = {"round": rnd} if has_round else {}
        nv = nvivo_coding_comparison(part, transcripts, coder_a, coder_b, by="code")
        cells = nv[["a_and_b", "a_only", "b_only", "neither"]].sum().to_numpy(float)
        table = np.array([[cells[0], cells[1]], [cells[2], cells[3]]])
        rows.append({**base, "unit": UNIT_CHOICES[0], "n": int(table.sum()),
                     "percent_agreement": 100 * (cells[0] + cells[3]) / table.sum(),
                     "kappa": cohen_kappa_table(table).kappa})
        mx = segment_overlap_agreement(part, coder_a, coder_b, min_overlap)
        tot = mx.loc[mx["code"] == ALL_CODES].iloc[0]
        rows.append({**base, "unit": UNIT_CHOICES[1], "n": int(tot["a_segments"] + tot["b_segments"]),
                     "percent_agreement": float(tot["percent_agreement"]), "kappa": float(tot["kappa"])})
        tr = set(part["transcript_id"])
        dec = unit_decisions(part, units.loc[units["transcript_id"].astype(str).isin(tr)], min_share)
        wide = decision_matrix(dec, coders=[coder_a, coder_b]).dropna()
        k = cohen_kappa(wide[coder_a], wide[coder_b])
        rows.append({**base, "unit": UNIT_CHOICES[2], "n": len(wide),
                     "percent_agreement": 100 * k.p_observed, "kappa": k.kappa})
    return pd.DataFrame(rows)
