"""The report's design section: what the evaluation can detect.

With tens of participants a year, a null result means little unless the report says which
effect the numbers could have detected. The section shows the planning figure (minimum
detectable hazard ratio by yearly intake and years of intake, from the comparisons'
relapse-free survival and the design effect of their weights) and, for each municipality,
the smallest effect its participants, comparisons and relapses could detect. Those four
counts per municipality pass through the report's ledger (universe ``design``: the
comparison design's rows); where one is withheld, so are the minimum detectable effects,
which would give it back.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import ConvergenceWarning, EvaluationError
from evaluation.presentation.formatting import format_number
from evaluation.presentation.labels import label
from evaluation.presentation.tables import ReportTable
from evaluation.report.build import ReportBuilder, count_text

__all__ = ["DESIGN_HR", "design_section", "design_universes"]

#: The hazard ratio whose power the planning figure's companion numbers refer to.
DESIGN_HR = 0.7
#: Power and level of the minimum detectable effects.
DESIGN_POWER = 0.8
DESIGN_ALPHA = 0.05
TABLE_KEY = "design_by_municipality"
ALL = "__all__"


def design_universes(design: Any) -> dict[str, pd.DataFrame]:
    """The design section's units: the comparison design's rows (participant or
    comparison, municipality at time zero, relapse during follow-up)."""
    data = design.data
    return {
        "design": pd.DataFrame(
            {
                "treated": data["treated"].astype(int).to_numpy(),
                "municipality": data["municipality"].astype(str).to_numpy(),
                "relapse": (data["event"].to_numpy() == 1),
            }
        )
    }


def _weighting(data: pd.DataFrame) -> tuple[Any, ...]:
    """The Kish design effect of the comparisons' ATT weights (none when the propensity
    model cannot be fitted on these data, or separates the groups)."""
    from evaluation.design import weighting_design_effect
    from evaluation.effects import formula_with_affiliation, propensity_weights

    try:
        with warnings.catch_warnings():
            # A model that separates the groups gives weights that say nothing.
            warnings.simplefilter("error", ConvergenceWarning)
            ps = propensity_weights(data, formula_with_affiliation(data), treatment="treated")
    except (EvaluationError, ConvergenceWarning):
        return ()
    w = ps.weights.to_numpy()[data["treated"].to_numpy() == 0]
    return (weighting_design_effect(w),)


def design_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    """Vad kan utvärderingen upptäcka? / What can the evaluation detect?"""
    from evaluation.design import baseline_survival, planning_table
    from evaluation.effects import comparison_cohort
    from evaluation.report._analysis_sections import REPORT_SEED, _not_estimable

    lang = report.lang
    section = report.section("design", label("report_section_design", lang))
    report.text(section, label("report_design_text", lang))
    try:
        design = comparison_cohort(cohorts.registers, rng=REPORT_SEED)
        baseline = baseline_survival(design.data)
        deffs = _weighting(design.data)
        plan = planning_table(
            baseline=baseline,
            hr=DESIGN_HR,
            alpha=DESIGN_ALPHA,
            power=DESIGN_POWER,
            design_effects=deffs,
        )
    except EvaluationError as err:
        _not_estimable(report, section, err)
        return
    deff_text = (
        format_number(deffs[0].value, lang, decimals=2)
        if deffs
        else label("report_design_no_weights", lang)
    )
    report.figure(
        section,
        lambda axes: plan.plot(ax=axes[0], what="mdhr"),
        key="design_planning",
        caption=label(
            "report_fig_design",
            lang,
            power=f"{100 * DESIGN_POWER:.0f}",
            deff=deff_text,
        ),
        data=plan.plot_data(),
        aspect=0.62,
    )
    report.table(
        section,
        _municipality_table(report, design, plan.baseline_risk_1y, deffs, deff_text),
    )


def _municipality_table(
    report: ReportBuilder,
    design: Any,
    risk_1y: float,
    deffs: tuple[Any, ...],
    deff_text: str,
) -> ReportTable:
    """Participants, comparisons, their relapses and the minimum detectable effects per
    municipality, every count through the ledger."""
    from evaluation.design import (
        minimum_detectable_hazard_ratio,
        minimum_detectable_risk_difference,
    )
    from evaluation.report._publish import protect_counts

    lang, m = report.lang, report.min_cell
    ledger = report.ledger
    for name, frame in design_universes(design).items():
        ledger.add_universe(name, frame)
    names = sorted(ledger.universes["design"]["municipality"].unique())
    kinds = {
        "n1": [("treated", "==", 1)],
        "n0": [("treated", "==", 0)],
        "d1": [("treated", "==", 1), ("relapse", "==", True)],
        "d0": [("treated", "==", 0), ("relapse", "==", True)],
    }
    # The whole design's row only when there are several municipalities to add up.
    shown_rows = [ALL, *names] if len(names) > 1 else names
    cells = []
    for mun in shown_rows:
        where_m = [] if mun == ALL else [("municipality", "==", mun)]
        for kind, where in kinds.items():
            cells.append((f"design/{mun}/{kind}", "design", [*where_m, *where]))
    counts = protect_counts(ledger, cells, file=f"tables/{TABLE_KEY}.csv")

    rows = []
    withheld = False
    for mun in shown_rows:
        c = {k: counts[f"design/{mun}/{k}"] for k in kinds}
        # Each effect is withheld with the counts it is computed from (it gives them back).
        if np.isfinite(c["d1"]) and np.isfinite(c["d0"]):
            mdhr = _mdhr_text(c, deffs, lang, minimum_detectable_hazard_ratio)
        else:
            mdhr, withheld = "..", True
        if np.isfinite(c["n1"]) and np.isfinite(c["n0"]):
            mdrd = _mdrd_text(c, risk_1y, deffs, lang, minimum_detectable_risk_difference)
        else:
            mdrd, withheld = "..", True
        rows.append(
            {
                label("municipality", lang): label("all", lang) if mun == ALL else mun,
                label("report_design_n1", lang): count_text(c["n1"], lang, m),
                label("report_design_n0", lang): count_text(c["n0"], lang, m),
                label("report_design_d1", lang): count_text(c["d1"], lang, m),
                label("report_design_d0", lang): count_text(c["d0"], lang, m),
                label("report_design_mdhr", lang): mdhr,
                label("report_design_mdrd", lang): mdrd,
            }
        )
    notes = [
        label(
            "report_design_footnote",
            lang,
            power=f"{100 * DESIGN_POWER:.0f}",
            deff=deff_text,
            risk=format_number(100 * risk_1y, lang, decimals=0),
        )
    ]
    if withheld:
        notes.append(label("report_design_withheld", lang, min_cell=m))
    return ReportTable(
        key=TABLE_KEY,
        title=label("report_tab_design", lang),
        table=pd.DataFrame(rows),
        footnotes=tuple(notes),
        lang=lang,
    )


def _mdhr_text(c: Mapping[str, float], deffs: tuple[Any, ...], lang: str, mdhr: Any) -> str:
    if not (c["d1"] > 0 and c["d0"] > 0):
        return "–"
    value = mdhr(
        events=c["d1"] + c["d0"],
        events_participants=c["d1"],
        method="rubinstein",
        alpha=DESIGN_ALPHA,
        power=DESIGN_POWER,
        design_effects=deffs,
    ).value
    return format_number(value, lang, decimals=2)


def _mdrd_text(
    c: Mapping[str, float], risk: float, deffs: tuple[Any, ...], lang: str, mdrd: Any
) -> str:
    if not (c["n1"] > 0 and c["n0"] > 0 and 0 < risk < 1):
        return "–"
    value = mdrd(
        risk,
        n_participants=c["n1"],
        n_comparisons=c["n0"],
        alpha=DESIGN_ALPHA,
        power=DESIGN_POWER,
        design_effects=deffs,
    ).value
    if not np.isfinite(value):
        return "–"
    return format_number(100 * abs(value), lang, decimals=1)
