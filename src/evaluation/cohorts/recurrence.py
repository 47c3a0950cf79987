"""Recurrence cohorts: every relapse offence, as counting-process rows of community time.

Time to the first relapse treats a person who goes from twelve lagförda offences a year
to two like one who carries on. These rows keep every offence: one row per person, entry
and interval between relapse offences, in days since the entry, in the format of R's
``Surv(start, stop, event)`` with ``id`` (ARCHITECTURE.md, "Recurrent relapse").

The rules, in whole days (entry on day ``e``; day ``d`` is the time interval
``(d - e, d - e + 1]``, so an offence on the entry day is at time 1 and every interval has
``stop > start``, as R's counting process requires):

- **Follow-up** runs from the entry to the first of: the horizon (the largest window of
  the definition, ``horizon_years``), the last usable date (``study_end`` minus the
  buffer), death or emigration (the day of the exit is still followed: an offence on
  the day of death came first), or a ``censor_date`` (a comparison's own programme start).
- **Counted offences** are Brå's: committed on or after the entry day and before the end of
  follow-up, decided after the entry day and before the horizon plus the buffer (Brå's
  window rule with the window ending at the horizon, :mod:`evaluation._counting`; at the
  last usable date every decision up to ``study_end`` counts). With a 1-year horizon and
  no custody, the number of events equals the cohort's ``n_relapse_offences_1y``.
- **Community time only**: a custody period ``[start, end)`` is a gap from the day after
  it starts to its last day (days ``start + 1 .. end - 1``): the day of the arrest stays
  exposure (an offence that day came before the arrest, as in the relapse cohort) and so
  does the day of release. An interval ends where a gap starts (``event`` 0) and a new one
  begins at the release; offences committed inside a gap (in custody) are not events of
  community time and are counted in ``meta["offences_in_custody"]``.
- **Ties**: several offences on one day are one row with ``event`` 1 and ``n_offences``
  their number (``survival`` refuses zero-length intervals, so R can hold only one event
  per person and time; the estimators of :mod:`evaluation.survival.recurrent` count
  ``n_offences`` when given it as ``event``, which is the Nelson–Aalen estimator with
  ``dN`` the number of offences).
- **Terminal events**: the last row of an entry holds ``terminal`` 2 (death) or 3
  (emigration) where follow-up ended by the exit, else 0. A person who dies in custody
  has the death on the last row of community time (not at risk in between).
- ``enum`` numbers the intervals by the offence days before them (1 before the first
  relapse, ``k + 1`` after the ``k``-th), the stratum of the PWP models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from evaluation._counting import window_deadline, window_end
from evaluation._errors import DefinitionError
from evaluation._keyed import NEVER, make_keys, to_days
from evaluation.cohorts._cohort import Cohort, person_flow
from evaluation.cohorts._follow_up import counted_offences, follow_up
from evaluation.cohorts.covariates import person_codes
from evaluation.cohorts.definitions import RelapseDefinition, resolve_definition
from evaluation.cohorts.entry import custody_intervals, exit_days, study_days
from evaluation.cohorts.relapse import PERSON_REASONS, entries

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = [
    "NO_COMMUNITY_TIME",
    "RECURRENCE_COLUMNS",
    "recurrence_cohort",
    "recurrence_rows",
    "recurrence_totals",
]

#: Flow reason of persons whose every entry is followed in custody only.
NO_COMMUNITY_TIME = "no time in the community during follow-up (in custody throughout)"
#: The counting-process columns, in order.
RECURRENCE_COLUMNS = ["entry_id", "start", "stop", "event", "n_offences", "terminal", "enum"]


def recurrence_cohort(
    registers: Registers,
    *,
    definition: str | RelapseDefinition = "bra-final",
    population: Literal["all", "programme"] = "all",
    horizon_years: float | None = None,
    rng: np.random.Generator | int | None = None,
    entry_from: str | pd.Timestamp | None = None,
    entry_to: str | pd.Timestamp | None = None,
) -> Cohort:
    """Build a recurrence cohort: every relapse offence after each entry, in community time.

    Parameters
    ----------
    registers
        Validated registers.
    definition, population, rng, entry_from, entry_to
        As in :func:`~evaluation.cohorts.relapse_cohort`: the same entry events, chosen the
        same way (the same ``rng`` chooses the same entries).
    horizon_years
        Length of follow-up; the definition's largest window by default (3 years for
        ``bra-final``), so that every counted offence is decided within Brå's buffer.

    Returns
    -------
    Cohort
        ``data``: one row per interval with ``person_id``, ``entry_id`` (0, 1, ... one per
        entry, the rows of the relapse cohort with the same arguments), ``start``,
        ``stop`` (days since entry), ``event`` (1 a relapse offence at ``stop``, 0 the end
        of an interval), ``n_offences`` (offences on that day), ``terminal`` (2 death, 3
        emigration on the entry's last row, else 0), ``enum``, then the entry's
        ``group``, ``ever_participant``, ``entry_date``, ``entry_kind``,
        ``in_custody_at_entry``, ``referral`` and covariates as in the relapse cohort.
        ``flow`` accounts for every person: the relapse cohort's reasons plus
        :data:`NO_COMMUNITY_TIME`. ``meta`` adds ``horizon_years``, ``n_entries``,
        ``n_entries_without_community_time`` (together the relapse cohort's entries) and
        ``offences_in_custody``.

    See Also
    --------
    recurrence_rows : the same rows from any time zeros (a comparison cohort's).

    References
    ----------
    Brå (2023). Återfall i brott. Beskrivning av statistiken. Brottsförebyggande rådet.
    Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model,
    chapter 8 (multiple events per subject). Springer.

    Examples
    --------
    >>> from evaluation import load_synthetic
    >>> c = recurrence_cohort(load_synthetic(), rng=1)
    >>> bool((c.data["stop"] > c.data["start"]).all())
    True
    """
    d = resolve_definition(definition)
    ent = entries(registers, d, population, rng, entry_from, entry_to)
    cand = ent.cand
    horizon = _horizon(d, horizon_years)
    per_entry = follow_up(
        registers, cand, d, population, ent.e_day, ent.last_usable, ent.exit_day, ent.exit_code
    )
    code = per_entry.pop("_code").to_numpy()
    t0 = cand["day"].to_numpy().astype(np.int64)
    rows, in_custody = _rows(
        registers, d, code, t0, horizon, ent.last_usable, ent.e_day, np.full(len(t0), NEVER)
    )
    has_rows = np.zeros(len(registers.persons), dtype=bool)
    has_rows[code[rows["entry_id"]]] = True
    # Stages count the steps passed: len(PERSON_REASONS) was "included"; it now splits
    # into NO_COMMUNITY_TIME (that index) and included (one more).
    included = len(PERSON_REASONS)
    stage = np.where(
        ent.person_stage == included,
        np.where(has_rows, included + 1, included),
        ent.person_stage,
    )
    n_entries = int(len(np.unique(rows["entry_id"])))
    flow = person_flow(
        len(registers.persons), stage, [*PERSON_REASONS, NO_COMMUNITY_TIME], n_entries
    )
    keep = [
        c
        for c in per_entry.columns
        if c not in ("duration_days", "event")
        and not c.startswith(("_status_", "relapse_", "n_relapse_offences_", "days_to_relapse_"))
    ]
    data = _join(rows, per_entry[keep])
    meta = {
        "study_start": str(pd.Timestamp(registers.study_start).date()),
        "study_end": str(pd.Timestamp(registers.study_end).date()),
        "population": population,
        "source": registers.meta.get("source", ""),
        "horizon_years": horizon,
        "n_entries": n_entries,
        # Entries of included persons followed in custody only (no rows), so that the
        # entries add up to the relapse cohort's.
        "n_entries_without_community_time": len(cand) - n_entries,
        "offences_in_custody": in_custody,
    }
    return Cohort(data=data, flow=flow, definition=d, meta=meta)


def recurrence_rows(
    registers: Registers,
    entries: pd.DataFrame,
    *,
    definition: str | RelapseDefinition = "bra-final",
    horizon_years: float | None = None,
    censor_date: str | None = None,
    from_day_after: bool = False,
    custody_gaps: bool = True,
) -> pd.DataFrame:
    """Counting-process rows of relapse offences from given time zeros.

    The rules of :func:`recurrence_cohort` (see the module), for entries chosen
    elsewhere: a comparison cohort's time zeros, for example.

    Parameters
    ----------
    registers
        Validated registers.
    entries
        One row per time zero with ``person_id`` and ``entry_date``; their order is
        ``entry_id``.
    definition
        Which offences count, the buffer and the last usable date.
    horizon_years
        Length of follow-up; the definition's largest window by default.
    censor_date
        Optional column of dates at which follow-up is censored (missing: none), such as
        a comparison's own later programme start.
    from_day_after
        Follow from the day after time zero (``start`` 1 at the earliest): the comparison
        cohort's outcome, and its synthetic truth, count offences committed after time
        zero, since on the day a participant starts nobody knows which came first.
    custody_gaps
        True (the default): custody periods are gaps, time at liberty only. False: follow
        calendar time since time zero, custody included (offences committed in custody
        then count): the expected number of offences per person as the population lives
        it, custody and all, which is what a programme's effect on offending is about
        and what the synthetic truth counts.

    Returns
    -------
    DataFrame
        The columns of :data:`RECURRENCE_COLUMNS` plus ``person_id``; entries without
        community time have no rows.
    """
    d = resolve_definition(definition)
    for col in ("person_id", "entry_date", *(() if censor_date is None else (censor_date,))):
        if col not in entries.columns:
            raise DefinitionError(f"entries has no column {col!r}")
    code = person_codes(registers.persons, entries["person_id"].to_numpy(), table="entries")
    t0 = to_days(entries["entry_date"])
    censor = (
        np.full(len(t0), NEVER, dtype=np.int64)
        if censor_date is None
        else to_days(entries[censor_date], nat=int(NEVER))
    )
    _, e_day = study_days(registers)
    last_usable = int(window_end(np.array([e_day + 1]), -d.buffer_years)[0])
    rows, _ = _rows(
        registers,
        d,
        code,
        t0,
        _horizon(d, horizon_years),
        last_usable,
        e_day,
        censor,
        first_day=t0 + 1 if from_day_after else t0,
        custody_gaps=custody_gaps,
    )
    pid = registers.persons["person_id"].to_numpy()
    out = pd.DataFrame({"person_id": pid[code[rows["entry_id"]]]})
    for c in RECURRENCE_COLUMNS:
        out[c] = rows[c]
    return out


def recurrence_totals(
    data: pd.DataFrame,
    *,
    id: str = "entry_id",
    start: str = "start",
    stop: str = "stop",
    count: str = "n_offences",
    terminal: str = "terminal",
) -> pd.DataFrame:
    """One row per follow-up: offences, days at risk in the community and how it ended.

    The input of a rate model (:func:`evaluation.survival.rate_model`, ``count`` and
    ``exposure``). Columns constant within a follow-up (covariates at entry) keep their
    first value; ``n_offences`` is the sum of ``count``, ``exposure_days`` the sum of
    ``stop - start`` and ``terminal`` the code of the last row.

    Examples
    --------
    >>> rows = pd.DataFrame({"entry_id": [0, 0, 1], "start": [0, 5, 0], "stop": [5, 9, 4],
    ...     "n_offences": [2, 0, 0], "terminal": [0, 2, 0], "sex": ["M", "M", "F"]})
    >>> cols = ["entry_id", "n_offences", "exposure_days", "terminal"]
    >>> recurrence_totals(rows)[cols].values.tolist()
    [[0, 2, 9, 2], [1, 0, 4, 0]]
    """
    for col in (id, start, stop, count, terminal):
        if col not in data.columns:
            raise DefinitionError(f"the recurrence rows have no column {col!r}")
    codes, _ = pd.factorize(data[id])
    n = int(codes.max()) + 1 if len(codes) else 0
    first = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, bool)
    if np.count_nonzero(first) != n:
        raise DefinitionError(f"the rows of each {id} must be consecutive (sorted by {id})")
    out = data.loc[first].drop(columns=[start, stop, count, terminal], errors="ignore")
    out = out.drop(columns=[c for c in ("event", "enum") if c in out.columns])
    out = out.reset_index(drop=True)
    out[count] = np.bincount(codes, weights=data[count].to_numpy(), minlength=n).astype(np.int64)
    days = (data[stop] - data[start]).to_numpy(dtype=np.float64)
    exposure = np.bincount(codes, weights=days, minlength=n)
    out["exposure_days"] = exposure.astype(np.int64) if (days == np.round(days)).all() else exposure
    last = np.r_[codes[1:] != codes[:-1], True] if len(codes) else first
    out[terminal] = data[terminal].to_numpy()[last]
    return out


def _horizon(d: RelapseDefinition, horizon_years: float | None) -> float:
    h = max(d.windows_years) if horizon_years is None else float(horizon_years)
    if not h > 0:
        raise DefinitionError(f"horizon_years must be positive, not {horizon_years!r}")
    return float(h)


def _join(rows: dict[str, np.ndarray], per_entry: pd.DataFrame) -> pd.DataFrame:
    eid = rows["entry_id"]
    front = per_entry[["person_id"]].iloc[eid].reset_index(drop=True)
    for c in RECURRENCE_COLUMNS:
        front[c] = rows[c]
    rest = per_entry.drop(columns=["person_id"]).iloc[eid].reset_index(drop=True)
    return pd.concat([front, rest], axis=1)


def _rows(
    registers: Registers,
    d: RelapseDefinition,
    code: np.ndarray,
    t0: np.ndarray,
    horizon_years: float,
    last_usable: int,
    e_day: int,
    censor: np.ndarray,
    first_day: np.ndarray | None = None,
    custody_gaps: bool = True,
) -> tuple[dict[str, np.ndarray], int]:
    """The counting-process rows (arrays) of every entry, and the offences in custody.

    Positions are day boundaries: day ``d`` is ``(d, d + 1]``, so follow-up of days
    ``t0 .. end - 1`` is ``(t0, end]`` and ``start``/``stop`` are boundaries minus ``t0``.
    """
    n = len(code)
    t_first = t0 if first_day is None else first_day
    exit_day, exit_code = exit_days(registers)
    horizon = np.minimum(window_end(t0, horizon_years), last_usable)
    deadline = np.minimum(window_deadline(horizon, d.buffer_years), e_day + 1)
    limit = np.minimum(horizon, np.maximum(censor, t0 + 1))
    x = exit_day[code]
    ended_by_exit = x < limit
    end = np.where(ended_by_exit, x + 1, limit)
    terminal = np.where(ended_by_exit, exit_code[code], 0)

    # Gaps: custody [s, e) takes days s + 1 .. e - 1, boundaries (s + 1, e].
    iv = custody_intervals(registers)
    end_keys = make_keys(iv.codes, iv.end)
    lo = np.searchsorted(end_keys, make_keys(code, t0), side="right")
    hi = np.searchsorted(iv.keys, make_keys(code, end - 1), side="left")
    k = np.maximum(hi - lo, 0) if custody_gaps else np.zeros(n, dtype=np.int64)
    g_row = np.repeat(np.arange(n), k)
    g_pos = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + lo[g_row]
    g_lo = np.maximum(iv.start[g_pos] + 1, t_first[g_row]) if len(g_pos) else g_pos
    g_hi = np.minimum(iv.end[g_pos], end[g_row]) if len(g_pos) else g_pos
    ok = g_hi > g_lo
    g_row, g_lo, g_hi = g_row[ok], g_lo[ok], g_hi[ok]
    k = np.bincount(g_row, minlength=n)

    # Segments of community time: k + 1 per entry, in order.
    first = np.arange(n) + np.cumsum(k) - k
    n_seg = n + len(g_row)
    s_row = np.repeat(np.arange(n), k + 1)
    s_start = np.empty(n_seg, dtype=np.int64)
    s_end = np.empty(n_seg, dtype=np.int64)
    s_start[first] = np.minimum(t_first, end)
    s_end[first + k] = end
    j = np.arange(len(g_row)) - (np.cumsum(k) - k)[g_row]  # gap's index within its entry
    s_end[first[g_row] + j] = g_lo
    s_start[first[g_row] + j + 1] = g_hi
    live = s_end > s_start
    s_row, s_start, s_end = s_row[live], s_start[live], s_end[live]

    # Counted offences of each entry's follow-up, placed in a segment or in custody.
    off = counted_offences(registers, d)
    ocode, oday, dday = (off[c].to_numpy() for c in ("code", "oday", "dday"))
    okeys = make_keys(ocode, oday)
    o_lo = np.searchsorted(okeys, make_keys(code, t_first))
    o_hi = np.searchsorted(okeys, make_keys(code, end))
    m = o_hi - o_lo
    p_row = np.repeat(np.arange(n), m)
    p_pos = np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m) + o_lo[p_row]
    p_day = oday[p_pos]
    decided = (dday[p_pos] > t0[p_row]) & (dday[p_pos] < deadline[p_row])
    p_row, p_day = p_row[decided], p_day[decided]
    seg_keys = make_keys(s_row, s_start)
    si = np.searchsorted(seg_keys, make_keys(p_row, p_day), side="right") - 1
    safe = np.maximum(si, 0)
    inside = (si >= 0) & (s_row[safe] == p_row) & (s_end[safe] > p_day) if len(si) else si > 0
    in_custody = int((~inside).sum())
    p_seg, p_stop = safe[inside], p_day[inside] + 1
    # One row per offence day: distinct (segment, day) with their number of offences.
    if len(p_seg):
        key = p_seg.astype(np.int64) * np.int64(1 << 24) + p_stop - s_start[p_seg]
        uk, n_off = np.unique(key, return_counts=True)
        e_seg = (uk >> 24).astype(np.int64)
        e_stop = s_start[e_seg] + (uk & ((1 << 24) - 1))
    else:
        e_seg = np.zeros(0, dtype=np.int64)
        e_stop = e_seg.copy()
        n_off = e_seg.copy()
    # A closing row per segment unless its last offence day is its end.
    last_event = np.full(len(s_row), -1, dtype=np.int64)
    np.maximum.at(last_event, e_seg, e_stop)
    closing = np.flatnonzero(last_event < s_end)
    seg = np.concatenate([e_seg, closing])
    stop = np.concatenate([e_stop, s_end[closing]])
    event = np.concatenate([np.ones(len(e_seg), np.int64), np.zeros(len(closing), np.int64)])
    count = np.concatenate([n_off, np.zeros(len(closing), np.int64)])
    order = np.lexsort((stop, seg))
    seg, stop, event, count = seg[order], stop[order], event[order], count[order]
    new_seg = np.r_[True, seg[1:] != seg[:-1]] if len(seg) else np.zeros(0, bool)
    start = np.where(new_seg, s_start[seg], np.r_[0, stop[:-1]] if len(stop) else stop)
    row = s_row[seg]
    new_row = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, bool)
    last_row = np.r_[row[1:] != row[:-1], True] if len(row) else np.zeros(0, bool)
    # enum: 1 + offence days before the row within its entry.
    cum = np.cumsum(event) - event
    base = np.maximum.accumulate(np.where(new_row, cum, 0)) if len(row) else cum
    enum = cum - base + 1
    out: dict[str, Any] = {
        "entry_id": row,
        "start": (start - t0[row]).astype(np.int64),
        "stop": (stop - t0[row]).astype(np.int64),
        "event": event,
        "n_offences": count.astype(np.int64),
        "terminal": np.where(last_row, terminal[row], 0).astype(np.int64),
        "enum": enum.astype(np.int64),
    }
    return out, in_custody
