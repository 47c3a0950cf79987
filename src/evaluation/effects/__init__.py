"""Programme effect: comparison groups, time zero, propensity scores, matching, balance,
adjusted curves with bootstrap intervals and sensitivity to unobserved confounding."""

from evaluation.effects.matching import MatchResult, match
from evaluation.effects.propensity import PropensityResult, propensity_weights

__all__ = ["MatchResult", "PropensityResult", "match", "propensity_weights"]
