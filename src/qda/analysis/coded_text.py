"""Agreement on coded text as QDA programs report it: NVivo's character-level comparison and MAXQDA's segment overlap."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qda.stats.agreement import ALL_CODES, AgreementError

# ---------------------------------------------------------------------------
# Coded text: NVivo and MAXQDA
# ---------------------------------------------------------------------------
_CODING_COLS = ["transcript_id", "coder", "code", "start", "end"]


def check_codings(codings: pd.DataFrame, coders: Sequence[str]) -> pd.DataFrame:
    """The codings of ``coders``, checked (columns, offsets) for the comparisons of NVivo and MAXQDA.

    Raises :class:`~qda.stats.agreement.AgreementError` naming the first bad row; a coder with
    no codings is an error too (see :func:`nvivo_coding_comparison`).
    """
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
    sub = check_codings(codings, [coder_a, coder_b])
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
    sub = check_codings(codings, [coder_a, coder_b])
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
