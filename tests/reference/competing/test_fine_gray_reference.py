"""Reference tests: ``fine_gray`` equals cmprsk::crr and survival::finegray + coxph (ties,
censoring strata, clusters and case weights); values printed by
``tests/reference/competing/finegray_crr.R`` into ``finegray_crr.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import fine_gray

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
MGUS2 = pd.read_csv(DATA / "cif_mgus2.csv")
RETENTION = pd.read_csv(DATA / "cif_retention.csv")
R_FG = json.loads((HERE / "finegray_crr.json").read_text())


# patsy names -> R's model.matrix names
R_NAMES = {"group[T.B]": "groupB", "group[T.C]": "groupC"}


# case -> data, duration, formula, cause, options
CRR_CASES = {
    "mgus2_cause1": (MGUS2, "etime", "age + male + mspike", 1, {}),
    "mgus2_cause2": (MGUS2, "etime", "age + male + mspike", 2, {}),
    "mgus2_cause1_cengroup_old": (MGUS2, "etime", "age + male + mspike", 1, {"strata": "old"}),
    "retention_cause2": (RETENTION, "duration_days", "x1 + x2 + group", 2, {}),
    "retention_cause1": (RETENTION, "duration_days", "x1 + x2 + group", 1, {}),
    "retention_cause2_cengroup_stratum": (
        RETENTION,
        "duration_days",
        "x1 + x2 + group",
        2,
        {"strata": "stratum"},
    ),
}


FINEGRAY_CASES = {
    "retention_cause2_by_person": {},
    "retention_cause2_cluster_team": {"cluster": "team"},
    "retention_cause2_weighted": {"weights": "weight"},
    "retention_cause2_weighted_cluster_team": {"weights": "weight", "cluster": "team"},
}


def _by_r_name(fit) -> pd.DataFrame:
    table = fit.summary()
    table["term"] = table["term"].replace(R_NAMES)
    return table.set_index("term")


def _ref(section: str, case: str) -> pd.DataFrame:
    (row,) = [c for c in R_FG[section] if c["case"] == case]
    return pd.DataFrame({"coef": row["coef"], "se": row["se"]}, index=row["term"])


@pytest.mark.parametrize("case", list(CRR_CASES))
def test_reference_crr(case):
    """Coefficients and crr's sandwich standard errors (with the censoring term).

    Tolerance 1e-6 relative for the standard errors; 1e-6 for the coefficients too, which
    crr stops iterating on at a Newton step below 1e-6 (its coefficients agree with the
    exact maximum to about 1e-7 relative here).
    """
    data, duration, formula, cause, options = CRR_CASES[case]
    fit = fine_gray(data, formula, duration=duration, event="event", cause=cause, **options)
    got = _by_r_name(fit)
    ref = _ref("crr", case)
    np.testing.assert_allclose(got.loc[ref.index, "coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(got.loc[ref.index, "se"], ref["se"], rtol=1e-6)
    assert fit.converged


@pytest.mark.parametrize("case", list(FINEGRAY_CASES))
def test_reference_finegray_coxph(case):
    """survival::finegray + coxph(weights = fgwt, ties = "breslow", cluster = id or team)."""
    fit = fine_gray(
        RETENTION,
        "x1 + x2 + group",
        duration="duration_days",
        event="event",
        cause=2,
        convention="finegray",
        **FINEGRAY_CASES[case],
    )
    got = _by_r_name(fit)
    ref = _ref("finegray", case)
    np.testing.assert_allclose(got.loc[ref.index, "coef"], ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(got.loc[ref.index, "se"], ref["se"], rtol=1e-6)


def test_reference_finegray_mgus2_heavy_ties():
    fit = fine_gray(
        MGUS2,
        "age + male + mspike",
        duration="etime",
        event="event",
        cause=1,
        convention="finegray",
    )
    ref = _ref("finegray", "mgus2_cause1_by_person")
    np.testing.assert_allclose(fit.coef, ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref["se"], rtol=1e-6)


def test_reference_predict_crr():
    fit = fine_gray(RETENTION, "x1 + x2 + group", duration="duration_days", event="event", cause=2)
    ref = R_FG["predict"]["retention_cause2"]
    new = pd.DataFrame({"x1": [0, 1], "x2": [0.0, 0.5], "group": ["A", "B"]})
    got = fit.predict_cumulative_incidence(new, ref["times"])
    est = got["estimate"].to_numpy().reshape(2, -1)
    np.testing.assert_allclose(est, np.array(ref["cif"]), rtol=1e-6)
    fit = fine_gray(MGUS2, "age + male + mspike", duration="etime", event="event", cause=1)
    ref = R_FG["predict"]["mgus2_cause1"]
    new = pd.DataFrame({"age": [60, 75], "male": [0, 1], "mspike": [1.0, 2.0]})
    est = fit.predict_cumulative_incidence(new, ref["times"])["estimate"].to_numpy()
    np.testing.assert_allclose(est.reshape(2, -1), np.array(ref["cif"]), rtol=1e-6)
