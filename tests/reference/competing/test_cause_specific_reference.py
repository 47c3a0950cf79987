"""Reference tests: ``cause_specific_cox`` equals one coxph per cause (values printed by
``tests/reference/competing/cif_cause_specific_cox.R`` into ``cif_cause_specific_cox.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import FewClustersWarning
from evaluation.survival import cause_specific_cox

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
RETENTION = pd.read_csv(DATA / "cif_retention.csv")
R_CS = json.loads((HERE / "cif_cause_specific_cox.json").read_text())


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
