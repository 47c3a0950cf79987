"""Closed-form power, sample size and minimum detectable effects.

Two measures, as the programme effect reports them: the hazard ratio of relapse
(log-rank test or Cox model of one binary covariate; Schoenfeld 1983 or Freedman 1982)
and the risk difference at t years (two-sample comparison of proportions, normal
approximation). Every function takes the design effects of weighting and clustering
(:mod:`evaluation.design._design_effects`) and its result says which it applied.

Conventions (those of Stata's ``power logrank`` and ``power twoproportions``): the test
is two-sided at level ``alpha``; power is ``Φ(√I |θ| − z_{1-α/2})``, the far tail
ignored; ``allocation`` is the share of participants (the experimental group) among all
persons; numbers needed are returned unrounded (``required`` rounds up).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from evaluation._errors import EstimationError
from evaluation._results import html_repr
from evaluation.design._design_effects import DesignEffect, combined

__all__ = [
    "PowerCalculation",
    "event_probability",
    "events_needed",
    "hazard_ratio_power",
    "minimum_detectable_hazard_ratio",
    "minimum_detectable_risk_difference",
    "participants_needed",
    "risk_difference_power",
    "risk_difference_sample_size",
]

HRMethod = Literal["schoenfeld", "freedman", "rubinstein"]
HR_METHODS: tuple[str, ...] = ("schoenfeld", "freedman", "rubinstein")
RDTest = Literal["pooled", "unpooled"]
Direction = Literal["protective", "harmful"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerCalculation:
    """One closed-form power calculation: what was solved for, from what.

    Attributes
    ----------
    measure
        ``"hazard_ratio"`` or ``"risk_difference"``.
    method
        ``"schoenfeld"``, ``"freedman"``, ``"rubinstein"`` (hazard ratio), ``"pooled"`` or
        ``"unpooled"``
        (risk difference: variance under the null pooled, as Pearson's chi-squared test and
        R's ``power.prop.test``, or both variances unpooled, as a Wald test).
    solved_for
        ``"events"``, ``"participants"``, ``"power"`` or ``"effect"``.
    value
        The solved quantity, unrounded.
    effect
        The hazard ratio or risk difference (participants minus comparisons).
    events, events_participants, n_participants, n_comparisons
        Numbers of events (all, and among participants) and persons (nominal, before
        design effects); NaN where they do not enter.
    baseline_risk, event_probability
        The comparisons' risk at the horizon; the probability that a person's relapse is
        observed (participants needed only).
    design_effects
        The design effects applied.
    """

    measure: str
    method: str
    solved_for: str
    value: float
    alpha: float
    power: float
    effect: float
    allocation: float
    events: float = math.nan
    events_participants: float = math.nan
    n_participants: float = math.nan
    n_comparisons: float = math.nan
    baseline_risk: float = math.nan
    event_probability: float = math.nan
    design_effects: tuple[DesignEffect, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def required(self) -> int:
        """The solved number rounded up (events or persons)."""
        if self.solved_for not in ("events", "participants"):
            raise AttributeError(f"{self.solved_for} is not a number needed")
        return math.ceil(self.value - 1e-9)

    def __float__(self) -> float:
        return float(self.value)

    def summary(self) -> pd.DataFrame:
        """One row per ``quantity`` with its ``value``; design effects as rows too."""
        rows = [
            ("measure", self.measure),
            ("method", self.method),
            ("solved_for", self.solved_for),
            ("value", self.value),
            ("alpha", self.alpha),
            ("power", self.power),
            ("effect", self.effect),
            ("allocation", self.allocation),
            ("events", self.events),
            ("events_participants", self.events_participants),
            ("n_participants", self.n_participants),
            ("n_comparisons", self.n_comparisons),
            ("baseline_risk", self.baseline_risk),
            ("event_probability", self.event_probability),
        ]
        rows += [(f"design_effect_{d.kind}", d.value) for d in self.design_effects]
        return pd.DataFrame(rows, columns=["quantity", "value"])

    def _repr_html_(self) -> str:
        notes = [f"{d.kind}: {d.value:.3g} ({d.detail})" for d in self.design_effects]
        return html_repr(
            f"Power calculation ({self.measure}, {self.method}: {self.solved_for})",
            self.summary(),
            notes=notes + list(self.notes),
        )


# --------------------------------------------------------------------------- checks


def _check_common(alpha: float, allocation: float, power: float | None = None) -> None:
    if not 0 < alpha < 1:
        raise EstimationError(f"alpha must be in (0, 1), got {alpha}")
    if not 0 < allocation < 1:
        raise EstimationError(
            f"allocation (the participants' share of all persons) must be in (0, 1), "
            f"got {allocation}"
        )
    if power is not None and not 0 < power < 1:
        raise EstimationError(f"power must be in (0, 1), got {power}")


def _check_hr(hr: float) -> None:
    if not (np.isfinite(hr) and hr > 0) or hr == 1:
        raise EstimationError(f"the hazard ratio must be positive and not 1, got {hr}")


def _check_method(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise EstimationError(f"method must be one of {', '.join(allowed)}, not {method!r}")


# ------------------------------------------------------------------- hazard ratio


def _effective(allocation: float, design_effects: Sequence[DesignEffect]) -> tuple[float, float]:
    """Events' information factor and the effective allocation after design effects.

    Under the null the events split as the persons do, ``p d`` and ``(1 - p) d``; the
    comparisons' events count ``1 / D_w`` each (Kish), and every variance is multiplied
    by ``D_c``. Schoenfeld's variance ``1 / (d p (1 - p)) = 1/d_1 + 1/d_0`` then becomes
    that of ``d' = d (p + (1 - p) / D_w) / D_c`` events with allocation
    ``p' = p / (p + (1 - p) / D_w)``.
    """
    dw, dc = combined(design_effects)
    share = allocation + (1.0 - allocation) / dw
    return share / dc, allocation / share


def _k(hr: float, p: float, method: str) -> float:
    """Events needed per unit of (z_{1-α/2} + z_{1-β})²."""
    if method == "schoenfeld":
        return 1.0 / (p * (1.0 - p) * math.log(hr) ** 2)
    r = p / (1.0 - p)  # Stata's nratio: experimental (participants) / control
    return (1.0 + r * hr) ** 2 / (r * (1.0 - hr) ** 2)


def events_needed(
    hr: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 0.5,
    method: HRMethod = "schoenfeld",
    design_effects: Sequence[DesignEffect] = (),
) -> PowerCalculation:
    """Number of relapses (events, both groups) needed to detect a hazard ratio.

    Schoenfeld (1983): ``d = (z_{1-α/2} + z_{1-β})² / (p (1 - p) (log HR)²)``;
    Freedman (1982), with ``R = p / (1 - p)`` participants per comparison:
    ``d = (z_{1-α/2} + z_{1-β})² (1 + R HR)² / (R (1 - HR)²)``, as Stata's
    ``power logrank``. With design effects, see :func:`_effective`.

    Parameters
    ----------
    hr
        The hazard ratio of participants to comparisons to be detected.
    alpha
        Two-sided significance level.
    power
        The power wanted.
    allocation
        Share of participants among all persons, ``p``.
    method
        ``"schoenfeld"`` (log hazard ratio; the Cox model's Wald or score test) or
        ``"freedman"`` (hazard ratio; the log-rank test as Freedman derived it).
    design_effects
        Design effects of weighting (applied to the comparisons) and clustering.

    Returns
    -------
    PowerCalculation
        ``value`` the events needed (unrounded; ``required`` rounds up).

    References
    ----------
    Schoenfeld DA (1983). Sample-size formula for the proportional-hazards regression
    model. Biometrics 39:499-503.
    Freedman LS (1982). Tables of the number of patients required in clinical trials using
    the logrank test. Statistics in Medicine 1:121-129.
    StataCorp. *Stata Power, Precision, and Sample-Size Reference Manual*: ``power
    logrank``, Methods and formulas.

    Examples
    --------
    >>> events_needed(0.5).required, events_needed(0.5, method="freedman").required
    (66, 71)
    """
    _check_hr(hr)
    _check_common(alpha, allocation, power)
    if method == "rubinstein":
        raise EstimationError(
            "method 'rubinstein' needs the events of each group, which depend on the "
            "follow-up: use participants_needed"
        )
    _check_method(method, ("schoenfeld", "freedman"))
    factor, p_eff = _effective(allocation, design_effects)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    d = z**2 * _k(hr, p_eff, method) / factor
    return PowerCalculation(
        measure="hazard_ratio",
        method=method,
        solved_for="events",
        value=float(d),
        alpha=alpha,
        power=power,
        effect=hr,
        allocation=allocation,
        events=float(d),
        design_effects=tuple(design_effects),
    )


def hazard_ratio_power(
    hr: float,
    *,
    events: float,
    events_participants: float | None = None,
    alpha: float = 0.05,
    allocation: float = 0.5,
    method: HRMethod = "schoenfeld",
    design_effects: Sequence[DesignEffect] = (),
) -> PowerCalculation:
    """Power to detect a hazard ratio with a given number of relapses.

    The inverse of :func:`events_needed`:
    ``Φ(√(d' / k(HR, p')) − z_{1-α/2})`` with ``k`` the events needed per unit
    of (z_{1-α/2} + z_{1-β})². With ``method="rubinstein"`` the variance of the log
    hazard ratio is ``D_c (1/d_1 + D_w/d_0)``, the events of each group (Rubinstein, Gail
    and Santner 1981; Stata's ``power exponential, loghazard``): Schoenfeld's variance
    is derived under the null, where the events split as the persons do, and overstates
    the power of a large effect with unequal groups (ten comparisons per participant);
    this one does not (``tests/recovery/test_design_power_recovery.py``).

    Parameters
    ----------
    hr
        The true hazard ratio.
    events
        Relapses observed in both groups together.
    events_participants
        Relapses among participants, ``d_1`` (``"rubinstein"`` only).
    alpha, allocation, method, design_effects
        As in :func:`events_needed`.

    Returns
    -------
    PowerCalculation
        ``value`` the power.

    References
    ----------
    Schoenfeld DA (1983). Biometrics 39:499-503. Freedman LS (1982). Statistics in
    Medicine 1:121-129. Rubinstein LV, Gail MH, Santner TJ (1981). Planning the duration
    of a comparative clinical trial with loss to follow-up and a period of continued
    observation. Journal of Chronic Diseases 34:469-479.

    Examples
    --------
    >>> round(hazard_ratio_power(0.5, events=66).value, 3)
    0.804
    >>> round(hazard_ratio_power(0.5, events=66, events_participants=22,
    ...     method="rubinstein").value, 3)  # 1/22 + 1/44 = 3/44
    0.756
    """
    _check_hr(hr)
    _check_common(alpha, allocation)
    _check_method(method, HR_METHODS)
    if not events > 0:
        raise EstimationError(f"the number of events must be positive, got {events}")
    za = stats.norm.ppf(1 - alpha / 2)
    if method == "rubinstein":
        se = _rubinstein_se(events, events_participants, design_effects)
        zb = abs(math.log(hr)) / se - za
    else:
        factor, p_eff = _effective(allocation, design_effects)
        zb = math.sqrt(events * factor / _k(hr, p_eff, method)) - za
    pw = float(stats.norm.cdf(zb))
    return PowerCalculation(
        measure="hazard_ratio",
        method=method,
        solved_for="power",
        value=pw,
        alpha=alpha,
        power=pw,
        effect=hr,
        allocation=allocation,
        events=float(events),
        events_participants=_nan(events_participants),
        design_effects=tuple(design_effects),
    )


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _rubinstein_se(
    events: float, events_participants: float | None, design_effects: Sequence[DesignEffect]
) -> float:
    """Standard error of the log hazard ratio from the events of each group."""
    if events_participants is None or not 0 < events_participants < events:
        raise EstimationError(
            "method 'rubinstein' needs events_participants, more than 0 and fewer than all "
            f"events ({events}); got {events_participants}"
        )
    dw, dc = combined(design_effects)
    return math.sqrt(dc * (1.0 / events_participants + dw / (events - events_participants)))


def minimum_detectable_hazard_ratio(
    *,
    events: float,
    events_participants: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 0.5,
    method: HRMethod = "schoenfeld",
    direction: Direction = "protective",
    design_effects: Sequence[DesignEffect] = (),
) -> PowerCalculation:
    """The smallest hazard ratio that ``events`` relapses detect with the given power.

    Solves :func:`events_needed` for the hazard ratio: Schoenfeld
    ``HR = exp(∓ (z_{1-α/2} + z_{1-β}) / √(d p (1 - p)))``; Freedman, with
    ``g = √(d R) / (z_{1-α/2} + z_{1-β})``, ``HR = (g - 1) / (g + R)`` (protective) or
    ``(g + 1) / (g - R)`` (harmful); Rubinstein, given the events of each group,
    ``HR = exp(∓ (z_{1-α/2} + z_{1-β}) √(D_c (1/d_1 + D_w/d_0)))``: the effect the
    observed numbers could detect.

    Parameters
    ----------
    events
        Relapses in both groups together.
    events_participants
        Relapses among participants (``"rubinstein"`` only).
    direction
        ``"protective"`` (HR < 1, fewer relapses among participants: the one to report)
        or ``"harmful"`` (HR > 1).
    alpha, power, allocation, method, design_effects
        As in :func:`events_needed`.

    Returns
    -------
    PowerCalculation
        ``value`` the minimum detectable hazard ratio (0 or infinity when no hazard
        ratio in that direction reaches the power: too few events for Freedman's
        formula).

    References
    ----------
    Schoenfeld DA (1983). Biometrics 39:499-503. Freedman LS (1982). Statistics in
    Medicine 1:121-129.

    Examples
    --------
    >>> round(minimum_detectable_hazard_ratio(events=66).value, 3)
    0.502
    >>> round(minimum_detectable_hazard_ratio(events=66, direction="harmful").value, 3)
    1.993
    """
    _check_common(alpha, allocation, power)
    _check_method(method, HR_METHODS)
    if direction not in ("protective", "harmful"):
        raise EstimationError(f"direction must be 'protective' or 'harmful', not {direction!r}")
    if not events > 0:
        raise EstimationError(f"the number of events must be positive, got {events}")
    factor, p = _effective(allocation, design_effects)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    d = events * factor
    sign = -1.0 if direction == "protective" else 1.0
    if method == "rubinstein":
        hr = math.exp(sign * z * _rubinstein_se(events, events_participants, design_effects))
    elif method == "schoenfeld":
        hr = math.exp(sign * z / math.sqrt(d * p * (1.0 - p)))
    else:
        r = p / (1.0 - p)
        g = math.sqrt(d * r) / z
        if direction == "protective":
            hr = max((g - 1.0) / (g + r), 0.0)
        else:
            hr = (g + 1.0) / (g - r) if g > r else math.inf
    return PowerCalculation(
        measure="hazard_ratio",
        method=method,
        solved_for="effect",
        value=float(hr),
        alpha=alpha,
        power=power,
        effect=float(hr),
        allocation=allocation,
        events=float(events),
        events_participants=_nan(events_participants),
        design_effects=tuple(design_effects),
        notes=(f"direction: {direction}",),
    )


def _mean_survival(survival: Callable[[np.ndarray], np.ndarray], start: float, width: float):
    """Mean of ``survival(t)`` over t uniform on [start, start + width] (Simpson's rule on
    a fine grid; the value at ``start`` when ``width`` is 0)."""
    if width <= 0:
        return float(np.asarray(survival(np.array([start])))[0])
    t = np.linspace(start, start + width, 401)
    s = np.asarray(survival(t), dtype=float)
    # Composite Simpson with 400 intervals.
    w = np.ones(401)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return float(np.sum(w * s) / (3.0 * 400))


def event_probability(
    control_risk: float,
    *,
    hr: float = 1.0,
    allocation: float = 0.5,
    risk_years: float = 1.0,
    follow_up_years: float = 1.0,
    accrual_years: float = 0.0,
) -> float:
    """Probability that a person's relapse is observed during the study.

    Relapse-free survival among comparisons is exponential with the given risk:
    ``S_0(t) = (1 - control_risk)^(t / risk_years)``, among participants ``S_0(t)^HR``
    (proportional hazards). Persons enter uniformly over ``accrual_years`` and are all
    followed until ``follow_up_years`` after the last entry, so a person is followed
    between ``follow_up_years`` and ``follow_up_years + accrual_years``; the probability
    is ``1 - [(1 - p) mean S_0 + p mean S_0^HR]`` over those follow-up times, as Stata's
    ``power logrank`` (which uses Simpson's rule on three points; this uses 401).

    Parameters
    ----------
    control_risk
        The comparisons' risk of relapse within ``risk_years``.
    hr
        Participants' hazard ratio.
    allocation
        Share of participants.
    risk_years
        Horizon of ``control_risk``.
    follow_up_years, accrual_years
        Minimum follow-up and length of the period of intake (years).

    Returns
    -------
    float

    Examples
    --------
    >>> round(event_probability(0.4, hr=0.5), 4)  # 1 - (0.6 + 0.6 ** 0.5) / 2
    0.3127
    """
    p0, p1 = group_event_probabilities(
        exponential_survival(control_risk, risk_years),
        hr=hr,
        follow_up_years=follow_up_years,
        accrual_years=accrual_years,
    )
    return (1.0 - allocation) * p0 + allocation * p1


Survival = Callable[[np.ndarray], np.ndarray]
"""The comparisons' relapse-free survival as a function of years since time zero."""


def exponential_survival(control_risk: float, risk_years: float = 1.0) -> Survival:
    """``S_0(t) = (1 - control_risk)^(t / risk_years)``."""
    if not 0 < control_risk < 1:
        raise EstimationError(f"control_risk must be in (0, 1), got {control_risk}")
    if not risk_years > 0:
        raise EstimationError(f"risk_years must be positive, got {risk_years}")
    rate = -math.log1p(-control_risk) / risk_years
    return lambda t: np.exp(-rate * np.asarray(t, dtype=float))


def group_event_probabilities(
    survival: Survival, *, hr: float, follow_up_years: float, accrual_years: float
) -> tuple[float, float]:
    """Probabilities that a comparison's and a participant's relapse is observed: one
    minus the mean of ``S_0`` and of ``S_0^HR`` over follow-up times uniform on
    ``[follow_up_years, follow_up_years + accrual_years]``."""
    if follow_up_years < 0 or accrual_years < 0:
        raise EstimationError("follow-up and accrual must be >= 0")
    s0 = _mean_survival(survival, follow_up_years, accrual_years)
    s1 = _mean_survival(lambda t: np.asarray(survival(t)) ** hr, follow_up_years, accrual_years)
    return 1.0 - s0, 1.0 - s1


def participants_needed(
    hr: float,
    *,
    control_risk: float,
    risk_years: float = 1.0,
    follow_up_years: float = 1.0,
    accrual_years: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 0.5,
    method: HRMethod = "schoenfeld",
    design_effects: Sequence[DesignEffect] = (),
) -> PowerCalculation:
    """Persons (participants and comparisons) needed to detect a hazard ratio.

    Schoenfeld and Freedman: the events needed (:func:`events_needed`) divided by the
    probability that a person's relapse is observed (:func:`event_probability`), as
    Stata's ``power logrank`` does. Rubinstein: the persons whose expected events per group,
    ``d_1 = n p P_1`` and ``d_0 = n (1 - p) P_0``, give the power,
    ``n = (z_{1-α/2} + z_{1-β})² D_c (1/(p P_1) + D_w/((1 - p) P_0)) / (log HR)²``.

    Parameters
    ----------
    hr
        The hazard ratio to detect.
    control_risk, risk_years, follow_up_years, accrual_years
        As in :func:`event_probability`.
    alpha, power, allocation, method, design_effects
        As in :func:`events_needed`.

    Returns
    -------
    PowerCalculation
        ``value`` all persons needed, ``n_participants`` and ``n_comparisons`` their
        split by ``allocation`` (unrounded), ``events`` and ``events_participants``
        expected.

    References
    ----------
    Schoenfeld DA (1983). Biometrics 39:499-503. Freedman LS (1982). Statistics in
    Medicine 1:121-129. Rubinstein LV, Gail MH, Santner TJ (1981). Journal of Chronic
    Diseases 34:469-479. Collett D (2015). *Modelling Survival Data in Medical Research*,
    3rd ed., section 10.2 (events divided by the probability of an event).

    Examples
    --------
    >>> calc = participants_needed(0.5, control_risk=0.4)
    >>> calc.required, round(calc.event_probability, 3)
    (209, 0.313)
    """
    _check_hr(hr)
    _check_common(alpha, allocation, power)
    _check_method(method, HR_METHODS)
    p0, p1 = group_event_probabilities(
        exponential_survival(control_risk, risk_years),
        hr=hr,
        follow_up_years=follow_up_years,
        accrual_years=accrual_years,
    )
    pe = (1 - allocation) * p0 + allocation * p1
    if method == "rubinstein":
        dw, dc = combined(design_effects)
        z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
        info = dc * (1 / (allocation * p1) + dw / ((1 - allocation) * p0))
        n = z**2 * info / math.log(hr) ** 2
    else:
        n = (
            events_needed(
                hr,
                alpha=alpha,
                power=power,
                allocation=allocation,
                method=method,
                design_effects=design_effects,
            ).value
            / pe
        )
    return PowerCalculation(
        measure="hazard_ratio",
        method=method,
        solved_for="participants",
        value=float(n),
        alpha=alpha,
        power=power,
        effect=hr,
        allocation=allocation,
        events=float(n * pe),
        events_participants=float(n * allocation * p1),
        n_participants=float(n * allocation),
        n_comparisons=float(n * (1 - allocation)),
        baseline_risk=control_risk,
        event_probability=pe,
        design_effects=tuple(design_effects),
    )


# --------------------------------------------------------------- risk difference


def _rd_power(
    p0: float,
    rd: float,
    n1: float,
    n0: float,
    alpha: float,
    test: str,
    design_effects: Sequence[DesignEffect],
) -> float:
    dw, dc = combined(design_effects)
    m1, m0 = n1 / dc, n0 / (dw * dc)  # effective sizes
    p1 = p0 + rd
    v1 = p1 * (1 - p1) / m1 + p0 * (1 - p0) / m0
    za = stats.norm.ppf(1 - alpha / 2)
    if test == "pooled":
        pbar = (m1 * p1 + m0 * p0) / (m1 + m0)
        v0 = pbar * (1 - pbar) * (1 / m1 + 1 / m0)
        return float(stats.norm.cdf((abs(rd) - za * math.sqrt(v0)) / math.sqrt(v1)))
    return float(stats.norm.cdf(abs(rd) / math.sqrt(v1) - za))


def _check_rd(p0: float, rd: float | None = None) -> None:
    if not 0 < p0 < 1:
        raise EstimationError(f"the comparisons' risk must be in (0, 1), got {p0}")
    if rd is not None and (rd == 0 or not 0 < p0 + rd < 1):
        raise EstimationError(
            f"the risk difference must be non-zero and keep the participants' risk "
            f"{p0} + {rd} inside (0, 1)"
        )


def risk_difference_power(
    baseline_risk: float,
    risk_difference: float,
    *,
    n_participants: float,
    n_comparisons: float,
    alpha: float = 0.05,
    test: RDTest = "pooled",
    design_effects: Sequence[DesignEffect] = (),
) -> PowerCalculation:
    """Power to detect a difference in the risk of relapse at t years.

    The two-sample comparison of proportions with the normal approximation: for
    ``test="pooled"`` (Pearson's chi-squared test; Stata's ``power twoproportions``
    default; R's ``power.prop.test`` for equal groups)
    ``Φ((|δ| − z_{1-α/2} √(p̄ q̄ (1/n_1 + 1/n_0))) / √(p_1 q_1 / n_1 + p_0 q_0 / n_0))``
    with ``p̄`` the pooled risk; ``"unpooled"`` uses the second variance in both places.
    Weighting divides the comparisons' size by its design effect, clustering both sizes.

    It assumes everyone is followed for t years (no censoring before t): the programme
    effect's Aalen–Johansen risk with censoring has a somewhat larger variance.

    Parameters
    ----------
    baseline_risk
        The comparisons' risk of relapse at t years, ``p_0``.
    risk_difference
        Participants' minus comparisons' risk, ``δ``.
    n_participants, n_comparisons
        Persons in each group.
    alpha
        Two-sided significance level.
    test
        ``"pooled"`` or ``"unpooled"`` (see above).
    design_effects
        Design effects of weighting (comparisons) and clustering (both).

    Returns
    -------
    PowerCalculation
        ``value`` the power.

    References
    ----------
    Fleiss JL, Levin B, Paik MC (2003). *Statistical Methods for Rates and Proportions*,
    3rd ed., Wiley, section 4.2 (without continuity correction). StataCorp, ``power
    twoproportions``, Methods and formulas.

    Examples
    --------
    >>> round(risk_difference_power(0.5, -0.2, n_participants=93, n_comparisons=93).value, 2)
    0.8
    """
    _check_rd(baseline_risk, risk_difference)
    _check_common(alpha, 0.5)
    _check_method(test, ("pooled", "unpooled"))
    if not (n_participants > 0 and n_comparisons > 0):
        raise EstimationError("both groups need persons")
    pw = _rd_power(
        baseline_risk, risk_difference, n_participants, n_comparisons, alpha, test, design_effects
    )
    return PowerCalculation(
        measure="risk_difference",
        method=test,
        solved_for="power",
        value=pw,
        alpha=alpha,
        power=pw,
        effect=risk_difference,
        allocation=n_participants / (n_participants + n_comparisons),
        n_participants=float(n_participants),
        n_comparisons=float(n_comparisons),
        baseline_risk=baseline_risk,
        design_effects=tuple(design_effects),
    )


def risk_difference_sample_size(
    baseline_risk: float,
    risk_difference: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 0.5,
    test: RDTest = "pooled",
    design_effects: Sequence[DesignEffect] = (),
) -> PowerCalculation:
    """Persons needed to detect a risk difference at t years.

    Solves :func:`risk_difference_power` for the total number of persons, split by
    ``allocation``; without design effects and for the pooled test this is Fleiss's
    formula ``n_0 = [z_{1-α/2} √(p̄ q̄ (1 + 1/R)) + z_{1-β} √(p_0 q_0 + p_1 q_1 / R)]² / δ²``
    with ``R = n_1 / n_0``.

    Parameters
    ----------
    baseline_risk, risk_difference, alpha, test, design_effects
        As in :func:`risk_difference_power`.
    power
        The power wanted.
    allocation
        Share of participants among all persons.

    Returns
    -------
    PowerCalculation
        ``value`` all persons (unrounded); ``n_participants``, ``n_comparisons``.

    References
    ----------
    Fleiss JL, Levin B, Paik MC (2003). *Statistical Methods for Rates and Proportions*,
    3rd ed., section 4.2.

    Examples
    --------
    >>> calc = risk_difference_sample_size(0.5, -0.2)
    >>> math.ceil(calc.n_participants)  # R: power.prop.test(p1=0.5, p2=0.3, power=0.8)
    93
    """
    _check_rd(baseline_risk, risk_difference)
    _check_common(alpha, allocation, power)
    _check_method(test, ("pooled", "unpooled"))

    def gap(n: float) -> float:
        return (
            _rd_power(
                baseline_risk,
                risk_difference,
                n * allocation,
                n * (1 - allocation),
                alpha,
                test,
                design_effects,
            )
            - power
        )

    hi = 4.0
    while gap(hi) < 0:
        hi *= 2
    n = float(optimize.brentq(gap, 1e-6, hi, xtol=1e-10, rtol=1e-14))
    return PowerCalculation(
        measure="risk_difference",
        method=test,
        solved_for="participants",
        value=n,
        alpha=alpha,
        power=power,
        effect=risk_difference,
        allocation=allocation,
        n_participants=n * allocation,
        n_comparisons=n * (1 - allocation),
        baseline_risk=baseline_risk,
        design_effects=tuple(design_effects),
    )


def minimum_detectable_risk_difference(
    baseline_risk: float,
    *,
    n_participants: float,
    n_comparisons: float,
    alpha: float = 0.05,
    power: float = 0.8,
    test: RDTest = "pooled",
    direction: Direction = "protective",
    design_effects: Sequence[DesignEffect] = (),
) -> PowerCalculation:
    """The smallest risk difference at t years that the groups detect with the power.

    Solves :func:`risk_difference_power` for ``δ`` (negative for ``"protective"``: fewer
    relapses among participants).

    Parameters
    ----------
    baseline_risk, n_participants, n_comparisons, alpha, test, design_effects
        As in :func:`risk_difference_power`.
    power
        The power wanted.
    direction
        ``"protective"`` (δ < 0, the one to report) or ``"harmful"``.

    Returns
    -------
    PowerCalculation
        ``value`` the minimum detectable risk difference; NaN when no difference within
        the possible risks reaches the power.

    References
    ----------
    Fleiss JL, Levin B, Paik MC (2003). *Statistical Methods for Rates and Proportions*,
    3rd ed., section 4.2.

    Examples
    --------
    >>> mdrd = minimum_detectable_risk_difference(0.5, n_participants=93, n_comparisons=93)
    >>> round(mdrd.value, 3)
    -0.2
    """
    _check_rd(baseline_risk)
    _check_common(alpha, 0.5, power)
    _check_method(test, ("pooled", "unpooled"))
    if direction not in ("protective", "harmful"):
        raise EstimationError(f"direction must be 'protective' or 'harmful', not {direction!r}")
    if not (n_participants > 0 and n_comparisons > 0):
        raise EstimationError("both groups need persons")

    def gap(rd: float) -> float:
        return (
            _rd_power(
                baseline_risk,
                rd,
                n_participants,
                n_comparisons,
                alpha,
                test,
                design_effects,
            )
            - power
        )

    eps = 1e-9
    end = -baseline_risk + eps if direction == "protective" else 1 - baseline_risk - eps
    start = -eps if direction == "protective" else eps
    rd = float(optimize.brentq(gap, start, end, xtol=1e-12)) if gap(end) > 0 else math.nan
    return PowerCalculation(
        measure="risk_difference",
        method=test,
        solved_for="effect",
        value=rd,
        alpha=alpha,
        power=power,
        effect=rd,
        allocation=n_participants / (n_participants + n_comparisons),
        n_participants=float(n_participants),
        n_comparisons=float(n_comparisons),
        baseline_risk=baseline_risk,
        design_effects=tuple(design_effects),
        notes=(f"direction: {direction}",),
    )
