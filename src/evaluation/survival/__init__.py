"""Survival estimators: Kaplan–Meier, log-rank tests, RMST, Cox, AFT, competing risks and
recurrent events."""

from evaluation.presentation.graphics.forest import forest_plot
from evaluation.survival.aft import AFTResult, aft
from evaluation.survival.cause_specific import CauseSpecificCoxResult, cause_specific_cox
from evaluation.survival.competing import CumulativeIncidence, cumulative_incidence
from evaluation.survival.cox import CoxResult, cox
from evaluation.survival.fine_gray import FineGrayResult, fine_gray
from evaluation.survival.gray import GrayTestResult, gray_test
from evaluation.survival.km import SurvivalCurves, kaplan_meier
from evaluation.survival.logistic import WindowLogisticResult, window_logistic
from evaluation.survival.logrank import LogRankResult, logrank
from evaluation.survival.recurrent import RecurrentCurves, ghosh_lin, mean_cumulative_function
from evaluation.survival.recurrent_models import (
    RateModelResult,
    rate_model,
    recurrent_cox,
    recurrent_cox_data,
)
from evaluation.survival.retention import RetentionMeasures, retention_measures
from evaluation.survival.rmst import RMSTResult, rmst
from evaluation.survival.zph import ZphResult, cox_zph

__all__ = [
    "RetentionMeasures",
    "retention_measures",
    "AFTResult",
    "CoxResult",
    "WindowLogisticResult",
    "ZphResult",
    "aft",
    "cox",
    "cox_zph",
    "forest_plot",
    "window_logistic",
    "CauseSpecificCoxResult",
    "CumulativeIncidence",
    "FineGrayResult",
    "GrayTestResult",
    "cause_specific_cox",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
    "LogRankResult",
    "RMSTResult",
    "SurvivalCurves",
    "kaplan_meier",
    "logrank",
    "rmst",
    "RateModelResult",
    "RecurrentCurves",
    "ghosh_lin",
    "mean_cumulative_function",
    "rate_model",
    "recurrent_cox",
    "recurrent_cox_data",
]
