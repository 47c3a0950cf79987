"""The `evaluation` command: help, validate exit codes and problem list, simulate, report."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import evaluation
from evaluation import Registers

# kernel test: _slug makes the municipality part of file names ASCII
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


# -- input that fails clearly: exit 1 with a message, never a traceback ----------------------


def _rewrite(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def _folder_for_file(folder: Path, name: str) -> None:
    (folder / name).unlink()
    (folder / name).mkdir()


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "unclosed quote": (
        lambda f: _rewrite(f / "offences.csv", "O0000002,", '"O0000002,'),
        'offences.csv has a quote (") that is never closed, in row 2',
    ),
    "header longer than the csv field limit": (
        lambda f: _rewrite(f / "exits.csv", "reason\n", "reason" + "x" * 140_000 + "\n"),
        "exits.csv: the header line could not be read as column names",
    ),
    "semicolons": (
        lambda f: (f / "exits.csv").write_text("person_id;date;reason\nP000002;2019-06-30;death\n"),
        "exits.csv: the separator looks like ';'",
    ),
    "too few fields": (
        lambda f: _rewrite(f / "custody.csv", ",youth_care\n", "\n"),
        "custody.csv has rows with too few or too many fields (the header has 4 columns) in "
        "1 row (row 3: 3 fields)",
    ),
    "meta.json is a folder": (
        lambda f: _folder_for_file(f, "meta.json"),
        "cannot be read: it is a folder, not a file",
    ),
    "born in 1815": (
        lambda f: _rewrite(f / "persons.csv", "1990-07-15", "1815-07-15"),
        "persons.birth_date is before 1900-01-01",
    ),
    "personnummer with a label in offence_id": (
        lambda f: _rewrite(f / "offences.csv", "O0000004,", "PNR 811218\u20139876,"),
        "offences.offence_id looks like a Swedish personal identity number (personnummer) in "
        "1 row (row 4)",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_validate_broken_input_exits_1_with_the_problem(case, tmp_path: Path, capsys):
    folder = tiny_registers().write(tmp_path / "regs")
    break_it, expected = BROKEN[case]
    break_it(folder)
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert expected in out
    assert "9876" not in out and "Traceback" not in out


def test_validate_an_unreadable_folder_exits_1(tmp_path: Path, capsys, monkeypatch):
    folder = tiny_registers().write(tmp_path / "regs")
    scandir = os.scandir

    def refuse(path):  # root reads any folder, so no access is simulated
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    assert main(["validate", str(folder)]) == 1
    assert "cannot be read: permission denied" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("truth", "expected"),
    [
        ('{"effect": {', "truth.json is not valid JSON (line 1, column 13: Expecting"),
        ("[1, 2]", "truth.json is not a JSON object of the generator's true values"),
        ('{"effect": 3}', "truth.json is not a JSON object of the generator's true values"),
        (None, "truth.json is a folder, not a file"),
        (b"\xff\xfe{}", "truth.json is not UTF-8 text"),
    ],
)
def test_report_with_an_invalid_truth_exits_1(tmp_path: Path, capsys, truth, expected):
    data = tiny_registers().write(tmp_path / "regs")
    if truth is None:
        (data / "truth.json").mkdir()
    elif isinstance(truth, bytes):
        (data / "truth.json").write_bytes(truth)
    else:
        (data / "truth.json").write_text(truth, encoding="utf-8")
    assert main(["report", "--data", str(data), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot build the report: ") and expected in err
    assert not (tmp_path / "r").exists()


def test_the_command_never_prints_a_traceback(tmp_path: Path):
    """The command run as users run it: exit 1, a message, no traceback."""
    data = tiny_registers().write(tmp_path / "regs")
    (data / "truth.json").write_text("{not json", encoding="utf-8")
    _rewrite(data / "persons.csv", "affiliation\n", "affiliation" + "x" * 140_000 + "\n")
    src = str(Path(evaluation.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}

    def run(*argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "evaluation.cli", *argv],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout + done.stderr

    assert "header line could not be read" in run("validate", str(data))
    assert "header line could not be read" in run("report", "--data", str(data))
    tiny_registers().write(data)  # valid registers again; truth.json is still broken
    assert "truth.json is not valid JSON" in run("report", "--data", str(data))


def test_report_into_an_unwritable_place_exits_1(tmp_path: Path, capsys):
    data = tiny_registers().write(tmp_path / "regs")
    (tmp_path / "taken").write_text("a file where the output folder should be")
    assert main(["report", "--data", str(data), "--out", str(tmp_path / "taken")]) == 1
    err = capsys.readouterr().err
    assert f"cannot write the report into {tmp_path / 'taken'}" in err
    assert "Traceback" not in err
