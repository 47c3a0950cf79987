"""The `evaluation` command: help, validate exit codes and problem list, simulate, report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation import Registers
from evaluation.cli import _slug, main
from registers_helpers import tiny_registers


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("simulate", "validate", "report"):
        assert command in out
    assert "exit codes" in out


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("simulate", ["--seed", "--persons", "--out", "--format"]),
        ("validate", ["DIR", "exits with 1"]),
        (
            "report",
            ["--data", "--out", "--lang", "--municipality", "--all-municipalities", "--min-cell"],
        ),
    ],
)
def test_each_command_has_complete_help(command, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for word in words:
        assert word in out


def test_bad_usage_exits_with_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--lang", "de"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--municipality", "Malmö", "--all-municipalities"])


def test_validate_valid_registers_exits_0(tmp_path: Path, capsys):
    tiny_registers().write(tmp_path / "regs")
    assert main(["validate", str(tmp_path / "regs")]) == 0
    assert "valid registers" in capsys.readouterr().out


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path, capsys):
    folder = tiny_registers().write(tmp_path / "regs")
    # Two independent problems: an unknown sex code and an offence of an unknown person.
    persons = (folder / "persons.csv").read_text(encoding="utf-8")
    (folder / "persons.csv").write_text(persons.replace(",F,", ",X,"), encoding="utf-8")
    offences = (folder / "offences.csv").read_text(encoding="utf-8").splitlines()
    offences[1] = offences[1].replace("P000001", "P999999")
    (folder / "offences.csv").write_text("\n".join(offences) + "\n", encoding="utf-8")
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines() if line.startswith("- ")]
    assert len(problems) >= 2
    assert any("sex" in p for p in problems)
    assert any("P999999" in p or "unknown" in p for p in problems)


def test_validate_missing_folder_exits_1(tmp_path: Path, capsys):
    assert main(["validate", str(tmp_path / "nothing")]) == 1
    assert "does not exist" in capsys.readouterr().out


def test_simulate_writes_valid_registers_and_the_truth(tmp_path: Path):
    out = tmp_path / "sim"
    assert main(["simulate", "--seed", "5", "--persons", "60", "--out", str(out)]) == 0
    for name in ("persons", "programme", "offences", "custody", "exits"):
        assert (out / f"{name}.csv").is_file()
    assert (out / "truth.json").is_file()
    assert len(Registers.read(out).persons) == 60


def test_report_command_writes_the_page(tmp_path: Path, capsys):
    data = tiny_registers().write(tmp_path / "regs")
    out = tmp_path / "report"
    assert main(["report", "--data", str(data), "--out", str(out), "--lang", "en"]) == 0
    assert (out / "report.html").is_file() and (out / "tables.xlsx").is_file()
    assert "report.html" in capsys.readouterr().out


def test_report_for_all_municipalities_builds_one_report_each(tmp_path: Path, monkeypatch):
    # The command's part is the loop and the folders; build_report itself is tested in
    # test_report.py, so here it is replaced by a recorder (a full build costs seconds).
    calls = []

    def fake_build(registers, out_dir, **options):
        calls.append((Path(out_dir).name, options["municipality"], options["lang"]))
        assert options["width"] == "journal" and options["min_cell"] == 7
        return Path(out_dir) / "report.html"

    monkeypatch.setattr("evaluation.report.build_report", fake_build)
    data = tiny_registers().write(tmp_path / "regs")
    out = tmp_path / "reports"
    argv = ["report", "--data", str(data), "--out", str(out), "--all-municipalities"]
    assert main([*argv, "--lang", "en", "--width", "journal", "--min-cell", "7"]) == 0
    assert sorted(calls) == [
        ("botkyrka", "Botkyrka", "en"),
        ("goteborg", "Göteborg", "en"),
        ("malmo", "Malmö", "en"),
        ("stockholm", "Stockholm", "en"),
    ]


def test_report_on_invalid_registers_exits_1(tmp_path: Path, capsys):
    assert main(["report", "--data", str(tmp_path), "--out", str(tmp_path / "r")]) == 1
    assert "cannot build the report" in capsys.readouterr().err


def test_slug_is_ascii():
    assert [_slug(n) for n in ("Malmö", "Göteborg", "other")] == ["malmo", "goteborg", "other"]


def test_the_installed_entry_point_runs():
    exe = shutil.which("evaluation", path=str(Path(sys.executable).parent))
    assert exe is not None, "the `evaluation` console script is not installed in the venv"
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "evaluation" in done.stdout


def test_report_for_an_unknown_municipality_exits_1_with_the_names(tmp_path: Path, capsys):
    data = tiny_registers().write(tmp_path / "regs")
    argv = ["report", "--data", str(data), "--out", str(tmp_path / "r"), "--municipality", "X"]
    assert main(argv) == 1
    assert "Botkyrka, Göteborg, Malmö, Stockholm" in capsys.readouterr().err
