"""Themes: who spoke to each theme (participants, not segments) and passages to read.

The study reports its four themes interpretively; it did not use a closed-ended
survey and so does not estimate how often, or how strongly, a theme occurs across
people, time, age or career stage (Murphy et al., Academic Medicine 2022,
doi:10.1097/ACM.0000000000004388, Limitations). The tables here therefore count
*participants* whose interview touches a theme, never segments, and carry that
caveat with them (``table.attrs["caveat"]`` and :data:`CAVEAT`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qda.errors import QDAError
from qda.study.model import Study
from qda.study.schema import ordered_levels
from qda.study.units import rows_overlapping

CAVEAT = (
    "Counts are participants whose interview touches the theme, not segments. "
    "A qualitative interview study does not estimate how frequent or how intense a "
    "theme is across people, age or career stage (Murphy et al. 2022, limitations); "
    "read these numbers as a description of this sample, not as prevalence."
)

_GROUPS = (
    "gender",
    "career_stage",
    "rank",
    "degree",
    "age_band",
    "leadership",
    "endowed_chair",
    "primary_caregiver",
    "interview_mode",
    "field",
)


def theme_names(study: Study) -> pd.Series:
    """Theme number -> theme name, ordered by number (from ``study.themes``).

    Raises :class:`~qda.errors.QDAError` if the study has no theme codings.
    """
    th = study.themes
    if th is None or th.empty:
        raise QDAError(study.root, "themes", "the study has no theme codings", "add themes.csv (see data/README.md)")
    names = th[["theme", "theme_name"]].drop_duplicates().sort_values("theme")
    dup = names["theme"].duplicated()
    if dup.any():
        t = names.loc[dup, "theme"].iloc[0]
        raise QDAError(
            study.root, f"themes, theme {t}", "carries more than one theme_name", "give each theme number one name"
        )
    return pd.Series(
        names["theme_name"].astype(str).to_numpy(),
        index=pd.Index(names["theme"].astype(int), name="theme"),
        name="theme_name",
    )


def theme_index(study: Study, theme) -> int:
    """The theme's number, given its number or its name (any case); QDAError if it has neither."""
    names = theme_names(study)
    if isinstance(theme, (int, np.integer)) and int(theme) in names.index:
        return int(theme)
    if isinstance(theme, str):
        hits = names.index[names.str.lower() == theme.strip().lower()]
        if len(hits):
            return int(hits[0])
        if theme.strip().isdigit() and int(theme) in names.index:
            return int(theme)
    raise QDAError(
        study.root,
        "theme",
        f"no theme {theme!r}",
        f"use a number {', '.join(map(str, names.index))} or one of the theme names",
    )


def with_participants(study: Study, frame: pd.DataFrame) -> pd.DataFrame:
    """Add participant_id (via transcripts) and every participant column to ``frame``."""
    out = frame.copy()
    if "participant_id" not in out.columns:
        t2p = study.transcripts.set_index("transcript_id")["participant_id"]
        out["participant_id"] = out["transcript_id"].astype(str).map(t2p)
    part = study.participants.set_index("participant_id")
    extra = [c for c in part.columns if c not in out.columns]
    return out.join(part[extra], on="participant_id")


def theme_by(
    study: Study, by: str = "gender", segments: pd.DataFrame | None = None, level: str = "theme"
) -> pd.DataFrame:
    """Theme x group table counting **participants**, with the study's caveat.

    Cell ``(theme t, group g)`` = number of distinct participants of group ``g``
    (a column of ``participants``: gender, career_stage, rank, ...) with at least
    one passage of theme ``t``. Passages are ``study.themes`` (default) or the
    ``segments`` given (e.g. :func:`qda.analysis_set.analysis_set`, using its
    ``theme``/``subtheme`` columns). ``level="subtheme"`` counts by
    (theme, subtheme) instead; a theme without sub-themes shows as subtheme "".

    Rows are labelled by theme name (index ``theme``, or ``theme, subtheme``),
    columns are the group's levels in their categorical order plus ``total``
    (participants with the theme in any group). A row ``participants`` gives each
    group's size, so a reader sees "k of n". ``.attrs["caveat"]`` holds
    :data:`CAVEAT` (plus a note when the study is synthetic). Reference: Murphy et al. 2022 (themes; limitations).
    """
    if by not in study.participants.columns or by == "participant_id":
        raise QDAError(
            study.root,
            "by",
            f"{by!r} is not a participant characteristic",
            f"use one of {', '.join(c for c in _GROUPS if c in study.participants.columns)}",
        )
    if level not in ("theme", "subtheme"):
        raise QDAError(None, "level", f"unknown level {level!r}", "use 'theme' or 'subtheme'")
    names = theme_names(study)
    src = study.themes if segments is None else segments
    need = ["transcript_id", "theme"] + (["subtheme"] if level == "subtheme" else [])
    missing = [c for c in need if c not in src.columns]
    if missing:
        raise QDAError(
            None,
            "segments",
            f"missing column(s) {', '.join(missing)}",
            "pass the frame returned by analysis_set or study.themes",
        )
    src = src.loc[src["theme"].notna()].copy()
    src["theme"] = src["theme"].astype(int)
    src = with_participants(study, src)
    part = study.participants
    groups = part[by]
    levels = ordered_levels(groups, by)  # e.g. woman before man, ranks from assistant up
    src["theme_label"] = src["theme"].map(names)
    keys = ["theme_label"] + (["subtheme"] if level == "subtheme" else [])
    uniq = src.drop_duplicates(keys + ["participant_id"])
    table = pd.crosstab([uniq[k] for k in keys], uniq[by].astype(object)).reindex(columns=levels, fill_value=0)
    total = uniq.groupby(keys)["participant_id"].nunique()
    table["total"] = total.reindex(table.index).to_numpy()
    order = [names[t] for t in names.index]
    if level == "theme":
        table = table.reindex(order, fill_value=0)
        table.index.name = "theme"
    else:
        table = table.sort_index(level=1).reindex(order, level=0)
        table.index.names = ["theme", "subtheme"]
    sizes = [int((groups == lv).sum()) for lv in levels] + [len(part)]
    size_row = pd.DataFrame(
        [sizes],
        columns=table.columns,
        index=pd.Index(["participants"], name="theme")
        if level == "theme"
        else pd.MultiIndex.from_tuples([("participants", "")], names=["theme", "subtheme"]),
    )
    table = pd.concat([table, size_row]).astype("int64")
    table.columns = pd.Index([str(c) for c in table.columns], name=by)
    table.attrs["caveat"] = CAVEAT + (" Data: synthetic corpus." if study.synthetic else "")
    table.attrs["counts"] = "participants"
    return table


def excerpts(
    study: Study,
    theme,
    gender: str | None = None,
    career_stage: str | None = None,
    n: int = 3,
    seed: int = 0,
    segments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Up to ``n`` passages of ``theme`` (number or name), drawn at random with ``seed``.

    Passages are theme codings (``study.themes``) or, if given, ``segments`` with a
    ``theme`` column. ``gender``/``career_stage`` filter by the participant. The
    draw is a seeded simple random sample without replacement
    (``numpy.random.default_rng(seed).choice``), at most one passage per
    participant while enough participants remain, so a few talkative people do
    not fill the page; fewer than ``n`` rows come back when fewer exist.

    Returns columns ``participant_id, gender, career_stage, theme, theme_name,
    subtheme, transcript_id, start, end, text``, sorted by participant.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise QDAError(None, "n", f"{n!r} is not a whole number >= 0", "pass n=3 or similar")
    t = theme_index(study, theme)
    names = theme_names(study)
    src = study.themes if segments is None else segments
    src = src.loc[src["theme"].notna() & (src["theme"].astype("Int64") == t)].copy()
    src = with_participants(study, src)
    for col, val in (("gender", gender), ("career_stage", career_stage)):
        if val is None:
            continue
        known = set(study.participants[col].astype(str))
        if str(val) not in known:
            raise QDAError(None, col, f"no participant has {col} {val!r}", f"use one of {', '.join(sorted(known))}")
        src = src.loc[src[col].astype(str) == str(val)]
    src = src.sort_values(["participant_id", "transcript_id", "start"], kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    # one passage per participant first (random order of participants, random passage each) ...
    shuffled = src.iloc[rng.permutation(len(src))]
    firsts = shuffled.drop_duplicates("participant_id")
    take = list(firsts.index[:n])
    if len(take) < n:  # ... then fill from the rest
        rest = shuffled.index.difference(take, sort=False)
        take += list(rest[: n - len(take)])
    out = src.loc[take].copy()
    out["theme"] = t
    out["theme_name"] = names[t]
    if "subtheme" not in out.columns:
        out["subtheme"] = ""
    if "text" not in out.columns:
        out = study.with_text(out)
    cols = [
        "participant_id",
        "gender",
        "career_stage",
        "theme",
        "theme_name",
        "subtheme",
        "transcript_id",
        "start",
        "end",
        "text",
    ]
    out = out[cols].sort_values(["participant_id", "start"]).reset_index(drop=True)
    out["gender"] = out["gender"].astype(str)
    out["career_stage"] = out["career_stage"].astype(str)
    return out


def who_spoke(
    study: Study, theme, by: tuple[str, ...] = ("gender", "career_stage"), segments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Participants who spoke to one theme, by several characteristics, in one table.

    For each characteristic in ``by`` the cells are :func:`theme_by`'s counts of
    distinct participants of each level with at least one passage of ``theme``
    (number or name). Rows: "spoke to the theme" and "all participants" (the group
    sizes, so a reader sees "k of n"); columns: a (characteristic, level)
    MultiIndex, then ("all", "total"). ``.attrs["caveat"]`` carries :data:`CAVEAT`:
    these are participant counts describing one sample, not frequencies
    (Murphy et al. 2022, limitations).
    """
    if isinstance(by, str):
        by = (by,)
    if not by:
        raise QDAError(None, "by", "is empty", "pass at least one participant characteristic, e.g. ('gender',)")
    t = theme_index(study, theme)
    name = theme_names(study)[t]
    parts = []
    caveat = ""
    for col in by:
        tab = theme_by(study, by=col, segments=segments)
        caveat = tab.attrs["caveat"]
        sub = tab.loc[[name, "participants"]]
        total = sub["total"]
        sub = sub.drop(columns="total")
        sub.columns = pd.MultiIndex.from_product([[col], list(sub.columns)], names=["characteristic", "level"])
        parts.append(sub)
    out = pd.concat(
        parts
        + [
            total.to_frame().set_axis(
                pd.MultiIndex.from_tuples([("all", "total")], names=["characteristic", "level"]), axis=1
            )
        ],
        axis=1,
    )
    out.index = pd.Index(["spoke to the theme", "all participants"], name=f"theme {t}")
    out.attrs["caveat"] = caveat
    out.attrs["counts"] = "participants"
    return out.astype("int64")


def answers_with_code(study: Study, code: str, theme=None, round: str | None = "full") -> pd.DataFrame:
    """Theme codings (``study.themes``, optionally of one ``theme``) flagged by a code.

    Adds a column ``has_code``: True when at least one coding of ``code`` (of the
    given ``round``; ``None`` for all rounds) shares a character with the theme
    coding, i.e. ``coding.start < theme.end`` and ``theme.start < coding.end`` in
    the same transcript (the overlap rule of ATLAS.ti's co-occurrence tools, as in
    :mod:`qda.cooccurrence`). Raises :class:`~qda.errors.QDAError` for a code that
    no coding uses.
    """
    c = study.codings
    if round is not None:
        c = c.loc[c["round"].astype(str) == str(round)]
    c = c.loc[c["code"].astype(str) == str(code), ["transcript_id", "start", "end"]]
    if c.empty:
        raise QDAError(
            study.root,
            "code",
            f"no coding of {code!r}" + (f" in round {round}" if round else ""),
            "pass a code slug used in the codings table",
        )
    th = study.themes
    if theme is not None:
        th = th.loc[th["theme"].astype(int) == theme_index(study, theme)]
    th = th.reset_index(drop=True)
    out = th.copy()
    out["has_code"] = rows_overlapping(th, c)
    return out
