"""The one overlap rule (qda.stats.spans) against a brute force over all pairs."""

from __future__ import annotations

import numpy as np
import pytest

from qda.stats.spans import intersecting_pairs, overlap, overlapping_rows


def test_overlap_is_sharing_a_character():
    assert overlap(0, 5, 4, 9)  # share character 4
    assert not overlap(0, 5, 5, 9)  # touching spans share nothing


@pytest.mark.parametrize("seed", range(5))
def test_intersecting_pairs_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 300
    group = rng.integers(0, 4, n)
    lo = rng.integers(0, 500, n)
    hi = lo + rng.integers(0, 40, n)  # some empty spans
    i, j = intersecting_pairs(group, lo, hi)
    got = {tuple(sorted(p)) for p in zip(i.tolist(), j.tolist(), strict=True)}
    assert len(got) == len(i)  # each unordered pair once
    brute = {
        (a, b)
        for a in range(n)
        for b in range(a + 1, n)
        if group[a] == group[b] and hi[a] > lo[a] and hi[b] > lo[b] and lo[a] < hi[b] and lo[b] < hi[a]
    }
    assert got == brute


def test_overlapping_rows_equals_brute_force():
    rng = np.random.default_rng(7)
    ga = rng.choice(["P001", "P002", "P003"], 80)
    sa = rng.integers(0, 300, 80)
    ea = sa + rng.integers(1, 30, 80)
    gb = rng.choice(["P001", "P002", "P004"], 60)
    sb = rng.integers(0, 300, 60)
    eb = sb + rng.integers(1, 30, 60)
    got = overlapping_rows(ga, sa, ea, gb, sb, eb)
    brute = [any(ga[k] == gb[m] and sa[k] < eb[m] and sb[m] < ea[k] for m in range(60)) for k in range(80)]
    assert got.tolist() == brute
