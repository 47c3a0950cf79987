"""The input layer of every estimator: columns by role, checks, codes and row listings.

Every estimator (Kaplan–Meier, log-rank, RMST, Cox, AFT, window logistic, cumulative
incidence, Gray, Fine–Gray, cause-specific Cox, the effect estimators) reads its DataFrame
through these functions, so that one column means one thing and one problem reads the same
everywhere. A column is named by its role (``duration``, ``event``, ``entry``, ``weights``,
``by``, ``strata``, ``cluster``, ``treatment``, a covariate); an error names the role, the
column, how many rows and the first row labels (the DataFrame's index, so that an
evaluator can find them in the cohort table), and says what the data must hold. Bad data
is an error, never a silent drop.

This module sits below ``survival`` and ``effects`` and imports nothing from the package
but its exceptions (ARCHITECTURE.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError

__all__ = [
    "DEFAULT_EVENT_CODES",
    "TIMEFIX_TOLERANCE",
    "Groups",
    "SurvivalInput",
    "aeq_times",
    "check_alpha",
    "counted",
    "event_codes_column",
    "event_indicator",
    "group_codes",
    "no_missing",
    "numeric_column",
    "prepare",
    "require_columns",
    "rows_text",
    "treatment_column",
    "weights_values",
]

#: Default event codes: ``event == 1`` is the event, every other code censors. Relapse
#: cohorts code death as 2 and emigration as 3, which are censoring for a Kaplan–Meier
#: curve of relapse (use competing-risks estimators to treat them as competing events).
DEFAULT_EVENT_CODES: tuple[int, ...] = (1,)

#: How many row labels a message lists before it writes "...".
MAX_ROWS = 5

Columns = str | Sequence[str] | None


# -- wording ---------------------------------------------------------------------------


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``'1 missing value'`` or ``'3 missing values'``.

    Examples
    --------
    >>> counted(1, "missing value"), counted(2, "value <= 0", "values <= 0")
    ('1 missing value', '2 values <= 0')
    """
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def rows_text(
    data: pd.DataFrame | pd.Index, where: np.ndarray | pd.Series, limit: int = MAX_ROWS
) -> str:
    """``'row 4'`` or ``'rows 4, 17, 90, ...'``: the first offending row labels.

    ``where`` is a boolean mask over the rows or an array of row positions.

    Examples
    --------
    >>> rows_text(pd.Index(["a", "b", "c"]), np.array([False, True, True]))
    'rows b, c'
    >>> rows_text(pd.Index(range(10)), np.arange(7))
    'rows 0, 1, 2, 3, 4, ...'
    """
    index = data.index if isinstance(data, pd.DataFrame) else data
    w = np.asarray(where)
    positions = np.flatnonzero(w) if w.dtype == bool else w.astype(np.intp)
    labels = [str(x) for x in index[positions[:limit]]]
    more = ", ..." if len(positions) > limit else ""
    word = "row" if len(positions) == 1 else "rows"
    return f"{word} {', '.join(labels)}{more}"


def _column_name(role: str, name: Any) -> str:
    return f"{role} column {name!r}" if role else f"column {name!r}"


def _problem(
    role: str, name: Any, data: pd.DataFrame, bad: np.ndarray, what: str, plural: str = ""
) -> str:
    """``"duration column 'd' has 2 negative values (rows 3, 17)"``."""
    n = int(np.count_nonzero(bad))
    return (
        f"{_column_name(role, name)} has {counted(n, what, plural or None)} "
        f"({rows_text(data, bad)})"
    )


# -- columns by role -------------------------------------------------------------------


def _as_list(cols: Columns) -> list[str]:
    if cols is None:
        return []
    return [cols] if isinstance(cols, str) else list(cols)


def require_columns(
    data: Any, columns: Mapping[str, Columns] | Sequence[str], *, table: str = "data"
) -> None:
    """Raise unless ``data`` is a DataFrame holding every named column.

    ``columns`` maps a role (``"duration"``, ``"by"``, ...) to its column or columns (None
    where the role is not used); a plain list names columns without a role. The message
    names every missing column with its role, and the columns the table has.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"t": [1]}), {"duration": "t", "event": "e"})
    Traceback (most recent call last):
    ...
    evaluation._errors.EstimationError: event column 'e' is not in the data; it has columns t
    """
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(f"{table} must be a pandas DataFrame, not {type(data).__name__}")
    pairs = (
        [(role, c) for role, cols in columns.items() for c in _as_list(cols)]
        if isinstance(columns, Mapping)
        else [("", c) for c in columns]
    )
    missing = [
        _column_name(role, c)
        for role, c in pairs
        if not isinstance(c, Hashable) or c not in data.columns
    ]
    if missing:
        have = ", ".join(map(str, data.columns[:20])) + (", ..." if data.shape[1] > 20 else "")
        verb = "is" if len(missing) == 1 else "are"
        raise EstimationError(
            f"{' and '.join(missing)} {verb} not in the {table}; it has columns {have}"
        )


def no_missing(data: pd.DataFrame, name: str, role: str = "") -> None:
    """Raise if column ``name`` has missing values, naming the rows."""
    na = data[name].isna().to_numpy()
    if na.any():
        raise EstimationError(_problem(role, name, data, na, "missing value"))


def numeric_column(
    data: pd.DataFrame,
    name: str,
    role: str = "",
    *,
    minimum: float | None = 0.0,
    strict: bool = False,
) -> np.ndarray:
    """Column ``name`` as float64: present, numeric (True/False as 1/0), complete, finite,
    and at least ``minimum`` (above it with ``strict``; no bound with None)."""
    require_columns(data, {role: name})
    series = data[name]
    if pd.api.types.is_bool_dtype(series):
        series = series.astype("int64")
    if not pd.api.types.is_numeric_dtype(series):
        raise EstimationError(f"{_column_name(role, name)} must be numeric, not {series.dtype}")
    no_missing(data, name, role)
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise EstimationError(_problem(role, name, data, bad, "infinite value"))
    if minimum is not None:
        bad = values <= minimum if strict else values < minimum
        if bad.any():
            if strict:
                what, plural = f"value <= {minimum:g}", f"values <= {minimum:g}"
            elif minimum == 0:
                what, plural = "negative value", "negative values"
            else:
                what, plural = f"value below {minimum:g}", f"values below {minimum:g}"
            raise EstimationError(_problem(role, name, data, bad, what, plural))
    return values


def event_codes_column(data: pd.DataFrame, name: str) -> np.ndarray:
    """The event column as int64 codes: 0 censored, 1, 2, ... the events (or causes)."""
    values = numeric_column(data, name, "event", minimum=None)
    bad = (values != np.round(values)) | (values < 0)
    if bad.any():
        raise EstimationError(
            f"event column {name!r} must hold integer event codes (0 censored, 1, 2, ... "
            f"the events); {counted(int(bad.sum()), 'value is', 'values are')} not "
            f"({rows_text(data, bad)})"
        )
    return values.astype(np.int64)


def event_indicator(data: pd.DataFrame, name: str, codes: Sequence[int]) -> np.ndarray:
    """True where the event column holds one of ``codes``; other codes censor."""
    return np.isin(event_codes_column(data, name), check_event_codes(codes))


def check_event_codes(codes: Sequence[int]) -> tuple[int, ...]:
    """``codes`` as a tuple of ints, refusing an empty list and 0 (which is censoring)."""
    chosen = tuple(int(c) for c in codes)
    if not chosen or 0 in chosen:
        raise EstimationError("event_codes must list one or more nonzero codes (0 is censoring)")
    return chosen


def weights_values(
    data: pd.DataFrame,
    weights: str | np.ndarray | pd.Series | None,
    *,
    allow_zero: bool = True,
) -> np.ndarray:
    """Case weights as float64 (ones when None), from a column or an array of one per row.

    Negative, missing and infinite weights are refused; zero weights too unless
    ``allow_zero`` (estimators that drop zero-weight rows silently would change ``n``).
    """
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        w = numeric_column(data, weights, "weights")
        label = _column_name("weights", weights)
    else:
        w = np.asarray(weights, dtype=np.float64)
        label = "weights"
        if len(w) != len(data):
            raise EstimationError(f"{label} has {len(w)} values for {len(data)} rows of data")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise EstimationError(
                f"{label} has {counted(int(bad.sum()), 'missing, infinite or negative value')} "
                f"({rows_text(data, bad)})"
            )
    if not allow_zero:
        zero = w <= 0
        if zero.any():
            raise EstimationError(
                f"{label} has {counted(int(zero.sum()), 'zero weight')} "
                f"({rows_text(data, zero)}); drop those rows explicitly"
            )
    return w


def entry_values(
    data: pd.DataFrame, entry: str, time: np.ndarray, *, duration: str, minimum: float | None
) -> np.ndarray:
    """Entry times (delayed entry or counting-process rows), each before its exit time."""
    start = numeric_column(data, entry, "entry", minimum=minimum)
    late = start >= time
    if late.any():
        raise EstimationError(
            f"entry column {entry!r} is not before {duration!r} in "
            f"{counted(int(late.sum()), 'row')} ({rows_text(data, late)}); a row is at risk "
            "from entry to duration, so a person must enter before leaving"
        )
    return start


def treatment_column(data: pd.DataFrame, name: str) -> np.ndarray:
    """The treatment column as 0/1 int64 (participant = 1), with both groups present."""
    require_columns(data, {"treatment": name})
    no_missing(data, name, "treatment")
    values = data[name].to_numpy()
    if values.dtype == bool:
        t = values.astype(np.int64)
    else:
        try:
            f = values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise EstimationError(
                f"treatment column {name!r} must be 0/1 or True/False (participant = 1)"
            ) from exc
        bad = (f != 0) & (f != 1)
        if bad.any():
            raise EstimationError(
                f"treatment column {name!r} must be 0/1 (participant = 1) but has "
                f"{counted(int(bad.sum()), 'other value')} ({rows_text(data, bad)})"
            )
        t = f.astype(np.int64)
    n1 = int(t.sum())
    if n1 == 0 or n1 == len(t):
        raise EstimationError(
            f"treatment column {name!r} needs both participants (1) and comparisons (0); "
            f"it has {n1} participants among {len(t)} rows"
        )
    return t


def check_alpha(alpha: float) -> float:
    """Return ``alpha`` if it is a probability strictly between 0 and 1."""
    if isinstance(alpha, bool) or not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise EstimationError(f"alpha must be between 0 and 1, not {alpha!r}")
    return float(alpha)


def check_choice(value: Any, choices: Sequence[Any], name: str) -> Any:
    """Return ``value`` if it is one of ``choices``; else an error naming the option.

    Examples
    --------
    >>> check_choice("log", ("log", "plain"), "conf_type")
    'log'
    """
    if value not in choices:
        raise EstimationError(
            f"{name} must be one of {', '.join(map(str, choices))}, not {value!r}"
        )
    return value


# -- groups ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Groups:
    """Integer codes of the groups of one or more columns, and their labels.

    Groups are ordered as R orders factor levels: sorted values, or the order of a
    categorical's categories (unused ones dropped); several columns are crossed, first
    column slowest, keeping only the combinations present.
    """

    codes: np.ndarray  # intp, 0 .. n_groups - 1, one per row
    labels: tuple[Hashable, ...]  # one column: its values; several: "a, b"
    table: pd.DataFrame  # one row per group (index = code), one column per input column

    def __len__(self) -> int:
        return len(self.labels)


def group_codes(data: pd.DataFrame, columns: Columns, role: str = "by") -> Groups:
    """The groups of ``columns`` (one group ``"all"`` when None); missing values refused."""
    n = len(data)
    if columns is None:
        return Groups(np.zeros(n, dtype=np.intp), ("all",), pd.DataFrame(index=[0]))
    names = _as_list(columns)
    if not names:
        raise EstimationError(f"{role} must name at least one column")
    require_columns(data, {role: names})
    codes_list: list[np.ndarray] = []
    levels_list: list[list[Any]] = []
    for name in names:
        no_missing(data, name, role)
        col = data[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cat = col.cat.remove_unused_categories()
            codes, levels = cat.cat.codes.to_numpy(), list(cat.cat.categories)
        else:
            codes, uniques = pd.factorize(col, sort=True)
            levels = list(uniques)
        codes_list.append(np.asarray(codes, dtype=np.intp))
        levels_list.append(levels)
    if len(names) == 1:
        table = pd.DataFrame({names[0]: levels_list[0]})
        return Groups(codes_list[0], tuple(levels_list[0]), table)
    combined = np.zeros(n, dtype=np.int64)
    for codes, levels in zip(codes_list, levels_list, strict=True):
        combined = combined * len(levels) + codes
    present, inverse = np.unique(combined, return_inverse=True)
    columns_of: dict[str, list[Any]] = {name: [] for name in names}
    for value in present:
        rest = int(value)
        for name, levels in zip(reversed(names), reversed(levels_list), strict=True):
            rest, j = divmod(rest, len(levels))
            columns_of[name].append(levels[j])
    table = pd.DataFrame(columns_of)
    labels = tuple(", ".join(str(v) for v in row) for row in table.itertuples(index=False))
    return Groups(inverse.astype(np.intp).ravel(), labels, table)


# -- one survival analysis -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurvivalInput:
    """Clean arrays for one survival analysis, one per input row, input order kept."""

    time: np.ndarray  # float64 >= 0
    code: np.ndarray  # int64 event codes: 0 censored, else the event (cause)
    event: np.ndarray  # float64 0/1: 1 where ``code`` is one of the event codes asked for
    weight: np.ndarray  # float64 > 0
    entry: np.ndarray | None  # float64 < time, or None without delayed entry
    group_index: np.ndarray  # intp, 0 .. n_groups - 1
    groups: tuple[Hashable, ...]  # group labels in curve order
    causes: tuple[int, ...]  # nonzero codes present, ascending
    weighted: bool

    def chosen_causes(self, causes: int | Sequence[int] | None, event: str) -> tuple[int, ...]:
        """The causes asked for (all present ones when None), each of which must occur."""
        if causes is None:
            return self.causes
        if isinstance(causes, bool) or not isinstance(causes, int | np.integer | Sequence):
            raise EstimationError(f"cause must be an integer event code, not {causes!r}")
        chosen = (int(causes),) if isinstance(causes, int | np.integer) else tuple(causes)
        absent = [c for c in chosen if c not in self.causes]
        if absent:
            raise EstimationError(
                f"cause {absent[0]} does not occur in event column {event!r} "
                f"(causes present: {', '.join(map(str, self.causes))})"
            )
        return tuple(int(c) for c in chosen)


def prepare(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: Columns = None,
    weights: str | None = None,
    entry: str | None = None,
    event_codes: Sequence[int] | None = DEFAULT_EVENT_CODES,
    timefix: bool = False,
) -> SurvivalInput:
    """Validate the columns of a survival analysis and return them as arrays.

    ``event_codes`` lists the codes that are the event (others censor); None is a
    competing-risks analysis, in which every nonzero code is a cause and some must occur.
    With ``timefix`` exit and entry times that differ only by rounding are merged
    (:func:`aeq_times`).
    """
    chosen = None if event_codes is None else check_event_codes(event_codes)
    require_columns(
        data,
        {"duration": duration, "event": event, "by": by, "weights": weights, "entry": entry},
    )
    time = numeric_column(data, duration, "duration")
    if len(time) == 0:
        raise EstimationError("data has no rows")
    code = event_codes_column(data, event)
    causes = tuple(int(c) for c in np.unique(code) if c != 0)
    if chosen is None and not causes:
        raise EstimationError(f"event column {event!r} has no events (every row is 0, censored)")
    is_event = code != 0 if chosen is None else np.isin(code, chosen)
    weight = weights_values(data, weights, allow_zero=False)
    start = None
    if entry is not None:
        start = entry_values(data, entry, time, duration=duration, minimum=0.0)
    if timefix:
        time, start = aeq_times(time, start, data=data, duration=duration, entry=entry)
    g = group_codes(data, by)
    # In the order of the fields (see SurvivalInput).
    arrays = (time, code, is_event.astype("float64"), weight, start, g.codes, g.labels, causes)
    return SurvivalInput(*arrays, weighted=weights is not None)


# -- times that differ only by rounding (R's timefix) ----------------------------------
#
# Durations computed in floating point ((release - entry).days / 365.25, a sum of
# intervals, a unit conversion) can give two persons who left on the same day times that
# differ in the 15th digit. Without care they are two distinct times: a tie becomes two
# event times, a censoring "before" an event at the same day leaves the risk set too early,
# and the curves and Cox fits differ from R's. R's survfit, coxph and survdiff call
# aeqSurv first (timefix = TRUE); aeq_times is the same rule (Therneau TM (2024).
# survival: A Package for Survival Analysis in R, function aeqSurv and the vignette
# "Roundoff error and tied times").

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
        Used only to name the table, columns and rows in an error.

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
