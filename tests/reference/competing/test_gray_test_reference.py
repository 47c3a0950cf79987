"""Reference tests: ``gray_test`` equals cmprsk::cuminc()$Tests (values printed by
``tests/reference/competing/gray_test.R`` into ``gray_test.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import gray_test

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
MGUS2 = pd.read_csv(DATA / "cif_mgus2.csv")
RETENTION = pd.read_csv(DATA / "cif_retention.csv")
R_GRAY = pd.DataFrame(json.loads((HERE / "gray_test.json").read_text()))


# (case, rho) -> data, duration, by, strata
CASES = {
    ("mgus2_by_male", 0): (MGUS2, "etime", "male", None),
    ("mgus2_by_male_strata_old", 0): (MGUS2, "etime", "male", "old"),
    ("retention_by_group", 0): (RETENTION, "duration_days", "group", None),
    ("retention_by_group", 1): (RETENTION, "duration_days", "group", None),
    ("retention_by_group_strata", 0): (RETENTION, "duration_days", "group", "stratum"),
    ("retention_by_x1_strata", 0.5): (RETENTION, "duration_days", "x1", "stratum"),
}


@pytest.mark.parametrize(("case", "rho"), list(CASES))
def test_reference_cmprsk_cuminc_tests(case, rho):
    """Statistic and p per cause equal cmprsk::cuminc()$Tests (1e-6 relative)."""
    data, duration, by, strata = CASES[(case, rho)]
    ref = R_GRAY[(R_GRAY["case"] == case) & (R_GRAY["rho"] == rho)].set_index("cause")
    got = gray_test(data, duration=duration, event="event", by=by, strata=strata, rho=rho)
    got = got.summary().set_index("cause")
    assert list(got.index) == list(ref.index)
    for col in ["statistic", "p"]:
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-6)
    assert (got["df"] == ref["df"]).all()
