"""The effect on every relapse offence: weighted Ghosh–Lin means, their contrasts, the bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import load_synthetic
from evaluation._errors import EstimationError
from evaluation.effects import comparison_cohort, estimate_recurrent_effect
from evaluation.survival import ghosh_lin


@pytest.fixture(scope="module")
def fitted():
    reg = load_synthetic()
    cohort = comparison_cohort(reg, rng=1)
    return reg, cohort, estimate_recurrent_effect(reg, cohort, n_boot=20, rng=2)


def test_measures_are_consistent(fitted):
    _, _, eff = fitted
    t = eff.table.set_index("measure")
    for y in ("1y", "2y", "3y"):
        p = t.at[f"expected_offences_participants_{y}", "estimate"]
        c = t.at[f"expected_offences_comparisons_{y}", "estimate"]
        assert t.at[f"expected_offences_difference_{y}", "estimate"] == pytest.approx(p - c)
        assert t.at[f"expected_offences_ratio_{y}", "estimate"] == pytest.approx(p / c)
        lo = t.at[f"expected_offences_difference_{y}", "ci_lower"]
        hi = t.at[f"expected_offences_difference_{y}", "ci_upper"]
        assert lo < hi
    # Expected counts grow with time in both arms.
    for arm in ("participants", "comparisons"):
        v = [t.at[f"expected_offences_{arm}_{y}", "estimate"] for y in ("1y", "2y", "3y")]
        assert v[0] < v[1] < v[2]


def test_participants_curve_is_the_unweighted_ghosh_lin_of_participants(fitted):
    # Under the ATT participants keep weight 1: their expected count is the plain Ghosh–Lin
    # mean of their rows with death and emigration terminal, read on day floor(365.25) + 1.
    _, _, eff = fitted
    rows = eff.rows[eff.rows["treated"] == 1]
    gl = ghosh_lin(
        rows,
        start="start",
        stop="stop",
        event="n_offences",
        terminal="terminal",
        terminal_codes=(2, 3),
        id="entry_id",
    )
    got = gl.at([366.0])["estimate"].iloc[0]
    assert eff.measure("expected_offences_participants_1y")["estimate"] == pytest.approx(got)


def test_bootstrap_refits_the_propensity_model(fitted):
    _, _, eff = fitted
    coefs = eff.bootstrap.propensity_coefficients
    assert coefs.shape[0] == eff.n_boot + 1
    np.testing.assert_allclose(
        coefs.iloc[0].to_numpy(), eff.propensity.coefficients["coef"].to_numpy(), atol=1e-6
    )
    assert coefs.iloc[1:].std().min() > 0


def test_rate_ratio_is_the_weighted_ratio_of_rates(fitted):
    _, _, eff = fitted
    r = eff.rows_at_liberty  # offences per day at liberty: custody periods are gaps
    rate = {}
    for g in (1, 0):
        part = r[r["treated"] == g]
        w = part["weight"]
        rate[g] = (w * part["n_offences"]).sum() / (w * (part["stop"] - part["start"])).sum()
    assert eff.measure("rate_ratio")["estimate"] == pytest.approx(rate[1] / rate[0])
    model_rr = eff.rate_model.table.set_index("term").at["treated", "rate_ratio"]
    assert model_rr == pytest.approx(rate[1] / rate[0], rel=1e-8)


def test_expected_counts_include_custody_time_and_rates_exclude_it(fitted):
    _, _, eff = fitted
    span = eff.rows.groupby("entry_id")["stop"].max() - eff.rows.groupby("entry_id")["start"].min()
    liberty = eff.rows_at_liberty.assign(d=lambda x: x["stop"] - x["start"])
    days = liberty.groupby("entry_id")["d"].sum()
    assert (
        eff.rows.assign(d=lambda x: x["stop"] - x["start"]).groupby("entry_id")["d"].sum() == span
    ).all()  # no gaps in the rows of the expected counts
    assert (days < span.reindex(days.index)).sum() > 0  # custody gaps in the rates' rows


def test_refuses_too_few_replicates(fitted):
    reg, cohort, _ = fitted
    with pytest.raises(EstimationError, match="n_boot"):
        estimate_recurrent_effect(reg, cohort, n_boot=5)
