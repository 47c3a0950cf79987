"""Andersen–Gill and PWP (total and gap time) models equal R's coxph with cluster(id).

Values from andersen_gill_pwp.R (beside this file) on
tests/reference/data/recurrent_events.csv: coefficients, robust and model-based standard
errors and the log partial likelihood, to 1e-8 (both fits converge to 1e-11 or better).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival.recurrent_models import recurrent_cox, recurrent_cox_data

HERE = Path(__file__).parent
REF = json.loads((HERE / "andersen_gill_pwp.json").read_text())
DATA = pd.read_csv(HERE.parent / "data" / "recurrent_events.csv")


@pytest.mark.parametrize(
    ("key", "model"),
    [("andersen_gill", "andersen-gill"), ("pwp_total", "pwp-total"), ("pwp_gap", "pwp-gap")],
)
def test_recurrent_cox_equals_coxph(key, model):
    fit = recurrent_cox(DATA, "x + z", model=model, id="id", cluster="id")
    s = fit.summary()
    ref = REF[key]
    np.testing.assert_allclose(s["coef"], ref["coef"], atol=1e-8)
    np.testing.assert_allclose(s["robust_se"], ref["se"], atol=1e-8)
    np.testing.assert_allclose(s["se"], ref["naive_se"], atol=1e-8)
    assert fit.loglik == pytest.approx(ref["loglik"][1], abs=1e-6)


def test_gap_time_restarts_at_each_event_and_keeps_custody_gaps():
    rows = recurrent_cox_data(DATA, model="pwp-gap", id="id")
    first = rows.groupby("id").head(1)
    assert (first["entry"] == first["start"]).all()
    after_event = rows["event"].shift(1).eq(1) & rows["id"].eq(rows["id"].shift(1))
    assert (rows.loc[after_event, "entry"] == 0).all()
    np.testing.assert_allclose(rows["exit"] - rows["entry"], rows["stop"] - rows["start"])
