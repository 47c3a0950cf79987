"""Balance: SMD and variance ratio by hand, categorical expansion, plots, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.effects import balance, match, propensity_weights


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 2000
    df = pd.DataFrame(
        {
            "age": rng.normal(30, 8, n),
            "prior": rng.poisson(2, n),
            "sex": rng.choice(["F", "M"], n, p=[0.3, 0.7]),
            "municipality": rng.choice(["Botkyrka", "Malmö", "other"], n),
        }
    )
    lin = -1.5 + 0.05 * (df.age - 30) + 0.3 * df.prior + 0.5 * (df.sex == "M")
    df["t"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df


def test_smd_and_variance_ratio_by_hand(data):
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(data))
    b = balance(data, ["age", "sex"], treatment="t", weights=w).table.set_index("covariate")
    t = data.t.to_numpy() == 1
    x = data.age.to_numpy()
    sd = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
    assert b.loc["age", "smd_before"] == pytest.approx((x[t].mean() - x[~t].mean()) / sd)
    m1, m0 = np.average(x[t], weights=w[t]), np.average(x[~t], weights=w[~t])
    assert b.loc["age", "smd_after"] == pytest.approx((m1 - m0) / sd)
    assert b.loc["age", "vr_before"] == pytest.approx(x[t].var(ddof=1) / x[~t].var(ddof=1))
    # categorical columns become one row per level; binary rows have no variance ratio
    assert {"sex=F", "sex=M"} <= set(b.index)
    assert np.isnan(b.loc["sex=M", "vr_before"])


def test_weighting_and_matching_improve_balance(data):
    covs = ["age", "prior", "sex", "municipality"]
    ps = propensity_weights(data, "age + prior + C(sex) + C(municipality)", treatment="t")
    bw = balance(data, covs, treatment="t", weights=ps)
    assert np.abs(bw.table.smd_before).max() > 0.3  # the simulated selection is strong
    assert bw.balanced and bw.max_abs_smd < 0.1
    bm = balance(data, covs, treatment="t", weights=match(data, treatment="t", score=ps))
    assert bm.adjustment == "matching"
    assert bm.max_abs_smd < np.abs(bm.table.smd_before).max()


def test_plots(data):
    ps = propensity_weights(data, "age + prior", treatment="t")
    b = balance(data, ["age", "prior"], treatment="t", weights=ps)
    ax = b.plot()
    assert len(ax.get_yticklabels()) == 2
    assert b.plot_overlap() is not None
    with pytest.raises(EstimationError, match="overlap needs"):
        balance(data, ["age"], treatment="t").plot_overlap()


def test_missing_covariate_values_are_named(data):
    bad = data.assign(age=data.age.where(data.index != 3))
    with pytest.raises(
        EstimationError, match=r"covariate column 'age' has 1 missing value \(row 3\)"
    ):
        balance(bad, ["age"], treatment="t")


def test_love_plot_labels_covariates_in_words(data):
    from evaluation.presentation.graphics.effects import covariate_label
    from evaluation.presentation.theme import theme

    assert covariate_label("sex=M", "sv") == "Kön: Män"
    assert covariate_label("municipality_group=other", "sv") == "Region: Övriga kommuner"
    assert covariate_label("prior_weapons_5y", "en") == "Weapons offences in the past 5 years"
    assert covariate_label("days_since_last_decision_capped", "sv").startswith("Dagar sedan")
    assert covariate_label("not_in_the_table", "sv") == "not_in_the_table"
    ps = propensity_weights(data, "age + prior + sex", treatment="t")
    b = balance(data, ["age", "sex"], treatment="t", weights=ps)
    with theme("en"):
        ax = b.plot()
        ax.figure.canvas.draw()
    shown = {t.get_text() for t in ax.get_yticklabels()}
    assert {"Age", "Sex: Men", "Sex: Women"} <= shown
    xlabels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert not any("," in t for t in xlabels)  # English: decimal point
    with theme("sv"):
        ax = b.plot()
        ax.figure.canvas.draw()
    xlabels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert any("," in t for t in xlabels) and not any("." in t for t in xlabels)


def test_overlap_axis_ends_just_above_the_largest_score(data):
    from evaluation.presentation.graphics.effects import score_bin_edges

    ps = propensity_weights(data, "age + prior", treatment="t")
    ax = ps.plot_overlap()
    lo, hi = ax.get_xlim()
    top = float(ps.scores.max())
    assert lo == 0.0 and top <= hi < top + 0.1 + 1e-9
    edges = score_bin_edges(np.array([0.03, 0.34]), 7)
    assert edges[0] == 0.0 and np.isclose(edges[-1], 0.4) and len(edges) == 8
