"""Reference: shrinkage() is the normal-normal empirical-Bayes model on log O/E, equal to
metafor's rma(REML) + blup on the same O and E; and how it compares with a binomial
random-intercept model, lme4::glmer (Laplace) with the case-mix offset (values printed by
glmer_shrinkage.R from shrinkage.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.sites import case_mix, shrinkage

HERE = Path(__file__).parent
REF = json.loads((HERE / "glmer_shrinkage.json").read_text())
DATA = pd.read_csv(HERE / "shrinkage.csv")


def _result() -> pd.DataFrame:
    cm = case_mix(DATA, covariates=("age", "prior_decisions_5y"))
    return shrinkage(cm, rng=1).table.set_index("group").loc[REF["groups"]]


def test_shrinkage_equals_metafor_blup() -> None:
    t = _result()
    np.testing.assert_array_equal(t["observed"], REF["observed"])
    np.testing.assert_allclose(t["expected"], REF["expected"], rtol=1e-6)
    # REML by Fisher scoring to 1e-10 here, metafor's default 1e-5 on tau2: 1e-5 relative.
    np.testing.assert_allclose(np.log(t["estimate"]), REF["blup"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(t["se"], REF["blup_se"], rtol=1e-5)


def test_shrinkage_is_close_to_glmer() -> None:
    t = _result()
    diff = np.abs(np.log(t["estimate"].to_numpy()) - np.log(REF["glmer_oe"]))
    # The two models differ (normal approximation to log O/E with variance 1/O against a
    # binomial likelihood on the logit scale, Laplace): with these data they differ by up
    # to 0.16 on the log O/E scale, the normal-normal model shrinking the smallest sites
    # a little more. The bound: every difference is below the BLUP's own standard error
    # (the models disagree by less than either's uncertainty), and the order is the same.
    assert np.all(diff < t["se"].to_numpy())
    rho = stats.spearmanr(np.log(t["estimate"]), np.log(REF["glmer_oe"])).statistic
    assert rho > 0.95
    # Both shrink: every estimate lies between the raw O/E and 1 (or at it).
    raw = t["raw"].to_numpy()
    for est in (t["estimate"].to_numpy(), np.array(REF["glmer_oe"])):
        assert np.all(np.abs(np.log(est)) <= np.abs(np.log(raw)) + 0.05)


def test_rank_intervals_are_wider_for_small_sites() -> None:
    t = _result()
    width = t["rank_upper"] - t["rank_lower"]
    # The three smallest sites (15-30 entries) against the three largest (150-300).
    assert width.iloc[:3].mean() > width.iloc[-3:].mean()
    assert ((t["rank_lower"] <= t["rank"]) & (t["rank"] <= t["rank_upper"])).all()


@pytest.mark.parametrize("seed", [1, 2])
def test_rank_draws_are_seeded(seed: int) -> None:
    cm = case_mix(DATA, covariates=("age", "prior_decisions_5y"))
    a = shrinkage(cm, rng=seed).table
    b = shrinkage(cm, rng=seed).table
    pd.testing.assert_frame_equal(a, b)
