"""Unitizing: where a code starts and ends, scored with Krippendorff's unitizing alpha (exercise 3)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qda.analysis.exercises.common import _round
from qda.errors import QDAError
from qda.stats.unitizing import unitizing_alpha
from qda.study.model import Study
from qda.study.units import participant_units

#: How every exercise frames the team's coding.


# ---------------------------------------------------------------------------
# 3. Unitizing
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class UnitizingExercise:
    """An answer in which the team coded ``code`` on part of the text only.

    ``reference`` holds the team's spans (``start``, ``end``) relative to
    :attr:`text` (code points, end exclusive), merged where they touch.
    """

    unit_id: str
    transcript_id: str
    start: int
    end: int
    text: str
    code: str
    reference: pd.DataFrame


def unitizing_exercise(
    study: Study,
    code: str = "gender_inequities",
    seed: int = 0,
    min_chars: int = 300,
    max_chars: int = 900,
) -> UnitizingExercise:
    """A participant answer where the full-round coding of ``code`` covers 20-80% of the text.

    Candidates: participant turns of ``min_chars`` to ``max_chars`` characters whose
    full-round codings of ``code`` cover between a fifth and four fifths of the turn,
    so where a unit starts and ends matters; one is drawn with ``default_rng(seed)``.
    """
    full = _round(study, "full")
    full = full.loc[full["code"].astype(str) == code]
    if full.empty:
        raise QDAError(study.root, "code", f"no full-round coding of {code!r}", "pick a code the team applied")
    units = participant_units(study.transcripts)
    length = units["end"] - units["start"]
    units = units.loc[(length >= min_chars) & (length <= max_chars)].reset_index(drop=True)
    m = units.merge(full[["transcript_id", "start", "end"]], on="transcript_id", suffixes=("", "_c"))
    m["s"] = m[["start", "start_c"]].max(axis=1)
    m["e"] = m[["end", "end_c"]].min(axis=1)
    m = m.loc[m["e"] > m["s"]]
    covered = (m["e"] - m["s"]).groupby(m["unit_id"]).sum() / (
        units.set_index("unit_id")["end"] - units.set_index("unit_id")["start"]
    )
    candidates = sorted(covered.index[(covered >= 0.2) & (covered <= 0.8)])
    if not candidates:
        raise QDAError(study.root, "codings", f"no answer is partly coded {code!r}", "widen min_chars/max_chars")
    unit_id = str(np.random.default_rng(seed).choice(candidates))
    unit = units.set_index("unit_id").loc[unit_id]
    s, e = int(unit["start"]), int(unit["end"])
    spans = m.loc[m["unit_id"] == unit_id, ["s", "e"]].sort_values("s").to_numpy() - s
    merged: list[list[int]] = []
    for a, b in spans.tolist():
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    ref = pd.DataFrame(merged, columns=["start", "end"]).astype("int64")
    tid = str(unit["transcript_id"])
    return UnitizingExercise(unit_id, tid, s, e, study.text(tid, s, e), code, ref)


def word_spans(text: str) -> pd.DataFrame:
    """The words of ``text`` (runs of non-space characters): ``start``, ``end`` in code points."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    return pd.DataFrame(spans, columns=["start", "end"]).astype("int64")


def words_to_span(exercise: UnitizingExercise, first: int, last: int) -> tuple[int, int]:
    """The character span from word ``first`` to word ``last`` (0-based, inclusive) of the passage."""
    w = word_spans(exercise.text)
    first, last = sorted((int(first), int(last)))
    if first < 0 or last >= len(w):
        raise QDAError(None, "words", f"{first}-{last} is outside 0-{len(w) - 1}", "pick words of the passage")
    return int(w["start"].iloc[first]), int(w["end"].iloc[last])


def _alpha(spans: Sequence[tuple[int, int]], reference: pd.DataFrame, length: int) -> float:
    seg = pd.DataFrame(
        [("you", a, b, "code") for a, b in spans]
        + [("team", a, b, "code") for a, b in zip(reference["start"], reference["end"], strict=False)],
        columns=["coder", "start", "end", "value"],
    )
    return float(unitizing_alpha(seg, length, coders=["you", "team"]).u_alpha)


def _mask(spans: Iterable[tuple[int, int]], length: int) -> np.ndarray:
    m = np.zeros(length, dtype=bool)
    for a, b in spans:
        m[int(a) : int(b)] = True
    return m


def score_unitizing(exercise: UnitizingExercise, spans: Sequence[tuple[int, int]]) -> pd.Series:
    """Agreement of your spans with the team's on the passage, and what moved it.

    ``spans`` are ``(start, end)`` pairs relative to the passage (sorted, not
    overlapping; an empty list marks nothing). Returns ``u_alpha`` (Krippendorff's
    u-alpha of your spans and the team's, :func:`qda.stats.unitizing.unitizing_alpha`),
    ``chars_both``, ``chars_only_yours``, ``chars_only_team`` (characters inside
    your spans and the team's, yours only, the team's only), ``start_shift`` and
    ``end_shift`` (your first start minus the team's, your last end minus the team's;
    NaN without spans) and ``alpha_start_fixed`` / ``alpha_end_fixed`` (u-alpha had
    your first start, or your last end, been the team's): what moved the coefficient.
    """
    length = len(exercise.text)
    spans = sorted((int(a), int(b)) for a, b in spans)
    for a, b in spans:
        if not 0 <= a < b <= length:
            raise QDAError(
                None, "spans", f"({a}, {b}) is not a span of the passage", f"use 0 <= start < end <= {length}"
            )
    ref = exercise.reference
    yours, team = _mask(spans, length), _mask(zip(ref["start"], ref["end"], strict=False), length)
    out = {
        "u_alpha": _alpha(spans, ref, length),
        "chars_both": int((yours & team).sum()),
        "chars_only_yours": int((yours & ~team).sum()),
        "chars_only_team": int((~yours & team).sum()),
        "start_shift": np.nan,
        "end_shift": np.nan,
        "alpha_start_fixed": np.nan,
        "alpha_end_fixed": np.nan,
    }
    if spans and len(ref):
        r0, r1 = int(ref["start"].iloc[0]), int(ref["end"].iloc[-1])
        out["start_shift"] = spans[0][0] - r0
        out["end_shift"] = spans[-1][1] - r1
        fixed_start = [(min(r0, spans[0][1] - 1), spans[0][1])] + spans[1:]
        fixed_end = spans[:-1] + [(spans[-1][0], max(r1, spans[-1][0] + 1))]
        out["alpha_start_fixed"] = _alpha(fixed_start, ref, length)
        out["alpha_end_fixed"] = _alpha(fixed_end, ref, length)
    return pd.Series(out, dtype=object)
