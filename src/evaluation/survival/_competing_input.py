"""Input checks shared by the competing-risks estimators.

They turn a DataFrame and column names into clean numpy arrays, or raise an
:class:`~evaluation._errors.EstimationError` that names the column and the offending rows.
Event columns hold integer codes: 0 censored, 1..K the causes (relapse cohorts: 1 relapse,
2 death, 3 emigration; retention: 1 completed, 2 dropped out, 3 moved, 4 died).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation.survival._km_input import column, rows_text, weights_and_entry
from evaluation.survival._km_input import numeric_column as numeric


@dataclass(frozen=True, slots=True)
class CompetingData:
    """Clean arrays, one per input row, input order kept."""

    time: np.ndarray  # float64 >= 0
    cause: np.ndarray  # int64, 0 censored, else the event code
    weight: np.ndarray  # float64 > 0
    entry: np.ndarray | None  # float64 < time, or None
    group_index: np.ndarray  # intp
    groups: tuple[Hashable, ...]
    causes: tuple[int, ...]  # event codes present, ascending (0 excluded)


def factor(
    data: pd.DataFrame, by: str | Sequence[str] | None, role: str = "by"
) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    """Integer codes and labels (sorted, or categorical order, as R orders factor levels)."""
    n = len(data)
    if by is None:
        return np.zeros(n, dtype=np.intp), ("all",)
    names = [by] if isinstance(by, str) else list(by)
    if not names:
        raise EstimationError(f"{role} must name at least one column")
    frame = pd.DataFrame(index=data.index)
    for name in names:
        col = column(data, name, role)
        missing = col.isna().to_numpy()
        if missing.any():
            raise EstimationError(
                f"{role} column {name!r} has {int(missing.sum())} missing values "
                f"({rows_text(data.index, missing)})"
            )
        frame[name] = col
    if len(names) == 1:
        col = frame[names[0]]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cat = col.cat.remove_unused_categories()
            return np.asarray(cat.cat.codes, dtype=np.intp), tuple(cat.cat.categories)
        codes, uniques = pd.factorize(col, sort=True)
        return np.asarray(codes, dtype=np.intp), tuple(uniques)
    joined = frame.astype(str).agg(", ".join, axis=1)
    codes, uniques = pd.factorize(joined, sort=True)
    return np.asarray(codes, dtype=np.intp), tuple(uniques)


def prepare_competing(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    entry: str | None = None,
) -> CompetingData:
    """Validate the columns of a competing-risks analysis and return them as arrays."""
    time = numeric(data, duration, "duration")
    if len(time) == 0:
        raise EstimationError("data has no rows")
    raw = numeric(data, event, "event")
    not_integer = raw != np.round(raw)
    if not_integer.any():
        raise EstimationError(
            f"column {event!r} must hold integer event codes (0 censored, 1, 2, ... causes); "
            f"{int(not_integer.sum())} values are not ({rows_text(data.index, not_integer)})"
        )
    cause = raw.astype(np.int64)
    causes = tuple(int(c) for c in np.unique(cause) if c != 0)
    if not causes:
        raise EstimationError(f"column {event!r} has no events (every row is 0, censored)")
    weight, start = weights_and_entry(data, time, duration=duration, weights=weights, entry=entry)
    codes, groups = factor(data, by)
    return CompetingData(
        time=time,
        cause=cause,
        weight=weight,
        entry=start,
        group_index=codes,
        groups=groups,
        causes=causes,
    )


def check_alpha(alpha: float) -> float:
    """Return ``alpha`` if it is a probability strictly between 0 and 1."""
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise EstimationError(f"alpha must be between 0 and 1, not {alpha!r}")
    return float(alpha)
