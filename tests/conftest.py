"""Shared test settings: a non-interactive backend, no figure left open between tests, and
the ``slow`` mark on every recovery test (``tests/recovery/``)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples in every run: fixed seeds, as everywhere else.
settings.register_profile("fixed", derandomize=True)
settings.load_profile("fixed")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


RECOVERY = Path(__file__).resolve().parent / "recovery"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under ``tests/recovery/`` replicate the generator: all of them are ``slow``."""
    for item in items:
        if RECOVERY in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.slow)
