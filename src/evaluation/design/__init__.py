"""Design for small programmes: power and minimum detectable effects, closed form and by
simulation (ARCHITECTURE.md, "Layers": above the effect estimators, below the report).

With tens of participants a year, a null result means little unless the evaluation says
which effect it had the power to see. The closed forms (Schoenfeld, Freedman, two
proportions) take the design effects of weighting and clustering; the simulation runs the
real design (generator → comparison cohort → programme effect) replication by replication.
"""

from __future__ import annotations

from evaluation._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "DesignEffect": "evaluation.design._design_effects",
    "clustering_design_effect": "evaluation.design._design_effects",
    "kish_effective_size": "evaluation.design._design_effects",
    "weighting_design_effect": "evaluation.design._design_effects",
    "PowerCalculation": "evaluation.design.closed_form",
    "event_probability": "evaluation.design.closed_form",
    "events_needed": "evaluation.design.closed_form",
    "hazard_ratio_power": "evaluation.design.closed_form",
    "minimum_detectable_hazard_ratio": "evaluation.design.closed_form",
    "minimum_detectable_risk_difference": "evaluation.design.closed_form",
    "participants_needed": "evaluation.design.closed_form",
    "risk_difference_power": "evaluation.design.closed_form",
    "risk_difference_sample_size": "evaluation.design.closed_form",
    "PowerResult": "evaluation.design.simulation",
    "power_replication": "evaluation.design.simulation",
    "power_study": "evaluation.design.simulation",
    "simulated_power": "evaluation.design.simulation",
    "PlanningResult": "evaluation.design.planning",
    "baseline_survival": "evaluation.design.planning",
    "planning_table": "evaluation.design.planning",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
