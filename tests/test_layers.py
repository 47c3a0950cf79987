"""The layers of ARCHITECTURE.md: what importing a lower layer must not load."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

HEAVY = ("matplotlib", "jinja2", "evaluation.report.build", "evaluation.report._sections")


@pytest.mark.parametrize(
    "module",
    [
        "evaluation",
        "evaluation.registers",
        "evaluation.synthetic",
        "evaluation.cohorts",
        "evaluation.survival",
        "evaluation.effects",
        "evaluation.design",
        "evaluation.design.closed_form",
    ],
)
def test_a_lower_layer_loads_no_figures_templates_or_report(module: str):
    # A fresh interpreter: this test process has long imported everything.
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"importing {module} loads {done.stdout.strip()}"


@pytest.mark.parametrize("package", ["evaluation", "evaluation.presentation", "evaluation.report"])
def test_every_lazily_exported_name_resolves(package: str):
    # The lazy export tables name a module per public name; a name moved to another module
    # (as issue 11 moved the presentation modules) must be moved in the table too.
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package} exports names it cannot import: {missing}"
