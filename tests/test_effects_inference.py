"""Inference of the programme effect, checked where a wrong number would otherwise pass
(the curves and hazard ratio against R are in ``tests/reference/effects/``):

- p-values: every ``p`` is the normal test from the row's estimate and standard error;
- the bootstrap, replicate by replicate: each replicate refits the propensity model on the
  persons it drew, and the standard error and interval of the risk difference are those of
  the replicates recomputed independently from the resamples.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from effects_helpers import assert_wald_p_values
from evaluation.effects import estimate_programme_effect, propensity_weights
from evaluation.survival import cumulative_incidence

REF = Path(__file__).parent / "reference"
# The data and propensity formula of the R reference (tests/reference/effects/).
sys.path.insert(0, str(REF / "effects"))
from effect_curves_data import PROPENSITY_FORMULA  # noqa: E402

N_BOOT = 20  # the smallest bootstrap allowed: the checks are exact, not statistical


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "effect_curves_input.csv")


def _estimate(data: pd.DataFrame, **kwargs):
    return estimate_programme_effect(
        data.drop(columns=["att_weight", "match_weight"]),
        formula=PROPENSITY_FORMULA,
        covariates=("age", "prior_decisions_5y"),
        n_boot=N_BOOT,
        per_protocol=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def weighted(data):
    return _estimate(data, rng=7)


@pytest.fixture(scope="module")
def matched(data):
    return _estimate(data, method="matching", k=1, caliper=0.2, rng=7)


@pytest.mark.parametrize("fixture", ["weighted", "matched"])
def test_every_p_value_is_the_normal_test_of_its_row(request, fixture):
    eff = request.getfixturevalue(fixture)
    s = eff.summary()
    assert set(s["analysis"]) == {"itt", "naive"}
    assert_wald_p_values(s)


def test_p_values_check_catches_a_wrong_z():
    """The check itself can fail: a p from z / 3 (the deliberate breakage) is refused."""
    from scipy import stats

    row = dict(analysis="itt", estimate=-0.05, se=0.02, ci_lower=-0.09, ci_upper=-0.01)
    good = pd.DataFrame([dict(row, measure="risk_difference_1y", p=2 * stats.norm.sf(2.5))])
    assert_wald_p_values(good)
    bad = good.assign(p=2 * stats.norm.sf(2.5 / 3))
    with pytest.raises(AssertionError):
        assert_wald_p_values(bad)


def _risk_at(data: pd.DataFrame, weights: np.ndarray, day: int) -> dict[int, float]:
    """Weighted Aalen-Johansen risk of relapse by day ``day`` per group, from the survival
    area's estimator (checked against R in
    tests/reference/competing/test_cumulative_incidence_reference.py), not the effect's grid."""
    d = data.assign(_w=weights)
    ci = cumulative_incidence(
        d, duration="duration_days", event="event", by="treated", weights="_w"
    ).summary()
    ci = ci[(ci["cause"] == 1) & (ci["time"] <= day)]
    return {g: float(ci[ci["group"] == g]["estimate"].iloc[-1]) for g in (0, 1)}


def test_bootstrap_refits_the_propensity_model_in_every_replicate(data, weighted):
    """Replicate by replicate: the bootstrap records which persons each replicate drew and
    the propensity coefficients it used. Each replicate's coefficients are a direct refit
    (statsmodels, through propensity_weights) on that resample, they differ across
    replicates, and the risk difference's SE and percentile interval are those of the
    replicates recomputed from the resamples with the refitted weights. A bootstrap that
    reused the full-data fit fails all three (its SE is smaller: 0.0220 against 0.0232 on
    the default registers)."""
    data = data.drop(columns=["att_weight", "match_weight"])
    draws = weighted.bootstrap
    assert draws is not None and draws.n_boot == N_BOOT
    coefs = draws.propensity_coefficients
    assert coefs is not None and coefs.shape == (N_BOOT + 1, 4)
    assert list(coefs.columns) == weighted.propensity.coefficients["term"].tolist()
    # Replicate 0 is the data as they are.
    np.testing.assert_allclose(
        coefs.loc[0].to_numpy(), weighted.propensity.coefficients["coef"], rtol=1e-6
    )
    # Every replicate draws as many persons as there are, all rows of a person together.
    n_persons = data["person_id"].nunique()
    assert (draws.counts.sum(axis=1) == n_persons).all()

    rd, refits = [], []
    for b in range(1, N_BOOT + 1):
        resample = draws.resample(data, b)
        ps = propensity_weights(resample, PROPENSITY_FORMULA, treatment="treated")
        refits.append(ps.coefficients["coef"].to_numpy())
        # Both fits stop at relative deviance changes of 1e-8, which leaves coefficients
        # equal to about 1e-6 at worst (measured: 2e-10); one replicate's sampling change in
        # a coefficient is of the order of its SE (0.1 and more), 1e5 times larger.
        np.testing.assert_allclose(
            coefs.loc[b].to_numpy(), refits[-1], rtol=1e-6, atol=1e-8, err_msg=f"replicate {b}"
        )
        risk = _risk_at(resample, ps.weights.to_numpy(), 365)
        rd.append(risk[1] - risk[0])
    refits_arr = np.array(refits)
    # The coefficients vary from replicate to replicate as much as their model SEs say
    # (20 replicates estimate an SD to about 16 %, so the ratio lies well within 0.5..2).
    ratio = refits_arr.std(axis=0, ddof=1) / weighted.propensity.coefficients["se"].to_numpy()
    assert ((ratio > 0.5) & (ratio < 2)).all(), ratio
    # The summary's SE and percentile interval are those of the recomputed replicates
    # (both sides are the same sums over the same resamples: 1e-6 for the fit tolerance).
    row = weighted.measure("risk_difference_1y")
    assert row.se == pytest.approx(np.std(rd, ddof=1), rel=1e-6)
    lo, hi = np.quantile(rd, [0.025, 0.975])
    assert (row.ci_lower, row.ci_upper) == pytest.approx((lo, hi), rel=1e-6, abs=1e-9)


def test_bootstrap_draws_resample_persons_whole():
    """resample(): each drawn person brings all their rows, as often as drawn."""
    from evaluation.effects.bootstrap import draw_clusters

    data = pd.DataFrame({"person_id": ["a", "b", "b", "c"], "row": [0, 1, 2, 3]})
    draws = draw_clusters(data["person_id"].to_numpy(), 30, np.random.default_rng(3))
    F = draws.frequencies()
    assert (F[:, 0] == 1).all()
    np.testing.assert_array_equal(F[1], F[2])  # both rows of person b together
    for b in range(31):
        r = draws.resample(data, b)
        assert len(r) == F[:, b].sum()
        counts = r["row"].value_counts().reindex(range(4), fill_value=0).to_numpy()
        np.testing.assert_array_equal(counts, F[:, b])
    assert draws.resample(data, 0).equals(data)
    with pytest.raises(ValueError, match="replicate"):
        draws.resample(data, 31)
