"""The mean cumulative function equals R's survfit(Surv(start, stop, event) ~ 1, id = id).

Values from mcf_survfit.R (beside this file) on tests/reference/data/recurrent_events.csv:
``cumhaz`` and its robust standard error ``std.chaz`` at every event time, plain, with case
weights and by group. Both are sums of the same terms, so they agree to rounding: 1e-9.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival.recurrent import mean_cumulative_function

HERE = Path(__file__).parent
REF = json.loads((HERE / "mcf_survfit.json").read_text())
DATA = pd.read_csv(HERE.parent / "data" / "recurrent_events.csv")


@pytest.mark.parametrize(
    ("key", "rows", "weights"),
    [
        ("plain", None, None),
        ("weighted", None, "w"),
        ("x0", 0, None),
        ("x1", 1, None),
    ],
)
def test_mcf_equals_survfit_cumhaz_and_robust_se(key, rows, weights):
    data = DATA if rows is None else DATA[DATA["x"] == rows]
    fit = mean_cumulative_function(
        data, start="start", stop="stop", event="event", id="id", weights=weights
    )
    ref = REF[key]
    events = np.asarray(ref["n_event"]) > 0
    times = np.asarray(ref["time"])[events]
    got = fit.at(times)
    np.testing.assert_allclose(got["estimate"], np.asarray(ref["cumhaz"])[events], atol=1e-9)
    np.testing.assert_allclose(got["se"], np.asarray(ref["std_chaz"])[events], atol=1e-9)
    np.testing.assert_array_equal(fit.table["time"], times)


def test_mcf_by_group_is_the_curve_of_each_group():
    fit = mean_cumulative_function(DATA, start="start", stop="stop", event="event", id="id", by="x")
    one = fit.table[fit.table["group"] == 1]
    np.testing.assert_allclose(one["estimate"].iloc[-1], REF["x1"]["cumhaz"][-1], atol=1e-9)
    np.testing.assert_array_equal(
        one["n_at_risk"], np.asarray(REF["x1"]["n_risk"])[np.asarray(REF["x1"]["n_event"]) > 0]
    )
