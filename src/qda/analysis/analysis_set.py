"""The analysis set: transcript segments where gender inequities meet mentorship.

The study analysed the passages where the code for experiences or observations of
gender inequities co-occurs with the code for experiences of mentorship, split into
giving (mentoring) and receiving (being mentored) (Murphy et al., Academic Medicine
2022, doi:10.1097/ACM.0000000000004388, Method). Codes are looked up through
``study.analysis_codes`` so a user's own project may name them differently.

Rule for one segment (written here; no library builds it):

1. Take the codings of the chosen round (and coders) of the codes
   ``gender_inequities``, ``mentoring``, ``being_mentored`` (and ``mentorship``
   itself, should a project apply the umbrella code directly).
2. Find every pair of a gender-inequities coding and a mentorship coding that
   co-occur under ``rule`` (:func:`qda.cooccurrence.cooccurring_pairs`).
3. Give each pair a span: the **union** ``[min(start), max(end))`` of the two
   codings (default: it reads as a whole excerpt), or their **intersection**
   ``[max(start), min(end))`` (only with ``rule="overlap"``, where it is never empty).
4. Merge spans of one transcript that share a character into one segment, so the
   analysis set never shows a stretch of text twice.
5. ``role`` is "giving" when the segment's mentorship codings are all
   ``mentoring``, "receiving" when all ``being_mentored``, "both" when both occur,
   and "unspecified" when only the umbrella code does.
6. Themes (``study.themes``) are joined by overlap: ``theme`` is the theme whose
   theme codings share the most characters with the segment (ties: the lower
   number), ``subtheme`` the sub-theme of its largest such coding, ``themes`` every
   overlapping theme number (";"-joined). No overlap: ``<NA>`` and "".
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from qda.analysis.cooccurrence import (
    c_coefficient,
    cooccurrence_matrix,
    cooccurring_pairs,
)
from qda.errors import QDAError, ReferenceIntegrityError
from qda.study.model import Study
from qda.study.units import speaker_turns

#: Columns of :func:`analysis_set`.
SEGMENT_COLUMNS = [
    "segment_id",
    "transcript_id",
    "participant_id",
    "start",
    "end",
    "text",
    "gender",
    "career_stage",
    "rank",
    "role",
    "theme",
    "theme_name",
    "subtheme",
    "themes",
    "coding_ids",
]

ROLES = ("giving", "receiving", "both", "unspecified")


def _analysis_codings(study: Study, coders: Iterable[str] | None, round: str | None) -> tuple[pd.DataFrame, dict]:
    codes = study.analysis_codes
    for role in ("gender_inequities", "mentoring", "being_mentored"):
        if role not in codes:
            raise QDAError(
                study.root,
                "analysis_codes",
                f"no code is mapped to the role {role!r}",
                "set study.analysis_codes[role] to the code slug of your codebook",
            )
    c = study.codings
    keep = (
        c["code"]
        .astype(str)
        .isin([codes["gender_inequities"], codes["mentoring"], codes["being_mentored"], codes.get("mentorship", "")])
    )
    if round is not None:
        rounds = sorted(c["round"].astype(str).unique())
        if str(round) not in rounds:
            raise QDAError(
                study.root,
                "round",
                f"no codings of round {round!r}",
                f"use one of {', '.join(rounds) or '(none)'} or round=None for all",
            )
        keep &= c["round"].astype(str) == str(round)
    if coders is not None:
        coders = [coders] if isinstance(coders, str) else [str(x) for x in coders]
        unknown = sorted(set(coders) - set(c["coder"].astype(str)))
        if unknown:
            raise QDAError(
                study.root,
                "coders",
                f"no codings by {', '.join(unknown)}",
                "pass coders who appear in the codings table",
            )
        keep &= c["coder"].astype(str).isin(coders)
    return c.loc[keep], codes


def _merge_spans(spans: pd.DataFrame) -> np.ndarray:
    """Segment number per span: spans of one transcript that share a character merge.

    Classic interval merge: sort by (transcript, start); a new segment begins where
    the start is at or past the running maximum end of the transcript so far.
    ``spans`` must already be sorted that way.
    """
    tid = spans["transcript_id"].to_numpy()
    start = spans["start"].to_numpy()
    end = spans["end"].to_numpy()
    run_max = spans.groupby("transcript_id", sort=False)["end"].cummax().to_numpy()
    new = np.ones(len(spans), dtype=bool)
    if len(spans) > 1:
        same_t = tid[1:] == tid[:-1]
        new[1:] = ~same_t | (start[1:] >= run_max[:-1])
    del end
    return np.cumsum(new) - 1


def _join_themes(study: Study, seg: pd.DataFrame) -> pd.DataFrame:
    """theme, theme_name, subtheme, themes for each segment (rule 6 of the module docstring)."""
    out = pd.DataFrame(
        {"theme": pd.array([pd.NA] * len(seg), dtype="Int64"), "theme_name": "", "subtheme": "", "themes": ""},
        index=seg.index,
    )
    th = study.themes
    if th is None or th.empty or seg.empty:
        return out
    both = pd.concat(
        [
            pd.DataFrame(
                {
                    "coding_id": "S:" + seg["segment_id"],
                    "transcript_id": seg["transcript_id"],
                    "start": seg["start"],
                    "end": seg["end"],
                    "code": "segment",
                }
            ),
            pd.DataFrame(
                {
                    "coding_id": "T:" + pd.Series(np.arange(len(th))).astype(str),
                    "transcript_id": th["transcript_id"].astype(str).to_numpy(),
                    "start": th["start"].to_numpy(),
                    "end": th["end"].to_numpy(),
                    "code": "theme",
                }
            ),
        ],
        ignore_index=True,
    )
    p = cooccurring_pairs(both)  # drops segment-segment and theme-theme pairs (same code)
    if p.empty:
        return out
    seg_first = p["code_1"] == "segment"
    seg_key = np.where(seg_first, p["coding_id_1"], p["coding_id_2"])
    th_key = np.where(seg_first, p["coding_id_2"], p["coding_id_1"])
    link = pd.DataFrame(
        {
            "segment_id": pd.Series(seg_key).str.slice(2),
            "row": pd.Series(th_key).str.slice(2).astype(int),
            "shared": (p["overlap_end"] - p["overlap_start"]).astype("int64").to_numpy(),
        }
    )
    link = link.join(th[["theme", "theme_name", "subtheme"]].reset_index(drop=True), on="row")
    per_theme = link.groupby(["segment_id", "theme"], as_index=False)["shared"].sum()
    per_theme = per_theme.sort_values(["segment_id", "shared", "theme"], ascending=[True, False, True])
    best = per_theme.drop_duplicates("segment_id").set_index("segment_id")["theme"]
    best_rows = link.merge(best.rename("best").reset_index(), on="segment_id")
    best_rows = best_rows.loc[best_rows["theme"] == best_rows["best"]]
    best_rows = best_rows.sort_values(["segment_id", "shared", "row"], ascending=[True, False, True])
    best_rows = best_rows.drop_duplicates("segment_id").set_index("segment_id")
    all_themes = link.groupby("segment_id")["theme"].agg(lambda s: ";".join(str(x) for x in sorted(set(s))))
    ids = seg["segment_id"]
    out["theme"] = pd.array(ids.map(best).to_numpy(), dtype="Int64")
    out["theme_name"] = ids.map(best_rows["theme_name"]).fillna("").astype(str).to_numpy()
    out["subtheme"] = ids.map(best_rows["subtheme"]).fillna("").astype(str).to_numpy()
    out["themes"] = ids.map(all_themes).fillna("").astype(str).to_numpy()
    return out


def analysis_set(
    study: Study,
    rule: str = "overlap",
    within: int = 0,
    coders: Iterable[str] | None = None,
    round: str | None = "full",
    span: str = "union",
    turns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The segments where gender inequities co-occur with mentoring or being mentored.

    Parameters
    ----------
    study : Study
    rule, within, turns
        Co-occurrence rule, as in :func:`qda.cooccurrence.cooccurring_pairs`
        (``"overlap"``: one shared character; ``"within"``: at most ``within``
        characters apart; ``"same_turn"``: same speaker turn, ``turns`` defaulting
        to :func:`qda.codings.speaker_turns`).
    coders : list of str, optional
        Use only these coders' codings (default: all).
    round : str or None
        Coding round ("1", "2", "3", "full"); None uses every round.
    span : {"union", "intersection"}
        The text of a co-occurring pair: the union of the two codings (default)
        or their shared stretch (``rule="overlap"`` only).

    Returns
    -------
    DataFrame
        One row per segment, columns :data:`SEGMENT_COLUMNS`: ``segment_id``
        (``<transcript>-S001`` ...), ``transcript_id``, ``participant_id``,
        ``start``, ``end`` (code points, end exclusive), ``text``, ``gender``,
        ``career_stage``, ``rank``, ``role`` (giving / receiving / both /
        unspecified), ``theme`` (Int64), ``theme_name``, ``subtheme``, ``themes``
        and ``coding_ids`` (the ";"-joined codings the segment came from). The
        construction rule is in the module docstring.

    Reference: Murphy et al. 2022 (analysis set, Method); ATLAS.ti manual,
    "Code Co-Occurrence Tools" (the co-occurrence rule).
    """
    if span not in ("union", "intersection"):
        raise QDAError(None, "span", f"unknown span {span!r}", "use 'union' or 'intersection'")
    if span == "intersection" and rule != "overlap":
        raise QDAError(
            None,
            "span",
            f"the intersection of codings that co-occur by {rule!r} may be empty",
            "use span='union' or rule='overlap'",
        )
    codings, codes = _analysis_codings(study, coders, round)
    mentor_role = {codes["mentoring"]: "giving", codes["being_mentored"]: "receiving"}
    if codes.get("mentorship"):
        mentor_role[codes["mentorship"]] = "unspecified"
    return segments_where(study, codings, codes["gender_inequities"], mentor_role, rule, within, span, turns)


def segments_where(
    study: Study,
    codings: pd.DataFrame,
    code_a: str,
    role_of: dict[str, str],
    rule: str = "overlap",
    within: int = 0,
    span: str = "union",
    turns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The segments where codings of ``code_a`` co-occur with codings of the codes in ``role_of``.

    Rules 2-6 of the module docstring: ``role_of`` maps each second code to its role
    label ("unspecified" for the second code applied directly); a segment's ``role`` is
    its one label, "both" for two labels, "several" for more. :func:`analysis_set` calls
    it with the study's four analysis codes; :mod:`qda.analysis.mapped` with the codes a
    user's mapping names, each family relabelled as one code.
    """
    if rule == "same_turn" and turns is None:
        turns = speaker_turns(study.transcripts)
    gi = code_a
    mentor_role = dict(role_of)
    pairs = cooccurring_pairs(codings, rule=rule, within=within, turns=turns)
    is_gi1 = pairs["code_1"] == gi
    is_gi2 = pairs["code_2"] == gi
    cross = (is_gi1 & pairs["code_2"].isin(list(mentor_role))) | (is_gi2 & pairs["code_1"].isin(list(mentor_role)))
    pairs = pairs.loc[cross]
    pos = pd.Series(np.arange(len(codings)), index=codings["coding_id"].astype(str).to_numpy())
    if not pos.index.is_unique:
        dup = pos.index[pos.index.duplicated()][0]
        raise ReferenceIntegrityError(
            study.root, f"codings, coding_id {dup}", "appears more than once", "give every coding a unique id"
        )
    s = codings["start"].to_numpy(dtype=np.int64)
    e = codings["end"].to_numpy(dtype=np.int64)
    i = pos.loc[pairs["coding_id_1"]].to_numpy()
    j = pos.loc[pairs["coding_id_2"]].to_numpy()
    if span == "union":
        lo, hi = np.minimum(s[i], s[j]), np.maximum(e[i], e[j])
    else:
        lo, hi = np.maximum(s[i], s[j]), np.minimum(e[i], e[j])
    mentor_code = np.where(pairs["code_1"] == gi, pairs["code_2"], pairs["code_1"])
    spans = pd.DataFrame(
        {
            "transcript_id": pairs["transcript_id"].to_numpy(),
            "start": lo,
            "end": hi,
            "role": pd.Series(mentor_code).map(mentor_role).to_numpy(),
            "c1": pairs["coding_id_1"].to_numpy(),
            "c2": pairs["coding_id_2"].to_numpy(),
        }
    ).sort_values(["transcript_id", "start", "end"], kind="stable", ignore_index=True)
    spans["seg"] = _merge_spans(spans)

    def role_of(r: pd.Series) -> str:
        kinds = set(r) - {"unspecified"}
        if len(kinds) > 2:
            return "several"
        return "both" if len(kinds) == 2 else (kinds.pop() if kinds else "unspecified")

    seg = spans.groupby("seg", sort=True).agg(
        transcript_id=("transcript_id", "first"),
        start=("start", "min"),
        end=("end", "max"),
        role=("role", role_of),
    )
    members = pd.concat(
        [spans[["seg", "c1"]].set_axis(["seg", "c"], axis=1), spans[["seg", "c2"]].set_axis(["seg", "c"], axis=1)]
    )
    members = members.drop_duplicates().sort_values(["seg", "c"])
    seg["coding_ids"] = members.groupby("seg")["c"].agg(";".join).reindex(seg.index).fillna("")
    seg = seg.reset_index(drop=True)
    seg["segment_id"] = (
        seg["transcript_id"] + "-S" + (seg.groupby("transcript_id").cumcount() + 1).astype(str).str.zfill(3)
    )

    # participant attributes
    t2p = study.transcripts.set_index("transcript_id")["participant_id"]
    unknown = sorted(set(seg["transcript_id"]) - set(t2p.index))
    if unknown:
        raise ReferenceIntegrityError(
            study.root,
            "codings",
            f"transcript {unknown[0]} has codings but no text",
            "add its transcript file or remove its codings",
        )
    seg["participant_id"] = seg["transcript_id"].map(t2p).astype(str)
    part = study.participants.set_index("participant_id")
    missing = sorted(set(seg["participant_id"]) - set(part.index))
    if missing:
        raise ReferenceIntegrityError(
            study.root,
            "participants",
            f"participant {missing[0]} is missing",
            "add a participants row for every transcript",
        )
    for col in ("gender", "career_stage", "rank"):
        seg[col] = seg["participant_id"].map(part[col].astype(str)).astype(str)
    seg = study.with_text(seg)
    seg = pd.concat([seg, _join_themes(study, seg)], axis=1)
    seg["start"] = seg["start"].astype("int64")
    seg["end"] = seg["end"].astype("int64")
    return seg[SEGMENT_COLUMNS].reset_index(drop=True)


def analysis_set_summary(study: Study, segments: pd.DataFrame | None = None, **kwargs) -> pd.DataFrame:
    """Segments per participant and the share of transcripts the analysis set covers.

    Returns one row per participant (all of them, also those without segments):
    ``participant_id, transcript_id, gender, career_stage, n_segments, n_chars``
    (characters in their segments), ``n_giving, n_receiving, n_both`` (segments by
    role) and ``covered`` (at least one segment). ``.attrs["share_covered"]`` is
    the share of transcripts with at least one segment (the study reports that all
    104 interviews held both codes; Murphy et al. 2022).

    ``segments`` defaults to :func:`analysis_set` (``study``, ``**kwargs``).
    """
    if segments is None:
        segments = analysis_set(study, **kwargs)
    p = study.participants[["participant_id", "gender", "career_stage"]].copy()
    p["gender"] = p["gender"].astype(str)
    p["career_stage"] = p["career_stage"].astype(str)
    p2t = study.transcripts.groupby("participant_id")["transcript_id"].first()
    p["transcript_id"] = p["participant_id"].map(p2t).fillna("").astype(str)
    seg = segments.assign(n_chars=segments["end"] - segments["start"])
    g = seg.groupby("participant_id")
    p["n_segments"] = p["participant_id"].map(g.size()).fillna(0).astype("int64")
    p["n_chars"] = p["participant_id"].map(g["n_chars"].sum()).fillna(0).astype("int64")
    for role in ("giving", "receiving", "both"):
        counts = seg.loc[seg["role"] == role].groupby("participant_id").size()
        p[f"n_{role}"] = p["participant_id"].map(counts).fillna(0).astype("int64")
    p["covered"] = p["n_segments"] > 0
    out = p[
        [
            "participant_id",
            "transcript_id",
            "gender",
            "career_stage",
            "n_segments",
            "n_chars",
            "n_giving",
            "n_receiving",
            "n_both",
            "covered",
        ]
    ].reset_index(drop=True)
    n_t = len(study.transcripts)
    out.attrs["share_covered"] = (segments["transcript_id"].nunique() / n_t) if n_t else float("nan")
    return out


def with_merged_mentorship(study: Study, round: str | None = "full") -> pd.DataFrame:
    """The codings of ``round`` with both mentorship children relabelled as their parent.

    The study's analysis code "experiences of mentorship" is the union of mentoring
    (giving) and being mentored (receiving) (Murphy et al. 2022); counting it as one
    code answers "does gender inequity meet mentorship at all", whichever side.
    """
    codes = study.analysis_codes
    c = study.codings if round is None else study.codings.loc[study.codings["round"].astype(str) == str(round)]
    parent = codes.get("mentorship", "mentorship")
    return c.assign(code=c["code"].replace({codes["mentoring"]: parent, codes["being_mentored"]: parent}))


def analysis_code_c(study: Study, round: str | None = "full", rule: str = "overlap") -> pd.Series:
    """ATLAS.ti's c-coefficient of gender inequities with mentoring, being mentored and both.

    ``c = n12 / (n1 + n2 - n12)`` (ATLAS.ti manual, "Code Co-occurrence Coefficient"),
    computed by :func:`qda.cooccurrence.cooccurrence_matrix` / :func:`c_coefficient`
    on the codings of ``round``; "mentorship (both)" merges the two children first
    (:func:`with_merged_mentorship`). Returns a Series indexed by those three labels.
    """

    codes = study.analysis_codes
    gi, m, bm = codes["gender_inequities"], codes["mentoring"], codes["being_mentored"]
    c = study.codings if round is None else study.codings.loc[study.codings["round"].astype(str) == str(round)]
    c_each = c_coefficient(cooccurrence_matrix(c, rule=rule, codes=[gi, m, bm]))
    merged = with_merged_mentorship(study, round)
    parent = codes.get("mentorship", "mentorship")
    c_both = c_coefficient(cooccurrence_matrix(merged, rule=rule, codes=[gi, parent]))
    return pd.Series(
        {
            "mentoring": c_each.loc[gi, m],
            "being mentored": c_each.loc[gi, bm],
            "mentorship (both)": c_both.loc[gi, parent],
        },
        name="c with gender inequities",
    )


DEFAULT_RULES = (("overlap", 0), ("within", 100), ("within", 400), ("same_turn", 0))


def rule_label(rule: str, within: int = 0) -> str:
    """A reader's label for a co-occurrence rule: ``overlap``, ``within 100 characters``, ``same turn``."""
    return f"within {within} characters" if rule == "within" else rule.replace("_", " ")


def analysis_set_under_rules(study: Study, rules: Iterable[tuple[str, int]] = DEFAULT_RULES) -> pd.DataFrame:
    """Size of the analysis set under each co-occurrence rule.

    For each ``(rule, within)`` the analysis set is recomputed with
    :func:`analysis_set` (full round, union spans). Columns:

    - ``segments``: segments after merging spans that share a character. This
      can *fall* as the rule loosens, because nearby segments merge into one.
    - ``characters``: characters of text in the set (sum of segment lengths).
      The pairs admitted under ``overlap`` are a subset of those under
      ``within 0``, which are a subset of those under any larger ``within``
      (and ``overlap`` pairs are a subset of ``same_turn`` pairs), so the text
      covered only grows as the rule loosens.
    - ``participants``, ``transcripts``: how many have at least one segment.
    - ``theme k participants``: participants with a segment that shares a
      character with a theme-``k`` coding (the ``themes`` column); this too only
      grows with the covered text. Participants, not segments, following the
      study's no-frequency caveat (:data:`qda.analysis.themes.CAVEAT`).

    The index is the rule's label (:func:`rule_label`). Reference: ATLAS.ti
    manual, "Code Co-Occurrence Tools"; Murphy et al. 2022 (analysis set).
    """

    numbers = sorted(int(k) for k in pd.unique(study.themes["theme"])) if len(study.themes) else []
    rows = []
    for rule, within in rules:
        seg = analysis_set(study, rule=rule, within=int(within))
        row = {
            "rule": rule_label(rule, within),
            "segments": len(seg),
            "characters": int((seg["end"] - seg["start"]).sum()),
            "participants": seg["participant_id"].nunique(),
            "transcripts": seg["transcript_id"].nunique(),
        }
        touched = seg[["participant_id", "themes"]].assign(theme=seg["themes"].str.split(";")).explode("theme")
        for k in numbers:
            row[f"theme {k} participants"] = touched.loc[touched["theme"] == str(k), "participant_id"].nunique()
        rows.append(row)
    return pd.DataFrame(rows).set_index("rule").astype("int64")
