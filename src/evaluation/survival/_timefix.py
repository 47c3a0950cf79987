"""Merge times that differ only by floating-point rounding, as R's survival does.

Durations computed in floating point (``(release - entry).days / 365.25``, a sum of
intervals, a unit conversion) can give two persons who left on the same day times that
differ in the 15th digit. Without care they are two distinct times: a tie becomes two
event times, a censoring "before" an event at the same day leaves the risk set too early,
and the curves and Cox fits differ from R's. R's ``survfit``, ``coxph`` and ``survdiff``
call ``aeqSurv`` first (``timefix = TRUE``); ``aeq_times`` is the same rule.

References
----------
Therneau TM (2024). *survival: A Package for Survival Analysis in R*, function
``aeqSurv`` and the vignette "Roundoff error and tied times".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation._input import counted, rows_text

__all__ = ["TIMEFIX_TOLERANCE", "aeq_times"]

#: R's default tolerance, ``sqrt(.Machine$double.eps)``.
TIMEFIX_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def aeq_times(
    stop: np.ndarray,
    start: np.ndarray | None = None,
    *,
    tolerance: float = TIMEFIX_TOLERANCE,
    data: pd.DataFrame | None = None,
    duration: str = "duration",
    entry: str | None = "entry",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Exit (and entry) times with near-ties replaced by one value, as R's ``aeqSurv``.

    The distinct finite values of exit and entry times together are sorted; two neighbours
    ``a < b`` are tied when ``b - a <= tolerance`` or ``(b - a) / mean(|values|) <=
    tolerance``; runs of tied neighbours form one cluster and every value is replaced by
    the smallest value of its cluster. Times that are whole numbers of days differ by at
    least 1 and are never changed (unless they exceed about 6.7e7).

    Parameters
    ----------
    stop : ndarray
        Exit times.
    start : ndarray, optional
        Entry times (delayed entry or counting-process rows), merged on the same grid.
    tolerance : float
        R's ``tolerance`` (default ``sqrt(.Machine$double.eps)``).
    data, duration, entry
        Used only to name the rows in an error.

    Returns
    -------
    stop, start : ndarray
        New arrays (the inputs unchanged when nothing is tied).

    Raises
    ------
    EstimationError
        An entry time and its exit time fall in one cluster: the row's interval would have
        length 0 (R's "aeqSurv exception").

    Examples
    --------
    >>> t = np.array([0.1 + 0.2, 0.3, 1.0])
    >>> aeq_times(t)[0].tolist()
    [0.3, 0.3, 1.0]
    """
    stop = np.asarray(stop, dtype=float)
    values = stop if start is None else np.concatenate([stop, np.asarray(start, dtype=float)])
    y = np.unique(values[np.isfinite(values)])
    if y.size < 2:
        return stop, start
    dy = np.diff(y)
    scale = float(np.mean(np.abs(y)))
    with np.errstate(divide="ignore", invalid="ignore"):
        tied = (dy <= tolerance) | (dy / scale <= tolerance)
    if not tied.any():
        return stop, start
    cuts = y[np.concatenate([[True], ~tied])]

    def snap(x: np.ndarray) -> np.ndarray:
        # R's findInterval: the last cut at or below each value.
        idx = np.searchsorted(cuts, x, side="right") - 1
        return np.where(np.isfinite(x), cuts[np.clip(idx, 0, None)], x)

    new_stop = snap(stop)
    if start is None:
        return new_stop, None
    new_start = snap(np.asarray(start, dtype=float))
    bad = new_start >= new_stop
    if bad.any():
        where = "" if data is None else f" ({rows_text(data, bad)})"
        raise EstimationError(
            f"columns {entry!r} and {duration!r} differ only by rounding in "
            f"{counted(int(bad.sum()), 'row')}{where}: after merging near-equal times "
            "(timefix) the row is at risk for no time; correct the times or pass timefix=False"
        )
    return new_stop, new_start
