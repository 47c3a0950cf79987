"""Synthetic registers of gang-involved persons and an exit programme, with a known truth.

The data-generating process
---------------------------
Everything is deterministic from ``rng``: the population is drawn from
``numpy.random.default_rng(rng)``; every later draw comes from a counter-based generator
keyed by (person, counter, purpose), so that the worlds with and without the programme
share their random numbers. Time runs in steps of ``step_days`` (14) days from
``study_start`` (2010-01-01) to ``study_end`` (2025-12-31) plus the 3-year horizon of the
truth; within a step, event times are continuous. Vectorised over persons (1M persons
work; see ``benchmarks/bench_synthetic.py``).

1. **Population.** ``n_persons`` persons in the nine reference municipalities (Botkyrka,
   Stockholm, Malmö, Göteborg, Uppsala, Landskrona, Örebro, Borlänge, Borås) and
   ``other``; 90 % men; ages 15–45 on 2015-01-01 (skewed young); affiliation ``gang``,
   ``network`` or ``peripheral``; a gamma frailty (mean 1) and an unobserved motivation
   (standard normal), neither of which is in the registers. Everyone is alive, in Sweden
   and in the community on ``study_start``.
2. **Offending** (only offences that lead to a lagföring are simulated). A recurrent-event
   process in community time with hazard ``offence_rate`` × frailty × age curve (none
   under 15, 0.8 at 15–17, falling by ``age_decline`` per year after ``age_peak``) × sex ×
   affiliation × (1 + ``history_effect`` × recent offending, an exponentially decaying
   count) × exp(motivation effect) × the programme's hazard ratio. Each offence gets a
   category (by affiliation), a sanction (custodial more likely for violence and weapons
   and with a longer record; youth_care instead of prison under 18) and a log-normal lag
   to the decision (median ``lag_median_days``).
3. **Custody.** Prison and youth_care start at the decision and last a log-normal time;
   remand (häktning) may start days after an offence and ends before the decision. A
   person's periods never overlap: a sentence decided while in custody starts the day after
   release (carried forward); remand of someone already in custody is dropped. No
   community offending happens in custody.
4. **Programme** (from ``programme_start``, adults 18+, in the community, at most one
   episode at a time, re-entry after dropout at ``reentry_hr`` times the hazard). The
   entry hazard rises with recent offending, gang affiliation and youth, is lower in
   ``other`` municipalities, and multiplies by exp(``motivation_strength`` ×
   ``motivation_entry_log_hr`` × motivation): unobserved confounding, since motivation
   also lowers offending. Contact precedes start by a log-normal time (median 25 days).
   At the start the episode's latent end is drawn: completed (log-normal, median 14
   months), dropped out (median 75 days: most early; less likely for the motivated) or
   moved; death and emigration before it end the episode as ``died`` / ``moved``.
   Dropping out follows offending: from the step after an offence committed during the
   episode the cause-specific hazard of dropping out is the planned one times
   ``dropout_offence_hr``, and times ``dropout_custody_hr`` after a custody period
   started during it (an extra clock, so completers are partly those who did not
   offend: immortal time in a naive completers-vs-dropouts comparison). The
   referral route depends on a recent release (``prison_service``) and otherwise is mostly
   police or social services.
5. **Programme effect.** From the first time step after the start until the episode ends,
   the offending hazard is multiplied by ``effect_during``; after completion by
   ``effect_after``; after dropout by ``effect_after_dropout`` (1: back to baseline).
   Municipalities differ: in municipality ``m`` the hazard ratios during and after
   completion are multiplied by ``exp(u_m)``, ``u_m`` normal with standard deviation
   ``effect_tau`` (0.15 on the log-hazard-ratio scale), plus ``outlier_log_hr`` in
   ``outlier_municipality`` if one is planted.
6. **Exits.** Death at a constant rate (``death_rate``, doubled for gang affiliation, halved
   for women; largely homicide) and emigration (``emigration_rate``, in the community).
   Nothing happens after an exit; offences not decided before death or emigration never
   become lagföringar.
7. **Extraction.** The registers show what is known on ``study_end``: decisions after it,
   custody starting after it and episodes starting after it are absent; open custody and
   episodes have an empty end date (episodes ``ongoing``).

The truth (``SimulatedRegisters.truth`` and ``truth.json``)
----------------------------------------------------------
Durations are whole days between dates; for ``effect`` and ``retention`` (risks at a time
since start) a year is 365.25 days (1, 2, 3 years = 365, 730, 1095 days), a month
365.25 / 12 days. ``bra`` is a window measure: its windows and buffer are the cohorts'
calendar windows, from the same function (`evaluation._counting`).

``parameters``
    The `SimulationConfig` used.
``effect``
    Among participants (persons with an episode started by ``study_end``; time zero = the
    first start date): each participant is simulated twice with the same random numbers,
    once as observed (with the programme, dropouts and re-entries included: intention to
    treat) and once never starting it. The outcome is the first offence dated after the
    start date that leads to a lagföring (decisions after ``study_end`` count; the
    generator knows them), with death and emigration as competing events, over 3 years
    with no administrative censoring. ``risk_with`` / ``risk_without``: the share with
    such a relapse within 1, 2, 3 years (cumulative incidence); ``risk_difference``: with
    minus without (the ATT). ``rmst_*_days``: relapse-free time restricted to
    ``tau_days`` = 1095.75, the integral of 1 − cumulative incidence of relapse;
    ``rmst_difference_days``: with minus without. ``hazard_ratio``: exp(coef) of a Cox
    model (lifelines, Efron ties) of the pooled potential outcomes, programme vs not,
    cause-specific for relapse (death and emigration censored, censored at 1095 days).
    ``by_municipality``: per municipality (participants by their municipality of
    residence), ``log_hr_shift`` (``u_m``), ``hazard_ratio_during`` and
    ``hazard_ratio_after`` (the generator's hazard ratios there), ``n_participants``,
    ``risk_difference_1y`` and ``rmst_difference_days`` (the ATT among its participants,
    from the same potential outcomes).
``retention``
    Over all started episodes (``n_episodes``, re-entries included), from the latent end
    (no extraction censoring): cumulative incidence of ``completed``, ``dropped_out``,
    ``moved`` and ``died`` at 3, 6, 12 and 24 months after start (duration in days <=
    months × 365.25 / 12), and ``*_ever`` at any time.
``bra``
    ``relapse_1y_nonparticipants``: the expected share of Brå entry events of
    non-participants followed by a relapse within 1 year (bra-preliminary rules: entry
    events and windows as `evaluation.cohorts.relapse_cohort` builds them), estimated
    from an independent population of ``bra_monte_carlo_persons`` persons; the exact
    definition is in ``truth["bra"]["definition"]``.
``recurrence``
    Same participants, time zero and worlds as ``effect``: ``mean_relapses_with`` /
    ``mean_relapses_without``, the expected number of lagförda offences dated 1 to 365,
    730, 1095 days after the start date (stopped at death or emigration: Ghosh and Lin's
    marginal mean); ``mean_relapses_difference``; ``rate_ratio``, the ratio of the
    expected numbers by 1, 2, 3 years.
    ``eligible``: the same entries among the participants the comparison design follows
    (see below).
``mortality``
    Same population: ``risk_death_*`` (cumulative incidence of death, emigration
    competing, at 1, 2, 3 years; with the default ``programme_death_hr`` = 1 the
    programme does not change death times, so the true difference is 0 up to emigration)
    and ``risk_relapse_or_death_*`` (the first of the two), with their ``_difference``;
    ``n_deaths_*``, ``n_emigrations_*``. ``eligible``: the same among the participants the
    comparison design follows.

    ``eligible`` (in ``recurrence`` and ``mortality``) is the estimand of
    `evaluation.effects.estimate_recurrent_effect` and
    `evaluation.effects.estimate_mortality_effect` on the default comparison cohort: the
    participants who, on their first start, are in the default entry period (from
    ``study_start`` plus 5 years to ``study_end`` minus the 3-year buffer of
    ``bra-final``), 18 or older, alive, in Sweden and not in custody
    (`evaluation.synthetic._truth.design_eligible`, the rule of
    `evaluation.cohorts.comparison_cohort`); the top-level entries average over every
    participant, including those who start in the last 3 years. ``effect`` averages over
    every participant too.
``landmark``
    At 3 and 6 months, in the independent population of ``bra``: the 1-year relapse of
    episodes at risk at the landmark by status then (``dropped_out``,
    ``completed_or_in``) and their ``difference`` with its Monte Carlo ``difference_se``:
    the quantity `evaluation.cohorts.landmark_cohort` estimates (see
    `evaluation.synthetic._truth.landmark_truth`).
``counts``
    Sizes of the tables.

Calibration targets (defaults, tested): see `SimulationConfig`.

Examples
--------
>>> from evaluation.synthetic import SimulationConfig, simulate_registers
>>> sim = simulate_registers(SimulationConfig(n_persons=300, bra_monte_carlo_persons=300), rng=7)
>>> sim.registers.validate() is sim.registers
True
"""

from evaluation.synthetic._config import MUNICIPALITIES, SimulationConfig
from evaluation.synthetic._extracts import EXTRACT_FORMATS, write_source_extract
from evaluation.synthetic._io import load_truth, truth_json, write_synthetic
from evaluation.synthetic._simulate import SimulatedRegisters, simulate_registers

__all__ = [
    "EXTRACT_FORMATS",
    "MUNICIPALITIES",
    "SimulatedRegisters",
    "SimulationConfig",
    "load_truth",
    "simulate_registers",
    "truth_json",
    "write_source_extract",
    "write_synthetic",
]
