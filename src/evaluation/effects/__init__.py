"""Programme effect: comparison groups, time zero, propensity scores, matching, balance,
adjusted curves with bootstrap intervals and sensitivity to unobserved confounding."""

from evaluation.effects.balance import BalanceResult, balance
from evaluation.effects.bootstrap import BootstrapDraws
from evaluation.effects.comparison import (
    DEFAULT_PROPENSITY_FORMULA,
    comparison_cohort,
    formula_with_affiliation,
)
from evaluation.effects.effect import ProgrammeEffect, estimate_programme_effect
from evaluation.effects.matching import MatchResult, match
from evaluation.effects.mortality import estimate_mortality_effect
from evaluation.effects.propensity import PropensityResult, propensity_weights
from evaluation.effects.recurrent import RecurrentEffect, estimate_recurrent_effect
from evaluation.effects.sensitivity import EValueResult, confounding_check, e_value

__all__ = [
    "DEFAULT_PROPENSITY_FORMULA",
    "BalanceResult",
    "BootstrapDraws",
    "EValueResult",
    "MatchResult",
    "ProgrammeEffect",
    "PropensityResult",
    "RecurrentEffect",
    "balance",
    "comparison_cohort",
    "confounding_check",
    "e_value",
    "estimate_mortality_effect",
    "estimate_programme_effect",
    "estimate_recurrent_effect",
    "formula_with_affiliation",
    "match",
    "propensity_weights",
]
