"""Registers to analysis tables: relapse, recurrence, retention, comparison and landmark
cohorts, Brå definitions, flow."""

from evaluation.cohorts._cohort import Cohort
from evaluation.cohorts.comparison import comparison_cohort
from evaluation.cohorts.covariates import covariates_at
from evaluation.cohorts.definitions import PRESETS, RelapseDefinition
from evaluation.cohorts.landmark import landmark_cohort
from evaluation.cohorts.mortality import death_follow_up
from evaluation.cohorts.recurrence import recurrence_cohort, recurrence_rows, recurrence_totals
from evaluation.cohorts.relapse import relapse_cohort
from evaluation.cohorts.retention import retention_cohort
from evaluation.cohorts.tables import RelapseTable, relapse_table

__all__ = [
    "PRESETS",
    "Cohort",
    "RelapseDefinition",
    "RelapseTable",
    "comparison_cohort",
    "covariates_at",
    "death_follow_up",
    "landmark_cohort",
    "recurrence_cohort",
    "recurrence_rows",
    "recurrence_totals",
    "relapse_cohort",
    "relapse_table",
    "retention_cohort",
]
