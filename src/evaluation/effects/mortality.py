"""The programme's effect on death, and on relapse or death, with the relapse machinery.

Same design, weights, bootstrap and measures as :func:`estimate_programme_effect`; only
the outcome changes. For death the follow-up runs past any relapse
(:func:`~evaluation.cohorts.death_follow_up`) with emigration competing; for "relapse or
death" it is the relapse follow-up with the first of the two as the event. Deaths are
rare in these groups (a few per thousand persons a year), so the intervals are wide:
read them as how large an effect the data can rule out, not as a finding.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from evaluation._errors import EstimationError
from evaluation.effects.effect import ProgrammeEffect, estimate_programme_effect

if TYPE_CHECKING:
    from evaluation.cohorts import Cohort
    from evaluation.registers import Registers

__all__ = ["MORTALITY_OUTCOMES", "estimate_mortality_effect", "mortality_outcome_data"]

MORTALITY_OUTCOMES: tuple[str, ...] = ("death", "relapse_or_death")
#: The event column the estimator reads: 1 the outcome, 3 emigration, 0 censored.
OUTCOME_EVENT = "outcome_event"
#: The duration column of each outcome in :func:`mortality_outcome_data`.
OUTCOME_DURATION = {"death": "death_days", "relapse_or_death": "duration_days"}


def mortality_outcome_data(cohort: Cohort, registers: Registers, outcome: str) -> Any:
    """The cohort's rows with the outcome coded for the effect estimator.

    Returns the data of :func:`~evaluation.cohorts.death_follow_up` with
    ``outcome_event``: 1 the outcome (death; or relapse or death, whichever came first),
    3 emigration (competing), 0 censored. The duration column is ``death_days`` for death
    and ``duration_days`` (the relapse follow-up) for relapse or death.
    """
    from evaluation.cohorts import death_follow_up

    if outcome not in MORTALITY_OUTCOMES:
        raise EstimationError(
            f"outcome must be one of {', '.join(MORTALITY_OUTCOMES)}, not {outcome!r}"
        )
    data = death_follow_up(cohort, registers).data
    if outcome == "death":
        code = data["death_event"].to_numpy(dtype=np.int64)
        event = np.where(code == 2, 1, np.where(code == 3, 3, 0))
    else:
        code = data["event"].to_numpy(dtype=np.int64)
        event = np.where(np.isin(code, (1, 2)), 1, np.where(code == 3, 3, 0))
    return data.assign(**{OUTCOME_EVENT: event.astype(np.int64)})


def estimate_mortality_effect(
    cohort: Cohort,
    registers: Registers,
    *,
    outcome: Literal["death", "relapse_or_death"] = "death",
    **options: Any,
) -> ProgrammeEffect:
    """Estimate the programme's effect on death, or on relapse or death.

    Parameters
    ----------
    cohort
        A :func:`~evaluation.effects.comparison_cohort` (participants and comparisons at a
        common time zero).
    registers
        The registers the cohort came from (for the deaths after a relapse).
    outcome
        ``"death"``: death from time zero, followed past any relapse, emigration
        competing. ``"relapse_or_death"``: the first of relapse and death, emigration
        competing, on the relapse follow-up.
    **options
        Passed to :func:`~evaluation.effects.estimate_programme_effect` (``n_boot``,
        ``rng``, ``estimand``, ``method``, ``per_protocol``, ``times_years``, ...). The
        propensity ``formula`` defaults to ``DEFAULT_PROPENSITY_FORMULA`` plus
        ``C(affiliation)`` when the cohort knows every person's gang affiliation
        (:func:`~evaluation.effects.comparison.formula_with_affiliation`): affiliation
        doubles the risk of being killed and raises the chance of starting the
        programme, so leaving it out confounds the effect on death.

    Returns
    -------
    ProgrammeEffect
        As for relapse, with ``outcome`` set: ``risk_difference_1y`` is the difference in
        the adjusted cumulative incidence of death (or of relapse or death) within a year,
        ``events`` the number of deaths (or of relapses or deaths) in the data.

    Raises
    ------
    EstimationError
        For an unknown outcome, or where the estimator cannot estimate (for example no
        death at all among the participants).

    Notes
    -----
    With few deaths the adjusted curves step only a few times and the bootstrap interval
    is wide and, at its limits, lumpy (it moves by whole deaths); per-protocol estimates
    of death are rarely worth their extra assumptions.

    Examples
    --------
    >>> from evaluation import comparison_cohort, load_synthetic
    >>> registers = load_synthetic()
    >>> design = comparison_cohort(registers, rng=1)
    >>> eff = estimate_mortality_effect(design, registers, n_boot=20, per_protocol=False, rng=1)
    >>> eff.outcome, bool(eff.measure("risk_difference_3y")["ci_lower"] < 0.02)
    ('death', True)
    """
    data = mortality_outcome_data(cohort, registers, outcome)
    if not (data[OUTCOME_EVENT].to_numpy()[data["treated"].to_numpy() == 1] == 1).any():
        raise EstimationError(
            f"no {outcome.replace('_', ' ')} among the participants of the cohort: the "
            "effect on it cannot be estimated"
        )
    options.setdefault("design", str(cohort.meta.get("design", "cohort")))
    effect = estimate_programme_effect(
        data, duration=OUTCOME_DURATION[outcome], event=OUTCOME_EVENT, **options
    )
    return replace(effect, outcome=outcome)
