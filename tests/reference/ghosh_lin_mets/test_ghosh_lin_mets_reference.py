"""The Ghosh–Lin marginal mean equals R's mets::recurrentMarginal (mu, se.mu, St).

Values from ghosh_lin_mets.R (beside this file) on tests/reference/data/recurrent_events.csv,
whose times are distinct (mets breaks tied times as if they came in sequence, survival does
not; with distinct times both are the same estimator). Agreement to rounding: 1e-9.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival.recurrent import ghosh_lin, mean_cumulative_function

HERE = Path(__file__).parent
REF = json.loads((HERE / "ghosh_lin_mets.json").read_text())
DATA = pd.read_csv(HERE.parent / "data" / "recurrent_events.csv")


@pytest.mark.parametrize(("key", "x"), [("all", None), ("x0", 0), ("x1", 1)])
def test_ghosh_lin_equals_mets(key, x):
    data = DATA if x is None else DATA[DATA["x"] == x]
    fit = ghosh_lin(data, start="start", stop="stop", event="event", terminal="terminal", id="id")
    ref = pd.DataFrame(REF[key])
    got = fit.at(ref["time"].to_numpy())
    np.testing.assert_allclose(got["estimate"], ref["mu"], atol=1e-9)
    np.testing.assert_allclose(got["se"], ref["se_mu"], atol=1e-9)
    surv = fit.table.set_index("time")["survival"].reindex(ref["time"]).to_numpy()
    np.testing.assert_allclose(surv, ref["survival"], atol=1e-9)


def test_ghosh_lin_by_group_equals_the_subsets():
    fit = ghosh_lin(
        DATA, start="start", stop="stop", event="event", terminal="terminal", id="id", by="x"
    )
    last = fit.table.groupby("group")["estimate"].last()
    assert last[0] == pytest.approx(REF["x0"]["mu"][-1], abs=1e-9)
    assert last[1] == pytest.approx(REF["x1"]["mu"][-1], abs=1e-9)


def test_death_lowers_the_mean_below_the_mcf():
    # The MCF counts offences among the living; the Ghosh–Lin mean counts the dead as
    # offending no more, so with deaths it is strictly lower at the end.
    gl = ghosh_lin(DATA, start="start", stop="stop", event="event", terminal="terminal", id="id")
    mcf = mean_cumulative_function(DATA, start="start", stop="stop", event="event", id="id")
    t = float(DATA["stop"].max())
    assert gl.at(t)["estimate"].iloc[0] < mcf.at(t)["estimate"].iloc[0]


def test_emigration_is_censoring_not_death():
    d = DATA.assign(terminal=DATA["terminal"].replace({2: 3}))
    gl = ghosh_lin(d, start="start", stop="stop", event="event", terminal="terminal", id="id")
    mcf = mean_cumulative_function(d, start="start", stop="stop", event="event", id="id")
    np.testing.assert_allclose(gl.at([3.0])["estimate"], mcf.at([3.0])["estimate"], atol=1e-12)
