"""Reference: case_mix's logistic model (cluster-robust by person) and Cox model, and the
observed and expected relapses per municipality, equal R's glm + sandwich::vcovCL and
coxph + martingale residuals (values printed by case_mix_glm.R from case_mix.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.sites import case_mix

HERE = Path(__file__).parent
REF = json.loads((HERE / "case_mix_glm.json").read_text())
DATA = pd.read_csv(HERE / "case_mix.csv").astype({"relapse_1y": "boolean"})
# R term -> the package's term (patsy's names).
TERMS = {
    "(Intercept)": "Intercept",
    "sexM": "C(Q('sex'))[T.M]",
    "age": "Q('age')",
    "prior_decisions_5y": "Q('prior_decisions_5y')",
    "prior_custody_5yTRUE": "C(Q('prior_custody_5y'))[T.True]",
    "prior_violence_5y": "Q('prior_violence_5y')",
    "entry_year": "Q('entry_year')",
}


@pytest.mark.parametrize("model", ["logistic", "cox"])
def test_case_mix_equals_r(model: str) -> None:
    ref = REF[model]
    cm = case_mix(DATA, model=model)  # type: ignore[arg-type]
    coef = cm.model_table.set_index("term")
    terms = [TERMS[t] for t in ref["terms"]]
    # Both fits converge to 1e-8 or better on the log-likelihood: coefficients and
    # cluster-robust SEs agree to ~1e-6 relative; expected counts are sums of fitted values.
    np.testing.assert_allclose(coef.loc[terms, "coef"], ref["coef"], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(coef.loc[terms, "se"], ref["se"], rtol=1e-5)
    t = cm.table.set_index("group").loc[ref["groups"]]
    np.testing.assert_array_equal(t["observed"], ref["observed"])
    np.testing.assert_allclose(t["expected"], ref["expected"], rtol=1e-6)


def test_expected_adds_up_to_observed() -> None:
    # Logistic with an intercept and Cox (martingale residuals) both reproduce the total.
    for model in ("logistic", "cox"):
        t = case_mix(DATA, model=model).table  # type: ignore[arg-type]
        assert t["expected"].sum() == pytest.approx(t["observed"].sum(), rel=1e-8)
