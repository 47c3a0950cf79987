"""Tests of ``gray_test``: reference values from R's cmprsk::cuminc and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import EstimationError
from evaluation.survival.gray import gray_test

REF = Path(__file__).parent / "reference"
MGUS2 = pd.read_csv(REF / "data" / "cif_mgus2.csv")
RETENTION = pd.read_csv(REF / "data" / "cif_retention.csv")
R_GRAY = pd.DataFrame(json.loads((REF / "gray_test.json").read_text()))

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


def test_single_cause_and_identical_groups():
    one = gray_test(RETENTION, duration="duration_days", event="event", by="group", cause=2)
    assert one.summary()["cause"].tolist() == [2]
    # Two copies of the same data as two groups: no difference at all.
    d = pd.concat([RETENTION.assign(copy="a"), RETENTION.assign(copy="b")], ignore_index=True)
    res = gray_test(d, duration="duration_days", event="event", by="copy").summary()
    assert np.allclose(res["statistic"], 0.0, atol=1e-10)
    assert np.allclose(res["p"], 1.0)


def test_errors():
    with pytest.raises(EstimationError, match="two or more"):
        gray_test(RETENTION.assign(g=1), duration="duration_days", event="event", by="g")
    with pytest.raises(EstimationError, match="cause 7 does not occur"):
        gray_test(RETENTION, duration="duration_days", event="event", by="group", cause=7)
