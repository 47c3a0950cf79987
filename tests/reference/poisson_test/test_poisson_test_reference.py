"""Reference: exact Poisson intervals and tests of O/E (R's poisson.test), Spiegelhalter's
exact funnel limits (qpois/qbinom with interpolation), and the winsorised overdispersion
factor with its additive τ² (values printed by poisson_test.R from oe.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.sites.case_mix import poisson_ci, poisson_p
from evaluation.sites.funnel import binomial_limit, funnel, poisson_limit

HERE = Path(__file__).parent
REF = json.loads((HERE / "poisson_test.json").read_text())
DATA = pd.read_csv(HERE / "oe.csv")
# Closed forms (chi-square quantiles, Poisson/binomial sums): only floating-point error.
RTOL = 1e-9


def test_exact_interval_and_p_equal_poisson_test() -> None:
    o, e = DATA["observed"].to_numpy(float), DATA["expected"].to_numpy(float)
    lo, hi = poisson_ci(o)
    ref = REF["poisson"]
    np.testing.assert_allclose(lo / e, ref["ci_lower"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(hi / e, ref["ci_upper"], rtol=RTOL)
    np.testing.assert_allclose(poisson_p(o, e), ref["p"], rtol=1e-7)


def test_funnel_limits_equal_spiegelhalters_exact_limits() -> None:
    lim = REF["limits"]
    e, n = np.array(lim["expected"]), np.array(lim["n"])
    for p, pois, binom in zip(lim["probs"], lim["poisson"], lim["binomial"], strict=True):
        np.testing.assert_allclose(poisson_limit(p, e), pois, rtol=RTOL)
        np.testing.assert_allclose(binomial_limit(p, n, lim["target"]), binom, rtol=RTOL)


@pytest.mark.parametrize("dataset", ["default", "overdispersed"])
def test_overdispersion_equals_r(dataset: str) -> None:
    d = DATA[DATA["set"] == dataset]
    ref = REF["overdispersion"][dataset]
    exact = funnel(d, overdispersion="none", limits=(0.95,))
    assert exact.phi == pytest.approx(ref["phi"], rel=RTOL)
    assert exact.phi_p == pytest.approx(ref["phi_p"], rel=1e-7)
    assert exact.tau2 == pytest.approx(ref["tau2"], rel=RTOL, abs=1e-12)
    assert exact.points["outside_95"].tolist() == ref["outside_exact"]
    additive = funnel(d, overdispersion="additive", limits=(0.95,))
    assert additive.points["outside_95"].tolist() == ref["outside_additive"]


def test_auto_widens_only_when_overdispersed() -> None:
    assert funnel(DATA[DATA["set"] == "default"]).overdispersion == "none"
    assert funnel(DATA[DATA["set"] == "overdispersed"]).overdispersion == "additive"


def test_binomial_limits_for_a_common_outcome_equal_r() -> None:
    d = DATA[DATA["set"] == "default"]
    ref = REF["binomial_oe"]
    f = funnel(d, distribution="binomial", overdispersion="none")
    np.testing.assert_allclose(f.points["lower_95"], np.maximum(ref["lower"], 0), rtol=RTOL)
    np.testing.assert_allclose(f.points["upper_95"], ref["upper"], rtol=RTOL)
    # Below a lower quantile of 0 the interpolation goes negative; the funnel clips at 0.
    np.testing.assert_allclose(f.points["lower_998"], np.maximum(ref["lower_998"], 0), rtol=RTOL)
    np.testing.assert_allclose(f.points["upper_998"], ref["upper_998"], rtol=RTOL)
    # Narrower than the Poisson limits: var(O) = E (1 - E/n) < E.
    pois = funnel(d, distribution="poisson", overdispersion="none")
    assert (f.points["upper_95"] <= pois.points["upper_95"] + 1e-12).all()
