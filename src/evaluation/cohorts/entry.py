"""Entry events from the registers and the common steps of every cohort.

An entry event starts the clock. Following Brå (*Återfall i brott. Beskrivning av
statistiken*): a lagföring without a custodial sanction starts it on the decision date; a
custodial sanction starts it at release (the end of a prison or youth-care custody period),
so that time locked up is not time at risk; a programme start starts it for programme
cohorts. A decision taken while the person is in custody (for example serving another
sentence) starts the clock at the end of that custody.

The release replaces a custodial decision only when there is one: a sentence served
entirely in remand (the remand time is deducted from it, so no prison period follows)
keeps its decision as the entry event (:func:`evaluation._counting.custodial_without_release`).

A definition may take entry events of some sanctions only: Kriminalvården's measure starts
at a release from prison or at the start of probation, never at a fine or a waiver
(``RelapseDefinition.entry_sanctions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._counting import custodial_without_release
from evaluation._keyed import NEVER, SPAN, KeyedIntervals, make_keys, to_days
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
    registers: Registers,
    kinds: tuple[str, ...],
    *,
    move_to_release: bool = True,
    sanctions: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Candidate entry events of the given kinds, before any exclusion.

    Parameters
    ----------
    registers
        The registers.
    kinds
        Any of ``"release"``, ``"decision"``, ``"programme_start"``.
    move_to_release
        Start the clock of a decision taken in custody at the end of that custody.
    sanctions
        Only lagföringar with one of these sanctions, and releases from custody of these
        kinds (``prison``, ``youth_care``), are entry events; None takes every sanction.

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
    codes_parts: list[np.ndarray] = []
    day_parts: list[np.ndarray] = []
    kind_parts: list[np.ndarray] = []
    src_parts: list[np.ndarray] = []  # row in programme for programme starts, else -1
    release_kinds = [k for k in CUSTODIAL_KINDS if sanctions is None or k in sanctions]
    if "release" in kinds:
        cus = registers.custody
        m = (
            cus["kind"].astype(str).isin(release_kinds).to_numpy()
            & cus["end_date"].notna().to_numpy()
        )
        codes_parts.append(table_codes(registers, "custody")[m])
        day_parts.append(to_days(cus["end_date"].to_numpy()[m]))
        kind_parts.append(np.full(int(m.sum()), _KIND_ORDER["release"], dtype=np.int64))
        src_parts.append(np.full(int(m.sum()), -1, dtype=np.int64))
    if "decision" in kinds:
        off = registers.offences
        sanction = off["sanction"]
        custodial = sanction.isin(CUSTODIAL_SANCTIONS).to_numpy().astype(np.int64)
        eligible = (
            np.ones(len(off), dtype=np.int64)
            if sanctions is None
            else sanction.isin(sanctions).to_numpy().astype(np.int64)
        )
        # One lagföring per person and date: custodial when any of its sanctions is, an
        # entry of the definition when any of its sanctions is one the definition takes.
        # Sort (person, date, custodial, eligible) keys; runs of one person-date are
        # contiguous, and the maximum of each flag over a run is an OR.
        key = np.sort(
            make_keys(table_codes(registers, "offences"), to_days(off["decision_date"])) * 4
            + custodial * 2
            + eligible
        )
        pd_key = key >> 2
        run = np.flatnonzero(np.r_[True, pd_key[1:] != pd_key[:-1]]) if len(key) else key
        dec = pd_key[run]
        is_cust = np.maximum.reduceat((key >> 1) & 1, run) > 0 if len(key) else dec > 0
        is_elig = np.maximum.reduceat(key & 1, run) > 0 if len(key) else dec > 0
        # A custodial lagföring is an entry only when no release replaces it.
        cus = registers.custody
        served = cus["kind"].astype(str).isin(CUSTODIAL_KINDS).to_numpy()
        no_release = np.zeros(len(dec), dtype=bool)
        no_release[is_cust] = custodial_without_release(
            dec[is_cust] // SPAN,
            dec[is_cust] % SPAN,
            table_codes(registers, "custody")[served],
            to_days(cus["start_date"].to_numpy()[served]),
            to_days(cus["end_date"].to_numpy()[served], nat=int(NEVER)),
        )
        dec = dec[is_elig & (~is_cust | no_release)]
        codes_parts.append(dec // SPAN)
        day_parts.append(dec % SPAN)
        kind_parts.append(np.full(len(dec), _KIND_ORDER["decision"], dtype=np.int64))
        src_parts.append(np.full(len(dec), -1, dtype=np.int64))
    if "programme_start" in kinds:
        prog = registers.programme
        codes_parts.append(table_codes(registers, "programme"))
        day_parts.append(to_days(prog["start_date"]))
        kind_parts.append(np.full(len(prog), _KIND_ORDER["programme_start"], dtype=np.int64))
        src_parts.append(np.arange(len(prog), dtype=np.int64))
    empty = np.array([], dtype=np.int64)
    codes = np.concatenate(codes_parts).astype(np.int64) if codes_parts else empty
    day = np.concatenate(day_parts).astype(np.int64) if day_parts else empty
    kind = np.concatenate(kind_parts) if kind_parts else empty
    src = np.concatenate(src_parts) if src_parts else empty

    shift = (kind != _KIND_ORDER["programme_start"]) & move_to_release
    intervals = custody_intervals(registers)
    inside0, end = intervals.containing(codes, day)
    # Adjacent periods (remand then prison) need more than one step to reach liberty; only
    # the events just moved can be inside another period.
    moving = np.flatnonzero(inside0 & shift)
    end = end[moving]
    for _ in range(20):
        if not len(moving):
            break
        day[moving] = end
        inside, end = intervals.containing(codes[moving], day[moving])
        moving = moving[inside]
        end = end[inside]
    order = np.argsort(make_keys(codes, day) * 4 + kind, kind="stable")
    codes, day, kind, src = codes[order], day[order], kind[order], src[order]
    inside0, shift = inside0[order], shift[order]
    # A release and a decision moved to the same release are one entry event.
    first = np.ones(len(codes), dtype=bool)
    first[1:] = (codes[1:] != codes[:-1]) | (day[1:] != day[:-1])
    keep = first | (kind == _KIND_ORDER["programme_start"])
    codes, day, kind, src, inside0, shift = (
        x[keep] for x in (codes, day, kind, src, inside0, shift)
    )
    names = np.array(list(_KIND_ORDER), dtype=object)
    cand = pd.DataFrame(
        {
            "code": codes,
            "day": day,
            "kind": names[kind],
            "in_custody_at_entry": inside0,
            "custody_open": shift & (day >= NEVER),
        }
    )
    if "programme_start" in kinds:
        prog = registers.programme
        is_prog = src >= 0
        at = np.where(is_prog, src, 0)
        for out_col, col in (
            ("episode_id", "episode_id"),
            ("referral", "referral"),
            ("programme_municipality", "municipality"),
            ("exit_reason", "exit_reason"),
        ):
            values = prog[col].astype(str).to_numpy()
            cand[out_col] = np.where(is_prog, values[at] if len(values) else None, None)
    return cand
