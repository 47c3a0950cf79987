"""The knobs of the data-generating process, in one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from evaluation._errors import DefinitionError
from evaluation.registers import (
    AFFILIATIONS,
    MUNICIPALITIES,
    OFFENCE_CATEGORIES,
    REFERRALS,
    SANCTIONS,
)

__all__ = [
    "AFFILIATIONS",
    "CATEGORIES",
    "MUNICIPALITIES",
    "REFERRALS",
    "SANCTIONS",
    "SimulationConfig",
    "site_log_hr",
]

# The category lists are the register schema's; the generator's integer codes index them.
CATEGORIES: tuple[str, ...] = OFFENCE_CATEGORIES


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    """Settings of the synthetic registers; every default is a documented choice.

    Rates are per year of time in the community; hazard ratios multiply the offending
    hazard. The defaults are calibrated to these targets (tested in
    ``tests/test_synthetic_truth.py``):

    * relapse within 1 year of a Brå entry event (release from custody or a decision
      without custody, 2015-01-01 to ``study_end`` minus 2 years) among persons who never
      start the programme: between 40 % and 55 % (Brå's general level is 25 %; this is a
      high-risk group);
    * about a third of programme starters drop out (cumulative incidence of dropout
      30–40 %), most of them within the first 6 months;
    * at least about 400 programme starters among the default 6,000 persons.

    Parameters
    ----------
    n_persons
        Size of the study population.
    study_start, study_end
        The study window (ISO dates); ``study_end`` is the extraction date.
    programme_start
        First day on which programme episodes can start.
    step_days
        Length of the simulation's time step in days. Custody, lags and programme
        transitions are at least this long, so one step holds at most one custody start.
    share_male
        Share of men.
    municipality_weights
        Relative sizes of the municipalities in ``MUNICIPALITIES`` order (last: ``other``).
    affiliation_weights
        Shares of ``gang``, ``network`` and ``peripheral`` affiliation.
    offence_rate
        Baseline rate of offences that lead to a lagföring, per year in the community, for
        a man with network affiliation aged 21, frailty 1, no recent offences and
        motivation 0.
    frailty_variance
        Variance of the gamma frailty (mean 1) that multiplies each person's offending.
    history_effect
        Relative increase of the offending hazard per unit of recent offending (an
        exponentially decaying count of the person's offences, capped at ``history_cap``).
    history_halflife_years, history_cap
        Half-life of that count and its cap.
    female_hr, gang_hr, peripheral_hr
        Hazard ratios of women, gang and peripheral affiliation (network is the reference).
    age_peak, age_decline
        The offending hazard falls by ``age_decline`` on the log scale per year above
        ``age_peak``; people aged 15–17 offend at 0.8 times the peak; nobody under 15.
    lag_median_days, lag_sigma
        Log-normal lag from offence to decision (lagföring); decisions are at least
        ``2 * step_days`` after the offence.
    prison_median_days, youth_care_median_days, custody_sigma
        Log-normal lengths of custodial sanctions, which start at the decision.
    remand_probability, remand_median_days
        Probability of remand (häktning) after an offence that will get a custodial
        sanction (a tenth of it otherwise), and its median length; remand ends before
        the decision at the latest.
    death_rate, emigration_rate
        Yearly rates of death (largely homicide) and emigration; ``gang`` affiliation
        doubles the death rate, women have half of it. Emigration happens only in the
        community.
    entry_rate
        Yearly hazard of starting the programme for an eligible adult (18+, in the
        community, from ``programme_start``) in a reference municipality with network
        affiliation, no recent offending and motivation 0.
    motivation_strength
        Scales every effect of the unobserved motivation (entry, offending, dropout).
        0 removes unobserved confounding; larger values make naive comparisons more biased.
    motivation_entry_log_hr, motivation_offending_log_hr, motivation_dropout_log_or
        The effects of one standard deviation of motivation (before scaling).
    effect_during
        Hazard ratio of offending while in the programme (from the first time step after
        the start until the episode ends).
    effect_after
        Hazard ratio after a completed episode.
    effect_after_dropout
        Hazard ratio after dropping out (1 = back to baseline; above 1 = worse).
    programme_death_hr
        Hazard ratio of death while in the programme and after completing it, with the
        timing of ``effect_during`` and ``effect_after`` (from the first time step after
        the start; back to 1 after dropping out or moving, as offending is): the programme
        takes people out of the milieu where they are killed. The death time keeps its
        random number (common random numbers: the remaining unit-exponential clock is
        rescaled when the hazard ratio changes), so the world without the programme has
        the same deaths as before. 1 (the default) leaves every death time untouched.
    effect_tau
        Standard deviation, on the log-hazard-ratio scale, of the municipalities' own
        programme effects: municipality ``m`` multiplies ``effect_during`` and
        ``effect_after`` by ``exp(u_m)``, ``u_m = effect_tau * z_m`` with ``z_m`` standard
        normal, one per municipality (``other`` included), drawn from the counter-based
        generator so that no other draw changes. 0 makes the effect the same everywhere.
    outlier_municipality, outlier_log_hr
        A municipality whose programme effect differs by a further ``outlier_log_hr`` on
        the log-hazard-ratio scale (for the funnel plot's tests); ``None`` for none.
    dropout_probability
        Probability that an episode of a person with motivation 0 is planned to end in
        dropout (before competing exits and before the dropouts that offending triggers,
        which bring the share to about a third); the motivated drop out less.
    dropout_offence_hr, dropout_custody_hr
        Hazard ratios of dropping out once the participant has committed an offence
        during the episode, and once a custody period (remand, prison, youth_care) has
        started during it; from the time step after it until the episode ends, both when
        both happened. 1 makes dropout independent of offending.
    moved_probability
        Probability that an episode ends with the person moving away.
    dropout_median_days, completion_median_days, moved_median_days
        Medians of the log-normal times from start to dropout, completion and moving.
    reentry_hr
        Relative hazard of re-entering the programme after dropping out.
    max_episodes
        Maximum number of episodes per person.
    horizon_years
        Follow-up of the true effects from each participant's first start.
    bra_monte_carlo_persons
        Size of the independent population simulated for ``truth["bra"]`` (0 leaves its
        values missing, for fast replications that do not need them).

    References
    ----------
    Brå (2016). *Stöd till avhoppare från kriminella grupperingar*. Rapport 2016:6
    (contact, emergency housing, how cases end). Brå's *Återfall i brott* statistics
    (about 25 % relapse within 1 year for all persons with an entry event, far more with
    many prior decisions). The Danish national exit programme: about a third of starters
    dropped out, most before the main phase.

    Examples
    --------
    >>> config = SimulationConfig(n_persons=1000, motivation_strength=2.0)
    >>> config.effect_during, config.effect_after
    (0.6, 0.8)
    >>> SimulationConfig(share_male=1.5)
    Traceback (most recent call last):
    ...
    evaluation._errors.DefinitionError: SimulationConfig: share_male must be in [0, 1], got 1.5
    """

    n_persons: int = 6000
    study_start: str = "2010-01-01"
    study_end: str = "2025-12-31"
    programme_start: str = "2015-01-01"
    step_days: int = 14
    share_male: float = 0.9
    municipality_weights: tuple[float, ...] = (6, 20, 14, 14, 6, 3, 6, 3, 4, 24)
    affiliation_weights: tuple[float, float, float] = (0.3, 0.4, 0.3)
    offence_rate: float = 0.9
    frailty_variance: float = 0.7
    history_effect: float = 0.12
    history_halflife_years: float = 1.0
    history_cap: float = 8.0
    female_hr: float = 0.6
    gang_hr: float = 1.3
    peripheral_hr: float = 0.7
    age_peak: float = 21.0
    age_decline: float = 0.05
    lag_median_days: float = 120.0
    lag_sigma: float = 0.7
    prison_median_days: float = 180.0
    youth_care_median_days: float = 150.0
    custody_sigma: float = 0.7
    remand_probability: float = 0.5
    remand_median_days: float = 45.0
    death_rate: float = 0.003
    emigration_rate: float = 0.008
    entry_rate: float = 0.012
    motivation_strength: float = 1.0
    motivation_entry_log_hr: float = 0.8
    motivation_offending_log_hr: float = -0.3
    motivation_dropout_log_or: float = -0.5
    effect_during: float = 0.6
    effect_after: float = 0.8
    effect_after_dropout: float = 1.0
    programme_death_hr: float = 1.0
    effect_tau: float = 0.15
    outlier_municipality: str | None = None
    outlier_log_hr: float = 0.0
    dropout_probability: float = 0.35
    dropout_offence_hr: float = 5.0
    dropout_custody_hr: float = 3.0
    moved_probability: float = 0.08
    dropout_median_days: float = 75.0
    completion_median_days: float = 420.0
    moved_median_days: float = 200.0
    reentry_hr: float = 0.3
    max_episodes: int = 3
    horizon_years: float = 3.0
    bra_monte_carlo_persons: int = 40_000

    def __post_init__(self) -> None:
        problems = []
        if self.n_persons < 1:
            problems.append(f"n_persons must be at least 1, got {self.n_persons}")
        if self.step_days < 1:
            problems.append(f"step_days must be at least 1, got {self.step_days}")
        if len(self.municipality_weights) != len(MUNICIPALITIES):
            problems.append(
                f"municipality_weights needs {len(MUNICIPALITIES)} values "
                f"({', '.join(MUNICIPALITIES)}), got {len(self.municipality_weights)}"
            )
        for name in (
            "offence_rate",
            "effect_during",
            "effect_after",
            "effect_after_dropout",
            "programme_death_hr",
            "female_hr",
            "gang_hr",
            "peripheral_hr",
        ):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("dropout_offence_hr", "dropout_custody_hr"):
            if not getattr(self, name) >= 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.effect_tau >= 0:
            problems.append(f"effect_tau must be at least 0, got {self.effect_tau}")
        if self.outlier_municipality is not None and (
            self.outlier_municipality not in MUNICIPALITIES
        ):
            problems.append(
                f"outlier_municipality must be one of {', '.join(MUNICIPALITIES)}, "
                f"got {self.outlier_municipality!r}"
            )
        for name in ("share_male", "dropout_probability", "moved_probability"):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} must be in [0, 1], got {getattr(self, name)}")
        start, end = pd.Timestamp(self.study_start), pd.Timestamp(self.study_end)
        prog = pd.Timestamp(self.programme_start)
        if not start < prog < end:
            problems.append(
                f"programme_start {self.programme_start} must lie inside the study window "
                f"{self.study_start} to {self.study_end}"
            )
        if problems:
            raise DefinitionError("SimulationConfig: " + "; ".join(problems))


def site_log_hr(config: SimulationConfig, key: int) -> NDArray[np.float64]:
    """Each municipality's shift of the programme's log hazard ratio (``MUNICIPALITIES`` order).

    ``effect_tau * z_m`` plus ``outlier_log_hr`` for ``outlier_municipality``. The ``z_m``
    come from the counter-based generator (stream ``SITE_EFFECT``, keyed by the
    municipality's index), so changing ``effect_tau`` changes no other draw of the world.
    """
    from evaluation.synthetic import _rng as R

    z = R.normal(key, np.arange(len(MUNICIPALITIES)), 0, R.SITE_EFFECT)
    shift = config.effect_tau * z
    if config.outlier_municipality is not None:
        shift[MUNICIPALITIES.index(config.outlier_municipality)] += config.outlier_log_hr
    return np.asarray(shift, dtype=np.float64)
