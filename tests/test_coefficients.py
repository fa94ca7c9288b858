"""Chance-corrected agreement coefficients (qda.stats.coefficients) against published examples and irrCAC."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qda.errors import QDAError
from qda.stats.coefficients import (
    CoefficientError,
    conger_kappa,
    fleiss_kappa_se,
    gwet_ac1,
    gwet_ac2,
    holsti_index,
    rating_counts,
    scott_pi,
)

NA = np.nan

# irrCAC's cac.raw4raters: 12 subjects, 4 raters, categories 1-5, no rater rated every
# subject. Source: Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., p. 120, as
# shipped with the irrCAC R package (README and vignette "overview").
RAW_4_RATERS = pd.DataFrame(
    {
        "Rater1": [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
        "Rater2": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, NA],
        "Rater3": [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 3],
        "Rater4": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
    }
)

# irrCAC's cont3x3abstractors: 100 pregnant women classified by two abstractors (Gwet 2014).
ABSTRACTORS = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])

# irrCAC's distrib.6raters: 15 patients, 6 psychiatrists, 5 diagnoses (from Fleiss 1971).
DISTRIB_6_RATERS = np.array(
    [[0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
     [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
     [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1]]
)  # fmt: skip

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists, 5 diagnoses (R package irr's
# `diagnoses`, aggregated).
FLEISS_1971 = np.array(
    [[0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
     [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
     [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
     [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
     [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
     [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6]]
)  # fmt: skip


def two_raters_from_table(table: np.ndarray) -> pd.DataFrame:
    """The subjects x 2 ratings behind a contingency table (rows: rater A, columns: rater B)."""
    rows = [(i, j) for i in range(table.shape[0]) for j in range(table.shape[1]) for _ in range(table[i, j])]
    return pd.DataFrame(rows, columns=["A", "B"])


def table_se(result) -> float:
    """irrCAC's two-rater table functions divide the variance by n^2, its raw-data functions
    (and we) by n(n - 1): the table SE is ours times sqrt((n - 1) / n)."""
    n = result.n_subjects
    return result.standard_error * math.sqrt((n - 1) / n)


# ---------------------------------------------------------------------------
# Published examples
# ---------------------------------------------------------------------------
def test_gwet_ac1_raw_4_raters():
    result = gwet_ac1(RAW_4_RATERS)
    # irrCAC README / vignette: gwet.ac1.raw(cac.raw4raters): pa 0.8181818, pe 0.1903212,
    # AC1 0.77544, SE 0.14295, 95% CI (0.461, 1).
    assert result.name == "AC1"
    assert result.percent_agreement == pytest.approx(0.8181818, abs=5e-8)
    assert result.chance_agreement == pytest.approx(0.1903212, abs=5e-8)
    assert result.coefficient == pytest.approx(0.77544, abs=5e-6)
    assert result.standard_error == pytest.approx(0.14295, abs=5e-6)
    low, high = result.confidence_interval()
    assert round(low, 3) == 0.461 and high == 1.0


def test_gwet_ac2_quadratic_raw_4_raters():
    result = gwet_ac2(RAW_4_RATERS, weights="quadratic")
    # irrCAC, gwet.ac1.raw(cac.raw4raters, weights = "quadratic") (the values the Python port
    # irrCAC tests against, test/unit/irrCAC/raw/test_gwet.py): pa 0.975, pe 0.714, AC2 0.914,
    # SE 0.104, CI lower bound 0.685.
    assert result.name == "AC2"
    assert round(result.percent_agreement, 3) == 0.975
    assert round(result.chance_agreement, 3) == 0.714
    assert round(result.coefficient, 3) == 0.914
    assert round(result.standard_error, 3) == 0.104
    assert round(result.confidence_interval()[0], 3) == 0.685


def test_gwet_ac2_linear_raw_4_raters():
    result = gwet_ac2(RAW_4_RATERS, weights="linear")
    # irrCAC, weights = "linear": pa 0.939, pe 0.571, AC2 0.859, SE 0.117.
    assert (round(result.percent_agreement, 3), round(result.chance_agreement, 3)) == (0.939, 0.571)
    assert (round(result.coefficient, 3), round(result.standard_error, 3)) == (0.859, 0.117)


def test_conger_kappa_raw_4_raters():
    result = conger_kappa(RAW_4_RATERS)
    # irrCAC README / vignette: conger.kappa.raw(cac.raw4raters): pe 0.2334252, kappa 0.76282, SE 0.14917.
    assert result.chance_agreement == pytest.approx(0.2334252, abs=5e-8)
    assert result.coefficient == pytest.approx(0.76282, abs=5e-6)
    assert result.standard_error == pytest.approx(0.14917, abs=5e-6)
    # irrCAC, weights = "quadratic": pe 0.827, kappa 0.858, SE 0.144.
    weighted = conger_kappa(RAW_4_RATERS, weights="quadratic")
    assert (round(weighted.chance_agreement, 3), round(weighted.coefficient, 3)) == (0.827, 0.858)
    assert round(weighted.standard_error, 3) == 0.144


def test_two_raters_from_the_abstractors_table():
    ratings = two_raters_from_table(ABSTRACTORS)
    # irrCAC README: scott2.table(cont3x3abstractors) 0.7962397 (SE 0.05905473);
    # gwet.ac1.table 0.8493305 (SE 0.04321747); kappa2.table (Cohen) 0.7964094 (SE 0.05891072),
    # which Conger's kappa is for two raters.
    scott, ac1, conger = scott_pi(ratings), gwet_ac1(ratings), conger_kappa(ratings)
    assert scott.coefficient == pytest.approx(0.7962397, abs=5e-8)
    assert table_se(scott) == pytest.approx(0.05905473, abs=5e-9)
    assert ac1.coefficient == pytest.approx(0.8493305, abs=5e-8)
    assert table_se(ac1) == pytest.approx(0.04321747, abs=5e-9)
    assert conger.coefficient == pytest.approx(0.7964094, abs=5e-8)
    assert table_se(conger) == pytest.approx(0.05891072, abs=5e-9)


def test_fleiss_kappa_general_se_distrib_6_raters():
    result = fleiss_kappa_se(DISTRIB_6_RATERS)
    # irrCAC README: fleiss.kappa.dist(distrib.6raters): kappa 0.4139265, SE 0.08119291.
    assert result.kappa == pytest.approx(0.4139265, abs=5e-8)
    assert result.se == pytest.approx(0.08119291, abs=5e-9)
    assert result.n_subjects == 15 and result.n_raters == 6


def test_fleiss_kappa_null_se_fleiss_1971():
    result = fleiss_kappa_se(FLEISS_1971)
    # Fleiss (1971): kappa = .430. R package irr, kappam.fleiss(diagnoses) (Fleiss, Nee &
    # Landis 1979 standard error under the null): Kappa = 0.4302445, z = 17.65183.
    assert result.kappa == pytest.approx(0.4302445, abs=5e-8)
    assert result.kappa / result.se_null == pytest.approx(17.65183, abs=5e-6)
    assert result.se > result.se_null  # the general SE is not the null one


def test_fleiss_kappa_raw_4_raters_through_counts():
    result = fleiss_kappa_se(rating_counts(RAW_4_RATERS))
    # irrCAC README: fleiss.kappa.raw(cac.raw4raters): kappa 0.76117, SE 0.15302. The
    # raters per subject vary, so the null SE of Fleiss, Nee & Landis is undefined.
    assert result.kappa == pytest.approx(0.76117, abs=5e-6)
    assert result.se == pytest.approx(0.15302, abs=5e-6)
    assert math.isnan(result.se_null)


def test_holsti_atlas_ti_example():
    # ATLAS.ti manual, "Methods for testing intercoder agreement": two coders, ten segments,
    # agreement on 6 of 10: percent agreement 0.6, which the Holsti index equals when both
    # coders code the same segments (CR = 2M / (N1 + N2) = 2 * 6 / 20).
    coder_1 = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    coder_2 = [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
    assert holsti_index(pd.DataFrame({"c1": coder_1, "c2": coder_2})) == pytest.approx(0.6)


def test_holsti_with_different_decisions():
    # Holsti (1969), CR = 2M / (N1 + N2): coder 1 decides on units 1-10, coder 2 on units
    # 1-8 and 11-12; they agree on 6: 2 * 6 / (10 + 10). Without units 11-12: 12 / (10 + 8).
    first = [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, NA, NA]
    second = [1, 2, 3, 1, 2, 3, 2, 3, NA, NA, 1, 2]
    assert holsti_index(pd.DataFrame({"a": first, "b": second})) == pytest.approx(12 / 20)
    assert holsti_index(pd.DataFrame({"a": first, "b": second[:10] + [NA, NA]})) == pytest.approx(12 / 18)


# ---------------------------------------------------------------------------
# Properties and input
# ---------------------------------------------------------------------------
def test_perfect_agreement_gives_one():
    ratings = pd.DataFrame({"a": list("xyzxyz"), "b": list("xyzxyz"), "c": list("xyzxyz")})
    for result in (gwet_ac1(ratings), conger_kappa(ratings), gwet_ac2(ratings, "linear")):
        assert result.coefficient == pytest.approx(1.0)
    assert scott_pi(ratings[["a", "b"]]).coefficient == pytest.approx(1.0)
    assert holsti_index(ratings) == 1.0


def test_string_categories_and_unused_categories():
    ratings = pd.DataFrame({"a": ["yes", "no", "yes", None], "b": ["yes", "no", "no", "no"]})
    assert rating_counts(ratings).columns.tolist() == ["no", "yes"]
    with_unused = gwet_ac1(ratings, categories=["yes", "no", "maybe"])
    without = gwet_ac1(ratings)
    assert with_unused.chance_agreement != without.chance_agreement  # AC1's p_e depends on q


def test_bad_input_is_one_specific_line():
    cases = [
        lambda: gwet_ac1(pd.DataFrame({"a": [1, 2]})),
        lambda: gwet_ac1(pd.DataFrame({"a": [NA, NA], "b": [NA, NA]})),
        lambda: gwet_ac1(pd.DataFrame({"a": [1, 2], "b": [1, 3]}), categories=[1, 2]),
        lambda: gwet_ac2(pd.DataFrame({"a": [1, 2], "b": [1, 2]}), weights="cubic"),
        lambda: scott_pi(RAW_4_RATERS),
        lambda: fleiss_kappa_se(np.array([[1.5, 2.0], [1.0, 2.0]])),
        lambda: conger_kappa(pd.DataFrame({"a": [1, 2], "b": [1, 2], "c": [NA, NA]})),
    ]
    for case in cases:
        with pytest.raises(CoefficientError) as caught:
            case()
        assert isinstance(caught.value, QDAError) and isinstance(caught.value, ValueError)
        assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------
# Cross-check against irrCAC (the Python port of Gwet's R package) on random data
# ---------------------------------------------------------------------------
def random_ratings(seed: int, n_subjects: int = 40, n_raters: int = 4, n_categories: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, n_categories + 1, n_subjects)
    noise = rng.integers(1, n_categories + 1, (n_subjects, n_raters))
    ratings = np.where(rng.random((n_subjects, n_raters)) < 0.6, truth[:, None], noise).astype(float)
    ratings[rng.random(ratings.shape) < 0.15] = np.nan
    return pd.DataFrame(ratings, columns=[f"r{g}" for g in range(n_raters)]).dropna(how="all")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weights", ["identity", "quadratic", "linear"])
def test_against_irrcac(seed, weights):
    raw = pytest.importorskip("irrCAC.raw", reason="irrCAC (Python) is an optional cross-check, not a dependency")
    ratings = random_ratings(seed)
    categories = [1.0, 2.0, 3.0, 4.0]
    reference = raw.CAC(ratings, weights=weights, categories=categories, digits=12)
    ours_weights = None if weights == "identity" else weights
    pairs = [
        (gwet_ac2(ratings, weights=ours_weights, categories=categories), reference.gwet()["est"]),
        (conger_kappa(ratings, categories=categories, weights=ours_weights), reference.conger()["est"]),
    ]
    if weights == "identity":
        pairs.append((fleiss_kappa_se(rating_counts(ratings, categories)), reference.fleiss()["est"]))
        two = ratings.iloc[:, :2].dropna(how="all")
        pairs.append(
            (scott_pi(two, categories=categories), raw.CAC(two, categories=categories, digits=12).fleiss()["est"])
        )
    for ours, theirs in pairs:
        coefficient = getattr(ours, "coefficient", getattr(ours, "kappa", None))
        se = getattr(ours, "standard_error", getattr(ours, "se", None))
        assert coefficient == pytest.approx(theirs["coefficient_value"], abs=1e-9)
        assert se == pytest.approx(theirs["se"], abs=1e-9)
