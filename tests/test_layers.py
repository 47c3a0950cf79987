"""The layers of ARCHITECTURE.md: what importing a lower layer must not load."""

from __future__ import annotations

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
