"""Writing an analytic memo and building a theme (exercises 5 and 6)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from qda.analysis.analysis_set import analysis_set
from qda.analysis.exercises.common import MEMO_PROMPTS, _check_n
from qda.errors import QDAError
from qda.study.model import Study

#: How every exercise frames the team's coding.


# ---------------------------------------------------------------------------
# 5. Writing an analytic memo
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MemoExercise:
    """Segments of the analysis set, prompts, and the analyst's memo that cites them."""

    memo: pd.Series
    decision: str
    theme: int
    segments: pd.DataFrame
    prompts: list[str]


def _cited(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"P\d{3}-S\d{3}", str(text))))


def memo_exercise(
    study: Study, decision: str = "open", themes: Sequence[int] = (1, 2, 3), n_segments: int = 4, seed: int = 0
) -> MemoExercise:
    """An analytic memo (``theme_memos.csv``) with a given ``decision`` and the segments it cites.

    Candidates: memos of ``themes`` recording ``decision`` that cite at least two
    analysis-set segments by id; one is drawn with ``default_rng(seed)``. The
    segments are the first ``n_segments`` it cites, in its order, from
    :func:`qda.analysis.analysis_set.analysis_set` (full round, overlap rule).
    """
    n_segments = _check_n(n_segments, "n_segments", minimum=1)
    tm = study.theme_memos
    tm = tm.loc[(tm["decision"].astype(str) == decision) & tm["theme"].astype(int).isin(list(themes))]
    memos = study.memos.set_index("memo_id")
    seg = analysis_set(study).set_index("segment_id")
    pool = [
        (str(r.memo_id), int(r.theme))
        for r in tm.itertuples()
        if r.memo_id in memos.index and len([s for s in _cited(memos.at[r.memo_id, "text"]) if s in seg.index]) >= 2
    ]
    if not pool:
        raise QDAError(study.root, "theme_memos", f"no {decision!r} memo cites two segments", "pick another decision")
    memo_id, theme = pool[int(np.random.default_rng(seed).integers(len(pool)))]
    memo = memos.loc[memo_id].copy()
    memo["memo_id"] = memo_id
    ids = [s for s in _cited(memo["text"]) if s in seg.index][:n_segments]
    segments = seg.loc[ids, ["participant_id", "gender", "career_stage", "text"]].reset_index()
    return MemoExercise(memo, decision, theme, segments, list(MEMO_PROMPTS))


#: The checks of :func:`memo_checklist`: (label, pattern searched in the memo, case-insensitive).
MEMO_CHECKS = [
    ("cites segments by id", r"\bP\d{3}-S\d{3}\b"),
    ("gives a provisional name", r"\"[^\"]+\"|\b(label|name|call it|working)\b"),
    ("says what is in and what is out", r"\b(include|includes|inclusion|exclude|excludes|leave[s]? out|not)\b"),
    ("names a case that does not fit", r"\b(but|however|except|negative|does not fit|doubt|unless)\b"),
    ("reflects on the reader", r"\b(I|my|me|we|our)\b"),
]


def memo_checklist(text: str) -> pd.DataFrame:
    """Which of the memo prompts a memo visibly answers: one row per check, ``check`` and ``met``.

    Pattern checks (:data:`MEMO_CHECKS`), plus ``at least 80 words``. They prompt a
    rewrite; they do not grade the analysis.
    """
    text = str(text)
    rows = [
        {"check": label, "met": bool(re.search(p, text, flags=0 if label == "reflects on the reader" else re.I))}
        for label, p in MEMO_CHECKS
    ]
    rows.append({"check": "at least 80 words", "met": len(text.split()) >= 80})
    return pd.DataFrame(rows, columns=["check", "met"])


# ---------------------------------------------------------------------------
# 6. Building a theme
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ThemeExercise:
    """Analysis-set segments to group, labelled A, B, ..., with the team's grouping.

    ``segments``: ``label, segment_id, participant_id, text, team_theme`` (Int64, NA
    for the negative case), ``theme_name``, ``coder``. ``negative`` is the label of
    the segment a negative-case memo left out of every theme; ``memos`` the team's
    memos on these themes (``memo_id, theme, decision, text``).
    """

    segments: pd.DataFrame
    negative: str
    memos: pd.DataFrame


def theme_exercise(
    study: Study, themes: Sequence[int] = (1, 2, 3), per_theme: int = 2, seed: int = 0, max_chars: int = 1500
) -> ThemeExercise:
    """``per_theme`` segments the team assigned to each of ``themes``, and one negative case, shuffled.

    Segments are analysis-set segments (full round, overlap rule) with exactly one
    theme assignment in ``study.themes`` and at most ``max_chars`` characters,
    drawn with ``default_rng(seed)``. The negative case is a segment a
    ``negative case`` memo of these themes cites and no analyst assigned to any
    theme. Labels A, B, ... follow a seeded shuffle.
    """
    per_theme = _check_n(per_theme, "per_theme", minimum=1)
    rng = np.random.default_rng(seed)
    seg = analysis_set(study)
    th = study.themes.merge(seg[["transcript_id", "start", "end", "segment_id"]], on=["transcript_id", "start", "end"])
    once = th.groupby("segment_id")["theme"].transform("nunique") == 1
    th = th.loc[once].drop_duplicates("segment_id")
    th = th.merge(seg[["segment_id", "participant_id", "text"]], on="segment_id")
    th = th.loc[th["text"].str.len() <= max_chars]
    picks = []
    for t in themes:
        pool = th.loc[th["theme"].astype(int) == int(t)].sort_values("segment_id")
        if len(pool) < per_theme:
            raise QDAError(study.root, "themes", f"theme {t} has fewer than {per_theme} segments", "lower per_theme")
        picks.append(pool.iloc[np.sort(rng.choice(len(pool), per_theme, replace=False))])
    chosen = pd.concat(picks)
    tm = study.theme_memos.loc[study.theme_memos["theme"].astype(int).isin(list(themes))]
    memos = tm.merge(study.memos[["memo_id", "text"]], on="memo_id")[["memo_id", "theme", "decision", "text"]]
    neg_memos = memos.loc[memos["decision"] == "negative case"]
    assigned = set(study.themes.merge(seg, on=["transcript_id", "start", "end"])["segment_id"])
    seg_ok = seg.loc[seg["text"].str.len() <= max_chars].set_index("segment_id")
    negs = sorted({s for x in neg_memos["text"] for s in _cited(x) if s in seg_ok.index and s not in assigned})
    if not negs:
        raise QDAError(study.root, "theme_memos", "no negative case cites an unassigned segment", "pick other themes")
    neg_id = str(rng.choice(negs))
    neg = seg_ok.loc[[neg_id], ["participant_id", "text"]].reset_index()
    neg["theme"], neg["theme_name"], neg["coder"] = pd.NA, "(no theme: a negative case)", ""
    cols = ["segment_id", "participant_id", "text", "theme", "theme_name", "coder"]
    out = pd.concat([chosen[cols], neg[cols]], ignore_index=True)
    out = out.iloc[rng.permutation(len(out))].reset_index(drop=True)
    out.insert(0, "label", [chr(ord("A") + k) for k in range(len(out))])
    out = out.rename(columns={"theme": "team_theme"}).astype({"team_theme": "Int64"})
    negative = str(out.loc[out["segment_id"] == neg_id, "label"].iloc[0])
    cited = neg_memos.loc[neg_memos["text"].str.contains(neg_id, regex=False)]
    kept = memos.loc[memos["decision"].isin(["keep", "rename", "split", "merge"])]
    return ThemeExercise(out, negative, pd.concat([kept, cited]).reset_index(drop=True))


def score_grouping(exercise: ThemeExercise, groups: Mapping[str, str], negative: str | None = None) -> pd.Series:
    """Your grouping of the segments beside the team's themes (pair counting), and your negative case.

    ``groups`` maps a segment label to your group name (blank: not grouped). Over
    every pair of segments that both you and the team grouped, a pair *agrees* when
    you and the team both put the two together or both keep them apart; the Rand
    index is the share of agreeing pairs (Rand 1971). Returns ``pairs``,
    ``pairs_agree``, ``rand`` (NaN with no pair), ``groups`` (how many you made) and
    ``negative_found`` (your ``negative`` is the team's negative case).
    """
    labels = set(exercise.segments["label"])
    bad = set(groups) - labels
    if bad:
        raise QDAError(None, "groups", f"label(s) {sorted(bad)} are not segments", f"use {', '.join(sorted(labels))}")
    team = exercise.segments.set_index("label")["team_theme"]
    mine = {k: str(v).strip() for k, v in groups.items() if str(v).strip()}
    both = sorted(k for k in mine if pd.notna(team.get(k)))
    pairs = agree = 0
    for a, b in combinations(both, 2):
        pairs += 1
        agree += (mine[a] == mine[b]) == (team[a] == team[b])
    return pd.Series(
        {
            "pairs": pairs,
            "pairs_agree": agree,
            "rand": agree / pairs if pairs else np.nan,
            "groups": len(set(mine.values())),
            "negative_found": negative == exercise.negative,
        },
        dtype=object,
    )
