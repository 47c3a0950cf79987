"""Reference tests: logrank equals R's survdiff (plain, rho, stratified) and a trend test
computed from survdiff's O − E and variance (tests/reference/logrank/logrank_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import logrank

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
LR = json.loads((HERE / "logrank_reference.json").read_text())
RTOL = 1e-6

ROSSI = pd.read_csv(DATA / "rossi.csv")
ROSSI["prio_group"] = pd.cut(ROSSI["prio"], [-np.inf, 0, 2, np.inf], labels=["0", "1-2", "3+"])
SYN = pd.read_csv(DATA / "km_synthetic.csv")
R = {"duration": "week", "event": "arrest"}
S = {"duration": "time", "event": "status"}
# Synthetic groups sort as high, low, mid; scores 3, 1, 2 put them in their real order.
CASES: dict[str, tuple[pd.DataFrame, dict]] = {
    "rossi_fin": (ROSSI, {**R, "by": "fin"}),
    "rossi_fin_rho1": (ROSSI, {**R, "by": "fin", "weights": ("fh", 1, 0)}),
    "rossi_prio": (ROSSI, {**R, "by": "prio_group", "trend": True}),
    "rossi_prio_rho05": (ROSSI, {**R, "by": "prio_group", "weights": ("fh", 0.5, 0)}),
    "rossi_fin_strata_wexp": (ROSSI, {**R, "by": "fin", "strata": "wexp"}),
    "rossi_prio_strata_race_rho1": (
        ROSSI,
        {**R, "by": "prio_group", "strata": "race", "weights": ("fh", 1, 0), "trend": True},
    ),
    "syn_group": (SYN, {**S, "by": "group", "trend": True, "scores": [3, 1, 2]}),
    "syn_group_strata": (
        SYN,
        {**S, "by": "group", "strata": "stratum", "trend": True, "scores": [3, 1, 2]},
    ),
    "syn_group_strata_rho1": (
        SYN,
        {**S, "by": "group", "strata": "stratum", "weights": ("fh", 1, 0)},
    ),
    # Numeric groups: the default trend scores are the group values 1, 2, 3.
    "syn_score_trend": (SYN, {**S, "by": "group_score", "trend": True}),
}


def test_cases_cover_every_r_case() -> None:
    assert set(CASES) == set(LR)


@pytest.mark.parametrize("name", list(CASES))
def test_logrank_equals_r_survdiff(name: str) -> None:
    data, kwargs = CASES[name]
    ref = LR[name]
    res = logrank(data, **kwargs)
    np.testing.assert_allclose(res.statistic, ref["chisq"][0], rtol=RTOL)
    assert res.df == ref["df"][0]
    np.testing.assert_allclose(res.p, ref["p"][0], rtol=RTOL)
    np.testing.assert_array_equal(res.table["n"], ref["n"])
    np.testing.assert_allclose(res.table["observed"], ref["observed"], rtol=RTOL)
    np.testing.assert_allclose(res.table["expected"], ref["expected"], rtol=RTOL)
    np.testing.assert_allclose(res.variance, np.array(ref["var"]), rtol=RTOL)
    if "trend_chisq" in ref:
        np.testing.assert_allclose(res.trend_statistic, ref["trend_chisq"][0], rtol=RTOL)
        np.testing.assert_allclose(res.scores, ref["scores"])
        assert res.summary()["test"].tolist() == [res.method, "trend"]
