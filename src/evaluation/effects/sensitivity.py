"""Sensitivity to unobserved confounding: the E-value of VanderWeele and Ding (2017)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation._results import html_repr

__all__ = ["EValueResult", "confounding_check", "e_value"]


def _e(rr: float) -> float:
    """E-value of a risk ratio: RR + sqrt(RR (RR - 1)) after taking RR >= 1."""
    rr = 1.0 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1.0))


def _hr_to_rr(hr: float) -> float:
    """VanderWeele's (2020) conversion of a hazard ratio for a common outcome (>15 %)."""
    return (1.0 - 0.5 ** math.sqrt(hr)) / (1.0 - 0.5 ** math.sqrt(1.0 / hr))


@dataclass(frozen=True, slots=True, kw_only=True)
class EValueResult:
    """E-values of a point estimate and of the confidence limit closer to the null.

    ``estimate`` is the E-value of the point estimate; ``ci`` that of the limit closer to 1
    (1 when the interval includes 1). ``rr`` are the values on the risk-ratio scale that
    the E-values were computed from.
    """

    measure: str
    rare: bool
    estimate: float
    ci: float | None
    rr: float
    rr_limit: float | None

    def summary(self) -> pd.DataFrame:
        """One row per quantity: ``term, estimate`` (the E-values)."""
        rows = [{"term": "point estimate", "estimate": self.estimate}]
        if self.ci is not None:
            rows.append({"term": "confidence limit", "estimate": self.ci})
        return pd.DataFrame(rows)

    def sentence(self, lang: str = "en") -> str:
        """What the E-value says, in plain language."""
        from evaluation.presentation.formatting import format_number

        est = format_number(self.estimate, lang, decimals=2)
        ci = "-" if self.ci is None else format_number(self.ci, lang, decimals=2)
        if lang == "sv":
            return (
                "En okänd faktor som var för sig är kopplad till både deltagande och återfall "
                f"med en riskkvot på minst {est} (för konfidensgränsen: {ci}), utöver de mätta "
                "faktorerna, skulle kunna förklara bort den skattade effekten."
            )
        return (
            "An unmeasured factor associated with both taking part and relapse by a risk "
            f"ratio of at least {est} each (for the confidence limit: {ci}), beyond the "
            "measured covariates, could explain away the estimated effect."
        )

    def _repr_html_(self) -> str:
        return html_repr(f"E-value ({self.measure})", self.summary())


def e_value(
    estimate: float,
    ci_lower: float | None = None,
    ci_upper: float | None = None,
    *,
    measure: Literal["HR", "RR"] = "RR",
    rare: bool = True,
) -> EValueResult:
    """E-value: how strong unmeasured confounding would have to be to explain an estimate away.

    Parameters
    ----------
    estimate
        The risk ratio or hazard ratio.
    ci_lower, ci_upper
        Its confidence limits, for the E-value of the limit closer to the null.
    measure
        ``"RR"`` or ``"HR"``.
    rare
        For a hazard ratio: whether the outcome is rare (under 15 % by the end of follow-up),
        when the HR approximates the RR. Relapse is common (Brå: about 40 % within 3 years),
        so pass ``rare=False`` for relapse, which converts the HR to the RR scale first
        (VanderWeele 2020).

    Returns
    -------
    EValueResult

    References
    ----------
    VanderWeele TJ, Ding P (2017). Sensitivity analysis in observational research:
    introducing the E-value. Annals of Internal Medicine 167:268-274.
    VanderWeele TJ (2020). Optimal approximate conversions of odds ratios and hazard ratios
    to risk ratios. Biometrics 76:746-752.

    Examples
    --------
    >>> round(e_value(3.9, 1.8, 8.7).estimate, 2)
    7.26
    >>> round(e_value(3.9, 1.8, 8.7).ci, 2)
    3.0
    >>> e_value(0.8, 0.6, 1.1).ci
    1.0
    """
    if measure not in ("HR", "RR"):
        raise EstimationError(f"measure must be 'HR' or 'RR', not {measure!r}")
    for name, v in (("estimate", estimate), ("ci_lower", ci_lower), ("ci_upper", ci_upper)):
        if v is not None and not (math.isfinite(v) and v > 0):
            raise EstimationError(f"{name} must be a positive ratio, not {v}")
    if ci_lower is not None and ci_upper is not None and not ci_lower <= estimate <= ci_upper:
        raise EstimationError(
            f"the interval ({ci_lower}, {ci_upper}) does not contain the estimate {estimate}"
        )

    def to_rr(x: float) -> float:
        return _hr_to_rr(x) if measure == "HR" and not rare else x

    rr = to_rr(estimate)
    e_est = _e(rr)
    e_ci: float | None = None
    rr_lim: float | None = None
    if ci_lower is not None or ci_upper is not None:
        # The limit on the side of the null: the lower one for a harmful ratio, else the upper.
        limit = ci_lower if rr >= 1 else ci_upper
        if limit is None:
            e_ci = None
        else:
            rr_lim = to_rr(limit)
            crosses = (rr >= 1 and rr_lim <= 1) or (rr < 1 and rr_lim >= 1)
            e_ci = 1.0 if crosses else _e(rr_lim)
    return EValueResult(measure=measure, rare=rare, estimate=e_est, ci=e_ci, rr=rr, rr_limit=rr_lim)


def confounding_check(
    strengths: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0),
    *,
    n_persons: int = 6000,
    n_boot: int = 200,
    design: str = "sequential-trials",
    rng: np.random.Generator | int | None = None,
    client: Any = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Re-run the synthetic check with stronger unobserved confounding.

    For each ``motivation_strength`` of the generator (0: no unobserved confounding; 1: the
    default), simulate registers, build the comparison cohort, estimate the effect, and
    compare the 1-year risk difference with the truth. Motivation raises the chance of
    joining and lowers offending, and it is never in the registers, so the adjusted
    estimate drifts away from the truth (towards a larger benefit) as it grows.

    Each strength is one replication of the programme-effect study
    (:func:`evaluation.effects.coverage.programme_effect_study`) run by
    :func:`evaluation.studies.run_study`, all with the same seed (drawn from ``rng``), so
    the strengths share their random numbers; ``client`` and ``workers`` are passed on
    (the replications then run on Dask).

    Returns
    -------
    DataFrame
        One row per strength and analysis (``adjusted``, ``naive``): ``strength, analysis,
        truth, estimate, ci_lower, ci_upper, bias, covered`` for the 1-year risk difference.
    """
    from evaluation.effects.coverage import programme_effect_study
    from evaluation.studies import run_study

    seed = int(np.random.default_rng(rng).integers(2**63))
    frames = []
    for s in strengths:
        study = programme_effect_study(
            n_persons=n_persons,
            n_boot=n_boot,
            motivation_strength=s,
            design=design,
            measures=("risk_difference_1y",),
        )
        result = run_study(
            study, replications=1, seed=seed, client=client, workers=workers, progress=False
        )
        # The truth is that of the participants the design follows (the estimand); the
        # study's truth over every participant is not part of this summary.
        frame = result.replications.drop(
            columns=["replication", "measure", "truth_all", "covered_all"], errors="ignore"
        )
        frame.insert(0, "strength", float(s))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
