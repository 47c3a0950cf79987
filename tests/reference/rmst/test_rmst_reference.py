"""Reference tests: rmst equals R's print(survfit(...), rmean=tau) (estimate and se) and
survRM2's contrast formulas evaluated in R (tests/reference/rmst/rmst_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import rmst

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
RM = json.loads((HERE / "rmst_reference.json").read_text())
RTOL = 1e-6

ROSSI = pd.read_csv(DATA / "rossi.csv")
ROSSI["w"] = (ROSSI["age"] % 5 + 1) / 2
SYN = pd.read_csv(DATA / "km_synthetic.csv")
R = {"duration": "week", "event": "arrest"}
S = {"duration": "time", "event": "status"}
CASES: dict[str, tuple[pd.DataFrame, dict]] = {
    "rossi_fin_52": (ROSSI, {**R, "by": "fin", "tau": 52}),
    "rossi_fin_30": (ROSSI, {**R, "by": "fin", "tau": 30}),
    "rossi_fin_30_5": (ROSSI, {**R, "by": "fin", "tau": 30.5}),  # tau between event times
    "rossi_all_40": (ROSSI, {**R, "tau": 40}),
    "rossi_fin_w_40": (ROSSI, {**R, "by": "fin", "tau": 40, "weights": "w"}),
    "syn_group_730": (SYN, {**S, "by": "group", "tau": 730}),
    "syn_group_1000_a10": (SYN, {**S, "by": "group", "tau": 1000, "alpha": 0.1}),
    "syn_group_w_365": (SYN, {**S, "by": "group", "tau": 365, "weights": "weight"}),
}


def test_cases_cover_every_r_case() -> None:
    assert set(CASES) == set(RM)


@pytest.mark.parametrize("name", list(CASES))
def test_rmst_equals_r(name: str) -> None:
    data, kwargs = CASES[name]
    ref = RM[name]
    res = rmst(data, **kwargs)
    np.testing.assert_allclose(res.table["estimate"], ref["rmean"], rtol=RTOL)
    np.testing.assert_allclose(res.table["se"], ref["se"], rtol=RTOL)
    if "diff" not in ref:
        assert res.contrasts.empty
        return
    diff = res.contrasts[res.contrasts["term"] == "difference"]
    ratio = res.contrasts[res.contrasts["term"] == "ratio"]
    for frame, prefix in ((diff, "diff"), (ratio, "ratio")):
        np.testing.assert_allclose(frame["estimate"], ref[prefix], rtol=RTOL)
        np.testing.assert_allclose(frame["ci_lower"], ref[f"{prefix}_lower"], rtol=RTOL)
        np.testing.assert_allclose(frame["ci_upper"], ref[f"{prefix}_upper"], rtol=RTOL)
        np.testing.assert_allclose(frame["p"], ref[f"{prefix}_p"], rtol=RTOL)


ROBUST = json.loads((HERE / "rmst_robust_reference.json").read_text())
ROSSI["entry"] = np.minimum(ROSSI["prio"], ROSSI["week"] - 1)
ROBUST_CASES: dict[str, tuple[pd.DataFrame, dict]] = {
    "rossi_fin_entry_40": (ROSSI, {**R, "by": "fin", "tau": 40, "entry": "entry"}),
    "rossi_fin_w_robust_40": (
        ROSSI,
        {**R, "by": "fin", "tau": 40, "weights": "w", "variance": "robust"},
    ),
    "rossi_fin_robust_52": (ROSSI, {**R, "by": "fin", "tau": 52, "variance": "robust"}),
    "syn_group_entry_w_robust_730": (
        SYN,
        {
            **S,
            "by": "group",
            "tau": 730,
            "weights": "weight",
            "entry": "entry",
            "variance": "robust",
        },
    ),
    # tau past the last follow-up: the curve is carried flat, as R does.
    "syn_group_w_robust_2000": (
        SYN,
        {**S, "by": "group", "tau": 2000, "weights": "weight", "variance": "robust"},
    ),
}


def test_robust_cases_cover_every_r_case() -> None:
    assert set(ROBUST_CASES) == set(ROBUST)


@pytest.mark.parametrize("name", list(ROBUST_CASES))
def test_delayed_entry_and_jackknife_se_equal_r(name: str) -> None:
    data, kwargs = ROBUST_CASES[name]
    ref = ROBUST[name]
    res = rmst(data, **kwargs)
    np.testing.assert_allclose(res.table["estimate"], ref["rmean"], rtol=RTOL)
    np.testing.assert_allclose(res.table["se"], ref["se"], rtol=RTOL)
