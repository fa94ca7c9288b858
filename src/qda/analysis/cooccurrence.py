"""Code co-occurrence on overlapping, nested or nearby segments of one transcript.

Two codings *co-occur* when they lie in the same transcript and satisfy a rule:

``"overlap"``
    They share at least one character. Offsets are half-open code-point
    intervals ``[start, end)`` (see :mod:`qda.corpus`), so ``[0, 5)`` and
    ``[5, 9)`` do **not** overlap, and an empty coding (``start == end``)
    overlaps nothing. This is ATLAS.ti's co-occurrence: the union of its
    WITHIN, ENCLOSES, OVERLAPS, OVERLAPPED BY and AND (same quotation)
    operators (ATLAS.ti 9 manual, "Code Co-Occurrence Tools").
``"within"``
    At most ``within`` characters lie between them:
    ``max(start1, start2) - min(end1, end2) <= within``. The left side is
    negative for overlapping codings, 0 for adjacent ones, so ``within=0``
    means "overlapping or touching".
``"same_turn"``
    Both codings touch (share a character with) at least one common speaker
    turn; turns come from :func:`qda.codings.speaker_turns`.

Algorithm (written here because neither pandas nor numpy has an interval
self-join that is not quadratic): every rule reduces to a half-open interval
overlap on transformed intervals (``[start, end + within + 1)`` for
``"within"``; ``[first_turn, last_turn + 1)`` over turn numbers for
``"same_turn"``). Transcripts are placed in disjoint ranges of one int64 axis,
the intervals are sorted once by start, and for interval ``i`` (in sorted
order) the partners are exactly the ``j > i`` with ``start_j < end_i``: one
``np.searchsorted`` per interval gives their count, and ``np.repeat`` expands
them. The cost is O(n log n + k) for n codings and k co-occurring pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qda.errors import DataError, QDAError, SchemaError
from qda.stats.cooccurrence import c_coefficient as c_coefficient  # the formula lives in qda.stats; re-exported
from qda.stats.spans import intersecting_pairs

RULES = ("overlap", "within", "same_turn")

#: Columns of :func:`cooccurring_pairs`.
PAIR_COLUMNS = [
    "coding_id_1",
    "coding_id_2",
    "transcript_id",
    "code_1",
    "code_2",
    "overlap_start",
    "overlap_end",
]

_CODING_COLUMNS = ("coding_id", "transcript_id", "start", "end", "code")
_TURN_COLUMNS = ("transcript_id", "start", "end")


def _check_columns(frame: pd.DataFrame, needed: Sequence[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise QDAError(
            None,
            name,
            f"is a {type(frame).__name__}, not a DataFrame",
            f"pass a DataFrame with columns {', '.join(needed)}",
        )
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaError(
            None,
            name,
            f"missing column(s) {', '.join(missing)}",
            f"pass a frame with columns {', '.join(needed)} (see data/README.md)",
        )


def _offsets(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``start`` and ``end`` as int64 arrays; raise DataError on NaN, negatives or end < start."""
    try:
        start = frame["start"].to_numpy(dtype=np.int64)
        end = frame["end"].to_numpy(dtype=np.int64)
    except (TypeError, ValueError):
        raise DataError(
            None,
            f"{name} columns start/end",
            "hold missing or non-integer values",
            "give every row whole-number character offsets",
        ) from None
    bad = (start < 0) | (end < start)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            None,
            f"{name} row {i}",
            f"offsets [{start[i]}, {end[i]}) are negative or reversed",
            "make 0 <= start <= end",
        )
    return start, end


def _check_rule(rule: str, within: int, turns: pd.DataFrame | None) -> None:
    if rule not in RULES:
        raise QDAError(None, "rule", f"unknown rule {rule!r}", f"use one of {', '.join(RULES)}")
    if rule == "within" and (not isinstance(within, (int, np.integer)) or within < 0):
        raise QDAError(None, "within", f"{within!r} is not a whole number >= 0", "pass within=N characters")
    if rule == "same_turn" and turns is None:
        raise QDAError(
            None, "turns", "rule 'same_turn' needs the speaker turns", "pass turns=qda.codings.speaker_turns(study)"
        )


def _turn_ranges(
    tid_codes: np.ndarray, start: np.ndarray, end: np.ndarray, tids: pd.Index, turns: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Map each coding to the half-open range ``[first, last + 1)`` of turn numbers it touches.

    A coding touches turn ``t`` when ``start < t.end and t.start < end`` (one
    shared character). Turns of a transcript must not overlap; a coding that
    touches no turn (it lies in a gap) gets an empty range.
    """
    _check_columns(turns, _TURN_COLUMNS, "turns")
    t_start, t_end = _offsets(turns, "turns")
    t_tid = tids.get_indexer(turns["transcript_id"].astype(str)).astype(np.int64)
    keep = t_tid >= 0  # turns of transcripts without codings are irrelevant
    t_tid, t_start, t_end = t_tid[keep], t_start[keep], t_end[keep]
    order = np.lexsort((t_end, t_start, t_tid))
    t_tid, t_start, t_end = t_tid[order], t_start[order], t_end[order]
    same = t_tid[1:] == t_tid[:-1]
    if np.any(same & (t_start[1:] < t_end[:-1])):
        i = int(np.flatnonzero(same & (t_start[1:] < t_end[:-1]))[0])
        raise DataError(
            None,
            f"turns of transcript {tids[t_tid[i]]}",
            f"turns [{t_start[i]}, {t_end[i]}) and [{t_start[i + 1]}, {t_end[i + 1]}) overlap",
            "give each character to at most one turn",
        )
    # Within a transcript turns are disjoint and sorted, so both starts and ends
    # increase: binary search on a combined (transcript, offset) key.
    span = int(max(end.max(initial=0), t_end.max(initial=0))) + 2
    key_start = t_tid * span + t_start
    key_end = t_tid * span + t_end
    # first turn whose end > start (strictly) ; last turn whose start < end
    first = np.searchsorted(key_end, tid_codes * span + start, side="right")
    last = np.searchsorted(key_start, tid_codes * span + end, side="left") - 1
    lo = first.astype(np.int64)
    hi = np.where(end > start, last + 1, lo).astype(np.int64)  # an empty coding touches nothing
    # a coding in a gap yields hi <= lo: an empty range
    return lo, np.maximum(hi, lo)


def _pair_indices(
    codings: pd.DataFrame, rule: str = "overlap", within: int = 0, turns: pd.DataFrame | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row positions ``(i, j)`` of every co-occurring pair, plus the raw start/end arrays.

    The sweep of the module docstring, vectorised: O(n log n + k).
    """
    _check_rule(rule, within, turns)
    _check_columns(codings, _CODING_COLUMNS, "codings")
    start, end = _offsets(codings, "codings")
    n = len(codings)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, start, end
    tid_codes, tids = pd.factorize(codings["transcript_id"].astype(str), sort=False)
    tid_codes = tid_codes.astype(np.int64)
    if rule == "overlap":
        lo, hi = start, end
    elif rule == "within":
        lo, hi = start, end + (int(within) + 1)
    else:
        lo, hi = _turn_ranges(tid_codes, start, end, pd.Index(tids), turns)
    try:
        i, j = intersecting_pairs(tid_codes, lo, hi)
    except OverflowError:
        raise DataError(
            None,
            "codings",
            "offsets too large to place all transcripts on one axis",
            "split the codings into smaller batches",
        ) from None
    return i, j, start, end


def cooccurring_pairs(
    codings: pd.DataFrame,
    rule: str = "overlap",
    within: int = 0,
    turns: pd.DataFrame | None = None,
    same_code: bool = False,
) -> pd.DataFrame:
    """Every pair of codings that co-occur within a transcript, as a tidy frame.

    Parameters
    ----------
    codings : DataFrame
        Columns ``coding_id, transcript_id, start, end, code`` (the ``codings``
        table of :data:`qda.corpus.SCHEMAS`). Filter it first (one round, the
        coders you want): every row takes part.
    rule : {"overlap", "within", "same_turn"}
        The co-occurrence rule of the module docstring.
    within : int
        For ``rule="within"``: the largest number of characters between the two
        codings (``max(start) - min(end) <= within``).
    turns : DataFrame, optional
        For ``rule="same_turn"``: columns ``transcript_id, start, end`` (one row
        per speaker turn, as :func:`qda.codings.speaker_turns` returns).
    same_code : bool
        Keep pairs of two codings of the same code (e.g. nested codings, or two
        coders' codings of one passage). ATLAS.ti's table relates different
        codes, so the default drops them.

    Returns
    -------
    DataFrame
        One row per unordered pair: ``coding_id_1, coding_id_2, transcript_id,
        code_1, code_2, overlap_start, overlap_end``. Coding 1 is the one that
        starts first (ties: the earlier row). ``overlap_start/overlap_end`` is
        the shared stretch ``[max(start), min(end))``; ``<NA>`` when the pair
        shares no character (possible under ``"within"`` and ``"same_turn"``).

    Notes
    -----
    O(n log n + k) sweep, not a quadratic self-merge (see the module docstring).
    Reference: ATLAS.ti manual, "Code Co-Occurrence Tools" and "The Code
    Co-Occurrence Table".
    """
    i, j, start, end = _pair_indices(codings, rule, within, turns)
    # Work on integer codes and take() from pandas arrays: fancy-indexing object
    # arrays and re-validating strings dominated the run time at 10^6 codings.
    code_idx, code_labels = pd.factorize(codings["code"].astype(str))
    if not same_code and len(i):
        keep = code_idx[i] != code_idx[j]
        i, j = i[keep], j[keep]

    def take(col: str, rows: np.ndarray):
        arr = codings[col].astype(str).array
        return arr.take(rows)

    o_start = np.maximum(start[i], start[j])
    o_end = np.minimum(end[i], end[j])
    shared = o_start < o_end
    out = pd.DataFrame(
        {
            "coding_id_1": take("coding_id", i),
            "coding_id_2": take("coding_id", j),
            "transcript_id": take("transcript_id", i),
            "code_1": code_labels.take(code_idx[i]).array,
            "code_2": code_labels.take(code_idx[j]).array,
            "overlap_start": pd.arrays.IntegerArray(np.where(shared, o_start, 0), ~shared),
            "overlap_end": pd.arrays.IntegerArray(np.where(shared, o_end, 0), ~shared.copy()),
        },
        copy=False,
    )
    return out


def cooccurrence_matrix(
    codings: pd.DataFrame,
    rule: str = "overlap",
    within: int = 0,
    turns: pd.DataFrame | None = None,
    count: str = "pairs",
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Code x code co-occurrence counts; the diagonal holds each code's frequency.

    ``count="pairs"`` (default, ATLAS.ti's Code Co-Occurrence Table): cell
    ``(a, b)`` is n_ab, the number of co-occurring pairs of an ``a`` coding and a
    ``b`` coding (ATLAS.ti counts co-occurring quotations; one quotation with
    two codes is two codings with the same span here, hence one pair). The
    diagonal ``(a, a)`` is n_a, the number of codings of ``a``, which is what
    :func:`c_coefficient` needs. ``count="transcripts"``: cell ``(a, b)`` is the
    number of transcripts where ``a`` and ``b`` co-occur at least once, and the
    diagonal the number of transcripts where ``a`` occurs.

    The matrix is symmetric, indexed and columned by code (sorted, or in the
    order of ``codes``; codes outside ``codes`` are ignored). Rules: see
    :func:`cooccurring_pairs`.
    Reference: ATLAS.ti manual, "The Code Co-Occurrence Table".
    """
    if count not in ("pairs", "transcripts"):
        raise QDAError(None, "count", f"unknown count {count!r}", "use 'pairs' or 'transcripts'")
    _check_columns(codings, _CODING_COLUMNS, "codings")
    if codes is not None:
        wanted = list(dict.fromkeys(str(c) for c in codes))  # unique, in the order given
        codings = codings.loc[codings["code"].astype(str).isin(wanted)]
        labels = pd.Index(wanted, name="code")
    else:
        labels = pd.Index(sorted(codings["code"].astype(str).unique()), name="code")
    m = len(labels)
    code_idx = labels.get_indexer(codings["code"].astype(str)).astype(np.int64)
    i, j, _, _ = _pair_indices(codings, rule, within, turns)
    a, b = code_idx[i], code_idx[j]
    keep = a != b
    a, b = a[keep], b[keep]
    if count == "pairs":
        cells = np.bincount(a * m + b, minlength=m * m).reshape(m, m)
        diag = np.bincount(code_idx, minlength=m)
    else:
        tid_codes = pd.factorize(codings["transcript_id"].astype(str))[0].astype(np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        uniq = np.unique((tid_codes[i][keep] * m + lo) * m + hi)
        cells = np.bincount(uniq % (m * m), minlength=m * m).reshape(m, m)
        diag = np.bincount(np.unique(tid_codes * m + code_idx) % m, minlength=m)
    mat = cells + cells.T
    mat[np.diag_indices(m)] = diag
    return pd.DataFrame(mat.astype(np.int64), index=labels, columns=labels.rename("code"))
