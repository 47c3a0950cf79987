"""Keyed pseudonyms for personal identity numbers (personnummer and samordningsnummer).

Each number is first normalised: any written form that the registers' own detector knows
(``811218-9876``, ``19811218 9876``, ``8112189876``, full-width digits, a label such as
``PNR``; a whole number in a numeric column, where a leading zero was lost) becomes its 12
digits ``YYYYMMDDNNNC``. A 10-digit number gets its century from a reference date (the
extraction date; today unless given): the latest year with those two digits at which the
person was born on or before the reference date, a hundred years earlier when a ``+``
stands between the digits (the person is 100 or older). The number must form a date (the
day raised by 60 in a coordination number) and end with its Luhn check digit; anything
else is refused by row number, with the reason and never the value, and left empty.

The pseudonym is ``H`` followed by the first 20 hexadecimal digits (80 bits) of
HMAC-SHA-256 of the 12 digits under a secret key: the same number gives the same
pseudonym in every table and every run with the same key, and without the key nobody can
tell which number a pseudonym stands for (the digits of all numbers could otherwise be
tried in seconds: that is why a plain hash is not enough). A pseudonym holds letters, so it
never looks like a personal identity number, and it is a valid ``person_id``.

The key is read from a file or an environment variable, must be at least 16 bytes, and is
never written anywhere: not into outputs, reports, logs or error messages, and a
:class:`Pseudonymiser` neither prints nor pickles it. Nor are the original numbers or any
table of numbers and pseudonyms written. Only a fingerprint of the key (12 hexadecimal
digits of an HMAC of a fixed text) goes into the report, so that runs can be checked to
have used the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import ExtractError
from evaluation.registers._messages import describe_rows
from evaluation.registers._pnr import (
    looks_like_personnummer,
    personnummer_problem,
    split_personnummer,
)
from evaluation.registers.extract.sources import (
    SUFFIXES,
    missing_value,
    read_sheets,
    read_source,
    write_source,
)

__all__ = [
    "MIN_KEY_BYTES",
    "PREFIX",
    "PseudonymResult",
    "Pseudonymiser",
    "pseudonymise_files",
    "read_key",
]

#: Shortest key accepted (bytes): 128 bits.
MIN_KEY_BYTES = 16
#: The letter that starts every pseudonym.
PREFIX = "H"
_HEX = 20
_DOMAIN = b"evaluation pseudonym v1\x00"
REPORT_FILES: tuple[str, str] = ("pseudonymise_report.json", "pseudonymise_report.md")


def read_key(*, key_file: str | Path | None = None, key_env: str | None = None) -> bytes:
    """The secret key, from a file (surrounding white space removed) or an environment variable.

    Raises
    ------
    ExtractError
        When neither or both are given, the file or variable is missing, or the key is
        shorter than :data:`MIN_KEY_BYTES`. The message never holds the key.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = Path(folder, "k.txt").write_text("too-short")
    ...     read_key(key_file=Path(folder, "k.txt"))
    Traceback (most recent call last):
    ...
    evaluation._errors.ExtractError: the key file k.txt holds a key shorter than 16 bytes; ...
    """
    if (key_file is None) == (key_env is None):
        raise ExtractError("give the secret key by exactly one of a key file or a variable")
    if key_file is not None:
        where = f"the key file {Path(key_file).name}"
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as err:
            raise ExtractError(f"{where} cannot be read: {err.strerror or 'error'}") from None
    else:
        assert key_env is not None
        where = f"the environment variable {key_env}"
        value = os.environ.get(key_env)
        if value is None:
            raise ExtractError(f"{where} is not set")
        key = value.strip().encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ExtractError(
            f"{where} holds a key shorter than {MIN_KEY_BYTES} bytes; use a long random key, "
            "for example: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return key


class Pseudonymiser:
    """Turns personal identity numbers into keyed pseudonyms (see the module's description).

    Examples
    --------
    >>> p = Pseudonymiser(b"0123456789abcdef-example-key", reference_date=dt.date(2026, 1, 1))
    >>> a = p.pseudonym_of("811218-9876")
    >>> a == p.pseudonym_of("19811218 9876") == p.pseudonym_of(198112189876), a[:1], len(a)
    (True, 'H', 21)
    >>> p.pseudonym_of("811218-9875")
    Traceback (most recent call last):
    ...
    ValueError: wrong check digit
    >>> p
    Pseudonymiser(key=<hidden>, reference_date=2026-01-01)
    """

    __slots__ = ("_key", "reference_date")

    def __init__(self, key: bytes, *, reference_date: dt.date | None = None) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ExtractError(f"the key is shorter than {MIN_KEY_BYTES} bytes")
        self._key = bytes(key)
        self.reference_date = reference_date or dt.date.today()

    def __repr__(self) -> str:
        return f"Pseudonymiser(key=<hidden>, reference_date={self.reference_date.isoformat()})"

    def __reduce__(self) -> Any:
        raise TypeError("a Pseudonymiser holds a secret key and cannot be pickled")

    @property
    def fingerprint(self) -> str:
        """12 hexadecimal digits that are the same for the same key (and tell nothing of it)."""
        return hmac.new(self._key, b"evaluation key fingerprint", hashlib.sha256).hexdigest()[:12]

    def normalise(self, value: object) -> tuple[str | None, str | None]:
        """The 12 digits of a number and None, or None and why it is refused (None, None: empty)."""
        if missing_value(value):
            return None, None
        if isinstance(value, bool | np.bool_):
            return None, "not text or a whole number"
        if isinstance(value, int | np.integer) or (
            isinstance(value, float | np.floating) and float(value).is_integer()
        ):
            text = str(int(value))
            text = text.zfill(10) if len(text) < 10 else text  # a leading 0 lost in a number
        elif isinstance(value, str):
            text = value
        else:
            return None, "not text or a whole number"
        split = split_personnummer(text)
        if split is None:
            return None, "not written as a personal identity number (10 or 12 digits)"
        digits, plus = split
        problem = personnummer_problem(digits)
        if problem is not None:
            return None, problem
        if len(digits) == 10:
            ref = self.reference_date
            month, day = int(digits[2:4]), int(digits[4:6])
            day = day - 60 if day > 60 else day
            year = ref.year - (ref.year - int(digits[:2])) % 100
            if (year, month, day) > (ref.year, ref.month, ref.day):
                year -= 100
            if plus:
                year -= 100
            digits = f"{year:04d}"[:2] + digits
            problem = personnummer_problem(digits)  # 29 February in that century
            if problem is not None:
                return None, problem
        return digits, None

    def pseudonym(self, digits: str) -> str:
        """The pseudonym of normalised 12 digits."""
        mac = hmac.new(self._key, _DOMAIN + digits.encode("ascii"), hashlib.sha256)
        return PREFIX + mac.hexdigest()[:_HEX]

    def pseudonym_of(self, value: object) -> str:
        """The pseudonym of one number in any form; ValueError (with the reason) if refused."""
        digits, problem = self.normalise(value)
        if digits is None:
            raise ValueError(problem or "empty")
        return self.pseudonym(digits)

    def column(self, values: pd.Series) -> tuple[pd.Series, list[tuple[int, str]]]:
        """Pseudonyms of a column, and the refused rows (from 1) with their reasons."""
        distinct = pd.unique(values.to_numpy(dtype=object))
        done: dict[object, tuple[str | None, str | None]] = {}
        for value in distinct:
            if missing_value(value):
                continue
            digits, problem = self.normalise(value)
            done[value] = (self.pseudonym(digits) if digits else None, problem)
        result = pd.Series([None] * len(values), dtype=object)
        refused: list[tuple[int, str]] = []
        for i, value in enumerate(values.to_numpy(dtype=object)):
            if missing_value(value):
                continue
            pseudonym, problem = done[value]
            result.iat[i] = pseudonym
            if problem is not None:
                refused.append((i + 1, problem))
        return result, refused


@dataclass(frozen=True, slots=True, kw_only=True)
class PseudonymResult:
    """What pseudonymising gave: counts by file and column, refused rows, files not written."""

    columns: pd.DataFrame
    refused: pd.DataFrame
    problems: tuple[str, ...]
    written: tuple[str, ...]
    key_fingerprint: str
    reference_date: dt.date

    def report(self) -> dict[str, Any]:
        """The report as a JSON-ready dictionary (counts, row numbers, reasons; no values)."""
        return {
            "key_fingerprint": self.key_fingerprint,
            "reference_date": self.reference_date.isoformat(),
            "pseudonym": f"{PREFIX} + {_HEX} hexadecimal digits of HMAC-SHA-256 under the key",
            "written": list(self.written),
            "columns": self.columns.to_dict(orient="records"),
            "refused_rows": self.refused.to_dict(orient="records"),
            "problems": list(self.problems),
        }


def _inputs(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise ExtractError(f"there is no file or folder {path}")
    return files


def pseudonymise_files(
    inputs: list[str | Path],
    out: str | Path,
    *,
    pseudonymiser: Pseudonymiser,
    columns: tuple[str, ...] | dict[str, tuple[str, ...]],
) -> PseudonymResult:
    """Pseudonymise the identity columns of source files and write them into ``out``.

    Parameters
    ----------
    inputs
        Source files, or folders whose source files (see
        :data:`~evaluation.registers.extract.sources.SUFFIXES`) are all taken.
    out
        The output folder (not a folder of the inputs: the originals are never replaced).
        Each file is written under its own name and format, except SAS ``.sas7bdat``
        (which cannot be written) as ``.xpt``; Stata and SPSS keep their value labels.
    pseudonymiser
        The :class:`Pseudonymiser` with the secret key.
    columns
        The columns holding personal identity numbers: names for every file, or names by
        file name (a mapping's ``identity``; a file name without suffix matches any).

    Examples
    --------
    >>> import tempfile
    >>> from evaluation.registers._examples import tiny_registers
    >>> from evaluation.synthetic import write_source_extract
    >>> p = Pseudonymiser(b"an example key, not secret", reference_date=dt.date(2025, 12, 31))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     raw = write_source_extract(tiny_registers(), f"{folder}/raw", identity_numbers=True)
    ...     out = f"{folder}/out"
    ...     result = pseudonymise_files([raw], out, pseudonymiser=p, columns=("PersonNr",))
    >>> result.columns[["file", "rows", "pseudonymised", "refused", "persons"]]
                     file  rows  pseudonymised  refused  persons
    0      befolkning.dta     4              4        0        4
    1  kriminalvarden.dta     3              3        0        1
    2     lagforingar.dta     6              6        0        4
    3        program.xlsx     4              4        0        3
    4             sis.dta     1              1        0        1

    Returns
    -------
    PseudonymResult
        A file any of whose columns still holds values that look like personal identity
        numbers after pseudonymising is not written and is named in ``problems`` (with
        the column and row numbers): name that column too.
    """
    folder = Path(out)
    files = _inputs([Path(p) for p in inputs])
    for file in files:
        if file.resolve().parent == folder.resolve():
            raise ExtractError(
                f"the output folder {folder} holds the input {file.name}: write the "
                "pseudonymised files into another folder (the originals are kept)"
            )
    folder.mkdir(parents=True, exist_ok=True)
    counts: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    problems: list[str] = []
    written: list[str] = []
    for file in files:
        wanted = _wanted(file, columns)
        target = folder / (file.stem + ".xpt" if file.suffix.lower() == ".sas7bdat" else file.name)
        if file.suffix.lower() == ".xlsx":
            sheets = read_sheets(file)
            labels: dict[str, dict[Any, str]] = {}
        else:
            source = read_source(file)
            sheets, labels = {"": source.frame}, source.labels
        clean = True
        for sheet, frame in sheets.items():
            for column in [c for c in wanted if c in frame.columns]:
                values, bad = pseudonymiser.column(frame[column])
                frame[column] = values.to_numpy(dtype=object)
                labels.pop(column, None)
                counts.append(
                    {
                        "file": file.name,
                        "sheet": sheet,
                        "column": column,
                        "rows": len(frame),
                        "pseudonymised": int(values.notna().sum()),
                        "empty": int(len(frame) - values.notna().sum() - len(bad)),
                        "refused": len(bad),
                        "persons": int(values.nunique()),
                    }
                )
                refused += [
                    {"file": file.name, "sheet": sheet, "column": column, "row": r, "reason": why}
                    for r, why in bad
                ]
            for column in frame.columns:
                found = _identity_like(frame[column])
                if found.any():
                    clean = False
                    where = f"{file.name}" + (f" (sheet {sheet})" if sheet else "")
                    problems.append(
                        f"{where}: the column {column} still holds values that look like "
                        f"personal identity numbers in {int(found.sum())} rows "
                        f"{describe_rows(frame, found, None)}; name it with --column. The "
                        "file was not written"
                    )
        if clean:
            data = sheets if file.suffix.lower() == ".xlsx" else sheets[""]
            write_source(data, target, labels=labels)
            written.append(target.name)
    return PseudonymResult(
        columns=pd.DataFrame(
            counts,
            columns=[
                "file",
                "sheet",
                "column",
                "rows",
                "pseudonymised",
                "empty",
                "refused",
                "persons",
            ],
        ),
        refused=pd.DataFrame(refused, columns=["file", "sheet", "column", "row", "reason"]),
        problems=tuple(problems),
        written=tuple(written),
        key_fingerprint=pseudonymiser.fingerprint,
        reference_date=pseudonymiser.reference_date,
    )


def _wanted(file: Path, columns: tuple[str, ...] | dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if not isinstance(columns, dict):
        return tuple(columns)
    return columns.get(file.name, columns.get(file.stem, ()))


def _identity_like(series: pd.Series) -> np.ndarray:
    """Values that look like personal identity numbers, also whole numbers stored as floats."""
    if pd.api.types.is_float_dtype(series.dtype):
        whole = series.notna() & (series == np.floor(series)) & (series.abs() < 1e13)
        numbers = pd.Series(0, index=series.index, dtype="int64")
        numbers[whole] = series[whole].astype("int64")
        found = looks_like_personnummer(numbers)
        return np.asarray(found & whole.to_numpy(), dtype=bool)
    if series.dtype == object:
        text = series.map(
            lambda v: (
                str(int(v))
                if isinstance(v, int | np.integer | float | np.floating)
                and not isinstance(v, bool)
                and not missing_value(v)
                and float(v).is_integer()
                else v
            )
        )
        return looks_like_personnummer(text.where(text.map(lambda v: isinstance(v, str)), None))
    return looks_like_personnummer(series)


def write_pseudonym_report(result: PseudonymResult, out: str | Path) -> Path:
    """Write ``pseudonymise_report.json`` and ``.md`` into ``out``; returns the JSON file."""
    folder = Path(out)
    content = result.report()
    json_file = folder / REPORT_FILES[0]
    json_file.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", "utf-8")
    lines = [
        "# Pseudonymisation report",
        "",
        f"Key fingerprint {content['key_fingerprint']} (the same key gives the same "
        f"fingerprint); 10-digit numbers dated by {content['reference_date']}.",
        f"Pseudonyms: {content['pseudonym']}.",
        "",
        "| file | sheet | column | rows | pseudonymised | empty | refused | persons |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in content["columns"]:
        lines.append(
            f"| {row['file']} | {row['sheet']} | {row['column']} | {row['rows']} | "
            f"{row['pseudonymised']} | {row['empty']} | {row['refused']} | {row['persons']} |"
        )
    lines += ["", "## Refused rows (left empty)", ""]
    lines += [
        f"- {r['file']}{' ' + r['sheet'] if r['sheet'] else ''}, {r['column']}, "
        f"row {r['row']}: {r['reason']}"
        for r in content["refused_rows"]
    ] or ["None."]
    if content["problems"]:
        lines += ["", "## Files not written", ""] + [f"- {p}" for p in content["problems"]]
    (folder / REPORT_FILES[1]).write_text("\n".join(lines) + "\n", "utf-8")
    return json_file
