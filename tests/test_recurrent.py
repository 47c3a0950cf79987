"""Invariants of the recurrent-event curves (the R agreement is in tests/reference/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import EstimationError
from evaluation.survival import ghosh_lin, mean_cumulative_function
from evaluation.survival._recurrent_core import _positions

DATA = pd.read_csv(Path(__file__).parent / "reference" / "data" / "recurrent_events.csv")
KW = {"start": "start", "stop": "stop", "id": "id"}


def test_whole_day_positions_equal_searchsorted():
    rng = np.random.default_rng(4)
    times = np.unique(rng.integers(1, 400, 50)).astype(float)
    values = rng.integers(0, 500, 5000).astype(float)
    np.testing.assert_array_equal(
        _positions(times, values), np.searchsorted(times, values, side="right")
    )


def test_a_count_of_tied_events_is_the_same_as_rows_that_split_the_day():
    # Two offences on one day as one row with event 2, or as two rows a hair apart: the
    # Nelson–Aalen jumps add up to the same mean at the day's end, and so do the variances
    # (the same person's two jumps sum before squaring).
    one = pd.DataFrame(
        {"id": [1, 2, 3], "start": [0.0, 0, 0], "stop": [5.0, 5, 8], "event": [2, 1, 0]}
    )
    two = pd.DataFrame(
        {
            "id": [1, 1, 2, 3],
            "start": [0.0, 4.999, 0, 0],
            "stop": [4.999, 5, 5, 8],
            "event": [1, 1, 1, 0],
        }
    )
    a = mean_cumulative_function(one, event="event", **KW).at([6.0])
    b = mean_cumulative_function(two, event="event", **KW).at([6.0])
    assert a["estimate"].iloc[0] == pytest.approx(1.0)
    assert b["estimate"].iloc[0] == pytest.approx(1.0)
    assert a["se"].iloc[0] == pytest.approx(b["se"].iloc[0], rel=1e-3)


def test_without_deaths_ghosh_lin_is_the_mcf():
    d = DATA.assign(terminal=0)
    gl = ghosh_lin(d, event="event", terminal="terminal", **KW)
    mcf = mean_cumulative_function(d, event="event", **KW)
    np.testing.assert_allclose(gl.table["estimate"], mcf.table["estimate"], atol=1e-12)
    np.testing.assert_allclose(gl.table["se"], mcf.table["se"], atol=1e-12)


def test_constant_weights_change_nothing():
    a = mean_cumulative_function(DATA, event="event", **KW)
    b = mean_cumulative_function(DATA.assign(w=3.0), event="event", weights="w", **KW)
    np.testing.assert_allclose(a.table["estimate"], b.table["estimate"], atol=1e-12)
    np.testing.assert_allclose(a.table["se"], b.table["se"], atol=1e-12)


def test_intervals_are_log_transformed_around_the_estimate():
    t = mean_cumulative_function(DATA, event="event", **KW).table
    z = 1.959963984540054
    np.testing.assert_allclose(
        t["ci_upper"], t["estimate"] * np.exp(z * t["se"] / t["estimate"]), rtol=1e-12
    )


def test_rows_must_have_positive_length():
    bad = DATA.copy()
    bad.loc[3, "stop"] = bad.loc[3, "start"]
    with pytest.raises(EstimationError, match="stop column 'stop' is not after start"):
        mean_cumulative_function(bad, event="event", **KW)


def test_a_group_without_events_has_an_empty_curve_and_reads_zero():
    d = DATA.assign(g=np.where(DATA["id"] <= 10, "none", "some"))
    d.loc[d["g"] == "none", "event"] = 0
    fit = mean_cumulative_function(d, event="event", by="g", **KW)
    assert (fit.table["group"] == "none").sum() == 0
    assert fit.at([2.0]).set_index("group").at["none", "estimate"] == 0.0


def test_an_offence_on_the_day_of_death_counts_before_the_death():
    # Ghosh–Lin weights the jump at t by S(t-): the offence came first, so a person who
    # offends and dies on the same day adds 1/Y with S = 1, not S after the death.
    d = pd.DataFrame(
        {
            "id": [1, 2],
            "start": [0.0, 0.0],
            "stop": [5.0, 10.0],
            "event": [1, 0],
            "terminal": [2, 0],
        }
    )
    gl = ghosh_lin(d, event="event", terminal="terminal", **KW)
    assert gl.at([6.0])["estimate"].iloc[0] == pytest.approx(0.5)
    assert gl.table["survival"].iloc[0] == pytest.approx(0.5)
