"""The known truth: effects from potential outcomes, retention, and Brå's relapse level.

Every number here is computed from simulated outcomes (the two worlds share their random
numbers), never from formulas. Durations are whole days between register dates, as an
analysis of the registers would compute them; for the effect and retention truths (risks
at a time since start, read off survival curves) a year is 365.25 days, so 1, 2 and 3 years
are 365, 730 and 1095 whole days, and a month is 365.25 / 12 days. Brå's share is a window
measure and uses the cohorts' calendar windows (:mod:`evaluation._counting`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaluation._counting import (
    custodial_without_release,
    days_from,
    in_window,
    measurable,
    window_deadline,
    window_end,
)
from evaluation._keyed import NEVER, KeyedIntervals, plus_years, to_days, whole_years
from evaluation.synthetic._build import Episodes, day_index, lagforda, started_episodes
from evaluation.synthetic._config import SimulationConfig
from evaluation.synthetic._engine import DEATH, EMIGRATION, PRISON, YOUTH_CARE, World
from evaluation.synthetic._population import DAYS_PER_YEAR

if TYPE_CHECKING:
    from evaluation.registers import Registers

_NEVER = np.iinfo(np.int64).max // 4
RETENTION_MONTHS = (3, 6, 12, 24)


def first_relapse(
    world: World, who: NDArray[np.int64], start: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Days from the start date to the first relapse and to exit, per person in ``who``.

    A relapse is an offence dated after the start date (``offence_date > start_date``) that
    leads to a lagföring (decided before the person's death or emigration, with decisions
    after ``study_end`` counted: the generator knows them). ``_NEVER`` where none happens.
    """
    pos = np.full(world.n, -1, dtype=np.int64)
    pos[who] = np.arange(who.size)
    start_day = day_index(start)
    ok = lagforda(world, None)
    op = world.off_person[ok]
    at = pos[op]
    sel = at >= 0
    d = day_index(world.off_time[ok][sel]) - start_day[at[sel]]
    rel = np.full(who.size, _NEVER, dtype=np.int64)
    after = d >= 1
    np.minimum.at(rel, at[sel][after], d[after])
    ex = world.exit_time[who]
    exit_d = np.where(np.isfinite(ex), day_index(ex) - start_day, _NEVER)
    return rel, exit_d


def _outcomes(rel: NDArray[np.int64], exit_d: NDArray[np.int64], horizon: int):
    """Duration and event (1 relapse, 2 exit, 0 end of horizon) over ``horizon`` days."""
    is_rel = (rel <= exit_d) & (rel <= horizon)
    is_exit = ~is_rel & (exit_d <= horizon)
    duration = np.where(is_rel, rel, np.where(is_exit, exit_d, horizon))
    event = np.where(is_rel, 1, np.where(is_exit, 2, 0))
    return duration, event


def _r(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits))


def effect_truth(
    world_with: World,
    world_without: World,
    who_with: NDArray[np.int64],
    who_without: NDArray[np.int64],
    start: NDArray[np.float64],
    config: SimulationConfig,
) -> dict[str, Any]:
    """ATT among participants from their potential outcomes with and without the programme."""
    from lifelines import CoxPHFitter

    horizon = int(np.floor(config.horizon_years * DAYS_PER_YEAR))
    tau = config.horizon_years * DAYS_PER_YEAR
    n = who_with.size
    out: dict[str, Any] = {"n_participants": int(n), "tau_days": _r(tau)}
    curves = {}
    for name, world, who in (
        ("with", world_with, who_with),
        ("without", world_without, who_without),
    ):
        rel, exit_d = first_relapse(world, who, start)
        duration, event = _outcomes(rel, exit_d, horizon)
        curves[name] = (duration, event)
        risk = {}
        for year in range(1, int(config.horizon_years) + 1):
            w = int(np.floor(year * DAYS_PER_YEAR))
            risk[str(year)] = _r(np.mean((event == 1) & (duration <= w))) if n else float("nan")
        out[f"risk_{name}"] = risk
        relapsed = event == 1
        rmst = tau - np.sum(tau - duration[relapsed]) / n if n else float("nan")
        out[f"rmst_{name}_days"] = _r(rmst)
        out[f"n_relapse_{name}"] = int(relapsed.sum())
        out[f"n_competing_{name}"] = int((event == 2).sum())
    out["risk_difference"] = {
        y: _r(out["risk_with"][y] - out["risk_without"][y]) for y in out["risk_with"]
    }
    out["rmst_difference_days"] = _r(out["rmst_with_days"] - out["rmst_without_days"])
    frame = pd.DataFrame(
        {
            "duration": np.concatenate([curves["with"][0], curves["without"][0]]),
            "relapse": np.concatenate([curves["with"][1], curves["without"][1]]) == 1,
            "programme": np.repeat([1, 0], n),
        }
    )
    hr = float("nan")
    if n and frame["relapse"].any():
        with warnings.catch_warnings():
            # lifelines warns about its own convergence heuristics; a failed fit gives nan.
            warnings.simplefilter("ignore")
            fit = CoxPHFitter().fit(frame, duration_col="duration", event_col="relapse")
        hr = float(np.exp(fit.params_["programme"]))
    out["hazard_ratio"] = _r(hr)
    return out


def site_effect_truth(
    world_with: World,
    world_without: World,
    who_with: NDArray[np.int64],
    who_without: NDArray[np.int64],
    start: NDArray[np.float64],
    municipality: NDArray[np.int64],
    log_hr_shift: NDArray[np.float64],
    config: SimulationConfig,
) -> dict[str, Any]:
    """The programme's effect per municipality: its log-HR shift and its ATT at 1 year.

    ``municipality`` is each participant's municipality index (``MUNICIPALITIES`` order);
    the ATT is computed from the same potential outcomes as :func:`effect_truth`.
    """
    from evaluation.synthetic._config import MUNICIPALITIES

    horizon = int(np.floor(config.horizon_years * DAYS_PER_YEAR))
    w1 = int(np.floor(DAYS_PER_YEAR))
    tau = config.horizon_years * DAYS_PER_YEAR
    ends = {}
    for name, world, who in (
        ("with", world_with, who_with),
        ("without", world_without, who_without),
    ):
        ends[name] = _outcomes(*first_relapse(world, who, start), horizon)
    out: dict[str, Any] = {}
    for m, name in enumerate(MUNICIPALITIES):
        sel = municipality == m
        n = int(sel.sum())
        row: dict[str, Any] = {
            "log_hr_shift": _r(log_hr_shift[m]),
            "hazard_ratio_during": _r(config.effect_during * np.exp(log_hr_shift[m])),
            "hazard_ratio_after": _r(config.effect_after * np.exp(log_hr_shift[m])),
            "n_participants": n,
        }
        risk, rmst = {}, {}
        for k, (duration, event) in ends.items():
            d, e = duration[sel], event[sel]
            risk[k] = np.mean((e == 1) & (d <= w1)) if n else float("nan")
            rmst[k] = tau - np.sum(tau - d[e == 1]) / n if n else float("nan")
        row["risk_difference_1y"] = _r(risk["with"] - risk["without"])
        row["rmst_difference_days"] = _r(rmst["with"] - rmst["without"])
        out[name] = row
    return out


def retention_truth(episodes: Episodes) -> dict[str, Any]:
    """Cumulative incidence of each way an episode ends, from latent ends (no extraction)."""
    duration = day_index(episodes.end) - day_index(episodes.start)
    n = duration.size
    out: dict[str, Any] = {"n_episodes": int(n), "months": list(RETENTION_MONTHS)}
    for code, name in ((1, "completed"), (2, "dropped_out"), (3, "moved"), (4, "died")):
        out[name] = {
            str(mo): _r(np.mean((episodes.reason == code) & (duration <= mo * DAYS_PER_YEAR / 12)))
            if n
            else float("nan")
            for mo in RETENTION_MONTHS
        }
        out[f"{name}_ever"] = _r(np.mean(episodes.reason == code)) if n else float("nan")
    return out


def bra_entry_relapse(world: World, config: SimulationConfig) -> dict[str, Any]:
    """Brå's 1-year relapse among non-participants, computed as the registers show it.

    Entry events follow the cohorts' rules (:mod:`evaluation.cohorts.entry`): one lagföring
    per person and decision date, custodial when any of its sanctions is; a custodial one
    is replaced by its release unless none follows (served in remand), which the same
    function as the cohorts' decides. Windows and buffer are those of
    :mod:`evaluation._counting`, the one definition the cohorts use too.
    """
    start = pd.Timestamp(config.study_start)
    end_day = (pd.Timestamp(config.study_end) - start).days
    first = (start + pd.DateOffset(years=5) - start).days
    last = (pd.Timestamp(config.study_end) - pd.DateOffset(years=2) - start).days
    ep = started_episodes(world, end_day)
    participant = np.zeros(world.n, dtype=bool)
    participant[ep.person] = True
    big = np.int64(1) << 20

    ok = lagforda(world, end_day)
    op = world.off_person[ok]
    o_day = day_index(world.off_time[ok])
    dec_day = day_index(world.off_decision[ok])
    custodial = np.isin(world.off_sanction[ok], (0, 2))  # prison, youth_care
    # One lagföring per person and date; custodial when any of its sanctions is.
    pair, inv = np.unique(op.astype(np.int64) * big + dec_day, return_inverse=True)
    is_cust = np.zeros(pair.size, dtype=bool)
    np.logical_or.at(is_cust, inv.ravel(), custodial)
    dec_p, dec_d = pair >> 20, pair & (big - 1)
    # Custody as the registers show it: periods started by study_end, open ones never end.
    shown = day_index(world.cus_start) <= end_day
    rel_kind = np.isin(world.cus_kind, (PRISON, YOUTH_CARE)) & shown
    cus_end = day_index(world.cus_end)
    rel_end = np.where(cus_end > end_day, int(NEVER), cus_end)[rel_kind]
    no_release = np.zeros(pair.size, dtype=bool)
    no_release[is_cust] = custodial_without_release(
        dec_p[is_cust],
        dec_d[is_cust],
        world.cus_person[rel_kind],
        day_index(world.cus_start)[rel_kind],
        rel_end,
    )
    entry = ~is_cust | no_release
    released = rel_kind & (cus_end <= end_day)
    ent_p = np.concatenate([dec_p[entry], world.cus_person[released]])
    ent_d = np.concatenate([dec_d[entry], cus_end[released]])
    # Entries on or after the day of death or emigration (a death in custody ends the
    # period) start no follow-up, as in the cohorts.
    gone = day_index(world.exit_time)
    keep = (ent_d >= first) & (ent_d <= last) & ~participant[ent_p] & (ent_d < gone[ent_p])
    # One event per person and date (a 1-D key sorts like the (person, date) pairs).
    pair = np.unique(ent_p[keep].astype(np.int64) * big + ent_d[keep])
    ent_p, ent_d = pair >> 20, pair & (big - 1)

    # The window and buffer in calendar days (bra-preliminary: 1 year, 1 year), on the
    # day numbers of the cohorts; every entry up to entry_to can be measured.
    e_abs = days_from(start, ent_d)
    w_end = window_end(e_abs, 1)
    deadline = window_deadline(w_end, 1)
    assert measurable(deadline, int(days_from(start, np.array([end_day]))[0])).all()
    span_end = w_end - e_abs + ent_d  # the window's end in days since study_start
    order = np.lexsort((o_day, op))
    sp, sd, sdec = op[order], o_day[order], dec_day[order]
    keys = sp * big + sd
    lo = np.searchsorted(keys, ent_p * big + ent_d, side="left")
    hi = np.searchsorted(keys, ent_p * big + span_end, side="left")
    base = e_abs - ent_d
    relapse = np.zeros(ent_p.size, dtype=bool)
    k = 0
    while True:
        j = lo + k
        live = j < hi
        if not live.any():
            break
        jj = j[live]
        relapse[live] |= in_window(
            e_abs[live], sd[jj] + base[live], sdec[jj] + base[live], w_end[live], deadline[live]
        )
        k += 1
    n = ent_p.size
    p = float(relapse.mean()) if n else float("nan")
    # Persons contribute several entries: the standard error is clustered by person.
    resid = np.bincount(ent_p, weights=relapse - p, minlength=world.n)
    se = float(np.sqrt(np.sum(resid**2)) / n) if n else float("nan")
    year = (np.datetime64(start.date(), "D") + ent_d.astype("timedelta64[D]")).astype(
        "datetime64[Y]"
    )
    py = np.unique(ent_p * 4096 + year.astype(np.int64), return_inverse=True)[1].ravel()
    w = 1.0 / np.bincount(py)[py]
    p_year = float(np.sum(w * relapse) / np.sum(w)) if n else float("nan")
    return {
        "relapse_1y_nonparticipants": _r(p),
        "relapse_1y_nonparticipants_se": _r(se),
        "relapse_1y_nonparticipants_one_per_year": _r(p_year),
        "n_entries": int(n),
        "n_persons_with_entry": int(np.unique(ent_p).size),
        "entry_from": str((start + pd.DateOffset(years=5)).date()),
        "entry_to": str((pd.Timestamp(config.study_end) - pd.DateOffset(years=2)).date()),
        "definition": (
            "Share of Brå entry events of non-participants (persons with no programme "
            "episode started by study_end) that are followed by a relapse within 1 year. "
            "Entry events: the release date (end_date) of a prison or youth_care custody "
            "period, or the decision_date of a lagföring (the offences of a person decided "
            "on one date) without a prison or youth_care sanction, or with one but no "
            "prison or youth_care period in progress on that date or starting from it "
            "before the person's next such decision (served in remand), dated from "
            "entry_from to entry_to and before the person's death or emigration; one "
            "event per person and date. Relapse: an offence "
            "with offence_date on or after the entry date and before the same calendar "
            "date one year later, decided after the entry date and before the same date "
            "two years after it (1-year window, 1-year buffer: bra-preliminary; a 29 "
            "February entry ends its window before 28 February; evaluation._counting "
            "defines this for the cohorts and this truth alike). Death, "
            "emigration and custody during follow-up are ignored, as Brå does. Every entry "
            "event counts ('all'); the one_per_year value weights each event by one over "
            "the person's number of events in that calendar year, the expected share when "
            "one event per person and year is drawn at random. The value is the share in "
            "an independent Monte Carlo population of bra_monte_carlo_persons persons from "
            "the same configuration (se: its Monte Carlo standard error, clustered by "
            "person)."
        ),
    }


#: The defaults of the comparison design (`evaluation.cohorts.comparison_cohort` with the
#: ``bra-final`` definition): the entry period starts 5 years (the look-back) after
#: ``study_start`` and ends the day before ``study_end`` + 1 day minus 3 years (the buffer);
#: participants are 18 or older. ``tests/test_synthetic_truth.py`` checks that the rule
#: below selects exactly the cohort's participants.
DESIGN_LOOKBACK_YEARS, DESIGN_BUFFER_YEARS, DESIGN_MIN_AGE = 5, 3, 18


def design_eligible(
    registers: Registers, who: NDArray[np.int64], start: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Which participants the comparison design follows, from the registers it reads.

    ``who`` are participants (row positions in ``persons``) and ``start`` their first
    start (days since ``study_start``). A participant is followed when the first start
    lies in the default entry period (from the later of ``study_start`` plus the
    look-back and the first programme start of anyone, to the day before the last usable
    date) and the person is, on that day, at least ``DESIGN_MIN_AGE`` in completed years,
    alive and in Sweden and not in custody (a register custody period [start, end) holds
    the day; an open one never ends): the rule of `evaluation.cohorts.comparison_cohort`,
    with the same calendar arithmetic (`evaluation._keyed`).
    """
    s_day, e_day = to_days(
        np.array([registers.study_start, registers.study_end], dtype="datetime64[ns]")
    )
    day = int(s_day) + day_index(start)
    prog = registers.programme
    first_any = int(to_days(prog["start_date"]).min()) if len(prog) else int(NEVER)
    lo = max(int(plus_years(np.array([s_day]), DESIGN_LOOKBACK_YEARS)[0]), first_any)
    hi = int(plus_years(np.array([e_day + 1]), -DESIGN_BUFFER_YEARS)[0]) - 1
    persons = registers.persons
    birth = to_days(persons["birth_date"])[who]
    ids = pd.Index(persons["person_id"])
    ex = registers.exits
    gone = np.full(len(persons), int(NEVER), dtype=np.int64)
    if len(ex):
        np.minimum.at(gone, ids.get_indexer(ex["person_id"]), to_days(ex["date"]))
    cus = registers.custody
    custody = KeyedIntervals(
        ids.get_indexer(cus["person_id"]).astype(np.int64),
        to_days(cus["start_date"]),
        to_days(cus["end_date"], nat=int(NEVER)),
    )
    in_custody, _ = custody.containing(who.astype(np.int64), day)
    return np.asarray(
        (day >= lo)
        & (day <= hi)
        & (whole_years(birth, day) >= DESIGN_MIN_AGE)
        & (day < gone[who])
        & ~in_custody,
        dtype=bool,
    )


def _lagforda_days(world: World, who: NDArray[np.int64], start: NDArray[np.float64]):
    """Per lagförd offence of a person in ``who``: its position in ``who`` and its day
    counted from that person's start date (decisions after ``study_end`` counted)."""
    pos = np.full(world.n, -1, dtype=np.int64)
    pos[who] = np.arange(who.size)
    ok = lagforda(world, None)
    at = pos[world.off_person[ok]]
    sel = at >= 0
    d = day_index(world.off_time[ok][sel]) - day_index(start)[at[sel]]
    return at[sel], d


def recurrence_mortality_truth(
    world_with: World,
    world_without: World,
    who_with: NDArray[np.int64],
    who_without: NDArray[np.int64],
    start: NDArray[np.float64],
    config: SimulationConfig,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every relapse offence, death, and relapse or death, among participants (the ATT).

    The population, time zero and the two worlds are those of `effect_truth`. Returns
    ``(recurrence, mortality)``: the expected number of relapse offences by 1, 2, 3 years
    under each arm (offences stop at death or emigration: the mean of the counting
    process stopped at the terminal event, Ghosh and Lin's marginal mean), and the risk
    of death (emigration competing) and of relapse or death, first of the two.
    """
    n = who_with.size
    years = list(range(1, int(config.horizon_years) + 1))
    days = {str(y): int(np.floor(y * DAYS_PER_YEAR)) for y in years}
    nan = float("nan")
    rec: dict[str, Any] = {"n_participants": int(n), "years": years}
    mort: dict[str, Any] = {"n_participants": int(n), "years": years}
    for name, world, who in (
        ("with", world_with, who_with),
        ("without", world_without, who_without),
    ):
        _, d = _lagforda_days(world, who, start)
        d = d[d >= 1]  # relapse offences: dated after the start date, as in effect
        rec[f"mean_relapses_{name}"] = {
            y: _r(np.sum(d <= w) / n) if n else nan for y, w in days.items()
        }
        rec[f"n_relapses_{name}"] = int(np.sum(d <= max(days.values())))
        rel, exit_d = first_relapse(world, who, start)
        kind = world.exit_kind[who]
        died = kind == DEATH
        relapse_first = rel <= exit_d
        first_of_two = np.where(relapse_first, rel, np.where(died, exit_d, _NEVER))
        mort[f"risk_death_{name}"] = {
            y: _r(np.mean(died & (exit_d <= w))) if n else nan for y, w in days.items()
        }
        mort[f"risk_relapse_or_death_{name}"] = {
            y: _r(float(np.mean(first_of_two <= w))) if n else nan for y, w in days.items()
        }
        horizon = max(days.values())
        mort[f"n_deaths_{name}"] = int(np.sum(died & (exit_d <= horizon)))
        mort[f"n_emigrations_{name}"] = int(np.sum((kind == EMIGRATION) & (exit_d <= horizon)))
    rec["mean_relapses_difference"] = {
        y: _r(rec["mean_relapses_with"][y] - rec["mean_relapses_without"][y]) for y in days
    }
    rec["rate_ratio"] = {
        y: _r(rec["mean_relapses_with"][y] / rec["mean_relapses_without"][y])
        if rec["mean_relapses_without"][y] > 0
        else nan
        for y in days
    }
    for what in ("death", "relapse_or_death"):
        mort[f"risk_{what}_difference"] = {
            y: _r(mort[f"risk_{what}_with"][y] - mort[f"risk_{what}_without"][y]) for y in days
        }
    return rec, mort


def landmark_truth(world: World, config: SimulationConfig) -> dict[str, Any]:
    """Relapse within a year of a landmark by programme status at it, in the population.

    The quantity a landmark analysis estimates (:func:`evaluation.cohorts.landmark_cohort`
    with ``bra-final``), computed in an independent population (``world``, simulated to
    ``study_end``): every episode started by ``study_end`` whose landmark (3 or 6 months,
    ``floor(months * 365.25 / 12)`` days after the start) leaves a measurable 1-year window
    with a 3-year buffer; at risk at the landmark (alive and in Sweden, the episode not
    ended by moving or death, no lagförd offence dated from the start date to the day
    before the landmark); grouped by status at the landmark (``dropped_out`` or
    ``completed_or_in``); relapse: a lagförd offence (decided by ``study_end``) dated in
    the 365 days from the landmark.
    """
    end_day = (pd.Timestamp(config.study_end) - pd.Timestamp(config.study_start)).days
    ep = started_episodes(world, end_day)
    s_day = day_index(ep.start)
    e_day = day_index(ep.end)
    ok = lagforda(world, end_day)
    op, od = world.off_person[ok], day_index(world.off_time[ok])
    big = np.int64(1) << 24
    keys = np.sort(op.astype(np.int64) * big + od)

    def n_between(lo: NDArray[np.int64], hi: NDArray[np.int64]) -> NDArray[np.int64]:
        base = ep.person.astype(np.int64) * big
        return np.searchsorted(keys, base + hi) - np.searchsorted(keys, base + lo)

    gone = day_index(world.exit_time)[ep.person]
    out: dict[str, Any] = {}
    for months in (3, 6):
        lm = s_day + int(np.floor(months * DAYS_PER_YEAR / 12))
        ended = e_day < lm
        usable = lm + 365 + int(np.floor(3 * DAYS_PER_YEAR)) <= end_day
        at_risk = (
            usable
            & (gone > lm)
            & ~(ended & np.isin(ep.reason, (3, 4)))
            & (n_between(s_day, lm) == 0)
        )
        dropped = ended & (ep.reason == 2)
        relapse = n_between(lm, lm + 365) > 0
        block: dict[str, Any] = {"n_episodes": int(at_risk.sum())}
        risks, ses = {}, {}
        for group, sel in (("completed_or_in", ~dropped), ("dropped_out", dropped)):
            sel = sel & at_risk
            k = int(sel.sum())
            p = float(relapse[sel].mean()) if k else float("nan")
            # Persons contribute several episodes: standard errors clustered by person.
            resid = np.bincount(ep.person[sel], weights=relapse[sel] - p, minlength=world.n)
            risks[group] = p
            ses[group] = float(np.sqrt(np.sum(resid**2)) / k) if k else float("nan")
            block[f"n_{group}"] = k
            block[f"risk_1y_{group}"] = _r(p)
        block["difference"] = _r(risks["dropped_out"] - risks["completed_or_in"])
        block["difference_se"] = _r(np.hypot(ses["dropped_out"], ses["completed_or_in"]))
        out[str(months)] = block
    return out
