"""Reading (and writing back) the source tables of an extract, in the formats they arrive in.

SAS (``.sas7bdat``, with the value labels of a format catalogue ``.sas7bcat`` when one is
given; ``.xpt`` transport files), Stata (``.dta``) and SPSS (``.sav``, ``.zsav``) files are
read with pyreadstat, keeping their value labels; Excel (``.xlsx``) with openpyxl through
pandas; CSV as text only (every cell as written, an empty cell is missing); Parquet with
pyarrow. Values are kept as the file holds them (numbers, text, dates): the mapping's rules
decide how each becomes a register value. A file that cannot be read is reported in words
(its own name and why), never with its content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import ExtractError
from evaluation.registers._csv_read import hide_message

__all__ = [
    "SUFFIXES",
    "SourceTable",
    "code_text",
    "find_file",
    "missing",
    "read_source",
    "text_of",
    "read_sheets",
    "write_source",
]

#: The file types an extract may hold.
SUFFIXES: tuple[str, ...] = (
    ".sas7bdat",
    ".xpt",
    ".dta",
    ".sav",
    ".zsav",
    ".xlsx",
    ".csv",
    ".parquet",
)
_STATISTICAL = (".sas7bdat", ".xpt", ".dta", ".sav", ".zsav")


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceTable:
    """One table of an extract: its rows as read, and the value labels of its columns.

    ``labels`` maps a column to its value labels as the file stores them (code -> label);
    only SAS (with a catalogue), Stata and SPSS files have them.
    """

    path: Path
    frame: pd.DataFrame
    labels: dict[str, dict[Any, str]] = field(default_factory=dict)

    def label_text(self, column: str) -> dict[str, str]:
        """The value labels of one column, keyed by the code's text (see :func:`code_text`)."""
        raw = self.labels.get(column, {})
        keys = code_text(pd.Series(list(raw), dtype=object))
        return {k: v for k, v in zip(keys, raw.values(), strict=True) if k is not None}


def find_file(folder: Path, file: str) -> Path:
    """The source file named in a mapping: by its full name, or by its name without suffix.

    Raises
    ------
    ExtractError
        When there is no such file, or several files of that name in different formats.
    """
    exact = folder / file
    if Path(file).suffix.lower() in SUFFIXES:
        if not exact.is_file():
            raise ExtractError(f"the source file {file} is not in {folder}")
        return exact
    found = sorted(p for p in folder.glob(f"{file}.*") if p.suffix.lower() in SUFFIXES)
    if not found:
        kinds = ", ".join(SUFFIXES)
        raise ExtractError(f"there is no source file {file} ({kinds}) in {folder}")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ExtractError(f"the source {file} is ambiguous in {folder}: {names}; keep one")
    return found[0]


def read_source(
    path: Path,
    *,
    sheet: str | None = None,
    catalog: Path | None = None,
    separator: str = ",",
    encoding: str = "utf-8",
) -> SourceTable:
    """Read one source table (see the module's description for the formats).

    Raises
    ------
    ExtractError
        When the file cannot be read; the message names the file, never its content.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in _STATISTICAL:
            return _read_statistical(path, suffix, catalog)
        if suffix == ".xlsx":
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=object, engine="openpyxl")
        elif suffix == ".csv":
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, sep=separator, encoding=encoding
            )
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            raise ExtractError(f"{path.name}: the file type {suffix} is not one of {SUFFIXES}")
    except ExtractError:
        raise
    except (OSError, ValueError, KeyError, ImportError) as err:
        raise ExtractError(f"the source file {path.name} cannot be read: {_why(err)}") from None
    except Exception as err:  # the readers' own errors (pyarrow, openpyxl, zipfile)
        raise ExtractError(f"the source file {path.name} cannot be read: {_why(err)}") from None
    return SourceTable(path=path, frame=frame.reset_index(drop=True))


def _read_statistical(path: Path, suffix: str, catalog: Path | None) -> SourceTable:
    import pyreadstat

    if suffix == ".sas7bdat":
        frame, meta = pyreadstat.read_sas7bdat(
            path, catalog_file=catalog, formats_as_category=False
        )
    elif suffix == ".xpt":
        frame, meta = pyreadstat.read_xport(path)
    elif suffix == ".dta":
        frame, meta = pyreadstat.read_dta(path)
    else:
        frame, meta = pyreadstat.read_sav(path)
    labels = {k: dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    return SourceTable(path=path, frame=frame, labels=labels)


def read_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet of an Excel file (for pseudonymising a workbook whole)."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except Exception as err:  # openpyxl and zipfile raise their own errors
        raise ExtractError(f"the source file {path.name} cannot be read: {_why(err)}") from None
    return {str(name): frame for name, frame in sheets.items()}


def write_source(
    frames: dict[str, pd.DataFrame] | pd.DataFrame,
    path: Path,
    *,
    labels: dict[str, dict[Any, str]] | None = None,
) -> Path:
    """Write a source table in the format of its suffix (a workbook: one sheet per frame).

    SAS ``.sas7bdat`` cannot be written (pyreadstat reads it only): give ``.xpt``. Value
    labels are written to Stata and SPSS files, for the columns of numbers they label.
    Dates are written as dates where the format has them, as ISO text in CSV.
    """
    import pyreadstat

    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        sheets = frames if isinstance(frames, dict) else {path.stem[:31]: frames}
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, sheet in sheets.items():
                sheet.to_excel(writer, sheet_name=name, index=False)
        return path
    frame = frames if isinstance(frames, pd.DataFrame) else next(iter(frames.values()))
    usable = {
        k: v
        for k, v in (labels or {}).items()
        if k in frame.columns and pd.api.types.is_numeric_dtype(frame[k])
    }
    if suffix == ".dta":
        pyreadstat.write_dta(frame, path, variable_value_labels=usable or None)
    elif suffix in (".sav", ".zsav"):
        pyreadstat.write_sav(
            frame, path, variable_value_labels=usable or None, compress=suffix == ".zsav"
        )
    elif suffix == ".xpt":
        pyreadstat.write_xport(frame, path, table_name=_sas_name(path.stem))
    elif suffix == ".csv":
        text = frame.copy()
        for column in text.columns:
            text[column] = text[column].map(_csv_cell)
        text.to_csv(path, index=False, lineterminator="\n")
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        raise ExtractError(f"{path.name}: cannot write the file type {suffix}")
    return path


def _csv_cell(value: object) -> str:
    if missing_value(value):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = text_of(value)
    return "" if text is None else text


def _sas_name(stem: str) -> str:
    """A SAS member name: letters, digits and _, starting with a letter, at most 32."""
    name = "".join(c if c.isascii() and c.isalnum() else "_" for c in stem)[:32]
    return name if name[:1].isalpha() else f"T{name}"[:32]


def _why(err: BaseException) -> str:
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return hide_message(text)


def missing_value(value: object) -> bool:
    """True for an empty cell: None, NaN, NaT, pandas' NA or text of spaces only."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, str):
        return not value.strip()
    return False


def missing(series: pd.Series) -> np.ndarray:
    """Boolean mask of the empty cells of a column (see :func:`missing_value`)."""
    mask = np.asarray(series.isna(), dtype=bool)
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.map(lambda v: isinstance(v, str) and not v.strip())
        mask = mask | np.asarray(text, dtype=bool)
    return mask


def text_of(value: object) -> str | None:
    """The text of one value as :func:`code_text` gives it."""
    if missing_value(value):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def code_text(series: pd.Series) -> pd.Series:
    """The text of each value, as code lists and ids compare it; None for an empty cell.

    Text is stripped of surrounding spaces; whole numbers lose their decimals (Stata and
    SPSS store codes as floating-point numbers: ``1.0`` is ``"1"``); dates are ISO text.

    Examples
    --------
    >>> code_text(pd.Series([1.0, " 0127 ", None, 2, float("nan"), 2.5], dtype=object)).tolist()
    ['1', '0127', None, '2', None, '2.5']
    """
    result = pd.Series([None] * len(series), index=series.index, dtype=object)
    present = ~missing(series)
    if not present.any():
        return result
    values = series[present]
    distinct = pd.unique(values.to_numpy(dtype=object))
    texts = {v: text_of(v) for v in distinct}
    result[present] = values.map(texts).to_numpy(dtype=object)
    return result
