"""Reliability on a study object: unitizing alphas per code and domain, Campbell's grid, the 50 % rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qda import agreement as ag
from qda import agreement as rel  # the public facade: every reliability function of qda.analysis
from qda.stats.unitizing import unitizing_alpha
from qda.study.model import Study
from qda.study.schema import empty_frame


def _study(extra: list[tuple] = ()) -> Study:
    """Two transcripts (100 and 50 code points), codes a, b (group G1), c, d (G2), coders ann and bob, round 2."""
    rows = [
        ("ann", "T1", "a", 0, 20),
        ("ann", "T1", "b", 30, 40),
        ("ann", "T1", "c", 0, 10),
        ("ann", "T1", "c", 5, 15),  # overlaps ann's other c: merged, not an error
        ("ann", "T2", "a", 10, 30),
        ("bob", "T1", "a", 0, 20),
        ("bob", "T1", "a", 30, 40),
        ("bob", "T1", "c", 0, 12),
        ("bob", "T2", "b", 10, 25),
        *extra,
    ]
    codings = pd.DataFrame(rows, columns=["coder", "transcript_id", "code", "start", "end"])
    codings.insert(0, "coding_id", [f"C{i:03d}" for i in range(len(codings))])
    codings["round"] = "2"
    codings["codebook_version"] = "v1"
    codebook = pd.DataFrame(
        {
            "version": "v1",
            "code": ["a", "b", "c", "d"],
            "name": ["A", "B", "C", "D"],
            "parent": "",
            "code_group": ["G1", "G1", "G2", "G2"],
        }
    )
    transcripts = pd.DataFrame({"transcript_id": ["T1", "T2"], "n_chars": [100, 50], "text": ["", ""]})
    return Study(participants=empty_frame("participants"), transcripts=transcripts, codebook=codebook, codings=codings)


def _layer(study: Study, codes: list[str], offsets: dict[str, int]) -> pd.DataFrame:
    c = study.codings.loc[study.codings["code"].isin(codes)]
    return pd.DataFrame(
        {
            "coder": c["coder"],
            "start": c["start"] + c["transcript_id"].map(offsets),
            "end": c["end"] + c["transcript_id"].map(offsets),
            "value": c["code"],
        }
    )


def test_unitizing_reliability_on_a_hand_made_study():
    s = _study()
    out = rel.unitizing_reliability(s, rounds=["2"]).set_index(["level", "code"])
    assert list(out.columns) == ["round", "coefficient", "value", "n_segments", "n_coders", "note"]
    lengths = {"T1": 100, "T2": 50}
    cod = s.codings.rename(columns={"transcript_id": "source", "code": "value"})
    # per code: |u-alpha of that code's continuum, ann's two overlapping c codings merged into [0, 15)
    for code in ("a", "b"):
        ref = unitizing_alpha(cod.loc[cod["value"] == code], lengths).binary_u_alpha
        assert out.loc[("code", code), "value"] == pytest.approx(ref)
    merged_c = pd.DataFrame({"coder": ["ann", "bob"], "source": "T1", "start": [0, 0], "end": [15, 12], "value": "c"})
    assert out.loc[("code", "c"), "value"] == pytest.approx(unitizing_alpha(merged_c, lengths).binary_u_alpha)
    assert out.loc[("code", "c"), "n_segments"] == 2
    # a code of the codebook nobody used is still reported
    assert np.isnan(out.loc[("code", "d"), "value"]) and out.loc[("code", "d"), "n_segments"] == 0
    # cu-alpha of G1: codes a and b as values
    g1 = unitizing_alpha(cod.loc[cod["value"].isin(["a", "b"])], lengths).cu_alpha
    assert out.loc[("domain", "G1"), "value"] == pytest.approx(g1)
    assert out.loc[("domain", "G1"), "coefficient"] == "cu-alpha"
    # Cu-alpha: each domain a layer, layers end to end (G1: T1 T2, then G2: T1 T2)
    stacked = pd.concat(
        [
            _layer(s, ["a", "b"], {"T1": 0, "T2": 100}),
            pd.DataFrame({"coder": ["ann", "bob"], "start": [150, 150], "end": [165, 162], "value": "c"}),
        ]
    )
    cu_all = unitizing_alpha(stacked, 300).cu_alpha
    row = out.loc[("all domains", rel.ALL_DOMAINS)]
    assert row["coefficient"] == "Cu-alpha" and row["value"] == pytest.approx(cu_all)


def test_overlapping_codes_of_one_domain_are_named():
    s = _study(extra=[("bob", "T2", "a", 20, 30)])  # bob's a overlaps his b in T2 (domain G1)
    with pytest.raises(ag.AgreementError, match=r"domain 'G1': coder 'bob' applied 'b' \(coding C00\d.*'a'"):
        rel.unitizing_reliability(s, rounds=["2"])
    out = rel.unitizing_reliability(s, rounds=["2"], on_overlap="skip").set_index(["level", "code"])
    assert np.isnan(out.loc[("domain", "G1"), "value"]) and "mutually exclusive" in out.loc[("domain", "G1"), "note"]
    assert "G1" in out.loc[("all domains", rel.ALL_DOMAINS), "note"]
    # Cu-alpha rests on G2 alone: ann's merged c and bob's c, one value only, so no variation -> nan
    assert out.loc[("all domains", rel.ALL_DOMAINS), "n_segments"] == 2
    assert np.isnan(out.loc[("all domains", rel.ALL_DOMAINS), "value"])


def test_unitizing_alpha_importable_from_the_facade():
    from qda.stats.unitizing import unitizing_alpha as direct

    assert ag.unitizing_alpha is direct
    assert ag.unitizing_reliability is rel.unitizing_reliability


def _turn_study(codings: list[tuple]) -> Study:
    text = "\n".join(f"PARTICIPANT: {'y' * 18}" for _ in range(4))  # turns [13, 31), [45, 63), ...
    s = _study()
    s.transcripts = pd.DataFrame({"transcript_id": ["T1"], "n_chars": [len(text)], "text": [text]})
    c = pd.DataFrame(codings, columns=["coder", "transcript_id", "code", "start", "end"])
    c.insert(0, "coding_id", [f"C{i}" for i in range(len(c))])
    s.codings = c.assign(round="2", codebook_version="v1")
    return s


def test_study_decisions_cover_every_code_of_the_version_in_force():
    s = _turn_study([("ann", "T1", "a", 13, 31), ("bob", "T1", "a", 13, 31), ("bob", "T1", "b", 45, 63)])
    dec = rel.study_decisions(s, rounds=[2])
    assert set(dec["round"]) == {"2"}
    assert set(dec["code"]) == {"a", "b", "c", "d"}  # c and d nobody used: all-absent decisions
    assert len(dec) == 4 * 2 * 4  # units x coders x codes
    out = ag.decision_agreement(dec.drop(columns="round")).set_index("code")
    assert out.loc["d", "percent_agreement"] == 100.0 and np.isnan(out.loc["d", "campbell_percent"])
    # overall: 16 (unit, code) rows, one disagreement (b on unit 2)
    assert out.loc[ag.ALL_CODES, "percent_agreement"] == pytest.approx(100 * 15 / 16)
    # Campbell's percent leaves out the absent/absent rows: a agreed on unit 1, b not on unit 2
    assert out.loc[ag.ALL_CODES, "campbell_percent"] == pytest.approx(50.0)
    with pytest.raises(ag.AgreementError, match="lacks"):
        bad = _turn_study([("ann", "T1", "zz", 13, 31), ("bob", "T1", "a", 13, 31)])
        rel.study_decisions(bad, rounds=["2"])


def test_coverage_sensitivity_moves_with_the_threshold():
    # turns [13, 31) and [45, 63); bob's coding [25, 60) covers a third of turn 1 and most of turn 2
    s = _turn_study([("ann", "T1", "a", 13, 31), ("bob", "T1", "a", 25, 60)])
    out = rel.coverage_sensitivity(s, thresholds=(0.25, 0.5), rounds=["2"]).set_index("min_share")
    assert list(out.columns) == ["round", "n_units", "share_applied", "percent_agreement", "campbell_percent", "alpha"]
    assert out.loc[0.25, "campbell_percent"] == pytest.approx(50.0)  # turn 1 both, turn 2 bob only
    assert out.loc[0.5, "campbell_percent"] == pytest.approx(0.0)  # turn 1 ann only, turn 2 bob only
    assert out.loc[0.25, "share_applied"] > out.loc[0.5, "share_applied"]


def test_multi_coder_percent_agreement_is_the_mean_over_pairs_everywhere():
    # three coders, one unit 1/1/0 and one 1/1/1: pairs agree 1/3 and 3/3 -> 66.7 %, not 50 % (all alike)
    dec = pd.DataFrame(
        [
            {"transcript_id": "T1", "unit_id": u, "coder": c, "code": "x", "applied": v}
            for u, vals in (("U1", (1, 1, 0)), ("U2", (1, 1, 1)))
            for c, v in zip(("ann", "bob", "cat"), vals, strict=True)
        ]
    )
    expected = 100 * ag.percent_agreement(pd.DataFrame([[1, 1, 0], [1, 1, 1]]))
    assert expected == pytest.approx(100 * (1 / 3 + 1) / 2)
    out = ag.decision_agreement(dec).set_index("code")
    assert out.loc["x", "percent_agreement"] == pytest.approx(expected)
    # Campbell's: pairs both applied / pairs with at least one applied = (1 + 3) / (3 + 3)
    assert out.loc["x", "campbell_percent"] == pytest.approx(100 * 4 / 6)
    ci = ag.reliability_with_ci(dec, n_boot=200)
    assert ci.loc[ci["measure"] == "percent agreement", "estimate"].iloc[0] == pytest.approx(expected)
    rec = pd.DataFrame(
        {
            "round": ["2"],
            "transcript_id": ["T1"],
            "unit_id": ["U1"],
            "code": ["x"],
            "coded_by": ["ann;bob"],
            "not_coded_by": ["cat"],
            "resolution": ["present"],
            "note": [""],
        }
    )
    camp = ag.campbell_reliability_agreement(dec.assign(round="2"), rec).set_index("code").loc["x"]
    assert camp["reliability_percent"] == pytest.approx(expected)
    assert camp["agreement_percent"] == pytest.approx(100.0) and camp["campbell_agreement_percent"] == 100.0


def test_unitizing_reliability_on_the_synthetic_rounds(study):
    out = rel.unitizing_reliability(study, rounds=["2", "3"], on_overlap="skip")
    assert set(out["round"]) == {"2", "3"}
    for rnd, part in out.groupby("round"):
        from qda.analysis.campbell import codebook_in_force

        _, cb = codebook_in_force(study, rnd)
        per_code = part.loc[part["level"] == "code"]
        assert list(per_code["code"]) == cb["code"].tolist()  # every code of the version in force
        assert set(part.loc[part["level"] == "domain", "code"]) == set(cb["code_group"])
        assert (part.loc[part["level"] == "all domains", "coefficient"] == "Cu-alpha").all()
    vals = out["value"].dropna()
    assert vals.between(-1, 1).all() and len(vals) > 0
    skipped = out.loc[(out["level"] == "domain") & out["value"].isna() & (out["n_segments"] > 0)]
    assert skipped["note"].str.contains("mutually exclusive").all()
    if len(skipped):
        with pytest.raises(ag.AgreementError, match="mutually exclusive"):
            rel.unitizing_reliability(study, rounds=["2", "3"])


def test_campbell_grid_and_coverage_on_the_synthetic_rounds(study):
    dec = rel.study_decisions(study, rounds=["2", "3"])
    for rnd, part in dec.groupby("round"):
        _, cb = rel.codebook_in_force(study, rnd)
        assert set(part["code"]) == set(cb["code"])
    sens = rel.coverage_sensitivity(study, thresholds=(0.25, 0.5, 1.0))
    assert len(sens) == 6 and sens["alpha"].between(-1, 1).all()
    # a stricter rule never applies a code to more units
    for _, part in sens.groupby("round"):
        assert part.sort_values("min_share")["share_applied"].is_monotonic_decreasing
