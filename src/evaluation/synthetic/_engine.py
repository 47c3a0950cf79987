"""The time-stepped simulation of one world: offending, custody, programme, exits.

Pure numpy: arrays over persons, a Python loop over time steps only (and, within a step,
over the few rounds needed when a person offends more than once in it). All randomness
after the population is drawn comes from the counter-based generator in `_rng`, keyed by
the person's global id, so a subset of persons simulated alone follows exactly the paths
it follows in the full population, and a world without the programme shares every draw
with the world with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from evaluation.synthetic import _rng as R
from evaluation.synthetic._config import SimulationConfig, site_log_hr
from evaluation.synthetic._population import DAYS_PER_YEAR, Population

# Custody kinds and episode reasons as integer codes inside the engine.
REMAND, PRISON, YOUTH_CARE = 0, 1, 2
COMPLETED, DROPPED_OUT, MOVED = 1, 2, 3
# Programme status: never, in, after completion, after dropout, after moving.
S_NONE, S_IN, S_DONE, S_DROPPED, S_MOVED = 0, 1, 2, 3, 4
DEATH, EMIGRATION = 1, 2

# Offence categories (CATEGORIES order) by affiliation: gang, network, peripheral.
_CATEGORY_P = np.array(
    [
        [0.28, 0.15, 0.30, 0.15, 0.12],
        [0.22, 0.10, 0.30, 0.22, 0.16],
        [0.15, 0.05, 0.30, 0.30, 0.20],
    ]
)
# Log-odds of a custodial sanction by category, before the record and age terms.
_CUSTODIAL_LOGIT = np.array([-1.6, -1.3, -2.2, -2.6, -3.0])
# Non-custodial sanctions: probation, fine, waiver, other (SANCTIONS codes 1, 3, 4, 5).
_NONCUSTODIAL_CODES = np.array([1, 3, 4, 5])
_NONCUSTODIAL_P_ADULT = np.array([0.32, 0.43, 0.10, 0.15])
_NONCUSTODIAL_P_YOUNG = np.array([0.20, 0.35, 0.35, 0.10])
# Referral routes (REFERRALS order) for released persons and for others.
_REFERRAL_P_RELEASED = np.array([0.15, 0.10, 0.60, 0.10, 0.05])
_REFERRAL_P_OTHER = np.array([0.40, 0.30, 0.00, 0.22, 0.08])
# Log-normal sigmas of the planned times from start to completion, dropout and moving.
_EPISODE_SIGMAS = np.array([0.0, 0.35, 0.9, 0.7])


def _categorical(u: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.int64]:
    """Inverse-CDF draw per row: ``p`` is (k,) or (n, k) of probabilities."""
    cum = np.cumsum(p, axis=-1)
    cum = cum / cum[..., -1:]
    if cum.ndim == 1:
        return np.minimum(np.searchsorted(cum, u, side="right"), cum.size - 1)
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)


def _episode_probabilities(
    drop_logit: NDArray[np.float64], c: SimulationConfig
) -> NDArray[np.float64]:
    """Probabilities of the planned ending (completed, dropped out, moved), one row each."""
    p_drop = 1 / (1 + np.exp(-drop_logit))
    p_move = np.full(p_drop.size, c.moved_probability)
    p_done = np.maximum(1 - p_drop - p_move, 0.0)
    probs = np.column_stack([p_done, p_drop, p_move])
    return probs / probs.sum(axis=1, keepdims=True)


def _planned_dropout_hazard(
    tau: NDArray[np.float64], probs: NDArray[np.float64], c: SimulationConfig
) -> NDArray[np.float64]:
    """Cause-specific hazard of dropping out ``tau`` days after the start, per day.

    The planned ending is a mixture (`_enter`): dropout with probability ``probs[:, 1]``
    after a log-normal time, competing with completion and moving. Among episodes still
    running at ``tau``, dropouts happen at ``p_d f_d(tau) / S(tau)``, ``S`` the share of
    episodes whose planned end is after ``tau``.
    """
    medians = np.array([c.completion_median_days, c.dropout_median_days, c.moved_median_days])
    log_tau = np.log(np.maximum(tau, 1e-9))[:, None]
    z = (log_tau - np.log(medians)[None, :]) / _EPISODE_SIGMAS[None, 1:]
    still = 1.0 - np.sum(probs * ndtr(z), axis=1)
    density = np.exp(-0.5 * z[:, 1] ** 2) / (np.sqrt(2 * np.pi) * _EPISODE_SIGMAS[2])
    density = density / np.maximum(tau, 1e-9)
    return np.asarray(probs[:, 1] * density / np.maximum(still, 1e-12), dtype=np.float64)


def _lognormal(
    z: NDArray[np.float64],
    median: float | NDArray[np.float64],
    sigma: float | NDArray[np.float64],
) -> NDArray[np.float64]:
    """Log-normal values from standard normal draws ``z``."""
    return np.asarray(median * np.exp(sigma * z), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class World:
    """Everything one run produced; times in days since ``study_start`` (floats)."""

    n: int
    exit_time: NDArray[np.float64]
    exit_kind: NDArray[np.int64]
    off_person: NDArray[np.int64]
    off_time: NDArray[np.float64]
    off_decision: NDArray[np.float64]
    off_category: NDArray[np.int64]
    off_sanction: NDArray[np.int64]
    cus_person: NDArray[np.int64]
    cus_start: NDArray[np.float64]
    cus_end: NDArray[np.float64]
    cus_kind: NDArray[np.int64]
    ep_person: NDArray[np.int64]
    ep_number: NDArray[np.int64]
    ep_contact: NDArray[np.float64]
    ep_start: NDArray[np.float64]
    ep_latent_end: NDArray[np.float64]
    ep_latent_reason: NDArray[np.int64]
    ep_referral: NDArray[np.int64]


class _Buckets:
    """Custody periods waiting to start, with the time step in which each starts.

    One pool of arrays: each step takes out the items due in it with one mask, which is
    cheaper than filing items into per-step lists when thousands arrive every step.
    """

    def __init__(self) -> None:
        self._new: list[tuple[NDArray, ...]] = []
        self._pool: tuple[NDArray, ...] | None = None

    def add(self, step: NDArray[np.int64], *cols: NDArray) -> None:
        if step.size:
            self._new.append((step, *cols))

    def pop(self, step: int) -> tuple[NDArray, ...] | None:
        parts = ([self._pool] if self._pool is not None else []) + self._new
        self._new = []
        if not parts:
            return None
        pool = (
            tuple(np.concatenate(c) for c in zip(*parts, strict=True))
            if len(parts) > 1
            else parts[0]
        )
        due = pool[0] == step
        self._pool = tuple(c[~due] for c in pool) if not due.all() else None
        if not due.any():
            return None
        return tuple(c[due] for c in pool[1:])


def simulate_world(
    pop: Population,
    config: SimulationConfig,
    key: int,
    *,
    programme: bool = True,
    beyond_study_end: bool = True,
) -> World:
    """Simulate one world for ``pop`` from ``study_start`` to ``study_end`` + horizon.

    With ``programme=False`` nobody starts the programme (the world without it); with
    ``beyond_study_end=False`` the run stops at ``study_end`` (enough for the registers).
    """
    c = config
    m = pop.pid.size
    dt = float(c.step_days)
    t_start = pd.Timestamp(c.study_start)
    end_day = float((pd.Timestamp(c.study_end) - t_start).days)
    prog_day = float((pd.Timestamp(c.programme_start) - t_start).days)
    extra = np.ceil(c.horizon_years * DAYS_PER_YEAR) if beyond_study_end else 0.0
    horizon = end_day + extra + 2 * dt
    n_steps = int(np.ceil(horizon / dt))
    pid = pop.pid

    # Fixed multipliers of the offending hazard (per day).
    aff_hr = np.array([c.gang_hr, 1.0, c.peripheral_hr])[pop.affiliation]
    base = (
        c.offence_rate
        / DAYS_PER_YEAR
        * pop.frailty
        * aff_hr
        * np.where(pop.female, c.female_hr, 1.0)
        * np.exp(c.motivation_strength * c.motivation_offending_log_hr * pop.motivation)
    )
    entry_base = (
        c.entry_rate
        / DAYS_PER_YEAR
        * np.where(pop.municipality == 9, 0.5, 1.0)  # "other" runs fewer programmes
        * np.array([1.5, 1.0, 0.6])[pop.affiliation]
        * np.exp(c.motivation_strength * c.motivation_entry_log_hr * pop.motivation)
    )
    drop_logit = np.log(c.dropout_probability / (1 - c.dropout_probability)) + (
        c.motivation_strength * c.motivation_dropout_log_or * pop.motivation
    )
    decay = np.exp(-dt * np.log(2) / (c.history_halflife_years * DAYS_PER_YEAR))
    prog_hr = np.array([1.0, c.effect_during, c.effect_after, c.effect_after_dropout, 1.0])
    # The municipality's own effect scales the hazard ratios during and after completion.
    site_hr = np.exp(site_log_hr(c, key))[pop.municipality]
    prog_site = np.array([False, True, True, False, False])
    # The programme's hazard ratio of death by status (in, after completion: see
    # SimulationConfig.programme_death_hr); with 1 no death time is touched.
    death_hr = np.array([1.0, c.programme_death_hr, c.programme_death_hr, 1.0, 1.0])
    rescale_deaths = programme and c.programme_death_hr != 1.0
    emig_rate = c.emigration_rate / DAYS_PER_YEAR
    ep_probs = _episode_probabilities(drop_logit, c)

    birth18 = pop.birth_day + 18 * DAYS_PER_YEAR
    # State. Death times are fixed in advance (and rescaled when the programme's hazard
    # ratio of death changes); emigration replaces them when it comes first.
    rem = R.exponential(key, pid, 0, R.OFFENCE_CLOCK)
    emig_rem = R.exponential(key, pid, 0, R.EMIGRATION_CLOCK)
    entry_rem = R.exponential(key, pid, 0, R.ENTRY)
    n_off = np.zeros(m, dtype=np.int64)
    hist = np.zeros(m)
    cust_end = np.full(m, -np.inf)
    exit_time = pop.death_time.copy()
    emigrated = np.zeros(m, dtype=bool)
    status = np.zeros(m, dtype=np.int64)
    pmult = np.ones(m)  # the programme's hazard ratio now in force
    dmult = np.ones(m)  # the programme's hazard ratio of death now in force
    can_enter = np.full(m, programme)
    ep_count = np.zeros(m, dtype=np.int64)
    ep_end = np.full(m, -np.inf)
    ep_reason = np.zeros(m, dtype=np.int64)
    # The episode in progress: its start, whether an offence was committed or a custody
    # period started during it, and the clock of the dropouts these trigger.
    ep_start = np.full(m, np.inf)
    ep_offended = np.zeros(m, dtype=bool)
    ep_custody = np.zeros(m, dtype=bool)
    drop_rem = np.full(m, np.inf)
    triggered: list[tuple[NDArray, ...]] = []
    activate: tuple[NDArray, ...] = ()

    buckets = _Buckets()
    offences: list[tuple[NDArray, ...]] = []
    custody: list[tuple[NDArray, ...]] = []
    episodes: list[tuple[NDArray, ...]] = []
    refresh = max(1, int(round(28 / dt)))  # age-dependent factors are updated every ~4 weeks

    for k in range(n_steps):
        t0, t1 = k * dt, (k + 1) * dt
        if k % refresh == 0:
            age = (t0 - pop.birth_day) / DAYS_PER_YEAR
            age_f = np.where(
                age < 18, 0.8, np.exp(-c.age_decline * np.maximum(age - c.age_peak, 0))
            )
            # Nobody offends before the age of criminal responsibility. Steps start on
            # whole days and birth days are whole, so age >= 15 years of 365.25 days at a
            # step start (5,479 days) is on or after the calendar 15th birthday (15 years
            # hold at most 4 leap days): no offence precedes it, as validation requires.
            base_age = base * np.where(age < 15, 0.0, age_f)
            entry_static = entry_base * np.exp(-0.03 * np.maximum(age - 18, 0))
        # The programme's effect starts at the first step after the start.
        if activate:
            pmult[activate[0]] = c.effect_during * site_hr[activate[0]]
            if rescale_deaths:
                _rescale_death(activate[0], t0, death_hr[S_IN], dmult, exit_time, emigrated)
            activate = ()
        # Episodes whose latent end has passed: the status after the programme.
        ended = np.flatnonzero(status == S_IN)
        ended = ended[ep_end[ended] <= t0]
        if ended.size:
            status[ended] = ep_reason[ended] + 1  # COMPLETED->S_DONE, DROPPED->S_DROPPED, ...
            pmult[ended] = prog_hr[status[ended]] * np.where(
                prog_site[status[ended]], site_hr[ended], 1.0
            )
            can_enter[ended] = (status[ended] == S_DROPPED) & (ep_count[ended] < c.max_episodes)
            if rescale_deaths:
                _rescale_death(ended, t0, death_hr[status[ended]], dmult, exit_time, emigrated)
        if programme:
            _triggered_dropout(t0, t1, c, ep_probs, status, ep_start, ep_end, ep_reason,
                               ep_count, ep_offended, ep_custody, drop_rem, exit_time,
                               triggered)  # fmt: skip
        a = np.maximum(t0, cust_end)
        b = np.minimum(exit_time, t1)

        # Custody due to start in this step (decisions and remand), one per person.
        new_p, new_s, new_e, new_k = _due_custody(buckets, k, t0, t1, cust_end, exit_time)
        b[new_p] = np.minimum(b[new_p], new_s)

        # Emigration happens in the community only.
        free = np.maximum(b - a, 0.0)
        q = emig_rate * free
        emig = np.flatnonzero(emig_rem < q)
        emig_rem -= q
        if emig.size:
            t_emig = a[emig] + (emig_rem[emig] + q[emig]) / emig_rate
            exit_time[emig] = t_emig
            emigrated[emig] = True
            emig_rem[emig] = np.inf  # emigration happens once
            b[emig] = t_emig
            free[emig] = t_emig - a[emig]
        keep = new_s < exit_time[new_p]
        if keep.any():
            p, s, e, kd = new_p[keep], new_s[keep], new_e[keep], new_k[keep]
            cust_end[p] = e
            custody.append((p, s, e, kd))
            during = (status[p] == S_IN) & (s >= ep_start[p]) & (s < ep_end[p])
            ep_custody[p[during]] = True

        hist *= decay
        lam = base_age * (1 + c.history_effect * np.minimum(hist, c.history_cap)) * pmult

        if programme and prog_day <= t0 <= end_day:
            hz = entry_static * (1 + 0.25 * np.minimum(hist, 4.0))
            hz = np.where(status == S_DROPPED, hz * c.reentry_hr, hz)
            eligible = can_enter & (birth18 <= t0) & (a == t0) & (free > 0)
            q = np.where(eligible, hz * free, 0.0)
            enter = np.flatnonzero(eligible & (entry_rem < q))
            if enter.size:
                start = a[enter] + entry_rem[enter] / hz[enter]
            entry_rem -= q
            if enter.size:
                _enter(enter, start, t0, pop, c, key, prog_day, end_day, drop_logit, cust_end,
                       status, ep_count, ep_end, ep_reason, episodes)  # fmt: skip
                can_enter[enter] = False
                entry_rem[enter] = R.exponential(key, pid[enter], ep_count[enter], R.ENTRY)
                ep_start[enter] = np.minimum(start, end_day + 0.999)  # as _enter records it
                ep_offended[enter] = False
                ep_custody[enter] = False
                drop_rem[enter] = R.exponential(
                    key, pid[enter], ep_count[enter] - 1, R.DROPOUT_CLOCK
                )
                activate = (enter,)

        # Offences in the community interval [a, b): the first round over everyone, then
        # rounds over those who offended (a person may offend twice in a step).
        with np.errstate(divide="ignore"):
            t_ev = a + rem / lam
        rem -= lam * free
        idx = np.flatnonzero(t_ev < b)
        te, bb, lam_i = t_ev[idx], b[idx], lam[idx]
        ev_idx, ev_t, ev_j = [], [], []
        while idx.size:
            ev_idx.append(idx)
            ev_t.append(te)
            ev_j.append(n_off[idx].copy())
            old = 1 + c.history_effect * np.minimum(hist[idx], c.history_cap)
            hist[idx] += 1.0
            new = 1 + c.history_effect * np.minimum(hist[idx], c.history_cap)
            lam_i = lam_i * new / old
            n_off[idx] += 1
            clock = R.exponential(key, pid[idx], n_off[idx], R.OFFENCE_CLOCK)
            t_ev = te + clock / lam_i
            ev = t_ev < bb
            quiet = ~ev
            rem[idx[quiet]] = clock[quiet] - lam_i[quiet] * (bb[quiet] - te[quiet])
            idx, te, bb, lam_i = idx[ev], t_ev[ev], bb[ev], lam_i[ev]
        if ev_idx:
            if len(ev_idx) > 1:
                ev_idx, ev_t, ev_j = ([np.concatenate(x)] for x in (ev_idx, ev_t, ev_j))
            _offend(ev_idx[0], ev_t[0], ev_j[0], t1, pop, c, key, buckets, offences)
            who, when = ev_idx[0], ev_t[0]
            during = (status[who] == S_IN) & (when >= ep_start[who]) & (when < ep_end[who])
            ep_offended[who[during]] = True

    horizon_end = n_steps * dt
    exit_kind = np.where(emigrated, EMIGRATION, np.where(exit_time < horizon_end, DEATH, 0))
    exit_time = np.where(exit_kind > 0, exit_time, np.inf)

    def cat(parts: list[tuple[NDArray, ...]], i: int, dtype: type) -> NDArray:
        if not parts:
            return np.zeros(0, dtype=dtype)
        return np.concatenate([p[i] for p in parts]).astype(dtype)

    ep_latent_end = cat(episodes, 4, float)
    ep_latent_reason = cat(episodes, 5, np.int64)
    if triggered:
        # A triggered dropout replaces the planned end of that episode (person, number).
        ep_p, ep_n = cat(episodes, 0, np.int64), cat(episodes, 1, np.int64)
        tp, tn, tt = (cat(triggered, i, t) for i, t in ((0, np.int64), (1, np.int64), (2, float)))
        width = c.max_episodes + 1
        keys = ep_p * width + ep_n
        order = np.argsort(keys, kind="stable")
        at = order[np.searchsorted(keys[order], tp * width + tn)]
        ep_latent_end[at] = tt
        ep_latent_reason[at] = DROPPED_OUT
    cs, ce = cat(custody, 1, float), cat(custody, 2, float)
    cp = cat(custody, 0, np.int64)
    ce = np.minimum(ce, exit_time[cp])  # death in custody ends the period
    return World(
        n=m,
        exit_time=exit_time,
        exit_kind=exit_kind,
        off_person=cat(offences, 0, np.int64),
        off_time=cat(offences, 1, float),
        off_decision=cat(offences, 2, float),
        off_category=cat(offences, 3, np.int64),
        off_sanction=cat(offences, 4, np.int64),
        cus_person=cp,
        cus_start=cs,
        cus_end=ce,
        cus_kind=cat(custody, 3, np.int64),
        ep_person=cat(episodes, 0, np.int64),
        ep_number=cat(episodes, 1, np.int64),
        ep_contact=cat(episodes, 2, float),
        ep_start=cat(episodes, 3, float),
        ep_latent_end=ep_latent_end,
        ep_latent_reason=ep_latent_reason,
        ep_referral=cat(episodes, 6, np.int64),
    )


def _rescale_death(
    idx: NDArray[np.int64],
    t: float,
    hr: float | NDArray[np.float64],
    dmult: NDArray[np.float64],
    exit_time: NDArray[np.float64],
    emigrated: NDArray[np.bool_],
) -> None:
    """The hazard ratio of death of persons ``idx`` changes to ``hr`` at time ``t``.

    Death has a constant hazard times the ratio in force, so the cumulative hazard left
    after ``t`` (the unit-exponential clock of the person's death time) is kept and only
    the speed changes: the death time ``T > t`` becomes ``t + (T - t) * old / new``. The
    persons still alive and in Sweden at ``t`` only; no random number is drawn.
    """
    hr = np.broadcast_to(np.asarray(hr, dtype=np.float64), idx.shape)
    live = (exit_time[idx] > t) & ~emigrated[idx]
    p, new = idx[live], hr[live]
    change = new != dmult[p]
    p, new = p[change], new[change]
    exit_time[p] = t + (exit_time[p] - t) * dmult[p] / new
    dmult[p] = new


def _due_custody(buckets, k, t0, t1, cust_end, exit_time):
    """Custody periods starting in step ``k``: at most one per person, carried forward.

    A custodial sanction decided while the person is in custody starts the day after the
    release (carried forward); remand is dropped when the person is already in custody.
    Later periods of the same person wait for the next step. Returns person, start, end
    and kind of the periods that start in this step.
    """
    items = buckets.pop(k)
    empty = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    if items is None:
        return empty
    p, s, dur, cap, kd = items
    alive = s < exit_time[p]
    p, s, dur, cap, kd = p[alive], s[alive], dur[alive], cap[alive], kd[alive]
    if p.size == 0:
        return empty
    order = np.lexsort((s, p))
    p, s, dur, cap, kd = p[order], s[order], dur[order], cap[order], kd[order]
    first = np.ones(p.size, dtype=bool)
    first[1:] = p[1:] != p[:-1]
    # Later periods of the same person go to the next step, where they are carried forward.
    rest = ~first
    if rest.any():
        buckets.add(
            np.full(int(rest.sum()), k + 1), p[rest], s[rest], dur[rest], cap[rest], kd[rest]
        )
    p, s, dur, cap, kd = p[first], s[first], dur[first], cap[first], kd[first]
    in_custody = cust_end[p] >= s
    drop = (kd == REMAND) & in_custody
    p, s, dur, cap, kd = p[~drop], s[~drop], dur[~drop], cap[~drop], kd[~drop]
    s_adj = np.maximum(np.maximum(s, cust_end[p] + 1.0), t0)
    later = s_adj >= t1
    if later.any():
        step = np.floor(s_adj[later] / (t1 - t0)).astype(np.int64)
        buckets.add(step, p[later], s_adj[later], dur[later], cap[later], kd[later])
    now = ~later
    p, s_adj, dur, cap, kd = p[now], s_adj[now], dur[now], cap[now], kd[now]
    e = np.minimum(s_adj + dur, cap)
    ok = e > s_adj
    return p[ok], s_adj[ok], e[ok], kd[ok]


def _offend(idx, te, j, t1, pop, c, key, buckets, offences) -> None:
    """Record offences number ``j`` of persons ``idx`` at ``te``; schedule their custody."""
    g = pop.pid[idx]
    dt = float(c.step_days)
    age = (te - pop.birth_day[idx]) / DAYS_PER_YEAR
    young = age < 18
    streams = (R.CATEGORY, R.SANCTION, R.SANCTION_KIND, R.LAG, R.CUSTODY_LENGTH, R.REMAND)
    u_cat, u_sanction, u_kind, u_lag, u_length, u_remand = R.uniforms(key, g, j, streams)
    cat = _categorical(u_cat, _CATEGORY_P[pop.affiliation[idx]])
    logit = _CUSTODIAL_LOGIT[cat] + 0.25 * np.minimum(j, 10) - 0.5 * young
    custodial = u_sanction < 1 / (1 + np.exp(-logit))
    nonc = np.where(
        young,
        _NONCUSTODIAL_CODES[_categorical(u_kind, _NONCUSTODIAL_P_YOUNG)],
        _NONCUSTODIAL_CODES[_categorical(u_kind, _NONCUSTODIAL_P_ADULT)],
    )
    sanction = np.where(custodial, np.where(young, 2, 0), nonc)  # youth_care=2, prison=0
    lag = np.maximum(_lognormal(ndtri(u_lag), c.lag_median_days, c.lag_sigma), 2 * dt)
    decision = te + lag
    offences.append((idx, te, decision, cat, sanction))

    serious = np.where(cat <= 1, 1.5, 1.0)  # violence and weapons get longer sentences
    median = np.where(young, c.youth_care_median_days, c.prison_median_days) * serious
    length = np.maximum(_lognormal(ndtri(u_length), median, c.custody_sigma), 2 * dt)
    if custodial.any():
        cu = np.flatnonzero(custodial)
        kind = np.where(young[cu], YOUTH_CARE, PRISON)
        step = np.floor(decision[cu] / dt).astype(np.int64)
        buckets.add(step, idx[cu], decision[cu], length[cu], np.full(cu.size, np.inf), kind)

    p_remand = np.where(custodial, c.remand_probability, c.remand_probability / 10)
    remand = u_remand < p_remand
    if remand.any():
        rm = np.flatnonzero(remand)
        delay = 1.0 + 5.0 * R.exponential(key, g[rm], j[rm], R.REMAND_DELAY)
        # Remand arrests in the current step take effect from the next step boundary.
        start = np.maximum(te[rm] + delay, t1)
        dur = _lognormal(R.normal(key, g[rm], j[rm], R.REMAND_LENGTH), c.remand_median_days, 0.6)
        capv = decision[rm] - 1.0
        ok = start < capv
        step = np.floor(start[ok] / dt).astype(np.int64)
        buckets.add(step, idx[rm][ok], start[ok], dur[ok], capv[ok], np.full(int(ok.sum()), REMAND))


def _enter(
    idx, start, t0, pop, c, key, prog_day, end_day, drop_logit, cust_end,
    status, ep_count, ep_end, ep_reason, episodes,
) -> None:  # fmt: skip
    """Start episodes for persons ``idx`` at ``start``: how and when each will end."""
    g = pop.pid[idx]
    start = np.minimum(start, end_day + 0.999)  # starts fall on or before study_end
    e = ep_count[idx]
    probs = _episode_probabilities(drop_logit[idx], c)
    reason = 1 + _categorical(R.uniform(key, g, e, R.EPISODE_REASON), probs)
    medians = np.array([0.0, c.completion_median_days, c.dropout_median_days, c.moved_median_days])
    z = R.normal(key, g, e, R.EPISODE_TIME)
    length = np.maximum(_lognormal(z, medians[reason], _EPISODE_SIGMAS[reason]), 1.0)
    contact = start - _lognormal(R.normal(key, g, e, R.CONTACT), 25.0, 0.6)
    floor_contact = np.maximum(prog_day, np.where(e > 0, np.floor(ep_end[idx]) + 1.0, prog_day))
    contact = np.minimum(np.maximum(contact, floor_contact), start)
    released = cust_end[idx] > t0 - 90
    u_ref = R.uniform(key, g, e, R.REFERRAL)
    referral = np.where(
        released,
        _categorical(u_ref, _REFERRAL_P_RELEASED),
        _categorical(u_ref, _REFERRAL_P_OTHER),
    )
    episodes.append((idx, e, contact, start, start + length, reason, referral))
    status[idx] = S_IN
    ep_count[idx] += 1
    ep_end[idx] = start + length
    ep_reason[idx] = reason


def _triggered_dropout(
    t0, t1, c, ep_probs, status, ep_start, ep_end, ep_reason, ep_count,
    ep_offended, ep_custody, drop_rem, exit_time, triggered,
) -> None:  # fmt: skip
    """Dropouts caused by an offence or a custody period during the episode, in [t0, t1).

    From the step after an offence committed during the episode (or the start of a custody
    period during it) the hazard of dropping out is the planned one times
    ``dropout_offence_hr`` (times ``dropout_custody_hr``; both when both happened). The
    planned ending already holds the planned hazard, so an extra clock runs at
    ``(hr - 1)`` times it; when it rings first the episode ends as a dropout then.
    """
    who = np.flatnonzero((status == S_IN) & (ep_offended | ep_custody) & (ep_end > t0))
    if who.size == 0:
        return
    hr = np.where(ep_offended[who], c.dropout_offence_hr, 1.0) * np.where(
        ep_custody[who], c.dropout_custody_hr, 1.0
    )
    tau = 0.5 * (t0 + t1) - ep_start[who]
    rate = (hr - 1.0) * _planned_dropout_hazard(tau, ep_probs[who], c)
    span = np.maximum(np.minimum(np.minimum(t1, ep_end[who]), exit_time[who]) - t0, 0.0)
    q = rate * span
    ring = (drop_rem[who] < q) & (rate > 0)
    if ring.any():
        p = who[ring]
        t = t0 + drop_rem[p] / rate[ring]
        ep_end[p] = t
        ep_reason[p] = DROPPED_OUT
        drop_rem[p] = np.inf
        triggered.append((p, ep_count[p] - 1, t))
    drop_rem[who[~ring]] -= q[~ring]
