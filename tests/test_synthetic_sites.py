"""The generator's municipality-specific programme effects (effect_tau, a planted outlier)
and their truth per municipality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import DefinitionError
from evaluation.synthetic import MUNICIPALITIES, SimulationConfig, simulate_registers


def _sim(**kw: object) -> dict:
    cfg = SimulationConfig(n_persons=800, entry_rate=0.05, bra_monte_carlo_persons=0, **kw)  # type: ignore[arg-type]
    return simulate_registers(cfg, rng=3).truth


def test_truth_has_every_municipality_and_adds_up() -> None:
    eff = _sim()["effect"]
    by = eff["by_municipality"]
    assert list(by) == list(MUNICIPALITIES)
    assert sum(v["n_participants"] for v in by.values()) == eff["n_participants"]
    # The municipalities' ATTs, weighted by participants, are the overall ATT.
    w = np.array([v["n_participants"] for v in by.values()])
    rd = np.array([v["risk_difference_1y"] if v["n_participants"] else 0.0 for v in by.values()])
    assert np.sum(w * rd) / w.sum() == pytest.approx(eff["risk_difference"]["1"], abs=1e-5)


def test_effect_tau_scales_the_shifts_and_changes_nothing_else() -> None:
    a = _sim(effect_tau=0.1)["effect"]["by_municipality"]
    b = _sim(effect_tau=0.3)["effect"]["by_municipality"]
    none = _sim(effect_tau=0.0)["effect"]["by_municipality"]
    sa = np.array([v["log_hr_shift"] for v in a.values()])
    sb = np.array([v["log_hr_shift"] for v in b.values()])
    # The same standard normal draw per municipality, scaled by tau (6-decimal rounding).
    np.testing.assert_allclose(sb, 3 * sa, atol=3e-6)
    assert all(v["log_hr_shift"] == 0 for v in none.values())
    assert np.std(sb) > 0.05


def test_registers_before_the_programme_do_not_depend_on_tau() -> None:
    cfg = dict(n_persons=800, entry_rate=0.05, bra_monte_carlo_persons=0)
    r0 = simulate_registers(SimulationConfig(effect_tau=0.0, **cfg), rng=3).registers  # type: ignore[arg-type]
    r1 = simulate_registers(SimulationConfig(effect_tau=0.5, **cfg), rng=3).registers  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(r0.persons, r1.persons)
    first = r0.programme["start_date"].min()

    # Offence ids number the whole table, so compare the offences themselves.
    def before(o: pd.DataFrame) -> pd.DataFrame:
        cols = ["person_id", "offence_date", "decision_date", "category", "sanction"]
        return o.loc[o["offence_date"] < first, cols].sort_values(cols).reset_index(drop=True)

    pd.testing.assert_frame_equal(before(r0.offences), before(r1.offences))


def test_planted_outlier_is_in_the_truth() -> None:
    by = _sim(effect_tau=0.0, outlier_municipality="Malmö", outlier_log_hr=0.7)["effect"][
        "by_municipality"
    ]
    assert by["Malmö"]["log_hr_shift"] == pytest.approx(0.7)
    assert by["Malmö"]["hazard_ratio_during"] == pytest.approx(0.6 * np.exp(0.7), rel=1e-5)
    assert all(v["log_hr_shift"] == 0 for k, v in by.items() if k != "Malmö")


def test_the_world_uses_the_municipality_effect() -> None:
    # Malmö's programme harms (hazard ratio 0.6 e^1.5 = 2.7 during, 3.6 after completion),
    # the others' helps. With common random numbers a higher hazard never delays a relapse,
    # so the sign of each municipality's true RMST difference is certain.
    by = _sim(effect_tau=0.0, outlier_municipality="Malmö", outlier_log_hr=1.5)["effect"][
        "by_municipality"
    ]
    assert by["Malmö"]["n_participants"] > 10
    assert by["Malmö"]["rmst_difference_days"] < 0
    others = [v for k, v in by.items() if k != "Malmö" and v["n_participants"] > 10]
    assert others and all(v["rmst_difference_days"] > 0 for v in others)


def test_bad_outlier_municipality_is_refused() -> None:
    with pytest.raises(DefinitionError, match="outlier_municipality"):
        SimulationConfig(outlier_municipality="Lund")
    with pytest.raises(DefinitionError, match="effect_tau"):
        SimulationConfig(effect_tau=-0.1)
