"""Reference tests: kaplan_meier equals R's survfit (values printed by
tests/reference/km/km_reference.R into km_reference.json, from the CSVs in tests/reference/data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.survival import kaplan_meier

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders
KM = json.loads((HERE / "km_reference.json").read_text())
RTOL = 1e-6


def _rossi() -> pd.DataFrame:
    rossi = pd.read_csv(DATA / "rossi.csv")
    # The same derived columns as km_reference.R.
    rossi["prio_group"] = pd.cut(rossi["prio"], [-np.inf, 0, 2, np.inf], labels=["0", "1-2", "3+"])
    rossi["w"] = (rossi["age"] % 5 + 1) / 2
    rossi["entry"] = np.minimum(rossi["prio"], rossi["week"] - 1)
    return rossi


ROSSI = _rossi()
SYN = pd.read_csv(DATA / "km_synthetic.csv")
R = {"duration": "week", "event": "arrest"}
S = {"duration": "time", "event": "status"}

CASES: dict[str, tuple[pd.DataFrame, dict]] = {}
for ct in ("log-log", "log", "plain"):
    CASES[f"rossi_fin_{ct}"] = (ROSSI, {**R, "by": "fin", "conf_type": ct})
    CASES[f"rossi_all_{ct}"] = (ROSSI, {**R, "conf_type": ct})
    CASES[f"syn_entry_group_{ct}"] = (SYN, {**S, "by": "group", "entry": "entry", "conf_type": ct})
CASES.update(
    {
        "rossi_prio": (ROSSI, {**R, "by": "prio_group"}),
        "rossi_alpha10": (ROSSI, {**R, "by": "fin", "alpha": 0.1}),
        "rossi_weights_greenwood": (ROSSI, {**R, "by": "fin", "weights": "w"}),
        "rossi_weights_robust": (ROSSI, {**R, "by": "fin", "weights": "w", "variance": "robust"}),
        "rossi_entry": (ROSSI, {**R, "by": "fin", "entry": "entry"}),
        "syn_group": (SYN, {**S, "by": "group"}),
        "syn_weights_greenwood": (
            SYN,
            {**S, "by": "group", "weights": "weight", "conf_type": "log"},
        ),
        "syn_weights_robust": (
            SYN,
            {**S, "by": "group", "weights": "weight", "conf_type": "log", "variance": "robust"},
        ),
        "syn_entry_weights_robust": (
            SYN,
            {**S, "by": "group", "weights": "weight", "entry": "entry", "variance": "robust"},
        ),
        "syn_by_two": (SYN, {**S, "by": ["group", "stratum"]}),
        # Multi-code events: relapse (1) and death (2) both counted as events.
        "syn_code2": (SYN, {**S, "event_codes": (1, 2)}),
    }
)


def _close(actual, expected) -> None:
    actual = np.asarray(actual, dtype="float64")
    expected = np.asarray([np.nan if v is None else v for v in list(expected)], dtype="float64")
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0, equal_nan=True)


def _r_group(label: str) -> str:
    # R writes "fin=0" or "group=high, stratum=s1"; we keep the values: "0", "high, s1".
    return ", ".join(part.split("=", 1)[1] for part in label.split(", ")) if "=" in label else label


@pytest.mark.parametrize("name", list(CASES))
def test_curve_table_equals_r_survfit(name: str) -> None:
    data, kwargs = CASES[name]
    km = kaplan_meier(data, **kwargs)
    full = pd.DataFrame(KM[name]["full"])
    table = km.table
    assert [str(g) for g in table["group"]] == [_r_group(s) for s in full["strata"]]
    for ours, theirs in [
        ("time", "time"),
        ("n_at_risk", "n_risk"),
        ("n_events", "n_event"),
        ("n_censored", "n_censor"),
        ("estimate", "surv"),
        ("ci_lower", "lower"),
        ("ci_upper", "upper"),
        ("cumhaz", "cumhaz"),
        ("se_cumhaz", "std_chaz"),
    ]:
        _close(table[ours], full[theirs])
    # survfit stores the standard error of log S, except with robust=TRUE, where (in
    # survival 3.5) fit$std.err holds the standard error of S itself; its intervals are
    # built from the log-scale one, which is what our se_log is and what the limits prove.
    _close(table["se" if kwargs.get("variance") == "robust" else "se_log"], full["std_err"])


@pytest.mark.parametrize("name", list(CASES))
def test_milestones_equal_r_summary_times(name: str) -> None:
    data, kwargs = CASES[name]
    at_ref = pd.DataFrame(KM[name]["at"])
    km = kaplan_meier(data, **kwargs)
    at = km.at(sorted(set(at_ref["time"])))
    assert [str(g) for g in at["group"]] == [_r_group(s) for s in at_ref["strata"]]
    for ours, theirs in [
        ("time", "time"),
        ("n_at_risk", "n_risk"),
        ("n_events", "n_event"),
        ("n_censored", "n_censor"),
        ("estimate", "surv"),
        ("se", "std_err"),
        ("ci_lower", "lower"),
        ("ci_upper", "upper"),
    ]:
        _close(at[ours], at_ref[theirs])


@pytest.mark.parametrize("name", list(CASES))
def test_quantiles_equal_r_quantile_survfit(name: str) -> None:
    data, kwargs = CASES[name]
    ref = KM[name]["quantile"]
    q = kaplan_meier(data, **kwargs).quantile([0.25, 0.5, 0.75])
    for ours, theirs in [("estimate", "quantile"), ("ci_lower", "lower"), ("ci_upper", "upper")]:
        expected = [v for row in ref[theirs] for v in row]
        _close(q[ours], expected)


def test_reference_cases_cover_every_r_case() -> None:
    assert set(CASES) == set(KM)
