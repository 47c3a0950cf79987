"""From a simulated world to the five register tables (what an extraction would show)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaluation.registers import Registers
from evaluation.synthetic._config import (
    AFFILIATIONS,
    CATEGORIES,
    MUNICIPALITIES,
    REFERRALS,
    SANCTIONS,
    SimulationConfig,
)
from evaluation.synthetic._engine import DEATH, DROPPED_OUT, EMIGRATION, MOVED, World
from evaluation.synthetic._population import Population

_CUSTODY_KINDS = np.array(["remand", "prison", "youth_care"], dtype=object)
_REASONS = np.array(["ongoing", "completed", "dropped_out", "moved", "died"], dtype=object)


def _ids(prefix: str, n: int, width: int) -> NDArray[np.object_]:
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def day_index(t: NDArray[np.float64]) -> NDArray[np.int64]:
    """Whole days since ``study_start`` of continuous times (the register date).

    Infinite times (no exit) map to a day far beyond any horizon.
    """
    t = np.asarray(t, dtype=np.float64)
    return np.floor(np.where(np.isfinite(t), t, 1e12)).astype(np.int64)


def _dates(start: pd.Timestamp, days: NDArray[np.int64]) -> NDArray[np.datetime64]:
    return np.datetime64(start.date(), "D") + days.astype("timedelta64[D]")


@dataclass(frozen=True, slots=True)
class Episodes:
    """Started episodes with their latent and observed ends (days since study_start)."""

    person: NDArray[np.int64]
    start: NDArray[np.float64]
    contact: NDArray[np.float64]
    end: NDArray[np.float64]  # min(latent end, death, emigration)
    reason: NDArray[np.int64]  # 1 completed, 2 dropped_out, 3 moved, 4 died
    referral: NDArray[np.int64]


def started_episodes(world: World, end_day: float) -> Episodes:
    """Episodes started on or before ``study_end``, ends resolved against exits."""
    keep = day_index(world.ep_start) <= end_day
    p = world.ep_person[keep]
    latent = world.ep_latent_end[keep]
    exit_t = world.exit_time[p]
    pre_empted = exit_t < latent
    end = np.where(pre_empted, exit_t, latent)
    reason = world.ep_latent_reason[keep].copy()
    kind = world.exit_kind[p]
    reason[pre_empted & (kind == DEATH)] = 4
    reason[pre_empted & (kind == EMIGRATION)] = MOVED
    order = np.lexsort((world.ep_start[keep], p))
    return Episodes(
        person=p[order],
        start=world.ep_start[keep][order],
        contact=world.ep_contact[keep][order],
        end=end[order],
        reason=reason[order],
        referral=world.ep_referral[keep][order],
    )


def lagforda(world: World, end_day: float | None) -> NDArray[np.bool_]:
    """Offences that lead to a lagföring: decided before the person's exit (and, when
    ``end_day`` is given, on or before that day: the extraction)."""
    ok = world.off_decision < world.exit_time[world.off_person]
    if end_day is not None:
        ok &= day_index(world.off_decision) <= end_day
    return ok


def build_registers(pop: Population, world: World, config: SimulationConfig) -> Registers:
    """The registers as extracted on ``study_end``: nothing after it, nothing latent."""
    start = pd.Timestamp(config.study_start)
    end = pd.Timestamp(config.study_end)
    end_day = (end - start).days
    n = pop.pid.size
    person_ids = _ids("P", n, 6)
    persons = pd.DataFrame(
        {
            "person_id": person_ids,
            "sex": np.where(pop.female, "F", "M").astype(object),
            "birth_date": _dates(start, pop.birth_day.astype(np.int64)),
            "municipality": np.array(MUNICIPALITIES, dtype=object)[pop.municipality],
            "affiliation": np.array(AFFILIATIONS, dtype=object)[pop.affiliation],
        }
    )

    ep = started_episodes(world, end_day)
    end_idx = day_index(ep.end)
    ongoing = end_idx > end_day
    programme = pd.DataFrame(
        {
            "episode_id": _ids("E", ep.person.size, 6),
            "person_id": person_ids[ep.person],
            "municipality": persons["municipality"].to_numpy()[ep.person],
            "referral": np.array(REFERRALS, dtype=object)[ep.referral],
            "contact_date": _dates(start, day_index(ep.contact)),
            "start_date": _dates(start, day_index(ep.start)),
            "end_date": np.where(ongoing, np.datetime64("NaT"), _dates(start, end_idx)),
            "exit_reason": np.where(ongoing, "ongoing", _REASONS[ep.reason]).astype(object),
        }
    )

    ok = lagforda(world, end_day)
    op, ot, od = world.off_person[ok], world.off_time[ok], world.off_decision[ok]
    order = np.lexsort((od, ot, op))
    offences = pd.DataFrame(
        {
            "offence_id": _ids("O", int(ok.sum()), 7),
            "person_id": person_ids[op[order]],
            "offence_date": _dates(start, day_index(ot[order])),
            "decision_date": _dates(start, day_index(od[order])),
            "category": np.array(CATEGORIES, dtype=object)[world.off_category[ok][order]],
            "sanction": np.array(SANCTIONS, dtype=object)[world.off_sanction[ok][order]],
        }
    )

    keep = day_index(world.cus_start) <= end_day
    cp, cs, ce = world.cus_person[keep], world.cus_start[keep], world.cus_end[keep]
    order = np.lexsort((cs, cp))
    ce_idx = day_index(ce[order])
    custody = pd.DataFrame(
        {
            "person_id": person_ids[cp[order]],
            "start_date": _dates(start, day_index(cs[order])),
            "end_date": np.where(ce_idx > end_day, np.datetime64("NaT"), _dates(start, ce_idx)),
            "kind": _CUSTODY_KINDS[world.cus_kind[keep][order]],
        }
    )

    gone = (world.exit_kind > 0) & (day_index(world.exit_time) <= end_day)
    ex = np.flatnonzero(gone)
    exits = pd.DataFrame(
        {
            "person_id": person_ids[ex],
            "date": _dates(start, day_index(world.exit_time[ex])),
            "reason": np.where(world.exit_kind[ex] == DEATH, "death", "emigration").astype(object),
        }
    )
    for frame in (persons, programme, offences, custody, exits):
        for col in frame.columns:
            if frame[col].dtype.kind == "M":
                frame[col] = frame[col].astype("datetime64[ns]")
    return Registers(
        persons=persons,
        programme=programme,
        offences=offences,
        custody=custody,
        exits=exits,
        study_start=start,
        study_end=end,
        meta={"source": "synthetic", "generator": "evaluation.synthetic"},
    )


__all__ = ["DROPPED_OUT", "Episodes", "build_registers", "lagforda", "started_episodes"]
