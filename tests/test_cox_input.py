"""Design matrices: categorical coding, unused categories, missing values named by row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.cox import cox

SYN = pd.read_csv(Path(__file__).parent / "reference" / "data" / "cox_synthetic.csv")


def test_unused_categories_are_dropped_like_r() -> None:
    cats = pd.Categorical(SYN["grp"], categories=["high", "low", "mid", "nobody"])
    with_unused = cox(SYN.assign(g=cats), "x1 + C(g)", duration="time", event="event")
    plain = cox(SYN.assign(g=SYN["grp"]), "x1 + C(g)", duration="time", event="event")
    assert with_unused.terms == plain.terms
    np.testing.assert_allclose(with_unused.coef, plain.coef, rtol=1e-12)


def test_plain_and_patsy_paths_agree() -> None:
    fast = cox(SYN, "x1 + x2", duration="time", event="event")
    slow = cox(SYN, "~ x1 + I(x2 * 1)", duration="time", event="event")
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-12)
    assert slow.terms == ("x1", "I(x2 * 1)")


def test_predict_survival_rebuilds_categories_and_checks_strata() -> None:
    res = cox(SYN, "x1 + C(grp)", duration="time", event="event", strata="stratum")
    new = pd.DataFrame({"x1": [0.0, 0.0], "grp": ["mid", "mid"], "stratum": ["a", "b"]})
    surv = res.predict_survival(new, [5, 10])
    assert (np.diff(surv.to_numpy(), axis=0) <= 0).all()  # non-increasing in time
    assert ((surv > 0) & (surv < 1)).all().all()
    with pytest.raises(EstimationError, match="strata not in the fitted data"):
        res.predict_survival(new.assign(stratum=["a", "z"]))
    base = res.baseline_hazard()
    assert list(base.columns) == ["time", "stratum", "estimate"]
    assert base.groupby("stratum")["estimate"].apply(lambda s: s.is_monotonic_increasing).all()


def test_html_reprs_carry_the_tables() -> None:
    from evaluation.survival.aft import aft
    from evaluation.survival.logistic import window_logistic
    from evaluation.survival.zph import cox_zph

    res = cox(SYN, "x1 + C(grp)", duration="time", event="event", cluster="cl")
    html = res._repr_html_()
    assert "Cox regression" in html and "robust_se" in html and "30 clusters" in html
    assert "GLOBAL" in cox_zph(res)._repr_html_()
    assert "Log(scale)" in aft(SYN, "x1", duration="time", event="event")._repr_html_()
    flagged = SYN.assign(flag=(SYN["event"] == 1) & (SYN["time"] <= 10))
    assert "left out" in window_logistic(flagged, "x1", window_flag="flag")._repr_html_()
