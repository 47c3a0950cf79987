"""Follow-up from an entry: the counted offences, time to relapse or exit, window measures.

Shared by the relapse and landmark cohorts, which differ in their entries, not in how an
entry is followed.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaluation._counting import in_window, measurable, window_deadline, window_end
from evaluation._keyed import (
    NEVER,
    KeyedDates,
    KeyedIntervals,
    from_days,
    make_keys,
    to_days,
)
from evaluation.cohorts.covariates import covariate_columns, table_codes
from evaluation.cohorts.definitions import RelapseDefinition
from evaluation.cohorts.entry import custody_intervals

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = [
    "COUNTED_SANCTIONS",
    "WINDOW_ENDED",
    "WINDOW_INCOMPLETE",
    "counted_offences",
    "follow_up",
]

WINDOW_INCOMPLETE = "excluded: window + buffer passes study_end"
WINDOW_ENDED = "excluded: follow-up ended (custody, death, emigration) before the window closed"
#: Sanctions that count under ``counts="prison_probation"``.
COUNTED_SANCTIONS = ("prison", "probation")


def counted_offences(registers: Registers, d: RelapseDefinition) -> pd.DataFrame:
    """The offences the definition counts, with person codes, sorted by person and date."""
    off = registers.offences
    code = table_codes(registers, "offences")
    oday = to_days(off["offence_date"])
    dday = to_days(off["decision_date"])
    if d.counts == "prison_probation":
        m = off["sanction"].isin(COUNTED_SANCTIONS).to_numpy()
        code, oday, dday = code[m], oday[m], dday[m]
    order = np.argsort(make_keys(code, oday), kind="stable")
    return pd.DataFrame({"code": code[order], "oday": oday[order], "dday": dday[order]})


def follow_up(
    registers: Registers,
    cand: pd.DataFrame,
    d: RelapseDefinition,
    population: str,
    e_day: int,
    last_usable: int,
    exit_day: np.ndarray,
    exit_code: np.ndarray,
) -> pd.DataFrame:
    """Outcomes from each entry in ``cand``: time to relapse or exit, window flags, group.

    ``cand`` has one row per entry with the person's code (``code``), the entry day
    (``day``), ``kind`` and ``in_custody_at_entry`` (and for ``population="programme"`` the
    episode's columns). The ``_status_<window>`` columns of the result code each window as
    0 measured, 1 window plus buffer passes ``study_end``, 2 follow-up ended before the
    window closed (relapse and landmark cohorts turn them into flow rows).
    """
    code = cand["code"].to_numpy()
    t0 = cand["day"].to_numpy()
    n = len(cand)
    off = counted_offences(registers, d)
    ocode, oday, dday = (off[c].to_numpy() for c in ("code", "oday", "dday"))
    intervals = custody_intervals(registers)

    # Survival outcome: the first relapse offence (decided after entry), else an exit.
    later = dday > oday
    a_day, _ = KeyedDates(ocode[later], oday[later]).first_at_or_after(code, t0)
    b_day, _ = KeyedDates(ocode[~later], oday[~later]).first_at_or_after(code, t0 + 1)
    r_day = np.minimum(a_day, b_day)
    x_day = exit_day[code]
    c_day = intervals.next_start(code, t0) if d.custody == "censor" else np.full(n, NEVER)
    other = np.minimum(np.minimum(x_day, c_day), last_usable)
    # A relapse on the day of death or arrest still counts: the offence came first.
    is_rel = (r_day <= other) & (r_day < last_usable)
    end = np.where(is_rel, r_day, other)
    event = np.where(is_rel, 1, np.where(end == x_day, exit_code[code], 0))
    duration = end - t0
    if d.custody == "subtract":
        duration = duration - intervals.time_in(code, t0, end)

    pid = registers.persons["person_id"].to_numpy()
    cols: dict[str, Any] = {
        "person_id": pid[code],
        "_code": code,
        "entry_date": from_days(t0),
        "entry_kind": cand["kind"].to_numpy(),
        "in_custody_at_entry": cand["in_custody_at_entry"].to_numpy(),
        "duration_days": duration.astype(np.int64),
        "event": event.astype(np.int64),
    }

    # Window measures, from the pairs (entry row, offence of that person in the widest window).
    wends = [window_end(t0, w) for w in d.windows_years]
    if d.custody == "subtract":
        wends = [
            _extend_by_custody(intervals, code, t0, w, base)
            for w, base in zip(d.windows_years, wends, strict=True)
        ]
    follow_end = np.minimum(x_day, c_day) if d.custody == "censor" else np.full(n, NEVER)
    okeys = ocode * np.int64(1 << 20) + oday
    lo = np.searchsorted(okeys, code * np.int64(1 << 20) + t0)
    widest = functools.reduce(np.maximum, wends)
    hi = np.searchsorted(okeys, code * np.int64(1 << 20) + widest)
    counts = hi - lo
    row = np.repeat(np.arange(n), counts)
    pos = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + lo[row]
    p_oday, p_dday = oday[pos], dday[pos]
    p_t0 = t0[row]
    for label, w_end in zip(d.window_labels, wends, strict=True):
        deadline = window_deadline(w_end, d.buffer_years)
        # With custody="censor" the window is cut where follow-up ended.
        cut = np.minimum(w_end, follow_end + 1)
        q = in_window(p_t0, p_oday, p_dday, cut[row], deadline[row])
        n_off = np.bincount(row[q], minlength=n)
        first_day = np.full(n, -1, dtype=np.int64)
        qi = np.flatnonzero(q)
        # Pairs are in row order, so a row's first qualifying pair is where the row changes.
        rq = row[qi]
        first_idx = np.flatnonzero(np.r_[True, rq[1:] != rq[:-1]]) if len(rq) else rq
        rows_q = rq[first_idx]
        first_day[rows_q] = p_oday[qi[first_idx]] - t0[rows_q]
        status = np.where(measurable(deadline, e_day), 0, 1)
        status = np.where((status == 0) & (n_off == 0) & (cut < w_end), 2, status)
        measured = status == 0
        cols[f"relapse_{label}"] = pd.arrays.BooleanArray(n_off > 0, ~measured)
        cols[f"n_relapse_offences_{label}"] = pd.arrays.IntegerArray(n_off, ~measured)
        days = np.where(measured & (n_off > 0), first_day, np.nan).astype(np.float64)
        cols[f"days_to_relapse_{label}"] = days
        cols[f"_status_{label}"] = status

    # Programme status at entry.
    prog = registers.programme
    pcode = table_codes(registers, "programme")
    pday = to_days(prog["start_date"])
    started = KeyedDates(pcode, pday)
    ever = np.zeros(len(registers.persons), dtype=bool)
    ever[pcode] = True
    cols["ever_participant"] = ever[code]
    if population == "programme":
        cols["group"] = np.full(n, "participant", dtype=object)
        cols["episode_id"] = cand["episode_id"].to_numpy()
        cols["referral"] = cand["referral"].to_numpy()
        cols["exit_reason"] = cand["exit_reason"].to_numpy()
    else:
        # Latest episode started on or before the entry date, if any.
        last_pos = started.position(code, t0, side="right") - 1
        safe = np.where(last_pos >= 0, last_pos, 0)
        has = (last_pos >= 0) & (started.codes[safe] == code) if len(pday) else np.zeros(n, bool)
        # Two string objects shared by all rows (astype(object) of a NumPy string array
        # made one per row: 316k strings per part to pickle, send and take).
        cols["group"] = np.array(["non-participant", "participant"], dtype=object)[
            has.astype(np.intp)
        ]
        ref = (
            prog["referral"].astype(str).to_numpy()[started.order] if len(pday) else np.array([""])
        )
        referral = np.where(has, ref[safe], "")
        cols["referral"] = pd.Series(referral, dtype="string").where(has, pd.NA).array
    cov = covariate_columns(registers, code, t0, min_age=d.min_age)
    if population == "programme":
        cov["home_municipality"] = cov.pop("municipality")
        cov["municipality"] = cand["programme_municipality"].to_numpy()
    cols.update(cov)
    front = [
        "person_id",
        "group",
        "ever_participant",
        "entry_date",
        "entry_kind",
        "in_custody_at_entry",
        "duration_days",
        "event",
    ]
    rest = [c for c in cols if c not in front]
    # copy=False: each column stays its own block instead of being copied into one 2-D
    # block per dtype (a tenth of the cohort's time on a million persons).
    return pd.DataFrame({c: cols[c] for c in front + rest}, copy=False)


def _extend_by_custody(
    intervals: KeyedIntervals, code: np.ndarray, t0: np.ndarray, years: float, base: np.ndarray
) -> np.ndarray:
    """Window end measured in days at liberty: push it on by the custody days inside it."""
    w_end = base
    for _ in range(50):
        new = base + intervals.time_in(code, t0, w_end)
        if np.array_equal(new, w_end):
            break
        w_end = new
    return w_end
