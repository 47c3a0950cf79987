"""Reference tests of the programme effect against R's survival
(``tests/reference/effects/weighted_survival.R`` into ``weighted_survival.json``):

- the effect's grid estimator: weighted Aalen-Johansen, Kaplan-Meier and number at risk, and
  the weighted cluster-robust Cox model, on ``data/weighted_input.csv`` (``weighted_data.py``);
- section "effect": the weighted (ATT and matching) and unweighted outcome curves that
  ``estimate_programme_effect`` draws equal R's ``survfit`` with case weights on every day,
  and its marginal hazard ratio equals R's weighted cluster-robust ``coxph``, on
  ``data/effect_curves_input.csv`` (``effect_curves_data.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# This folder is on sys.path (pytest's prepend import mode): the script that wrote the data.
from effect_curves_data import PROPENSITY_FORMULA, make, with_weights

from evaluation.effects import estimate_programme_effect

# kernel test: the effect's own grid estimator, which no public name exposes, against R.
from evaluation.effects._aj import aalen_johansen_grid
from evaluation.survival import cox

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "weighted_survival.json").read_text())
N_BOOT = 20  # the smallest bootstrap allowed: the checks are exact, not statistical


@pytest.fixture(scope="module")
def weighted_ref() -> tuple[pd.DataFrame, dict]:
    return pd.read_csv(DATA / "weighted_input.csv"), R


@pytest.fixture(scope="module")
def ref() -> tuple[pd.DataFrame, dict]:
    return pd.read_csv(DATA / "effect_curves_input.csv"), R


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
def weighted(ref):
    data, _ = ref
    return _estimate(data, rng=7)


@pytest.fixture(scope="module")
def matched(ref):
    data, _ = ref
    return _estimate(data, method="matching", k=1, caliper=0.2, rng=7)


@pytest.mark.parametrize("group", [0, 1])
def test_weighted_aalen_johansen_equals_r(weighted_ref, group):
    """Weighted cumulative incidence of relapse with death and emigration competing equals
    R's survfit multi-state with case weights (1e-10: both are exact sums and products)."""
    data, ref = weighted_ref
    d = data[data.treated == group]
    c = aalen_johansen_grid(
        d.duration_days.to_numpy(), d.event.to_numpy(), d.weight.to_numpy(), horizon=1095
    )
    np.testing.assert_allclose(c.cif[1][ref["days"], 0], ref[f"cif_relapse_{group}"], rtol=1e-10)


@pytest.mark.parametrize("group", [0, 1])
def test_weighted_kaplan_meier_and_at_risk_equal_r(weighted_ref, group):
    """With other events censored the grid estimator is the weighted Kaplan-Meier; its
    weighted number at risk is R's n.risk."""
    data, ref = weighted_ref
    d = data[data.treated == group]
    e = (d.event.to_numpy() == 1).astype(int)
    c = aalen_johansen_grid(d.duration_days.to_numpy(), e, d.weight.to_numpy(), horizon=1095)
    np.testing.assert_allclose(c.survival[ref["days"], 0], ref[f"km_{group}"], rtol=1e-10)
    np.testing.assert_allclose(c.at_risk[ref["days"], 0], ref[f"km_n_risk_{group}"], rtol=1e-10)


def test_weighted_cluster_cox_equals_r(weighted_ref):
    """The marginal HR's model: weighted Cox with the cluster-robust variance by person."""
    data, ref = weighted_ref
    fit = cox(
        data,
        "treated",
        duration="duration_days",
        event="event",
        weights="weight",
        cluster="person_id",
    )
    row = fit.summary().iloc[0]
    assert row.coef == pytest.approx(ref["cox_coef"], rel=1e-6)
    assert row.robust_se == pytest.approx(ref["cox_robust_se"], rel=1e-6)
    assert row.se == pytest.approx(ref["cox_naive_se"], rel=1e-6)


def test_reference_data_are_what_the_script_writes(ref):
    """The CSV R read is the one effect_curves_data.py writes with today's weights."""
    data, _ = ref
    pd.testing.assert_frame_equal(
        with_weights(make()), data, check_exact=False, rtol=1e-12, check_dtype=False
    )


def test_propensity_model_and_att_weights_equal_r(ref, weighted):
    """R's glm (converged to 1e-12) and statsmodels' IRLS (1e-8 relative deviance) reach
    the same maximum; at this sample size that leaves coefficients equal to 1e-6."""
    _, r = ref
    coef = weighted.propensity.coefficients.set_index("term")["coef"]
    r_names = {
        "Intercept": "(Intercept)",
        "C(sex)[T.M]": "sexM",
        "age": "age",
        "np.log1p(prior_decisions_5y)": "log1p(prior_decisions_5y)",
    }
    assert sorted(coef.index) == sorted(r_names)
    for term, r_term in r_names.items():
        assert coef[term] == pytest.approx(r["effect_glm_coef"][r_term], rel=1e-6), term
    w = weighted.propensity.weights.to_numpy()
    np.testing.assert_allclose(w, r["effect_att_weight"], rtol=1e-6)


@pytest.mark.parametrize(("fixture", "key"), [("weighted", "att"), ("matched", "match")])
def test_outcome_curves_equal_r_survfit_with_case_weights(ref, request, fixture, key):
    """The drawn ITT curves (column 0 of the bootstrap, the estimate) are R's weighted
    Aalen-Johansen on every day 0..1095, relapse with death and emigration competing, and
    their number at risk is R's weighted n.risk, rounded.

    The estimator's weights come from its own batched Newton fit of the propensity model,
    R's from glm; both reach the same maximum (R checks its weights against the exported
    ones to 1e-8; measured here: curves agree to 3e-14). Sums and products of the same
    weights leave only rounding, so 1e-9 is ample, while a curve that ignores the weights
    differs from R's by several percentage points (next test)."""
    _, r = ref
    eff = request.getfixturevalue(fixture)
    tol = 1e-9
    c = eff.curves[eff.curves["analysis"] == "itt"]
    for g, name in ((0, "comparison"), (1, "participant")):
        cg = c[c["group"] == name].sort_values("time")
        np.testing.assert_array_equal(cg["time"].to_numpy(), r["effect_days"])
        np.testing.assert_allclose(
            cg["estimate"].to_numpy(),
            r[f"effect_{key}_cif_relapse_{g}"],
            rtol=tol,
            atol=1e-12,
            err_msg=name,
        )
        # Weighted number at risk at the start of each day, rounded to whole persons.
        np.testing.assert_array_equal(
            cg["n_at_risk"].to_numpy(),
            np.round(np.asarray(r[f"effect_{key}_n_risk_{g}"])).astype(np.int64),
            err_msg=name,
        )
    _assert_risks_equal_r(eff, "itt", r, key, tol)


def _assert_risks_equal_r(eff, analysis: str, r: dict, key: str, tol: float) -> None:
    """The summary's group risks and risk differences at 1, 2, 3 years are R's curves at
    days 365, 730 and 1095 (floor of whole years of 365.25 days)."""
    for y in (1, 2, 3):
        day = int(np.floor(y * 365.25))
        r1 = r[f"effect_{key}_cif_relapse_1"][day]
        r0 = r[f"effect_{key}_cif_relapse_0"][day]
        for measure, value in (
            (f"risk_participants_{y}y", r1),
            (f"risk_comparisons_{y}y", r0),
            (f"risk_difference_{y}y", r1 - r0),
            (f"risk_ratio_{y}y", r1 / r0),
        ):
            got = eff.measure(measure, analysis=analysis).estimate
            assert got == pytest.approx(value, rel=tol, abs=1e-12), (analysis, measure)


def test_naive_risks_equal_r_survfit_without_weights(ref, weighted):
    """The naive analysis is the unweighted Aalen-Johansen (exact: 1e-10)."""
    _, r = ref
    _assert_risks_equal_r(weighted, "naive", r, "naive", 1e-10)


def test_weighted_and_naive_curves_differ(ref):
    """The reference data are confounded enough that weighting matters: otherwise the
    curve comparison above could not tell the weighted from the naive analysis."""
    _, r = ref
    att, naive = r["effect_att_cif_relapse_0"], r["effect_naive_cif_relapse_0"]
    gap = np.max(np.abs(np.subtract(att, naive)))
    assert gap > 0.03


def test_marginal_hazard_ratio_equals_r(ref, weighted):
    """The ITT hazard ratio row: R's coxph with the ATT weights and the cluster-robust
    variance by person; p is R's robust Wald p. Weights agree to about 1e-8 (see above),
    so the fit to 1e-6."""
    _, r = ref
    hr = weighted.measure("hazard_ratio")
    assert hr.estimate == pytest.approx(np.exp(r["effect_hr_coef"]), rel=1e-6)
    assert hr.se == pytest.approx(r["effect_hr_robust_se"], rel=1e-6)
    assert hr.p == pytest.approx(r["effect_hr_p_summary"], rel=1e-5)
    assert [hr.ci_lower, hr.ci_upper] == pytest.approx(r["effect_hr_ci"], rel=1e-6)
