"""Invariants and errors of the municipal comparison (evaluation.sites); the numbers
themselves are checked against R in tests/reference/{metafor,poisson_test,case_mix_glm,
glmer_shrinkage}/ and against the generator's truth in tests/recovery/."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.sites import case_mix, funnel, meta_analysis, shrinkage


def _data(
    seed: int = 3, site_sd: float = 0.0, sizes: tuple[int, ...] = (12, 25, 40, 60, 90, 150)
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = np.repeat([f"K{i}" for i in range(len(sizes))], sizes)
    u = np.repeat(rng.normal(0, site_sd, len(sizes)), sizes)
    n = site.size
    age = rng.integers(18, 45, n)
    # A person may enter twice: ids repeat, so the variance is clustered by person.
    person = rng.integers(0, int(n * 0.8), n)
    eta = -0.7 - 0.04 * (age - 25) + u
    relapse = pd.array(rng.random(n) < 1 / (1 + np.exp(-eta)), dtype="boolean")
    relapse[rng.random(n) < 0.05] = pd.NA  # windows not yet closed
    return pd.DataFrame(
        {"person_id": person, "municipality": site, "age": age, "sex": rng.choice(["F", "M"], n),
         "relapse_1y": relapse}
    )  # fmt: skip


def test_case_mix_invariants() -> None:
    d = _data()
    cm = case_mix(d, covariates=("age", "sex"))
    t = cm.table
    # A logistic model with an intercept reproduces the total: sum E = sum O.
    assert t["expected"].sum() == pytest.approx(t["observed"].sum(), rel=1e-8)
    assert (t["ci_lower"] <= t["estimate"]).all() and (t["estimate"] <= t["ci_upper"]).all()
    np.testing.assert_allclose(t["adjusted_share"], t["estimate"] * cm.overall_share)
    assert cm.n_excluded == int(d["relapse_1y"].isna().sum())
    assert t["n"].sum() == cm.n == len(d) - cm.n_excluded
    assert set(cm.plot_data()["kind"]) == {"raw", "adjusted"}
    assert "Case mix" in cm._repr_html_()


def test_case_mix_errors_name_the_column() -> None:
    d = _data()
    with pytest.raises(EstimationError, match="prior_decisions_5y"):
        case_mix(d, covariates=("age", "prior_decisions_5y"))
    bad = d.assign(relapse_1y=np.where(np.arange(len(d)) == 4, 2, 1))
    with pytest.raises(EstimationError, match="True/False"):
        case_mix(bad, covariates=("age",))
    with pytest.raises(EstimationError, match="model"):
        case_mix(d, covariates=("age",), model="probit")  # type: ignore[arg-type]


def test_funnel_limits_narrow_with_precision_and_widen_with_level() -> None:
    f = funnel(case_mix(_data(), covariates=("age",)), overdispersion="none")
    lim = f.limits
    up95 = lim[(lim["level"] == 0.95) & (lim["side"] == "upper")].sort_values("precision")
    up998 = lim[(lim["level"] == 0.998) & (lim["side"] == "upper")].sort_values("precision")
    # Exact discrete limits wiggle, but the funnel narrows overall and 99.8 % lies outside 95 %.
    assert up95["estimate"].iloc[-1] < up95["estimate"].iloc[0]
    assert (up998["estimate"].to_numpy() >= up95["estimate"].to_numpy() - 1e-12).all()
    p = f.points
    assert ((p["lower_95"] <= 1) & (p["upper_95"] >= 1)).all()


def test_overdispersion_widens_the_limits() -> None:
    sizes = (30, 40, 50, 60, 80, 100, 120, 150, 200, 250)
    cm = case_mix(_data(seed=5, site_sd=0.8, sizes=sizes), covariates=("age",))
    none = funnel(cm, overdispersion="none")
    mult = funnel(cm, overdispersion="multiplicative")
    add = funnel(cm, overdispersion="additive")
    assert none.phi > 1 and add.tau2 > 0
    assert (mult.points["upper_95"] > none.points["upper_95"]).all()
    assert (add.points["upper_95"] > 1).all()
    # Multiplicative widening stretches the distance to the target by sqrt(phi).
    np.testing.assert_allclose(
        mult.points["upper_95"] - 1, (none.points["upper_95"] - 1) * np.sqrt(none.phi)
    )
    assert funnel(cm).overdispersion == ("additive" if none.phi_p < 0.05 else "none")


def test_shrinkage_pulls_towards_the_mean() -> None:
    cm = case_mix(_data(seed=5, site_sd=0.6), covariates=("age",))
    s = shrinkage(cm, rng=1)
    t = s.table
    raw, est, mu = np.log(t["raw"]), np.log(t["estimate"]), s.mu
    assert s.tau2 > 0
    # Each estimate lies between the site's raw log O/E and the overall mean.
    assert (np.abs(est - mu) <= np.abs(raw - mu) + 1e-12).all()
    assert ((t["rank_lower"] >= 1) & (t["rank_upper"] <= len(t))).all()
    assert set(s.plot_data()["kind"]) == {"raw", "shrunken", "rank"}


def test_meta_analysis_errors() -> None:
    with pytest.raises(EstimationError, match="at least 2"):
        meta_analysis([0.1], [0.1])
    with pytest.raises(EstimationError, match="K2"):
        meta_analysis([0.1, 0.2, 0.3], [0.1, 0.0, 0.2], labels=["K1", "K2", "K3"])
    with pytest.raises(EstimationError, match="must match"):
        meta_analysis([0.1, 0.2], [0.1, 0.2, 0.3])


def test_meta_analysis_knha_uses_t_with_k_minus_1_df() -> None:
    y, se = [0.1, 0.3, -0.2, 0.5, 0.0], [0.2, 0.14, 0.22, 0.17, 0.1]
    z, kn = meta_analysis(y, se), meta_analysis(y, se, test="knha")
    assert kn.estimate == pytest.approx(z.estimate)
    assert kn.summary().set_index("quantity").loc["pooled", "df"] == 4
    assert np.isnan(z.summary().set_index("quantity").loc["pooled", "df"])


def test_plots_draw_from_plot_data() -> None:
    cm = case_mix(_data(seed=5, site_sd=0.6), covariates=("age",))
    for ax in (
        funnel(cm).plot(highlight="K2"),
        cm.plot(),
        shrinkage(cm, rng=1).plot(),
        meta_analysis([0.1, 0.3, -0.2], [0.2, 0.14, 0.22], labels=list("abc")).plot(),
    ):
        assert ax.get_xlabel()
        plt.close(ax.figure)


def test_plots_of_fully_withheld_data_draw_empty_axes() -> None:
    from evaluation.presentation.graphics.sites import draw_raw_adjusted, draw_shrinkage

    empty = pd.DataFrame(columns=["group", "kind", "estimate", "ci_lower", "ci_upper", "n"])
    for draw in (draw_raw_adjusted, draw_shrinkage):
        ax = draw(empty)
        assert ax.get_legend() is None and ax.get_xlabel()
        plt.close(ax.figure)


@pytest.mark.parametrize(
    ("lang", "expected"), [("sv", ["95 %", "99,8 %"]), ("en", ["95 %", "99.8 %"])]
)
def test_funnel_legend_writes_the_limits_in_the_language(lang: str, expected: list[str]) -> None:
    # Swedish output has a decimal comma everywhere, legends included.
    cm = case_mix(_data(seed=5, site_sd=0.6), covariates=("age",))
    ax = funnel(cm).plot(lang=lang)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == expected
    plt.close(ax.figure)
