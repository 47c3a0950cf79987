"""Recovery of the generator's retention truth from the default synthetic registers (issue 4).

The truth (``truth["retention"]``, from ``synthetic/_truth.py``) is the share of the started
episodes whose latent end (before extraction cut them off) is of a given kind within ``m``
months of the start date, with durations in whole days and a month of 365.25 / 12 days: the
12-month share counts episodes ending on day 365 or earlier. The registers show the same
episodes with the ones still ongoing at extraction censored, so the Aalen–Johansen estimate
at 12 months must agree with that share within its sampling error.
"""

from __future__ import annotations

import pytest

import evaluation
from evaluation.synthetic import load_truth

DAYS_PER_MONTH = 365.25 / 12  # the truth's month (synthetic/_truth.py)
RETENTION_CODES = {"completed": 1, "dropped_out": 2, "moved": 3, "died": 4}


@pytest.fixture(scope="module")
def truth_and_estimate():
    truth = load_truth()["retention"]
    registers = evaluation.load_synthetic()
    episodes = evaluation.retention_cohort(registers, time_zero="start")
    ci = evaluation.cumulative_incidence(episodes.data, duration="duration_days", event="event")
    at = ci.at([12 * DAYS_PER_MONTH]).set_index("cause")
    return truth, episodes, at


def test_the_estimate_and_the_truth_describe_the_same_episodes(truth_and_estimate):
    truth, episodes, _ = truth_and_estimate
    # The truth counts every started episode; the cohort (time zero at start) must hold
    # them all, or the two shares would have different denominators.
    assert episodes.n == truth["n_episodes"]
    assert len(episodes.data) == truth["n_episodes"]


@pytest.mark.parametrize("outcome", ["dropped_out", "completed"])
def test_cumulative_incidence_at_12_months_recovers_the_truth(truth_and_estimate, outcome):
    truth, _, at = truth_and_estimate
    true12 = truth[outcome]["12"]
    row = at.loc[RETENTION_CODES[outcome]]
    est, se = float(row["estimate"]), float(row["se"])
    # The truth is a share of the same finite episodes, so the only gap is the censoring of
    # the episodes still ongoing at extraction; the Aalen–Johansen (infinitesimal-jackknife)
    # SE bounds that sampling error. 3 SE: a false alarm about 1 in 370 per outcome.
    assert se > 0
    assert abs(est - true12) < 3 * se, (outcome, est, se, true12)
