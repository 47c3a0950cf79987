"""Tests of ``cause_specific_cox``: one coxph per cause in R, options passed through."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import EstimationError, FewClustersWarning
from evaluation.survival.cause_specific import cause_specific_cox
from evaluation.survival.cox import cox

REF = Path(__file__).parent / "reference"
RETENTION = pd.read_csv(REF / "data" / "cif_retention.csv")
R_CS = json.loads((REF / "cif_cause_specific_cox.json").read_text())
R_NAMES = {"group[T.B]": "groupB", "group[T.C]": "groupC"}


@pytest.mark.parametrize(
    ("case", "formula", "options"),
    [
        ("cluster_team", "x1 + x2 + group", {"cluster": "team"}),
        ("strata_stratum", "x1 + x2", {"strata": "stratum"}),
    ],
)
def test_reference_coxph_per_cause(case, formula, options):
    """Coefficients and (cluster-robust) SEs equal coxph per cause (1e-6 relative)."""
    if "cluster" in options:
        # 15 teams: each cause's fit warns that so few clusters make the errors unreliable.
        with pytest.warns(FewClustersWarning, match="'team' has 15 clusters"):
            fit = cause_specific_cox(
                RETENTION, formula, duration="duration_days", event="event", **options
            )
    else:
        fit = cause_specific_cox(
            RETENTION, formula, duration="duration_days", event="event", **options
        )
    table = fit.summary()
    table["term"] = table["term"].replace(R_NAMES)
    se_col = "robust_se" if "cluster" in options else "se"
    assert fit.causes == (1, 2, 3, 4)
    for ref in [r for r in R_CS if r["case"] == case]:
        got = table[table["cause"] == ref["cause"]].set_index("term").loc[ref["term"]]
        np.testing.assert_allclose(got["coef"], ref["coef"], rtol=1e-6)
        np.testing.assert_allclose(got[se_col], ref["se"], rtol=1e-6)


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
