"""Comparison groups with a proper time zero: sequential trials and risk-set matching.

The target trial: adults (18+ by default) alive, in Sweden, not in custody and never in the
programme before, on a given date in the entry period; strategy "start the programme now"
against "do not start now"; outcome the first new offence (committed after time zero)
that leads to a lagföring, with death and emigration competing; follow-up from time zero
to the outcome, death, emigration or the last usable date (``study_end`` minus the
definition's buffer, so that every counted offence had the whole buffer to be decided).

Time zero is the same kind of moment for both groups: a participant's programme start,
and for comparisons a start date of a participant in the same trial, drawn at random,
on which the comparison was eligible too. Nobody contributes time before time zero, so
there is no immortal time.

Risk-set matching on the propensity score is an estimation step: this module samples the
risk sets, and :func:`evaluation.effects.comparison_cohort` matches within them (it passes
the matching in as ``select``), so that cohort building stays below the estimators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from evaluation._errors import DefinitionError
from evaluation._keyed import NEVER, KeyedDates, from_days, plus_years, to_days
from evaluation.cohorts._cohort import FLOW_COLUMNS, Cohort
from evaluation.cohorts.covariates import covariates_at, person_codes, whole_years
from evaluation.cohorts.definitions import RelapseDefinition, resolve_definition
from evaluation.cohorts.entry import custody_intervals, exit_days, study_days

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = ["MUNICIPALITY_GROUPS", "PARTICIPANT_REASONS", "comparison_cohort"]

#: Municipalities of the national reference group keep their name; the rest are "other".
MUNICIPALITY_GROUPS: dict[str, str] = {
    "Stockholm": "Stockholm",
    "Botkyrka": "Stockholm",
    "Uppsala": "Stockholm",
    "Malmö": "Skåne",
    "Landskrona": "Skåne",
    "Göteborg": "Västra Götaland",
    "Borås": "Västra Götaland",
    "Örebro": "Mellansverige",
    "Borlänge": "Mellansverige",
}

Design = Literal["sequential-trials", "risk-set-matching"]


def _month_id(days: np.ndarray) -> np.ndarray:
    """Calendar month of day numbers as YYYYMM integers."""
    m = from_days(days).astype("datetime64[M]").astype(np.int64)
    return (1970 + m // 12) * 100 + m % 12 + 1


class _Eligibility:
    """Vectorised eligibility of (person, day) pairs for the target trial."""

    def __init__(self, registers: Registers, min_age: int) -> None:
        persons = registers.persons
        self.n = len(persons)
        self.birth = to_days(persons["birth_date"])
        self.exit_day, self.exit_code = exit_days(registers)
        self.custody = custody_intervals(registers)
        self.min_age = min_age
        prog = registers.programme
        first = np.full(self.n, NEVER, dtype=np.int64)
        self.first_episode = np.full(self.n, -1, dtype=np.int64)
        if len(prog):
            pc = person_codes(persons, prog["person_id"], table="programme")
            sd = to_days(prog["start_date"])
            order = np.lexsort((sd, pc))[::-1]  # the earliest episode is written last
            first[pc[order]] = sd[order]
            self.first_episode[pc[order]] = order
        self.first_start = first

    def reasons(self, code: np.ndarray, day: np.ndarray, *, participant: bool) -> np.ndarray:
        """0 if eligible on ``day``, else the code of the first failed rule (see REASONS)."""
        r = np.zeros(len(code), dtype=np.int64)
        age = whole_years(self.birth[code], day)
        in_custody, _ = self.custody.containing(code, day)
        checks = [
            day >= self.exit_day[code],  # 1: died or emigrated
            age < self.min_age,  # 2: under the age limit
            in_custody,  # 3: in custody
        ]
        if not participant:
            checks.append(self.first_start[code] <= day)  # 4: already started the programme
        for i, bad in enumerate(checks, start=1):
            r = np.where((r == 0) & bad, i, r)
        return r


PARTICIPANT_REASONS = {
    "before": "started before the entry period",
    "after": "started after the last usable date (study_end minus buffer)",
    1: "died or emigrated before the start",
    2: "under the age limit at the start",
    3: "in custody at the start",
}


def comparison_cohort(
    registers: Registers,
    *,
    design: Design = "sequential-trials",
    definition: str | RelapseDefinition = "bra-final",
    comparisons_per_participant: float = 10.0,
    censor_at_programme_start: bool = True,
    min_age: int = 18,
    entry_from: str | pd.Timestamp | None = None,
    entry_to: str | pd.Timestamp | None = None,
    select: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    rng: np.random.Generator | int | None = None,
) -> Cohort:
    """Participants and comparisons at a common time zero, with outcomes and covariates.

    Parameters
    ----------
    registers
        Validated registers.
    design
        ``"sequential-trials"``: one trial per calendar month; who starts the programme
        that month (for the first time, while eligible) is a participant with time zero at
        the start; comparisons are persons eligible on a start date of that month's
        participants, sampled with one probability for all person-trials so that about
        ``comparisons_per_participant`` comparisons per participant are kept (a constant
        sampling fraction only shifts the propensity model's intercept). One person can be
        a comparison in several trials and a participant later: analyses must cluster by
        ``person_id``. ``"risk-set-matching"``: each participant is its own trial; a
        sample of the eligible persons on its start date is its risk set (about 5 times
        ``comparisons_per_participant`` per participant). Matching within the risk sets is
        done by ``select``; :func:`evaluation.effects.comparison_cohort` matches on the
        propensity score.
    definition
        Relapse definition (its buffer sets the last usable date, its ``counts`` which
        offences count).
    comparisons_per_participant
        Sampling target for comparisons (for risk-set matching, the size of each risk set
        sampled before matching is 5 times this).
    censor_at_programme_start
        Censor a comparison at its own later programme start (the default: the
        comparison strategy is "never start"; the truth of the synthetic data is defined
        against a world without the programme). With False the comparison arm is "not
        now" (an intention-to-treat comparison that keeps later starters).
    min_age
        Lowest age at time zero (the police programme is for adults).
    entry_from, entry_to
        Entry period; by default from the later of ``study_start`` plus the definition's
        look-back (5 years) and the first programme start, to the last usable date.
    select
        A step applied to the person-trials before the flow is counted: it returns the
        rows to keep (and may add columns). Participants it drops are counted in the flow
        as "without a comparison within the caliper". The default keeps every row.
    rng
        Seed or generator for the sampling of comparisons and their dates.

    Returns
    -------
    Cohort
        ``data``: one row per person and trial with ``trial``, ``person_id``, ``treated``
        (1 participant, 0 comparison), ``group``, ``entry_date`` (time zero),
        ``duration_days``, ``event`` (0 censored, 1 relapse, 2 death, 3 emigration),
        ``episode_id``, ``referral``, ``exit_reason`` and ``dropout_days`` (days from the
        start to the end of a dropped-out first episode) for participants, the covariates
        of :func:`evaluation.cohorts.covariates_at`, ``municipality_group``,
        ``days_since_last_decision_capped``, ``no_prior_decision``, and what ``select``
        adds. ``flow`` accounts for every
        person: participant, started but not eligible (by reason), comparison only, never
        drawn. ``meta`` has the design, the sampling fraction and the dates.

    Raises
    ------
    DefinitionError
        For an unknown design or when no participant is eligible.

    References
    ----------
    Hernán MA, Robins JM (2016). Using big data to emulate a target trial when a randomized
    trial is not available. American Journal of Epidemiology 183:758-764.
    Li YP, Propert KJ, Rosenbaum PR (2001). Balanced risk set matching. JASA 96:870-882.

    Examples
    --------
    >>> from evaluation import load_synthetic
    >>> c = comparison_cohort(load_synthetic(), rng=1)
    >>> sorted(c.data["treated"].unique().tolist()), c.meta["design"]
    ([0, 1], 'sequential-trials')
    """
    if design not in ("sequential-trials", "risk-set-matching"):
        raise DefinitionError(
            f"design must be 'sequential-trials' or 'risk-set-matching', not {design!r}"
        )
    if comparisons_per_participant <= 0:
        raise DefinitionError("comparisons_per_participant must be positive")
    gen = np.random.default_rng(rng)
    d = resolve_definition(definition)
    s_day, e_day = study_days(registers)
    last_usable = int(plus_years(np.array([e_day + 1]), -d.buffer_years)[0])
    elig = _Eligibility(registers, min_age)
    n = elig.n
    first_any = int(elig.first_start.min()) if (elig.first_start < NEVER).any() else NEVER
    lo = max(int(plus_years(np.array([s_day]), d.lookback_years)[0]), first_any)
    if entry_from is not None:
        lo = max(lo, int(to_days(np.array([pd.Timestamp(entry_from)]))[0]))
    hi = last_usable - 1
    if entry_to is not None:
        hi = min(hi, int(to_days(np.array([pd.Timestamp(entry_to)]))[0]))

    # Participants: first start in [lo, hi] and eligible on that day.
    started = np.flatnonzero(elig.first_start < NEVER)
    sday = elig.first_start[started]
    p_status = np.zeros(n, dtype=object)
    p_status[:] = None
    in_period = (sday >= lo) & (sday <= hi)
    for key, mask in (("before", sday < lo), ("after", sday > hi)):
        p_status[started[mask]] = PARTICIPANT_REASONS[key]
    r = elig.reasons(started[in_period], sday[in_period], participant=True)
    for code_r in (1, 2, 3):
        p_status[started[in_period][r == code_r]] = PARTICIPANT_REASONS[code_r]
    part = started[in_period][r == 0]
    part_day = elig.first_start[part]
    if len(part) == 0:
        raise DefinitionError(
            "no programme participant is eligible in the entry period; check the entry "
            "dates, the age limit and the definition's buffer"
        )
    trial_of_part = _month_id(part_day) if design == "sequential-trials" else np.arange(len(part))

    # Sampling fraction: a pilot sample estimates the share of eligible person-trials.
    trials, first_idx = np.unique(trial_of_part, return_index=True)
    dates_by_trial = {t: part_day[trial_of_part == t] for t in trials}
    target = comparisons_per_participant * (5 if design == "risk-set-matching" else 1)
    pilot = 20_000
    pc = gen.integers(0, n, pilot)
    pt = gen.integers(0, len(trials), pilot)
    pday = np.array([gen.choice(dates_by_trial[trials[j]]) for j in pt[:2000]])
    share = float(np.mean(elig.reasons(pc[:2000], pday, participant=False) == 0))
    expected = max(share, 1e-3) * n * len(trials)
    fraction = min(1.0, target * len(part) / expected)

    c_code_parts, c_day_parts, c_trial_parts = [], [], []
    for t in trials:
        dates = dates_by_trial[t]
        # Number of draws from the binomial, then distinct persons: same law as a Bernoulli
        # per person but without n random numbers per trial.
        m = gen.binomial(n, fraction)
        who = gen.choice(n, size=m, replace=False) if m < n else np.arange(n)
        day = dates[gen.integers(0, len(dates), m)]
        ok = elig.reasons(who, day, participant=False) == 0
        c_code_parts.append(who[ok])
        c_day_parts.append(day[ok])
        c_trial_parts.append(np.full(int(ok.sum()), t))
    c_code = np.concatenate(c_code_parts)
    c_day = np.concatenate(c_day_parts)
    c_trial = np.concatenate(c_trial_parts)

    code = np.concatenate([part, c_code])
    t0 = np.concatenate([part_day, c_day])
    treated = np.concatenate([np.ones(len(part), np.int64), np.zeros(len(c_code), np.int64)])
    trial = np.concatenate([trial_of_part, c_trial])
    data = _outcomes(registers, elig, d, code, t0, treated, last_usable, censor_at_programme_start)
    data.insert(0, "trial", trial)
    data = data.sort_values(["trial", "treated", "person_id"], ascending=[True, False, True])
    data = data.reset_index(drop=True)
    meta: dict[str, Any] = {
        "design": design,
        "study_start": str(pd.Timestamp(registers.study_start).date()),
        "study_end": str(pd.Timestamp(registers.study_end).date()),
        "entry_from": str(pd.Timestamp(from_days(np.array([lo]))[0]).date()),
        "entry_to": str(pd.Timestamp(from_days(np.array([hi]))[0]).date()),
        "last_usable": str(pd.Timestamp(from_days(np.array([last_usable]))[0]).date()),
        "sampling_fraction": fraction,
        "censor_at_programme_start": censor_at_programme_start,
        "min_age": min_age,
    }
    if select is not None:
        data = select(data).reset_index(drop=True)
    flow = _flow(n, p_status, part, data, registers)
    return Cohort(data=data, flow=flow, definition=d, meta=meta)


def _outcomes(
    registers: Registers,
    elig: _Eligibility,
    d: RelapseDefinition,
    code: np.ndarray,
    t0: np.ndarray,
    treated: np.ndarray,
    last_usable: int,
    censor_at_start: bool,
) -> pd.DataFrame:
    """Follow-up from time zero: first relapse offence, death, emigration or censoring."""
    off = registers.offences
    ocode = person_codes(registers.persons, off["person_id"], table="offences")
    oday = to_days(off["offence_date"])
    if d.counts == "prison_probation":
        keep = off["sanction"].astype(str).isin(("prison", "probation")).to_numpy()
        ocode, oday = ocode[keep], oday[keep]
    # An offence committed after time zero (the day after at the earliest); every offence in
    # the registers has been decided (lagförd) by the extraction date.
    r_day, _ = KeyedDates(ocode, oday).first_at_or_after(code, t0 + 1)
    x_day = elig.exit_day[code]
    c_day = np.full(len(code), last_usable, dtype=np.int64)
    if censor_at_start:
        later = (treated == 0) & (elig.first_start[code] > t0)
        c_day = np.where(later, np.minimum(c_day, elig.first_start[code]), c_day)
    other = np.minimum(x_day, c_day)
    is_rel = (r_day <= other) & (r_day < last_usable)
    end = np.where(is_rel, r_day, other)
    event = np.where(is_rel, 1, np.where(end == x_day, elig.exit_code[code], 0))
    pid = registers.persons["person_id"].astype(str).to_numpy()
    data = pd.DataFrame(
        {
            "person_id": pid[code],
            "treated": treated,
            "group": np.where(treated == 1, "participant", "comparison"),
            "entry_date": from_days(t0),
            "duration_days": (end - t0).astype(np.int64),
            "event": event.astype(np.int64),
        }
    )
    prog = registers.programme
    ep = np.where(treated == 1, elig.first_episode[code], -1)
    has = ep >= 0
    safe = np.where(has, ep, 0)
    for col in ("episode_id", "referral", "exit_reason"):
        vals = prog[col].astype(str).to_numpy()[safe] if len(prog) else np.full(len(code), "")
        data[col] = pd.array(np.where(has, vals, pd.NA), dtype="string")
    if len(prog):
        end_day = to_days(prog["end_date"], nat=int(NEVER))[safe]
        dropped = has & (prog["exit_reason"].astype(str).to_numpy()[safe] == "dropped_out")
    else:
        end_day = np.zeros(len(code), np.int64)
        dropped = np.zeros(len(code), bool)
    data["dropout_days"] = np.where(dropped, end_day - t0, np.nan)
    cov = covariates_at(registers, data[["person_id", "entry_date"]])
    data = pd.concat([data, cov], axis=1)
    data["municipality_group"] = data["municipality"].map(MUNICIPALITY_GROUPS).fillna("other")
    dsl = data["days_since_last_decision"]
    # Never a decision: a cap of 10 years plus an indicator keeps the column usable in a model.
    data["no_prior_decision"] = dsl.isna().astype(np.int64)
    data["days_since_last_decision_capped"] = dsl.fillna(3653.0).clip(upper=3653.0)
    data["prior_custody_5y"] = data["prior_custody_5y"].astype(np.int64)
    return data


def _flow(
    n: int, p_status: np.ndarray, part: np.ndarray, data: pd.DataFrame, registers: Registers
) -> pd.DataFrame:
    """Every person once: participant, started but excluded (by reason), comparison, neither."""
    pid = registers.persons["person_id"].astype(str).to_numpy()
    # pandas' hash-based isin: numpy's on strings is quadratic at a million persons.
    ids = pd.Index(pid)
    in_data = ids.isin(data["person_id"].unique())
    is_part = ids.isin(data.loc[data["treated"] == 1, "person_id"].unique())
    rows: list[dict[str, Any]] = [
        {"reason": "persons in registers", "n_persons": n, "n_entries": pd.NA}
    ]
    assigned = is_part.copy()
    rows.append(
        {
            "reason": "included: participant (first programme start, eligible)",
            "n_persons": int(is_part.sum()),
            "n_entries": int((data["treated"] == 1).sum()),
        }
    )
    eligible_unmatched = np.zeros(n, dtype=bool)
    eligible_unmatched[part] = True
    eligible_unmatched &= ~is_part
    if eligible_unmatched.any():
        rows.append(
            {
                "reason": "excluded: participant without a comparison within the caliper",
                "n_persons": int(eligible_unmatched.sum()),
                "n_entries": pd.NA,
            }
        )
        assigned |= eligible_unmatched
    for reason in PARTICIPANT_REASONS.values():
        mask = (p_status == reason) & ~assigned
        rows.append(
            {
                "reason": f"started, not a participant: {reason}",
                "n_persons": int(mask.sum()),
                "n_entries": pd.NA,
            }
        )
        assigned |= mask
    comp = in_data & ~assigned
    c_rows = data["treated"] == 0
    rows.append(
        {
            "reason": "included: comparison only (in one or more trials)",
            "n_persons": int(comp.sum()),
            "n_entries": int(c_rows.sum()),
        }
    )
    assigned |= comp
    rows.append(
        {
            "reason": "excluded: never eligible or not drawn as a comparison",
            "n_persons": int((~assigned).sum()),
            "n_entries": pd.NA,
        }
    )
    flow = pd.DataFrame(rows)
    flow.insert(0, "window", "")
    flow.insert(0, "stage", "persons")
    return flow[FLOW_COLUMNS]
