"""Comparison cohorts for effect estimation: risk-set matching on the propensity score.

The cohort itself (eligibility, time zero, outcomes, covariates, flow) is built by
:func:`evaluation.cohorts.comparison_cohort`; this module adds the estimation step that
risk-set matching needs (a propensity model and matching within each risk set), so that
``evaluation.effects.comparison_cohort`` stays the one call of the public API
(ARCHITECTURE.md, "Layers").
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.cohorts import Cohort, RelapseDefinition
from evaluation.cohorts import comparison_cohort as _cohort_builder
from evaluation.cohorts.comparison import Design
from evaluation.effects.matching import match
from evaluation.effects.propensity import propensity_weights

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = ["DEFAULT_PROPENSITY_FORMULA", "comparison_cohort", "formula_with_affiliation"]

DEFAULT_PROPENSITY_FORMULA = (
    "C(sex) + bs(age, df=4) + np.log1p(prior_decisions_5y) "
    "+ prior_custody_5y + np.log1p(prior_custody_days_5y) + prior_violence_5y "
    "+ prior_weapons_5y + prior_drugs_5y + prior_property_5y "
    "+ np.log1p(days_since_last_decision_capped) + no_prior_decision "
    "+ C(municipality_group) + I(entry_year - 2015)"
)
"""The propensity model used by default: register covariates at time zero only.

Prior decisions enter as log(1 + count) rather than Brå's bands: a band with few
participants (10+) separates the groups in some bootstrap replicates. Calendar year is
centred so that the intercept stays well conditioned."""


def formula_with_affiliation(data: pd.DataFrame, formula: str = DEFAULT_PROPENSITY_FORMULA) -> str:
    """``formula`` plus ``C(affiliation)`` when the cohort knows everyone's affiliation.

    Gang affiliation (the optional ``affiliation`` column of ``persons``, which the
    comparison cohort's covariates carry) is recorded for the whole study population,
    participants and non-participants alike, before anyone's time zero: a legitimate
    covariate. It is added only when the column is there with no missing value and at
    least two affiliations; otherwise ``formula`` is returned unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> formula_with_affiliation(pd.DataFrame({"affiliation": ["gang", "network"]}), "age")
    'age + C(affiliation)'
    >>> formula_with_affiliation(pd.DataFrame({"affiliation": ["gang", None]}), "age")
    'age'
    """
    if "affiliation" not in data.columns or "C(affiliation)" in formula:
        return formula
    aff = data["affiliation"]
    if aff.isna().any() or aff.nunique() < 2:
        return formula
    return f"{formula} + C(affiliation)"


def comparison_cohort(
    registers: Registers,
    *,
    design: Design = "sequential-trials",
    definition: str | RelapseDefinition = "bra-final",
    comparisons_per_participant: float = 10.0,
    k: int = 5,
    caliper: float = 0.2,
    propensity_formula: str | None = None,
    censor_at_programme_start: bool = True,
    min_age: int = 18,
    entry_from: str | pd.Timestamp | None = None,
    entry_to: str | pd.Timestamp | None = None,
    rng: np.random.Generator | int | None = None,
) -> Cohort:
    """Participants and comparisons at a common time zero, matched where the design says so.

    The parameters, the cohort and its flow are those of
    :func:`evaluation.cohorts.comparison_cohort`; with ``design="risk-set-matching"`` the
    comparisons of each risk set are matched to its participant here.

    Parameters
    ----------
    registers
        Validated registers.
    design
        ``"sequential-trials"`` (one trial per calendar month) or ``"risk-set-matching"``:
        each participant is its own trial; from the eligible persons on its start date up
        to ``k`` comparisons are matched on the propensity score (fitted on all trials
        with ``propensity_formula``) within ``caliper`` SD of the logit score and exactly
        on sex and municipality group, without replacement within the trial.
    definition, comparisons_per_participant, censor_at_programme_start, min_age
        As in :func:`evaluation.cohorts.comparison_cohort`.
    k, caliper, propensity_formula
        Risk-set matching only. ``propensity_formula`` None: the default model of
        :func:`estimate_programme_effect` (:func:`formula_with_affiliation`).
    entry_from, entry_to
        Entry period, as in :func:`evaluation.cohorts.comparison_cohort`.
    rng
        Seed or generator for the sampling of comparisons and their dates.

    Returns
    -------
    Cohort
        As :func:`evaluation.cohorts.comparison_cohort`; for risk-set matching ``data``
        also has ``weight`` (MatchIt's ATT weights) and ``score``, and ``meta`` has ``k``,
        ``caliper`` and ``n_participants_unmatched``.

    Raises
    ------
    DefinitionError
        For an unknown design or when no participant is eligible.

    References
    ----------
    Those of :func:`evaluation.cohorts.comparison_cohort` (Hernán and Robins 2016, target
    trial emulation; Li, Propert and Rosenbaum 2001, balanced risk-set matching).

    Examples
    --------
    >>> from evaluation import load_synthetic
    >>> c = comparison_cohort(load_synthetic(), rng=1)
    >>> c.meta["design"], int(c.data["treated"].sum()) > 0
    ('sequential-trials', True)
    """
    unmatched: list[int] = []

    def matched(data: pd.DataFrame) -> pd.DataFrame:
        formula = propensity_formula or formula_with_affiliation(data)
        ps = propensity_weights(data, formula, treatment="treated")
        mres = match(
            data,
            treatment="treated",
            score=ps,
            k=k,
            caliper=caliper,
            exact=["trial", "sex", "municipality_group"],
            replace=False,
        )
        data = data.assign(weight=mres.weights.to_numpy(), score=ps.scores.to_numpy())
        unmatched.append(int(((data["treated"] == 1) & (data["weight"] == 0)).sum()))
        return data[data["weight"] > 0]

    matching = design == "risk-set-matching"
    cohort = _cohort_builder(
        registers,
        design=design,
        definition=definition,
        comparisons_per_participant=comparisons_per_participant,
        censor_at_programme_start=censor_at_programme_start,
        min_age=min_age,
        entry_from=entry_from,
        entry_to=entry_to,
        select=matched if matching else None,
        rng=rng,
    )
    if not matching:
        return cohort
    meta = {**cohort.meta, "k": k, "caliper": caliper, "n_participants_unmatched": unmatched[0]}
    return replace(cohort, meta=meta)
