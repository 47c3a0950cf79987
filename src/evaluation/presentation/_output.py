"""Output hygiene of a report: safe cells, an unsafe-threshold stamp, and an all-or-nothing folder.

Three things every file of a report needs, whatever its contents:

- **No formula in a spreadsheet.** A text cell that starts with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return (or their full-width forms) is run as a formula when the CSV
  or workbook is opened in a spreadsheet program; register text (a municipality name, a
  category) must never do that. :func:`escape_text` prefixes such text with a single quote,
  the OWASP rule for CSV injection; numbers stay numbers (the report prints negative
  numbers as text with the Unicode minus ``−``, which no spreadsheet reads as a formula, so
  they are left alone). :func:`write_frame_csv` is the one CSV writer of the report and
  :func:`harden_workbook` escapes every text cell of a workbook and stores none as a formula.
- **A stamp on unsafe output.** A disclosure threshold below :data:`SAFE_MIN_CELL` needs an
  explicit flag (:func:`check_min_cell`); then every output says "NOT FOR PUBLICATION":
  a banner on the page, a first line ``# NOT FOR PUBLICATION (min_cell = 1)`` in every CSV
  (one quoted field, so the file stays valid CSV; :func:`read_report_csv` skips it), a
  first row in every Excel sheet, and a watermark drawn across every figure before it is
  exported (PNG, SVG and PDF alike).
- **A folder that is complete or absent.** :func:`staged_output` builds the report in a
  hidden sibling of the output folder (same parent, so the final move is a rename on the
  same file system) and moves it into place only when everything, the marker file
  :data:`MARKER` last, is written. An exception or Ctrl-C removes the sibling and leaves
  the output folder as it was. An existing folder is only replaced when it holds the
  marker of an earlier report and ``overwrite`` is true; any other non-empty folder is
  refused, and nothing in it is touched.
"""

from __future__ import annotations

import csv
import json
import math
import operator
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from evaluation.presentation.labels import label

__all__ = [
    "FORMULA_START",
    "MARKER",
    "SAFE_MIN_CELL",
    "Stamp",
    "check_collection",
    "check_min_cell",
    "check_target",
    "escape_frame",
    "escape_text",
    "harden_workbook",
    "is_report_folder",
    "read_report_csv",
    "staged_output",
    "stamp_figure",
    "unsafe_stamp",
    "write_frame_csv",
]

#: The smallest disclosure threshold a report may use without ``unsafe_min_cell``.
SAFE_MIN_CELL = 3
#: The file that marks a folder as a complete report of this package (written last).
MARKER = ".evaluation-report.json"
#: The distribution name recorded in the marker.
_PACKAGE = "exit-evaluation"
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection:
#: ``= + - @``, tab, carriage return), with the full-width forms some spreadsheets also accept.
FORMULA_START: tuple[str, ...] = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\uff1d",
    "\uff0b",
    "\uff0d",
    "\uff20",
)


# -- cells -------------------------------------------------------------------------------


def escape_text(text: str) -> str:
    """Text safe for a spreadsheet cell: a single quote before a formula's first character.

    Examples
    --------
    >>> escape_text('=HYPERLINK("http://x", "klicka")')
    '\\'=HYPERLINK("http://x", "klicka")'
    >>> escape_text("-1"), escape_text("−0,046"), escape_text("Malmö")
    ("'-1", '−0,046', 'Malmö')
    """
    return "'" + text if text.startswith(FORMULA_START) else text


def _escape_value(value: object) -> object:
    return escape_text(value) if isinstance(value, str) else value


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name escaped; numbers untouched.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": ["=1+1", "A"], "n": [-3, 4]})
    >>> escape_frame(frame).to_dict("list")
    {'group': ["'=1+1", 'A'], 'n': [-3, 4]}
    """
    out = frame.copy()
    for j in range(out.shape[1]):
        column = out.iloc[:, j]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
            continue
        out.isetitem(j, column.astype(object).map(_escape_value))
    out.columns = pd.Index([_escape_value(c) for c in out.columns])
    return out


def write_frame_csv(frame: pd.DataFrame, path: str | Path, *, stamp: Stamp | None = None) -> Path:
    """Write a table as CSV (UTF-8 with BOM, so Excel reads å, ä, ö), its text cells escaped.

    With a ``stamp`` the first line is the stamp as one quoted field.
    """
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        if stamp is not None:
            csv.writer(f, lineterminator="\n").writerow([stamp.line])
        escape_frame(frame).to_csv(f, index=False, lineterminator="\n")
    return path


def read_report_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV the report wrote, skipping the stamp line of an unsafe report."""
    path = Path(path)
    with path.open(encoding="utf-8-sig") as f:
        first = f.readline()
    skip = 1 if first.startswith(("# ", '"# ')) else 0
    return pd.read_csv(path, encoding="utf-8-sig", skiprows=skip, **kwargs)


def harden_workbook(book: Any, *, stamp: Stamp | None = None) -> None:
    """Escape every text cell of an openpyxl workbook, keep none as a formula, stamp each sheet.

    openpyxl stores any text starting with ``=`` as a formula; after escaping, no text
    does, and the type of every text cell is set to text explicitly besides.
    """
    from openpyxl.styles import Font

    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) or cell.data_type == "f":
                    cell.value = escape_text(str(cell.value))
                    cell.data_type = "s"
        if stamp is not None:
            sheet.insert_rows(1)
            sheet["A1"] = stamp.line
            sheet["A1"].font = Font(bold=True, color="C00000", size=12)


# -- the disclosure threshold and the stamp ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stamp:
    """The "not for publication" stamp of a report built with an unsafe threshold."""

    text: str
    min_cell: int

    @property
    def line(self) -> str:
        """``# NOT FOR PUBLICATION (min_cell = 1)``: the stamp of a CSV or Excel sheet."""
        return f"# {self.text} (min_cell = {self.min_cell})"


def check_min_cell(min_cell: object, *, unsafe: bool = False) -> int:
    """The disclosure threshold, checked: a whole number, at least 3 unless ``unsafe``.

    Raises
    ------
    TypeError
        If ``min_cell`` is not a whole number.
    ValueError
        If it is below 1, or below :data:`SAFE_MIN_CELL` without ``unsafe``.

    Examples
    --------
    >>> check_min_cell(5)
    5
    >>> check_min_cell(2)
    Traceback (most recent call last):
    ...
    ValueError: min_cell = 2 is below 3: a count of 1 or 2 ... unsafe_min_cell=True ...
    """
    if isinstance(min_cell, bool) or isinstance(min_cell, float):
        raise TypeError(f"min_cell must be a whole number, not {min_cell!r}")
    try:
        value = operator.index(min_cell)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"min_cell must be a whole number, not {min_cell!r}") from None
    if value < 1:
        raise ValueError(f"min_cell must be at least 1, not {value}")
    if value < SAFE_MIN_CELL and not unsafe:
        raise ValueError(
            f"min_cell = {value} is below {SAFE_MIN_CELL}: a count of 1 or 2 could be "
            "published and identify a person. Pass unsafe_min_cell=True (on the command "
            "line --unsafe-min-cell) to build such a report anyway; every file of it is "
            "then stamped NOT FOR PUBLICATION."
        )
    return value


def unsafe_stamp(lang: str, min_cell: int) -> Stamp:
    """The stamp in the report's language (the Swedish one also says it in English)."""
    return Stamp(label("report_unsafe_stamp", lang), min_cell)


def stamp_figure(fig: Figure, stamp: Stamp) -> None:
    """Draw the stamp as a watermark across the figure (before it is exported).

    The text is left out of the layout, so the figure keeps the size and layout of a
    safe report; its size is chosen to fit the figure's width when rotated.
    """
    lines = [*stamp.text.split(" / "), f"min_cell = {stamp.min_cell}"]
    width_in = float(fig.get_figwidth())
    longest = max(len(line) for line in lines)
    angle = 25.0
    # About 0.62 em per character; keep the rotated text within 75 % of the width.
    size = 0.75 * width_in * 72 / (longest * 0.62 * math.cos(math.radians(angle)))
    fig.text(
        0.5,
        0.5,
        "\n".join(lines),
        rotation=angle,
        ha="center",
        va="center",
        ma="center",
        fontsize=min(size, 36.0),
        fontweight="bold",
        color="#c00000",
        alpha=0.3,
        zorder=1000,
        in_layout=False,
    )


# -- the output folder -------------------------------------------------------------------


def is_report_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds the marker of a complete report of this package."""
    marker = Path(folder) / MARKER
    if not marker.is_file():
        return False
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("package") == _PACKAGE


def check_target(out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Check that a report may be written to ``out_dir``; return it as a Path.

    Allowed: a folder that does not exist, an empty folder, and (with ``overwrite``) a
    folder holding an earlier report of this package.

    Raises
    ------
    FileExistsError
        For a file, for a non-empty folder that is not a report of this package, and for
        an earlier report without ``overwrite``. The message names the folder.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"cannot write the report into {out}: it is a file, not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return out
    if not is_report_folder(out):
        raise FileExistsError(
            f"cannot write the report into {out}: the folder is not empty and holds no "
            f"report of evaluation (no {MARKER}). Choose a new or empty folder; nothing in "
            f"{out} was changed."
        )
    if not overwrite:
        raise FileExistsError(
            f"{out} holds an earlier report; pass overwrite=True (on the command line "
            "--overwrite) to replace it"
        )
    return out


def check_collection(
    out_dir: str | Path, subfolders: list[str], *, overwrite: bool = False
) -> Path:
    """Check a folder meant to hold several reports, one per subfolder (``--all-municipalities``).

    The folder must be new, empty or hold nothing but reports of this package (and the
    hidden folders of interrupted builds); each subfolder is then checked as by
    :func:`check_target`.

    Raises
    ------
    FileExistsError
        As :func:`check_target`, for the folder or for one of the subfolders.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"cannot write the reports into {out}: it is a file, not a folder")
    if out.is_dir():
        foreign = sorted(
            p.name
            for p in out.iterdir()
            if not (p.is_dir() and (is_report_folder(p) or _STAGING.match(p.name)))
        )
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise FileExistsError(
                f"cannot write the reports into {out}: it holds files that are not reports "
                f"of evaluation ({shown}). Choose a new or empty folder; nothing in {out} "
                "was changed."
            )
    for name in subfolders:
        check_target(out / name, overwrite=overwrite)
    return out


@contextmanager
def staged_output(
    out_dir: str | Path, *, overwrite: bool = False, marker: Mapping[str, Any] | None = None
) -> Iterator[Path]:
    """Build a report in a hidden sibling folder; move it to ``out_dir`` when complete.

    Yields the folder to write into. On leaving without an exception the marker
    (:data:`MARKER`: package, version and ``marker``) is written last and the folder
    replaces ``out_dir``; on any exception, Ctrl-C included, the sibling is removed and
    ``out_dir`` is left as it was.

    Raises
    ------
    FileExistsError
        See :func:`check_target` (checked before the build and again before the move).
    """
    from evaluation import __version__

    out = check_target(out_dir, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _new_sibling(out, "partial")
    try:
        yield staging
        content = {"package": _PACKAGE, "version": __version__, **(marker or {})}
        (staging / MARKER).write_text(
            json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        _move_into_place(staging, out, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


#: The hidden folders of builds under way or interrupted (see :func:`_new_sibling`).
_STAGING = re.compile(r"^\..+\.(?:partial|replaced)-[0-9a-f]{8}$")


def _new_sibling(out: Path, kind: str) -> Path:
    """A new hidden folder beside ``out`` (mkdir, so the user's umask applies)."""
    while True:
        path = out.parent / f".{out.name}.{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:  # pragma: no cover - 32 random bits collide
            continue
        return path


def _move_into_place(staging: Path, out: Path, *, overwrite: bool) -> None:
    # Again: the folder may have been filled while the report was being built.
    check_target(out, overwrite=overwrite)
    if not out.is_dir():
        os.replace(staging, out)
        return
    if not any(out.iterdir()):
        out.rmdir()
        os.replace(staging, out)
        return
    # An earlier report: move it aside, move the new one in, then delete the old one;
    # if the second move fails, the old report goes back.
    old = _new_sibling(out, "replaced")
    os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        if not out.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
