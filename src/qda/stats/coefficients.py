"""Chance-corrected agreement coefficients over a subjects x raters table, with standard errors.

Two layouts, as the literature states them:

* ``ratings``: a subjects x raters table (DataFrame or 2-D array) of categories, NaN or
  None where a rater did not rate a subject. Subjects that no rater rated are dropped.
* ``counts``: a subjects x categories table of how many raters put each subject in each
  category (Fleiss 1971).

Notation (Gwet 2014, chs. 2-5; the irrCAC documentation): n subjects, r raters, q categories;
``r_ik`` raters who put subject i in category k, ``r_i = sum_k r_ik``; weights ``w_kl``
(identity for nominal data) and ``r*_ik = sum_l w_kl r_il``; ``n'`` subjects with ``r_i >= 2``.

* Percent agreement ``p_a = 1/n' sum_{i: r_i >= 2} sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))``.
* Classification probabilities ``pi_k = 1/n sum_i r_ik / r_i``.
* Each coefficient is ``(p_a - p_e) / (1 - p_e)`` with its own chance agreement ``p_e``.
* Standard error (Gwet 2008, 2014): with ``kappa_i = (n/n') (p_a|i - p_e [r_i >= 2]) / (1 - p_e)``,
  ``p_a|i`` subject i's term of ``p_a`` and ``p_e|i`` its term of ``p_e``,
  ``kappa*_i = kappa_i - 2 (1 - kappa) (p_e|i - p_e) / (1 - p_e)`` and
  ``v = (1 - n/N) / (n (n - 1)) sum_i (kappa*_i - kappa)^2``. It treats the subjects as a
  sample (raters fixed), holds whatever the true agreement, and allows missing ratings.

Written by hand: statsmodels' ``inter_rater`` gives Fleiss' and Cohen's kappa without these
coefficients or standard errors, and irrCAC (the reference implementation, GPL, also ported
to Python) is not a dependency of this package; tests compare against both where installed.

References
----------
Conger AJ (1980). Integration and generalization of kappas for multiple raters.
Psychological Bulletin 88:322-328.
Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychological
Bulletin 76:378-382.
Fleiss JL, Nee JCM, Landis JR (1979). Large sample variance of kappa in the case of
different sets of raters. Psychological Bulletin 86:974-977.
Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of high
agreement. British Journal of Mathematical and Statistical Psychology 61:29-48.
Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.
Holsti OR (1969). Content Analysis for the Social Sciences and Humanities. Addison-Wesley.
Scott WA (1955). Reliability of content analysis: the case of nominal scale coding. Public
Opinion Quarterly 19:321-325.
irrCAC (R package, K. Gwet), documentation and vignettes; ATLAS.ti manual, "Intercoder agreement".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import special

from qda.errors import QDAError


class CoefficientError(QDAError, ValueError):
    """Bad input to an agreement coefficient; a ``ValueError`` too, so either can be caught."""

    def __init__(self, argument: str, what: str, fix: str):
        super().__init__(None, argument, what, fix)


@dataclass(frozen=True)
class ChanceCorrectedAgreement:
    """A chance-corrected coefficient ``(p_a - p_e) / (1 - p_e)`` with its standard error (Gwet 2014)."""

    name: str
    coefficient: float
    standard_error: float
    percent_agreement: float
    chance_agreement: float
    n_subjects: int
    n_raters: int

    def confidence_interval(self, level: float = 0.95) -> tuple[float, float]:
        """``coefficient -/+ t_{n-1} SE``, the upper bound capped at 1, as irrCAC reports it (Gwet 2014)."""
        # scipy.special's Student t quantile (scipy.stats.t.ppf computes the same, slower to import)
        half = special.stdtrit(self.n_subjects - 1, 0.5 + level / 2) * self.standard_error
        return self.coefficient - half, min(1.0, self.coefficient + half)


@dataclass(frozen=True)
class FleissKappaStandardErrors:
    """Fleiss' kappa with two standard errors.

    ``se_null`` (Fleiss, Nee & Landis 1979) holds only under the null hypothesis of chance
    agreement: use it to test kappa = 0 (``z = kappa / se_null``). ``se`` (Gwet 2014, the
    linearisation over subjects) holds whatever the agreement: use it for a confidence interval.
    """

    kappa: float
    se_null: float
    se: float
    n_subjects: int
    n_raters: int


@dataclass(frozen=True)
class _Tally:
    """A ratings table reduced to what the coefficients use."""

    counts: np.ndarray  # n x q: r_ik
    codes: np.ndarray  # n x r: category index, -1 where missing
    categories: list


# ---------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------
def _ratings_tally(ratings: pd.DataFrame | np.ndarray, categories: Sequence | None, min_raters: int = 2) -> _Tally:
    table = pd.DataFrame(ratings)
    if table.ndim != 2 or table.shape[1] < min_raters:
        raise CoefficientError(
            "ratings",
            f"has {table.shape[1]} rater column(s)",
            f"pass a subjects x raters table with at least {min_raters} raters",
        )
    table = table.dropna(how="all")
    if table.empty:
        raise CoefficientError("ratings", "holds no rating", "pass at least one rated subject")
    stacked = table.to_numpy().ravel()
    present = pd.unique(stacked[pd.notna(stacked)])
    if categories is None:
        try:
            categories = sorted(present)
        except TypeError:
            categories = list(present)
    categories = list(categories)
    index = pd.Index(categories)
    if not index.is_unique:
        raise CoefficientError("categories", "repeat a category", "list each category once")
    codes = np.column_stack([index.get_indexer(table[c]) for c in table.columns])
    unknown = codes.__eq__(-1) & table.notna().to_numpy()
    if unknown.any():
        i, g = np.argwhere(unknown)[0]
        raise CoefficientError(
            f"ratings[{table.index[i]!r}, {table.columns[g]!r}]",
            f"{table.iat[i, g]!r} is not among the categories",
            "add it to categories",
        )
    q = len(categories)
    counts = np.zeros((len(table), q))
    rows, raters = np.nonzero(codes >= 0)
    np.add.at(counts, (rows, codes[rows, raters]), 1)
    return _Tally(counts, codes, categories)


def rating_counts(ratings: pd.DataFrame | np.ndarray, categories: Sequence | None = None) -> pd.DataFrame:
    """The subjects x categories table ``r_ik = #{g : rating_ig = k}`` of a subjects x raters table (Fleiss 1971).

    Subjects that no rater rated are dropped; ``categories`` fixes the columns and their order.
    """
    tally = _ratings_tally(ratings, categories, min_raters=1)
    index = pd.DataFrame(ratings).dropna(how="all").index
    return pd.DataFrame(tally.counts.astype(np.int64), index=index, columns=pd.Index(tally.categories, name="category"))


def _weight_matrix(weights: str | np.ndarray | None, categories: list) -> np.ndarray:
    """Gwet's (2014, ch. 3) weights: identity; linear ``1 - |k-l|/(max-min)``; quadratic ``1 - (k-l)^2/(max-min)^2``.

    The distances use the category values when they are numbers, their ranks otherwise.
    """
    q = len(categories)
    if weights is None or (isinstance(weights, str) and weights in ("identity", "unweighted")):
        return np.eye(q)
    if not isinstance(weights, str):
        matrix = np.asarray(weights, dtype=float)
        if matrix.shape != (q, q):
            raise CoefficientError("weights", f"is {matrix.shape}, not {q} x {q}", "pass one weight per category pair")
        return matrix
    try:
        values = np.asarray(categories, dtype=float)
    except (TypeError, ValueError):
        values = np.arange(q, dtype=float)
    span = values.max() - values.min() if q > 1 else 1.0
    distance = np.abs(values[:, None] - values[None, :]) / span
    if weights == "linear":
        return 1 - distance
    if weights == "quadratic":
        return 1 - distance**2
    raise CoefficientError("weights", f"is {weights!r}", "pass None, 'linear', 'quadratic' or a q x q matrix")


def _checked_counts(counts: pd.DataFrame | np.ndarray) -> np.ndarray:
    matrix = np.asarray(counts, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] < 2:
        raise CoefficientError("counts", "is not a subjects x categories table", "pass one column per category")
    if (matrix < 0).any() or (matrix != np.round(matrix)).any():
        raise CoefficientError("counts", "holds a negative or fractional count", "pass numbers of raters")
    matrix = matrix[matrix.sum(axis=1) > 0]
    if len(matrix) < 2:
        raise CoefficientError("counts", "has fewer than two rated subjects", "pass at least two subjects")
    return matrix


# ---------------------------------------------------------------------------
# The common arithmetic (Gwet 2014)
# ---------------------------------------------------------------------------
def _subject_agreement(counts: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each subject's ``p_a|i = sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))`` (0 below two ratings) and a mask r_i >= 2."""
    raters = counts.sum(axis=1)
    pairable = raters >= 2
    weighted = counts @ weights.T
    agreement = np.zeros(len(counts))
    agreement[pairable] = (counts * (weighted - 1)).sum(axis=1)[pairable] / (raters * (raters - 1))[pairable]
    return agreement, pairable


def _classification_probabilities(counts: np.ndarray) -> np.ndarray:
    """``pi_k = 1/n sum_i r_ik / r_i`` (Gwet 2014, ch. 2)."""
    return (counts / counts.sum(axis=1, keepdims=True)).mean(axis=0)


def _coefficient(
    name: str, counts: np.ndarray, weights: np.ndarray, chance: float, chance_by_subject: np.ndarray, n_raters: int
) -> ChanceCorrectedAgreement:
    """``(p_a - p_e)/(1 - p_e)`` and Gwet's (2008, 2014) linearised variance over subjects."""
    n = len(counts)
    agreement_i, pairable = _subject_agreement(counts, weights)
    n_pairable = int(pairable.sum())
    if n_pairable == 0:
        raise CoefficientError("ratings", "has no subject rated twice", "agreement needs subjects with two ratings")
    percent = agreement_i[pairable].mean()
    kappa = (percent - chance) / (1 - chance)
    kappa_i = (n / n_pairable) * (agreement_i - chance * pairable) / (1 - chance)
    corrected = kappa_i - 2 * (1 - kappa) * (chance_by_subject - chance) / (1 - chance)
    se = float(np.sqrt(((corrected - kappa) ** 2).sum() / (n * (n - 1)))) if n > 1 else float("nan")
    return ChanceCorrectedAgreement(name, float(kappa), se, float(percent), float(chance), n, n_raters)


def _fleiss_chance(counts: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """``p_e = sum_kl w_kl pi_k pi_l``; ``p_e|i = sum_k r_ik pibar_k / r_i``, ``pibar = (W + W') pi / 2``."""
    pi = _classification_probabilities(counts)
    chance = float(pi @ weights @ pi)
    symmetric_pi = (weights + weights.T) @ pi / 2
    return chance, counts @ symmetric_pi / counts.sum(axis=1)


# ---------------------------------------------------------------------------
# Coefficients
# ---------------------------------------------------------------------------
def gwet_ac2(
    ratings: pd.DataFrame | np.ndarray,
    weights: str | np.ndarray | None = "quadratic",
    categories: Sequence | None = None,
) -> ChanceCorrectedAgreement:
    """Gwet's AC2 (weighted AC1) for any number of raters, missing ratings allowed, with its standard error.

    ``p_e = T_w / (q (q-1)) sum_k pi_k (1 - pi_k)`` with ``T_w = sum_kl w_kl``, and
    ``p_e|i = T_w / (q (q-1)) sum_k r_ik (1 - pi_k) / r_i``; ``AC2 = (p_a - p_e) / (1 - p_e)``
    with the weighted ``p_a`` and the variance of the module docstring. ``weights``: None
    (AC1), 'linear', 'quadratic' or a q x q matrix; ``categories`` fixes the categories and
    their order (include the unused ones the raters could choose). Reference: Gwet (2014),
    Handbook of Inter-Rater Reliability, 4th ed., ch. 4-5; Gwet (2008); irrCAC ``gwet.ac1.raw``.
    """
    tally = _ratings_tally(ratings, categories)
    q = len(tally.categories)
    w = _weight_matrix(weights, tally.categories)
    pi = _classification_probabilities(tally.counts)
    scale = w.sum() / (q * (q - 1)) if q > 1 else 0.0
    chance = float(scale * (pi * (1 - pi)).sum())
    chance_i = scale * (tally.counts @ (1 - pi)) / tally.counts.sum(axis=1)
    name = "AC1" if np.array_equal(w, np.eye(q)) else "AC2"
    return _coefficient(name, tally.counts, w, chance, chance_i, tally.codes.shape[1])


def gwet_ac1(ratings: pd.DataFrame | np.ndarray, categories: Sequence | None = None) -> ChanceCorrectedAgreement:
    """Gwet's AC1 for nominal categories, any number of raters, missing ratings allowed, with its standard error.

    ``AC1 = (p_a - p_e) / (1 - p_e)``, ``p_e = 1/(q-1) sum_k pi_k (1 - pi_k)``: :func:`gwet_ac2`
    with identity weights. Reference: Gwet (2008), British Journal of Mathematical and
    Statistical Psychology 61:29-48; Gwet (2014), Handbook, 4th ed., ch. 4.
    """
    return gwet_ac2(ratings, weights=None, categories=categories)


def scott_pi(ratings: pd.DataFrame | np.ndarray, categories: Sequence | None = None) -> ChanceCorrectedAgreement:
    """Scott's pi for two raters, with its standard error.

    ``pi = (p_a - p_e) / (1 - p_e)`` with ``p_e = sum_k pi_k^2`` and ``pi_k`` the category's
    share of both raters' ratings pooled; with missing ratings, the generalisation of Gwet
    (2014, ch. 2), which is Fleiss' kappa for two raters. Reference: Scott (1955), Public
    Opinion Quarterly 19:321-325; Gwet (2014), Handbook, 4th ed.; irrCAC ``scott2.table``.
    """
    table = pd.DataFrame(ratings)
    if table.shape[1] != 2:
        raise CoefficientError("ratings", f"has {table.shape[1]} rater columns", "Scott's pi takes two raters")
    tally = _ratings_tally(table, categories)
    w = np.eye(len(tally.categories))
    chance, chance_i = _fleiss_chance(tally.counts, w)
    return _coefficient("Scott's pi", tally.counts, w, chance, chance_i, 2)


def conger_kappa(
    ratings: pd.DataFrame | np.ndarray, categories: Sequence | None = None, weights: str | np.ndarray | None = None
) -> ChanceCorrectedAgreement:
    """Conger's kappa, Cohen's kappa generalised to any number of raters, with its standard error.

    With ``p_gk`` the share of rater g's ratings in category k, ``pbar_k`` its mean over the
    r raters and ``s2_kl = 1/(r-1) sum_g (p_gk - pbar_k)(p_gl - pbar_l)``, the chance agreement
    is ``p_e = sum_kl w_kl (pbar_k pbar_l - s2_kl / r)``, the mean over pairs of raters of
    Cohen's ``sum_kl w_kl p_gk p_hl``; for two raters it is Cohen's kappa. Standard error:
    Gwet (2014), with ``p_e|i = 1/(r(r-1)) sum_g lambda_ig``, ``lambda_ig = (n/n_g) sum_l
    [delta_igl - (eps_ig - n_g/n) p_gl] sum_k w_kl (r pbar_k - p_gk)`` (``eps_ig`` = 1 if rater g
    rated i, ``delta_igl`` = 1 if as l, ``n_g`` subjects rater g rated). Reference: Conger
    (1980), Psychological Bulletin 88:322-328; Gwet (2014), Handbook, 4th ed., ch. 5;
    irrCAC ``conger.kappa.raw``.
    """
    tally = _ratings_tally(ratings, categories)
    w = _weight_matrix(weights, tally.categories)
    n, r = tally.codes.shape
    rated = tally.codes >= 0
    per_rater = rated.sum(axis=0).astype(float)
    if (per_rater == 0).any():
        raise CoefficientError(
            "ratings", f"rater column {int(np.argmin(per_rater))} holds no rating", "drop raters who rated no subject"
        )
    shares = np.zeros((r, len(tally.categories)))
    for g in range(r):
        shares[g] = np.bincount(tally.codes[rated[:, g], g], minlength=len(tally.categories)) / per_rater[g]
    mean_share = shares.mean(axis=0)
    covariance = (shares.T @ shares - r * np.outer(mean_share, mean_share)) / (r - 1)
    chance = float((w * (np.outer(mean_share, mean_share) - covariance / r)).sum())
    others = (r * mean_share[None, :] - shares) @ w  # C_gl = sum_k w_kl (r pbar_k - p_gk)
    own = np.where(rated, others[np.arange(r)[None, :], np.where(rated, tally.codes, 0)], 0.0)
    centred = (rated - per_rater[None, :] / n) * (shares * others).sum(axis=1)[None, :]
    lam = (n / per_rater)[None, :] * (own - centred)
    chance_i = lam.sum(axis=1) / (r * (r - 1))
    return _coefficient("Conger's kappa", tally.counts, w, chance, chance_i, r)


def holsti_index(ratings: pd.DataFrame | np.ndarray) -> float:
    """Holsti's index ``CR = 2M / (N1 + N2)`` as ATLAS.ti reports it: no chance correction.

    Two raters (columns) decide on subjects (rows), NaN where a rater made no decision;
    ``M`` counts the subjects both decided alike, ``N1`` and ``N2`` each rater's decisions.
    When both raters decide on the same subjects it equals percent agreement (ATLAS.ti manual,
    "Methods for testing intercoder agreement"). More than two raters: the mean over pairs.
    Reference: Holsti (1969), Content Analysis for the Social Sciences and Humanities, p. 140.
    """
    table = pd.DataFrame(ratings)
    if table.shape[1] < 2:
        raise CoefficientError("ratings", f"has {table.shape[1]} rater column(s)", "pass at least two raters")
    indices = []
    for first, second in combinations(table.columns, 2):
        a, b = table[first], table[second]
        decisions = a.notna().sum() + b.notna().sum()
        if decisions == 0:
            raise CoefficientError("ratings", f"raters {first!r} and {second!r} made no decision", "drop them")
        agreements = (a.notna() & b.notna() & (a == b)).sum()
        indices.append(2 * agreements / decisions)
    return float(np.mean(indices))


def fleiss_kappa_se(counts: pd.DataFrame | np.ndarray) -> FleissKappaStandardErrors:
    """Fleiss' kappa from a subjects x categories count table, with its null and its general standard error.

    ``kappa = (P - P_e) / (1 - P_e)``, ``P = 1/n sum_i sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))``,
    ``P_e = sum_k p_k^2`` (Fleiss 1971; with unequal numbers of raters, Gwet's 2014 form).

    ``se_null`` (Fleiss, Nee & Landis 1979; requires the same number m of raters for every
    subject): ``sqrt(2) / (sum_k p_k q_k sqrt(n m (m-1))) * sqrt((sum_k p_k q_k)^2 -
    sum_k p_k q_k (q_k - p_k))``, ``q_k = 1 - p_k``: the standard error under the null
    hypothesis kappa = 0, for the test ``z = kappa / se_null``; it is not a standard error
    for a confidence interval. ``se`` is Gwet's (2014) linearised standard error (the module
    docstring), valid whatever kappa is: the one to use for an interval.
    References: Fleiss (1971), Psychological Bulletin 76:378-382; Fleiss, Nee & Landis
    (1979), Psychological Bulletin 86:974-977; Gwet (2014), Handbook, 4th ed., ch. 5.
    """
    matrix = _checked_counts(counts)
    n, q = matrix.shape
    w = np.eye(q)
    chance, chance_i = _fleiss_chance(matrix, w)
    general = _coefficient("Fleiss' kappa", matrix, w, chance, chance_i, int(matrix.sum(axis=1).max()))
    raters = matrix.sum(axis=1)
    se_null = float("nan")
    if np.all(raters == raters[0]) and raters[0] >= 2:
        m = raters[0]
        p = matrix.sum(axis=0) / (n * m)
        pq = p * (1 - p)
        spread = pq.sum() ** 2 - (pq * ((1 - p) - p)).sum()
        se_null = float(np.sqrt(2) / (pq.sum() * np.sqrt(n * m * (m - 1))) * np.sqrt(spread))
    return FleissKappaStandardErrors(general.coefficient, se_null, general.standard_error, n, general.n_raters)
