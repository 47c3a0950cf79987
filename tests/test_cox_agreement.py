"""Agreement: ``cox`` and lifelines' ``CoxPHFitter`` agree where lifelines is right.

Without tied times and without delayed entry the robust (sandwich) standard errors agree;
with delayed entry lifelines' differ (its score residuals ignore the entry times), which is
why ``cox`` computes its own (proven equal to R in
``tests/reference/cox/test_cox_reference.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

from evaluation.survival.cox import cox


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 600
    x = rng.normal(size=(n, 2))
    t = rng.exponential(size=n) / np.exp(x @ np.array([0.5, -0.3]))
    c = rng.uniform(0, 2, n)
    data = pd.DataFrame(
        {"x1": x[:, 0], "x2": x[:, 1], "time": np.minimum(t, c), "event": (t <= c).astype(int)}
    )
    data["entry"] = np.where(rng.random(n) < 0.4, rng.uniform(0, 0.3, n), 0.0)
    return data[data["time"] > data["entry"]].reset_index(drop=True)


def _lifelines(data: pd.DataFrame, entry: str | None) -> CoxPHFitter:
    cols = ["x1", "x2", "time", "event", *([entry] if entry else [])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' advice on robust=True, not under test
        return CoxPHFitter().fit(data[cols], "time", "event", robust=True, entry_col=entry)


def test_robust_variance_agrees_without_ties_or_entry() -> None:
    data = _data()
    assert data["time"].is_unique
    lf = _lifelines(data, None)
    ours = cox(data, "x1 + x2", duration="time", event="event", robust=True)
    # lifelines stops iterating at ~1e-7 relative; its sandwich inherits that.
    np.testing.assert_allclose(lf.params_.to_numpy(), ours.coef, rtol=1e-5)
    np.testing.assert_allclose(
        lf.standard_errors_.to_numpy(), ours.summary()["robust_se"].to_numpy(), rtol=1e-5
    )


def test_robust_variance_differs_with_delayed_entry() -> None:
    data = _data()
    lf = _lifelines(data, "entry")
    ours = cox(data, "x1 + x2", duration="time", event="event", entry="entry", robust=True)
    np.testing.assert_allclose(lf.params_.to_numpy(), ours.coef, rtol=1e-5)
    gap = np.abs(lf.standard_errors_.to_numpy() / ours.summary()["robust_se"].to_numpy() - 1)
    assert gap.min() > 0.005
