"""Programme effect: comparison groups, time zero, propensity scores, matching, balance,
adjusted curves with bootstrap intervals and sensitivity to unobserved confounding."""

from evaluation.effects.balance import BalanceResult, balance
from evaluation.effects.matching import MatchResult, match
from evaluation.effects.propensity import PropensityResult, propensity_weights
from evaluation.effects.sensitivity import EValueResult, e_value

__all__ = [
    "BalanceResult",
    "EValueResult",
    "MatchResult",
    "PropensityResult",
    "balance",
    "e_value",
    "match",
    "propensity_weights",
]
