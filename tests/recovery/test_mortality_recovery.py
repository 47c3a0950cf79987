"""The effect on death, and on relapse or death, recovers the generator's truth.

On the default registers the ATT risk differences of death and of relapse or death at 1,
2 and 3 years lie within their 95 % bootstrap intervals of ``truth["mortality"]``. The
generator's deaths do not depend on the programme, so the true difference of death is 0
(up to emigration, which competes); about 5 participants die within 3 years, so the
interval is wide (about ±1 percentage point at 3 years): it can rule out only effects
larger than the risk of death itself.

Coverage over replications (``benchmarks/bench_mortality.py --replications 20``, default
generator, seeds 20000-20019, 200 bootstrap replicates, measured 2026-12-01):

================  ====  ========  =========  ==========  ===========
outcome           year  coverage  mean bias  bias SE     mean width
================  ====  ========  =========  ==========  ===========
death             1     0.85      +0.0012    0.0008      0.013
death             2     0.95      +0.0019    0.0012      0.018
death             3     0.85      +0.0035    0.0017      0.023
relapse_or_death  1     0.80      -0.0074    0.0072      0.090
relapse_or_death  2     0.95      -0.0091    0.0063      0.103
relapse_or_death  3     1.00      -0.0016    0.0072      0.107
================  ====  ========  =========  ==========  ===========

With 20 replications a coverage has a standard error of about 0.05, so 0.80-0.85 is one
to three standard errors below 0.95. The death difference leans positive (about +0.35
percentage points at 3 years, two bias standard errors): gang affiliation doubles the
death rate and raises entry, and the default propensity model leaves affiliation out;
with ``+ C(affiliation)`` in the formula (``--formula``) the 3-year lean falls to +0.0025
(bias SE 0.0018), coverage unchanged. Percentile intervals of a risk made of a handful of
deaths move by whole deaths, which is one reason the 1-year coverage falls short.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.effects import comparison_cohort, estimate_mortality_effect
from evaluation.registers import Registers

DATA = Path(__file__).resolve().parents[2] / "data" / "synthetic"


@pytest.mark.parametrize("outcome", ["death", "relapse_or_death"])
def test_mortality_effect_covers_the_truth_on_the_default_data(outcome: str) -> None:
    registers = Registers.read(DATA, validate=False)
    truth = json.loads((DATA / "truth.json").read_text())["mortality"]["eligible"]
    design = comparison_cohort(registers, rng=20151)
    eff = estimate_mortality_effect(
        design, registers, outcome=outcome, n_boot=200, per_protocol=False, rng=20151
    )
    assert eff.outcome == outcome
    # The registers know every person's gang affiliation: the default propensity model
    # adjusts for it (it doubles the risk of death and raises the chance of starting).
    assert eff.propensity is not None and "C(affiliation)" in eff.propensity.formula
    for year in ("1", "2", "3"):
        m = eff.measure(f"risk_difference_{year}y")
        true = truth[f"risk_{outcome}_difference"][year]
        # The 95 % percentile interval (200 bootstrap replicates) holds the truth.
        assert m.ci_lower <= true <= m.ci_upper, (year, m.ci_lower, true, m.ci_upper)


def test_a_strong_effect_on_death_is_recovered() -> None:
    # The programme cuts the hazard of death to 0.3 while in it and after completing it
    # (programme_death_hr), at ten times the default death rate in a larger population, so
    # that the participants hold dozens of deaths rather than a handful.
    from evaluation.synthetic import SimulationConfig, simulate_registers

    config = SimulationConfig(
        n_persons=10_000, death_rate=0.03, programme_death_hr=0.3, bra_monte_carlo_persons=0
    )
    sim = simulate_registers(config, rng=20152)
    truth = sim.truth["mortality"]["eligible"]
    design = comparison_cohort(sim.registers, rng=20152)
    eff = estimate_mortality_effect(
        design, sim.registers, outcome="death", n_boot=200, per_protocol=False, rng=20152
    )
    assert eff.events >= 100
    for year in ("1", "2", "3"):
        true = truth["risk_death_difference"][year]
        m = eff.measure(f"risk_difference_{year}y")
        # The truth is an effect, not zero: fewer participants die with the programme.
        assert true < 0
        # The 95 % percentile interval (200 bootstrap replicates) holds the truth.
        assert m.ci_lower <= true <= m.ci_upper, (year, m.ci_lower, true, m.ci_upper)
