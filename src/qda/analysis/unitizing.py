"""Krippendorff's unitizing alphas on a study, as ATLAS.ti reports them: per code, per semantic domain, over all domains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qda.analysis.campbell import codebook_in_force, decision_agreement, round_codings, round_labels
from qda.stats.agreement import ALL_CODES, AgreementError
from qda.stats.unitizing import unitizing_alpha
from qda.study.model import Study

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
    for rnd in [round_labels([r]).iloc[0] for r in rounds]:
        cod = round_codings(study, rnd)
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
    labels = round_labels(c["round"]).to_numpy()
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


def spans_beside_units(unitizing: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Per code and round, agreement on coded spans beside agreement on fixed units.

    ``unitizing`` is the table of :func:`unitizing_reliability`; ``decisions`` the fixed-unit
    decisions with a ``round`` column (:func:`qda.analysis.campbell.study_decisions`). The
    columns are a two-level index: ``|u-alpha (spans)`` (Krippendorff et al. 2016, each code's
    binary continuum) and ``alpha (fixed units)`` (nominal alpha of the turn decisions, as
    Campbell et al. 2013 fix the units), each by round; one row per code.
    """
    per_code_u = unitizing[unitizing["level"] == "code"].pivot(index="code", columns="round", values="value")
    per_code_f = pd.concat(
        {
            r: decision_agreement(d.drop(columns="round")).set_index("code")["alpha"]
            for r, d in decisions.groupby(decisions["round"].astype(str))
        },
        axis=1,
    )
    return pd.concat(
        {"|u-alpha (spans)": per_code_u, "alpha (fixed units)": per_code_f.drop(index=ALL_CODES, errors="ignore")},
        axis=1,
    )
