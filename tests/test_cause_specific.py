"""Tests of ``cause_specific_cox``: options passed through, errors (the comparison with one
coxph per cause in R is in ``tests/reference/competing/test_cause_specific_reference.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.cause_specific import cause_specific_cox
from evaluation.survival.cox import cox

RETENTION = pd.read_csv(Path(__file__).parent / "reference" / "data" / "cif_retention.csv")


def test_each_model_is_cox_with_that_cause_and_options():
    fit = cause_specific_cox(
        RETENTION,
        "x1 + x2",
        duration="duration_days",
        event="event",
        causes=[2],
        ties="breslow",
        weights="weight",
    )
    direct = cox(
        RETENTION,
        "x1 + x2",
        duration="duration_days",
        event="event",
        event_codes=(2,),
        ties="breslow",
        weights="weight",
    )
    np.testing.assert_array_equal(fit[2].coef, direct.coef)
    assert fit.events == {2: int((RETENTION["event"] == 2).sum())}
    assert list(fit.summary().columns[:2]) == ["cause", "term"]


def test_errors():
    with pytest.raises(EstimationError, match="cause 8 does not occur"):
        cause_specific_cox(RETENTION, "x1", duration="duration_days", event="event", causes=8)
    with pytest.raises(EstimationError, match="event_codes"):
        cause_specific_cox(
            RETENTION, "x1", duration="duration_days", event="event", event_codes=(1,)
        )
