"""Reliability and agreement on a study's codings: coded text, fixed units, Campbell et al.

Study-aware comparisons built on the coefficients of :mod:`qda.stats.agreement`:
character-level agreement as NVivo reports it, segment overlap as MAXQDA does, decisions
on fixed units in the manner of Campbell et al. (2013), reliability with intervals and
the dependence of agreement on the unit counted.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qda.stats.agreement import ALL_CODES, AgreementError, cohen_kappa, cohen_kappa_table
from qda.stats.alpha import alpha_bootstrap_ci, alpha_parts, pairable_pairs
from qda.stats.fleiss import fleiss_bootstrap_ci
from qda.stats.unitizing import unitizing_alpha
from qda.study.model import Study
from qda.study.units import participant_units, unit_decisions

# ---------------------------------------------------------------------------
# Coded text: NVivo and MAXQDA
# ---------------------------------------------------------------------------
_CODING_COLS = ["transcript_id", "coder", "code", "start", "end"]


def _check_codings(codings: pd.DataFrame, coders: Sequence[str]) -> pd.DataFrame:
    if not isinstance(codings, pd.DataFrame):
        raise AgreementError("codings", "is not a DataFrame", "pass the codings table of qda.SCHEMAS['codings']")
    miss = [c for c in _CODING_COLS if c not in codings.columns]
    if miss:
        raise AgreementError(
            "codings", f"lacks column(s) {', '.join(miss)}", "pass the codings table of qda.SCHEMAS['codings']"
        )
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
        raise AgreementError(
            "codings", f"row {sub.index[i]} has start={st[i]}, end={en[i]}", "every coding needs 0 <= start < end"
        )
    return sub.reset_index(drop=True)


def _both_coded(sub: pd.DataFrame, coder_a: str, coder_b: str) -> list[str]:
    ta = set(sub.loc[sub["coder"] == coder_a, "transcript_id"])
    tb = set(sub.loc[sub["coder"] == coder_b, "transcript_id"])
    return sorted(ta & tb)


def nvivo_coding_comparison(
    codings: pd.DataFrame,
    transcripts: pd.DataFrame,
    coder_a: str,
    coder_b: str,
    *,
    codes: Sequence[str] | None = None,
    by: str = "transcript",
) -> pd.DataFrame:
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
        raise AgreementError(
            "transcripts", "lacks transcript_id and n_chars (or text)", "pass the transcripts table of a Study"
        )
    t_ids = _both_coded(sub, coder_a, coder_b)
    tr = transcripts.assign(transcript_id=transcripts["transcript_id"].astype(str)).drop_duplicates("transcript_id")
    lengths = (
        tr.set_index("transcript_id")["n_chars"]
        if "n_chars" in tr.columns
        else tr.set_index("transcript_id")["text"].str.len()
    )
    missing = [t for t in t_ids if t not in lengths.index]
    if missing:
        raise AgreementError(
            "transcripts", f"lacks transcript(s) {missing[:3]}", "pass every transcript the codings refer to"
        )
    code_list = sorted(set(sub["code"])) if codes is None else list(codes)
    t_len = lengths.reindex(t_ids).to_numpy(np.int64)
    sub = sub.loc[sub["transcript_id"].isin(t_ids) & sub["code"].isin(code_list)]
    t_pos = pd.Index(t_ids).get_indexer(sub["transcript_id"])
    over = sub["end"].to_numpy(np.int64) > t_len[t_pos]
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise AgreementError(
            "codings",
            f"a coding in {sub['transcript_id'].iloc[i]} ends at {sub['end'].iloc[i]}, "
            f"beyond the transcript's {t_len[t_pos[i]]} characters",
            "fix the offsets",
        )
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
    out = pd.DataFrame(
        {
            "code": np.repeat(code_list, n_t),
            "transcript_id": np.tile(t_ids, n_c),
            "n_chars": np.tile(t_len, n_c).astype(np.int64),
            "a_and_b": both.astype(np.int64),
            "a_only": (len_a - both).astype(np.int64),
            "b_only": (len_b - both).astype(np.int64),
        }
    )
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


def segment_overlap_agreement(
    codings: pd.DataFrame, coder_a: str, coder_b: str, min_overlap: float = 0.9, *, codes: Sequence[str] | None = None
) -> pd.DataFrame:
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
    out = pd.DataFrame(
        {
            "code": code_list,
            "a_segments": ga["size"].to_numpy(np.int64),
            "a_matched": ga["sum"].to_numpy(np.int64),
            "b_segments": gb["size"].to_numpy(np.int64),
            "b_matched": gb["sum"].to_numpy(np.int64),
        }
    )
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


def _decision_matrix(
    decisions: pd.DataFrame, coders: Sequence[str] | None, codes: Sequence[str] | None, extra_keys: Sequence[str] = ()
) -> pd.DataFrame:
    miss = [c for c in _DECISION_COLS if c not in decisions.columns]
    if miss:
        raise AgreementError(
            "decisions", f"lacks column(s) {', '.join(miss)}", "pass the output of qda.codings.unit_decisions"
        )
    d = decisions
    if coders is not None:
        d = d.loc[d["coder"].isin(list(coders))]
    if codes is not None:
        d = d.loc[d["code"].isin(list(codes))]
    if d.empty:
        raise AgreementError(
            "decisions", "holds no decisions for the chosen coders and codes", "check coders= and codes="
        )
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


def _binary_pairs(applied: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For binary decisions, per unit with ``a`` of ``m`` coders applying the code:
    the share of coder pairs that agree, the pairs that both applied it, and the pairs in
    which at least one applied it."""
    a, m = applied.astype(float), m.astype(float)
    total = m * (m - 1) / 2
    both = a * (a - 1) / 2
    neither = (m - a) * (m - a - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(m >= 2, (both + neither) / total, np.nan)
    return share, both, total - neither


def _percentages(applied: np.ndarray, m: np.ndarray) -> tuple[float, float, int]:
    """(percent agreement, Campbell's percent, units where someone applied the code) over units with m >= 2.

    Percent agreement: 100 x the mean over units of the share of coder pairs that decided
    alike (the mean over pairs of :func:`qda.stats.agreement.percent_agreement`).
    Campbell's percent: 100 x (pairs that both applied the code) / (pairs in which at least
    one applied it), pooled over units: absent/absent decisions do not count; for two
    coders, the units both coded with the code over the units either coded with it.
    """
    ok = m >= 2
    if not ok.any():
        return float("nan"), float("nan"), 0
    share, both, anyone = _binary_pairs(applied[ok], m[ok])
    camp = 100.0 * both.sum() / anyone.sum() if anyone.sum() > 0 else float("nan")
    return 100.0 * float(share.mean()), float(camp), int((applied[ok] > 0).sum())


def _agreement_row(block: pd.DataFrame) -> dict[str, Any]:
    x = block.to_numpy(float)
    mask = ~np.isnan(x)
    m = mask.sum(1)
    pairable = m >= 2
    xs = x[pairable]
    unanimous = (np.nanmax(xs, axis=1) == np.nanmin(xs, axis=1)) if len(xs) else np.array([], bool)
    alpha = float("nan")
    if pairable.any():
        alpha = alpha_parts(x, "nominal")[0]
    pct, camp, n_applied = _percentages(np.nansum(x, axis=1), m)
    return {
        "n_units": int(pairable.sum()),
        "n_coders": int(block.notna().any().sum()),
        "n_disagreements": int((~unanimous).sum()),
        "percent_agreement": pct,
        "campbell_percent": camp,
        "n_applied": n_applied,
        "alpha": alpha,
    }


def decision_agreement(
    decisions: pd.DataFrame, coders: Sequence[str] | None = None, codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Agreement on fixed units: one binary decision (applied or not) per (unit, code, coder).

    Campbell et al. (2013): units are fixed first, then each coder decides for every
    (unit, code) whether the code applies; a unit with several codes contributes one
    decision per code. Per code and over all (unit, code) pairs (row ``"(all codes)"``):

    * ``percent_agreement``: 100 x the mean over units of the share of coder pairs that
      decided alike (absent/absent counts as agreement; for two coders, the share of
      units decided alike). With more than two coders this mean over pairs is the one
      definition ``qda`` uses (see :func:`qda.stats.agreement.percent_agreement` for why);
      ``n_disagreements`` counts the units on which the coders were not unanimous.
    * ``campbell_percent``: Campbell et al.'s own measure, which leaves out the units
      on which nobody applied the code: 100 x (coder pairs that both applied it) /
      (coder pairs in which at least one applied it), pooled over units; for two coders,
      the units both coded with the code over the units either coded with it
      (Campbell et al. 2013, pp. 302-306, where they set out how they computed intercoder
      reliability and agreement: an agreement is a unit both coders coded with the code,
      a disagreement a unit one coded with it and the other did not); ``n_applied`` counts units where at least one coder applied the code.
    * ``alpha``: Krippendorff's nominal alpha over the units x coders matrix of decisions
      (Krippendorff 2011), which corrects the first percentage for chance. A coder with no decision rows in a transcript is
    treated as not having coded it (missing), not as "absent".

    ``decisions``: columns ``transcript_id, unit_id, coder, code, applied``
    (:func:`qda.study.units.unit_decisions`). Returns ``code, n_units, n_coders,
    n_disagreements, percent_agreement, campbell_percent, n_applied, alpha``; alpha is NaN
    for a code that nobody (or everybody) applied, where it is undefined, and
    ``campbell_percent`` is NaN for a code nobody applied.
    """
    wide = _decision_matrix(decisions, coders, codes)
    rows = []
    for code, block in wide.groupby(level="code", sort=True, observed=True):
        rows.append({"code": code, **_agreement_row(block)})
    rows.append({"code": ALL_CODES, **_agreement_row(wide)})
    return pd.DataFrame(rows)


def unit_decision_alpha(
    codings: pd.DataFrame,
    units: pd.DataFrame,
    coders: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    min_share: float = 0.5,
) -> pd.DataFrame:
    """Nominal alpha over yes/no decisions on fixed units, in the manner of Campbell et al. (2013).

    Not a unitizing coefficient (for those see :func:`qda.stats.unitizing.unitizing_alpha`
    and :func:`unitizing_reliability`): units are fixed first (participant turns,
    :func:`qda.study.units.participant_units`); :func:`qda.study.units.unit_decisions`
    projects each coder's free-span codings onto them (a code counts as applied to a unit
    when a coding covers ``min_share`` of the unit or of the coding), and
    :func:`decision_agreement` gives, per code and overall, the percentage agreement and
    the nominal (binary) alpha ``1 - D_o/D_e`` (Krippendorff 2011) of those decisions.
    ``codes`` (e.g. every code of the codebook version in force) makes the grid hold a
    decision for each of them on every unit, used or not; by default only codes someone
    used in a transcript get decisions there.
    """

    dec = unit_decisions(codings, units, min_share, codes=codes)
    return decision_agreement(dec, coders=coders, codes=codes)


def unitized_alpha(*args: Any, **kwargs: Any) -> pd.DataFrame:
    """Deprecated alias of :func:`unit_decision_alpha` (the old name suggested a unitizing alpha).

    Warns with ``DeprecationWarning``; to be removed in the release after next.
    """
    warnings.warn(
        "qda.agreement.unitized_alpha is deprecated: it is nominal alpha over yes/no decisions on fixed "
        "units, not a unitizing alpha; use unit_decision_alpha (same arguments), or unitizing_alpha / "
        "unitizing_reliability for Krippendorff's unitizing coefficients",
        DeprecationWarning,
        stacklevel=2,
    )
    return unit_decision_alpha(*args, **kwargs)


#: The outcomes of a reconciliation discussion (``SCHEMAS["reconciliation"]["resolution"]``).
RESOLUTIONS = ("present", "absent", "unresolved")


def _round_labels(values: Any) -> pd.Series:
    """Round labels as text, whole numbers without a decimal part: 2, 2.0, "2.0" and "2" are "2"."""
    s = pd.Series(values).astype(object)

    def one(v: Any) -> str:
        if isinstance(v, str):
            t = v.strip()
            try:
                f = float(t)
            except ValueError:
                return t
            return str(int(f)) if np.isfinite(f) and f == int(f) else t
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return str(int(v))
        if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v) == int(v):
            return str(int(v))
        return str(v)

    codes, uniq = pd.factorize(s, use_na_sentinel=False)
    labels = np.asarray([one(u) for u in uniq] or [""], dtype=object)
    return pd.Series(labels[codes], index=s.index, dtype=object)


def campbell_reliability_agreement(
    decisions: pd.DataFrame, reconciliation: pd.DataFrame, rounds: Any = None
) -> pd.DataFrame:
    """Intercoder reliability (before discussion) and agreement (after) per round and code.

    Campbell et al. (2013). For each round and code (and ``"(all codes)"``):

    * reliability, from the independent decisions: ``n_units``, ``reliability_percent``
      (the ``percent_agreement`` of :func:`decision_agreement`: mean over units of the
      share of coder pairs that decided alike; for two coders the share of units decided
      alike), ``campbell_reliability_percent`` (Campbell et al.'s measure, absent/absent
      decisions left out: see :func:`decision_agreement`) and nominal Krippendorff's
      alpha (``reliability_alpha``);
    * agreement, after reconciliation: ``n_disagreements`` counts the units on which the
      coders were not unanimous; ``n_resolved`` of them have a ``reconciliation`` row with
      resolution ``present`` or ``absent``, and ``share_resolved = n_resolved /
      n_disagreements``. A resolved unit then counts as decided alike by every coder
      (all applied for ``present``, none for ``absent``), and ``agreement_percent`` and
      ``campbell_agreement_percent`` are the two percentages recomputed on those
      decisions; with two coders ``agreement_percent = 100 (n_units - n_disagreements +
      n_resolved) / n_units``. Disagreements without a reconciliation row, or marked
      ``unresolved``, stay as they were (``n_not_reconciled`` counts the first kind).

    ``decisions``: :func:`qda.codings.unit_decisions` output with a ``round`` column, or
    give ``rounds`` (a mapping or Series transcript_id -> round); without either, the
    round of each transcript is read from ``reconciliation``. ``reconciliation``: the
    table of ``qda.SCHEMAS["reconciliation"]``, matched on round, transcript_id,
    unit_id and code. Keys are compared as text (integer unit or transcript ids match
    their string form); rounds are normalised by :func:`_round_labels` (``2``, ``2.0``
    and ``"2"`` are round ``"2"``); resolutions are case-insensitive, and a value other
    than present, absent or unresolved is an error rather than a silent "unreconciled".
    """
    need = ["round", "transcript_id", "unit_id", "code", "resolution"]
    miss = [c for c in need if c not in reconciliation.columns]
    if miss:
        raise AgreementError(
            "reconciliation",
            f"lacks column(s) {', '.join(miss)}",
            "pass the reconciliation table of qda.SCHEMAS['reconciliation']",
        )
    rec = reconciliation.assign(**{c: reconciliation[c].astype(str) for c in need})
    rec["round"] = _round_labels(reconciliation["round"]).to_numpy()
    rec["resolution"] = rec["resolution"].str.strip().str.lower()
    unknown = sorted(set(rec["resolution"]) - set(RESOLUTIONS))
    if unknown:
        raise AgreementError(
            "reconciliation",
            f"has resolution value(s) {unknown}",
            f"use one of {', '.join(RESOLUTIONS)} (case does not matter)",
        )
    dec = decisions.copy()
    for col in ("transcript_id", "unit_id", "code"):
        if col in dec.columns:
            dec[col] = dec[col].astype(str)
    if "round" not in dec.columns:
        if rounds is None:
            tr = rec[["transcript_id", "round"]].drop_duplicates()
            dup = tr["transcript_id"].duplicated()
            if dup.any():
                raise AgreementError(
                    "reconciliation",
                    f"puts transcript {tr.loc[dup, 'transcript_id'].iloc[0]} in two rounds",
                    "pass rounds= (transcript_id -> round) explicitly",
                )
            rounds = dict(zip(tr["transcript_id"], tr["round"], strict=False))
        rmap = pd.Series(rounds) if not isinstance(rounds, pd.Series) else rounds.copy()
        rmap.index = rmap.index.astype(str)
        rmap = pd.Series(_round_labels(rmap).to_numpy(), index=rmap.index)
        dec["round"] = dec["transcript_id"].map(rmap)
        if dec["round"].isna().any():
            t = dec.loc[dec["round"].isna(), "transcript_id"].iloc[0]
            raise AgreementError(
                "rounds", f"gives no round for transcript {t}", "map every transcript of decisions to a round"
            )
    dec["round"] = _round_labels(dec["round"]).to_numpy()
    wide = _decision_matrix(dec, None, None, extra_keys=["round"])
    x = wide.to_numpy(float)
    pair = (~np.isnan(x)).sum(1) >= 2
    with np.errstate(all="ignore"):
        disagree = pair & (np.nanmax(x, axis=1) != np.nanmin(x, axis=1))
    idx = wide.index.to_frame(index=False)
    idx["disagree"] = disagree
    rec_key = rec.drop_duplicates(["round", "transcript_id", "unit_id", "code"], keep="last")
    idx = idx.merge(
        rec_key[["round", "transcript_id", "unit_id", "code", "resolution"]],
        on=["round", "transcript_id", "unit_id", "code"],
        how="left",
    )
    idx["resolved"] = idx["disagree"] & idx["resolution"].isin(["present", "absent"])
    idx["not_reconciled"] = idx["disagree"] & idx["resolution"].isna()
    m_all = (~np.isnan(x)).sum(1)
    applied = np.nansum(x, axis=1)
    # after reconciliation a resolved unit is decided alike by every coder who coded it
    after = np.where(
        (idx["resolved"] & (idx["resolution"] == "present")).to_numpy(),
        m_all,
        np.where((idx["resolved"] & (idx["resolution"] == "absent")).to_numpy(), 0, applied),
    )
    rows = []
    for rnd in sorted(idx["round"].unique()):
        in_r = (idx["round"] == rnd).to_numpy()
        codes_r = sorted(idx.loc[in_r, "code"].unique())
        for code in [*codes_r, ALL_CODES]:
            sel = in_r & ((idx["code"] == code).to_numpy() if code != ALL_CODES else True)
            base = _agreement_row(wide.loc[sel])
            nd = base["n_disagreements"]
            nr = int(idx.loc[sel, "resolved"].sum())
            agr, camp_agr, _ = _percentages(after[sel], m_all[sel])
            rows.append(
                {
                    "round": rnd,
                    "code": code,
                    "n_units": base["n_units"],
                    "reliability_percent": base["percent_agreement"],
                    "reliability_alpha": base["alpha"],
                    "campbell_reliability_percent": base["campbell_percent"],
                    "n_disagreements": nd,
                    "n_resolved": nr,
                    "n_not_reconciled": int(idx.loc[sel, "not_reconciled"].sum()),
                    "share_resolved": nr / nd if nd else float("nan"),
                    "agreement_percent": agr,
                    "campbell_agreement_percent": camp_agr,
                }
            )
    return pd.DataFrame(rows)


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
        decisions = decisions.assign(round=_round_labels(decisions["round"]).to_numpy())
    return _decision_matrix(decisions, coders, codes, extra_keys=extra)


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
        same, _, _ = _binary_pairs(np.nansum(xs, axis=1), (~np.isnan(xs)).sum(1))
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

    sub = _check_codings(codings, [coder_a, coder_b])
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


# ---------------------------------------------------------------------------
# On a study: fixed-unit decisions over the codebook in force, and the 50 % rule
# ---------------------------------------------------------------------------
def _round_codings(study: Study, rnd: str) -> pd.DataFrame:
    c = study.codings
    part = c.loc[_round_labels(c["round"]).to_numpy() == rnd]
    if part.empty:
        known = sorted(set(_round_labels(c["round"])))
        raise AgreementError("rounds", f"names round {rnd!r}, which has no codings", f"use one of {known}")
    return part


def codebook_in_force(study: Study, rnd: str) -> tuple[str, pd.DataFrame]:
    """The codebook version the coders of round ``rnd`` used, and its rows (one per code).

    Read from the codings' ``codebook_version``; a round coded with several versions is an
    error (the decision grid of :func:`study_decisions` and the semantic domains of
    :func:`unitizing_reliability` would be ambiguous).
    """
    part = _round_codings(study, rnd)
    versions = sorted(set(part["codebook_version"].astype(str)))
    if len(versions) != 1:
        raise AgreementError(
            "codings", f"round {rnd} was coded with codebook versions {versions}", "code one round with one version"
        )
    version = versions[0]
    cb = study.codebook.loc[study.codebook["version"].astype(str) == version]
    if cb.empty:
        raise AgreementError(
            "codebook", f"has no version {version!r}, which round {rnd} used", "add that version to the codebook"
        )
    used = set(part["code"].astype(str)) - set(cb["code"].astype(str))
    if used:
        raise AgreementError(
            "codings",
            f"round {rnd} uses code(s) {sorted(used)} that codebook version {version} lacks",
            "fix the codes or the codebook version of those codings",
        )
    return version, cb.reset_index(drop=True)


def study_decisions(
    study: Study,
    rounds: Sequence[Any] = ("2", "3"),
    *,
    min_share: float = 0.5,
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Campbell et al.'s decision grid for the given rounds of a study, with a ``round`` column.

    For each round: the units are ``units`` (fixed before coding, when the project has
    them) or else the participant turns of the round's transcripts
    (:func:`qda.study.units.participant_units`, projected after free coding); every coder
    who coded a transcript decides every code of the codebook version in force
    (:func:`codebook_in_force`) on every unit of it, so codes nobody applied give their
    all-absent decisions instead of dropping out (:func:`qda.study.units.unit_decisions`
    with ``codes=``, ``min_share`` its coverage rule).
    """
    parts = []
    for rnd in [_round_labels([r]).iloc[0] for r in rounds]:
        cod = _round_codings(study, rnd)
        _, cb = codebook_in_force(study, rnd)
        tids = set(cod["transcript_id"].astype(str))
        if units is None:
            tr = study.transcripts.loc[study.transcripts["transcript_id"].astype(str).isin(tids)]
            u = participant_units(tr)
        else:
            u = units.loc[units["transcript_id"].astype(str).isin(tids)]
        dec = unit_decisions(cod, u, min_share, codes=cb["code"].astype(str).tolist())
        parts.append(dec.assign(round=rnd))
    return pd.concat(parts, ignore_index=True)


def coverage_sensitivity(
    study: Study,
    thresholds: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
    rounds: Sequence[Any] = ("2", "3"),
    *,
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How reliability on fixed units depends on the coverage rule (``min_share``, 50 % by default).

    For each threshold and round, :func:`study_decisions` with ``min_share=threshold``
    and then, over all (unit, code) decisions, the share of decisions that are "applied",
    percent agreement, Campbell's percent and Krippendorff's alpha
    (:func:`decision_agreement`). Returns columns ``min_share, round, n_units,
    share_applied, percent_agreement, campbell_percent, alpha``.
    """
    rows = []
    for t in thresholds:
        dec = study_decisions(study, rounds, min_share=float(t), units=units)
        for rnd, part in dec.groupby("round", sort=True):
            tot = decision_agreement(part.drop(columns="round")).iloc[-1]
            rows.append(
                {
                    "min_share": float(t),
                    "round": rnd,
                    "n_units": int(tot["n_units"]),
                    "share_applied": float(part["applied"].mean()),
                    "percent_agreement": float(tot["percent_agreement"]),
                    "campbell_percent": float(tot["campbell_percent"]),
                    "alpha": float(tot["alpha"]),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# On a study: Krippendorff's unitizing alphas, as ATLAS.ti reports them
# ---------------------------------------------------------------------------
#: Coefficient labels of :func:`unitizing_reliability`.
UNITIZING_COEFFICIENTS = ("|u-alpha", "cu-alpha", "Cu-alpha")
ALL_DOMAINS = "(all domains)"


def _merge_same_code(seg: pd.DataFrame) -> pd.DataFrame:
    """One coder's overlapping or touching codings of one code in one source merged into one span.

    The coefficients need one value per coder and position; two spans of the same code by
    the same coder say the same thing twice (ATLAS.ti merges them too).
    """
    if seg.empty:
        return seg
    seg = seg.sort_values(["coder", "source", "value", "start"], kind="stable").reset_index(drop=True)
    key = seg[["coder", "source", "value"]].astype(str).agg("\x1f".join, axis=1).to_numpy()
    end = seg["end"].to_numpy()
    start = seg["start"].to_numpy()
    run_end = pd.Series(end).groupby(key, sort=False).cummax().to_numpy()
    prev_end = np.concatenate(([-1], run_end[:-1]))
    new_group = np.ones(len(seg), dtype=bool)
    new_group[1:] = (key[1:] != key[:-1]) | (start[1:] > prev_end[1:])
    gid = np.cumsum(new_group) - 1
    out = seg.groupby(gid, sort=False).agg(
        coder=("coder", "first"),
        source=("source", "first"),
        value=("value", "first"),
        start=("start", "min"),
        end=("end", "max"),
        coding_id=("coding_id", lambda s: "+".join(map(str, s))),
    )
    return out.reset_index(drop=True)


def _domain_overlap(seg: pd.DataFrame) -> str | None:
    """A message naming the first two codings of one coder that overlap within a domain, or None."""
    if seg.empty:
        return None
    seg = seg.sort_values(["coder", "source", "start"], kind="stable").reset_index(drop=True)
    same = (seg["coder"].to_numpy()[1:] == seg["coder"].to_numpy()[:-1]) & (
        seg["source"].to_numpy()[1:] == seg["source"].to_numpy()[:-1]
    )
    run_end = seg.groupby(["coder", "source"], sort=False)["end"].cummax().to_numpy()
    clash = np.flatnonzero(same & (seg["start"].to_numpy()[1:] < run_end[:-1]))
    if not clash.size:
        return None
    j = int(clash[0]) + 1
    # the earlier coding of the same coder and source that reaches past row j's start
    grp = seg.iloc[:j]
    grp = grp.loc[(grp["coder"] == seg.at[j, "coder"]) & (grp["source"] == seg.at[j, "source"])]
    i = int(grp.index[grp["end"].to_numpy() > seg.at[j, "start"]][0])
    a, b = seg.iloc[i], seg.iloc[j]
    return (
        f"coder {a['coder']!r} applied {a['value']!r} (coding {a['coding_id']}, [{a['start']}, {a['end']})) and "
        f"{b['value']!r} (coding {b['coding_id']}, [{b['start']}, {b['end']})) to overlapping text of {a['source']}"
    )


def unitizing_reliability(
    study: Study,
    rounds: Sequence[Any] = ("2", "3"),
    *,
    domains: dict[str, str] | None = None,
    on_overlap: str = "raise",
) -> pd.DataFrame:
    """Krippendorff's unitizing alphas of a study's free-span codings, per round, as ATLAS.ti reports them.

    The continuum of a round is its transcripts laid end to end (each a source, its
    length ``n_chars`` or the length of its text), over the transcripts that every coder
    of the round coded (a coder who never opened a transcript is not a gap); a stretch a
    coder left uncoded is a gap. Coefficients from
    :func:`qda.stats.unitizing.unitizing_alpha` (Krippendorff, Mathet, Bouvry & Widlöcher
    2016; Krippendorff 2019, sec. 12.6):

    * ``|u-alpha`` per code, for every code of the codebook version in force
      (:func:`codebook_in_force`), used or not: the binary alpha of that code's continuum,
      coded text against uncoded text. A coder's overlapping codings of one code are
      merged first (one value per coder and position).
    * ``cu-alpha`` per semantic domain: the codes of one domain (the ``code_group`` of the
      codebook version in force, or ``domains``, code -> domain) are the values, and the
      coefficient asks whether coders who both coded a stretch with some code of the domain
      chose the same code. ATLAS.ti requires the codes of a domain to be mutually exclusive
      within a coder; when a coder applied two codes of one domain to overlapping text,
      ``on_overlap="raise"`` (default) raises an :class:`AgreementError` naming the round,
      domain, coder, codes and coding ids, and ``on_overlap="skip"`` reports NaN with
      that message in ``note``.
    * ``Cu-alpha`` over all domains (``code = "(all domains)"``): cu-alpha with every
      domain a layer of its own, the layers laid end to end, so that codes of different
      domains may overlap (ATLAS.ti allows that) and only codes of one domain are ever
      compared; the expected coincidences come from the pooled margins of all codes. Its
      domains are those without overlap (the others are listed in ``note``).

    Returns a tidy DataFrame with columns ``round, level`` (``code`` | ``domain`` |
    ``all domains``), ``code`` (the code, domain or ``"(all domains)"``), ``coefficient``
    (one of :data:`UNITIZING_COEFFICIENTS`), ``value``, ``n_segments`` (segments after
    merging), ``n_coders``, ``note``.
    """
    if on_overlap not in ("raise", "skip"):
        raise AgreementError("on_overlap", f"is {on_overlap!r}", "use 'raise' or 'skip'")
    tr = study.transcripts.assign(transcript_id=study.transcripts["transcript_id"].astype(str))
    if "n_chars" in tr.columns:
        lengths_all = tr.set_index("transcript_id")["n_chars"]
    else:
        lengths_all = tr.set_index("transcript_id")["text"].str.len()
    rows: list[dict[str, Any]] = []
    for rnd in [_round_labels([r]).iloc[0] for r in rounds]:
        cod = _round_codings(study, rnd)
        _, cb = codebook_in_force(study, rnd)
        coders = sorted(set(cod["coder"].astype(str)))
        if len(coders) < 2:
            raise AgreementError(
                "rounds", f"round {rnd} has {len(coders)} coder(s)", "unitizing reliability needs two or more coders"
            )
        per_coder = cod.groupby(cod["coder"].astype(str))["transcript_id"].agg(lambda s: set(s.astype(str)))
        shared = sorted(set.intersection(*per_coder.tolist()))
        missing = [t for t in shared if t not in lengths_all.index]
        if missing:
            raise AgreementError(
                "transcripts", f"lacks transcript(s) {missing[:3]} of round {rnd}", "load every transcript coded"
            )
        lengths = {t: int(lengths_all[t]) for t in shared}
        seg = pd.DataFrame(
            {
                "coder": cod["coder"].astype(str).to_numpy(),
                "source": cod["transcript_id"].astype(str).to_numpy(),
                "start": cod["start"].to_numpy(np.int64),
                "end": cod["end"].to_numpy(np.int64),
                "value": cod["code"].astype(str).to_numpy(),
                "coding_id": cod["coding_id"].astype(str).to_numpy()
                if "coding_id" in cod.columns
                else cod.index.astype(str),
            }
        )
        seg = _merge_same_code(seg.loc[seg["source"].isin(lengths)])
        base = {"round": rnd, "n_coders": len(coders)}
        for code in cb["code"].astype(str):
            part = seg.loc[seg["value"] == code]
            value = float("nan")
            if len(part):
                value = unitizing_alpha(part, lengths, coders=coders).binary_u_alpha
            rows.append(
                {
                    **base,
                    "level": "code",
                    "code": code,
                    "coefficient": "|u-alpha",
                    "value": value,
                    "n_segments": len(part),
                    "note": "" if len(part) else "no coder applied this code",
                }
            )
        dom_of = (
            {str(k): str(v) for k, v in domains.items()}
            if domains is not None
            else dict(zip(cb["code"].astype(str), cb["code_group"].astype(str), strict=False))
        )
        seg["domain"] = seg["value"].map(dom_of)
        layers, skipped = [], []
        for dom in dict.fromkeys(dom_of[c] for c in cb["code"].astype(str) if c in dom_of):
            part = seg.loc[seg["domain"] == dom]
            clash = _domain_overlap(part)
            if clash is not None:
                msg = f"round {rnd}, domain {dom!r}: {clash}; the codes of one domain must be mutually exclusive"
                if on_overlap == "raise":
                    raise AgreementError(
                        "codings", msg, "split the domain into exclusive codes, or pass on_overlap='skip'"
                    )
                skipped.append(dom)
                rows.append(
                    {
                        **base,
                        "level": "domain",
                        "code": dom,
                        "coefficient": "cu-alpha",
                        "value": float("nan"),
                        "n_segments": len(part),
                        "note": msg,
                    }
                )
                continue
            value = unitizing_alpha(part, lengths, coders=coders).cu_alpha if len(part) else float("nan")
            rows.append(
                {
                    **base,
                    "level": "domain",
                    "code": dom,
                    "coefficient": "cu-alpha",
                    "value": value,
                    "n_segments": len(part),
                    "note": "" if len(part) else "no coder applied a code of this domain",
                }
            )
            if len(part):
                layers.append(part.assign(source=dom + "\x1f" + part["source"]))
        value, n = float("nan"), 0
        if layers:
            stacked = pd.concat(layers, ignore_index=True)
            doms = list(dict.fromkeys(d for d in dom_of.values()))
            layer_len = {f"{d}\x1f{t}": n_t for d in doms for t, n_t in lengths.items()}
            value = unitizing_alpha(stacked, layer_len, coders=coders).cu_alpha
            n = len(stacked)
        rows.append(
            {
                **base,
                "level": "all domains",
                "code": ALL_DOMAINS,
                "coefficient": "Cu-alpha",
                "value": value,
                "n_segments": n,
                "note": f"left out (codes overlap): {', '.join(skipped)}" if skipped else "",
            }
        )
    cols = ["round", "level", "code", "coefficient", "value", "n_segments", "n_coders", "note"]
    return pd.DataFrame(rows, columns=cols)


def reliability_rounds(study: Study) -> list[str]:
    """The rounds of a study that are reliability checks: two or more coders, one codebook, shared text.

    A round qualifies when at least two coders coded a common transcript and used at least
    one code in common: the study's rounds 2 and 3, not its full round, in which each of two
    coders applied a different part of the codebook. A user's project may name its rounds
    otherwise. Order of :func:`qda.study.codebook.coding_rounds` (1, 2, 3, full, others).
    """
    c = study.codings
    labels = _round_labels(c["round"]).to_numpy()
    order = {r: k for k, r in enumerate(["1", "2", "3", "full"])}
    out = []
    for rnd in sorted(set(labels), key=lambda r: (order.get(r, 99), r)):
        part = c.loc[labels == rnd]
        per_t = part.groupby(part["transcript_id"].astype(str))["coder"].nunique()
        code_sets = part.groupby(part["coder"].astype(str))["code"].agg(lambda x: set(x.astype(str))).tolist()
        shared_codes = any(a & b for i, a in enumerate(code_sets) for b in code_sets[i + 1 :])
        if (per_t >= 2).any() and shared_codes:
            out.append(rnd)
    return out
