"""Poisson and negative binomial rate models equal R's glm and MASS::glm.nb with vcovCL.

Values from rate_models.R (beside this file), which also wrote the per-person counts and
times at risk it read (tests/reference/data/recurrent_rates.csv). Coefficients and
cluster-robust standard errors (sandwich::vcovCL, HC1) to 1e-8; theta to 1e-6 relative
(glm.nb stops its theta iterations at 1e-12 in the deviance, which leaves theta's 8th
digit).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import EstimationError
from evaluation.survival.recurrent_models import rate_model

HERE = Path(__file__).parent
REF = json.loads((HERE / "rate_models.json").read_text())
DATA = pd.read_csv(HERE.parent / "data" / "recurrent_rates.csv")

CASES = [
    ("poisson", "x + z", "poisson", None),
    ("poisson_weighted", "x", "poisson", "w"),
    ("negbin", "x + z", "negbin", None),
    ("negbin_weighted", "x", "negbin", "w"),
]


@pytest.mark.parametrize(("key", "formula", "family", "weights"), CASES)
def test_rate_model_equals_r(key, formula, family, weights):
    fit = rate_model(
        DATA,
        formula,
        count="count",
        exposure="exposure",
        cluster="cl",
        family=family,
        weights=weights,
    )
    ref = REF[key]
    assert fit.table["term"].tolist() == ref["terms"]
    np.testing.assert_allclose(fit.table["coef"], ref["coef"], atol=1e-8)
    np.testing.assert_allclose(fit.table["se"], ref["se_cluster"], atol=1e-8)
    if family == "negbin":
        assert fit.theta == pytest.approx(ref["theta"], rel=1e-6)


def test_model_based_se_without_cluster():
    fit = rate_model(DATA, "x + z", count="count", exposure="exposure")
    np.testing.assert_allclose(fit.table["se"], REF["poisson"]["se_model"], atol=1e-8)


def test_exposure_must_be_positive():
    with pytest.raises(EstimationError, match="exposure column 'exposure'"):
        rate_model(DATA.assign(exposure=0.0), "x", count="count", exposure="exposure")
