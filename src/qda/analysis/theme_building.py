"""From codes to themes: what the analysts' theme assignments, memos and exemplars hold.

Counts participants, never segments (the study does not estimate frequency: see
:data:`qda.analysis.themes.CAVEAT`). A theme segment carries a code when a full-round coding
of that code overlaps it (:func:`qda.stats.spans.overlapping_rows`, the one overlap rule).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from qda.analysis.analysis_set import analysis_set
from qda.analysis.themes import CAVEAT, theme_index, theme_names, with_participants
from qda.errors import QDAError
from qda.study.model import Study
from qda.study.schema import ordered_levels
from qda.study.units import rows_overlapping

# The interpretive step: the analysts' theme assignments (study.themes), their analytic
# memos (study.memos + study.theme_memos) and their chosen exemplars (study.exemplars),
# read against the codings. Every count below is of PARTICIPANTS, because the study does
# not estimate how often a theme, or a code within it, occurs (Murphy et al. 2022,
# limitations); a segment count would suggest a frequency the design cannot give.

#: A segment id as the memos cite it: ``<transcript>-S<nnn>`` (see :func:`analysis_set`).
SEGMENT_REF = re.compile(r"\b([A-Za-z0-9_]+-S\d{3})\b")


def _theme_rows(study: Study, theme=None) -> pd.DataFrame:
    """``study.themes`` (optionally one theme) with participant_id and attributes, fresh index."""
    th = study.themes
    if th is None or th.empty:
        theme_names(study)  # raises the explanatory QDAError
    if theme is not None:
        th = th.loc[th["theme"].astype(int) == theme_index(study, theme)]
    th = th.reset_index(drop=True).copy()
    th["theme"] = th["theme"].astype(int)
    th["subtheme"] = th["subtheme"].fillna("").astype(str)
    return with_participants(study, th)


def _full_codings(study: Study, round: str | None) -> pd.DataFrame:
    c = study.codings
    if round is not None:
        c = c.loc[c["round"].astype(str) == str(round)]
    if c.empty:
        raise QDAError(study.root, "round", f"no codings of round {round!r}", "pass a round of the codings table")
    return c


def segment_codes(study: Study, round: str | None = "full", theme=None) -> pd.DataFrame:
    """Which codes each theme segment carries: one row per (theme segment, code).

    A theme segment (a row of ``study.themes``: the analysts' assignment of an
    analysis-set segment to a theme) *carries* a code when at least one coding of
    that code, in ``round`` (default the full round, where every transcript was
    coded with the final codebook), shares a character with it: the one overlap
    rule of :func:`qda.stats.spans.overlapping_rows` (ATLAS.ti 8 manual,
    co-occurrence). Columns ``theme_coding_id, transcript_id, participant_id,
    gender, career_stage, theme, subtheme, code``. The analysis codes are included
    (every analysis-set segment carries gender inequities and a mentorship code by
    construction); callers drop them where they add nothing.
    """
    th = _theme_rows(study, theme)
    cod = _full_codings(study, round)
    parts = []
    for code, grp in cod.groupby(cod["code"].astype(str), sort=False):
        hit = rows_overlapping(th, grp)
        if hit.any():
            parts.append(th.loc[hit].assign(code=code))
    cols = ["theme_coding_id", "transcript_id", "participant_id", "gender", "career_stage", "theme", "subtheme"]
    if not parts:
        return pd.DataFrame(columns=cols + ["code"])
    out = pd.concat(parts, ignore_index=True)[cols + ["code"]]
    out["gender"] = out["gender"].astype(str)
    out["career_stage"] = out["career_stage"].astype(str)
    return out.sort_values(["theme", "theme_coding_id", "code"], ignore_index=True)


def _code_order(study: Study, codes) -> list[str]:
    """``codes`` in the codebook's order (final version where present), unknown ones last."""
    cb = study.codebook
    if cb is not None and len(cb):
        versions = cb["version"].astype(str)
        cb = cb.loc[versions == ("final" if (versions == "final").any() else versions.iloc[-1])]
        order = {c: k for k, c in enumerate(cb["code"].astype(str))}
    else:
        order = {}
    return sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))


def _drop_analysis_codes(study: Study, frame: pd.DataFrame, keep: bool) -> pd.DataFrame:
    if keep:
        return frame
    return frame.loc[~frame["code"].isin(set(study.analysis_codes.values()))]


def code_theme_table(study: Study, round: str | None = "full", analysis_codes: bool = False) -> pd.DataFrame:
    """Code x theme table counting **participants**: which codes the segments of each theme carry.

    Cell ``(code c, theme t)`` = number of distinct participants with at least one
    segment the analysts assigned to theme ``t`` that carries code ``c``
    (:func:`segment_codes`: a full-round coding of ``c`` overlaps the segment).
    Participants, not segments: a talkative participant with five such segments
    counts once, because the study does not estimate how often a code or a theme
    occurs (Murphy et al. 2022, limitations); the table says how widely a code runs
    through a theme across people, not how common it is.

    Rows: codes in codebook order (without the analysis codes unless
    ``analysis_codes``: every segment carries them by construction), then a row
    ``participants`` = participants with any segment of the theme (the "k of n"
    denominator). Columns: theme numbers, then ``any theme``. ``.attrs["caveat"]``
    holds :data:`CAVEAT`.
    """
    long = _drop_analysis_codes(study, segment_codes(study, round), analysis_codes)
    themes = list(theme_names(study).index)
    uniq = long.drop_duplicates(["code", "theme", "participant_id"])
    table = pd.crosstab(uniq["code"], uniq["theme"]).reindex(columns=themes, fill_value=0)
    table["any theme"] = long.groupby("code")["participant_id"].nunique().reindex(table.index)
    table = table.reindex(_code_order(study, table.index), fill_value=0)
    th = _theme_rows(study)
    sizes = th.groupby("theme")["participant_id"].nunique().reindex(themes, fill_value=0).tolist()
    table.loc["participants"] = sizes + [th["participant_id"].nunique()]
    table.index.name = "code"
    table.columns.name = "theme"
    table = table.astype("int64")
    table.attrs["caveat"] = CAVEAT + (" Data: synthetic corpus." if study.synthetic else "")
    table.attrs["counts"] = "participants"
    return table


def codes_in_theme(study: Study, theme, by: str = "gender", round: str | None = "full") -> pd.DataFrame:
    """For one theme, code x group table counting **participants** (variation within a theme).

    Cell ``(code c, level g)`` = distinct participants of group ``g`` (a participant
    column: gender, career_stage, ...) with a segment of ``theme`` carrying ``c``
    (:func:`segment_codes`). The analysis codes are left out. A last row
    ``participants`` gives the participants of each group who spoke to the theme,
    so a cell reads "k of the n who spoke to it". Who differs from whom *within* a
    theme is a description of this sample, never a rate (Murphy et al. 2022).
    """
    t = theme_index(study, theme)
    if by not in study.participants.columns or by == "participant_id":
        raise QDAError(study.root, "by", f"{by!r} is not a participant characteristic", "use gender or career_stage")
    long = _drop_analysis_codes(study, segment_codes(study, round, theme=t), False)
    long = long.merge(study.participants[["participant_id", by]].rename(columns={by: "_g"}), on="participant_id")
    levels = [str(x) for x in ordered_levels(study.participants[by], by)]
    uniq = long.drop_duplicates(["code", "participant_id"])
    table = pd.crosstab(uniq["code"], uniq["_g"].astype(str)).reindex(columns=levels, fill_value=0)
    table = table.reindex(_code_order(study, table.index), fill_value=0)
    th = _theme_rows(study, t)
    spoke = th.drop_duplicates("participant_id")[by].astype(str).value_counts()
    table.loc["participants"] = spoke.reindex(levels, fill_value=0).to_numpy()
    table.index.name = "code"
    table.columns = pd.Index(levels, name=by)
    table.attrs["caveat"] = CAVEAT
    return table.astype("int64")


def theme_variation(study: Study, theme, rows: str = "gender", columns: str = "role", segments=None) -> pd.DataFrame:
    """Participants of one theme cross-tabulated by two characteristics (who differs, how).

    ``rows`` and ``columns`` are participant columns (gender, career_stage, rank,
    primary_caregiver, ...), ``"subtheme"``, or ``"role"``: the side of the
    mentoring tie the participant speaks from in the theme's segments (giving,
    receiving, or both), taken from the analysis-set segments (``segments``,
    default :func:`qda.analysis.analysis_set.analysis_set`) that overlap the theme
    segment. A cell counts distinct participants with at least one theme segment of
    that combination, so one participant may appear in two columns (a mentor who
    is also mentored); the margins ``total`` count each participant once.
    Participants, not segments (Murphy et al. 2022, limitations).
    """
    t = theme_index(study, theme)
    th = _theme_rows(study, t)
    if "role" in (rows, columns):
        seg = analysis_set(study) if segments is None else segments
        role = pd.Series("", index=th.index, dtype=object)
        for r in ("giving", "receiving", "both"):
            s = seg.loc[seg["role"] == r]
            hit = rows_overlapping(th, s)
            role = role.where(~hit, np.where(role.eq("") | role.eq(r), r, "both"))
        th["role"] = role.replace("", "unspecified")
    for col in (rows, columns):
        if col not in th.columns or col == "participant_id":
            raise QDAError(study.root, "variation", f"{col!r} is not a characteristic", "use gender, role, subtheme...")
        th[col] = th[col].astype(str)
    uniq = th.drop_duplicates([rows, columns, "participant_id"])
    table = pd.crosstab(uniq[rows], uniq[columns])
    row_order = ordered_levels(th[rows], rows) if rows in study.participants.columns else sorted(table.index)
    col_order = ordered_levels(th[columns], columns) if columns in study.participants.columns else sorted(table.columns)
    table = table.reindex(index=[str(x) for x in row_order], columns=[str(x) for x in col_order], fill_value=0)
    table["total"] = th.groupby(rows)["participant_id"].nunique().reindex(table.index, fill_value=0)
    table.loc["total"] = [th.loc[th[columns] == c, "participant_id"].nunique() for c in table.columns[:-1]] + [
        th["participant_id"].nunique()
    ]
    table.attrs["caveat"] = CAVEAT
    return table.astype("int64")


def thematic_map_edges(
    study: Study, round: str | None = "full", top: int | None = None, min_participants: int = 1
) -> pd.DataFrame:
    """The edges of a thematic map: codes -> sub-themes -> themes, weighted by participants.

    Three kinds of edge (column ``kind``):

    - ``code -> sub-theme``: participants with a segment of that (theme, sub-theme)
      carrying the code (:func:`segment_codes`), for themes with sub-themes;
    - ``code -> theme``: the same for themes without sub-themes;
    - ``sub-theme -> theme``: participants with a segment of the sub-theme.

    Code edges keep, per target, the ``top`` codes with most participants (all if
    None; ties broken by codebook order) of at least ``min_participants``. The
    analysis codes are left out (every segment carries them). Columns ``source``,
    ``target`` (node ids: a code slug, ``"t3:role_modeling"``, ``"t3"``),
    ``source_label``, ``target_label`` (code names, sub-theme names, "Theme n: name"),
    ``kind``, ``theme`` and ``participants``. Weighting by participants, not
    segments, keeps one talkative participant from thickening a line: the map shows
    how widely a code runs into a theme across people, not how often (Murphy et al.
    2022, limitations).
    """
    names = theme_names(study)
    long = _drop_analysis_codes(study, segment_codes(study, round), False)
    cb = study.codebook
    code_name = dict(zip(cb["code"].astype(str), cb["name"].astype(str), strict=False)) if len(cb) else {}
    th = _theme_rows(study)
    has_sub = th.groupby("theme")["subtheme"].agg(lambda s: bool((s != "").any()))
    long = long.assign(
        target=[
            f"t{t}:{s}" if has_sub.get(t, False) and s else f"t{t}"
            for t, s in zip(long["theme"], long["subtheme"], strict=True)
        ]
    )
    code_edges = long.groupby(["code", "target", "theme"])["participant_id"].nunique().rename("participants")
    code_edges = code_edges.reset_index()
    code_edges = code_edges.loc[code_edges["participants"] >= min_participants]
    order = {c: k for k, c in enumerate(_code_order(study, code_edges["code"]))}
    code_edges = code_edges.assign(_o=code_edges["code"].map(order))
    code_edges = code_edges.sort_values(["target", "participants", "_o"], ascending=[True, False, True])
    if top is not None:
        code_edges = code_edges.groupby("target").head(top)
    code_edges = code_edges.drop(columns="_o").rename(columns={"code": "source"})
    code_edges["kind"] = np.where(code_edges["target"].str.contains(":"), "code -> sub-theme", "code -> theme")
    subs = th.loc[th["theme"].map(has_sub) & (th["subtheme"] != "")]
    sub_edges = subs.groupby(["theme", "subtheme"])["participant_id"].nunique().rename("participants").reset_index()
    sub_edges = sub_edges.assign(
        source=[f"t{t}:{s}" for t, s in zip(sub_edges["theme"], sub_edges["subtheme"], strict=True)],
        target=[f"t{t}" for t in sub_edges["theme"]],
        kind="sub-theme -> theme",
    )
    edges = pd.concat([code_edges, sub_edges.drop(columns="subtheme")], ignore_index=True)

    def label(node: str) -> str:
        if node.startswith("t") and node[1:].split(":")[0].isdigit():
            t, _, sub = node[1:].partition(":")
            return sub.replace("_", " ") if sub else f"Theme {t}: {names[int(t)]}"
        return code_name.get(node, node)

    edges["source_label"] = edges["source"].map(label)
    edges["target_label"] = edges["target"].map(label)
    edges["theme"] = edges["theme"].astype("int64")
    edges["participants"] = edges["participants"].astype("int64")
    cols = ["source", "target", "source_label", "target_label", "kind", "theme", "participants"]
    return edges[cols].reset_index(drop=True)


def memo_trail(study: Study, theme=None, decision: str | None = None) -> pd.DataFrame:
    """The analytic memos that shaped a theme, in date order, with the decision each records.

    Joins ``study.theme_memos`` (memo, theme, decision: open, keep, split, merge,
    rename, negative case, drop) to ``study.memos`` (date, analyst, what the memo is
    attached to, text). ``theme`` (number or name) and ``decision`` filter. Sorted
    by date, then memo id, so a reader follows a theme as the team built it: one
    team's reading, in the order they wrote it, not a record of what the data
    "contain". Columns ``memo_id, theme, theme_name, date, coder, decision,
    attached_to, code, text, segments`` (``segments``: the segment ids the memo
    cites, ";"-joined, in order of first mention).
    """
    tm, memos = study.theme_memos, study.memos
    if tm is None or tm.empty:
        raise QDAError(study.root, "theme_memos", "the study has no theme memos", "add theme_memos.csv")
    unknown = sorted(set(tm["memo_id"].astype(str)) - set(memos["memo_id"].astype(str)))
    if unknown:
        raise QDAError(study.root, "theme_memos", f"memo {unknown[0]} is not in memos", "add it to memos.csv")
    out = tm.assign(
        memo_id=tm["memo_id"].astype(str), theme=tm["theme"].astype(int), decision=tm["decision"].astype(str)
    )
    out = out.merge(memos.drop(columns=[c for c in ("theme",) if c in memos.columns]), on="memo_id", how="left")
    if theme is not None:
        out = out.loc[out["theme"] == theme_index(study, theme)]
    if decision is not None:
        known = {"open", "keep", "split", "merge", "rename", "negative case", "drop"}
        if decision not in known:
            raise QDAError(None, "decision", f"unknown decision {decision!r}", f"use one of {', '.join(sorted(known))}")
        out = out.loc[out["decision"] == decision]
    out["theme_name"] = out["theme"].map(theme_names(study))
    out["segments"] = [";".join(dict.fromkeys(SEGMENT_REF.findall(str(x)))) for x in out["text"]]
    out = out.sort_values(["date", "memo_id"], kind="stable", ignore_index=True)
    cols = ["memo_id", "theme", "theme_name", "date", "coder", "decision", "attached_to", "code", "text", "segments"]
    return out[cols]


def memo_segments(study: Study, memos: pd.DataFrame, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The analysis-set segments that memos cite, one row per (memo, segment), with their text.

    ``memos`` is a frame from :func:`memo_trail` (its ``segments`` column);
    ``segments`` defaults to :func:`qda.analysis.analysis_set.analysis_set`. Columns
    ``memo_id, theme`` (the memo's theme), ``segment_id, participant_id, gender,
    career_stage, role, themes`` (every theme the analysts gave the segment, ";"-
    joined, "" for none), ``text`` and ``found`` (False where the cited id names no
    segment of the set, e.g. after the set was rebuilt; then the other columns are
    empty).
    """
    seg = analysis_set(study) if segments is None else segments
    rows = [
        (m, t, s)
        for m, t, refs in zip(memos["memo_id"], memos["theme"], memos["segments"], strict=False)
        for s in str(refs).split(";")
        if s
    ]
    out = pd.DataFrame(rows, columns=["memo_id", "theme", "segment_id"])
    cols = ["participant_id", "gender", "career_stage", "role", "themes", "text"]
    out = out.merge(seg[["segment_id"] + cols], on="segment_id", how="left", indicator=True)
    out["found"] = out.pop("_merge") == "both"
    out[cols] = out[cols].fillna("").astype(str)
    return out[["memo_id", "theme", "segment_id"] + cols + ["found"]]


def negative_cases(study: Study, theme=None, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Negative and deviant cases the team recorded: the segments their "negative case" memos cite.

    :func:`memo_segments` of :func:`memo_trail` with ``decision="negative case"``:
    one row per (memo, cited segment), memos in date order, plus the memo's
    ``date`` and ``coder``. The column ``themes`` shows what the team made of each
    case, and ``outcome`` says it in words: "kept in the theme" (the memo's theme is
    among the segment's themes: a deviant case the theme holds), "given another
    theme", "left without a theme" or "not in the set" (a cited id that names no
    segment).
    """
    memos = memo_trail(study, theme, decision="negative case")
    out = memo_segments(study, memos, segments)
    given = out["themes"].str.split(";")
    out["outcome"] = [
        "not in the set"
        if not found
        else "left without a theme"
        if themes == [""]
        else "kept in the theme"
        if str(t) in themes
        else "given another theme"
        for t, themes, found in zip(out["theme"], given, out["found"], strict=True)
    ]
    return out.merge(memos[["memo_id", "date", "coder"]], on="memo_id", how="left")


def unassigned_segments(study: Study, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Analysis-set segments the analysts left without a theme, and the memos that discuss them.

    ``segments`` defaults to :func:`qda.analysis.analysis_set.analysis_set`; a
    segment is unassigned when no theme segment overlaps it (its ``theme`` is
    missing). Adds ``memos``: the theme memos that cite the segment (";"-joined,
    "" for none), so a reader sees which exclusions were argued and which were not.
    Not every segment fits a theme; these are where the themes end.
    """
    seg = analysis_set(study) if segments is None else segments
    out = seg.loc[seg["theme"].isna()].copy()
    cites = memo_trail(study)[["memo_id", "segments"]]
    by_seg: dict[str, list[str]] = {}
    for m, refs in zip(cites["memo_id"], cites["segments"], strict=False):
        for s in filter(None, str(refs).split(";")):
            by_seg.setdefault(s, []).append(m)
    out["memos"] = [";".join(by_seg.get(s, [])) for s in out["segment_id"]]
    cols = ["segment_id", "transcript_id", "participant_id", "gender", "career_stage", "role", "text", "memos"]
    return out[cols].reset_index(drop=True)


def theme_exemplars(study: Study, theme=None) -> pd.DataFrame:
    """The passages the analysts chose to quote for a theme, with text, who said it, and why.

    From ``study.exemplars`` (``theme`` number or name filters): columns
    ``exemplar_id, theme, transcript_id, participant_id, gender, career_stage,
    rank, primary_caregiver, start, end, text, coder, rationale`` and
    ``in_theme_segment``: whether the passage shares a character with a segment the
    analysts assigned to that theme (the overlap rule of
    :func:`qda.stats.spans.overlapping_rows`). An exemplar outside its theme's
    segments was quoted from elsewhere in the interview, and its rationale should
    say so. These are selections, never random draws: each row carries the reason
    it was chosen over other passages.
    """
    ex = study.exemplars
    if ex is None or ex.empty:
        raise QDAError(study.root, "exemplars", "the study has no exemplars", "add exemplars.csv")
    ex = ex.assign(theme=ex["theme"].astype(int))
    if theme is not None:
        ex = ex.loc[ex["theme"] == theme_index(study, theme)]
    ex = with_participants(study, ex.reset_index(drop=True))
    th = _theme_rows(study)
    inside = np.zeros(len(ex), dtype=bool)
    for t in ex["theme"].unique():
        a, b = ex["theme"] == t, th.loc[th["theme"] == t]
        inside[a.to_numpy()] = rows_overlapping(ex.loc[a], b)
    ex["in_theme_segment"] = inside
    ex = study.with_text(ex)
    for col in ("gender", "career_stage", "rank"):
        ex[col] = ex[col].astype(str)
    cols = [
        "exemplar_id",
        "theme",
        "transcript_id",
        "participant_id",
        "gender",
        "career_stage",
        "rank",
        "primary_caregiver",
        "start",
        "end",
        "text",
        "coder",
        "rationale",
        "in_theme_segment",
    ]
    return ex[cols].sort_values(["theme", "exemplar_id"], ignore_index=True)
