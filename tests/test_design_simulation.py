"""Power by simulation (evaluation.design.simulation): seeding per replication, the
closed form recovered in its own world, the type I error, and the result's protocol."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.design import (
    PowerResult,
    event_probability,
    hazard_ratio_power,
    power_replication,
    simulated_power,
)

EXP = {"design": "exponential", "intake_per_year": 20, "follow_up_years": 3}


def _reversed(function, items):
    """A runner that works through the replications backwards (as a pool might)."""
    out = [function(item) for item in reversed(items)]
    return out[::-1]


def test_power_does_not_depend_on_the_order_of_the_replications() -> None:
    a = simulated_power(effect_hr=0.7, replications=30, seed=11, **EXP)
    b = simulated_power(effect_hr=0.7, replications=30, seed=11, runner=_reversed, **EXP)
    cols = [c for c in a.table.columns if c != "seconds"]
    pd.testing.assert_frame_equal(a.table[cols], b.table[cols])
    assert a.power == b.power


def test_a_replication_seed_gives_the_same_replication_every_time() -> None:
    child = np.random.SeedSequence(5).spawn(3)[2]
    one = power_replication(child, effect_hr=0.7, **EXP)
    two = power_replication(child, effect_hr=0.7, **EXP)
    assert {k: v for k, v in one.items() if k != "seconds"} == {
        k: v for k, v in two.items() if k != "seconds"
    }
    other = power_replication(np.random.SeedSequence(5).spawn(3)[1], effect_hr=0.7, **EXP)
    assert other["p"] != one["p"]


def test_logrank_power_is_schoenfelds_with_equal_groups() -> None:
    # Equal groups (60 + 60), entry uniform over 3 years, 1 more year, 1-year risk 0.45,
    # HR 0.6: the log-rank test's power is Schoenfeld's at the expected events. 400
    # replications: Monte Carlo SE about 0.024; tolerance 3 SE.
    res = simulated_power(
        effect_hr=0.6, replications=400, seed=2024, comparisons_per_participant=1.0, **EXP
    )
    pe = event_probability(0.45, hr=0.6, allocation=0.5, follow_up_years=1, accrual_years=3)
    expected = hazard_ratio_power(0.6, events=120 * pe).value
    assert abs(res.power - expected) < 3 * res.mc_se, (res.power, expected, res.mc_se)


def test_no_effect_is_detected_at_the_level_alpha() -> None:
    # HR 1: the share of detections is the type I error, 0.05 within 3 Monte Carlo SE
    # (sqrt(0.05 * 0.95 / 400) = 0.011).
    res = simulated_power(effect_hr=1.0, replications=400, seed=7, **EXP)
    assert abs(res.power - 0.05) < 3 * math.sqrt(0.05 * 0.95 / 400)
    assert math.isnan(res.closed_form)


def test_monte_carlo_error_and_summary() -> None:
    res = simulated_power(effect_hr=0.5, replications=25, seed=3, **EXP)
    assert res.mc_se == pytest.approx(math.sqrt(res.power * (1 - res.power) / 25))
    s = res.summary().iloc[0]
    assert s["replications"] == 25 and s["power"] == res.power
    assert res.table["replication"].tolist() == list(range(25))
    assert isinstance(res, PowerResult) and "Simulated power" in res._repr_html_()


def test_plot_draws_one_point_per_replication() -> None:
    res = simulated_power(effect_hr=0.5, replications=12, seed=3, **EXP)
    ax = res.plot()
    assert len(ax.collections[0].get_offsets()) == 12
    assert res.plot_data()["rank"].tolist() == list(range(1, 13))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"design": "rct"}, "design"),
        ({"measure": "odds"}, "measure"),
        ({"effect_hr": -1.0}, "effect_hr"),
        ({"intake_per_year": 0}, "intake_per_year"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, match: str) -> None:
    settings = {"effect_hr": 0.7, **EXP, **kwargs}
    with pytest.raises(EstimationError, match=match):
        power_replication(1, **settings)


def test_at_least_one_replication() -> None:
    with pytest.raises(EstimationError, match="replications"):
        simulated_power(effect_hr=0.7, replications=0, seed=1, **EXP)


def test_the_power_study_runs_on_the_study_runner_with_the_same_numbers(tmp_path) -> None:
    from evaluation.studies import resolve_design, run_study

    res = simulated_power(effect_hr=0.7, replications=12, seed=4, **EXP)
    assert res.runner.startswith("run_study")
    study = run_study(
        resolve_design("power", effect_hr=0.7, **EXP),
        replications=12,
        seed=4,
        out=tmp_path / "power",
        progress=False,
    )
    cols = [c for c in res.table.columns if c != "seconds"]
    pd.testing.assert_frame_equal(
        study.replications[cols].reset_index(drop=True), res.table[cols], check_dtype=False
    )
    assert float(study.summary()["power"].iloc[0]) == res.power
