"""Collect every problem of a set of register tables: columns, types, values, then row rules.

The steps build on each other without ever letting one failure crash the next: a column that
is missing or has the wrong type is reported once and left out of every later check, so
validation of arbitrary input ends in a list of messages, never in a pandas traceback.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
from pandas.api.types import infer_dtype, is_string_dtype

from evaluation.registers._messages import describe_rows, rows_word, show_values
from evaluation.registers._rules import MIN_AGE, check_rules
from evaluation.registers._schema import (
    DATE_DTYPE,
    ROW_LABEL,
    SPECS,
    TABLES,
    ColumnSpec,
    is_date_dtype,
    value_schema,
)
from evaluation.registers._text import TextColumns, arrow_all_in, arrow_is_unique

#: Rows of a column that reading already reported (unparseable values), by (table, column).
Reported = Mapping[tuple[str, str], np.ndarray]


def collect_problems(
    tables: Mapping[str, object],
    study_start: object,
    study_end: object,
    *,
    reported: Reported | None = None,
    min_age: int = MIN_AGE,
    text: Mapping[tuple[str, str], pa_arrow.Array] | None = None,
    found: Mapping[str, np.ndarray] | None = None,
) -> list[str]:
    """Every problem of the given tables and study window, as messages in the domain's words.

    ``tables`` maps table names to DataFrames; a table that is absent (reading already
    reported why) is skipped, with the checks that need it. ``reported`` holds rows whose
    values reading could not parse, so that they are not reported a second time as empty.
    ``min_age`` is the age of criminal responsibility (:func:`resolve_min_age`). ``text``
    holds the Arrow strings that reading made the text columns from (by table and column),
    so that they are not converted back; ``found`` the person codes reading found (by
    table), so that the ids are not looked up again.
    """
    reported = reported or {}
    problems: list[str] = []
    window = _check_window(study_start, study_end, problems)
    frames: dict[str, pd.DataFrame] = {}
    usable: dict[str, set[str]] = {}
    # each text column converted to Arrow once (or as read), for every check
    texts = TextColumns(frames, text)
    for name in TABLES:
        if name not in tables:
            continue
        table = tables[name]
        if not isinstance(table, pd.DataFrame):
            problems.append(f"{name} is not a table (pandas DataFrame) but {type(table).__name__}")
            continue
        # Positions are the row numbers of messages; the caller's index is not ours to trust.
        frame = table.copy(deep=False)  # a new index, the same data: no copy of 10M rows
        frame.index = pd.RangeIndex(len(table))
        frames[name] = frame
        usable[name] = _check_columns(name, frame, problems, texts)
        _check_values(name, frame, usable[name], problems, reported, texts)
    problems.extend(check_rules(frames, usable, window, min_age=min_age, text=texts, found=found))
    return problems


def resolve_min_age(explicit: object, meta: Mapping[str, object]) -> tuple[int, list[str]]:
    """The age of criminal responsibility to validate with, and any problem with it.

    An explicit ``min_age`` wins; else ``meta.json``'s ``min_age``; else Sweden's 15.
    """
    value, where = (explicit, "min_age") if explicit is not None else (None, "")
    if value is None and meta.get("min_age") is not None:
        value, where = meta["min_age"], "meta.json min_age"
    if value is None:
        return MIN_AGE, []
    if isinstance(value, int | float) and not isinstance(value, bool):
        if np.isfinite(value) and float(value) == int(value) and int(value) >= 0:
            return int(value), []
    return MIN_AGE, [
        f"{where} is not a whole number of years >= 0 (the age of criminal responsibility): "
        f"{value!r}"
    ]


def _check_window(
    study_start: object, study_end: object, problems: list[str]
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    bounds: list[pd.Timestamp] = []
    for key, value in (("study_start", study_start), ("study_end", study_end)):
        if value is None:
            continue  # reading reported the missing key
        if not isinstance(value, pd.Timestamp) or pd.isna(value) or value.tz is not None:
            problems.append(f"meta.{key} is not a date (pandas Timestamp without time zone)")
            continue
        bounds.append(value)
    if len(bounds) != 2:
        return None
    start, end = bounds
    if end <= start:
        problems.append(f"meta.study_end ({end.date()}) is not after study_start ({start.date()})")
        return None
    return start, end


def _check_columns(
    name: str, frame: pd.DataFrame, problems: list[str], text: TextColumns
) -> set[str]:
    """Report missing, doubled and mistyped known columns; return the usable ones."""
    usable: set[str] = set()
    doubled = frame.columns[frame.columns.duplicated()]
    for column in dict.fromkeys(doubled):
        problems.append(f"{name} has the column {column} more than once")
    for col in SPECS[name]:
        if col.name not in frame.columns:
            if col.required:
                problems.append(f"{name} is missing the required column {col.name}: {col.meaning}")
            continue
        if col.name in doubled:
            continue
        if text.as_read(name, col.name) or _check_type(name, frame, col, problems):
            usable.add(col.name)
    return usable


def _check_type(name: str, frame: pd.DataFrame, col: ColumnSpec, problems: list[str]) -> bool:
    series = frame[col.name]
    where = f"{name}.{col.name}"
    if col.kind == "date":
        if is_date_dtype(series):
            return True
        problems.append(f"{where} has type {series.dtype}; expected dates ({DATE_DTYPE})")
        return False
    what = "ids such as P000001" if col.kind == "id" else "categories as text"
    if isinstance(series.dtype, pd.CategoricalDtype):
        values = pd.Series(series.cat.categories)
    elif is_string_dtype(series.dtype) and series.dtype != object:
        return True  # pandas' own string dtype holds text only
    elif series.dtype == object:
        values = series
    else:
        problems.append(f"{where} has type {series.dtype}; expected text ({what})")
        return False
    if infer_dtype(values, skipna=True) in ("string", "empty"):
        return True
    if values is not series:
        problems.append(f"{where} has categories that are not text; expected text ({what})")
        return False
    bad = np.array([not (isinstance(v, str) or _is_missing(v)) for v in series], dtype=bool)
    problems.append(
        f"{where} holds values that are not text in {rows_word(int(bad.sum()))} "
        f"{describe_rows(frame, bad, _label(name, col.name))}; expected text ({what})"
    )
    return False


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _label(name: str, column: str) -> str | None:
    """The column naming rows in messages, unless that is the column at fault."""
    label = ROW_LABEL[name]
    return None if label == column else label


def _check_values(
    name: str,
    frame: pd.DataFrame,
    usable: set[str],
    problems: list[str],
    reported: Reported,
    text: TextColumns,
) -> None:
    """Emptiness, categories and unique keys of the usable columns, via pandera.

    The pandera schema is the rule; the columns that pass a quick screen of its checks
    (:func:`_passes`, Arrow over the bytes of text columns) cannot fail them and are left
    out, so pandera runs only on the columns that fail somewhere and says where.
    """
    schema = value_schema(name, frozenset(usable))
    failing = [c for c in schema.columns if not _passes(schema.columns[c], frame, name, text)]
    if not failing:
        return
    schema = value_schema(name, frozenset(failing))
    try:
        # inplace: nothing is coerced, so pandera need not copy the table first.
        schema.validate(frame, lazy=True, inplace=True)
        return
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    label_ok = ROW_LABEL[name] in usable
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        positions = pd.to_numeric(group["index"], errors="coerce").dropna().astype(np.int64)
        mask = np.zeros(len(frame), dtype=bool)
        mask[positions.to_numpy()] = True
        label = _label(name, column) if label_ok else None
        where = f"{name}.{column}"
        if check == "not_nullable":
            already = reported.get((name, column))
            if already is not None:
                mask &= ~already
            if mask.any():
                problems.append(
                    f"{where} is empty in {rows_word(int(mask.sum()))} "
                    f"{describe_rows(frame, mask, label)}"
                )
        elif check == "field_uniqueness":
            values = frame[column]
            repeats = mask & values.duplicated(keep="first").to_numpy()
            what = "a person leaves the population once" if name == "exits" else "a key"
            n_ids = int(values[mask].nunique())
            ids = f"{n_ids} id occurs" if n_ids == 1 else f"{n_ids} ids occur"
            problems.append(
                f"{where} is duplicated ({what}): {ids} more than once, in "
                f"{rows_word(int(mask.sum()))} "
                f"{describe_rows(frame, repeats, ROW_LABEL[name] if label_ok else None)}"
            )
        elif str(check).startswith("isin"):
            allowed = ", ".join(next(c for c in SPECS[name] if c.name == column).categories)
            problems.append(
                f"{where} has an unknown category in {rows_word(int(mask.sum()))} "
                f"{describe_rows(frame, mask, label)}: {show_values(frame[column][mask])}; "
                f"allowed: {allowed}"
            )
        else:  # a pandera check this module does not declare; say what pandera said
            problems.append(f"{where} fails the check {check} in {rows_word(int(mask.sum()))}")


def _passes(column: pa.Column, frame: pd.DataFrame, name: str, text: TextColumns) -> bool:
    """True when the column passes every check pandera's ``column`` would run on it.

    Exact for the checks the schema declares (emptiness, unique key, categories); a check
    this screen does not know counts as failed, so pandera runs it. Text columns are
    tested in Arrow (:mod:`evaluation.registers._text`), others with pandas.
    """
    series = frame[column.name]
    values = text.get(name, column.name)
    if not column.nullable:
        if series.hasnans if values is None else values.null_count > 0:
            return False
    if column.unique:
        if not (series.is_unique if values is None else arrow_is_unique(values)):
            return False
    for check in column.checks:
        if check.name != "isin":
            return False
        allowed = check.statistics["allowed_values"]
        if values is not None:
            if not arrow_all_in(values, allowed):
                return False
        elif not (series.isin(allowed) | series.isna()).all():
            return False
    return True
