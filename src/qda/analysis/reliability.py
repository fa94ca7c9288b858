"""Reliability for the book: one round's measures with intervals, and agreement by the unit counted.

Built on the study-aware pieces: :mod:`qda.analysis.coded_text` (NVivo's and MAXQDA's
measures), :mod:`qda.analysis.campbell` (fixed units, Campbell et al. 2013) and
:mod:`qda.analysis.unitizing` (Krippendorff's unitizing alphas as ATLAS.ti reports them),
and the coefficients of :mod:`qda.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qda.analysis.campbell import binary_pairs, decision_wide, round_labels
from qda.analysis.coded_text import check_codings, nvivo_coding_comparison, segment_overlap_agreement
from qda.stats.agreement import ALL_CODES, AgreementError, cohen_kappa, cohen_kappa_table
from qda.stats.alpha import alpha_bootstrap_ci, pairable_pairs
from qda.stats.fleiss import fleiss_bootstrap_ci
from qda.study.units import unit_decisions


# ---------------------------------------------------------------------------
# Summaries for the book: one round's reliability with intervals, and the unit choice
# ---------------------------------------------------------------------------
def decision_matrix(
    decisions: pd.DataFrame, coders: Sequence[str] | None = None, codes: Sequence[str] | None = None
) -> pd.DataFrame:
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
        decisions = decisions.assign(round=round_labels(decisions["round"]).to_numpy())
    return decision_wide(decisions, coders, codes, extra_keys=extra)


def reliability_with_ci(
    decisions: pd.DataFrame,
    *,
    n_boot: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Reliability of independent fixed-unit decisions, each measure with an interval.

    Over all (unit, code) decisions (or those of ``codes``), per ``round`` when
    ``decisions`` has that column, one row per measure:

    * ``percent agreement``: mean over (unit, code) rows of the share of coder pairs that
      decided alike (the percent agreement of :func:`decision_agreement`), interval by the
      transcript-cluster bootstrap;
    * ``Krippendorff's alpha`` (nominal), twice: :func:`alpha_bootstrap_ci`, Krippendorff's
      (2013) bootstrap, once drawing as many value pairs per replicate as the data hold,
      ``M = sum_u m_u (m_u - 1) / 2`` (m_u coders' decisions on unit u; a coder who did not
      code a transcript adds no pair), and once with the practical cap
      ``M = min(25 e, sum_u m_u (m_u - 1) / 2)`` of Hayes & Krippendorff's (2007) KALPHA, which for
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
            raise AgreementError(
                "decisions",
                f"round {rnd} has no unit coded by two or more coders",
                "pass decisions of rounds in which several coders coded the same transcripts",
            )
        xs, ts = x[pair], tids[pair]
        same, _, _ = binary_pairs(np.nansum(xs, axis=1), (~np.isnan(xs)).sum(1))
        lab, uniq = pd.factorize(pd.Series(ts))
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
        cw = np.stack([np.bincount(r, minlength=len(uniq)) for r in draws]).astype(float)[:, lab]
        boot = (cw @ same) / cw.sum(1)
        rows.append(
            {
                **base,
                "measure": "percent agreement",
                "coders": "all",
                "n_units": int(pair.sum()),
                "estimate": 100 * same.mean(),
                "ci_low": 100 * np.quantile(boot, tail),
                "ci_high": 100 * np.quantile(boot, 1 - tail),
                "interval": "bootstrap over transcripts",
            }
        )
        all_pairs = pairable_pairs((~np.isnan(xs)).sum(1))
        for draws, how in (
            (all_pairs, "Krippendorff bootstrap, all pairs"),
            (None, "Krippendorff bootstrap, KALPHA cap"),
        ):
            ab = alpha_bootstrap_ci(x, "nominal", n_boot=n_boot, seed=seed, confidence=confidence, n_draws=draws)
            rows.append(
                {
                    **base,
                    "measure": "Krippendorff's alpha",
                    "coders": "all",
                    "n_units": int(pair.sum()),
                    "estimate": ab.alpha,
                    "ci_low": ab.ci_low,
                    "ci_high": ab.ci_high,
                    "interval": f"{how} ({ab.n_draws} draws)",
                }
            )
        xf = x[full]
        counts = np.column_stack([xf.sum(1), (1 - xf).sum(1)])
        fk, lo, hi = fleiss_bootstrap_ci(counts, n_boot=n_boot, seed=seed, confidence=confidence, clusters=tids[full])
        rows.append(
            {
                **base,
                "measure": "Fleiss' kappa",
                "coders": "all",
                "n_units": int(full.sum()),
                "estimate": fk,
                "ci_low": lo,
                "ci_high": hi,
                "interval": "bootstrap over transcripts",
            }
        )
        cols = list(block.columns)
        for i in range(len(cols)):
            for j in range(i + 1, len(cols)):
                both = block[[cols[i], cols[j]]].dropna()
                k = cohen_kappa(both[cols[i]], both[cols[j]], confidence=confidence)
                rows.append(
                    {
                        **base,
                        "measure": "Cohen's kappa",
                        "coders": f"{cols[i]} vs {cols[j]}",
                        "n_units": len(both),
                        "estimate": k.kappa,
                        "ci_low": k.ci_low,
                        "ci_high": k.ci_high,
                        "interval": "asymptotic (ASE)",
                    }
                )
    return pd.DataFrame(rows)


#: Labels of the three unit choices compared by :func:`agreement_by_unit_choice`.
UNIT_CHOICES = ("characters (NVivo)", "segments (MAXQDA)", "fixed units (Campbell)")


def agreement_by_unit_choice(
    codings: pd.DataFrame,
    transcripts: pd.DataFrame,
    units: pd.DataFrame,
    coder_a: str,
    coder_b: str,
    *,
    min_overlap: float = 0.9,
    min_share: float = 0.5,
) -> pd.DataFrame:
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

    sub = check_codings(codings, [coder_a, coder_b])
    has_round = "round" in codings.columns
    if has_round:
        sub["round"] = (
            codings.loc[codings["coder"].astype(str).isin([coder_a, coder_b]), "round"].astype(str).to_numpy()
        )
    rows = []
    for rnd, part in sub.groupby("round", sort=True) if has_round else [(None, sub)]:
        base = {"round": rnd} if has_round else {}
        nv = nvivo_coding_comparison(part, transcripts, coder_a, coder_b, by="code")
        cells = nv[["a_and_b", "a_only", "b_only", "neither"]].sum().to_numpy(float)
        table = np.array([[cells[0], cells[1]], [cells[2], cells[3]]])
        rows.append(
            {
                **base,
                "unit": UNIT_CHOICES[0],
                "n": int(table.sum()),
                "percent_agreement": 100 * (cells[0] + cells[3]) / table.sum(),
                "kappa": cohen_kappa_table(table).kappa,
            }
        )
        mx = segment_overlap_agreement(part, coder_a, coder_b, min_overlap)
        tot = mx.loc[mx["code"] == ALL_CODES].iloc[0]
        rows.append(
            {
                **base,
                "unit": UNIT_CHOICES[1],
                "n": int(tot["a_segments"] + tot["b_segments"]),
                "percent_agreement": float(tot["percent_agreement"]),
                "kappa": float(tot["kappa"]),
            }
        )
        tr = set(part["transcript_id"])
        dec = unit_decisions(part, units.loc[units["transcript_id"].astype(str).isin(tr)], min_share)
        wide = decision_matrix(dec, coders=[coder_a, coder_b]).dropna()
        k = cohen_kappa(wide[coder_a], wide[coder_b])
        rows.append(
            {**base, "unit": UNIT_CHOICES[2], "n": len(wide), "percent_agreement": 100 * k.p_observed, "kappa": k.kappa}
        )
    return pd.DataFrame(rows)
