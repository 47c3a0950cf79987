"""Reference tests: cluster-robust Cox with few clusters, and summary rows in R's order.

Values from ``tests/reference/cox/cox_few_clusters.R`` (survival 3.5) in
``cox_few_clusters.json``, on survival's public data sets ``cgd`` (start/stop rows of
repeated infections; 4 hospital categories, 13 centres), ``lung`` (18 institutions) and
``veteran``, exported by the script to ``tests/reference/data/``. R converged to eps 1e-11,
so coefficients and variances agree to ~1e-9; 1e-6 relative is the package's tolerance.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError, FewClustersWarning

# kernel test: the Wald test's generalised inverse, which no result exposes on its own
from evaluation.survival import _cox_fit
from evaluation.survival.cox import cox

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "cox_few_clusters.json").read_text())
CGD = pd.read_csv(DATA / "cgd.csv")
LUNG = pd.read_csv(DATA / "lung.csv")
VETERAN = pd.read_csv(DATA / "veteran.csv")
CGD_FORMULA = "treat + male + age + height + weight + autosomal + steroids + propylac"
RTOL = 1e-6


def fit(name: str, ties: str, **options: object):
    if name == "lung_inst":
        args = dict(
            data=LUNG,
            formula="age + sex + ph_ecog + ph_karno + pat_karno + wt_loss",
            duration="time",
            event="event",
            cluster="inst",
        )
    else:
        args = dict(
            data=CGD,
            formula=CGD_FORMULA,
            duration="tstop",
            entry="tstart",
            event="status",
            cluster="hos_cat" if name == "cgd_hos_cat" else "center",
        )
    with pytest.warns(FewClustersWarning, match=f"has {R[ties][name]['n_clusters']} clusters"):
        return cox(**args, ties=ties, **options)  # type: ignore[arg-type]


CASES = [(n, t) for t in ("efron", "breslow") for n in ("cgd_hos_cat", "cgd_center", "lung_inst")]


@pytest.mark.parametrize(("name", "ties"), CASES)
def test_robust_variance_and_wald_test_equal_r(name: str, ties: str) -> None:
    r = R[ties][name]
    res = fit(name, ties)
    table = res.summary()
    assert list(table["term"]) == r["terms"]
    np.testing.assert_allclose(res.coef, r["coef"], rtol=RTOL)
    np.testing.assert_allclose(table["se"], r["se"], rtol=RTOL)
    np.testing.assert_allclose(table["robust_se"], r["robust_se"], rtol=RTOL)
    # Rank-deficient with 4 clusters: compared entrywise against R's largest entry, since
    # the near-zero entries of a singular matrix carry only absolute accuracy.
    cov = np.asarray(r["var"])
    np.testing.assert_allclose(res.cov, cov, rtol=RTOL, atol=RTOL * np.abs(cov).max())
    wald = res.tests.set_index("test").loc["wald"]
    assert wald["statistic"] == pytest.approx(r["wald"], rel=RTOL)
    assert wald["df"] == r["wald_df"] == r["rank"]
    assert res.n_clusters == r["n_clusters"]


def test_four_clusters_eight_coefficients_is_singular_not_an_error() -> None:
    """The case that used to raise ``LinAlgError: Singular matrix``."""
    res = fit("cgd_hos_cat", "efron")
    assert np.linalg.matrix_rank(res.cov) == 3 < len(res.terms)
    wald = res.tests.set_index("test").loc["wald"]
    assert wald["df"] == 3 and 0 < wald["p"] < 1
    # R's summary prints the number of coefficients as df; the statistic is the same.
    assert R["efron"]["cgd_hos_cat"]["wald_df_summary"] == len(res.terms)


@pytest.mark.parametrize("name", ["cgd_hos_cat", "cgd_center", "lung_inst"])
def test_cr1_correction_multiplies_by_g_over_g_minus_1(name: str) -> None:
    r = R["efron"][name]
    res = fit(name, "efron", cluster_correction="cr1")
    np.testing.assert_allclose(res.summary()["robust_se"], r["cr1_se"], rtol=RTOL)
    wald = res.tests.set_index("test").loc["wald"]
    assert wald["statistic"] == pytest.approx(r["cr1_wald"], rel=RTOL)
    assert res.cluster_correction == "cr1" and "CR1" in res._repr_html_()
    # The interval uses the corrected standard error.
    z = res.summary()["z"].to_numpy()
    np.testing.assert_allclose(z, res.coef / np.asarray(r["cr1_se"]), rtol=RTOL)


def test_no_warning_with_enough_clusters_and_option_errors() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = cox(
            CGD, "treat + age", duration="tstop", entry="tstart", event="status", cluster="id"
        )
    assert res.n_clusters == CGD["id"].nunique() >= 30
    with pytest.raises(EstimationError, match="cluster_correction"):
        cox(CGD, "treat", duration="tstop", event="status", cluster="id", cluster_correction="x")
    with pytest.raises(EstimationError, match="needs a cluster column"):
        cox(CGD, "treat", duration="tstop", event="status", cluster_correction="cr1")


def test_wald_test_generalised_inverse_is_the_inverse_when_full_rank() -> None:
    rng = np.random.default_rng(20)
    a = rng.normal(size=(5, 5))
    v = a @ a.T + np.eye(5)
    b = rng.normal(size=5)
    stat, rank = _cox_fit.wald_test(v, b)
    assert rank == 5
    assert stat == pytest.approx(float(b @ np.linalg.solve(v, b)), rel=1e-12)


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("main", "karno + celltype + trt + age"),
        ("interaction", "age:trt + karno + celltype + diagtime"),
    ],
)
def test_summary_rows_follow_the_formula_as_r_prints_them(name: str, formula: str) -> None:
    """Patsy puts categorical terms first; R keeps the formula's order (interactions last)."""
    r = R["order"][name]
    res = cox(VETERAN, formula, duration="time", event="status")
    table = res.summary()
    # R names factor levels "celltypelarge", patsy "celltype[T.large]".
    names = [t.replace("[T.", "").replace("]", "") for t in table["term"]]
    assert names == r["terms"]
    np.testing.assert_allclose(table["coef"], r["coef"], rtol=RTOL)
    np.testing.assert_allclose(table["se"], r["se"], rtol=RTOL)
    # Prediction rebuilds the model matrix with the columns in the coefficients' order.
    design = res._model.design
    np.testing.assert_array_equal(design.build(VETERAN), design.matrix)
