"""The planning table (evaluation.design.planning): each cell is the closed forms' answer
for its numbers, and more intake or more years detect smaller effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.design import (
    DesignEffect,
    baseline_survival,
    hazard_ratio_power,
    minimum_detectable_risk_difference,
    planning_table,
)


@pytest.fixture(scope="module")
def plan():
    return planning_table(intakes=(10, 20, 50), years=(1, 3, 5), baseline=0.45, hr=0.7)


def test_power_of_a_cell_is_rubinsteins_with_its_expected_events(plan) -> None:
    for row in plan.table.itertuples():
        events = row.events_participants + row.events_comparisons
        pw = hazard_ratio_power(
            0.7, events=events, events_participants=row.events_participants, method="rubinstein"
        )
        assert row.power == pytest.approx(pw.value, rel=1e-12)


def test_participants_and_comparisons_of_a_cell(plan) -> None:
    t = plan.table
    assert (t["n_participants"] == t["intake_per_year"] * t["follow_up_years"]).all()
    assert (t["n_comparisons"] == 10 * t["n_participants"]).all()


def test_minimum_detectable_effects_reach_the_power(plan) -> None:
    row = plan.table.query("intake_per_year == 20 and follow_up_years == 5").iloc[0]
    # At the minimum detectable HR the events expected under it give exactly 80 %.
    small = planning_table(intakes=(20,), years=(5,), hr=float(row["mdhr"]))
    assert small.table["power"].iloc[0] == pytest.approx(0.8, abs=1e-8)
    rd = minimum_detectable_risk_difference(0.45, n_participants=100, n_comparisons=1000)
    assert row["mdrd_1y"] == pytest.approx(rd.value, rel=1e-12)


def test_more_starters_or_years_detect_smaller_effects(plan) -> None:
    wide = plan.table.pivot(index="intake_per_year", columns="follow_up_years", values="mdrd_1y")
    assert (np.diff(wide.to_numpy(), axis=0) > 0).all()  # negative, nearer 0 with intake
    assert (np.diff(wide.to_numpy(), axis=1) > 0).all()
    power = plan.table.pivot(index="intake_per_year", columns="follow_up_years", values="power")
    assert (np.diff(power.to_numpy(), axis=0) > 0).all()
    assert (np.diff(power.to_numpy(), axis=1) > 0).all()
    # Ten starters in one year detect no hazard ratio with 80 % power.
    assert np.isnan(plan.table["mdhr"].iloc[0])


def test_design_effects_make_the_detectable_effect_larger(plan) -> None:
    weighted = planning_table(
        intakes=(10, 20, 50),
        years=(1, 3, 5),
        hr=0.7,
        design_effects=(DesignEffect(kind="clustering", value=1.3),),
    )
    both = plan.table["mdhr"].notna() & weighted.table["mdhr"].notna()
    assert (weighted.table["mdhr"][both] < plan.table["mdhr"][both]).all()
    assert (weighted.table["power"] < plan.table["power"]).all()


def test_a_curve_baseline_agrees_with_the_risk_it_holds() -> None:
    # The exponential with 1-year risk 0.45 read on a fine daily grid as a step curve.
    t = np.arange(0, 3 * 365 + 1) / 365.25
    curve = pd.DataFrame({"time_years": t, "survival": 0.55**t})
    a = planning_table(intakes=(20,), years=(2,), baseline=curve).table.iloc[0]
    b = planning_table(intakes=(20,), years=(2,), baseline=0.45).table.iloc[0]
    assert a["power"] == pytest.approx(b["power"], abs=2e-3)
    assert a["mdrd_1y"] == pytest.approx(b["mdrd_1y"], abs=2e-3)


def test_baseline_survival_is_the_comparisons_kaplan_meier() -> None:
    df = pd.DataFrame(
        {
            "duration_days": [100, 200, 300, 400, 50],
            "event": [1, 2, 1, 0, 1],
            "treated": [0, 0, 0, 0, 1],
        }
    )
    b = baseline_survival(df)
    # Comparisons only; death (2) censors: 1 - 1/4, then * (1 - 1/2) at 300 days.
    assert b["survival"].tolist() == pytest.approx([1.0, 0.75, 0.375])
    assert b["time_years"].iloc[1] == pytest.approx(100 / 365.25)


def test_plot_data_is_long_and_plot_draws_a_line_per_intake(plan) -> None:
    d = plan.plot_data()
    assert set(d["quantity"]) == {"power", "mdhr", "mdrd_1y"}
    assert len(d) == 3 * len(plan.table)
    ax = plan.plot(what="power")
    assert len(ax.get_legend().get_texts()) == 3


def test_a_harmful_hr_is_refused() -> None:
    with pytest.raises(EstimationError, match="protective"):
        planning_table(hr=1.3)
