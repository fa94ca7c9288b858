"""Fixed units in the manner of Campbell et al. (2013): decisions per (unit, code), reliability before and agreement after discussion.

Campbell JL, Quincy C, Osserman J, Pedersen OK (2013). Coding in-depth semistructured
interviews: problems of unitization and intercoder reliability and agreement. Sociological
Methods & Research 42(3):294-320.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qda.stats.agreement import ALL_CODES, AgreementError
from qda.stats.alpha import alpha_parts
from qda.study.model import Study
from qda.study.units import participant_units, unit_decisions

# ---------------------------------------------------------------------------
# Fixed units (Campbell et al. 2013)
# ---------------------------------------------------------------------------
_DECISION_COLS = ["transcript_id", "unit_id", "coder", "code", "applied"]


def decision_wide(
    decisions: pd.DataFrame, coders: Sequence[str] | None, codes: Sequence[str] | None, extra_keys: Sequence[str] = ()
) -> pd.DataFrame:
    """Decisions (one row per unit, coder, code) as a table: one row per (unit, code), one column per coder.

    The layout of Campbell et al. (2013, their decision grid) and of the reliability data
    matrix of Krippendorff (2011); a coder who made no decision on a unit leaves NaN.
    """
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


def binary_pairs(applied: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For binary decisions, per unit with ``a`` of ``m`` coders applying the code: pair counts.

    Returns the share of coder pairs that agree (Fleiss 1971, P_i), the pairs that both
    applied the code, and the pairs in which at least one applied it (the denominator of
    Campbell et al.'s 2013 percent agreement, which leaves absent/absent pairs out).
    """
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
    share, both, anyone = binary_pairs(applied[ok], m[ok])
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
    wide = decision_wide(decisions, coders, codes)
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


def round_labels(values: Any) -> pd.Series:
    """Round labels as text, whole numbers without a decimal part: 2, 2.0, "2.0" and "2" are "2".

    One spelling for the rounds of Campbell et al. (2013) however a table stored them.
    """
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
    their string form); rounds are normalised by :func:`round_labels` (``2``, ``2.0``
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
    rec["round"] = round_labels(reconciliation["round"]).to_numpy()
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
        rmap = pd.Series(round_labels(rmap).to_numpy(), index=rmap.index)
        dec["round"] = dec["transcript_id"].map(rmap)
        if dec["round"].isna().any():
            t = dec.loc[dec["round"].isna(), "transcript_id"].iloc[0]
            raise AgreementError(
                "rounds", f"gives no round for transcript {t}", "map every transcript of decisions to a round"
            )
    dec["round"] = round_labels(dec["round"]).to_numpy()
    wide = decision_wide(dec, None, None, extra_keys=["round"])
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
# On a study: fixed-unit decisions over the codebook in force, and the 50 % rule
# ---------------------------------------------------------------------------
def round_codings(study: Study, rnd: str) -> pd.DataFrame:
    """The codings of one round (see :func:`round_labels`); an error naming the rounds when it has none."""
    c = study.codings
    part = c.loc[round_labels(c["round"]).to_numpy() == rnd]
    if part.empty:
        known = sorted(set(round_labels(c["round"])))
        raise AgreementError("rounds", f"names round {rnd!r}, which has no codings", f"use one of {known}")
    return part


def codebook_in_force(study: Study, rnd: str) -> tuple[str, pd.DataFrame]:
    """The codebook version the coders of round ``rnd`` used, and its rows (one per code).

    Read from the codings' ``codebook_version``; a round coded with several versions is an
    error (the decision grid of :func:`study_decisions` and the semantic domains of
    :func:`unitizing_reliability` would be ambiguous).
    """
    part = round_codings(study, rnd)
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
    for rnd in [round_labels([r]).iloc[0] for r in rounds]:
        cod = round_codings(study, rnd)
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
