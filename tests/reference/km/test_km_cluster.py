"""Reference tests: cluster-robust Kaplan–Meier (``kaplan_meier(..., cluster=)``) equals R's
``survfit(..., id = id, robust = TRUE)``.

Values printed by ``tests/reference/km/km_cluster.R`` into ``km_cluster.json`` from survival's
``cgd`` data (``tests/reference/data/cgd.csv``): start/stop rows of repeated infections and
gap times from each entry (several entries of one person), unweighted and with case
weights. ``summary.survfit`` reports the standard error of S(t); its log-log limits come
from the log-scale one, so the limits check ``se_log`` too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival import kaplan_meier

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "km_cluster.json").read_text())
CGD = pd.read_csv(DATA / "cgd.csv")
CGD["gap"] = CGD["tstop"] - CGD["tstart"]
CGD["w"] = 1 + (CGD["id"] % 3) / 2
RTOL = 1e-6

CASES = {
    "counting": dict(duration="tstop", entry="tstart", event="status", cluster="id"),
    "counting_naive": dict(duration="tstop", entry="tstart", event="status"),
    "gap": dict(duration="gap", event="status", by="treat", cluster="id"),
    "gap_weighted": dict(duration="gap", event="status", by="treat", cluster="id", weights="w"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_cluster_robust_curve_equals_r(name: str) -> None:
    r = R[name]
    km = kaplan_meier(CGD, **CASES[name])  # type: ignore[arg-type]
    got = km.at(sorted(set(r["time"])))
    got = got.assign(group=got["group"].astype(str))
    want = pd.DataFrame(r)
    # R writes the undefined log-log limits at S = 1 as "NA"; ours are NaN there too.
    for col in ("lower", "upper"):
        want[col] = pd.to_numeric(want[col], errors="coerce")
    got = got.set_index(["group", "time"]).loc[list(zip(want["group"], want["time"], strict=True))]
    np.testing.assert_allclose(got["n_at_risk"], want["n_risk"], rtol=RTOL)
    np.testing.assert_allclose(got["estimate"], want["surv"], rtol=RTOL)
    np.testing.assert_allclose(got["se"], want["std_err"], rtol=RTOL)
    np.testing.assert_allclose(got["ci_lower"], want["lower"], rtol=RTOL)
    np.testing.assert_allclose(got["ci_upper"], want["upper"], rtol=RTOL)
    np.testing.assert_allclose(got["cumhaz"], want["cumhaz"], rtol=RTOL)
    np.testing.assert_allclose(got["se_cumhaz"], want["std_chaz"], rtol=RTOL)
    assert km.variance == ("greenwood" if name.endswith("naive") else "robust")


def test_clustering_widens_the_interval_of_repeated_rows() -> None:
    """Rows of one person are dependent: the cluster-robust se exceeds the naive ones."""
    clustered = kaplan_meier(CGD, **CASES["counting"]).table  # type: ignore[arg-type]
    rows = kaplan_meier(CGD, duration="tstop", entry="tstart", event="status", variance="robust")
    ratio = (clustered["se_log"] / rows.table["se_log"]).to_numpy()[10:]
    assert np.all(ratio > 1)


def test_one_row_per_cluster_is_the_plain_robust_variance() -> None:
    one = CGD.groupby("id").head(1).reset_index(drop=True)
    a = kaplan_meier(one, duration="gap", event="status", variance="robust").table
    b = kaplan_meier(one, duration="gap", event="status", cluster="id").table
    np.testing.assert_allclose(b["se_log"], a["se_log"], rtol=1e-10)
    np.testing.assert_allclose(b["se_cumhaz"], a["se_cumhaz"], rtol=1e-10)


def test_cluster_needs_robust_and_complete_ids() -> None:
    with pytest.raises(EstimationError, match="variance must be 'robust'"):
        kaplan_meier(CGD, duration="gap", event="status", cluster="id", variance="greenwood")
    bad = CGD.astype({"id": float})
    bad.loc[[2, 9], "id"] = np.nan
    with pytest.raises(
        EstimationError, match=r"cluster column 'id' has 2 missing values \(rows 2, 9\)"
    ):
        kaplan_meier(bad, duration="gap", event="status", cluster="id")


def test_result_names_the_cluster_column() -> None:
    km = kaplan_meier(CGD, duration="gap", event="status", cluster="id")
    assert km.cluster == "id" and km.n_clusters == CGD["id"].nunique() == 128
    assert "clustered by id (128)" in km._repr_html_()
    assert kaplan_meier(CGD, duration="gap", event="status").cluster is None
