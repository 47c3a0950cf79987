"""Reference: meta_analysis (DL and REML) and its BLUPs equal metafor's rma and blup
(values printed by tests/reference/metafor/metafor.R into metafor.json, from meta.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.sites import meta_analysis

HERE = Path(__file__).parent
REF = json.loads((HERE / "metafor.json").read_text())
DATA = pd.read_csv(HERE / "meta.csv")
# DL is closed form; REML stops metafor's and our Fisher scoring at 1e-10 (metafor: 1e-5 on
# tau2 by default, so its tau2 carries up to ~1e-6 relative error): 1e-5 relative covers both.
RTOL = {"DL": 1e-8, "REML": 1e-5, "REML_knha": 1e-5}

CASES = [(s, m) for s in ("bcg", "homogeneous") for m in ("DL", "REML", "REML_knha")]


@pytest.mark.parametrize(("dataset", "method"), CASES)
def test_meta_analysis_equals_metafor(dataset: str, method: str) -> None:
    d = DATA[DATA["set"] == dataset]
    ref = REF[f"{dataset}_{method}"]
    test = "knha" if method.endswith("knha") else "z"
    m = meta_analysis(
        d["yi"],
        d["se"],
        method=method.split("_")[0],
        test=test,
        labels=d["label"].tolist(),  # type: ignore[arg-type]
    )
    tol = RTOL[method]
    for name in (
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "z",
        "p",
        "tau2",
        "i2",
        "h2",
        "q",
        "q_p",
    ):
        assert getattr(m, name) == pytest.approx(ref[name], rel=tol, abs=1e-10), name
    assert m.pi_lower == pytest.approx(ref["pi_lower"], rel=tol)
    assert m.pi_upper == pytest.approx(ref["pi_upper"], rel=tol)
    b = m.blup()
    np.testing.assert_allclose(b["estimate"], ref["blup"], rtol=tol, atol=1e-10)
    np.testing.assert_allclose(b["se"], ref["blup_se"], rtol=tol, atol=1e-10)


def test_homogeneous_set_truncates_tau2_at_zero() -> None:
    d = DATA[DATA["set"] == "homogeneous"]
    for method in ("DL", "REML"):
        assert meta_analysis(d["yi"], d["se"], method=method).tau2 == 0.0  # type: ignore[arg-type]
