"""Relapse with death and emigration as competing events, on the default synthetic data.

Treating death and emigration as censoring (1 − Kaplan–Meier of relapse) estimates the
relapse probability of a world in which nobody dies or emigrates; the Aalen–Johansen
cumulative incidence estimates the relapse probability in this one. The first can never be
below the second, and is strictly above it once someone has left by a competing event
before a later relapse. These tests check that on the programme cohort of notebook 03.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaluation

SEED = 20261126  # the notebook's seed (programme starts draw nothing at random)
DUR, EV = "duration_days", "event"
YEAR = 365.25


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    registers = evaluation.load_synthetic()
    return evaluation.relapse_cohort(registers, population="programme", rng=SEED).data


@pytest.fixture(scope="module")
def fits(cohort):
    km = evaluation.kaplan_meier(cohort, duration=DUR, event=EV)  # death, emigration censor
    ci = evaluation.cumulative_incidence(cohort, duration=DUR, event=EV)
    return km, ci


def _event_times(data: pd.DataFrame) -> np.ndarray:
    return np.unique(data.loc[data[EV] > 0, DUR].to_numpy(dtype=float))


def test_cif_of_relapse_never_exceeds_one_minus_km(cohort, fits):
    km, ci = fits
    times = _event_times(cohort)
    one_minus_km = km.at(times)["cumulative_incidence"].to_numpy()
    at = ci.at(times)
    cif = at.loc[at["cause"] == 1, "estimate"].to_numpy()
    assert cif.size == times.size > 100
    # Both are products/sums of the same steps; allow only floating-point rounding.
    assert np.all(cif <= one_minus_km + 1e-12)


def test_competing_exits_make_a_strictly_positive_difference_by_three_years(cohort, fits):
    km, ci = fits
    # Precondition, from the data rather than assumed: someone died or emigrated within
    # three years and somebody relapsed after that, so the curves must have parted.
    competing = cohort.loc[cohort[EV].isin([2, 3]), DUR]
    assert (competing < 3 * YEAR).any()
    assert (cohort.loc[cohort[EV] == 1, DUR] > competing.min()).any()
    one_minus_km = float(km.at([3 * YEAR])["cumulative_incidence"].iloc[0])
    at = ci.at([3 * YEAR])
    cif = float(at.loc[at["cause"] == 1, "estimate"].iloc[0])
    assert one_minus_km - cif > 1e-6


def test_causes_and_event_free_survival_sum_to_one(cohort, fits):
    _, ci = fits
    assert set(ci.causes) == {1, 2, 3}  # relapse, death and emigration all occur
    times = np.unique(np.concatenate([[0.0], _event_times(cohort), [10 * YEAR]]))
    total = ci.at(times).groupby("time")["estimate"].sum()
    np.testing.assert_allclose(total.to_numpy(), 1.0, rtol=0, atol=1e-12)


def test_event_free_survival_is_km_of_any_exit(cohort, fits):
    _, ci = fits
    times = _event_times(cohort)
    any_exit = evaluation.kaplan_meier(cohort, duration=DUR, event=EV, event_codes=(1, 2, 3))
    at = ci.at(times)
    free = at.loc[at["cause"] == 0, "estimate"].to_numpy()
    np.testing.assert_allclose(free, any_exit.at(times)["estimate"].to_numpy(), rtol=1e-12)
