"""Reference tests: ``cox_zph`` equals R's ``cox.zph`` (survival 3.5) on the same fits.

Values from ``tests/reference/cox/cox_rossi.R`` (see ``test_cox_reference.py`` for the data).
Tests, degrees of freedom, p-values, the transformed times and every scaled Schoenfeld
residual (in R's row order) are compared for the km, identity and rank transforms.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.survival.cox import cox
from evaluation.survival.zph import cox_zph

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
R = json.loads((HERE / "cox_rossi.json").read_text())
ROSSI = pd.read_csv(DATA / "cox_rossi.csv")
LONG = pd.read_csv(DATA / "cox_rossi_long.csv")
SYN = pd.read_csv(DATA / "cox_synthetic.csv")
FORMULA = "fin + age + race + wexp + mar + paro + prio"
RTOL = 1e-6


def _fit(name: str, ties: str):
    common = {"ties": ties}
    if name == "plain":
        return cox(ROSSI, FORMULA, duration="week", event="arrest", **common)
    if name == "strata":
        return cox(
            ROSSI,
            "fin + age + race + mar + paro + prio",
            duration="week",
            event="arrest",
            strata="wexp",
            **common,
        )
    if name == "weights":
        return cox(ROSSI, FORMULA, duration="week", event="arrest", weights="wt", **common)
    if name == "entry":
        return cox(ROSSI, FORMULA, duration="week", event="arrest", entry="entry", **common)
    if name == "long":
        return cox(
            LONG,
            "fin + age + prio + tv",
            duration="tstop",
            event="arrest",
            entry="tstart",
            **common,
        )
    return cox(
        SYN,
        "x1 + x2 + C(grp) + x1:x2",
        duration="time",
        event="event",
        entry="entry",
        strata="stratum",
        weights="w",
        **common,
    )


# R's term order of the synthetic model is x1, x2, grp, x1:x2; patsy puts C(grp) first.
SYN_TERMS = ["x1", "x2", "C(grp)", "x1:x2"]


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("name", ["plain", "strata", "weights", "entry", "long", "synthetic"])
def test_cox_zph_matches_r(name: str, ties: str) -> None:
    res = _fit(name, ties)
    for transform in ("km", "identity", "rank"):
        z = cox_zph(res, transform)
        r = R[ties][name][f"zph_{transform}"]
        terms = SYN_TERMS if name == "synthetic" else list(z.terms)
        table = z.table.set_index("term").loc[[*terms, "GLOBAL"]]
        np.testing.assert_allclose(table["statistic"], r["chisq"], rtol=RTOL)
        np.testing.assert_array_equal(table["df"], r["df"])
        np.testing.assert_allclose(table["p"], r["p"], rtol=RTOL)
        np.testing.assert_allclose(z.residuals["g_time"], r["x"], rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(
            z.residuals[terms].to_numpy(), np.asarray(r["y"]), rtol=RTOL, atol=1e-10
        )


def test_plot_data_and_plot() -> None:
    z = cox_zph(_fit("plain", "efron"))
    data = z.plot_data("prio")
    assert len(data) == z.events
    assert data["g_time"].is_monotonic_increasing
    # The smooth stays within the range of the residuals it smooths.
    assert data["smooth"].between(data["residual"].min(), data["residual"].max()).all()
    ax = z.plot(term="prio")
    assert ax.get_ylabel().endswith("prio")
    assert len(ax.lines) == 2  # smooth and the fitted coefficient


def test_bad_input() -> None:
    res = _fit("plain", "efron")
    with pytest.raises(EstimationError, match="transform"):
        cox_zph(res, "log10")
    with pytest.raises(EstimationError, match="no term"):
        cox_zph(res).plot_data("nope")
