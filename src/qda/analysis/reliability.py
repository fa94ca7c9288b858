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

from qda.stats.agreement import (
    ALL_CODES,
    AgreementError,
    alpha_bootstrap_ci,
    alpha_parts,
    cohen_kappa,
    cohen_kappa_table,
    fleiss_bootstrap_ci,
    pairable_pairs,
)
from qda.study.units import unit_decisions

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
    return {
        "n_units": int(pairable.sum()),
        "n_coders": int(block.notna().any().sum()),
        "n_disagreements": int((~unanimous).sum()),
        "percent_agreement": float(100.0 * unanimous.mean()) if len(xs) else float("nan"),
        "alpha": alpha,
    }


def decision_agreement(
    decisions: pd.DataFrame, coders: Sequence[str] | None = None, codes: Sequence[str] | None = None
) -> pd.DataFrame:
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
    rows = []
    for rnd in sorted(idx["round"].unique()):
        in_r = (idx["round"] == rnd).to_numpy()
        codes_r = sorted(idx.loc[in_r, "code"].unique())
        for code in [*codes_r, ALL_CODES]:
            sel = in_r & ((idx["code"] == code).to_numpy() if code != ALL_CODES else True)
            base = _agreement_row(wide.loc[sel])
            nd = base["n_disagreements"]
            nr = int(idx.loc[sel, "resolved"].sum())
            rows.append(
                {
                    "round": rnd,
                    "code": code,
                    "n_units": base["n_units"],
                    "reliability_percent": base["percent_agreement"],
                    "reliability_alpha": base["alpha"],
                    "n_disagreements": nd,
                    "n_resolved": nr,
                    "n_not_reconciled": int(idx.loc[sel, "not_reconciled"].sum()),
                    "share_resolved": nr / nd if nd else float("nan"),
                    "agreement_percent": 100.0 * (base["n_units"] - nd + nr) / base["n_units"]
                    if base["n_units"]
                    else float("nan"),
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

    * ``percent agreement``: share of (unit, code) rows on which all coders decided alike
      (Campbell et al. 2013), interval by the transcript-cluster bootstrap;
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
        same = (np.nanmax(xs, 1) == np.nanmin(xs, 1)).astype(float)
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
