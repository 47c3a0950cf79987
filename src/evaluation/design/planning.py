"""The planning table: power and minimum detectable effects by yearly intake and years.

A programme that takes ``intake`` starters a year and is evaluated after ``years`` of
intake, with every participant followed at least ``extra_follow_up_years`` more, has
``intake × years`` participants, about ``comparisons_per_participant`` comparisons each,
and the relapses that the comparisons' relapse-free survival (a 1-year risk, or the
cohort's Kaplan–Meier curve) lets them have. For each cell the table gives the power to
detect ``hr``, the minimum detectable hazard ratio and the minimum detectable difference
in the 1-year risk of relapse.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from evaluation._errors import EstimationError
from evaluation._results import html_repr
from evaluation.design._design_effects import DesignEffect
from evaluation.design.closed_form import (
    Survival,
    exponential_survival,
    group_event_probabilities,
    hazard_ratio_power,
    minimum_detectable_risk_difference,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PlanningResult", "baseline_survival", "planning_table"]

DAYS_PER_YEAR = 365.25


def baseline_survival(
    data: pd.DataFrame,
    *,
    duration: str = "duration_days",
    event: str = "event",
    treatment: str = "treated",
) -> pd.DataFrame:
    """The comparisons' relapse-free survival (Kaplan–Meier), for the planning table.

    Relapse (event code 1) is the event; death, emigration and censoring end follow-up.

    Parameters
    ----------
    data
        A comparison cohort's data (one row per person and trial).
    duration, event, treatment
        Columns of follow-up in days, the event code, and 1 for participants.

    Returns
    -------
    DataFrame
        ``time_years, survival`` (a step function, starting at 0 and 1).

    Examples
    --------
    >>> df = pd.DataFrame({"duration_days": [100, 200, 300, 400], "event": [1, 0, 1, 1],
    ...     "treated": [0, 0, 0, 0]})
    >>> baseline_survival(df)["survival"].round(3).tolist()
    [1.0, 0.75, 0.375, 0.0]
    """
    from evaluation.survival import kaplan_meier

    comp = data[data[treatment] == 0]
    if comp.empty:
        raise EstimationError(f"no comparisons ({treatment} = 0) to estimate the baseline from")
    frame = pd.DataFrame(
        {
            "time": comp[duration].to_numpy(dtype=float) / DAYS_PER_YEAR,
            "event": (comp[event].to_numpy() == 1).astype(np.int64),
        }
    )
    km = kaplan_meier(frame, duration="time", event="event").table
    km = km[km["n_events"] > 0]
    out = pd.DataFrame(
        {
            "time_years": np.r_[0.0, km["time"].to_numpy()],
            "survival": np.r_[1.0, km["estimate"].to_numpy()],
        }
    )
    return out.drop_duplicates("time_years", keep="last").reset_index(drop=True)


def _as_survival(baseline: float | pd.DataFrame | Survival) -> tuple[Survival, float, str]:
    """A survival function, the 1-year risk and a description of the baseline."""
    if isinstance(baseline, (int, float)):
        s = exponential_survival(float(baseline))
        return s, float(baseline), f"exponential, 1-year risk {float(baseline):.3f}"
    if isinstance(baseline, pd.DataFrame):
        t = baseline["time_years"].to_numpy(dtype=float)
        s_obs = baseline["survival"].to_numpy(dtype=float)
        t_max, s_max = float(t[-1]), float(s_obs[-1])
        if not (t_max > 0 and 0 < s_max < 1):
            raise EstimationError(
                "the baseline curve must reach past time 0 and keep survival in (0, 1)"
            )

        def curve(x: np.ndarray) -> np.ndarray:
            x = np.asarray(x, dtype=float)
            idx = np.searchsorted(t, x, side="right") - 1
            inside = s_obs[np.clip(idx, 0, len(t) - 1)]
            # Beyond the curve: the average hazard of the observed part continues.
            beyond = s_max ** (x / t_max)
            return np.where(x <= t_max, inside, beyond)

        risk1 = float(1 - curve(np.array([1.0]))[0])
        return curve, risk1, f"Kaplan–Meier curve to {t_max:.1f} years, 1-year risk {risk1:.3f}"
    if callable(baseline):
        risk1 = float(1 - np.asarray(baseline(np.array([1.0])))[0])
        return baseline, risk1, f"a survival function, 1-year risk {risk1:.3f}"
    raise EstimationError("baseline must be a 1-year risk, a curve (time_years, survival) or S(t)")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanningResult:
    """Power and minimum detectable effects by yearly intake and years of intake.

    Attributes
    ----------
    table
        One row per ``intake_per_year`` and ``follow_up_years``: ``n_participants``,
        ``n_comparisons``, ``events_participants``, ``events_comparisons`` (expected under
        the hazard ratio ``hr``), ``power`` (to detect ``hr``), ``mdhr`` (the minimum
        detectable protective hazard ratio; NaN when none below 1 reaches the power),
        ``mdrd_1y`` (the minimum detectable protective difference in the 1-year risk).
    """

    table: pd.DataFrame
    hr: float
    alpha: float
    power: float
    method: str
    baseline: str
    baseline_risk_1y: float
    comparisons_per_participant: float
    extra_follow_up_years: float
    design_effects: tuple[DesignEffect, ...]

    def summary(self) -> pd.DataFrame:
        """The table."""
        return self.table.copy()

    def plot_data(self) -> pd.DataFrame:
        """The table's power and minimum detectable effects, long form.

        Returns
        -------
        DataFrame
            ``intake_per_year, follow_up_years, quantity`` (``power``, ``mdhr``,
            ``mdrd_1y``), ``value``.
        """
        return self.table.melt(
            id_vars=["intake_per_year", "follow_up_years"],
            value_vars=["power", "mdhr", "mdrd_1y"],
            var_name="quantity",
            value_name="value",
        )

    def plot(
        self, ax: Axes | None = None, *, what: Literal["mdhr", "power", "mdrd_1y"] = "mdhr"
    ) -> Axes:
        """Lines by intake over the years of intake (the minimum detectable hazard ratio
        by default).

        Returns
        -------
        Axes
        """
        from evaluation.presentation.graphics.design import planning_plot

        return planning_plot(self.plot_data(), ax=ax, what=what, hr=self.hr, power=self.power)

    def _repr_html_(self) -> str:
        notes = [
            f"hazard ratio {self.hr}, alpha {self.alpha}, power {self.power}, {self.method}",
            f"baseline: {self.baseline}",
            *(f"{d.kind}: {d.value:.3g} ({d.detail})" for d in self.design_effects),
        ]
        return html_repr("Planning table", self.table, notes=notes)


def _cell(
    survival: Callable[[np.ndarray], np.ndarray],
    *,
    n1: float,
    n0: float,
    years: float,
    extra: float,
    hr: float,
) -> tuple[float, float]:
    p0, p1 = group_event_probabilities(survival, hr=hr, follow_up_years=extra, accrual_years=years)
    return n1 * p1, n0 * p0


def _mdhr(power_at: Callable[[float], float], power: float) -> float:
    """The protective hazard ratio nearest 1 with the power wanted.

    With expected events the power is not monotone in HR: as HR falls towards 0 the
    participants' events vanish and the variance ``1/d_1`` grows. The search runs from
    the most powerful HR (found on the log scale) up to 1; NaN when even that one falls
    short.
    """
    best = optimize.minimize_scalar(
        lambda lh: -power_at(math.exp(lh)), bounds=(math.log(1e-3), -1e-6), method="bounded"
    )
    if -best.fun <= power:
        return math.nan
    root = optimize.brentq(lambda lh: power_at(math.exp(lh)) - power, best.x, -1e-9, xtol=1e-10)
    return math.exp(root)


def planning_table(
    *,
    intakes: Sequence[float] = (10, 20, 50, 100, 200),
    years: Sequence[float] = (1, 2, 3, 4, 5),
    baseline: float | pd.DataFrame | Survival = 0.45,
    hr: float = 0.7,
    alpha: float = 0.05,
    power: float = 0.8,
    comparisons_per_participant: float = 10.0,
    extra_follow_up_years: float = 1.0,
    design_effects: Sequence[DesignEffect] = (),
) -> PlanningResult:
    """Power and minimum detectable effects for each yearly intake and years of intake.

    Persons enter uniformly over ``years`` and are followed until
    ``extra_follow_up_years`` after the last entry; their relapse-free survival is the
    comparisons' ``baseline`` (participants: to the power ``HR``). The hazard ratio's power
    and minimum detectable value use the events each group expects and the variance
    ``1/d_1 + D_w/d_0`` (:func:`~evaluation.design.hazard_ratio_power` with
    ``method="rubinstein"``, accurate with many comparisons per participant, which
    Schoenfeld's is not); the 1-year risk difference uses the two-proportion test (pooled)
    on everyone, since everyone is followed a year when ``extra_follow_up_years >= 1``.

    Parameters
    ----------
    intakes
        Programme starters a year.
    years
        Years of intake before the evaluation.
    baseline
        The comparisons' relapse-free survival: a 1-year risk (exponential), a curve
        ``time_years, survival`` (:func:`baseline_survival` of a comparison cohort;
        continued beyond its end by its average hazard) or a function ``S(t)``.
    hr
        The hazard ratio whose power the table gives.
    alpha, power
        Two-sided significance level and the power of the minimum detectable effects.
    comparisons_per_participant
        Comparisons per participant (the comparison cohort's sampling target).
    extra_follow_up_years
        Follow-up after the last intake.
    design_effects
        Design effects of weighting (comparisons) and clustering.

    Returns
    -------
    PlanningResult

    References
    ----------
    Rubinstein LV, Gail MH, Santner TJ (1981). Journal of Chronic Diseases 34:469-479.
    Schoenfeld DA (1983). Biometrics 39:499-503.

    Examples
    --------
    >>> plan = planning_table(intakes=(10, 50), years=(1, 3))
    >>> plan.table[["intake_per_year", "follow_up_years", "n_participants"]].values.tolist()
    [[10.0, 1.0, 10.0], [10.0, 3.0, 30.0], [50.0, 1.0, 50.0], [50.0, 3.0, 150.0]]
    >>> plan.table["mdhr"].round(2).tolist()  # 10 starters in 1 year detect no HR
    [nan, 0.47, 0.51, 0.74]
    """
    if not 0 < hr < 1:
        raise EstimationError(f"hr must be a protective hazard ratio in (0, 1), got {hr}")
    if extra_follow_up_years < 0:
        raise EstimationError("extra_follow_up_years must be >= 0")
    survival, risk1, description = _as_survival(baseline)
    deffs = tuple(design_effects)
    rows: list[dict[str, Any]] = []
    for intake in intakes:
        for y in years:
            if not (intake > 0 and y > 0):
                raise EstimationError("intakes and years must be positive")
            n1 = float(intake * y)
            n0 = float(comparisons_per_participant * n1)
            d1, d0 = _cell(survival, n1=n1, n0=n0, years=y, extra=extra_follow_up_years, hr=hr)

            def power_at(h: float, n1: float = n1, n0: float = n0, y: float = y) -> float:
                e1, e0 = _cell(survival, n1=n1, n0=n0, years=y, extra=extra_follow_up_years, hr=h)
                return hazard_ratio_power(
                    h,
                    events=e1 + e0,
                    events_participants=e1,
                    method="rubinstein",
                    alpha=alpha,
                    design_effects=deffs,
                ).value

            mdhr = _mdhr(power_at, power)
            mdrd = minimum_detectable_risk_difference(
                risk1,
                n_participants=n1,
                n_comparisons=n0,
                alpha=alpha,
                power=power,
                design_effects=deffs,
            ).value
            rows.append(
                {
                    "intake_per_year": float(intake),
                    "follow_up_years": float(y),
                    "n_participants": n1,
                    "n_comparisons": n0,
                    "events_participants": d1,
                    "events_comparisons": d0,
                    "power": power_at(hr),
                    "mdhr": mdhr,
                    "mdrd_1y": mdrd,
                }
            )
    return PlanningResult(
        table=pd.DataFrame(rows),
        hr=hr,
        alpha=alpha,
        power=power,
        method="rubinstein (events of each group)",
        baseline=description,
        baseline_risk_1y=risk1,
        comparisons_per_participant=comparisons_per_participant,
        extra_follow_up_years=extra_follow_up_years,
        design_effects=deffs,
    )
