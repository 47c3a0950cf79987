"""Reference tests: ``aft`` equals R's ``survreg`` (survival 3.5) on the Rossi data.

Values from ``tests/reference/cox/cox_rossi.R`` (``aft`` block; survreg run with
``rel.tolerance = 1e-12`` so that both sides are the MLE well within 1e-6).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.aft import aft

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "cox_rossi.json").read_text())["aft"]
ROSSI = pd.read_csv(DATA / "cox_rossi.csv")
FORMULA = "fin + age + race + wexp + mar + paro + prio"
RTOL = 1e-6


def _check(res, r) -> None:
    se = np.sqrt(np.diag(res.cov))
    np.testing.assert_allclose(res.coef[:-1], r["coef"], rtol=RTOL)
    np.testing.assert_allclose(se[:-1], r["se"], rtol=RTOL)
    assert res.coef[-1] == pytest.approx(r["log_scale"], rel=RTOL)
    assert se[-1] == pytest.approx(r["log_scale_se"], rel=RTOL)
    np.testing.assert_allclose([res.loglik_null, res.loglik], r["loglik"], rtol=1e-9)


@pytest.mark.parametrize("distribution", ["weibull", "lognormal", "loglogistic"])
def test_aft_matches_survreg(distribution: str) -> None:
    res = aft(ROSSI, FORMULA, duration="week", event="arrest", distribution=distribution)
    _check(res, R[distribution])
    table = res.summary()
    assert list(table["term"]) == ["Intercept", *FORMULA.split(" + "), "Log(scale)"]
    np.testing.assert_allclose(table["time_ratio"], np.exp(table["coef"]), rtol=1e-12)
    assert (table["ci_lower"] < table["time_ratio"]).all()
    assert (table["time_ratio"] < table["ci_upper"]).all()
    assert res.scale == pytest.approx(np.exp(R[distribution]["log_scale"]), rel=RTOL)


def test_weighted_weibull_matches_survreg() -> None:
    res = aft(ROSSI, "fin + age + prio", duration="week", event="arrest", weights="wt")
    _check(res, R["weibull_weighted"])


def test_lifelines_stops_short_of_the_maximum() -> None:
    """Why ``aft`` fits itself: lifelines' log-logistic AFT stops below the maximum."""
    from lifelines import LogLogisticAFTFitter

    cols = [*FORMULA.split(" + "), "week", "arrest"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' convergence chatter, not under test
        lf = LogLogisticAFTFitter().fit(ROSSI[cols], "week", "arrest")
    ours = aft(ROSSI, FORMULA, duration="week", event="arrest", distribution="loglogistic")
    assert lf.log_likelihood_ <= ours.loglik + 1e-9
    paro = lf.params_.loc[("alpha_", "paro")]
    assert abs(paro / ours.coef[6] - 1) > 1e-3


def test_bad_input() -> None:
    with pytest.raises(EstimationError, match="distribution"):
        aft(ROSSI, FORMULA, duration="week", event="arrest", distribution="gamma")
    bad = ROSSI.assign(week=ROSSI["week"].where(ROSSI.index != 4, 0))
    with pytest.raises(EstimationError, match=r"'week' has 1 value <= 0 \(row 4\)"):
        aft(bad, FORMULA, duration="week", event="arrest")
