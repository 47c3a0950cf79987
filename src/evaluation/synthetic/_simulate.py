"""`simulate_registers`: the population, the two worlds, the registers and the truth."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.registers import Registers
from evaluation.synthetic._build import build_registers, day_index, started_episodes
from evaluation.synthetic._config import SimulationConfig, site_log_hr
from evaluation.synthetic._engine import simulate_world
from evaluation.synthetic._population import draw_population
from evaluation.synthetic._truth import (
    bra_entry_relapse,
    design_eligible,
    effect_truth,
    landmark_truth,
    recurrence_mortality_truth,
    retention_truth,
    site_effect_truth,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedRegisters:
    """Synthetic registers and the truth that generated them.

    Attributes
    ----------
    registers
        The five register tables as extracted on ``study_end``.
    truth
        Parameters and true values (see the `evaluation.synthetic` module docstring for
        the definition of each entry); JSON-ready (strings, numbers, lists, dicts).
    config
        The configuration used.
    """

    registers: Registers
    truth: dict[str, Any]
    config: SimulationConfig


def simulate_registers(
    config: SimulationConfig | None = None,
    *,
    rng: np.random.Generator | int | None = None,
) -> SimulatedRegisters:
    """Simulate registers of gang-involved persons and an exit programme, with the truth.

    Parameters
    ----------
    config
        The data-generating process (default `SimulationConfig()`: 6,000 persons).
    rng
        A generator or seed; the same seed gives identical registers and truth.

    Returns
    -------
    SimulatedRegisters
        ``.registers`` (five tables and the study window) and ``.truth``.

    Examples
    --------
    >>> from evaluation.synthetic import SimulationConfig, simulate_registers
    >>> sim = simulate_registers(
    ...     SimulationConfig(n_persons=200, bra_monte_carlo_persons=200), rng=1
    ... )
    >>> len(sim.registers.persons)
    200
    >>> sorted(sim.truth)
    ['bra', 'counts', 'effect', 'landmark', 'mortality', 'parameters', 'recurrence', 'retention']
    """
    config = SimulationConfig() if config is None else config
    if not isinstance(config, SimulationConfig):
        raise TypeError(
            f"config must be a SimulationConfig (or None for the defaults), not "
            f"{type(config).__name__}; for a population size use SimulationConfig(n_persons=...)"
        )
    gen = np.random.default_rng(rng)
    pop = draw_population(config, gen, config.n_persons)
    key = int(gen.integers(2**63))
    world = simulate_world(pop, config, key, programme=True)
    registers = build_registers(pop, world, config)

    # Participants: a started episode on or before study_end; time zero is the first start.
    end_day = (registers.study_end - registers.study_start).days
    first = day_index(world.ep_start) <= end_day
    order = np.lexsort((world.ep_start[first], world.ep_person[first]))
    persons = world.ep_person[first][order]
    starts = world.ep_start[first][order]
    is_first = np.ones(persons.size, dtype=bool)
    is_first[1:] = persons[1:] != persons[:-1]
    who, start = persons[is_first], starts[is_first]
    # The same persons, with the same random numbers, in a world without the programme.
    without = simulate_world(pop.take(who), config, key, programme=False)
    effect = effect_truth(world, without, who, np.arange(who.size), start, config)
    recurrence, mortality = recurrence_mortality_truth(
        world, without, who, np.arange(who.size), start, config
    )
    # The same among the participants the comparison design follows (the estimand of
    # estimate_programme_effect, estimate_recurrent_effect and estimate_mortality_effect on
    # the default comparison cohort).
    followed = np.flatnonzero(design_eligible(registers, who, start))
    recurrence["eligible"], mortality["eligible"] = recurrence_mortality_truth(
        world, without, who[followed], followed, start[followed], config
    )
    effect["eligible"] = effect_truth(
        world, without, who[followed], followed, start[followed], config
    )
    effect["by_municipality"] = site_effect_truth(
        world, without, who, np.arange(who.size), start, pop.municipality[who],
        site_log_hr(config, key), config,
    )  # fmt: skip

    mc_pop = draw_population(config, gen, config.bra_monte_carlo_persons)
    mc_key = int(gen.integers(2**63))
    mc_world = simulate_world(mc_pop, config, mc_key, beyond_study_end=False)
    bra = bra_entry_relapse(mc_world, config)

    truth = {
        "parameters": {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
        },
        "effect": effect,
        "retention": retention_truth(started_episodes(world, end_day)),
        "bra": bra,
        "recurrence": recurrence,
        "mortality": mortality,
        "landmark": landmark_truth(mc_world, config),
        "counts": {
            "persons": int(config.n_persons),
            "participants": int(who.size),
            "episodes": len(registers.programme),
            "offences": len(registers.offences),
            "custody": len(registers.custody),
            "exits": len(registers.exits),
        },
    }
    return SimulatedRegisters(registers=registers, truth=truth, config=config)
