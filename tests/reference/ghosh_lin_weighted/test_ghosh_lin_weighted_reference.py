"""The weighted Ghosh–Lin marginal mean equals a hand computation in R with survival.

``mets::recurrentMarginal`` takes no weights, so ghosh_lin_weighted.R (beside this file)
computes ``mu(t) = sum_{s <= t} S_w(s-) dN_w(s) / Y_w(s)`` from survival's weighted
Kaplan–Meier of death and the weighted event and risk counts of ``survfit`` on the
counting-process rows of tests/reference/data/recurrent_events.csv (weight ``w``, one per
person; emigration is censoring). Times are distinct. Point estimates, the increments
and the weighted survival of death agree to rounding: 1e-9.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival.recurrent import ghosh_lin

HERE = Path(__file__).parent
REF = json.loads((HERE / "ghosh_lin_weighted.json").read_text())
DATA = pd.read_csv(HERE.parent / "data" / "recurrent_events.csv")


def _fit(data: pd.DataFrame, weights: str | None = "w"):
    return ghosh_lin(
        data, start="start", stop="stop", event="event", terminal="terminal", id="id",
        weights=weights,
    )  # fmt: skip


@pytest.mark.parametrize(("key", "x"), [("all", None), ("x0", 0), ("x1", 1)])
def test_weighted_ghosh_lin_equals_the_r_hand_computation(key, x):
    data = DATA if x is None else DATA[DATA["x"] == x]
    ref = REF[key]
    fit = _fit(data)
    np.testing.assert_allclose(fit.at(np.asarray(ref["time"]))["estimate"], ref["mu"], atol=1e-9)
    surv = fit.table.set_index("time")["survival"].reindex(ref["death_time"]).to_numpy()
    np.testing.assert_allclose(surv, ref["survival"], atol=1e-9)


def test_the_weights_matter():
    # Unequal weights move the mean: the reference is not the unweighted curve.
    ref = REF["all"]
    unweighted = _fit(DATA, None).at(np.asarray(ref["time"]))["estimate"].to_numpy()
    assert np.max(np.abs(unweighted - np.asarray(ref["mu"]))) > 0.01
