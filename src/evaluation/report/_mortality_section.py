"""The report's section on death: every life saved, and how little the data can say about it.

The cumulative incidence of death by group (participants and their comparisons, from the
effect design's time zero, followed past any relapse, emigration competing) as a rounded
curve; the programme's effect on the risk of death within 1, 2 and 3 years with bootstrap
intervals; and a plain sentence on how few deaths the data hold. The number of deaths
among the participants goes through the ledger: where it is below ``min_cell`` it is
withheld, and then the section shows no curve and no estimate, only that the data cannot
support any claim about death.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import DisclosureError, EstimationError
from evaluation.presentation.curves import MONTH, curve_frame, curve_universe
from evaluation.presentation.formatting import format_number
from evaluation.presentation.labels import label
from evaluation.presentation.tables import ReportTable, model_table
from evaluation.report._analysis_sections import (
    MIN_PARTICIPANTS,
    REPORT_BOOTSTRAP,
    REPORT_SEED,
    _curve_data,
    _not_estimable,
    _rounding_note,
    _with_note,
)
from evaluation.report.build import ReportBuilder, count_text

__all__ = ["DEATH_CURVE", "mortality_design", "mortality_section", "mortality_universes"]

#: Years within which deaths are counted in the text (the effect's horizon).
HORIZON_YEARS = 3
#: The protected curve of death: the universe ``mortality`` (the effect design's rows).
DEATH_CURVE: dict[str, Any] = {
    "name": "death",
    "duration": "death_days",
    "event": "death_event",
    "group": "group",
    "last_step": 12 * HORIZON_YEARS,
}


def mortality_design(registers: Any) -> Any:
    """The effect design (as the effect section builds it) with its follow-up to death."""
    from evaluation.cohorts import death_follow_up
    from evaluation.effects import comparison_cohort

    return death_follow_up(comparison_cohort(registers, rng=REPORT_SEED), registers)


def mortality_universes(data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The section's units: the design's rows (group, a death within the horizon) and the
    curve's own universe (the same rows with their month and kind of exit)."""
    horizon = int(np.floor(HORIZON_YEARS * 365.25))
    frame = pd.DataFrame(
        {
            "group": data["group"].astype(str).to_numpy(),
            "death": ((data["death_event"] == 2) & (data["death_days"] <= horizon)).to_numpy(),
        }
    )
    spec = DEATH_CURVE
    child = curve_frame(
        data,
        group=spec["group"],
        duration=spec["duration"],
        event=spec["event"],
        step=MONTH,
        last=spec["last_step"],
        prefix=f"{spec['name']}:",
    )
    return {"mortality": frame, curve_universe(spec["name"]): child}


def mortality_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.effects import estimate_mortality_effect
    from evaluation.presentation.curves import rounded_curve
    from evaluation.report._publish import protect_counts
    from evaluation.report._sections import value_label
    from evaluation.survival import cumulative_incidence

    lang, m = report.lang, report.min_cell
    section = report.section("mortality", label("report_section_mortality", lang))
    report.text(section, label("report_mortality_text", lang))
    if cohorts.programme.n_persons < MIN_PARTICIPANTS:
        report.text(section, label("report_effect_too_few", lang, min_n=MIN_PARTICIPANTS))
        return
    try:
        design = mortality_design(cohorts.registers)
    except EstimationError as err:
        _not_estimable(report, section, err)
        return
    data = design.data
    ledger = report.ledger
    # The curve's own universe is added by rounded_curve, from the same rows.
    ledger.add_universe("mortality", mortality_universes(data)["mortality"])
    where = [("group", "==", "participant")]
    counts = protect_counts(
        ledger,
        [
            ("mortality/participant", "mortality", where),
            ("mortality/participant/death", "mortality", [*where, ("death", "==", True)]),
        ],
        file="report.html",
        hidden=[("mortality/participant/alive", "mortality", [*where, ("death", "==", False)])],
    )
    n_part, n_dead = counts["mortality/participant"], counts["mortality/participant/death"]
    if not np.isfinite(n_dead) or n_dead < m:
        # Withheld (or too few to show): no curve, no estimate; nothing to claim.
        report.text(
            section,
            label(
                "report_mortality_too_few",
                lang,
                n=count_text(n_part, lang, m),
                min_cell=m,
                years=HORIZON_YEARS,
            ),
        )
        return
    names = {g: value_label(g, lang) for g in ("participant", "comparison")}
    spec = DEATH_CURVE
    try:
        curve = rounded_curve(
            ledger,
            "mortality",
            data,
            name=spec["name"],
            duration=spec["duration"],
            event=spec["event"],
            group=spec["group"],
            last_step=spec["last_step"],
            file="figures/death_by_group.data.csv",
        )
        pseudo = curve.pseudo.assign(group=[names.get(g, g) for g in curve.pseudo["group"]])
        cif = cumulative_incidence(pseudo, duration="duration", event="event", by="group")
    except (EstimationError, DisclosureError) as err:
        _not_estimable(report, section, err)
        return
    report.figure(
        section,
        lambda axes: cif.plot(
            ax=axes[0],
            kind="lines",
            risk_table=True,
            min_cell=m,
            lang=lang,
            cause_labels="relapse",
            time_unit="years",
            xticks=[0, 1, 2, 3],
        ),
        key="death_by_group",
        caption=_with_note(label("report_fig_death", lang), _rounding_note(lang, m)),
        data=_curve_data(curve, cif, names, kind="incidence"),
        aspect=0.75,
    )
    try:
        effect = estimate_mortality_effect(
            design, cohorts.registers, n_boot=REPORT_BOOTSTRAP, per_protocol=False,
            rng=REPORT_SEED,
        )  # fmt: skip
    except EstimationError as err:
        _not_estimable(report, section, err)
        return
    report.table(section, mortality_table(effect.summary("itt"), truth, lang=lang))
    r3 = effect.measure(f"risk_difference_{HORIZON_YEARS}y")
    report.text(
        section,
        label(
            "report_mortality_power",
            lang,
            n=count_text(n_part, lang, m),
            deaths=count_text(n_dead, lang, m),
            years=HORIZON_YEARS,
            pts=format_number(100 * (r3.ci_upper - r3.ci_lower) / 2, lang, decimals=1),
            lo=format_number(100 * r3.ci_lower, lang, decimals=1),
            hi=format_number(100 * r3.ci_upper, lang, decimals=1),
        ),
    )


def mortality_table(
    summary: pd.DataFrame, truth: Mapping[str, Any] | None, *, lang: str
) -> ReportTable:
    """Risk differences of death within 1, 2, 3 years, with the truth for synthetic data."""
    keep = [f"risk_difference_{y}y" for y in (1, 2, 3)]
    rows = summary[summary["measure"].isin(keep)].copy()
    rows["order"] = rows["measure"].map({k: i for i, k in enumerate(keep)})
    rows = rows.sort_values("order").reset_index(drop=True)
    # The truth among the participants the comparison design follows, where the truth has it.
    mortality = (truth or {}).get("mortality", {})
    true = mortality.get("eligible", mortality).get("risk_death_difference", {})
    rows["truth"] = [float(true.get(ms[-2], np.nan)) for ms in rows["measure"]]
    rows["measure"] = [label(f"mortality_{ms}", lang) for ms in rows["measure"]]
    return model_table(
        rows,
        key="mortality_effect",
        title=label("report_tab_mortality", lang),
        lang=lang,
        value="estimate",
        decimals=3,
        extra=["truth"] if true else [],
        footnotes=(label("report_footnote_mortality", lang, n_boot=REPORT_BOOTSTRAP),),
    )
