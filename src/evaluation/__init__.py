"""Evaluate Swedish exit programmes (avhopparverksamhet) by relapse and retention.

The public API is listed in ``__all__`` and documented in ARCHITECTURE.md. Names are imported
lazily from their subpackages, so ``import evaluation`` stays fast and a notebook that only
needs the registers does not pay for matplotlib.
"""

from __future__ import annotations

from evaluation._errors import (
    ConvergenceWarning,
    DefinitionError,
    DisclosureError,
    DisclosureWarning,
    EstimationError,
    EvaluationError,
    EvaluationWarning,
    ExtractError,
    FewClustersWarning,
    RegisterError,
    StudyError,
)
from evaluation._lazy import lazy_exports

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    # registers
    "Registers": "evaluation.registers",
    "load_synthetic": "evaluation.registers",
    # register extracts
    "import_extract": "evaluation.registers.extract",
    "read_mapping": "evaluation.registers.extract",
    "write_import": "evaluation.registers.extract",
    "pseudonymise_files": "evaluation.registers.extract",
    "PartitionedRegisters": "evaluation.registers",
    # synthetic
    "SimulationConfig": "evaluation.synthetic",
    "SimulatedRegisters": "evaluation.synthetic",
    "simulate_registers": "evaluation.synthetic",
    "write_synthetic": "evaluation.synthetic",
    "load_truth": "evaluation.synthetic",
    "write_source_extract": "evaluation.synthetic",
    # studies
    "StudyDesign": "evaluation.studies",
    "StudyResult": "evaluation.studies",
    "run_study": "evaluation.studies",
    # cohorts
    "Cohort": "evaluation.cohorts",
    "RelapseDefinition": "evaluation.cohorts",
    "relapse_cohort": "evaluation.cohorts",
    "retention_cohort": "evaluation.cohorts",
    "relapse_table": "evaluation.cohorts",
    "covariates_at": "evaluation.cohorts",
    "retention_measures": "evaluation.survival",
    "landmark_cohort": "evaluation.cohorts",
    "recurrence_cohort": "evaluation.cohorts",
    "death_follow_up": "evaluation.cohorts",
    # survival
    "kaplan_meier": "evaluation.survival",
    "logrank": "evaluation.survival",
    "cox": "evaluation.survival",
    "cox_zph": "evaluation.survival",
    "aft": "evaluation.survival",
    "rmst": "evaluation.survival",
    "window_logistic": "evaluation.survival",
    "forest_plot": "evaluation.survival",
    # competing risks
    "cumulative_incidence": "evaluation.survival",
    "gray_test": "evaluation.survival",
    "fine_gray": "evaluation.survival",
    "cause_specific_cox": "evaluation.survival",
    # recurrent events
    "mean_cumulative_function": "evaluation.survival",
    "ghosh_lin": "evaluation.survival",
    "recurrent_cox": "evaluation.survival",
    "rate_model": "evaluation.survival",
    # effects
    "comparison_cohort": "evaluation.effects",
    "propensity_weights": "evaluation.effects",
    "match": "evaluation.effects",
    "balance": "evaluation.effects",
    "estimate_programme_effect": "evaluation.effects",
    "estimate_recurrent_effect": "evaluation.effects",
    "estimate_mortality_effect": "evaluation.effects",
    "e_value": "evaluation.effects",
    "confounding_check": "evaluation.effects",
    # presentation
    "theme": "evaluation.presentation",
    "suppress_small_cells": "evaluation.presentation",
    "find_disclosures": "evaluation.presentation",
    # municipal comparison
    "case_mix": "evaluation.sites",
    "funnel": "evaluation.sites",
    "shrinkage": "evaluation.sites",
    "meta_analysis": "evaluation.sites",
    "effect_by_site": "evaluation.sites",
    # design (power and minimum detectable effects)
    "DesignEffect": "evaluation.design",
    "kish_effective_size": "evaluation.design",
    "weighting_design_effect": "evaluation.design",
    "clustering_design_effect": "evaluation.design",
    "events_needed": "evaluation.design",
    "participants_needed": "evaluation.design",
    "hazard_ratio_power": "evaluation.design",
    "minimum_detectable_hazard_ratio": "evaluation.design",
    "risk_difference_power": "evaluation.design",
    "risk_difference_sample_size": "evaluation.design",
    "minimum_detectable_risk_difference": "evaluation.design",
    "simulated_power": "evaluation.design",
    "power_replication": "evaluation.design",
    "planning_table": "evaluation.design",
    # report
    "build_report": "evaluation.report",
}

__all__ = [
    "ConvergenceWarning",
    "DefinitionError",
    "DisclosureError",
    "DisclosureWarning",
    "EstimationError",
    "EvaluationError",
    "EvaluationWarning",
    "ExtractError",
    "FewClustersWarning",
    "RegisterError",
    "StudyError",
    "__version__",
    *_LAZY,
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
