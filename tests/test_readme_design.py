"""The README's "Planning a small evaluation" example runs and prints what it says."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_planning_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Planning a small evaluation", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "the README section has no example"
    test = doctest.DocTestParser().get_doctest(
        "\n".join(blocks), {}, "README planning", str(README), 0
    )
    assert len(test.examples) >= 6
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0
