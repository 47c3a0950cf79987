"""Registers to analysis tables: relapse and retention cohorts, Brå definitions, flow."""

from evaluation.cohorts._cohort import Cohort
from evaluation.cohorts.covariates import covariates_at
from evaluation.cohorts.definitions import PRESETS, RelapseDefinition
from evaluation.cohorts.relapse import relapse_cohort
from evaluation.cohorts.tables import RelapseTable, relapse_table

__all__ = [
    "PRESETS",
    "Cohort",
    "RelapseDefinition",
    "covariates_at",
    "relapse_cohort",
    "RelapseTable",
    "relapse_table",
]
