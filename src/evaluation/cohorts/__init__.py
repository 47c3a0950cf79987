"""Registers to analysis tables: relapse and retention cohorts, Brå definitions, flow."""

from evaluation.cohorts.covariates import covariates_at

__all__ = ["covariates_at"]
