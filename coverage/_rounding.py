"""Whole people for delivered tables: largest-remainder rounding that keeps the total.

The analysis keeps residents as floats (a cell's share of a district's population is rarely
a whole number); tables handed to a planning bureau show whole people and households. Rounding
each row on its own would make the rows miss the total by up to half a person per row, so the
rows are rounded down and the people left over go, one each, to the rows with the largest
fractional parts (Hamilton's method), which keeps every row within one of its exact value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["largest_remainder"]


def largest_remainder(values: np.ndarray, total: int | None = None) -> np.ndarray:
    """Round non-negative values to integers whose sum is the rounded sum of the values.

    Parameters
    ----------
    values
        The exact values, non-negative; NaN (e.g. an unknown capacity) stays NaN and counts
        as zero towards the total.
    total
        The integer the rounded values must add up to; default ``round(sum(values))``.

    Returns
    -------
    numpy.ndarray
        ``int64`` integers when no value is NaN, else ``float64`` with NaN kept where the
        input was NaN; each within 1 of its value (below 1 when ``total`` is the default) and
        summing to ``total``.

    Raises
    ------
    ValueError
        When a value is negative or ``total`` is out of reach of the floors and ceilings.

    Examples
    --------
    >>> from care15._rounding import largest_remainder
    >>> largest_remainder(np.array([235.2069, 89.77, 10.0231])).tolist()
    [235, 90, 10]
    >>> largest_remainder(np.array([0.4, 0.4, 0.2])).tolist()
    [1, 0, 0]
    """
    v = np.asarray(values, dtype=float)
    nan = np.isnan(v)
    x = np.where(nan, 0.0, v)
    if (x < 0).any():
        raise ValueError("largest_remainder: values must be non-negative")
    floor = np.floor(x)
    frac = x - floor
    want = int(np.round(x.sum())) if total is None else int(total)
    extra = want - int(floor.sum())
    if extra < 0 or extra > int((frac > 0).sum()):
        raise ValueError(f"largest_remainder: total {want} cannot be reached from the rows "
                         f"(floors add to {int(floor.sum())})")
    out = floor.astype(np.int64)
    if extra:
        # largest fractions first; ties broken by position so that output is deterministic
        order = np.lexsort((np.arange(len(x)), -frac))
        out[order[:extra]] += 1
    if nan.any():
        f = out.astype(float)
        f[nan] = np.nan
        return f
    return out
