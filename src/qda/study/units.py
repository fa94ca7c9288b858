"""Coded segments against fixed units: speaker turns and per-unit coding decisions.

Campbell et al. (2013) compare coders on *fixed units* of text so that a reliability
statistic counts like with like: here the unit is one participant turn (one answer to
one interviewer question). :func:`speaker_turns` parses the transcript format of
``data/transcripts/*.txt``; :func:`unit_decisions` turns free-span codings into one
yes/no decision per (unit, coder, code), the input of the agreement statistics.

Reference: Campbell JL, Quincy C, Osserman J, Pedersen OK. Coding in-depth
semistructured interviews: problems of unitization and intercoder reliability and
agreement. Sociological Methods & Research 2013;42(3):294-320.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from qda.errors import SchemaError
from qda.stats.spans import overlapping_rows

#: One turn: a line ``LABEL: text`` (label in capitals). Turns hold no newline, so a
#: turn is one line; ``#`` comment lines and blank lines are not turns.
TURN_RE = re.compile(r"^([A-Z][A-Z0-9 _.\-]{0,40}): ([^\n]*)$", re.MULTILINE)

TURN_COLUMNS = ["transcript_id", "turn", "unit_id", "speaker", "start", "end"]
DECISION_COLUMNS = ["transcript_id", "unit_id", "coder", "code", "applied"]


def _need(frame: pd.DataFrame, cols: list[str], name: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(
            name,
            "columns",
            f"missing column(s) {', '.join(missing)}",
            "pass a table with the columns of qda.SCHEMAS (see data/README.md)",
        )


def speaker_turns(transcripts: pd.DataFrame) -> pd.DataFrame:
    """Every speaker turn of every transcript, with code-point offsets of its text.

    Rule: a turn is a line ``LABEL: text`` matched by :data:`TURN_RE`; ``start`` is the
    offset just after ``"LABEL: "`` and ``end`` (exclusive) the end of the line, so
    ``text[start:end]`` is the spoken text. Turns are numbered 1, 2, ... per transcript
    across all speakers; ``unit_id`` is ``"<transcript_id>-T<turn:03d>"``.

    Parameters
    ----------
    transcripts : DataFrame with ``transcript_id`` and ``text``.

    Returns
    -------
    DataFrame
        Columns ``transcript_id, turn, unit_id, speaker, start, end``, in text order.
    """
    _need(transcripts, ["transcript_id", "text"], "transcripts")
    tids: list[str] = []
    speakers: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    counts: list[int] = []
    for tid, text in zip(transcripts["transcript_id"], transcripts["text"], strict=False):
        found = [(m.group(1), m.start(2), m.end(2)) for m in TURN_RE.finditer(text)]
        counts.append(len(found))
        tids.extend([tid] * len(found))
        for sp, s, e in found:
            speakers.append(sp)
            starts.append(s)
            ends.append(e)
    turn = np.concatenate([np.arange(1, n + 1) for n in counts]) if counts else np.array([], dtype=np.int64)
    out = pd.DataFrame(
        {
            "transcript_id": pd.Series(tids, dtype=str),
            "turn": turn.astype(np.int64),
            "speaker": pd.Series(speakers, dtype=str),
            "start": np.asarray(starts, dtype=np.int64),
            "end": np.asarray(ends, dtype=np.int64),
        }
    )
    out["unit_id"] = out["transcript_id"] + "-T" + out["turn"].astype(str).str.zfill(3)
    return out[TURN_COLUMNS]


def participant_units(transcripts: pd.DataFrame, speaker: str = "PARTICIPANT") -> pd.DataFrame:
    """The fixed units of the design: the participant's turns (see :func:`speaker_turns`).

    Campbell et al. (2013) fix the units before coding; one answer of the participant is
    the natural unit of a semistructured interview. Same columns as :func:`speaker_turns`.
    """
    turns = speaker_turns(transcripts)
    return turns.loc[turns["speaker"] == speaker].reset_index(drop=True)


def _overlapping_pairs(c_t, c_s, c_e, u_t, u_s, u_e) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (coding i, unit j) in the same transcript whose spans intersect.

    Units are searched with ``np.searchsorted`` on global positions
    (transcript rank * width + offset) when they are sorted and disjoint within each
    transcript (true of speaker turns); otherwise a merge on transcript is used.
    """
    width = int(max(c_e.max(initial=0), u_e.max(initial=0))) + 1
    gs_u = u_t * width + u_s
    ge_u = u_t * width + u_e
    order = np.argsort(gs_u, kind="stable")
    gs_u, ge_u = gs_u[order], ge_u[order]
    disjoint = len(order) < 2 or bool(np.all(ge_u[:-1] <= gs_u[1:]))
    if disjoint:
        gs_c = c_t * width + c_s
        ge_c = c_t * width + c_e
        i0 = np.searchsorted(ge_u, gs_c, side="right")  # first unit ending after the coding starts
        i1 = np.searchsorted(gs_u, ge_c, side="left")  # units starting before the coding ends
        n = np.maximum(i1 - i0, 0)
        ci = np.repeat(np.arange(len(c_s)), n)
        offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        return ci, order[i0[ci] + offs]
    left = pd.DataFrame({"t": c_t, "ci": np.arange(len(c_t))})
    right = pd.DataFrame({"t": u_t, "ui": np.arange(len(u_t))})
    m = left.merge(right, on="t")
    return m["ci"].to_numpy(), m["ui"].to_numpy()


def unit_decisions(
    codings: pd.DataFrame, units: pd.DataFrame, min_share: float = 0.5, *, codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """One yes/no decision per (unit, coder, code): did the coder apply the code to the unit?

    Rule: for each transcript, the grid is every unit of ``units`` in it times every
    coder who coded it times every code of ``codes`` (e.g. every code of the codebook
    version in force, so that a code nobody applied still gives its all-absent decisions,
    as Campbell et al. decide each code on each unit), or, when ``codes`` is None, every
    code present in ``codings`` on that transcript (a grid selected on the outcome: the
    codes nobody used drop out). Codings of codes outside ``codes`` are ignored. ``applied`` is
    True when at least one of the coder's codings of that code overlaps the unit by
    ``overlap >= min_share * len(coding)`` or ``overlap >= min_share * len(unit)``, with
    ``overlap = min(end) - max(start) > 0`` in code points. This is the unitization of
    Campbell et al. (2013): free spans projected onto fixed units. Filter ``codings`` to
    one round first; a transcript with no codings contributes no rows.

    Parameters
    ----------
    codings : DataFrame with ``transcript_id, coder, code, start, end``.
    units : DataFrame with ``transcript_id, unit_id, start, end`` (e.g. :func:`participant_units`).
    min_share : float in (0, 1].
    codes : the codes to decide on every unit, optional.

    Returns
    -------
    DataFrame
        Columns ``transcript_id, unit_id, coder, code, applied`` (bool), ordered by unit
        (as in ``units``), coder, code.
    """
    _need(codings, ["transcript_id", "coder", "code", "start", "end"], "codings")
    _need(units, ["transcript_id", "unit_id", "start", "end"], "units")
    if not 0 < float(min_share) <= 1:
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    units = units.reset_index(drop=True)
    codings = codings.reset_index(drop=True)
    coders = codings[["transcript_id", "coder"]].drop_duplicates()  # who coded each transcript, any code
    if codes is not None:
        codes = [str(c) for c in dict.fromkeys(codes)]
        codings = codings.loc[codings["code"].astype(str).isin(codes)].reset_index(drop=True)
    tcat = pd.Index(pd.unique(pd.concat([units["transcript_id"], codings["transcript_id"]]).astype(str)))
    u_t = tcat.get_indexer(units["transcript_id"].astype(str)).astype(np.int64)
    c_t = tcat.get_indexer(codings["transcript_id"].astype(str)).astype(np.int64)
    u_s = units["start"].to_numpy(np.int64)
    u_e = units["end"].to_numpy(np.int64)
    c_s = codings["start"].to_numpy(np.int64)
    c_e = codings["end"].to_numpy(np.int64)

    ci, ui = _overlapping_pairs(c_t, c_s, c_e, u_t, u_s, u_e)
    overlap = np.minimum(c_e[ci], u_e[ui]) - np.maximum(c_s[ci], u_s[ui])
    ok = (overlap > 0) & ((overlap >= min_share * (c_e[ci] - c_s[ci])) | (overlap >= min_share * (u_e[ui] - u_s[ui])))
    hits = pd.DataFrame(
        {
            "_u": ui[ok],
            "coder": codings["coder"].to_numpy()[ci[ok]],
            "code": codings["code"].to_numpy()[ci[ok]],
        }
    ).drop_duplicates()
    hits["applied"] = True

    if codes is None:
        code_grid = codings[["transcript_id", "code"]].drop_duplicates()
        coder_code = coders.merge(code_grid, on="transcript_id")
    else:
        coder_code = coders.merge(pd.DataFrame({"code": codes}), how="cross")
    grid = (
        units[["transcript_id", "unit_id"]]
        .assign(_u=np.arange(len(units)))
        .merge(coder_code, on="transcript_id")
        .merge(hits, on=["_u", "coder", "code"], how="left")
    )
    grid["applied"] = grid["applied"].fillna(False).astype(bool)
    grid = grid.sort_values(["_u", "coder", "code"], kind="stable").reset_index(drop=True)
    return grid[DECISION_COLUMNS]


def rows_overlapping(frame: pd.DataFrame, others: pd.DataFrame) -> np.ndarray:
    """For each row of ``frame``, whether it shares a character with a row of ``others``.

    Both tables have ``transcript_id, start, end`` (codings, theme rows, segments, units);
    rows overlap only within the same transcript. The one overlap rule of the package
    (:func:`qda.stats.spans.overlapping_rows`), applied to the study's tables.
    """
    return overlapping_rows(
        frame["transcript_id"].astype(str),
        frame["start"],
        frame["end"],
        others["transcript_id"].astype(str),
        others["start"],
        others["end"],
    )
