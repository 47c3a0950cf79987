"""Tests of ``gray_test``: special cases and input errors (the comparison with R's
cmprsk::cuminc is in ``tests/reference/competing/test_gray_test_reference.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.gray import gray_test

DATA = Path(__file__).parent / "reference" / "data"
MGUS2 = pd.read_csv(DATA / "cif_mgus2.csv")
RETENTION = pd.read_csv(DATA / "cif_retention.csv")


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
