"""Input checks shared by ``kaplan_meier``, ``logrank`` and ``rmst``.

They turn a DataFrame and column names into clean numpy arrays, or raise an
:class:`~evaluation._errors.EstimationError` that names the column and the offending rows.
Bad data is an error, never a silent drop.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError

#: Default event codes: ``event == 1`` is the event, every other code censors. Relapse
#: cohorts code death as 2 and emigration as 3, which are censoring for a Kaplan–Meier
#: curve of relapse (use competing-risks estimators to treat them as competing events).
DEFAULT_EVENT_CODES: tuple[int, ...] = (1,)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Clean arrays for one analysis (one row per input row, input order kept)."""

    time: np.ndarray  # float64, >= 0
    event: np.ndarray  # float64 0/1 (1 = an event of one of ``event_codes``)
    weight: np.ndarray  # float64 > 0
    entry: np.ndarray | None  # float64, entry < time, or None without delayed entry
    group_index: np.ndarray  # intp, 0 .. n_groups - 1
    groups: list[Hashable]  # group labels in curve order
    weighted: bool


def rows_text(index: pd.Index, bad: np.ndarray, limit: int = 5) -> str:
    """``rows a, b, c, ...`` for the first offending row labels."""
    labels = [str(x) for x in index[bad][:limit]]
    more = ", ..." if int(bad.sum()) > limit else ""
    return f"rows {', '.join(labels)}{more}"


def column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    """Column ``name`` of ``data``, or a clear error naming its role."""
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if not isinstance(name, str) or name not in data.columns:
        raise EstimationError(f"{role} column {name!r} is not in the data")
    return data[name]


def numeric_column(
    data: pd.DataFrame, name: str, role: str, *, nonnegative: bool = True
) -> np.ndarray:
    """Return column ``name`` as float64, refusing missing, non-numeric and negative values."""
    col = column(data, name, role)
    if col.dtype == bool:
        col = col.astype("int64")
    if not pd.api.types.is_numeric_dtype(col):
        raise EstimationError(f"{role} column {name!r} must be numeric, not {col.dtype}")
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    missing = ~np.isfinite(values)
    if missing.any():
        raise EstimationError(
            f"column {name!r} has {int(missing.sum())} missing or infinite values "
            f"({rows_text(data.index, missing)})"
        )
    if nonnegative:
        negative = values < 0
        if negative.any():
            raise EstimationError(
                f"column {name!r} has {int(negative.sum())} negative values "
                f"({rows_text(data.index, negative)})"
            )
    return values


def event_column(data: pd.DataFrame, name: str, event_codes: Sequence[int]) -> np.ndarray:
    """Return 1.0 where ``event`` is one of ``event_codes`` and 0.0 elsewhere (censoring)."""
    codes = tuple(int(c) for c in event_codes)
    if not codes or 0 in codes:
        raise EstimationError("event_codes must list one or more nonzero codes (0 is censoring)")
    values = numeric_column(data, name, "event")
    not_integer = values != np.round(values)
    if not_integer.any():
        raise EstimationError(
            f"column {name!r} must hold integer event codes; {int(not_integer.sum())} values "
            f"are not ({rows_text(data.index, not_integer)})"
        )
    return np.isin(values, codes).astype("float64")


def group_codes(
    data: pd.DataFrame, by: str | Sequence[str] | None
) -> tuple[np.ndarray, list[Hashable]]:
    """Integer group codes and labels, in sorted (or categorical) order as R orders factors.

    One column keeps its values as labels; several columns are joined as ``"a, b"``.
    """
    n = len(data)
    if by is None:
        return np.zeros(n, dtype=np.intp), ["all"]
    names = [by] if isinstance(by, str) else list(by)
    if not names:
        raise EstimationError("by must name at least one column")
    codes_list = []
    levels_list = []
    for name in names:
        col = column(data, name, "by")
        missing = col.isna().to_numpy()
        if missing.any():
            raise EstimationError(
                f"by column {name!r} has {int(missing.sum())} missing values "
                f"({rows_text(data.index, missing)})"
            )
        if isinstance(col.dtype, pd.CategoricalDtype):
            cat = col.cat.remove_unused_categories()
            codes, levels = cat.cat.codes.to_numpy(), list(cat.cat.categories)
        else:
            codes, uniques = pd.factorize(col, sort=True)
            levels = list(uniques)
        codes_list.append(np.asarray(codes, dtype=np.intp))
        levels_list.append(levels)
    if len(names) == 1:
        return codes_list[0], levels_list[0]
    # Several columns: combine the codes, keep only the combinations present.
    combined = np.zeros(n, dtype=np.int64)
    for codes, levels in zip(codes_list, levels_list, strict=True):
        combined = combined * len(levels) + codes
    present, inverse = np.unique(combined, return_inverse=True)
    labels: list[Hashable] = []
    for value in present:
        parts = []
        for levels in reversed(levels_list):
            value, j = divmod(int(value), len(levels))
            parts.append(str(levels[j]))
        labels.append(", ".join(reversed(parts)))
    return inverse.astype(np.intp), labels


def id_codes(data: pd.DataFrame, name: str) -> np.ndarray:
    """Integer codes 0..G-1 of a person (cluster) id column, refusing missing ids."""
    col = column(data, name, "cluster")
    missing = col.isna().to_numpy()
    if missing.any():
        raise EstimationError(
            f"cluster column {name!r} has {int(missing.sum())} missing values "
            f"({rows_text(data.index, missing)})"
        )
    codes, _ = pd.factorize(col, sort=True)
    return np.asarray(codes, dtype=np.intp)


def weights_and_entry(
    data: pd.DataFrame,
    time: np.ndarray,
    *,
    duration: str,
    weights: str | None,
    entry: str | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Case weights (ones when None; zero or negative refused) and entry times (before exit)."""
    if weights is None:
        weight = np.ones_like(time)
    else:
        weight = numeric_column(data, weights, "weights")
        zero = weight <= 0
        if zero.any():
            raise EstimationError(
                f"weights column {weights!r} has {int(zero.sum())} zero weights "
                f"({rows_text(data.index, zero)}); drop those rows explicitly"
            )
    start = None
    if entry is not None:
        start = numeric_column(data, entry, "entry")
        late = start >= time
        if late.any():
            raise EstimationError(
                f"entry column {entry!r} is not before {duration!r} in {int(late.sum())} rows "
                f"({rows_text(data.index, late)}); a person must enter before leaving"
            )
    return weight, start


def prepare(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    entry: str | None = None,
    event_codes: Sequence[int] = DEFAULT_EVENT_CODES,
) -> Prepared:
    """Validate the analysis columns and return them as arrays."""
    time = numeric_column(data, duration, "duration")
    ev = event_column(data, event, event_codes)
    if len(time) == 0:
        raise EstimationError("data has no rows")
    weight, start = weights_and_entry(data, time, duration=duration, weights=weights, entry=entry)
    codes, groups = group_codes(data, by)
    return Prepared(
        time=time,
        event=ev,
        weight=weight,
        entry=start,
        group_index=codes,
        groups=groups,
        weighted=weights is not None,
    )
