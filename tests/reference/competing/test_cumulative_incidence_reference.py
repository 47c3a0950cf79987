"""Reference tests: ``cumulative_incidence`` equals R's multi-state ``survfit`` (values printed
by ``tests/reference/competing/cif_aalen_johansen.R`` into ``cif_aalen_johansen.json``), and
the committed retention data are what ``cif_make_retention.py`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import cumulative_incidence

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
MGUS2 = pd.read_csv(DATA / "cif_mgus2.csv")
RETENTION = pd.read_csv(DATA / "cif_retention.csv")
R_AJ = pd.DataFrame(json.loads((HERE / "cif_aalen_johansen.json").read_text()))


# (case in the R output, data, duration column, by, weights, conf_type)
CASES = [
    ("mgus2", MGUS2, "etime", None, None, "log-log"),
    ("mgus2_by_male", MGUS2, "etime", "male", None, "log-log"),
    ("retention", RETENTION, "duration_days", None, None, "log-log"),
    ("retention_by_group", RETENTION, "duration_days", "group", None, "log-log"),
    ("retention_weighted", RETENTION, "duration_days", "group", "weight", "log-log"),
    ("retention_log", RETENTION, "duration_days", None, None, "log"),
    ("retention_entry_weighted", "entry", "duration_days", "group", "weight", "log-log"),
]


# Delayed entry as in the R script: every third person enters at day 50.
ENTRY = RETENTION.assign(start=np.where(RETENTION["id"] % 3 == 0, 50.0, 0.0))
ENTRY = ENTRY[ENTRY["duration_days"] > ENTRY["start"]]


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


@pytest.mark.parametrize(("case", "data", "duration", "by", "weights", "conf_type"), CASES)
def test_reference_survfit_multistate(case, data, duration, by, weights, conf_type):
    """Estimates, IJ standard errors, intervals and risk sets equal R's survfit (1e-6 rel)."""
    ref = R_AJ[R_AJ["case"] == case].copy()
    entry = None
    if isinstance(data, str):
        data, entry = ENTRY, "start"
    ci = cumulative_incidence(
        data,
        duration=duration,
        event="event",
        by=by,
        weights=weights,
        conf_type=conf_type,
        entry=entry,
    )
    got = ci.at(np.unique(ref["time"]))
    got["group"] = got["group"].astype(str)
    ref["cause"] = ref["state"].replace({"(s0)": "0"}).astype(int)
    merged = ref.merge(got, on=["group", "time", "cause"], suffixes=("_r", ""))
    assert len(merged) == len(ref)
    for col in ["estimate", "se", "n_at_risk"]:
        assert np.all(_rel(merged[col].to_numpy(), merged[f"{col}_r"].to_numpy()) < 1e-6), col
    if weights is None:
        # Counts between the requested times, as R's summary(fit, times=): events into
        # each cause (R's event-free column counts entries into it, always 0; ours the
        # exits) and censorings. Exact: both are sums of the same records. (R's
        # multi-state counts stay unweighted; ours are weighted, as the table says.)
        cause = merged["cause"] > 0
        got, want = merged.loc[cause, "n_events"], merged.loc[cause, "n_event"]
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(merged["n_censored"], merged["n_censor"])
    inside = (merged["estimate_r"] > 0) & (merged["estimate_r"] < 1)
    for col in ["ci_lower", "ci_upper"]:
        # R leaves the interval undefined (NA) where the probability is 0 or 1 (and pads
        # times before a group's first exit with zeros); we return NaN there.
        assert merged.loc[~inside, col].isna().all(), col
        r = merged.loc[inside, f"{col}_r"].to_numpy(dtype=float)
        g = merged.loc[inside, col].to_numpy(dtype=float)
        assert np.all(_rel(g, r) < 1e-6), col


def test_committed_retention_data_is_what_the_generator_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cif_make", HERE / "cif_make_retention.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pd.testing.assert_frame_equal(module.make(), RETENTION, check_dtype=False)
