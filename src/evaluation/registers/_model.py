"""The registers as one immutable object: five tables and the study window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

TABLES: tuple[str, ...] = ("persons", "programme", "offences", "custody", "exits")


@dataclass(frozen=True, slots=True, kw_only=True)
class Registers:
    """The five register tables of DESIGN.md plus the study window.

    Date columns are ``datetime64[ns]``; an empty ``programme.end_date`` is ``NaT``
    (ongoing). ``study_start`` and ``study_end`` (the extraction date) come from
    ``meta.json``; ``meta`` keeps every other key of that file.
    """

    persons: pd.DataFrame
    programme: pd.DataFrame
    offences: pd.DataFrame
    custody: pd.DataFrame
    exits: pd.DataFrame
    study_start: pd.Timestamp
    study_end: pd.Timestamp
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """Return one table by name."""
        if name not in TABLES:
            raise KeyError(f"unknown register table {name!r}; the tables are {', '.join(TABLES)}")
        return getattr(self, name)
