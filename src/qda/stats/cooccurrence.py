"""ATLAS.ti's code co-occurrence coefficient c, over counts (knows nothing of the study).

The counts come from :func:`qda.analysis.cooccurrence.cooccurrence_matrix` (or any
tool); this module holds only the formula and its rule for counts where it has no
meaning.

Reference: ATLAS.ti Windows v22 manual, "Code Co-occurrence Coefficient".
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from qda.errors import QDAError

__all__ = ["c_coefficient"]


def _c_values(n12: np.ndarray, n1: np.ndarray, n2: np.ndarray) -> tuple[np.ndarray, int]:
    """c where it is a share, NaN elsewhere, and the number of cells where pairs outnumber codings."""
    denom = n1 + n2 - n12
    excess = n12 > np.minimum(n1, n2)
    ok = (denom > 0) & ~excess
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(ok, n12 / np.where(ok, denom, 1), np.nan)
    return c, int(np.count_nonzero(excess))


def _warn_excess(n_excess: int) -> None:
    if n_excess:
        warnings.warn(
            f"c_coefficient: {n_excess} pair(s) of codes co-occur more often than one of the codes is used "
            "(n12 > min(n1, n2): a coding of one code overlaps several codings of the other); c is not a "
            "share there and is returned as NaN. Count co-occurrence per transcript or per unit instead.",
            RuntimeWarning,
            stacklevel=3,
        )


def c_coefficient(n12, n1=None, n2=None, *, frequencies: pd.Series | None = None):
    """ATLAS.ti's code co-occurrence coefficient ``c = n12 / (n1 + n2 - n12)``.

    ``n12`` is the number of co-occurrences of codes 1 and 2, ``n1`` and ``n2``
    their frequencies (quotations coded). ``c`` is 0 when the codes never
    co-occur and 1 when they co-occur wherever either is used. It is small
    whenever n1 and n2 differ a lot (ATLAS.ti's example: n1 = 100, n2 = 10,
    n12 = 5 gives 5 / 105 = 0.048).

    What c means, and when it means nothing: c is the Jaccard share
    ``|A and B| / |A or B|`` of the quotations of the two codes when every
    co-occurrence pairs one quotation of each and no quotation is paired twice,
    so that ``n12 <= min(n1, n2)``. A quotation of one code that overlaps several
    quotations of the other counts several co-occurrences (ATLAS.ti's manual warns
    that c can then exceed 1). Once ``n12 > min(n1, n2)`` the co-occurrences
    outnumber the codings of one code and the ratio is no share: it exceeds 1
    (``c_coefficient(3, 1, 3)`` would be 3.0) or its denominator is zero or negative
    (``c_coefficient(6, 2, 3)``: 6 / -1). Rule, one for all such counts: c is NaN
    wherever ``n12 > min(n1, n2)``, with a ``RuntimeWarning`` giving the number of
    such pairs, and NaN where ``n1 + n2 - n12 = 0`` (neither code used). Within the
    valid range c is in [0, 1].

    Call it as ``c_coefficient(n12, n1, n2)`` with numbers or arrays, or as
    ``c_coefficient(matrix)`` with a co-occurrence matrix (frequencies from its
    diagonal, or from ``frequencies=``); the matrix form returns a code x code frame
    with NaN on the diagonal and wherever the rule above gives NaN.

    Reference: ATLAS.ti Windows v22 manual, "Code Co-occurrence Coefficient".
    """
    if isinstance(n12, pd.DataFrame):
        mat = n12
        if list(mat.index) != list(mat.columns):
            raise QDAError(
                None, "matrix", "rows and columns name different codes", "pass a square matrix from cooccurrence_matrix"
            )
        if frequencies is None:
            freq = np.diag(mat.to_numpy(dtype=float))
        else:
            freq = pd.Series(frequencies).reindex(mat.index).to_numpy(dtype=float)
            if np.isnan(freq).any():
                missing = list(mat.index[np.isnan(freq)])
                raise QDAError(
                    None,
                    "frequencies",
                    f"no frequency for code(s) {missing}",
                    "give a frequency for every code of the matrix",
                )
        n = mat.to_numpy(dtype=float)
        c, _ = _c_values(n, freq[:, None], freq[None, :])
        off = ~np.eye(len(n), dtype=bool)
        _warn_excess(int(np.count_nonzero((n > np.minimum(freq[:, None], freq[None, :])) & off)) // 2)
        c[np.diag_indices(len(c))] = np.nan
        return pd.DataFrame(c, index=mat.index, columns=mat.columns)
    if n1 is None or n2 is None:
        raise QDAError(None, "c_coefficient", "n1 and n2 are missing", "call c_coefficient(n12, n1, n2)")
    n12_, n1_, n2_ = (np.asarray(x, dtype=float) for x in (n12, n1, n2))
    if np.any(n12_ < 0) or np.any(n1_ < 0) or np.any(n2_ < 0):
        raise QDAError(None, "c_coefficient", "counts must not be negative", "pass counts >= 0")
    c, n_excess = _c_values(n12_, n1_, n2_)
    _warn_excess(n_excess)
    return float(c) if c.ndim == 0 else c
