"""Entry events from the registers and the common steps of every cohort.

An entry event starts the clock. Following Brå: a lagföring without a custodial sanction
starts it on the decision date; a custodial sanction starts it at release (the end of a
prison or youth-care custody period), so that time locked up is not time at risk; a
programme start starts it for programme cohorts. A decision taken while the person is in
custody (for example serving another sentence) starts the clock at the end of that custody.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.cohorts._keyed import NEVER, KeyedIntervals, to_days
from evaluation.cohorts.covariates import table_codes

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = [
    "CUSTODIAL_KINDS",
    "CUSTODIAL_SANCTIONS",
    "entry_events",
    "exit_days",
    "custody_intervals",
]

CUSTODIAL_SANCTIONS: tuple[str, ...] = ("prison", "youth_care")
"""Sanctions served in custody: their entry event is the release, not the decision."""
CUSTODIAL_KINDS: tuple[str, ...] = ("prison", "youth_care")
"""Custody kinds whose end is a release (remand ends in a decision instead)."""

_KIND_ORDER = {"release": 0, "decision": 1, "programme_start": 2}


def study_days(registers: Registers) -> tuple[int, int]:
    """``study_start`` and ``study_end`` as day numbers."""
    s, e = to_days(np.array([registers.study_start, registers.study_end], dtype="datetime64[ns]"))
    return int(s), int(e)


def custody_intervals(registers: Registers) -> KeyedIntervals:
    """All custody periods as keyed intervals; a period still open at extraction never ends."""
    cus = registers.custody
    codes = table_codes(registers, "custody")
    return KeyedIntervals(
        codes, to_days(cus["start_date"]), to_days(cus["end_date"], nat=int(NEVER))
    )


def exit_days(registers: Registers) -> tuple[np.ndarray, np.ndarray]:
    """Per person (in ``persons`` order): first exit day (NEVER if none) and event code.

    The code is 2 for death and 3 for emigration (0 where there is no exit).
    """
    n = len(registers.persons)
    day = np.full(n, NEVER, dtype=np.int64)
    code = np.zeros(n, dtype=np.int64)
    ex = registers.exits
    if len(ex):
        c = table_codes(registers, "exits")
        d = to_days(ex["date"])
        order = np.lexsort((d, c))[::-1]  # the earliest exit of a person is written last
        c, d = c[order], d[order]
        r = np.where(ex["reason"].astype(str).to_numpy()[order] == "death", 2, 3)
        day[c] = d
        code[c] = r
    return day, code


def entry_events(
    registers: Registers, kinds: tuple[str, ...], *, move_to_release: bool = True
) -> pd.DataFrame:
    """Candidate entry events of the given kinds, before any exclusion.

    Returns
    -------
    DataFrame
        ``code`` (person code in ``persons`` order), ``day`` (day number after moving
        decisions made in custody to the release), ``kind``, ``in_custody_at_entry``
        (the event fell inside a custody period), ``custody_open`` (still in custody at
        extraction, so no usable entry), and for programme starts ``episode_id``,
        ``referral``, ``programme_municipality``, ``exit_reason``. Sorted by person, day
        and kind, one row per person, day and kind.
    """
    parts = []
    if "release" in kinds:
        cus = registers.custody
        m = (
            cus["kind"].astype(str).isin(CUSTODIAL_KINDS).to_numpy()
            & cus["end_date"].notna().to_numpy()
        )
        parts.append(
            pd.DataFrame(
                {
                    "code": table_codes(registers, "custody")[m],
                    "day": to_days(cus["end_date"][m]),
                    "kind": "release",
                }
            )
        )
    if "decision" in kinds:
        off = registers.offences
        frame = pd.DataFrame(
            {
                "code": table_codes(registers, "offences"),
                "day": to_days(off["decision_date"]),
                "custodial": off["sanction"].astype(str).isin(CUSTODIAL_SANCTIONS).to_numpy(),
            }
        )
        # One lagföring per person and date; a custodial sanction in it makes it custodial.
        dec = frame.groupby(["code", "day"], sort=False, as_index=False)["custodial"].max()
        dec = dec[~dec["custodial"]].drop(columns="custodial")
        dec["kind"] = "decision"
        parts.append(dec)
    if "programme_start" in kinds:
        prog = registers.programme
        parts.append(
            pd.DataFrame(
                {
                    "code": table_codes(registers, "programme"),
                    "day": to_days(prog["start_date"]),
                    "kind": "programme_start",
                    "episode_id": prog["episode_id"].astype(str).to_numpy(),
                    "referral": prog["referral"].astype(str).to_numpy(),
                    "programme_municipality": prog["municipality"].astype(str).to_numpy(),
                    "exit_reason": prog["exit_reason"].astype(str).to_numpy(),
                }
            )
        )
    cand = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            {"code": np.array([], np.int64), "day": np.array([], np.int64), "kind": []}
        )
    )
    cand["code"] = cand["code"].astype(np.int64)
    cand["day"] = cand["day"].astype(np.int64)
    codes = cand["code"].to_numpy()
    day = cand["day"].to_numpy().copy()
    shift = (cand["kind"].to_numpy() != "programme_start") & move_to_release
    intervals = custody_intervals(registers)
    inside0, _ = intervals.containing(codes, day)
    # Adjacent periods (remand then prison) need more than one step to reach liberty.
    for _ in range(20):
        inside, end = intervals.containing(codes, day)
        move = inside & shift
        if not move.any():
            break
        day = np.where(move, end, day)
    cand["day"] = day
    cand["in_custody_at_entry"] = inside0
    cand["custody_open"] = shift & (day >= NEVER)
    cand["_k"] = cand["kind"].map(_KIND_ORDER).astype(np.int64)
    cand = cand.sort_values(["code", "day", "_k"], kind="stable")
    # A release and a decision moved to the same release are one entry event.
    cand = cand[~cand.duplicated(["code", "day"]) | (cand["kind"] == "programme_start")]
    return cand.drop(columns="_k").reset_index(drop=True)
