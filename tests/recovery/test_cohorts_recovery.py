"""Recovery: the Brå 1-year relapse share of non-participants in the default synthetic data.

The generator records the share it simulated in an independent Monte Carlo population of
the same configuration (``truth["bra"]``, definition in its ``"definition"`` text). The
cohort that matches that definition is ``bra-preliminary`` (1-year window, 1-year buffer,
Brå's "ignore" handling of custody, death and emigration during follow-up), entries
from 2015-01-01 to ``entry_to``, non-participants = persons who never started an episode
(``ever_participant`` False), with ``custody_at_entry="keep"``: the truth counts a decision
taken while the person is in custody from the decision date, where Brå (and our default)
starts the clock at the release.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evaluation import load_synthetic
from evaluation.cohorts import PRESETS, relapse_cohort

TRUTH = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "truth.json"


@pytest.fixture(scope="module")
def registers():
    return load_synthetic()


@pytest.fixture(scope="module")
def truth():
    return json.loads(TRUTH.read_text(encoding="utf-8"))["bra"]


def clustered_share(flags, persons) -> tuple[float, float]:
    """Share and its standard error clustered by person.

    A person contributes several entry events whose outcomes are correlated (the same
    frailty), so the binomial variance p(1-p)/n understates the error; the sandwich
    variance sums the residuals within each person first (design effect about 2 here).
    """
    y = flags.astype(float).to_numpy()
    p = y.mean()
    per_person = np.bincount(persons.factorize()[0], weights=y - p)
    return p, float(np.sqrt(np.sum(per_person**2)) / len(y))


@pytest.mark.parametrize(
    ("selection", "key"),
    [
        ("all", "relapse_1y_nonparticipants"),
        ("random-per-year", "relapse_1y_nonparticipants_one_per_year"),
    ],
)
def test_relapse_1y_of_non_participants_recovers_the_truth(registers, truth, selection, key):
    d = PRESETS["bra-preliminary"].with_(selection=selection, custody_at_entry="keep")
    c = relapse_cohort(registers, definition=d, rng=20251231, entry_to=truth["entry_to"])
    x = c.data[~c.data["ever_participant"]]
    assert x["entry_date"].min().year == 2015
    assert x["relapse_1y"].notna().all()  # every entry up to entry_to has window + buffer
    p, se = clustered_share(x["relapse_1y"], x["person_id"])
    # The truth is itself a Monte Carlo estimate with its own standard error; the two are
    # independent, so their variances add. 3 SE: a fixed-seed test that fails by chance
    # about 3 times in 1000.
    tol = 3 * np.hypot(se, truth["relapse_1y_nonparticipants_se"])
    assert abs(p - truth[key]) < tol, (p, truth[key], tol)
    # The comparison has power: Brå's general level (25 %) would be far outside.
    assert abs(0.25 - truth[key]) > 10 * tol


def test_bra_custody_rule_shifts_entries_in_custody(registers, truth):
    """Brå's rule (clock at release) drops the entries made while locked up."""
    keep = relapse_cohort(
        registers,
        definition=PRESETS["bra-preliminary"].with_(selection="all", custody_at_entry="keep"),
        entry_to=truth["entry_to"],
    )
    bra = relapse_cohort(
        registers,
        definition=PRESETS["bra-preliminary"].with_(selection="all"),
        entry_to=truth["entry_to"],
    )
    assert keep.data["in_custody_at_entry"].sum() > 0
    moved = bra.data[bra.data["in_custody_at_entry"]]
    assert (moved["entry_kind"] == "decision").all()
    assert bra.n < keep.n
