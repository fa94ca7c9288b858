"""qda.agreement against published values (../shared/fixtures/agreement) and reference software."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qda import agreement as ag
from qda.errors import QDAError
from qda.stats import alpha as salpha

SHARED = Path(os.environ.get("QDA_SHARED", Path(__file__).parents[1].parent / "shared"))
FIX = SHARED / "fixtures" / "agreement"


def fixture(name: str, **kw) -> pd.DataFrame:
    path = FIX / name
    if not path.is_file():
        pytest.skip(f"published fixture {path} is absent (CI has ../shared beside the checkout)")
    return pd.read_csv(path, **kw)


def counts_table(ratings: pd.DataFrame, categories) -> pd.DataFrame:
    """subjects x categories counts from subjects x raters ratings (independent of qda)."""
    return pd.DataFrame({c: (ratings == c).sum(axis=1) for c in categories})


# ---------------------------------------------------------------------------
# First table of the README: the headline published values
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "level, published",
    [
        ("nominal", 0.743),
        ("ordinal", 0.815),
        ("interval", 0.849),
        ("ratio", 0.797),
    ],
)
def test_krippendorff_2011_all_levels(level, published):
    data = fixture("krippendorff2011_4coders_12units.csv", index_col="unit")
    assert ag.krippendorff_alpha(data, level) == pytest.approx(published, abs=5e-4)


def test_fleiss_wikipedia_kappa_and_parts():
    counts = fixture("fleiss_wikipedia_10subjects_14raters_counts.csv", index_col="subject")
    res = ag.fleiss_kappa(counts)
    assert res.kappa == pytest.approx(0.210, abs=5e-4)
    assert res.p_bar == pytest.approx(0.378, abs=5e-4)
    assert res.pe_bar == pytest.approx(0.213, abs=5e-4)
    assert res.n_raters == 14 and res.method == "statsmodels"


def test_cohen_wikipedia_2x2():
    table = fixture("cohen_wikipedia_2x2_contingency.csv", index_col=0)
    res = ag.cohen_kappa_table(table)
    assert res.p_observed == pytest.approx(0.70)
    assert res.kappa == pytest.approx(0.40)
    # the same data as two rating vectors
    a, b = [], []
    for r in table.index:
        for c in table.columns:
            a += [r] * int(table.loc[r, c])
            b += [c] * int(table.loc[r, c])
    assert ag.percent_agreement(a, b) == pytest.approx(0.70)
    assert ag.cohen_kappa(a, b).kappa == pytest.approx(0.40)
    assert ag.brennan_prediger_kappa(a, b) == pytest.approx((0.7 - 0.5) / 0.5)


def _nvivo_case(both: int, one: int, total: int):
    """A transcript of ``total`` characters; A codes [0, both + a_only), B the next stretch."""
    a_only = one // 2
    b_only = one - a_only
    codings = pd.DataFrame(
        {
            "coding_id": ["c1", "c2"],
            "transcript_id": ["T1", "T1"],
            "coder": ["ann", "bob"],
            "round": ["2", "2"],
            "start": [0, a_only],
            "end": [a_only + both, a_only + both + b_only],
            "code": ["mentorship", "mentorship"],
            "codebook_version": ["v1", "v1"],
        }
    )
    transcripts = pd.DataFrame({"transcript_id": ["T1"], "text": ["x" * total], "n_chars": [total]})
    return codings, transcripts, a_only, b_only


def test_nvivo_percent_agreement_example():
    fx = fixture("nvivo_percent_agreement_example.csv").iloc[0]
    codings, transcripts, a_only, b_only = _nvivo_case(
        int(fx["coded_by_both"]), int(fx["coded_by_one_only"]), int(fx["source_characters"])
    )
    out = ag.nvivo_coding_comparison(codings, transcripts, "ann", "bob")
    row = out.iloc[0]
    assert row["percent_agreement"] == pytest.approx(fx["expected_percent_agreement"])
    assert (row["a_and_b"], row["a_only"] + row["b_only"], row["neither"]) == (
        fx["coded_by_both"],
        fx["coded_by_one_only"],
        fx["coded_by_neither"],
    )
    # kappa: Cohen's kappa on the per-character yes/no vectors, computed independently
    n = int(fx["source_characters"])
    ca = np.zeros(n, bool)
    ca[0 : a_only + int(fx["coded_by_both"])] = True
    cb = np.zeros(n, bool)
    cb[a_only : a_only + int(fx["coded_by_both"]) + b_only] = True
    assert row["kappa"] == pytest.approx(ag.cohen_kappa(ca, cb).kappa)


# ---------------------------------------------------------------------------
# Further published sets
# ---------------------------------------------------------------------------
def test_krippendorff_wikipedia_example():
    data = fixture("krippendorff_wikipedia_3coders_15units.csv", index_col="unit")
    # Wikipedia, "A computational example": nominal 0.691, interval 0.811; the same
    # values (0.691358, 0.810845) are asserted by the krippendorff package's own tests.
    assert ag.krippendorff_alpha(data, "nominal") == pytest.approx(0.691358, abs=5e-7)
    assert ag.krippendorff_alpha(data, "interval") == pytest.approx(0.810845, abs=5e-7)
    # units with fewer than two values are not pairable: dropping them changes nothing
    m = data.notna().sum(axis=1)
    assert ag.krippendorff_alpha(data[m >= 2], "nominal") == ag.krippendorff_alpha(data, "nominal")


def test_hayes_krippendorff_2007():
    krippendorff = pytest.importorskip("krippendorff")
    data = fixture("hayes_krippendorff2007_5obs_40units.csv", index_col="unit")
    assert ag.krippendorff_alpha(data, "ordinal") == pytest.approx(0.7598, abs=5e-5)  # as published
    for level in ("nominal", "interval", "ratio"):  # no published value: reference software
        ref = krippendorff.alpha(data.T.to_numpy(float), level_of_measurement=level)
        assert ag.krippendorff_alpha(data, level) == pytest.approx(ref, abs=1e-12)


def test_fleiss_1971_diagnoses_overall_and_by_category():
    ratings = fixture("fleiss1971_diagnoses_30subjects_6raters.csv", index_col="subject")
    labels = fixture("fleiss1971_diagnoses_category_labels.csv")
    counts = counts_table(ratings, labels["code"])
    res = ag.fleiss_kappa(counts, by_category=True)
    assert res.kappa == pytest.approx(0.4302445, abs=5e-8)  # irr::kappam.fleiss; Fleiss (1971) .430
    published = {1: 0.245, 2: 0.245, 3: 0.520, 4: 0.471, 5: 0.566}  # Fleiss (1971); irr detail=TRUE
    for code, value in published.items():
        assert res.by_category.loc[code, "kappa"] == pytest.approx(value, abs=5e-4)
    # Fleiss (1971): overall kappa is the p_j q_j-weighted mean of the category kappas
    pq = res.by_category["p"] * (1 - res.by_category["p"])
    assert (pq * res.by_category["kappa"]).sum() / pq.sum() == pytest.approx(res.kappa)


def test_fleiss_1971_cohen_rater1_rater2_software_check():
    ratings = fixture("fleiss1971_diagnoses_30subjects_6raters.csv", index_col="subject")
    a, b = ratings["rater1"].to_numpy(), ratings["rater2"].to_numpy()
    # independent hand computation (the raters differ across subjects: a software check only)
    cats = np.union1d(a, b)
    po = np.mean(a == b)
    pe = sum(np.mean(a == c) * np.mean(b == c) for c in cats)
    res = ag.cohen_kappa(a, b)
    assert res.kappa == pytest.approx((po - pe) / (1 - pe))
    assert res.kappa == pytest.approx(0.6512, abs=5e-5)


@pytest.mark.parametrize(
    "weights, kappa, z, p",
    [
        (None, -0.006289308, -0.0604067, 0.9518317),  # irr::kappa2(anxiety[,2:3])
        ("linear", 0.1459075, 1.282472, 0.1996772),  # weight = "equal"
        ("quadratic", 0.2520325, 1.437451, 0.1505898),  # weight = "squared"
    ],
)
def test_irr_anxiety_kappa2(weights, kappa, z, p):
    data = fixture("irr_anxiety_20subjects_3raters.csv", index_col="subject")
    res = ag.cohen_kappa(data["rater2"], data["rater3"], weights)
    assert res.kappa == pytest.approx(kappa, abs=5e-7)
    assert res.z == pytest.approx(z, abs=5e-6)
    assert res.p_value == pytest.approx(p, abs=5e-7)


def test_irr_weights_are_ranks_not_values():
    data = fixture("irr_anxiety_20subjects_3raters.csv", index_col="subject")
    by_rank = ag.cohen_kappa(data["rater2"], data["rater3"], "linear").kappa
    by_value = ag.cohen_kappa(data["rater2"], data["rater3"], "linear", scores="values").kappa
    assert by_rank != pytest.approx(by_value)  # level 5 is unobserved: the two rules differ


def test_sas_3x3_kappa_ase_ci_and_weighted():
    table = fixture("sas_cohen_3x3_contingency.csv", index_col=0)
    res = ag.cohen_kappa_table(table)
    got = [res.kappa, res.se, res.ci_low, res.ci_high, res.se0, res.z]
    assert got == pytest.approx([0.4842, 0.1380, 0.2137, 0.7547, 0.1484, 3.2626], abs=5e-5)
    w = ag.cohen_kappa_table(table, "linear", scores=[0, 1, 2])
    got = [w.kappa, w.se, w.ci_low, w.ci_high, w.se0, w.z]
    assert got == pytest.approx([0.4701, 0.1457, 0.1845, 0.7558, 0.1426, 3.2971], abs=5e-5)


# ---------------------------------------------------------------------------
# Cross-checks against the krippendorff package (tests only: it is GPL-3.0)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("level", ag.LEVELS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alpha_matches_krippendorff_package_random(level, seed):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    units, coders = 60, 2 + seed
    truth = rng.integers(0, 7, units)
    x = np.where(rng.random((units, coders)) < 0.6, truth[:, None], rng.integers(0, 7, (units, coders))).astype(float)
    x[rng.random(x.shape) < 0.25] = np.nan
    ref = krippendorff.alpha(x.T, level_of_measurement=level)
    assert ag.krippendorff_alpha(pd.DataFrame(x), level) == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("level", ["interval", "ratio", "ordinal"])
def test_alpha_many_distinct_values_matches_package(level):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(7)
    base = rng.gamma(2.0, 3.0, 100)
    x = base[:, None] * rng.lognormal(0, 0.2, (100, 3))
    x[rng.random(x.shape) < 0.2] = np.nan
    ref = krippendorff.alpha(x.T, level_of_measurement=level)
    assert ag.krippendorff_alpha(pd.DataFrame(x), level) == pytest.approx(ref, abs=1e-9)


def test_ratio_quadrature_equals_exact_sum():
    rng = np.random.default_rng(11)
    x = rng.lognormal(1.0, 1.5, (800, 3))
    x[0, 0] = 0.0
    x[1, :2] = 0.0  # zero pairs: delta(0, 0) = 0
    x[rng.random(x.shape) < 0.1] = np.nan
    exact = salpha.alpha_parts(x, "ratio", ratio_exact_max=10**9)
    quad = salpha.alpha_parts(x, "ratio", ratio_exact_max=0)
    assert quad[2] == pytest.approx(exact[2], rel=1e-10)
    assert quad[0] == pytest.approx(exact[0], abs=1e-10)


def test_alpha_string_and_ordered_categorical_input():
    data = fixture("krippendorff2011_4coders_12units.csv", index_col="unit")
    words = data.apply(lambda col: col.map(lambda v: None if pd.isna(v) else f"v{int(v)}"))
    assert ag.krippendorff_alpha(words, "nominal") == pytest.approx(0.743, abs=5e-4)
    cats = [f"v{i}" for i in range(1, 6)]
    ordered = words.apply(lambda col: pd.Categorical(col, categories=cats, ordered=True))
    assert ag.krippendorff_alpha(ordered, "ordinal") == pytest.approx(0.815, abs=5e-4)
    with pytest.raises(ag.AgreementError, match="non-numeric"):
        ag.krippendorff_alpha(words, "interval")


# ---------------------------------------------------------------------------
# Fleiss edge cases, Brennan-Prediger
# ---------------------------------------------------------------------------
def test_fleiss_all_identical_returns_one_with_note():
    res = ag.fleiss_kappa(np.array([[0, 4, 0], [0, 4, 0], [0, 4, 0]]))
    assert res.kappa == 1.0 and "0/0" in res.note


def test_fleiss_unequal_raters_generalised():
    x = np.array([[3, 0, 1], [0, 2, 0], [1, 1, 3], [0, 0, 2], [2, 1, 0]], float)
    res = ag.fleiss_kappa(x)
    assert res.method == "generalised" and res.n_raters is None
    # independent loop over subjects
    pis = [sum(v * (v - 1) for v in row) / (row.sum() * (row.sum() - 1)) for row in x]
    pj = x.sum(0) / x.sum()
    expected = (np.mean(pis) - (pj**2).sum()) / (1 - (pj**2).sum())
    assert res.kappa == pytest.approx(expected)


def test_brennan_prediger_many_raters_equals_randolph():
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    ratings = fixture("fleiss1971_diagnoses_30subjects_6raters.csv", index_col="subject")
    counts = counts_table(ratings, [1, 2, 3, 4, 5])
    assert ag.brennan_prediger_kappa(ratings, n_categories=5) == pytest.approx(
        sm_fleiss(counts.to_numpy(), method="randolph")
    )
    assert ag.percent_agreement(ratings) == pytest.approx(ag.fleiss_kappa(counts).p_bar)


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------
def test_alpha_bootstrap_seeded_and_consistent():
    data = fixture("hayes_krippendorff2007_5obs_40units.csv", index_col="unit")
    b1 = ag.alpha_bootstrap_ci(data, "ordinal", n_boot=4000, seed=3, alpha_min=(0.6, 0.7, 0.8, 0.9))
    b2 = ag.alpha_bootstrap_ci(data, "ordinal", n_boot=4000, seed=3, alpha_min=(0.6, 0.7, 0.8, 0.9))
    b3 = ag.alpha_bootstrap_ci(data, "ordinal", n_boot=4000, seed=4)
    assert b1.alpha == pytest.approx(0.7598, abs=5e-5)
    assert (b1.ci_low, b1.ci_high, b1.q) == (b2.ci_low, b2.ci_high, b2.q)
    assert not np.array_equal(b1.distribution, b3.distribution)
    assert b1.ci_low < b1.alpha < b1.ci_high
    qs = [b1.q[a] for a in (0.6, 0.7, 0.8, 0.9)]
    assert qs == sorted(qs) and qs[-1] > 0.9 and qs[0] < 0.1
    assert float(np.mean(b1.distribution)) == pytest.approx(b1.alpha, abs=0.01)  # unbiased draws
    # M = min(25 e, sum_u m_u (m_u - 1) / 2): 239 pairs of pairable values (issue 16), not
    # n (m - 1) / 2 = 318 with n = 159 pairable values and m = 5 observer columns
    assert b1.n_draws == 239


def test_alpha_bootstrap_bad_input():
    with pytest.raises(ag.AgreementError, match="n_boot"):
        ag.alpha_bootstrap_ci(pd.DataFrame([[1, 2], [2, 2], [1, 1]]), n_boot=10)
    with pytest.raises(ag.AgreementError, match="no variation"):
        ag.alpha_bootstrap_ci(pd.DataFrame([[1, 1], [1, 1]]))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="a, b: have different lengths"):
        ag.cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(QDAError, match="not rated by both"):
        ag.cohen_kappa([1, None, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="reliability_data: has no pairable values"):
        ag.krippendorff_alpha(pd.DataFrame({"a": [1, np.nan], "b": [np.nan, 2]}))
    with pytest.raises(ValueError, match="level: is 'cardinal'"):
        ag.krippendorff_alpha(pd.DataFrame({"a": [1, 2], "b": [1, 2]}), "cardinal")
    with pytest.raises(ValueError, match="negative values"):
        ag.krippendorff_alpha(pd.DataFrame({"a": [-1, 2], "b": [1, 2]}), "ratio")
    with pytest.raises(ValueError, match="counts: subject row 1"):
        ag.fleiss_kappa([[2, 1], [1, 0]])
    with pytest.raises(ValueError, match="weights: is 'cubic'"):
        ag.cohen_kappa([1, 2], [2, 1], "cubic")
    with pytest.raises(ValueError, match="contingency"):
        ag.cohen_kappa_table([[1, 2, 3], [4, 5, 6]])
    assert np.isnan(ag.krippendorff_alpha(pd.DataFrame({"a": [3, 3], "b": [3, 3]})))


# ---------------------------------------------------------------------------
# Coded text
# ---------------------------------------------------------------------------
def _random_codings(rng, n_transcripts=3, length=300, codes=("x", "y"), coders=("ann", "bob"), per=6):
    rows = []
    for t in range(n_transcripts):
        for coder in coders:
            for _ in range(per):
                s = int(rng.integers(0, length - 1))
                e = int(rng.integers(s + 1, min(length, s + 80) + 1))
                rows.append(
                    {
                        "coding_id": f"c{len(rows)}",
                        "transcript_id": f"T{t}",
                        "coder": coder,
                        "round": "2",
                        "start": s,
                        "end": e,
                        "code": str(rng.choice(codes)),
                        "codebook_version": "v1",
                    }
                )
    codings = pd.DataFrame(rows)
    transcripts = pd.DataFrame(
        {"transcript_id": [f"T{t}" for t in range(n_transcripts)], "n_chars": [length] * n_transcripts}
    )
    return codings, transcripts


@pytest.mark.parametrize("seed", range(5))
def test_nvivo_interval_arithmetic_equals_per_character_brute_force(seed):
    rng = np.random.default_rng(seed)
    codings, transcripts = _random_codings(rng)
    out = ag.nvivo_coding_comparison(codings, transcripts, "ann", "bob").set_index(["code", "transcript_id"])
    for (code, tid), row in out.iterrows():
        ca, cb = np.zeros(300, bool), np.zeros(300, bool)
        for r in codings.itertuples():
            if r.code == code and r.transcript_id == tid:
                (ca if r.coder == "ann" else cb)[r.start : r.end] = True
        assert row["a_and_b"] == (ca & cb).sum() and row["neither"] == (~ca & ~cb).sum()
        assert row["percent_agreement"] == pytest.approx(100 * (ca == cb).mean())
        expect = 1.0 if (ca == cb).all() else ag.cohen_kappa(ca, cb).kappa
        assert row["kappa"] == pytest.approx(expect)
    pooled = ag.nvivo_coding_comparison(codings, transcripts, "ann", "bob", by="code").set_index("code")
    assert pooled.loc["x", "a_and_b"] == out.xs("x")["a_and_b"].sum()


def test_nvivo_bad_offsets_and_coder():
    codings, transcripts, *_ = _nvivo_case(50, 150, 1000)
    with pytest.raises(ValueError, match="coder: 'cy' has no codings"):
        ag.nvivo_coding_comparison(codings, transcripts, "ann", "cy")
    short = transcripts.assign(n_chars=100)
    with pytest.raises(ValueError, match="beyond the transcript"):
        ag.nvivo_coding_comparison(codings, short, "ann", "bob")


def test_segment_overlap_maxqda_rule():
    rows = [  # transcript, coder, code, start, end
        ("T1", "ann", "x", 0, 100),
        ("T1", "bob", "x", 5, 100),  # overlap 95 / span 100 -> match
        ("T1", "ann", "x", 200, 300),
        ("T1", "bob", "x", 220, 300),  # 80 / 100 -> no match at 0.9
        ("T1", "ann", "y", 400, 450),  # bob never codes it
        ("T1", "bob", "y", 500, 520),
        ("T1", "ann", "y", 500, 521),  # 20 / 21 = 0.952 -> match
    ]
    codings = pd.DataFrame(rows, columns=["transcript_id", "coder", "code", "start", "end"])
    out = ag.segment_overlap_agreement(codings, "ann", "bob", 0.9).set_index("code")
    assert out.loc["x", ["a_segments", "a_matched", "b_segments", "b_matched"]].tolist() == [2, 1, 2, 1]
    assert out.loc["y", ["a_segments", "a_matched", "b_segments", "b_matched"]].tolist() == [2, 1, 1, 1]
    assert out.loc["x", "percent_agreement"] == pytest.approx(50.0)
    total = out.loc[ag.ALL_CODES]
    assert (total["agreements"], total["disagreements"]) == (4, 3)
    assert total["kappa"] == pytest.approx((4 / 7 - 1 / 2) / (1 - 1 / 2))  # Brennan-Prediger, 2 codes
    lax = ag.segment_overlap_agreement(codings, "ann", "bob", 0.8).set_index("code")
    assert lax.loc["x", "agreements"] == 4
    with pytest.raises(ValueError, match="min_overlap"):
        ag.segment_overlap_agreement(codings, "ann", "bob", 1.5)


# ---------------------------------------------------------------------------
# Fixed units: alpha over unit decisions and the Campbell procedure
# ---------------------------------------------------------------------------
def _units():
    return pd.DataFrame(
        {
            "transcript_id": ["T1"] * 4 + ["T2"] * 2,
            "turn": [2, 4, 6, 8, 2, 4],
            "unit_id": ["T1-T002", "T1-T004", "T1-T006", "T1-T008", "T2-T002", "T2-T004"],
            "speaker": ["PARTICIPANT"] * 6,
            "start": [0, 100, 200, 300, 0, 100],
            "end": [90, 190, 290, 390, 90, 190],
        }
    )


def test_unit_decision_alpha_per_code_and_overall():
    krippendorff = pytest.importorskip("krippendorff")
    rows = [  # coder, transcript, code, start, end (each covers one unit wholly)
        ("ann", "T1", "x", 0, 90),
        ("bob", "T1", "x", 0, 90),
        ("ann", "T1", "x", 100, 190),
        ("ann", "T1", "y", 200, 290),
        ("bob", "T1", "y", 200, 290),
        ("bob", "T1", "y", 300, 390),
        ("ann", "T2", "x", 0, 90),
        ("bob", "T2", "x", 0, 90),
        ("ann", "T2", "y", 100, 190),
        ("bob", "T2", "y", 100, 190),
    ]
    codings = pd.DataFrame(rows, columns=["coder", "transcript_id", "code", "start", "end"])
    out = ag.unit_decision_alpha(codings, _units()).set_index("code")
    # code x: decisions ann 1,1,0,0,1,0 ; bob 1,0,0,0,1,0 over the six units
    ann = [1, 1, 0, 0, 1, 0]
    bob = [1, 0, 0, 0, 1, 0]
    assert out.loc["x", "n_units"] == 6 and out.loc["x", "n_disagreements"] == 1
    assert out.loc["x", "percent_agreement"] == pytest.approx(100 * 5 / 6)
    assert out.loc["x", "alpha"] == pytest.approx(krippendorff.alpha([ann, bob], level_of_measurement="nominal"))
    assert out.loc[ag.ALL_CODES, "n_units"] == 12
    assert out.loc[ag.ALL_CODES, "percent_agreement"] == pytest.approx(100 * 10 / 12)


def _decisions():
    grid = []
    ann = {"x": [1, 1, 0, 0], "y": [0, 1, 1, 0]}
    bob = {"x": [1, 0, 0, 1], "y": [0, 1, 1, 0]}
    for rnd, tid in (("2", "T1"), ("3", "T2")):
        for code in ("x", "y"):
            for i in range(4):
                for coder, d in (("ann", ann), ("bob", bob)):
                    grid.append(
                        {
                            "round": rnd,
                            "transcript_id": tid,
                            "unit_id": f"{tid}-U{i}",
                            "coder": coder,
                            "code": code,
                            "applied": bool(d[code][i]),
                        }
                    )
    return pd.DataFrame(grid)


def test_campbell_reliability_and_agreement():
    dec = _decisions()
    # round 2: code x disagreements on U1 (resolved) and U3 (unresolved); round 3: U1 resolved, U3 missing
    rec = pd.DataFrame(
        {
            "round": ["2", "2", "3"],
            "transcript_id": ["T1", "T1", "T2"],
            "unit_id": ["T1-U1", "T1-U3", "T2-U1"],
            "code": ["x", "x", "x"],
            "coded_by": ["ann", "bob", "ann"],
            "not_coded_by": ["bob", "ann", "bob"],
            "resolution": ["present", "unresolved", "absent"],
            "note": ["", "", ""],
        }
    )
    out = ag.campbell_reliability_agreement(dec, rec).set_index(["round", "code"])
    r2x = out.loc[("2", "x")]
    assert r2x["reliability_percent"] == pytest.approx(50.0)
    assert (r2x["n_disagreements"], r2x["n_resolved"], r2x["n_not_reconciled"]) == (2, 1, 0)
    assert r2x["agreement_percent"] == pytest.approx(75.0) and r2x["share_resolved"] == pytest.approx(0.5)
    r3x = out.loc[("3", "x")]
    assert (r3x["n_resolved"], r3x["n_not_reconciled"]) == (1, 1)
    assert out.loc[("2", "y"), "reliability_percent"] == pytest.approx(100.0)
    assert np.isnan(out.loc[("2", "y"), "share_resolved"])
    tot = out.loc[("2", ag.ALL_CODES)]
    assert tot["n_units"] == 8 and tot["agreement_percent"] == pytest.approx(100 * 7 / 8)
    assert tot["reliability_alpha"] == pytest.approx(
        ag.krippendorff_alpha(
            pd.DataFrame({"ann": [1, 1, 0, 0, 0, 1, 1, 0], "bob": [1, 0, 0, 1, 0, 1, 1, 0]}), "nominal"
        )
    )
    # without a round column the rounds come from the reconciliation table
    again = ag.campbell_reliability_agreement(dec.drop(columns="round"), rec)
    pd.testing.assert_frame_equal(again.set_index(["round", "code"]), out)
    with pytest.raises(ValueError, match="reconciliation: lacks column"):
        ag.campbell_reliability_agreement(dec, rec.drop(columns="resolution"))


def test_campbell_on_synthetic_corpus(study):
    """Integration: rounds 2 and 3 of the synthetic study, units from qda.study.units."""
    from qda.study.units import participant_units, unit_decisions

    units = participant_units(study.transcripts)
    rounds = [r for r in ("2", "3") if (study.codings["round"] == r).any()]
    if not rounds or study.reconciliation.empty:
        pytest.skip("the synthetic study has no round-2/3 codings or no reconciliation table")
    dec = pd.concat([unit_decisions(study.codings[study.codings["round"] == r], units).assign(round=r) for r in rounds])
    out = ag.campbell_reliability_agreement(dec, study.reconciliation)
    assert set(out["round"]) == set(rounds)
    overall = out[out["code"] == ag.ALL_CODES]
    assert (overall["agreement_percent"] >= overall["reliability_percent"]).all()
    assert overall["reliability_alpha"].between(-1, 1).all()
    assert (overall["n_not_reconciled"] == 0).all()  # every disagreement was discussed
    per_code = ag.unit_decision_alpha(study.codings[study.codings["round"] == rounds[-1]], units)
    assert per_code.iloc[-1]["n_units"] == overall.iloc[-1]["n_units"]


# ---------------------------------------------------------------------------
# Book summaries: decision matrix, Fleiss bootstrap, reliability with intervals, unit choice
# ---------------------------------------------------------------------------
def test_decision_matrix_values_and_missing_coder():
    dec = _decisions()
    wide = ag.decision_matrix(dec)
    assert wide.index.names == ["round", "transcript_id", "unit_id", "code"]
    assert wide.loc[("2", "T1", "T1-U1", "x"), "ann"] == 1.0 and wide.loc[("2", "T1", "T1-U1", "x"), "bob"] == 0.0
    # a third coder who coded only T2: NaN on T1, decisions on T2
    extra = dec.loc[dec["transcript_id"] == "T2"].query("coder == 'ann'").assign(coder="cat")
    wide3 = ag.decision_matrix(pd.concat([dec, extra]))
    assert wide3.xs("T1", level="transcript_id")["cat"].isna().all()
    assert wide3.xs("T2", level="transcript_id")["cat"].notna().all()


def test_fleiss_bootstrap_estimate_interval_and_clusters():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 300)
    ratings = np.column_stack([np.where(rng.random(300) < 0.85, truth, 1 - truth) for _ in range(3)])
    counts = np.column_stack([ratings.sum(1), 3 - ratings.sum(1)])
    k, lo, hi = ag.fleiss_bootstrap_ci(counts, n_boot=500, seed=1)
    assert k == pytest.approx(ag.fleiss_kappa(counts).kappa)
    assert lo < k < hi and hi - lo < 0.25
    # one cluster per subject is the ordinary bootstrap, draw for draw
    assert ag.fleiss_bootstrap_ci(counts, n_boot=500, seed=1, clusters=np.arange(300)) == pytest.approx((k, lo, hi))
    # clustering pairs of identical subjects widens the interval
    doubled = np.repeat(counts, 2, axis=0)
    _, lo1, hi1 = ag.fleiss_bootstrap_ci(doubled, n_boot=500, seed=1)
    _, lo2, hi2 = ag.fleiss_bootstrap_ci(doubled, n_boot=500, seed=1, clusters=np.repeat(np.arange(300), 2))
    assert hi2 - lo2 > hi1 - lo1
    with pytest.raises(ValueError, match="n_boot"):
        ag.fleiss_bootstrap_ci(counts, n_boot=10)
    with pytest.raises(ValueError, match="clusters"):
        ag.fleiss_bootstrap_ci(counts, clusters=[1, 2])


def test_reliability_with_ci_matches_the_point_estimates():
    dec = _decisions()
    out = ag.reliability_with_ci(dec, n_boot=200, seed=0)
    assert set(out["round"]) == {"2", "3"}
    r2 = out.loc[out["round"] == "2"].set_index(["measure", "interval"])
    pct = r2.xs("percent agreement", level="measure")["estimate"].iloc[0]
    assert pct == pytest.approx(100 * 6 / 8)  # round 2: ann and bob differ on two of eight (x: U1, U3)
    ann = [1, 1, 0, 0, 0, 1, 1, 0]
    bob = [1, 0, 0, 1, 0, 1, 1, 0]
    alphas = r2.xs("Krippendorff's alpha", level="measure")["estimate"]
    assert len(alphas) == 2 and alphas.to_numpy() == pytest.approx(
        ag.krippendorff_alpha(pd.DataFrame({"a": ann, "b": bob}))
    )
    coh = out.loc[(out["round"] == "2") & (out["measure"] == "Cohen's kappa")].iloc[0]
    assert coh["coders"] == "ann vs bob"
    ref = ag.cohen_kappa(ann, bob)
    assert (coh["estimate"], coh["ci_low"], coh["ci_high"]) == pytest.approx((ref.kappa, ref.ci_low, ref.ci_high))
    assert (out["ci_low"] <= out["estimate"] + 1e-9).all() and (out["estimate"] <= out["ci_high"] + 1e-9).all()
    with pytest.raises(ValueError, match="no unit coded by two"):
        ag.reliability_with_ci(dec.loc[dec["coder"] == "ann"], n_boot=200)


def test_agreement_by_unit_choice_hand_example():
    # one transcript of 400 characters, two participant units [0,100) and [200,300)
    units = pd.DataFrame(
        {"transcript_id": ["T1", "T1"], "unit_id": ["T1-T002", "T1-T004"], "start": [0, 200], "end": [100, 300]}
    )
    transcripts = pd.DataFrame({"transcript_id": ["T1"], "n_chars": [400]})
    codings = pd.DataFrame(
        {
            "transcript_id": "T1",
            "coder": ["ann", "bob", "ann", "bob"],
            "code": ["x", "x", "y", "y"],
            "start": [0, 10, 200, 250],
            "end": [100, 100, 300, 300],
            "round": "2",
        }
    )
    out = ag.agreement_by_unit_choice(codings, transcripts, units, "ann", "bob").set_index("unit")
    # characters, per code: x differs on 10 of 400, y on 50 of 400 -> (800 - 60) / 800
    assert out.loc["characters (NVivo)", "n"] == 800
    assert out.loc["characters (NVivo)", "percent_agreement"] == pytest.approx(100 * 740 / 800)
    # segments: x matches (90/100 >= 0.9), y does not (50/100): 2 of 4 segments matched
    assert out.loc["segments (MAXQDA)", "percent_agreement"] == pytest.approx(50.0)
    # fixed units: bob's y covers half of unit 2 -> applied; all four decisions agree
    assert out.loc["fixed units (Campbell)", "n"] == 4
    assert out.loc["fixed units (Campbell)", "percent_agreement"] == pytest.approx(100.0)
    assert out.loc["fixed units (Campbell)", "kappa"] == pytest.approx(1.0)
    assert list(out["round"]) == ["2"] * 3


def test_unit_choice_and_reliability_on_synthetic_corpus(study):
    from qda.study.units import participant_units, unit_decisions

    c = study.codings
    r23 = c[c["round"].astype(str).isin(["2", "3"])]
    units = participant_units(study.transcripts[study.transcripts["transcript_id"].isin(r23["transcript_id"])])
    by_unit = ag.agreement_by_unit_choice(r23, study.transcripts, units, "analyst_a", "analyst_b")
    wide = by_unit.pivot(index="unit", columns="round", values="percent_agreement")
    assert (wide["2"] < wide["3"]).all()  # the refined codebook helps, whatever the unit
    # on free spans (round 2) the unit counted changes the number: whole segments must match
    # to agree, characters agree wherever neither coded
    assert wide.loc["segments (MAXQDA)", "2"] < wide.loc["characters (NVivo)", "2"]
    dec = pd.concat([unit_decisions(g, units).assign(round=r) for r, g in r23.groupby(r23["round"].astype(str))])
    rel = ag.reliability_with_ci(dec, n_boot=200)
    alpha = rel.loc[rel["interval"].str.contains("all pairs")].set_index("round")
    assert alpha.loc["2", "ci_high"] < alpha.loc["3", "ci_low"]


# ---------------------------------------------------------------------------
# Regressions of issue 16 (each failed before its fix)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["interval", "ordinal", "ratio", "nominal"])
def test_alpha_without_variation_is_nan_at_every_level(level):
    # rounding left D_e ~ 1e-33 at the interval level: -0.25 and 1.0 instead of nan
    assert np.isnan(ag.krippendorff_alpha([[0.7] * 3, [0.7] * 3], level))
    assert np.isnan(ag.krippendorff_alpha(np.full((3, 2), 0.1), level))
    assert np.isnan(ag.krippendorff_alpha(pd.DataFrame({"a": [0.1, np.nan, 0.1], "b": [0.1, 0.1, 0.1]}), level))


def test_bootstrap_draws_count_pairable_values_not_coder_columns():
    data = fixture("hayes_krippendorff2007_5obs_40units.csv", index_col="unit")
    m_u = data.notna().sum(axis=1)
    assert salpha.pairable_pairs(m_u) == int((m_u * (m_u - 1) // 2).sum()) == 239
    # uncapped bootstrap: all 239 pairs, not n (m - 1) / 2 = 159 * 4 / 2 = 318
    big = ag.alpha_bootstrap_ci(data, "ordinal", n_boot=200, seed=0, n_draws=None)
    assert big.n_draws == 239


def _decisions_with_partial_coder():
    rows = []
    for tid, coders in (("T1", ("ann", "bob")), ("T3", ("ann", "bob", "cat"))):
        for i in range(4):
            for j, coder in enumerate(coders):
                rows.append(
                    {
                        "round": "2",
                        "transcript_id": tid,
                        "unit_id": f"{tid}-U{i}",
                        "coder": coder,
                        "code": "x",
                        "applied": bool((i + (j == 1 and i == 2)) % 2),
                    }
                )
    return pd.DataFrame(rows)


def test_reliability_with_ci_all_pairs_counts_pairs_per_unit():
    out = ag.reliability_with_ci(_decisions_with_partial_coder(), n_boot=200)
    all_pairs = out.loc[out["interval"].str.contains("all pairs"), "interval"].iloc[0]
    # T1: 4 units x 1 pair (cat did not code it); T3: 4 units x 3 pairs -> 16, not 20 x 2 / 2 = 20
    assert "(16 draws)" in all_pairs


def test_fleiss_bootstrap_follows_fleiss_convention_without_variation():
    assert ag.fleiss_kappa([[2, 0], [2, 0]]).kappa == 1.0
    assert ag.fleiss_bootstrap_ci([[2, 0], [2, 0]], n_boot=100) == (1.0, 1.0, 1.0)
    # replicates that happen to draw one category only count as 1.0 too, never dropped
    k, lo, hi = ag.fleiss_bootstrap_ci([[3, 0], [3, 0], [3, 0], [0, 3]], n_boot=200, seed=0)
    assert k == pytest.approx(1.0) and lo == hi == 1.0


def test_fleiss_one_pass_equals_statsmodels_and_accepts_integer_and_float_tables():
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    rng = np.random.default_rng(5)
    counts = rng.multinomial(6, [0.5, 0.3, 0.2], size=500)
    for table in (counts, counts.astype(float), pd.DataFrame(counts, columns=list("abc"))):
        assert ag.fleiss_kappa(table).kappa == pytest.approx(sm_fleiss(counts), abs=1e-12)
    with pytest.raises(ValueError, match="fractional"):
        ag.fleiss_kappa(counts + 0.5)
    with pytest.raises(ValueError, match="negative"):
        ag.fleiss_kappa(counts - 10)


def test_custom_disagreement_weights_must_be_scaled_0_to_1():
    table = np.array([[10, 2, 1], [3, 8, 2], [1, 2, 9]])
    scaled = np.abs(np.subtract.outer(np.arange(3), np.arange(3))) / 2.0
    ok = ag.cohen_kappa_table(table, scaled)
    assert 0 < ok.p_expected < ok.p_observed <= 1
    with pytest.raises(ValueError, match="weights: are not disagreement weights scaled to 0-1"):
        ag.cohen_kappa_table(table, scaled * 2)  # gave p_expected < 0 before
    with pytest.raises(ValueError, match="diagonal"):
        ag.cohen_kappa_table(table, scaled + 0.1)


def test_brennan_prediger_rejects_fewer_categories_than_observed():
    a, b = [0, 1, 2, 0], [0, 1, 2, 1]
    assert ag.brennan_prediger_kappa(a, b, n_categories=4) == pytest.approx((0.75 - 0.25) / 0.75)
    with pytest.raises(ValueError, match="n_categories: is 2 but the ratings use 3"):
        ag.brennan_prediger_kappa(a, b, n_categories=2)


def test_campbell_with_integer_ids_float_rounds_and_capitalised_resolutions():
    dec = _decisions()
    rec = pd.DataFrame(
        {
            "round": [2.0, 2.0, 3.0],
            "transcript_id": ["T1", "T1", "T2"],
            "unit_id": ["T1-U1", "T1-U3", "T2-U1"],
            "code": ["x", "x", "x"],
            "coded_by": ["ann", "bob", "ann"],
            "not_coded_by": ["bob", "ann", "bob"],
            "resolution": ["Present", "UNRESOLVED", " absent"],
            "note": ["", "", ""],
        }
    )
    out = ag.campbell_reliability_agreement(dec, rec).set_index(["round", "code"])
    assert set(out.index.get_level_values("round")) == {"2", "3"}
    assert (out.loc[("2", "x"), "n_resolved"], out.loc[("3", "x"), "n_resolved"]) == (1, 1)
    assert out.loc[("2", "x"), "n_not_reconciled"] == 0
    # integer unit and transcript ids on both sides (crashed in the pandas merge)
    num = {"T1": 1, "T2": 2}
    dec_i = dec.assign(
        transcript_id=dec["transcript_id"].map(num),
        unit_id=dec["unit_id"].str[-1].astype(int) + 10 * dec["transcript_id"].map(num),
    )
    rec_i = rec.assign(transcript_id=[1, 1, 2], unit_id=[11, 13, 21])
    out_i = ag.campbell_reliability_agreement(dec_i, rec_i).set_index(["round", "code"])
    pd.testing.assert_frame_equal(out_i, out)
    with pytest.raises(ValueError, match="resolution value"):
        ag.campbell_reliability_agreement(dec, rec.assign(resolution=["present", "maybe", "absent"]))


def test_unitized_alpha_is_a_deprecated_alias_of_unit_decision_alpha():
    codings = pd.DataFrame(
        [("ann", "T1", "x", 0, 90), ("bob", "T1", "x", 0, 90), ("ann", "T1", "x", 100, 190)],
        columns=["coder", "transcript_id", "code", "start", "end"],
    )
    with pytest.warns(DeprecationWarning, match="unit_decision_alpha"):
        old = ag.unitized_alpha(codings, _units())
    pd.testing.assert_frame_equal(old, ag.unit_decision_alpha(codings, _units()))
