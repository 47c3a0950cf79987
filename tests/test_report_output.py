"""Output hygiene of build_report: no formula in CSV or Excel, an unsafe threshold stamped
everywhere, a report folder that is complete or untouched, and validated registers.

The reports here are built on the four-person registers of ``registers_helpers`` (a build
takes a few seconds); PNG only where the figures' contents do not matter.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaluation import RegisterError, Registers
from evaluation.cli import main

# kernel test: the report writer's escaping, stamps and minimum-cell check, below build_report
from evaluation.presentation._output import (
    FORMULA_START,
    MARKER,
    Stamp,
    check_min_cell,
    escape_text,
    read_report_csv,
    write_frame_csv,
)
from evaluation.presentation.labels import label_table
from evaluation.presentation.tables import ReportTable, write_excel
from evaluation.report import build_report
from registers_helpers import tiny_registers

#: Words of the label table replaced by text that starts a formula. Validated registers
#: hold only known categories, so words reach the files through the label table (which
#: translators edit), group names and model terms; the escaping must not care which.
HOSTILE = {
    "all": '=HYPERLINK("http://example.invalid","klicka")',
    "women": "+1+1",
    "men": "-2+3",
    "participants": "@SUM(1+1)",
}


def hostile_labels() -> pd.DataFrame:
    table = label_table().copy()
    for key, text in HOSTILE.items():
        table.loc[key, ["sv", "en"]] = text
    return table


def csv_cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def excel_cells(path: Path) -> list[openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(path)  # not data_only: formulas would come back as such
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path) with the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def siblings(folder: Path) -> list[str]:
    """Hidden staging folders left beside ``folder``."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "report"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("evaluation.presentation.labels.label_table", hostile_labels)
        return build_report(tiny_registers(), out, lang="en", formats=("png",))


@pytest.fixture(scope="module")
def unsafe_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unsafe")
    data = tiny_registers().write(root / "regs")
    out = root / "report"
    argv = ["report", "--data", str(data), "--out", str(out), "--min-cell", "1"]
    assert main([*argv, "--unsafe-min-cell"]) == 0
    return out / "report.html"


# -- no formula reaches a spreadsheet ------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\uff1d1+1", '=HYPERLINK("x")']
)
def test_text_that_starts_a_formula_gets_a_leading_quote(text: str):
    assert escape_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Malmö", "−0,046", "..", "", "1 till 2", "'=1"])
def test_other_text_is_left_as_it_is(text: str):
    # "−0,046" is how the report prints a negative number: with the Unicode minus, which
    # no spreadsheet reads as a formula.
    assert escape_text(text) == text


def test_csv_escapes_text_cells_and_headers_and_keeps_numbers(tmp_path: Path):
    frame = pd.DataFrame({"=group": ["=1+1", "A", None], "estimate": [-0.5, 1.0, 2.0]})
    rows = csv_cells(write_frame_csv(frame, tmp_path / "t.csv"))
    assert rows[0] == ["'=group", "estimate"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "A", ""]
    assert [r[1] for r in rows[1:]] == ["-0.5", "1.0", "2.0"]  # numbers stay numbers


def test_excel_stores_no_formula_and_escapes_caption_cells_and_footnotes(tmp_path: Path):
    cells = pd.DataFrame({"Grupp": ["=1+1", "-A"], "=Antal": ["12", "1\u00a0234"]})
    table = ReportTable(
        key="k", title="=T()", table=cells, footnotes=("@note",), title_other="+other"
    )
    path = write_excel([table.numbered(1)], tmp_path / "t.xlsx")
    found = excel_cells(path)
    values = [c.value for c in found if c.value is not None]
    assert not [c.coordinate for c in found if c.data_type == "f"]
    assert not [v for v in values if isinstance(v, str) and v.startswith(FORMULA_START)]
    assert {"'=1+1", "'-A", "'=Antal", "'+other", "'@note"} <= set(values)
    assert {12, 1234} <= set(values)  # whole numbers are still numbers


def test_no_text_cell_of_a_report_starts_a_formula(hostile_report: Path):
    folder = hostile_report.parent
    csvs = sorted(folder.rglob("*.csv"))
    assert {"tables", "figures"} <= {p.parent.name for p in csvs}
    seen = []
    for path in csvs:
        for row in csv_cells(path):
            bad = [c for c in row if c.startswith(FORMULA_START)]
            assert not bad, f"{path.name}: {bad}"
            seen += [c for c in row if any(text in c for text in HOSTILE.values())]
    # Each hostile word reaches some CSV, or the test would prove nothing.
    assert {text for text in HOSTILE.values() if any(text in c for c in seen)} == set(
        HOSTILE.values()
    )
    found = excel_cells(folder / "tables.xlsx")
    assert not [c.coordinate for c in found if c.data_type == "f"]
    texts = [c.value for c in found if isinstance(c.value, str)]
    assert not [v for v in texts if v.startswith(FORMULA_START)]
    assert any("HYPERLINK" in v for v in texts)


# -- the disclosure threshold ----------------------------------------------------------------


@pytest.mark.parametrize("min_cell", [1, 2])
def test_a_threshold_below_3_is_refused_without_the_unsafe_flag(tmp_path: Path, min_cell: int):
    with pytest.raises(ValueError, match="unsafe_min_cell"):
        build_report(tiny_registers(), tmp_path / "r", min_cell=min_cell)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("min_cell", "error"), [(0, ValueError), (-5, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_the_threshold_is_a_whole_number_of_at_least_1(min_cell: object, error: type):
    with pytest.raises(error):
        check_min_cell(min_cell, unsafe=True)


def test_safe_thresholds_pass_unchanged():
    assert [check_min_cell(n) for n in (3, 5, 11)] == [3, 5, 11]


def test_the_command_refuses_min_cell_1_without_the_flag(tmp_path: Path, capsys):
    data = tiny_registers().write(tmp_path / "regs")
    argv = ["report", "--data", str(data), "--out", str(tmp_path / "r"), "--min-cell", "1"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "--unsafe-min-cell" in err and "min_cell = 1" in err
    assert not (tmp_path / "r").exists()


def test_an_unsafe_report_is_stamped_in_every_file(unsafe_report: Path):
    folder = unsafe_report.parent
    html = unsafe_report.read_text(encoding="utf-8")
    assert 'class="unsafe"' in html and "NOT FOR PUBLICATION" in html
    csvs = sorted(folder.rglob("*.csv"))
    assert len(csvs) > 5
    for path in csvs:
        assert csv_cells(path)[0] == ["# EJ FÖR PUBLICERING / NOT FOR PUBLICATION (min_cell = 1)"]
        assert not read_report_csv(path, dtype=str).columns[0].startswith("#")
    book = openpyxl.load_workbook(folder / "tables.xlsx", read_only=True)
    try:
        assert book.sheetnames
        for sheet in book.worksheets:
            first = next(sheet.iter_rows(values_only=True))
            assert "NOT FOR PUBLICATION" in str(first[0])
    finally:
        book.close()
    svgs = sorted((folder / "figures").glob("*.svg"))
    assert svgs and all("NOT FOR PUBLICATION" in p.read_text(encoding="utf-8") for p in svgs)
    for fmt in ("png", "pdf"):
        assert len(list((folder / "figures").glob(f"*.{fmt}"))) == len(svgs)


def test_a_safe_report_has_no_stamp(hostile_report: Path):
    html = hostile_report.read_text(encoding="utf-8")
    assert "NOT FOR PUBLICATION" not in html and 'class="unsafe"' not in html
    for path in hostile_report.parent.rglob("*.csv"):
        assert not csv_cells(path)[0][0].startswith("#")


def test_the_stamp_line_is_one_csv_field(tmp_path: Path):
    frame = pd.DataFrame({"a": [1], "b": ["x"]})
    path = write_frame_csv(frame, tmp_path / "t.csv", stamp=Stamp("NOT FOR PUBLICATION", 2))
    assert csv_cells(path)[0] == ["# NOT FOR PUBLICATION (min_cell = 2)"]
    assert read_report_csv(path).equals(frame)


# -- the output folder ---------------------------------------------------------------------


def test_a_finished_report_carries_the_marker_and_leaves_no_staging(hostile_report: Path):
    folder = hostile_report.parent
    assert (folder / MARKER).is_file() and hostile_report.is_file()
    assert siblings(folder) == []


def test_a_foreign_non_empty_folder_is_refused_and_left_alone(tmp_path: Path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"years of work")
    (out / "figures").mkdir()
    (out / "figures" / "old.png").write_bytes(b"png")
    before = tree(out)
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match=str(out)):
            build_report(tiny_registers(), out, overwrite=overwrite, formats=("png",))
    assert tree(out) == before
    assert siblings(out) == []


def test_a_file_is_not_a_report_folder(tmp_path: Path):
    (tmp_path / "out").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError, match="is a file"):
        build_report(tiny_registers(), tmp_path / "out", formats=("png",))


def test_an_earlier_report_is_replaced_only_with_overwrite(hostile_report: Path, tmp_path: Path):
    import shutil

    out = tmp_path / "report"
    shutil.copytree(hostile_report.parent, out)
    (out / "figures" / "stale.png").write_bytes(b"from an earlier build")
    before = tree(out)
    with pytest.raises(FileExistsError, match="--overwrite"):
        build_report(tiny_registers(), out, formats=("png",))
    assert tree(out) == before
    page = build_report(tiny_registers(), out, formats=("png",), overwrite=True, lang="sv")
    assert page == out / "report.html"
    assert '<html lang="sv">' in page.read_text(encoding="utf-8")
    assert not (out / "figures" / "stale.png").exists()  # replaced, not merged
    assert (out / MARKER).is_file() and siblings(out) == []


def test_an_empty_folder_is_written_into(tmp_path: Path):
    out = tmp_path / "empty"
    out.mkdir()
    page = build_report(tiny_registers(), out, formats=("png",))
    assert page.is_file() and (out / MARKER).is_file()


@pytest.mark.parametrize("step", ["write_excel", "_render"])
def test_an_interrupted_build_leaves_nothing(tmp_path: Path, monkeypatch, step: str):
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(f"evaluation.report.build.{step}", interrupt)
    out = tmp_path / "report"
    with pytest.raises(KeyboardInterrupt):
        build_report(tiny_registers(), out, formats=("png",))
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # the staging folder is gone too


def test_an_interrupted_build_keeps_the_earlier_report(
    hostile_report: Path, tmp_path: Path, monkeypatch
):
    import shutil

    out = tmp_path / "report"
    shutil.copytree(hostile_report.parent, out)
    before = tree(out)

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("evaluation.report.build._render", interrupt)
    with pytest.raises(KeyboardInterrupt):
        build_report(tiny_registers(), out, formats=("png",), overwrite=True)
    assert tree(out) == before
    assert siblings(out) == []


def test_the_command_needs_overwrite_to_replace_its_report(unsafe_report: Path, capsys):
    folder = unsafe_report.parent
    data = folder.parent / "regs"
    argv = ["report", "--data", str(data), "--out", str(folder)]
    before = tree(folder)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert str(folder) in err and "--overwrite" in err
    assert tree(folder) == before


def test_all_municipalities_refuses_a_foreign_folder_before_building(
    tmp_path: Path, monkeypatch, capsys
):
    calls = []
    monkeypatch.setattr("evaluation.report.build_report", lambda *a, **k: calls.append(a))
    data = tiny_registers().write(tmp_path / "regs")
    out = tmp_path / "reports"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    argv = ["report", "--data", str(data), "--out", str(out), "--all-municipalities"]
    assert main(argv) == 1
    assert "notes.txt" in capsys.readouterr().err
    assert calls == [] and [p.name for p in out.iterdir()] == ["notes.txt"]


# -- validation ------------------------------------------------------------------------------


def test_registers_read_without_validation_are_validated(tmp_path: Path):
    folder = tiny_registers().write(tmp_path / "regs")
    offences = (folder / "offences.csv").read_text(encoding="utf-8").splitlines()
    offences[1] = offences[1].replace("P000001", "P999999")  # an unknown person
    (folder / "offences.csv").write_text("\n".join(offences) + "\n", encoding="utf-8")
    registers = Registers.read(folder, validate=False)
    with pytest.raises(RegisterError, match="not in persons") as info:
        build_report(registers, tmp_path / "r", formats=("png",))
    assert info.value.problems
    assert not (tmp_path / "r").exists()
