"""The README's walkthrough from a raw extract to the import report, run as written.

The Python block and every ``$`` line of the console block after the ``walkthrough``
marker are run in a scratch folder (with the home folder there too, for the key file):
``evaluation ...`` through the command's own ``main``, ``python -c CODE > FILE`` in this
process. So the README cannot drift from what the commands do.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
from pathlib import Path

import pytest

from evaluation import cli
from evaluation.registers import Registers

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> tuple[str, list[str]]:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- walkthrough:")
    python = re.search(r"```python\n(.*?)```", text[start:], re.S)
    console = re.search(r"```console\n(.*?)```", text[start:], re.S)
    assert python is not None and console is not None
    lines = [line[2:] for line in console.group(1).splitlines() if line.startswith("$ ")]
    return python.group(1), lines


def test_readme_walkthrough_runs_as_written(tmp_path, monkeypatch):
    code, lines = _blocks()
    assert [line.split()[:2] for line in lines if line.startswith("evaluation")] == [
        ["evaluation", "pseudonymise"],
        ["evaluation", "import"],
        ["evaluation", "validate"],
    ]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    # Smaller than the README's 300 persons, so that the test stays fast.
    exec(code.replace("n_persons=300", "n_persons=80"), {})  # noqa: S102
    for line in lines:
        words = [os.path.expanduser(w) for w in shlex.split(line)]
        if words[0] == "evaluation":
            assert cli.main(words[1:]) == 0, line
        elif words[:2] == ["python", "-c"] and words[3] == ">":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(words[2], {})  # noqa: S102
            Path(words[4]).write_text(out.getvalue(), encoding="utf-8")
        else:
            pytest.fail(f"the test does not know how to run: {line}")
    registers = Registers.read(tmp_path / "registers")
    assert len(registers.persons) == 80
    assert registers.persons["person_id"].str.fullmatch(r"H[0-9a-f]{20}").all()
    report = json.loads((tmp_path / "registers" / "import_report.json").read_text("utf-8"))
    assert report["written"] and report["rows_refused"] == 0
