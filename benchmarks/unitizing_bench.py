"""Speed and memory of qda.stats.unitizing.unitizing_alpha, against an all-pairs brute force.

Standalone: ``python benchmarks/unitizing_bench.py [--segments 1000000] [--brute 10000]``.
Two coders each partition a continuum into random segments (1-5 code points, 10 values)
and gaps (0-2 code points). The sweep is timed at ``--segments`` per coder, with its
tracemalloc peak; at ``--brute`` per coder it is timed beside a brute force that intersects
every piece (segment or gap) of one coder with every piece of the other, chunk by chunk,
and the two must give the same coefficients. The last line holds both times and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

SRC = Path(__file__).resolve().parents[1] / "src"
N_VALUES = 10


def random_unitizations(n_segments: int, seed: int = 0) -> tuple[pd.DataFrame, int]:
    """Two coders' random segments on one continuum, and the continuum's length."""
    rng = np.random.default_rng(seed)
    frames = []
    for coder in ("A", "B"):
        lengths = rng.integers(1, 6, n_segments)
        gaps = rng.integers(0, 3, n_segments)
        ends = np.cumsum(gaps + lengths)
        values = pd.Categorical.from_codes(rng.integers(0, N_VALUES, n_segments), [f"code{i}" for i in range(N_VALUES)])
        frames.append(pd.DataFrame({"coder": coder, "start": ends - lengths, "end": ends, "value": values}))
    segments = pd.concat(frames, ignore_index=True)
    return segments, int(segments["end"].max()) + 3


def _pieces(segments: pd.DataFrame, coder: str, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A coder's segments and gaps as (starts, ends, category codes), the gap coded N_VALUES."""
    own = segments[segments["coder"] == coder].sort_values("start")
    starts, ends = own["start"].to_numpy(), own["end"].to_numpy()
    codes = own["value"].cat.codes.to_numpy().astype(np.int64)
    gap_starts = np.concatenate(([0], ends))
    gap_ends = np.concatenate((starts, [length]))
    keep = gap_ends > gap_starts
    all_starts = np.concatenate((starts, gap_starts[keep]))
    all_ends = np.concatenate((ends, gap_ends[keep]))
    all_codes = np.concatenate((codes, np.full(keep.sum(), N_VALUES)))
    return all_starts, all_ends, all_codes


def brute_force_alphas(segments: pd.DataFrame, length: int, chunk: int = 256) -> tuple[float, float, float]:
    """u-alpha, |u-alpha and cu-alpha (two coders) from all pairs of pieces."""
    sa, ea, ca = _pieces(segments, "A", length)
    sb, eb, cb = _pieces(segments, "B", length)
    k = N_VALUES + 1
    cross = np.zeros((k, k))
    valued_a, valued_b = np.zeros(len(sa)), np.zeros(len(sb))
    b_valued = cb < N_VALUES
    for lo in range(0, len(sa), chunk):
        hi = min(lo + chunk, len(sa))
        inter = np.minimum(ea[lo:hi, None], eb[None, :]) - np.maximum(sa[lo:hi, None], sb[None, :])
        np.clip(inter, 0, None, out=inter)
        rows, cols = np.nonzero(inter)
        np.add.at(cross, (ca[lo:hi][rows], cb[cols]), inter[rows, cols])
        valued_a[lo:hi] = (inter * b_valued[None, :]).sum(axis=1)
        valued_b += (inter * (ca[lo:hi] < N_VALUES)[:, None]).sum(axis=0)
    observed = cross + cross.T  # m = 2: 1/(m-1) = 1
    lengths_a, lengths_b = (ea - sa).astype(float), (eb - sb).astype(float)
    self_pairing = np.zeros(k)
    for lengths, codes in ((lengths_a, ca), (lengths_b, cb)):
        np.add.at(self_pairing, codes, np.where(codes < N_VALUES, lengths**2, lengths))
    valued_self = np.zeros(N_VALUES)
    for overlap, codes in ((valued_a, ca), (valued_b, cb)):
        valued = codes < N_VALUES
        np.add.at(valued_self, codes[valued], overlap[valued] ** 2)

    def expected(o: np.ndarray, t: np.ndarray) -> np.ndarray:
        n, margins = o.sum(), o.sum(axis=1)
        return n * (np.outer(margins, margins) - np.diag(t)) / (n**2 - t.sum())

    e = expected(observed, self_pairing)
    u = 1 - (observed.sum() - np.trace(observed)) / (e.sum() - np.trace(e))
    gap = N_VALUES
    binary = 1 - (observed[gap].sum() - observed[gap, gap]) / (e[gap].sum() - e[gap, gap])
    ov = observed[:gap, :gap]
    ev = expected(ov, valued_self)
    cu = 1 - (ov.sum() - np.trace(ov)) / (ev.sum() - np.trace(ev))
    return float(u), float(binary), float(cu)


def timed(function, *args, repeats: int = 1):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    sys.path.insert(0, str(SRC))
    from qda.stats.unitizing import unitizing_alpha

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1_000_000, help="segments per coder for the sweep")
    parser.add_argument("--brute", type=int, default=10_000, help="segments per coder for the brute-force comparison")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    big, big_length = random_unitizations(args.segments)
    big_time, _ = timed(unitizing_alpha, big, big_length, repeats=args.repeats)
    tracemalloc.start()
    unitizing_alpha(big, big_length)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(
        f"sweep, 2 coders x {args.segments:,} segments (continuum {big_length:,}): {big_time:.3f} s, "
        f"peak traced memory {peak:.0f} MiB ({peak * 2**20 / (2 * args.segments):.0f} bytes a segment)"
    )

    small, small_length = random_unitizations(args.brute, seed=1)
    ours_time, ours = timed(unitizing_alpha, small, small_length, repeats=args.repeats)
    brute_time, brute = timed(brute_force_alphas, small, small_length)
    mine = (ours.u_alpha, ours.binary_u_alpha, ours.cu_alpha)
    if not np.allclose(mine, brute, rtol=1e-9, atol=1e-12):
        raise SystemExit(f"the sweep and the brute force disagree: {mine} vs {brute}")
    print(
        f"2 x {args.segments:,} segments: sweep {big_time:.3f} s; 2 x {args.brute:,} segments: sweep "
        f"{ours_time:.4f} s, all-pairs brute force {brute_time:.3f} s, ratio {brute_time / ours_time:.0f}x "
        f"(same u-alpha {mine[0]:.6f}, |u-alpha {mine[1]:.6f}, cu-alpha {mine[2]:.6f})"
    )


if __name__ == "__main__":
    main()
