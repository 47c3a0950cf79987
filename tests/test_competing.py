"""Tests of ``cumulative_incidence``: invariants, input errors (the comparison with R is in
``tests/reference/competing/test_cumulative_incidence_reference.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.competing import cumulative_incidence

DATA = Path(__file__).parent / "reference" / "data"
MGUS2 = pd.read_csv(DATA / "cif_mgus2.csv")
RETENTION = pd.read_csv(DATA / "cif_retention.csv")


def test_tied_times_processed_together_by_hand():
    """Events of two causes and a censoring at one time: the textbook calculation."""
    d = pd.DataFrame({"t": [1, 2, 2, 2, 3, 4], "e": [1, 1, 2, 0, 2, 1]})
    ci = cumulative_incidence(d, duration="t", event="e")
    at = ci.at([2]).set_index("cause")["estimate"]
    # S(1) = 5/6; at t = 2 five at risk, one event of each cause (the censoring stays in).
    assert at[1] == pytest.approx(1 / 6 + 5 / 6 * 1 / 5, rel=1e-12)
    assert at[2] == pytest.approx(5 / 6 * 1 / 5, rel=1e-12)
    assert at[0] == pytest.approx(5 / 6 * 3 / 5, rel=1e-12)


@pytest.mark.parametrize("weights", [None, "weight"])
def test_invariants_sum_to_one_bounded_monotone(weights):
    ci = cumulative_incidence(
        RETENTION, duration="duration_days", event="event", by="group", weights=weights
    )
    for g in ci.groups:
        c = ci.curves[g]
        total = c.cif.sum(axis=1) + c.surv
        assert np.allclose(total, 1.0, rtol=0, atol=1e-12)
        assert np.all((c.cif >= 0) & (c.cif <= 1)) and np.all((c.surv >= 0) & (c.surv <= 1))
        assert np.all(np.diff(c.cif, axis=0) >= -1e-15)
        assert np.all(np.diff(c.surv) <= 1e-15)
        assert np.all(np.isfinite(c.se_cif)) and np.all(c.se_cif >= 0)


def test_event_free_survival_is_kaplan_meier_of_any_event():
    d = RETENTION
    ci = cumulative_incidence(d, duration="duration_days", event="event")
    # Kaplan–Meier of any event computed directly.
    times = np.unique(d["duration_days"])
    at_risk = np.array([(d["duration_days"] >= t).sum() for t in times])
    died = np.array([((d["duration_days"] == t) & (d["event"] > 0)).sum() for t in times])
    km = np.cumprod(1 - died / at_risk)
    assert np.allclose(ci.event_free["estimate"].to_numpy(), km, rtol=1e-12)


def test_delayed_entry_equals_unbounded_entry_at_zero_and_shrinks_risk_set():
    d = RETENTION.assign(start=0.0)
    base = cumulative_incidence(d, duration="duration_days", event="event")
    same = cumulative_incidence(d, duration="duration_days", event="event", entry="start")
    pd.testing.assert_frame_equal(base.summary(), same.summary())
    late = d.assign(start=np.where(d["id"] % 3 == 0, 50.0, 0.0))
    late = late[late["duration_days"] > late["start"]]
    ci = cumulative_incidence(late, duration="duration_days", event="event", entry="start")
    first = ci.event_free.iloc[0]
    assert first["n_at_risk"] == (late["start"] == 0).sum()
    total = ci.curves["all"].cif.sum(axis=1) + ci.curves["all"].surv
    assert np.allclose(total, 1.0, atol=1e-12)


def test_delayed_entry_variance_equals_brute_force_jackknife():
    """The closed-form IJ variance with entry equals numerical derivatives w.r.t. weights."""
    rng = np.random.default_rng(3)
    n = 40
    start = np.where(rng.random(n) < 0.4, rng.integers(0, 5, n), 0).astype(float)
    t = start + rng.integers(1, 12, n)
    e = rng.integers(0, 3, n)
    w = rng.uniform(0.5, 2.0, n)
    d = pd.DataFrame({"t": t, "e": e, "s": start, "w": w})
    ci = cumulative_incidence(d, duration="t", event="e", entry="s", weights="w")
    c = ci.curves["all"]
    h = 1e-6
    grads = []
    for i in range(n):
        wp = w.copy()
        wp[i] += h
        cp = cumulative_incidence(d.assign(w=wp), duration="t", event="e", entry="s", weights="w")
        grads.append((cp.curves["all"].cif - c.cif) / h)
    jack = np.sqrt(np.sum((np.array(grads) * w[:, None, None]) ** 2, axis=0))
    assert np.allclose(c.se_cif, jack, rtol=1e-4, atol=1e-7)  # finite differences: 1e-4


def test_summary_columns_and_events():
    ci = cumulative_incidence(RETENTION, duration="duration_days", event="event", by="group")
    cols = ["group", "time", "cause", "n_at_risk", "n_events", "n_censored", "estimate", "se"]
    assert list(ci.summary().columns[: len(cols)]) == cols
    assert ci.causes == (1, 2, 3, 4)
    assert ci.events == {k: float((RETENTION["event"] == k).sum()) for k in (1, 2, 3, 4)}
    assert "Cumulative incidence" in ci._repr_html_()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration_days": -1.0}, "negative"),
        ({"event": 1.5}, "integer event codes"),
        ({"weight": 0.0}, "zero weights"),
        ({"duration_days": np.nan}, "missing"),
    ],
)
def test_bad_input_names_column_and_rows(change, message):
    d = RETENTION.copy()
    col, value = next(iter(change.items()))
    d[col] = d[col].astype(float)
    d.loc[[3, 7], col] = value
    with pytest.raises(EstimationError, match=message) as err:
        cumulative_incidence(d, duration="duration_days", event="event", weights="weight")
    assert "rows 3, 7" in str(err.value)


def test_no_events_and_unknown_column():
    d = RETENTION.assign(event=0)
    with pytest.raises(EstimationError, match="no events"):
        cumulative_incidence(d, duration="duration_days", event="event")
    with pytest.raises(EstimationError, match="'nope' is not in the data"):
        cumulative_incidence(RETENTION, duration="nope", event="event")


def test_at_counts_mean_what_they_mean_in_kaplan_meier():
    """``n_events`` and ``n_censored`` of ``.at()`` are counts since the previous requested
    time in both results: with one cause the cumulative incidence's counts are the
    Kaplan-Meier's, and over a grid that reaches the last time they add up to the totals."""
    from evaluation.survival.km import kaplan_meier

    d = MGUS2.assign(death=(MGUS2["event"] > 0).astype(int))
    times = [0.5, 12, 60, 120, 240, 500]
    km = kaplan_meier(d, duration="etime", event="death").at(times)
    ci = cumulative_incidence(d, duration="etime", event="death").at(times)
    one = ci[ci["cause"] == 1].reset_index(drop=True)
    np.testing.assert_array_equal(one["n_events"], km["n_events"])
    np.testing.assert_array_equal(one["n_censored"], km["n_censored"])
    assert one["n_events"].sum() == d["death"].sum()
    assert one["n_censored"].sum() == (d["death"] == 0).sum()
