"""The test suite's layout (ARCHITECTURE.md, "Tests"): R references in their own folders
``tests/reference/<estimator>/``, recovery tests in ``tests/recovery/`` marked ``slow`` by
``conftest.py``, module basenames unique (pytest's prepend import mode, no ``__init__.py``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import RECOVERY, pytest_collection_modifyitems

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@dataclass
class _Item:
    """What the hook reads of a collected item: its path, and the marks it adds."""

    path: Path
    marks: list[str] = field(default_factory=list)

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        self.marks.append(mark.name)


def test_the_hook_marks_recovery_tests_slow_and_nothing_else() -> None:
    inside = _Item(RECOVERY / "test_x.py")
    deeper = _Item(RECOVERY / "sub" / "test_y.py")
    outside = _Item(TESTS / "test_km.py")
    reference = _Item(TESTS / "reference" / "km" / "test_km_reference.py")
    pytest_collection_modifyitems([inside, deeper, outside, reference])
    assert inside.marks == ["slow"] and deeper.marks == ["slow"]
    assert outside.marks == [] and reference.marks == []


@pytest.mark.slow  # a second pytest collects the recovery modules: about 8 s
def test_no_recovery_test_is_collected_without_the_slow_mark() -> None:
    """What ``make test-fast`` (``-m "not slow"``) collects of ``tests/recovery/``: nothing,
    while the folder does hold tests (they are deselected, not missing)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + ["-m", "not slow", str(RECOVERY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    last = run.stdout.strip().splitlines()[-1]
    deselected = re.search(r"(\d+) deselected", last)
    assert run.returncode == 5, run.stdout[-2000:]  # 5: no tests collected
    assert deselected is not None and int(deselected.group(1)) > 0, last


def test_no_test_module_sits_directly_in_reference() -> None:
    """A reference's test sits in its folder beside the R script and the JSON it compares."""
    assert [p.name for p in (TESTS / "reference").glob("test_*.py")] == []
    folders = [
        p
        for p in (TESTS / "reference").iterdir()
        if p.is_dir() and p.name != "data" and not p.name.startswith(("_", "."))
    ]
    assert folders, "no reference folders"
    for folder in folders:
        assert list(folder.glob("*.R")), f"{folder.name}: no R script"
        assert list(folder.glob("*.json")), f"{folder.name}: no JSON printed by R"
        assert list(folder.glob("test_*.py")), f"{folder.name}: no test compares with R"


def test_recovery_holds_only_test_modules_and_module_names_are_unique() -> None:
    assert RECOVERY.is_dir() and all(p.name.startswith("test_") for p in RECOVERY.glob("*.py"))
    modules = [p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts]
    assert not [p for p in modules if p.name == "__init__.py"]
    twice = {n for n, k in Counter(p.name for p in modules).items() if k > 1}
    # conftest.py is pytest's own, one per folder at most; every other basename once.
    assert twice <= {"conftest.py"}, twice
