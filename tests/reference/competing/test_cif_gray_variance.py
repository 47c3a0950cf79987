"""Reference tests: ``cumulative_incidence(..., variance="gray")`` equals cmprsk's ``cuminc``.

Values printed by ``tests/reference/competing/cif_cuminc_variance.R`` (cmprsk 2.2) into
``cif_cuminc_variance.json`` with ``timepoints``: survival's ``mgus2`` as competing risks
(months, many ties), overall and by sex, and the package's synthetic retention cohort
(four causes, three groups). The variance is compared on the variance scale, as cuminc
reports it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival import cumulative_incidence

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "cif_cuminc_variance.json").read_text())
MGUS2 = pd.read_csv(DATA / "cif_mgus2.csv")
RETENTION = pd.read_csv(DATA / "cif_retention.csv")
RTOL = 1e-6

CASES = {
    "mgus2": (MGUS2, dict(duration="etime", event="event")),
    "mgus2_by_male": (MGUS2, dict(duration="etime", event="event", by="male")),
    "retention_by_group": (RETENTION, dict(duration="duration_days", event="event", by="group")),
}


def _ours(name: str, variance: str) -> pd.DataFrame:
    data, options = CASES[name]
    fit = cumulative_incidence(data, **options, variance=variance)  # type: ignore[arg-type]
    table = fit.at(R[name]["time"]).query("cause > 0")
    return table.assign(group=table["group"].astype(str).replace({"all": "1"}))


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_and_variances_equal_cmprsk_cuminc(name: str) -> None:
    r = R[name]
    got = _ours(name, "gray").set_index(["group", "cause", "time"])
    for key, est, var in zip(r["key"], r["est"], r["var"], strict=True):
        group, cause = key.rsplit(" ", 1)
        # timepoints gives NA after the group's last follow-up time; ours carries on.
        est, var = pd.to_numeric(est, errors="coerce"), pd.to_numeric(var, errors="coerce")
        inside = ~np.isnan(est)
        assert inside.sum() >= 6
        times = np.asarray(r["time"], dtype=float)[inside]
        rows = got.loc[[(group, int(cause), t) for t in times]]
        np.testing.assert_allclose(rows["estimate"], est[inside], rtol=RTOL, err_msg=key)
        np.testing.assert_allclose(rows["se"] ** 2, var[inside], rtol=RTOL, err_msg=key)


def test_gray_differs_from_the_jackknife_but_not_the_estimates() -> None:
    """The two variances are different estimators (close early, apart in the tail)."""
    gray = _ours("mgus2_by_male", "gray")
    ij = _ours("mgus2_by_male", "robust")
    np.testing.assert_allclose(gray["estimate"], ij["estimate"], rtol=1e-12)
    ratio = (gray["se"] / ij["se"]).to_numpy()
    assert np.abs(ratio - 1).max() > 1e-3 and np.abs(ratio[:3] - 1).max() < 0.01


def test_event_free_survival_gets_greenwood() -> None:
    from evaluation.survival import kaplan_meier

    fit = cumulative_incidence(MGUS2, duration="etime", event="event", variance="gray")
    km = kaplan_meier(
        MGUS2.assign(any=(MGUS2["event"] > 0).astype(int)), duration="etime", event="any"
    )
    free = fit.event_free
    # Kaplan-Meier leaves the se undefined once S = 0 (the last time); the curves say 0.
    alive = km.table["estimate"] > 0
    assert alive.sum() == len(alive) - 1
    np.testing.assert_allclose(free["se"][alive], km.table["se"][alive], rtol=1e-10)
    assert fit.variance == "gray"


def test_gray_refuses_weights_entry_and_unknown_names() -> None:
    data = RETENTION.assign(start=0.5)
    with pytest.raises(EstimationError, match="unweighted data without delayed entry"):
        cumulative_incidence(
            data, duration="duration_days", event="event", weights="weight", variance="gray"
        )
    with pytest.raises(EstimationError, match="unweighted data without delayed entry"):
        cumulative_incidence(
            data, duration="duration_days", event="event", entry="start", variance="gray"
        )
    with pytest.raises(EstimationError, match="variance must be one of robust, gray"):
        cumulative_incidence(data, duration="duration_days", event="event", variance="cuminc")
