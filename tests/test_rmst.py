"""RMST: recovery of a known exponential truth, agreement with lifelines' estimate, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from evaluation import EstimationError
from evaluation.survival import rmst


def _exponential(n: int, rate: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.exponential(1 / rate, n)
    c = rng.uniform(0, 1500, n)
    return pd.DataFrame({"duration_days": np.minimum(t, c), "event": (t <= c).astype(int)})


def test_recovers_the_exponential_truth_within_its_standard_error() -> None:
    rate, tau = 1 / 700, 365.0
    truth = (1 - np.exp(-rate * tau)) / rate  # integral of exp(-rate t) on [0, tau]
    res = rmst(_exponential(4000, rate, 11), duration="duration_days", event="event", tau=tau)
    row = res.table.iloc[0]
    # Three standard errors: a fixed seed, so this fails only for a biased estimator (or
    # with probability 0.3 % for a correct one on another seed).
    assert abs(row["estimate"] - truth) < 3 * row["se"]
    assert row["ci_lower"] < truth < row["ci_upper"]


def test_difference_and_ratio_recover_the_truth() -> None:
    tau = 365.0
    a = _exponential(3000, 1 / 500, 12).assign(group="a")
    b = _exponential(3000, 1 / 900, 13).assign(group="b")
    res = rmst(pd.concat([a, b]), duration="duration_days", event="event", tau=tau, by="group")
    true = {g: (1 - np.exp(-tau / m)) * m for g, m in (("a", 500), ("b", 900))}
    diff = res.contrasts[res.contrasts["term"] == "difference"].iloc[0]
    ratio = res.contrasts[res.contrasts["term"] == "ratio"].iloc[0]
    assert diff["reference"] == "a" and diff["group"] == "b"
    assert abs(diff["estimate"] - (true["b"] - true["a"])) < 3 * diff["se"]
    assert ratio["ci_lower"] < true["b"] / true["a"] < ratio["ci_upper"]
    assert list(res.summary()["term"]) == ["rmst", "rmst", "difference", "ratio"]
    assert "RMST" in res._repr_html_()


def test_estimate_agrees_with_lifelines() -> None:
    # lifelines' point estimate is right; its returned variance is not the estimator's
    # (see the rmst docstring), so only the estimate is compared here; the se is R's.
    df = _exponential(1000, 1 / 600, 14)
    kmf = KaplanMeierFitter().fit(df["duration_days"], df["event"])
    ours = rmst(df, duration="duration_days", event="event", tau=500).table["estimate"].item()
    np.testing.assert_allclose(ours, restricted_mean_survival_time(kmf, t=500), rtol=1e-9)


def test_errors() -> None:
    df = _exponential(50, 1 / 600, 15)
    with pytest.raises(EstimationError, match="tau must be a positive number"):
        rmst(df, duration="duration_days", event="event", tau=-1)
    with pytest.raises(EstimationError, match="duration column 'days' is not in the data"):
        rmst(df, duration="days", event="event", tau=10)
