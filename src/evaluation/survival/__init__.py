"""Survival estimators: Kaplan–Meier, log-rank tests, RMST, Cox, AFT and competing risks."""

from evaluation.survival.competing import CumulativeIncidence, cumulative_incidence
from evaluation.survival.gray import GrayTestResult, gray_test
from evaluation.survival.km import SurvivalCurves, kaplan_meier
from evaluation.survival.logrank import LogRankResult, logrank
from evaluation.survival.rmst import RMSTResult, rmst

__all__ = [
    "CumulativeIncidence",
    "GrayTestResult",
    "cumulative_incidence",
    "gray_test",
    "LogRankResult",
    "RMSTResult",
    "SurvivalCurves",
    "kaplan_meier",
    "logrank",
    "rmst",
]
from evaluation.survival.fine_gray import FineGrayResult, fine_gray
