"""A tiny valid register for tests in any area: ``from registers_helpers import tiny_registers``.

``tiny_registers(**overrides) -> Registers`` returns four persons, four programme episodes,
six offences, four custody periods and one exit (a death), all valid, in the study window
2010-01-01 to 2025-12-31. Any field of ``Registers`` can be replaced by keyword, for example
``tiny_registers(exits=my_exits)`` or ``tiny_registers(study_end=pd.Timestamp("2020-12-31"))``.
The full description of the persons is in the docstring of
``evaluation.registers._examples.tiny_registers``, where the builder lives so that the
package's doctests can use it too.

``dates(*values)`` builds a ``datetime64[ns]`` column from ISO strings (``None`` for empty).
"""

from __future__ import annotations

import pandas as pd

# no public name: the builder lives in the package so that its doctests can use it too
from evaluation.registers._examples import tiny_registers

__all__ = ["dates", "tiny_registers"]


def dates(*values: str | None) -> pd.Series:
    """A ``datetime64[ns]`` Series from ISO date strings; ``None`` gives ``NaT``."""
    return pd.Series(pd.to_datetime(list(values), format="%Y-%m-%d"), dtype="datetime64[ns]")
