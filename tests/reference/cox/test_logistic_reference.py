"""Reference tests: ``window_logistic`` equals R's ``glm(binomial)`` and ``vcovCL`` (HC1).

Values from ``tests/reference/cox/cox_rossi.R`` (``logistic`` block) on the synthetic cohort,
with the flag "relapse within 10 weeks", missing where follow-up ended earlier without one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.logistic import window_logistic

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "cox_rossi.json").read_text())["logistic"]
SYN = pd.read_csv(DATA / "cox_synthetic.csv")
FLAG = pd.Series(
    np.where(
        (SYN["event"] == 1) & (SYN["time"] <= 10), True, np.where(SYN["time"] > 10, False, None)
    ),
    dtype=object,
)
DATA = SYN.assign(relapse_10w=FLAG)
# R's order: Intercept, x1, x2, grplow, grpmid; patsy puts C(grp) before x1 and x2.
ORDER = [0, 3, 4, 1, 2]


def test_matches_r_glm_and_vcovcl() -> None:
    res = window_logistic(DATA, "C(grp) + x1 + x2", window_flag="relapse_10w", cluster="cl")
    assert res.terms[0] == "Intercept"
    table = res.summary()
    np.testing.assert_allclose(res.coef, np.asarray(R["coef"])[ORDER], rtol=1e-6)
    np.testing.assert_allclose(table["se"], np.asarray(R["se"])[ORDER], rtol=1e-6)
    np.testing.assert_allclose(table["robust_se"], np.asarray(R["cluster_se"])[ORDER], rtol=1e-6)
    assert res.loglik == pytest.approx(R["loglik"], rel=1e-9)
    assert (res.n, res.n_missing) == (R["n"], R["n_missing"])
    np.testing.assert_allclose(table["or"], np.exp(table["coef"]), rtol=1e-12)


def test_without_cluster_has_no_robust_column() -> None:
    res = window_logistic(DATA, "x1", window_flag="relapse_10w")
    assert "robust_se" not in res.summary()
    assert res.events == int((FLAG == True).sum())  # noqa: E712 - object column of bools


def test_bad_flag() -> None:
    with pytest.raises(EstimationError, match="True/False"):
        window_logistic(DATA.assign(relapse_10w=DATA["time"]), "x1", window_flag="relapse_10w")
    with pytest.raises(EstimationError, match="window flag column 'relapse_1y' is not in"):
        window_logistic(DATA, "x1")
