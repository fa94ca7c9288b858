"""Proposed faster internals of ``qda.agreement.krippendorff_alpha`` (for its owner; not used by qda).

Run ``.venv/bin/python benchmarks/proposed_alpha.py``: it checks that :func:`alpha_fast`
returns the same alpha as ``qda.agreement.krippendorff_alpha`` to 1e-9 at every level and
prints the median time of both (and of the ``krippendorff`` package) on 5 coders x 10^6 units.

Changes against ``qda.agreement._alpha_parts`` (same formulas, Krippendorff 2011):

* value counts with ``pd.factorize(sort=True)`` + ``np.bincount`` (hashing, O(n)) instead
  of ``np.unique(..., return_inverse=True)``, which sorts all n pairable values: the
  hot spot of the ordinal level;
* nominal equal pairs per unit by comparing the c(c-1)/2 coder-column pairs (for up to 12
  coders) instead of sorting every row;
* ratio within-unit disagreement over coder-column pairs with NaN propagation
  (``nansum``; a pair of zeros gives 0/0 = NaN, whose delta is 0 anyway) instead of
  sorting rows and masking with ``np.where`` three times per offset.
"""
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import reliability_data
from qda import agreement as A

def counts_of(vals):
    """(sorted distinct values, code of each value, count of each distinct value)."""
    codes, uniq = pd.factorize(vals, sort=True)
    return uniq, codes, np.bincount(codes, minlength=len(uniq)).astype(float)

def alpha_fast(x, level):
    """Krippendorff's alpha ``1 - D_o / D_e`` of a units x coders float matrix (NaN = missing)."""
    mask = ~np.isnan(x); m_all = mask.sum(1); keep = m_all >= 2
    x = x[keep]; mask = mask[keep]; m = m_all[keep].astype(float)
    vals = x[mask]; n = float(vals.size); c = x.shape[1]
    if level == "nominal":
        if c <= 12:
            eq = np.zeros(len(x))
            for i in range(c):
                for j in range(i + 1, c):
                    eq += x[:, i] == x[:, j]
        else:
            eq = A._equal_pairs_per_row(x)
        d_o = float(((m * (m - 1) - 2 * eq) / (m - 1)).sum() / n)
        _, _, cnt = counts_of(vals)
        d_e = float((n * (n - 1) - (cnt * (cnt - 1)).sum()) / (n * (n - 1)))
    elif level in ("interval", "ordinal"):
        if level == "ordinal":
            uniq, inv, cnt = counts_of(vals)
            pos = np.cumsum(cnt) - cnt / 2.0
            x = np.full(x.shape, np.nan); x[mask] = pos[inv]; vals = x[mask]
        mean_u = np.nanmean(x, axis=1)
        ss_u = np.nansum((x - mean_u[:, None]) ** 2, axis=1)
        d_o = float((2.0 * m * ss_u / (m - 1)).sum() / n)
        d_e = 2.0 * float(((vals - vals.mean()) ** 2).sum()) / (n - 1)
    else:
        inv_w = 1.0 / (m - 1)
        tot = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in range(c):
                for j in range(i + 1, c):
                    a, b = x[:, i], x[:, j]
                    d = (a - b) / (a + b)   # NaN where either is missing or both are 0 (delta 0)
                    tot += float(np.nansum(d * d * inv_w))
        d_o = 2.0 * tot / n
        uniq, _, cnt = counts_of(vals)
        d_e = A._ratio_expected_sum(uniq, cnt, A._RATIO_EXACT_MAX_VALUES) / (n * (n - 1))
    return 1.0 - d_o / d_e

def t(f, n=5):
    """Median seconds of ``n`` calls of ``f``."""
    ts = []
    for _ in range(n):
        s = time.perf_counter(); f(); ts.append(time.perf_counter() - s)
    return float(np.median(ts))

if __name__ == "__main__":
    import krippendorff
    for nv in (5, 200):
        x0 = reliability_data(10**6, 5, nv)
        for lv in ("nominal", "ordinal", "interval", "ratio"):
            x = x0 + 1 if lv == "ratio" else x0
            a_now, a_new = A.krippendorff_alpha(x, lv), alpha_fast(x, lv)
            assert abs(a_now - a_new) < 1e-9, (lv, a_now, a_new)
            now = t(lambda: A.krippendorff_alpha(x, lv)); new = t(lambda: alpha_fast(x, lv))
            pk = t(lambda: krippendorff.alpha(reliability_data=x.T, level_of_measurement=lv), 3) if nv == 5 else float("nan")
            print(f"V={nv} {lv:9s} now {now:.3f}  proposed {new:.3f}  package {pk:.3f}", flush=True)
