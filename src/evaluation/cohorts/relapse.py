"""Relapse cohorts: one row per entry event, with time to relapse and Brå's window flags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import pandas as pd

from evaluation._errors import DefinitionError, RegisterError
from evaluation._keyed import (
    NEVER,
    plus_years,
    to_days,
    year_of,
)
from evaluation.cohorts._cohort import Cohort, person_flow, window_flow
from evaluation.cohorts._follow_up import WINDOW_ENDED, WINDOW_INCOMPLETE, follow_up
from evaluation.cohorts.covariates import require_columns, table_codes
from evaluation.cohorts.definitions import RelapseDefinition, resolve_definition
from evaluation.cohorts.entry import entry_events, exit_days, study_days
from evaluation.registers import offences_before_age, under_age_message

if TYPE_CHECKING:
    from evaluation.registers import PartitionedRegisters, Registers

__all__ = [
    "PERSON_REASONS",
    "WINDOW_ENDED",
    "WINDOW_INCOMPLETE",
    "SelectionKey",
    "entry_uniforms",
    "relapse_cohort",
]

PERSON_REASONS: list[str] = [
    "no entry event",
    "in custody until extraction",
    "entry events only before the look-back is complete",
    "entry events only outside the requested entry period",
    "entry events only after the last usable date",
    "died or emigrated before entry",
]


def relapse_cohort(
    registers: Registers | PartitionedRegisters,
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
        Validated registers; partitioned registers (``Registers.read(path, lazy=True)``)
        are built part by part (:func:`~evaluation.cohorts.partitioned.relapse_cohort_partitioned`,
        which can also run the parts on Dask).
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
    (one definition for cohorts and the synthetic truth: :mod:`evaluation._counting`,
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
    from evaluation.registers import PartitionedRegisters

    if isinstance(registers, PartitionedRegisters):
        from evaluation.cohorts.partitioned import relapse_cohort_partitioned

        return relapse_cohort_partitioned(
            registers,
            definition=definition,
            population=population,
            rng=rng,
            entry_from=entry_from,
            entry_to=entry_to,
        )
    d = resolve_definition(definition)
    ent = entries(registers, d, population, rng, entry_from, entry_to)
    cand, person_stage = ent.cand, ent.person_stage
    e_day, last_usable = ent.e_day, ent.last_usable
    persons = registers.persons
    n_persons = len(persons)
    data = follow_up(
        registers, cand, d, population, e_day, last_usable, ent.exit_day, ent.exit_code
    )
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
        names = np.array(["measured", WINDOW_INCOMPLETE, WINDOW_ENDED], dtype=object)
        window_status[label] = names[status]
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


class Entries(NamedTuple):
    """The entry events a definition follows, and where every person left the flow."""

    cand: pd.DataFrame  # one row per followed entry: code, day, kind, in_custody_at_entry, ...
    person_stage: np.ndarray  # per person: steps of PERSON_REASONS passed (len = included)
    e_day: int  # study_end as a day number
    last_usable: int  # first day after the last day an offence can be counted
    exit_day: np.ndarray  # per person: day of death or emigration (NEVER if none)
    exit_code: np.ndarray  # per person: 2 death, 3 emigration


def entries(
    registers: Registers,
    d: RelapseDefinition,
    population: str,
    rng: np.random.Generator | int | None,
    entry_from: str | pd.Timestamp | None,
    entry_to: str | pd.Timestamp | None,
) -> Entries:
    """The entry events of :func:`relapse_cohort` (shared with the recurrence cohort)."""
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
    cand = _select(cand, d.selection, rng, persons["person_id"].to_numpy())

    return Entries(cand, person_stage, e_day, last_usable, exit_day, exit_code)


class SelectionKey(int):
    """An already drawn key of the random entry selection (the same for every part)."""


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
    cand: pd.DataFrame,
    selection: str,
    rng: np.random.Generator | int | None,
    person_ids: np.ndarray,
) -> pd.DataFrame:
    """One entry per person and calendar year chosen at random, or every entry.

    The random number of an entry is a hash of the study's key (one draw from ``rng``), the
    person's id and the entry day (:func:`entry_uniforms`): it depends on nothing else in
    the registers, so a cohort built partition by partition (the same ``rng`` seed for each)
    draws the same entries as one built from all persons at once.
    """
    if selection == "all" or cand.empty:
        return cand.reset_index(drop=True)
    if isinstance(rng, SelectionKey):
        key = int(rng)
    else:
        key = int(np.random.default_rng(rng).integers(2**63))
    year = year_of(cand["day"].to_numpy())
    code = cand["code"].to_numpy()
    u = entry_uniforms(key, person_ids[code], cand["day"].to_numpy())
    group = code * 4096 + (year - 1800)  # person and year as one int64 key
    if np.all(group[1:] >= group[:-1]):
        # Entries in order of person and day (as entry_events gives them): each person-year
        # is a run, and its entry is the first with the run's smallest number, the one the
        # sort below keeps (it is stable), found without sorting.
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        lengths = np.diff(np.append(starts, len(group)))
        at_min = np.flatnonzero(u == np.repeat(np.minimum.reduceat(u, starts), lengths))
        run = np.repeat(np.arange(len(starts)), lengths)[at_min]
        keep = at_min[np.r_[True, run[1:] != run[:-1]]]
        return cand.iloc[keep].reset_index(drop=True)
    # Sort by person and year, then by the random number within.
    order = np.lexsort((u, group))
    c = code[order]
    y = year[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (c[1:] != c[:-1]) | (y[1:] != y[:-1])
    keep = np.sort(order[first])
    return cand.iloc[keep].reset_index(drop=True)


def entry_uniforms(key: int, person_ids: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) from (key, person id, day), the same in every process.

    SipHash of the id under a 128-bit key made from ``key`` (pandas' ``hash_array``, not
    Python's salted ``hash``), mixed with the day by a second hash of the integers.

    Examples
    --------
    >>> u = entry_uniforms(7, np.array(["P1", "P2", "P1"], dtype=object), np.array([5, 5, 6]))
    >>> bool(((0 <= u) & (u < 1)).all()), bool(u[0] != u[2])
    (True, True)
    >>> bool((entry_uniforms(7, np.array(["P1"], dtype=object), np.array([5])) == u[0]).all())
    True
    """
    hash_key = f"{key % 2**64:016x}"  # 16 characters: SipHash's 128-bit key
    ids = np.asarray(person_ids, dtype=object)
    # A person's entries come together: each run of one id is hashed once.
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.arange(0)
    h = np.repeat(
        pd.util.hash_array(ids[starts], hash_key=hash_key, categorize=False),
        np.diff(np.append(starts, len(ids))),
    )
    mixed = h ^ (np.asarray(days, dtype=np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    h2 = pd.util.hash_array(mixed)
    return (h2 >> np.uint64(11)).astype(np.float64) / float(2**53)
