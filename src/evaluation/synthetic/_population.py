"""The study population: fixed person-level traits drawn once from the generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaluation.synthetic._config import SimulationConfig

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class Population:
    """Person-level traits; times are days since ``study_start``."""

    pid: NDArray[np.int64]  # global index, the key of every counter-based draw
    female: NDArray[np.bool_]
    birth_day: NDArray[np.float64]
    municipality: NDArray[np.int64]
    affiliation: NDArray[np.int64]  # 0 gang, 1 network, 2 peripheral
    frailty: NDArray[np.float64]
    motivation: NDArray[np.float64]
    death_time: NDArray[np.float64]

    def take(self, index: NDArray[np.int64]) -> Population:
        """The sub-population at ``index`` (same global ids, hence the same draws)."""
        return Population(*(getattr(self, f)[index] for f in self.__slots__))


def draw_population(config: SimulationConfig, rng: np.random.Generator, n: int) -> Population:
    """Draw ``n`` persons: municipality, sex, birth date, affiliation, frailty, motivation.

    Ages are 15–45 on 2015-01-01, skewed young (15 + 30 * Beta(1.3, 2.2)). The death time
    comes from a constant hazard (``death_rate``, doubled for gang affiliation, halved for
    women); the world's engine rescales it while the programme's hazard ratio of death
    (``programme_death_hr``, 1 by default: the same death time in every world) is in force.
    """
    muni_w = np.asarray(config.municipality_weights, dtype=float)
    municipality = rng.choice(muni_w.size, size=n, p=muni_w / muni_w.sum())
    female = rng.random(n) >= config.share_male
    aff_w = np.asarray(config.affiliation_weights, dtype=float)
    affiliation = rng.choice(3, size=n, p=aff_w / aff_w.sum())
    # Women are rarer in the gang core than at the periphery.
    affiliation = np.where(female & (affiliation == 0) & (rng.random(n) < 0.5), 2, affiliation)
    age_2015 = 15.0 + 30.0 * rng.beta(1.3, 2.2, size=n)
    ref_day = (pd.Timestamp("2015-01-01") - pd.Timestamp(config.study_start)).days
    birth_day = np.floor(ref_day - age_2015 * DAYS_PER_YEAR)
    shape = 1.0 / config.frailty_variance if config.frailty_variance > 0 else np.inf
    frailty = rng.gamma(shape, 1.0 / shape, size=n) if np.isfinite(shape) else np.ones(n)
    motivation = rng.standard_normal(n)
    death_rate = config.death_rate / DAYS_PER_YEAR
    rate = death_rate * np.where(affiliation == 0, 2.0, 1.0) * np.where(female, 0.5, 1.0)
    death_time = rng.exponential(size=n) / rate
    return Population(
        pid=np.arange(n, dtype=np.int64),
        female=female,
        birth_day=birth_day,
        municipality=municipality.astype(np.int64),
        affiliation=affiliation.astype(np.int64),
        frailty=frailty,
        motivation=motivation,
        death_time=death_time,
    )
