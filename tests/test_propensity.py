"""Propensity weights: invariants of the weights, agreement of the batched fit, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.effects import propensity_weights

# kernel test: the batched Newton logistic fit the bootstrap uses, against statsmodels
from evaluation.effects._logit import fit_logistic_batch, scores_batch


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    df = pd.DataFrame(
        {
            "age": rng.normal(30, 8, n),
            "prior": rng.poisson(2, n),
            "sex": rng.choice(["F", "M"], n, p=[0.3, 0.7]),
        }
    )
    lin = -2 + 0.04 * (df.age - 30) + 0.3 * df.prior + 0.5 * (df.sex == "M")
    df["t"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df


def test_att_weights_are_odds_and_stabilised(data):
    r = propensity_weights(data, "age + prior + C(sex)", treatment="t", stabilize=False)
    e, t, w = r.scores.to_numpy(), data.t.to_numpy(), r.weights.to_numpy()
    np.testing.assert_allclose(w[t == 1], 1.0)
    np.testing.assert_allclose(w[t == 0], e[t == 0] / (1 - e[t == 0]), rtol=1e-12)
    rs = propensity_weights(data, "age + prior + C(sex)", treatment="t")
    p1 = t.mean()
    np.testing.assert_allclose(rs.weights[t == 0], w[t == 0] * (1 - p1) / p1, rtol=1e-12)


def test_overlap_weights_balance_model_covariates_exactly(data):
    """Li et al. (2018): overlap weights from a logistic model give exact mean balance of
    every term in the model; the score equations of the MLE are that identity."""
    r = propensity_weights(data, "age + prior + C(sex)", treatment="t", estimand="ATO")
    w, t = r.weights.to_numpy(), data.t.to_numpy()
    for x in (data.age.to_numpy(), data.prior.to_numpy(), (data.sex == "M").to_numpy()):
        m1 = np.average(x[t == 1], weights=w[t == 1])
        m0 = np.average(x[t == 0], weights=w[t == 0])
        assert abs(m1 - m0) < 1e-6 * (1 + abs(m1))


def test_ate_weights_and_ess(data):
    r = propensity_weights(
        data, "age + prior + C(sex)", treatment="t", estimand="ATE", stabilize=False
    )
    e, t, w = r.scores.to_numpy(), data.t.to_numpy(), r.weights.to_numpy()
    np.testing.assert_allclose(w, np.where(t == 1, 1 / e, 1 / (1 - e)), rtol=1e-12)
    g = r.summary().set_index("group")
    wc = w[t == 0]
    assert g.loc["comparisons", "ess"] == pytest.approx(wc.sum() ** 2 / (wc**2).sum())
    assert g.loc["comparisons", "ess"] < g.loc["comparisons", "n"]


def test_trimming_zeroes_extreme_scores(data):
    r = propensity_weights(data, "age + prior + C(sex)", treatment="t", trim=0.1)
    e = r.scores.to_numpy()
    out = (e < 0.1) | (e > 0.9)
    assert out.sum() == r.n_trimmed > 0
    assert (r.weights.to_numpy()[out] == 0).all()


def test_batched_irls_agrees_with_statsmodels(data):
    """Agreement: the bootstrap's batched Newton fit equals statsmodels' GLM on the same rows,
    including with frequency weights (a resample) compared with duplicated rows."""
    r = propensity_weights(data, "prior + C(sex) + bs(age, df=4)", treatment="t")
    X, t = r.design, r.treat
    rng = np.random.default_rng(1)
    f = rng.poisson(1.0, len(t)).astype(float)
    beta = fit_logistic_batch(X, t, np.column_stack([np.ones(len(t)), f]))
    np.testing.assert_allclose(scores_batch(X, beta)[:, 0], r.scores, rtol=1e-7)
    rows = np.repeat(np.arange(len(t)), f.astype(int))
    dup = data.iloc[rows].reset_index(drop=True)
    # Knots of bs() must stay those of the full data, so refit on the fixed design matrix.
    import statsmodels.api as sm

    ref = sm.GLM(t[rows], X[rows], family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(scores_batch(X, beta)[rows, 1], ref.fittedvalues, rtol=1e-7)
    assert len(dup) == f.sum()


def test_overlap_plot_draws_both_groups(data):
    r = propensity_weights(data, "age + prior", treatment="t")
    ax = r.plot_overlap(weighted=True)
    assert len(ax.patches) == 2 * 40


def test_errors_name_the_problem(data):
    with pytest.raises(EstimationError, match="estimand"):
        propensity_weights(data, "age", treatment="t", estimand="ATX")  # type: ignore[arg-type]
    bad = data.assign(t=data.t.where(data.index != 5, 2))
    with pytest.raises(EstimationError, match=r"treatment column 't'.*\(row 5\)"):
        propensity_weights(bad, "age", treatment="t")
    with pytest.raises(EstimationError, match="cannot be built"):
        propensity_weights(data, "age + nope", treatment="t")
    with pytest.raises(EstimationError, match="left-hand side"):
        propensity_weights(data, "prior ~ age", treatment="t")


def test_overlap_plot_draws_no_bin_of_fewer_than_min_cell_persons(data):
    # Density bars give counts back (height x group size x bin width), so with min_cell a
    # bin of 1..4 persons must be drawn empty while every larger bin keeps its bar.
    from evaluation.presentation.graphics.effects import score_bin_edges

    r = propensity_weights(data, "age + prior + C(sex)", treatment="t")
    scores, treat = r.scores.to_numpy(), data.t.to_numpy()
    edges = score_bin_edges(scores, 40)
    counts = np.concatenate([np.histogram(scores[treat == g], bins=edges)[0] for g in (1, 0)])
    small = (counts > 0) & (counts < 5)
    assert small.any()  # the data have thin tails, so the rule is exercised
    ax = r.plot_overlap(min_cell=5)
    heights = np.abs([p.get_height() for p in ax.patches])
    assert len(heights) == len(counts)
    assert np.all(heights[small] == 0)
    assert np.all(heights[counts >= 5] > 0)
    unmasked = np.abs([p.get_height() for p in r.plot_overlap(min_cell=1).patches])
    assert np.all(unmasked[small] > 0)
    # The package's one default threshold applies unless another is asked for.
    default = np.abs([p.get_height() for p in r.plot_overlap().patches])
    np.testing.assert_array_equal(default, heights)
