"""Primary masking of small counts, shared by every figure that prints counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL

__all__ = ["DEFAULT_MIN_CELL", "mask_small_counts"]


def mask_small_counts(
    counts: pd.Series | np.ndarray, min_cell: int = DEFAULT_MIN_CELL
) -> pd.Series:
    """Return counts as a float Series with every value in ``1 .. min_cell - 1`` set to NaN.

    Zero stays visible (it discloses nothing about an individual); NaN marks a suppressed
    cell, which report writers show as ``<min_cell``.

    Examples
    --------
    >>> mask_small_counts(np.array([0, 3, 5, 12])).tolist()
    [0.0, nan, 5.0, 12.0]
    """
    values = pd.Series(counts, dtype="float64")
    small = (values > 0) & (values < min_cell)
    return values.mask(small)
