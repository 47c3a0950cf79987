"""Tests of ``fine_gray``: invariances and errors (the comparison with cmprsk::crr and
survival::finegray is in ``tests/reference/competing/test_fine_gray_reference.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.fine_gray import fine_gray

DATA = Path(__file__).parent / "reference" / "data"
MGUS2 = pd.read_csv(DATA / "cif_mgus2.csv")
RETENTION = pd.read_csv(DATA / "cif_retention.csv")


def test_unit_weights_and_order_do_not_matter():
    base = fine_gray(RETENTION, "x1 + x2", duration="duration_days", event="event", cause=2)
    shuffled = RETENTION.sample(frac=1.0, random_state=4).assign(w=1.0)
    again = fine_gray(
        shuffled, "x1 + x2", duration="duration_days", event="event", cause=2, weights="w"
    )
    np.testing.assert_allclose(again.coef, base.coef, rtol=1e-10)
    np.testing.assert_allclose(again.cov, base.cov, rtol=1e-8)


def test_constant_weights_leave_the_robust_fit_unchanged():
    """Weights 3 everywhere: same estimate and same robust variance (coxph's invariance)."""
    base = fine_gray(
        RETENTION,
        "x1 + x2",
        duration="duration_days",
        event="event",
        cause=2,
        convention="finegray",
    )
    tripled = fine_gray(
        RETENTION.assign(w=3.0),
        "x1 + x2",
        duration="duration_days",
        event="event",
        cause=2,
        weights="w",
        convention="finegray",
    )
    np.testing.assert_allclose(tripled.coef, base.coef, rtol=1e-10)
    np.testing.assert_allclose(tripled.cov, base.cov, rtol=1e-8)
    assert tripled.events == 3 * base.events


def test_errors():
    with pytest.raises(EstimationError, match="cause 9 does not occur"):
        fine_gray(RETENTION, "x1", duration="duration_days", event="event", cause=9)
    with pytest.raises(EstimationError, match="convention"):
        fine_gray(
            RETENTION, "x1", duration="duration_days", event="event", cause=1, convention="stata"
        )
    with pytest.raises(EstimationError):
        fine_gray(RETENTION, "nope", duration="duration_days", event="event", cause=1)
