"""The import report: what was read, written and refused, as JSON and as Markdown.

``import_report.json`` (for programs) and ``import_report.md`` (for people) are written
beside the registers, or alone when the registers are not written. They hold counts, row
numbers, column names, code values and their labels, and reasons: never an id value (ids
may be personal identity numbers), and a code value that looks like a personal identity
number is written as ``<a personal identity number>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation._errors import ExtractError
from evaluation.registers._schema import TABLES
from evaluation.registers.extract.importer import ImportResult

__all__ = ["REPORT_FILES", "report_content", "write_import"]

REPORT_FILES: tuple[str, str] = ("import_report.json", "import_report.md")
_REGISTER_FILES = {f"{t}.{x}" for t in TABLES for x in ("csv", "parquet")} | {"meta.json"}


def report_content(result: ImportResult, *, written: bool, allow_refused: bool) -> dict[str, Any]:
    """The report as a JSON-ready dictionary."""
    return {
        "mapping": result.mapping.path.name,
        "study_start": result.mapping.study_start.strftime("%Y-%m-%d"),
        "study_end": result.mapping.study_end.strftime("%Y-%m-%d"),
        "written": written,
        "allow_refused": allow_refused,
        "rows_refused": result.n_refused,
        "tables": _records(result.summary()),
        "feeds": _records(result.flow),
        "sources": _records(result.sources),
        "unmapped_codes": _records(result.unmapped),
        "defaulted_codes": _records(result.defaulted),
        "refused_rows": _records(result.refused),
        "validation_problems": list(result.problems),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def write_import(result: ImportResult, out: str | Path, *, allow_refused: bool = False) -> bool:
    """Write the registers (Parquet) and the import report into ``out``.

    The registers are written only when they are valid and no row was refused, or rows
    were refused and ``allow_refused`` is given; the report is always written.

    Parameters
    ----------
    result
        What :func:`~evaluation.registers.extract.import_extract` gave.
    out
        The folder: new, empty, or holding an earlier import (its files are replaced).
    allow_refused
        Write the registers although rows were refused (they are listed in the report).

    Returns
    -------
    bool
        Whether the registers were written.

    Raises
    ------
    ExtractError
        When ``out`` holds files of something other than an earlier import.
    """
    folder = Path(out)
    if folder.exists():
        if not folder.is_dir():
            raise ExtractError(f"{folder} is not a folder")
        others = sorted(
            p.name for p in folder.iterdir() if p.name not in _REGISTER_FILES | set(REPORT_FILES)
        )
        if others:
            raise ExtractError(
                f"{folder} holds files that are not an earlier import ({', '.join(others[:5])}); "
                "give a new or empty folder"
            )
    folder.mkdir(parents=True, exist_ok=True)
    for name in _REGISTER_FILES:  # an earlier import's registers must not stay behind
        (folder / name).unlink(missing_ok=True)
    written = result.registers is not None and (allow_refused or result.n_refused == 0)
    if written:
        assert result.registers is not None
        result.registers.write(folder, format="parquet")
    content = report_content(result, written=written, allow_refused=allow_refused)
    (folder / REPORT_FILES[0]).write_text(
        json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / REPORT_FILES[1]).write_text(markdown(content), encoding="utf-8")
    return written


def markdown(content: dict[str, Any]) -> str:
    """The report as Markdown: the verdict, the flow, then what was refused and why."""
    lines = [f"# Import report ({content['mapping']})", ""]
    if content["written"]:
        verdict = "The registers were written (Parquet) and are valid."
        if content["rows_refused"]:
            verdict += f" {content['rows_refused']} source rows were refused (--allow-refused)."
    elif content["validation_problems"]:
        verdict = "The registers were NOT written: the imported tables are not valid registers."
    else:
        verdict = (
            f"The registers were NOT written: {content['rows_refused']} source rows were "
            "refused. Fix the mapping or the extract, or accept the refusals with "
            "--allow-refused."
        )
    lines += [verdict, "", f"Study window: {content['study_start']} to {content['study_end']}.", ""]
    lines += ["## Rows by register table", ""]
    lines += _table(content["tables"], ["table", "rows", "not_selected", "refused", "written"])
    lines += [
        "",
        "In each feed every source row is counted once: rows = not selected (a `where` "
        "column is empty: the row belongs to another table) + refused + written. A table's "
        "counts are the sums over its feeds, so a source that feeds one table twice (the "
        "population register: deaths and emigrations) counts its rows twice.",
        "",
        "## Rows by feed",
        "",
    ]
    lines += _table(
        content["feeds"],
        ["feed", "table", "source", "file", "rows", "not_selected", "refused", "written"],
    )
    lines += ["", "## Sources", ""]
    lines += _table(content["sources"], ["source", "file", "rows", "columns", "not_imported"])
    lines += ["", "## Code values the mapping does not cover (rows refused)", ""]
    lines += _table(
        content["unmapped_codes"],
        ["feed", "column", "source_column", "codes", "value", "label", "rows"],
    ) or ["None."]
    if content["defaulted_codes"]:
        lines += ["", "## Code values that took their code list's default", ""]
        lines += _table(
            content["defaulted_codes"],
            ["feed", "column", "source_column", "codes", "value", "category", "rows"],
        )
    lines += ["", "## Refused rows", ""]
    lines += _table(
        content["refused_rows"], ["feed", "table", "source", "row", "column", "reason"]
    ) or ["None."]
    if content["validation_problems"]:
        lines += ["", "## Problems of the imported registers", ""]
        lines += [f"- {p}" for p in content["validation_problems"]]
    return "\n".join(lines) + "\n"


def _table(records: list[dict[str, Any]], columns: list[str]) -> list[str]:
    if not records:
        return []
    rows = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for record in records:
        cells = [str(record.get(c, "")).replace("|", "\\|") for c in columns]
        rows.append("| " + " | ".join(cells) + " |")
    return rows
