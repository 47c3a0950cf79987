"""Reading one CSV file of the registers as an Arrow table of text, naming what is wrong.

A file that cannot be read as a table is reported in words, never as a library's
traceback: an unreadable file, a header line that is not one line of column names, a
separator that looks like ``;`` (Swedish Excel's CSV) or a tab, rows with too few or too
many fields (by row number), and a quote that is never closed (Arrow would read the rest of
the file as one value). Row numbers count data rows from 1, the header not included, as in
validation. The content of a row is never repeated: it may hold personal identity numbers.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from evaluation.registers._messages import rows_word
from evaluation.registers._pnr import hide_numbers

__all__ = ["hide_message", "read_csv_table", "reason"]

#: Longest first line read as the header of a CSV file (characters).
_HEADER_LIMIT = 1_000_000
#: Separators that are not commas, as Swedish Excel (;) and other programs (tab) write CSV.
_OTHER_SEPARATORS: tuple[tuple[str, str], ...] = ((";", "';'"), ("\t", "a tab"))


def reason(err: OSError | pa.ArrowException) -> str:
    """Why a file or folder could not be opened, in words (never a library's traceback)."""
    if isinstance(err, PermissionError):
        return "permission denied (ask for read access)"
    if isinstance(err, IsADirectoryError):
        return "it is a folder, not a file"
    return hide_message(getattr(err, "strerror", None) or str(err))


def hide_message(message: str) -> str:
    """The first line of a library message, shortened, with number-like ids hidden."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    # pyarrow quotes the offending CSV line after the column counts; it may hold ids.
    first = re.sub(r"(Expected \d+ columns, got \d+).*", r"\1", first)
    return hide_numbers(first)[:200]


def read_csv_table(file: Path, problems: list[str]) -> pa.Table | None:
    """Every column of a CSV file as text, or None with the problems recorded."""
    try:
        header = _header(file, problems)
    except OSError as err:
        problems.append(f"{file.name} cannot be read: {reason(err)}")
        return None
    except (UnicodeDecodeError, pa.ArrowException) as err:
        problems.append(f"{file.name} could not be read: {hide_message(str(err))}")
        return None
    if header is None:
        return None
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        table, invalid = _parse_csv(file, convert, threads=True)
        if any(row[0] is None for row in invalid):
            # Arrow numbers the rows only when one thread reads the file.
            table, invalid = _parse_csv(file, convert, threads=False)
        unclosed = _unclosed_quote_row(file, table, invalid)
    except OSError as err:
        problems.append(f"{file.name} cannot be read: {reason(err)}")
        return None
    except pa.ArrowException as err:
        problems.append(f"{file.name} could not be read as CSV: {hide_message(str(err))}")
        return None
    if unclosed is not None:
        problems.append(
            f'{file.name} has a quote (") that is never closed, in row {unclosed}: everything '
            "after it, to the end of the file, is read as one value; close the quote or "
            "remove it"
        )
        invalid = [row for row in invalid if row[0] != unclosed + 1]
    if invalid:
        rows = sorted(invalid, key=lambda row: row[0] or 0)
        listed = ", ".join(f"row {(n or 1) - 1}: {got} fields" for n, _, got, _ in rows[:5])
        more = ", ..." if len(rows) > 5 else ""
        problems.append(
            f"{file.name} has rows with too few or too many fields (the header has "
            f"{rows[0][1]} columns) in {rows_word(len(rows))} ({listed}{more})"
        )
    if unclosed is not None or invalid:
        return None
    return table


def _header(file: Path, problems: list[str]) -> list[str] | None:
    """The column names of a CSV file's first line, or None with the problem recorded."""
    with file.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline(_HEADER_LIMIT + 1)
    if len(first) > _HEADER_LIMIT:
        problems.append(
            f"{file.name}: the first line is longer than {_HEADER_LIMIT:,} characters; it "
            "must be the header, one line of column names (person_id,...)"
        )
        return None
    first = first.rstrip("\r\n")
    if not first:
        problems.append(f"{file.name} is empty (it has no header line)")
        return None
    if first.count('"') % 2:
        problems.append(
            f'{file.name}: the header line has a quote (") that is never closed; it must be '
            "one line of column names (person_id,...)"
        )
        return None
    try:
        header = next(csv.reader([first]))
    except csv.Error as err:
        why = hide_message(str(err))
        if "field limit" in why:
            why = f"a column name is longer than {csv.field_size_limit():,} characters"
        problems.append(
            f"{file.name}: the header line could not be read as column names ({why}); it "
            "must be one line of column names (person_id,...)"
        )
        return None
    for separator, shown in _OTHER_SEPARATORS:
        fields = next(csv.reader([first], delimiter=separator))
        if len(fields) > len(header):
            problems.append(
                f"{file.name}: the separator looks like {shown}, not ',': the header line has "
                f"{len(fields)} fields separated by {shown} but {len(header)} by ','. "
                "The registers are read as comma-separated files; save the file as CSV with "
                "',' as the separator (Swedish Excel uses ';' unless told otherwise)"
            )
            return None
    doubled = sorted({c for c in header if header.count(c) > 1})
    if doubled:
        problems.append(f"{file.name} has the column(s) {', '.join(doubled)} more than once")
        return None
    return header


# (row number counted by Arrow with the header as 1 or None, expected and actual number of
# fields, the row's raw text when it spans lines: only to find an unclosed quote, never shown)
_InvalidRow = tuple[int | None, int, int, str | None]


def _parse_csv(
    file: Path, convert: pcsv.ConvertOptions, *, threads: bool
) -> tuple[pa.Table, list[_InvalidRow]]:
    """Read a CSV file with Arrow, collecting the rows whose number of fields is wrong."""
    invalid: list[_InvalidRow] = []

    def collect(row: pcsv.InvalidRow) -> str:
        # The row's text may hold personal identity numbers: only its shape is kept.
        text = row.text if "\n" in row.text else None
        invalid.append((row.number, row.expected_columns, row.actual_columns, text))
        return "skip"

    # Quoted values may hold line ends (free-text covariates); the writer quotes them.
    parse = pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=collect)
    read = pcsv.ReadOptions(use_threads=threads)
    table = pcsv.read_csv(file, read_options=read, parse_options=parse, convert_options=convert)
    return table, invalid


def _unclosed_quote_row(file: Path, table: pa.Table, invalid: list[_InvalidRow]) -> int | None:
    """The data row holding a quote that is never closed, or None.

    Arrow reads from an unclosed quote to the end of the file as one value, the last of the
    last record: a value that spans lines and with which the file ends, in a file with an
    odd number of quotes. All three are needed: a quoted value may span lines on purpose
    (the file then ends with its closing quote), and a quote inside an unquoted value is
    only a character.
    """
    rows = table.num_rows + len(invalid)
    last_invalid = max((row for row in invalid if row[0] is not None), default=None)
    if last_invalid is not None and last_invalid[0] == rows + 1:
        raw = last_invalid[3]  # the row as written
    elif table.num_rows:
        value = table.column(table.num_columns - 1)[table.num_rows - 1].as_py()
        raw = value.replace('"', '""') if value and "\n" in value else None
    else:
        raw = None
    if raw is None or not _ends_with(file, raw) or not _odd_quotes(file):
        return None
    return rows


def _ends_with(file: Path, text: str) -> bool:
    """True when the file ends with the text (line ends at the very end not counted)."""
    tail = text.rstrip("\r\n").encode("utf-8")
    with file.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - len(tail) - 2))
        return handle.read().rstrip(b"\r\n").endswith(tail)


def _odd_quotes(file: Path) -> bool:
    count = 0
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            count += chunk.count(b'"')
    return count % 2 == 1
