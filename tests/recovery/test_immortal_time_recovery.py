"""Immortal time on the default registers: the naive comparison is biased, the landmark not.

In the default generator an offence during an episode (or a custody period starting in it)
raises the hazard of dropping out, so those who complete are partly those who did not
offend. "Completers vs dropouts, followed from the start" then finds a gap that the
population does not have; the landmark analysis (status fixed 3 or 6 months after the
start, follow-up from then) estimates ``truth["landmark"]``: the same contrast in an
independent population of 40,000 persons, among episodes at risk at the landmark.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.cohorts import landmark_cohort, relapse_cohort
from evaluation.registers import Registers

DATA = Path(__file__).resolve().parents[2] / "data" / "synthetic"


def share_gap(data: pd.DataFrame, group: str, a: str, b: str) -> tuple[float, float]:
    """1-year relapse share of group ``a`` minus group ``b``, and its standard error.

    Rows are episodes; a person with several episodes contributes correlated rows, so the
    standard error sums each person's influence (clustered by person).
    """
    d = data[data["relapse_1y"].notna() & data[group].isin([a, b])]
    y = d["relapse_1y"].astype(float).to_numpy()
    in_a = (d[group] == a).to_numpy()
    pa, pb = y[in_a].mean(), y[~in_a].mean()
    influence = np.where(in_a, (y - pa) / in_a.sum(), -(y - pb) / (~in_a).sum())
    per_person = pd.Series(influence).groupby(d["person_id"].to_numpy()).sum()
    return float(pa - pb), float(np.sqrt(np.sum(per_person.to_numpy() ** 2)))


@pytest.fixture(scope="module")
def default() -> tuple[Registers, dict]:
    # The committed data are the default simulation (proved in test_synthetic.py).
    return Registers.read(DATA, validate=False), json.loads((DATA / "truth.json").read_text())


def test_naive_completers_comparison_is_biased_and_the_landmark_is_not(
    default: tuple[Registers, dict],
) -> None:
    registers, truth = default
    starts = relapse_cohort(registers, definition="bra-final", population="programme", rng=0)
    naive, naive_se = share_gap(starts.data, "exit_reason", "dropped_out", "completed")
    target = truth["landmark"]["6"]
    # Both answer "do dropouts relapse more than those who stay?"; the population's answer
    # has its own Monte Carlo error, so the two standard errors combine.
    assert naive - target["difference"] > 2 * np.hypot(naive_se, target["difference_se"])
    for months in ("3", "6"):
        lm = landmark_cohort(starts, registers, landmark_months=int(months))
        gap, se = share_gap(lm.data, "group", "dropped_out", "completed_or_in")
        t = truth["landmark"][months]
        # Unbiased: within 2 combined standard errors of the population's difference.
        assert abs(gap - t["difference"]) < 2 * np.hypot(se, t["difference_se"])
        assert (lm.data["group"] == "dropped_out").sum() > 50
