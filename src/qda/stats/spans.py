"""Spans on a text: the one rule for "two spans overlap", and a sweep that finds every such pair.

Two half-open spans ``[s1, e1)`` and ``[s2, e2)`` of the same text *overlap* when they share
at least one character: ``s1 < e2 and s2 < e1``. This is the overlap rule of ATLAS.ti's
co-occurrence tools (ATLAS.ti 8 manual, "Code Co-Occurrence Tools") and the rule every
module of this package uses: the co-occurrence table, the analysis set, the theme joins and
the excerpt filters all call the functions below instead of restating it.

:func:`intersecting_pairs` is a sweep over sorted interval starts (O(n log n + k) for k
pairs): the intervals of all texts are laid on one axis, text by text, so that one sort
serves them all. Written by hand because no library finds all intersecting pairs among
intervals of many texts at once in bounded memory (pandas' IntervalIndex answers point or
single-interval queries, not all pairs).
"""

from __future__ import annotations

import numpy as np


def overlap(start_a, end_a, start_b, end_b):
    """Whether span a and span b share a character: ``start_a < end_b and start_b < end_a``.

    Works elementwise on numpy arrays or pandas Series (ATLAS.ti 8 manual, overlap rule).
    """
    return (start_a < end_b) & (start_b < end_a)


def intersecting_pairs(group: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)``, ``i != j``, of every pair of intervals of the same group that overlap.

    ``group`` holds a non-negative integer per interval (e.g. the transcript's factor code),
    ``lo`` and ``hi`` the half-open bounds. Each unordered pair is returned once. Empty
    intervals (``hi <= lo``) overlap nothing. The sweep: sort the intervals by their start on
    one axis (``group * span + lo``); the partners of an interval are the intervals that
    start after it and before its end (ATLAS.ti 8 manual, overlap rule; a plane sweep as in
    de Berg et al. 2008, Computational Geometry, ch. 10).
    """
    group = np.asarray(group, dtype=np.int64)
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    if len(lo) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    span = int(hi.max()) + 1
    if (int(group.max()) + 1) * span >= 2**62:
        raise OverflowError("offsets too large to place all groups on one axis; split the input")
    pos = np.flatnonzero(hi > lo)
    key_lo = group[pos] * span + lo[pos]
    key_hi = group[pos] * span + hi[pos]
    order = np.argsort(key_lo, kind="stable")
    s_lo, s_hi = key_lo[order], key_hi[order]
    # partners of sorted interval k: sorted positions k+1 .. stop-1 (they start before k ends)
    stop = np.searchsorted(s_lo, s_hi, side="left")
    counts = np.maximum(stop - np.arange(1, len(s_lo) + 1), 0)
    total = int(counts.sum())
    first = np.repeat(np.arange(len(s_lo)), counts)
    group_start = np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + (np.arange(total) - group_start)
    return pos[order[first]], pos[order[second]]


def overlapping_rows(groups_a, start_a, end_a, groups_b, start_b, end_b) -> np.ndarray:
    """For each span of set a, whether it overlaps at least one span of set b in the same group.

    ``groups_a``/``groups_b`` are any hashable labels (e.g. transcript ids). Uses
    :func:`intersecting_pairs` on the union of both sets and keeps the pairs across sets
    (ATLAS.ti 8 manual, overlap rule).
    """
    ga, gb = np.asarray(groups_a, dtype=object), np.asarray(groups_b, dtype=object)
    labels = {g: k for k, g in enumerate(dict.fromkeys([*ga.tolist(), *gb.tolist()]))}
    group = np.array([labels[g] for g in [*ga.tolist(), *gb.tolist()]], dtype=np.int64)
    lo = np.concatenate([np.asarray(start_a, dtype=np.int64), np.asarray(start_b, dtype=np.int64)])
    hi = np.concatenate([np.asarray(end_a, dtype=np.int64), np.asarray(end_b, dtype=np.int64)])
    i, j = intersecting_pairs(group, lo, hi)
    n = len(ga)
    cross = (i < n) != (j < n)
    hit = np.zeros(n, dtype=bool)
    hit[np.where(i[cross] < n, i[cross], j[cross])] = True
    return hit
