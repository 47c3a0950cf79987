"""Relapse cohorts: one row per entry event, with time to relapse and Brå's window flags."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from evaluation._errors import DefinitionError, RegisterError
from evaluation.cohorts._cohort import Cohort, person_flow, window_flow
from evaluation.cohorts._keyed import (
    NEVER,
    KeyedDates,
    KeyedIntervals,
    from_days,
    make_keys,
    plus_years,
    to_days,
    year_of,
)
from evaluation.cohorts.covariates import covariate_columns, require_columns, table_codes
from evaluation.cohorts.definitions import RelapseDefinition, resolve_definition
from evaluation.cohorts.entry import custody_intervals, entry_events, exit_days, study_days
from evaluation.cohorts.windows import in_window, measurable, window_deadline, window_end
from evaluation.registers._rules import offences_before_age, under_age_message

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = ["relapse_cohort", "PERSON_REASONS"]

PERSON_REASONS: list[str] = [
    "no entry event",
    "in custody until extraction",
    "entry events only before the look-back is complete",
    "entry events only outside the requested entry period",
    "entry events only after the last usable date",
    "died or emigrated before entry",
]
WINDOW_INCOMPLETE = "excluded: window + buffer passes study_end"
WINDOW_ENDED = "excluded: follow-up ended (custody, death, emigration) before the window closed"
COUNTED_SANCTIONS = ("prison", "probation")


def relapse_cohort(
    registers: Registers,
    *,
    definition: str | RelapseDefinition = "bra-final",
    population: Literal["all", "programme"] = "all",
    rng: np.random.Generator | int | None = None,
    entry_from: str | pd.Timestamp | None = None,
    entry_to: str | pd.Timestamp | None = None,
) -> Cohort:
    """Build a relapse cohort: entry events, follow-up, window flags and covariates.

    Parameters
    ----------
    registers
        Validated registers.
    definition
        A preset name (``"bra-final"``, ``"bra-preliminary"``, ``"prison-service"``,
        ``"uk-proven"``) or a :class:`RelapseDefinition`.
    population
        ``"all"``: the definition's entry events (Brå: decisions without custody and
        releases); ``"programme"``: programme starts (one row per episode start).
    rng
        Chooses the entry event per person and year when the definition selects one at
        random (a Generator, a seed or None).
    entry_from, entry_to
        Optional first and last entry dates (for example one cohort year).

    Returns
    -------
    Cohort
        ``data`` columns: ``person_id``, ``group`` (``"participant"`` if the person started
        a programme episode on or before the entry date, else ``"non-participant"``; always
        ``"participant"`` for ``population="programme"``), ``ever_participant``,
        ``entry_date``, ``entry_kind``, ``in_custody_at_entry``, ``duration_days`` and
        ``event`` (0 censored, 1 relapse, 2 death, 3 emigration), then per window
        ``relapse_1y`` (nullable boolean, missing where the window cannot be measured),
        ``n_relapse_offences_1y`` and ``days_to_relapse_1y``, then ``referral`` (of the
        latest episode started on or before entry; missing for non-participants),
        ``episode_id`` and ``exit_reason`` (how the episode ended) for programme cohorts, and
        the covariates of
        :func:`covariates_at`. For programme cohorts ``municipality`` is the programme's
        and ``home_municipality`` the person's.

    Raises
    ------
    RegisterError
        When an offence was committed before the definition's age of criminal
        responsibility (``min_age``: 15 for Brå's measures, 10 for ``uk-proven``), naming
        the offence ids and rows: nobody can be lagförd for it.

    Notes
    -----
    Entry events are those of :func:`~evaluation.cohorts.entry.entry_events`, of the
    definition's ``entry_sanctions`` (``prison-service``: releases from prison and
    probation decisions only); a custodial decision with no release (served in remand)
    is an entry itself. A relapse is an offence committed on or after the entry date and
    decided after it (the offences decided at the entry decision belong to it). For a
    window of ``w`` years the offence must be committed before ``entry + w`` and decided
    before ``entry + w + buffer``; if that date passes ``study_end`` the flag is missing
    (one definition for cohorts and the synthetic truth: :mod:`evaluation.cohorts.windows`,
    with the boundary days spelled out). The
    survival outcome (``duration_days``, ``event``) follows the person from entry to the
    first relapse offence, death, emigration or the last usable date ``study_end -
    buffer`` (so that every offence counted has had the buffer to be decided); with
    ``custody="censor"`` the next custody period censors it, with ``"subtract"`` days in
    custody are not counted in ``duration_days``.

    References
    ----------
    Brå (2023). Återfall i brott. Beskrivning av statistiken. Brottsförebyggande rådet.
    Ministry of Justice (2023). Proven reoffending statistics: definitions and measurement.

    Examples
    --------
    >>> from evaluation.registers import Registers
    >>> reg = Registers(
    ...     persons=pd.DataFrame({"person_id": ["P1"], "sex": ["M"],
    ...         "birth_date": pd.to_datetime(["1990-06-01"]), "municipality": ["Botkyrka"]}),
    ...     programme=pd.DataFrame({c: pd.Series([], dtype=str) for c in ("episode_id",
    ...         "person_id", "municipality", "referral", "exit_reason")} | {c: pd.to_datetime([])
    ...         for c in ("contact_date", "start_date", "end_date")}),
    ...     offences=pd.DataFrame({"offence_id": ["O1", "O2"], "person_id": ["P1"] * 2,
    ...         "offence_date": pd.to_datetime(["2016-01-01", "2016-09-01"]),
    ...         "decision_date": pd.to_datetime(["2016-03-01", "2017-02-01"]),
    ...         "category": ["drugs"] * 2, "sanction": ["fine"] * 2}),
    ...     custody=pd.DataFrame({"person_id": pd.Series([], dtype=str),
    ...         "start_date": pd.to_datetime([]), "end_date": pd.to_datetime([]),
    ...         "kind": pd.Series([], dtype=str)}),
    ...     exits=pd.DataFrame({"person_id": pd.Series([], dtype=str),
    ...         "date": pd.to_datetime([]), "reason": pd.Series([], dtype=str)}),
    ...     study_start=pd.Timestamp("2010-01-01"), study_end=pd.Timestamp("2025-12-31"))
    >>> c = relapse_cohort(reg, definition="bra-preliminary", rng=1)
    >>> row = c.data.iloc[0]
    >>> str(row.entry_date.date()), int(row.event), int(row.duration_days), bool(row.relapse_1y)
    ('2016-03-01', 1, 184, True)
    """
    d = resolve_definition(definition)
    require_columns(registers)
    if population not in ("all", "programme"):
        raise DefinitionError(f"population must be 'all' or 'programme', not {population!r}")
    kinds = ("programme_start",) if population == "programme" else d.entry_events
    persons = registers.persons
    n_persons = len(persons)
    s_day, e_day = study_days(registers)
    first_usable = int(plus_years(np.array([s_day]), d.lookback_years)[0])
    # Offences committed before `last_usable` have had the whole buffer to be decided.
    last_usable = int(plus_years(np.array([e_day + 1]), -d.buffer_years)[0])
    lo_day = -1 if entry_from is None else int(to_days(np.array([pd.Timestamp(entry_from)]))[0])
    hi_day = NEVER if entry_to is None else int(to_days(np.array([pd.Timestamp(entry_to)]))[0])
    exit_day, exit_code = exit_days(registers)

    _refuse_offences_before_age(registers, d)
    cand = entry_events(
        registers,
        kinds,
        move_to_release=d.custody_at_entry == "release",
        sanctions=None if population == "programme" else d.entry_sanctions,
    )
    code = cand["code"].to_numpy()
    day = cand["day"].to_numpy()
    # In the order of PERSON_REASONS[1:]; a person is excluded for the furthest step
    # any of their entry events reached.
    passes = [
        ~cand["custody_open"].to_numpy(),
        day >= first_usable,
        (day >= lo_day) & (day <= hi_day),
        day < last_usable,
        day < exit_day[code],
    ]
    stage = np.zeros(len(cand), dtype=np.int64)
    alive = np.ones(len(cand), dtype=bool)
    for ok in passes:
        alive &= ok
        stage += alive
    # Person stage: 0 without any entry event, else 1 + the furthest stage of an entry.
    person_stage = np.zeros(n_persons, dtype=np.int64)
    np.maximum.at(person_stage, code, stage + 1)
    cand = cand[stage == len(passes)]
    cand = _select(cand, d.selection, rng)

    data = _follow_up(registers, cand, d, population, e_day, last_usable, exit_day, exit_code)
    flow = person_flow(n_persons, person_stage, PERSON_REASONS, len(data))
    wcodes = data.pop("_code").to_numpy()
    reasons = np.array(["included", *(f"excluded: {r}" for r in PERSON_REASONS)], dtype=object)
    # person_stage counts steps passed: 0 is the first reason, len(reasons) - 1 included.
    person_reasons = pd.Series(
        np.roll(reasons, -1)[person_stage],
        index=persons["person_id"].to_numpy(),
        name="reason",
    )
    window_status = pd.DataFrame(index=data.index)
    for label in d.window_labels:
        status = data.pop(f"_status_{label}").to_numpy()
        window_status[label] = np.array(
            ["measured", WINDOW_INCOMPLETE, WINDOW_ENDED], dtype=object
        )[status]
        flow = pd.concat(
            [
                flow,
                window_flow(
                    label,
                    {
                        "measured": status == 0,
                        WINDOW_INCOMPLETE: status == 1,
                        WINDOW_ENDED: status == 2,
                    },
                    wcodes,
                ),
            ],
            ignore_index=True,
        )
    meta = {
        "study_start": str(pd.Timestamp(registers.study_start).date()),
        "study_end": str(pd.Timestamp(registers.study_end).date()),
        "population": population,
        "source": registers.meta.get("source", ""),
    }
    return Cohort(
        data=data,
        flow=flow,
        definition=d,
        meta=meta,
        person_reasons=person_reasons,
        window_status=window_status,
    )


def _refuse_offences_before_age(registers: Registers, d: RelapseDefinition) -> None:
    """Registers with offences before the definition's age of criminal responsibility.

    Nobody under 15 can be lagförd in Sweden, so such rows are errors in the data for
    Brå's measures, never silently dropped; a definition with a lower age (``uk-proven``:
    10) accepts them.
    """
    off = registers.offences
    if not len(off):
        return
    birth = registers.persons["birth_date"].to_numpy()[table_codes(registers, "offences")]
    young = offences_before_age(off, birth, d.min_age)
    if young.any():
        message = under_age_message(
            off,
            young,
            d.min_age,
            f"the definition {d.name} assumes min_age {d.min_age}; correct the dates, or "
            "use a definition with a lower min_age (uk-proven: 10) for registers that "
            "hold such offences",
        )
        raise RegisterError(message, [message])


def _select(
    cand: pd.DataFrame, selection: str, rng: np.random.Generator | int | None
) -> pd.DataFrame:
    """One entry per person and calendar year chosen at random, or every entry."""
    if selection == "all" or cand.empty:
        return cand.reset_index(drop=True)
    gen = np.random.default_rng(rng)
    year = year_of(cand["day"].to_numpy())
    u = gen.random(len(cand))
    # Sort by person and year (one int64 key), then by the random number within.
    order = np.lexsort((u, cand["code"].to_numpy() * 4096 + (year - 1800)))
    c = cand["code"].to_numpy()[order]
    y = year[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (c[1:] != c[:-1]) | (y[1:] != y[:-1])
    keep = np.sort(order[first])
    return cand.iloc[keep].reset_index(drop=True)


def _counted_offences(registers: Registers, d: RelapseDefinition) -> pd.DataFrame:
    off = registers.offences
    code = table_codes(registers, "offences")
    oday = to_days(off["offence_date"])
    dday = to_days(off["decision_date"])
    if d.counts == "prison_probation":
        m = off["sanction"].isin(COUNTED_SANCTIONS).to_numpy()
        code, oday, dday = code[m], oday[m], dday[m]
    order = np.argsort(make_keys(code, oday), kind="stable")
    return pd.DataFrame({"code": code[order], "oday": oday[order], "dday": dday[order]})


def _follow_up(
    registers: Registers,
    cand: pd.DataFrame,
    d: RelapseDefinition,
    population: str,
    e_day: int,
    last_usable: int,
    exit_day: np.ndarray,
    exit_code: np.ndarray,
) -> pd.DataFrame:
    code = cand["code"].to_numpy()
    t0 = cand["day"].to_numpy()
    n = len(cand)
    off = _counted_offences(registers, d)
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
        cols["group"] = np.where(has, "participant", "non-participant").astype(object)
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
    return pd.DataFrame({c: cols[c] for c in front + rest})


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
