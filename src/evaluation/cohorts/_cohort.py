"""The cohort object and the flow table of exclusions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation._keyed import n_distinct
from evaluation._results import html_repr

__all__ = ["Cohort", "FLOW_COLUMNS", "person_flow"]

FLOW_COLUMNS = ["stage", "window", "reason", "n_persons", "n_entries"]


@dataclass(frozen=True, slots=True, repr=False)
class Cohort:
    """An analysis table built from registers, with the flow of exclusions behind it.

    Attributes
    ----------
    data
        One row per entry event (relapse) or programme episode (retention): ``person_id``,
        ``group``, ``entry_date``, ``duration_days``, ``event``, window flags and counts,
        covariates at entry.
    flow
        Columns ``stage`` (``"persons"``, then ``"window"`` rows), ``window``, ``reason``,
        ``n_persons``, ``n_entries``. The ``"persons"`` rows start with every person in the
        registers, list each exclusion reason and end with ``"included"``; excluded plus
        included equals the total. Each window's rows split the included entries into
        ``"measured"`` and the reasons a window could not be measured.
    definition
        The :class:`RelapseDefinition` used, or a dict describing a retention cohort.
    meta
        ``study_start``, ``study_end`` (ISO dates) and ``population`` of the registers.
    person_reasons
        For every person in the registers (in their order, indexed by ``person_id``), the
        flow reason that applies: ``"included"`` or ``"excluded: ..."``, as in ``flow``.
    window_status
        Aligned with ``data``'s rows, one column per window label (``"1y"``, ...): the
        flow reason of each entry in that window (``"measured"`` or why it is not).
    """

    data: pd.DataFrame
    flow: pd.DataFrame
    definition: Any
    meta: dict[str, Any] = field(default_factory=dict)
    person_reasons: pd.Series | None = None
    window_status: pd.DataFrame | None = None

    @property
    def n(self) -> int:
        """Number of rows (entries or episodes)."""
        return len(self.data)

    @property
    def n_persons(self) -> int:
        """Number of distinct persons."""
        return int(self.data["person_id"].nunique())

    def summary(self) -> pd.DataFrame:
        """The flow table (what the cohort is made of)."""
        return self.flow.copy()

    def __repr__(self) -> str:
        name = getattr(self.definition, "name", None) or dict(self.definition).get("name", "")
        return f"Cohort({name!r}, rows={self.n}, persons={self.n_persons})"

    def _repr_html_(self) -> str:
        name = getattr(self.definition, "name", None) or dict(self.definition).get("name", "")
        return html_repr(
            f"Cohort ({name}): {self.n} rows, {self.n_persons} persons",
            self.flow,
        )


def person_flow(
    n_total: int,
    person_stage: np.ndarray,
    reasons: list[str],
    n_entries_included: int,
) -> pd.DataFrame:
    """Persons rows of the flow table.

    ``person_stage`` holds for every person the index of the first reason that excluded
    them (``0 .. len(reasons) - 1``) or ``len(reasons)`` for included persons.
    """
    counts = np.bincount(person_stage, minlength=len(reasons) + 1)
    rows: list[dict[str, Any]] = [
        {
            "stage": "persons",
            "window": "",
            "reason": "persons in registers",
            "n_persons": n_total,
            "n_entries": pd.NA,
        }
    ]
    for i, reason in enumerate(reasons):
        rows.append(
            {
                "stage": "persons",
                "window": "",
                "reason": f"excluded: {reason}",
                "n_persons": int(counts[i]),
                "n_entries": pd.NA,
            }
        )
    rows.append(
        {
            "stage": "persons",
            "window": "",
            "reason": "included",
            "n_persons": int(counts[len(reasons)]),
            "n_entries": n_entries_included,
        }
    )
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def window_flow(
    label: str, reasons: dict[str, np.ndarray], person_codes: np.ndarray
) -> pd.DataFrame:
    """Window rows of the flow table: entries (and their persons) by measurement status."""
    rows = []
    for reason, mask in reasons.items():
        rows.append(
            {
                "stage": "window",
                "window": label,
                "reason": reason,
                "n_persons": n_distinct(person_codes[mask]),
                "n_entries": int(mask.sum()),
            }
        )
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)
