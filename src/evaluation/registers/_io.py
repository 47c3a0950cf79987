"""Reading and writing the register folder: five tables (CSV or Parquet) and meta.json.

Reading never coerces silently and never drops a row. CSV files are read with every column
as text; known columns are then parsed by their kind (ISO dates, text ids and categories) and
every value that does not parse is reported with its table, column and rows. Parquet files
keep their types; a mistyped column is reported by validation. Unknown columns are kept as
they are (as text when read from CSV).

A file or folder that cannot be read is reported in words, never as a library's traceback:
no access, a folder where a file is expected, the problems of CSV files that
``_csv_read`` names (separator, header, fields per row, unclosed quotes), and Parquet dates
that pandas cannot hold (by row).

Writing is byte-reproducible: rows and columns in the tables' own order, dates as
``YYYY-MM-DD`` with empty cells for missing values, ``\\n`` line ends, UTF-8, and
``meta.json`` with sorted keys.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from evaluation.registers._csv_read import read_csv_table, reason
from evaluation.registers._messages import describe_rows, rows_word, show_values
from evaluation.registers._pnr import hide_numbers
from evaluation.registers._schema import ROW_LABEL, TABLES, known_columns, spec

Format = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "parquet")
_ISO = "%Y-%m-%d"


@dataclass
class ReadResult:
    """What reading a folder gave: the tables it could read, the window and the problems."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    study_start: pd.Timestamp | None = None
    study_end: pd.Timestamp | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: rows whose values did not parse, by (table, column); validation does not repeat them
    reported: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    #: keep the Arrow strings of text columns in ``text`` (for validation, which would
    #: otherwise convert the Python strings back to Arrow)
    keep_text: bool = False
    #: the Arrow strings each text column was made from, by (table, column)
    text: dict[tuple[str, str], pa.Array] = field(default_factory=dict)
    #: ``persons.person_id`` as read (Arrow strings) and as converted (``str`` objects):
    #: the other tables' ids share these objects (:func:`_shared_objects`)
    person_ids: tuple[pa.Array, np.ndarray] | None = None
    #: person codes (positions in ``persons``) of the other tables' ``person_id``, where
    #: every id was found and the persons' ids are unique (see ``registers._codes``)
    codes: dict[str, np.ndarray] = field(default_factory=dict)
    #: text columns left as Arrow strings (pandas ``ArrowDtype``) rather than ``str``
    #: objects, for work that never reads them (a cohort does not read offence ids)
    as_arrow: frozenset[tuple[str, str]] = frozenset()


def folder_problem(folder: Path) -> str | None:
    """Why a register folder cannot be read (missing, not a folder, no access), or None."""
    try:
        with os.scandir(folder):
            pass
    except (FileNotFoundError, NotADirectoryError):
        return f"the register folder {folder} does not exist or is not a folder"
    except OSError as err:
        return f"the register folder {folder} cannot be read: {reason(err)}"
    return None


def read_folder(folder: Path, *, keep_text: bool = False) -> ReadResult:
    """Read every table and meta.json of a register folder, collecting every problem.

    With ``keep_text``, the Arrow strings of the text columns are kept for validation.
    """
    result = ReadResult(keep_text=keep_text)
    _read_meta(folder, result)
    for name in TABLES:
        file = _find(folder, name, result.problems)
        if file is None:
            continue
        table = _read_arrow(file, result.problems, name)
        if table is not None:
            result.tables[name] = _to_frame(name, file, table, result)
    return result


def _read_meta(folder: Path, result: ReadResult) -> None:
    file = folder / "meta.json"
    try:
        content = file.read_bytes()
    except FileNotFoundError:
        result.problems.append(
            f"meta.json is missing in {folder} (it holds study_start and study_end)"
        )
        return
    except OSError as err:
        result.problems.append(f"meta.json in {folder} cannot be read: {reason(err)}")
        return
    try:
        meta = json.loads(content.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        result.problems.append(f"meta.json is not valid JSON: {hide_numbers(str(err))}")
        return
    if not isinstance(meta, dict):
        result.problems.append("meta.json is not a JSON object with study_start and study_end")
        return
    for key in ("study_start", "study_end"):
        value = meta.pop(key, None)
        if value is None:
            result.problems.append(f"meta.json has no {key} (an ISO date, YYYY-MM-DD)")
            continue
        date = _parse_meta_date(value)
        if date is None:
            result.problems.append(f"meta.json {key} is not an ISO date (YYYY-MM-DD): {value!r}")
            continue
        setattr(result, key, date)
    result.meta = meta


def _parse_meta_date(value: object) -> pd.Timestamp | None:
    if not isinstance(value, str):
        return None
    parsed = pd.to_datetime(pd.Series([value]), format=_ISO, errors="coerce").iloc[0]
    if pd.isna(parsed) or parsed.strftime(_ISO) != value:
        return None
    return pd.Timestamp(parsed)


def _present(path: Path) -> bool:
    """True when something is at the path (a file, a folder, or a file that cannot be read)."""
    try:
        return path.exists()
    except OSError:  # for example no access to look: reading it will say why
        return True


def _find(folder: Path, name: str, problems: list[str]) -> Path | None:
    # A folder counts: a partitioned Parquet table is a folder of files. A folder named
    # like a CSV file is reported when it is opened.
    found = [folder / f"{name}.{fmt}" for fmt in FORMATS if _present(folder / f"{name}.{fmt}")]
    if not found:
        problems.append(f"{name}: there is no {name}.csv or {name}.parquet in {folder}")
        return None
    if len(found) > 1:
        problems.append(
            f"{name}: both {name}.csv and {name}.parquet are in {folder}; keep only one"
        )
        return None
    return found[0]


def _read_arrow(file: Path, problems: list[str], table: str | None = None) -> pa.Table | None:
    """A table file as Arrow; the problem recorded when it cannot be read.

    Parquet's text columns of few values (the schema's categories of ``table``) are read as
    dictionaries: their values are then decoded once per distinct value, not once per row
    (reading the offences of a part of the 1M registers: 0.21 -> 0.06-0.11 s).
    """
    if file.suffix == ".csv":
        return read_csv_table(file, problems)
    few = [c for c in known_columns(table) if _is_category(table, c)] if table else []
    try:
        return pq.read_table(file, read_dictionary=few or None)
    except (OSError, pa.ArrowException) as err:
        problems.append(f"{file.name} cannot be read: {reason(err)}")
        return None


def _to_frame(name: str, file: Path, table: pa.Table, result: ReadResult) -> pd.DataFrame:
    """Convert an Arrow table column by column; record the values that do not parse."""
    from_csv = file.suffix == ".csv"
    columns: dict[str, pd.Series] = {}
    unparsed: dict[str, tuple[np.ndarray, pd.Series, str]] = {}
    unknown = [c for c in table.column_names if spec(name, c) is None and not from_csv]
    # Parquet keeps pandas' metadata; converting unknown columns together restores their dtypes.
    extra = table.select(unknown).to_pandas() if unknown else pd.DataFrame()
    for column in table.column_names:
        col = spec(name, column)
        array = table.column(column).combine_chunks()
        if col is None:
            if from_csv:
                text = _keep(result, name, column, _text(array))
                columns[column] = _objects(text)
            else:
                columns[column] = extra[column].reset_index(drop=True)
        elif col.kind == "date":
            series, bad, what = _dates(array)
            columns[column] = series
            if bad is not None and bad.any():
                # As text: Arrow writes any date, pandas cannot hold the ones out of range.
                shown = pc.cast(array.filter(pa.array(bad)), pa.string())
                unparsed[column] = (bad, pd.Series(shown.to_pylist(), dtype=object), what)
        elif (name, column) in result.as_arrow and not from_csv:
            columns[column] = pd.Series(pd.arrays.ArrowExtensionArray(array))
        elif pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            text = _keep(result, name, column, _text(array) if from_csv else array)
            if column == "person_id" and name != "persons" and result.person_ids is not None:
                columns[column], codes = _shared_objects(text, *result.person_ids)
                if codes is not None:
                    result.codes[name] = codes
            else:
                columns[column] = _objects(text, few=col.kind == "category")
            if column == "person_id" and name == "persons" and not text.null_count:
                objects = columns[column].to_numpy()
                if pc.count_distinct(text).as_py() == len(text):
                    result.person_ids = (text, objects)
        elif pa.types.is_dictionary(array.type) and pa.types.is_string(array.type.value_type):
            if result.keep_text:
                _keep(result, name, column, pc.cast(array, pa.string()))
            columns[column] = _dictionary_objects(array)
        else:
            columns[column] = _plain(array)  # validation reports the type
    # copy=False: the columns stay blocks of their own; consolidating them into one 2-D
    # block per dtype would copy every column once more (a third of reading on 10M rows).
    frame = pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows), copy=False)
    label = ROW_LABEL[name]
    for column, (bad, values, what) in unparsed.items():
        result.reported[(name, column)] = bad
        result.problems.append(
            f"{name}.{column} has {what} in {rows_word(int(bad.sum()))} "
            f"{describe_rows(frame, bad, None if label == column else label)}: "
            f"{show_values(values)}{_DATE_ADVICE[what]}"
        )
    return frame


def _keep(result: ReadResult, name: str, column: str, text: pa.Array) -> pa.Array:
    """Remember the Arrow strings of a text column when validation will want them."""
    if result.keep_text:
        result.text[(name, column)] = text
    return text


def _plain(array: pa.Array) -> pd.Series:
    return pd.Series(array.to_pandas())


def _text(array: pa.Array) -> pa.Array:
    """A CSV text column: an empty cell is a missing value, anything else stays as written."""
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _objects(array: pa.Array, *, few: bool = False) -> pd.Series:
    """Text as an object Series of ``str`` with ``None`` for missing values.

    Arrow's ``to_pandas`` hashes every value to share equal strings, which costs more than
    the conversion itself on 10 million ids; ids are converted directly, and columns with
    few distinct values (categories) through a dictionary, so they share their strings.
    """
    if not few:
        return pd.Series(array.to_numpy(zero_copy_only=False), dtype=object)
    # Codes into the distinct values (one str object each), the last one standing for a
    # missing value: a gather, where a Categorical's astype(object) took five times longer.
    encoded = pc.dictionary_encode(array)
    values = np.asarray([*encoded.dictionary.to_pylist(), None], dtype=object)
    codes = pc.fill_null(encoded.indices, len(values) - 1).to_numpy(zero_copy_only=False)
    return pd.Series(values[codes], dtype=object)


def _is_category(table: str, column: str) -> bool:
    col = spec(table, column)
    return col is not None and col.kind == "category"


def _dictionary_objects(array: pa.DictionaryArray) -> pd.Series:
    """Dictionary-encoded text as ``_objects`` gives it: one ``str`` per distinct value."""
    values = np.asarray([*array.dictionary.to_pylist(), None], dtype=object)
    codes = pc.fill_null(array.indices, len(values) - 1).to_numpy(zero_copy_only=False)
    return pd.Series(values[codes], dtype=object)


#: Up to this many rows in no runs of a person, ids are still looked up and shared; above
#: it a gather of the persons' objects at random costs more than making new strings.
_GATHER_AT_RANDOM = 2**20


def _shared_objects(
    array: pa.Array, known: pa.Array, objects: np.ndarray
) -> tuple[pd.Series, np.ndarray | None]:
    """Text as ``_objects`` gives it, sharing the ``str`` objects of ``known`` where equal.

    ``known`` are the persons' ids (unique, none missing) and ``objects`` their ``str``
    objects. When a table lists each person's rows together, its ids are the persons' ids
    again in runs (870,000 offences of 125,000 persons in a part of the 1M registers): a
    look-up in Arrow's hash table of the first id of each run and a gather of the persons'
    objects replace making a new string per row, and use a seventh of the memory. Values
    not among ``known`` (errors validation reports) are converted one by one. Also returns
    the positions found (the person codes), or None when some value was not found or a
    large table's rows are in no order of person (then gathering objects at random costs
    more than new strings: 10M offences of 1M persons, 7.2 against 4.2 s to read).
    """
    n = len(array)
    if known.type != array.type:
        return _objects(array), None
    # A sample of the first rows tells whether the rows come in runs of a person.
    runs = _run_starts(array.slice(0, 4096)).size <= min(n, 4096) // 2
    starts = _run_starts(array) if runs else None
    if starts is not None and len(starts) <= n // 2:
        heads = array.take(pa.array(starts))
        at = pc.fill_null(pc.index_in(heads, value_set=known), -1).to_numpy(zero_copy_only=False)
        at = np.repeat(at.astype(np.int64), np.diff(np.append(starts, n)))
    elif n <= _GATHER_AT_RANDOM:
        at = pc.fill_null(pc.index_in(array, value_set=known), -1).to_numpy(zero_copy_only=False)
        at = at.astype(np.int64)
    else:
        return _objects(array), None
    values = objects[np.maximum(at, 0)] if len(objects) else np.full(n, None, dtype=object)
    unknown = np.flatnonzero(at < 0)
    if len(unknown):
        values[unknown] = array.take(pa.array(unknown)).to_numpy(zero_copy_only=False)
        return pd.Series(values, dtype=object), None
    return pd.Series(values, dtype=object), at


def _run_starts(array: pa.Array) -> np.ndarray:
    """Positions where a run of equal values starts (a missing value is a run of its own)."""
    n = len(array)
    head = np.ones(n, dtype=bool)
    if n > 1:
        change = pc.fill_null(pc.not_equal(array.slice(1), array.slice(0, n - 1)), True)
        head[1:] = change.to_numpy(zero_copy_only=False)
    return np.flatnonzero(head)


def _dates(array: pa.Array) -> tuple[pd.Series, np.ndarray | None, str]:
    """Parse a date column: the dates, the mask of values that are not dates, and what they are.

    Text must be ISO dates; Arrow dates and timestamps must lie in the years pandas can hold
    (1677-2262): the rows outside are reported, the others are kept.
    """
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.cast(array, pa.string())
        parsed = pc.strptime(text, format=_ISO, unit="ns", error_is_null=True)
        exact = _exact_iso(text, parsed)
        written = pc.fill_null(pc.not_equal(text, ""), False)
        bad = np.asarray(pc.and_(written, pc.invert(exact)).to_numpy(zero_copy_only=False))
        clean = pc.if_else(exact, parsed, pa.scalar(None, pa.timestamp("ns")))
        return pd.Series(clean.to_pandas(), dtype="datetime64[ns]"), bad, _UNPARSEABLE
    if pa.types.is_null(kind):
        empty = pd.Series(pd.NaT, index=range(len(array)), dtype="datetime64[ns]")
        return empty, None, ""
    if pa.types.is_date(kind) or (pa.types.is_timestamp(kind) and kind.tz is None):
        outside = _outside_pandas(array)
        if outside.any():
            array = pc.if_else(pa.array(outside), pa.scalar(None, kind), array)
        cast = pc.cast(array, pa.timestamp("ns"))
        return pd.Series(cast.to_pandas(), dtype="datetime64[ns]"), outside, _OUT_OF_RANGE
    return _plain(array), None, ""  # validation reports the type


_UNPARSEABLE = "unparseable dates"
_OUT_OF_RANGE = "dates outside the years 1677-2262 that pandas can hold"
_DATE_ADVICE = {
    _UNPARSEABLE: "; expected ISO dates (YYYY-MM-DD) between 1677 and 2262",
    _OUT_OF_RANGE: "",
}

# Nanoseconds per unit of Arrow's date and timestamp types.
_NS_PER = {"date32": 86_400 * 10**9, "date64": 10**6, "s": 10**9, "ms": 10**6, "us": 10**3}


def _outside_pandas(array: pa.Array) -> np.ndarray:
    """Rows of a date or timestamp array that pandas' nanosecond dates cannot hold."""
    kind = array.type
    if pa.types.is_date32(kind):
        per, ints = _NS_PER["date32"], pc.cast(array.view(pa.int32()), pa.int64())
    elif pa.types.is_date64(kind):
        per, ints = _NS_PER["date64"], array.view(pa.int64())
    else:
        per, ints = _NS_PER.get(kind.unit, 1), array.view(pa.int64())
    lowest = -(-pd.Timestamp.min.value // per)  # ceiling: the first whole unit in range
    highest = pd.Timestamp.max.value // per
    outside = pc.or_(pc.less(ints, lowest), pc.greater(ints, highest))
    return np.asarray(pc.fill_null(outside, False).to_numpy(zero_copy_only=False), dtype=bool)


def _exact_iso(text: pa.Array, parsed: pa.Array) -> pa.Array:
    """True where the text is exactly the ISO form of the parsed date.

    strptime accepts '2015-1-1' and rolls '2015-02-30' over to March; requiring ten
    characters whose year, month and day digits equal the parsed date's rejects both.
    (Comparing with strftime does the same but is twenty times slower.)
    """
    ok = pc.and_(pc.is_valid(parsed), pc.fill_null(pc.equal(pc.utf8_length(text), 10), False))
    parts = [(0, 4, pc.year), (5, 7, pc.month), (8, 10, pc.day)]
    slices = [pc.utf8_slice_codeunits(text, start, stop) for start, stop, _ in parts]
    for piece in slices:
        ok = pc.and_(ok, pc.fill_null(pc.utf8_is_digit(piece), False))
    for piece, (_, _, field_of) in zip(slices, parts, strict=True):
        digits = pc.cast(pc.if_else(ok, piece, "0"), pa.int64())
        ok = pc.and_(ok, pc.fill_null(pc.equal(digits, field_of(parsed)), False))
    return ok


def write_folder(
    tables: dict[str, pd.DataFrame],
    study_start: pd.Timestamp,
    study_end: pd.Timestamp,
    meta: dict[str, Any],
    folder: Path,
    fmt: str,
) -> None:
    """Write the tables and meta.json; remove the same tables in the other format."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be 'csv' or 'parquet', not {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = _to_arrow(tables[name])
        file = folder / f"{name}.{fmt}"
        if fmt == "csv":
            _write_csv(table, file)
        else:
            pq.write_table(table, file)
        # A stale copy in the other format would make the folder ambiguous to read.
        other = folder / f"{name}.{'parquet' if fmt == 'csv' else 'csv'}"
        other.unlink(missing_ok=True)
    content = {
        "study_start": study_start.strftime(_ISO),
        "study_end": study_end.strftime(_ISO),
        **meta,
    }
    (folder / "meta.json").write_text(
        json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


def _write_csv(table: pa.Table, file: Path) -> None:
    """Unquoted CSV; quoted text only when a value holds a comma, quote or line end.

    Arrow's "needed" style quotes every text value; plain cells are easier to read and
    to diff, so quoting is used only when the data need it (still deterministic).
    """
    try:
        options = pcsv.WriteOptions(quoting_style="none", quoting_header="none")
        pcsv.write_csv(table, file, write_options=options)
    except pa.ArrowInvalid:
        options = pcsv.WriteOptions(quoting_style="needed", quoting_header="none")
        pcsv.write_csv(table, file, write_options=options)


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """An Arrow table of a register table; dates become date32 when they are whole days."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, column in enumerate(frame.columns):
        series = frame.iloc[:, i]
        if not pd.api.types.is_datetime64_dtype(series.dtype):
            continue
        try:
            days = pc.cast(table.column(i), pa.date32())  # raises if a time of day would be lost
        except pa.ArrowInvalid:
            continue
        table = table.set_column(i, pa.field(str(column), pa.date32()), days)
    return table
