"""The report's section on every relapse offence: expected offences per person by time.

Brå's frequency measures (relapse offences per person followed and per recidivist, by
window and group) are in the Brå tables of the relapse section, protected by the ledger
(``report._publish.protect_relapse_table``). This section adds the curve: the Ghosh–Lin
mean number of relapse offences per person by time since entry, by group, with death
ending the process, from the recurrence cohort of the same entries as the Brå table of
all entry events.

Disclosure control follows the adjusted curves of the effect section (ARCHITECTURE.md,
"Disclosure control"): a mean count is not a count, but its steps follow offences, so
each group's curve is read on a monthly grid and held at its last published value until
at least ``min_cell`` offences of the group have occurred since then (and at least
``min_cell`` persons are at risk); estimates and bands are rounded to two decimals; no
number at risk and no count is published. The table reads the published curve at 1, 2
and 3 years.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation.presentation.curves import MONTH
from evaluation.presentation.formatting import format_number
from evaluation.presentation.labels import label
from evaluation.presentation.tables import ReportTable
from evaluation.report.build import ReportBuilder

__all__ = ["coarse_recurrent_curves", "recurrence_section"]

YEARS = (1, 2, 3)


def recurrence_section(
    report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None
) -> None:
    """Expected relapse offences per person by time since entry, by group (Ghosh–Lin)."""
    from evaluation.cohorts import recurrence_cohort
    from evaluation.report._analysis_sections import REPORT_SEED, _not_estimable, _with_note
    from evaluation.report._sections import value_label
    from evaluation.survival import ghosh_lin

    lang, m = report.lang, report.min_cell
    section = report.section("recurrence", label("report_section_recurrence", lang))
    report.text(section, label("report_recurrence_text", lang))
    try:
        # The same entries as the Brå table of all entry events (same definition and seed).
        rec = recurrence_cohort(cohorts.registers, definition="bra-final", rng=REPORT_SEED)
        curves = ghosh_lin(
            rec.data,
            start="start",
            stop="stop",
            event="n_offences",
            terminal="terminal",
            id="person_id",
            by="group",
        )
    except EstimationError as err:
        _not_estimable(report, section, err)
        return
    coarse = coarse_recurrent_curves(curves.table, m)
    names = {g: value_label(g, lang) for g in coarse["group"].unique()}
    shown = coarse.assign(group=coarse["group"].map(names))
    from evaluation.presentation.graphics.recurrent import draw_recurrent

    report.figure(
        section,
        lambda axes: draw_recurrent(
            shown, ax=axes[0], time_unit="years", lang=lang, xticks=[0, 1, 2, 3]
        ),
        key="recurrence_by_group",
        caption=_with_note(
            label("report_fig_recurrence", lang),
            label("report_recurrence_coarse", lang, min_cell=m),
        ),
        data=coarse,
        aspect=0.62,
    )
    report.table(section, _table(coarse, names, lang=lang, min_cell=m))


def coarse_recurrent_curves(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The curves as published: monthly, stepping only after ``min_cell`` offences.

    ``table`` is a :class:`~evaluation.survival.RecurrentCurves` table (``group, time,
    n_at_risk, n_events, estimate, ci_lower, ci_upper``). Returns ``group, time`` (days, a
    monthly grid to 3 years), ``estimate, ci_lower, ci_upper`` (rounded to two decimals).

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["a"] * 3, "time": [10.0, 20.0, 40.0],
    ...     "n_at_risk": [50, 50, 40], "n_events": [3, 3, 4], "estimate": [0.06, 0.12, 0.22],
    ...     "ci_lower": [0.0] * 3, "ci_upper": [1.0] * 3})
    >>> coarse_recurrent_curves(t, 5)["estimate"].tolist()[:3]  # 4 offences: held
    [0.0, 0.12, 0.12]
    """
    grid = np.arange(0, YEARS[-1] * 365.25 + MONTH, MONTH)
    out = []
    for g, part in table.groupby("group", sort=False):
        part = part.sort_values("time")
        times = part["time"].to_numpy(dtype=float)
        cum_events = np.cumsum(part["n_events"].to_numpy(dtype=float))
        at_risk = part["n_at_risk"].to_numpy(dtype=float)
        last = {"estimate": 0.0, "ci_lower": 0.0, "ci_upper": 0.0}
        last_events = 0.0
        for t in grid:
            k = int(np.searchsorted(times, t, side="right")) - 1
            if k >= 0 and cum_events[k] - last_events >= min_cell and at_risk[k] >= min_cell:
                last = {col: float(part[col].iloc[k]) for col in last}
                last_events = cum_events[k]
            out.append({"group": g, "time": float(t)} | last)
    frame = pd.DataFrame(out, columns=["group", "time", "estimate", "ci_lower", "ci_upper"])
    for col in ("estimate", "ci_lower", "ci_upper"):
        frame[col] = frame[col].round(2)
    return frame


def _table(
    coarse: pd.DataFrame, names: Mapping[Any, str], *, lang: str, min_cell: int
) -> ReportTable:
    """The published curve at 1, 2 and 3 years: estimate (interval) per group."""
    rows = []
    for g, part in coarse.groupby("group", sort=False):
        row = {label("group", lang): names.get(g, str(g))}
        for y in YEARS:
            k = int(np.searchsorted(part["time"].to_numpy(), y * 365.25, side="right")) - 1
            r = part.iloc[k]
            row[label("report_recurrence_by_year", lang, years=y)] = (
                f"{format_number(r['estimate'], lang, decimals=2)} "
                f"({format_number(r['ci_lower'], lang, decimals=2)}–"
                f"{format_number(r['ci_upper'], lang, decimals=2)})"
            )
        rows.append(row)
    return ReportTable(
        key="recurrence_by_group",
        title=label("report_tab_recurrence", lang),
        table=pd.DataFrame(rows),
        footnotes=(
            label("report_recurrence_footnote", lang),
            label("report_recurrence_coarse", lang, min_cell=min_cell),
        ),
        lang=lang,
    )
