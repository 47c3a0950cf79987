"""Reference tests: near-tied floating-point times are merged as R merges them (timefix).

Values printed by ``tests/reference/cox/timefix.R`` (survival 3.5) into ``timefix.json``, with
R's ``timefix = TRUE`` (its default) and ``FALSE``. Durations are converted from days in two
ways on alternate rows (the same IEEE operations here and in R), which makes some equal
durations differ in the last bits: survival's ``veteran`` and ``cgd`` (start/stop) in
months, ``mgus2`` in years.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError

# kernel test: the tie-merging rule itself (R's aeqSurv), below every estimator's timefix
from evaluation._input import aeq_times
from evaluation.survival import cumulative_incidence, kaplan_meier
from evaluation.survival.cox import cox

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "timefix.json").read_text())
RTOL = 1e-6


def _months(days: pd.Series) -> np.ndarray:
    d = days.to_numpy(dtype=float)
    alt = np.arange(d.size) % 2 == 1  # R's even rows (1-based)
    return np.where(alt, (d / 365.25) * 12, d / 30.4375)


VET = pd.read_csv(DATA / "veteran.csv")
VET["months"] = _months(VET["time"])
CGD = pd.read_csv(DATA / "cgd.csv")
CGD["start_m"] = _months(CGD["tstart"])
CGD["stop_m"] = _months(CGD["tstop"])
MG = pd.read_csv(DATA / "cif_mgus2.csv")
_alt = np.arange(len(MG)) % 2 == 1
MG["years"] = np.where(_alt, MG["etime"] * (1 / 12), MG["etime"] / 12)

KEYS = {True: "timefix", False: "no_timefix"}


def test_the_data_really_have_near_ties() -> None:
    assert VET["months"].nunique() > VET["time"].nunique()
    assert MG["years"].nunique() > MG["etime"].nunique()
    assert len(R["timefix"]["km_cgd_entry"]["time"]) < len(R["no_timefix"]["km_cgd_entry"]["time"])


@pytest.mark.parametrize("timefix", [True, False])
def test_kaplan_meier(timefix: bool) -> None:
    for name, options in [
        ("km_veteran", dict(data=VET, duration="months", event="status")),
        ("km_cgd_entry", dict(data=CGD, duration="stop_m", entry="start_m", event="status")),
    ]:
        r = R[KEYS[timefix]][name]
        table = kaplan_meier(**options, timefix=timefix).table  # type: ignore[arg-type]
        np.testing.assert_allclose(table["time"], r["time"], rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(table["n_at_risk"], r["n_risk"], rtol=RTOL, err_msg=name)
        np.testing.assert_allclose(table["n_events"], r["n_event"], rtol=RTOL, err_msg=name)
        np.testing.assert_allclose(table["estimate"], r["surv"], rtol=RTOL, err_msg=name)
        # R writes the infinite se of log S at S = 0 as "Inf"; float() reads it.
        std_err = np.array([float(x) for x in r["std_err"]])
        np.testing.assert_allclose(table["se_log"], std_err, rtol=RTOL, err_msg=name)


@pytest.mark.parametrize("timefix", [True, False])
def test_cox(timefix: bool) -> None:
    for name, fit in [
        (
            "cox_veteran",
            lambda: cox(
                VET, "karno + age + trt", duration="months", event="status", timefix=timefix
            ),
        ),
        (
            "cox_cgd",
            lambda: cox(
                CGD,
                "treat + age + steroids",
                duration="stop_m",
                entry="start_m",
                event="status",
                timefix=timefix,
            ),
        ),
    ]:
        r = R[KEYS[timefix]][name]
        res = fit()
        np.testing.assert_allclose(res.coef, r["coef"], rtol=RTOL, err_msg=name)
        np.testing.assert_allclose(np.sqrt(np.diag(res.cov)), r["se"], rtol=RTOL, err_msg=name)
        np.testing.assert_allclose([res.loglik_null, res.loglik], r["loglik"], rtol=1e-9)


@pytest.mark.parametrize("timefix", [True, False])
def test_cumulative_incidence(timefix: bool) -> None:
    r = R[KEYS[timefix]]["cif_mgus2"]
    fit = cumulative_incidence(MG, duration="years", event="event", timefix=timefix)
    wide = fit.table.pivot(index="time", columns="cause", values=["estimate", "se"])
    np.testing.assert_allclose(wide.index, r["time"], rtol=1e-12)
    np.testing.assert_allclose(wide["estimate"].to_numpy(), r["pstate"], rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(wide["se"].to_numpy(), r["std_err"], rtol=RTOL, atol=1e-15)


def test_rule_is_r_aeqsurv() -> None:
    """Chains of near-equal values go to their smallest; whole days never move."""
    eps = 1e-9
    t = np.array([1.0, 1.0 + eps, 1.0 + 2 * eps, 2.0, 3.0 - 1e-7, 3.0])
    new, _ = aeq_times(t)
    np.testing.assert_array_equal(new, [1.0, 1.0, 1.0, 2.0, 3.0 - 1e-7, 3.0])
    days = np.arange(0, 20000, dtype=float)
    assert aeq_times(days)[0] is days
    # Relative rule: large values tie when their difference is small relative to the mean.
    big = np.array([1e9, 1e9 + 1.0, 5e8])
    assert aeq_times(big)[0].tolist() == [1e9, 1e9, 5e8]


def test_interval_of_length_zero_after_merging_is_an_error() -> None:
    data = pd.DataFrame({"start": [0.0, 1.0], "stop": [1.0, 1.0 + 1e-12], "e": [1, 1]})
    with pytest.raises(EstimationError, match=r"differ only by rounding in 1 row \(row 1\)"):
        kaplan_meier(data, duration="stop", entry="start", event="e")
    table = kaplan_meier(data, duration="stop", entry="start", event="e", timefix=False).table
    assert len(table) == 2


def test_logrank() -> None:
    """R's survdiff merges the near ties (survdiff(timefix = FALSE) fails in survival 3.5.3,
    so only the default is referenced); without merging the expected counts change."""
    from evaluation.survival.logrank import logrank

    r = R["timefix"]["logrank_veteran"]
    res = logrank(VET, duration="months", event="status", by="trt")
    np.testing.assert_allclose(res.table["observed"], r["observed"], rtol=RTOL)
    np.testing.assert_allclose(res.table["expected"], r["expected"], rtol=RTOL)
    assert res.statistic == pytest.approx(r["chisq"], rel=RTOL)
    split = logrank(VET, duration="months", event="status", by="trt", timefix=False)
    assert abs(split.table["expected"].iloc[0] / r["expected"][0] - 1) > 1e-6


@pytest.mark.parametrize("timefix", [True, False])
def test_rmst(timefix: bool) -> None:
    """The area and Greenwood variance do not change when a tie is split (the products and
    sums are the same), so R gives the same values either way; so must rmst."""
    from evaluation.survival.rmst import rmst

    r = R[KEYS[timefix]]["rmst_veteran"]
    table = rmst(VET, duration="months", event="status", by="trt", tau=12, timefix=timefix).table
    np.testing.assert_allclose(table["estimate"], r["rmean"], rtol=RTOL)
    np.testing.assert_allclose(table["se"], r["se"], rtol=RTOL)
