"""The coverage study of the programme effect: simulate, analyse, compare with the truth.

One replication simulates registers from the generator (default 6,000 persons), builds the
comparison cohort, estimates the programme effect with its bootstrap intervals and keeps,
per analysis (``adjusted``: ATT weighting; ``naive``) and measure, the truth (the ATT among
participants the design follows from their potential outcomes,
``truth["effect"]["eligible"]``; also the truth among every participant), the estimate, its
interval and whether the interval covers the truth. The truth's Brå Monte Carlo population
is not simulated (``bra_monte_carlo_persons=0``): the study does not use it. Run it with
:func:`evaluation.studies.run_study` (``evaluation study programme-effect`` on the command
line); ``benchmarks/README.md`` holds the recorded runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.studies import StudyDesign

__all__ = [
    "MEASURES",
    "programme_effect_replicate",
    "programme_effect_study",
    "recurrence_mortality_replicate",
    "recurrence_mortality_study",
    "summarise_coverage",
    "summarise_recurrence_mortality",
]

MEASURES: tuple[str, ...] = (
    "risk_difference_1y",
    "risk_difference_3y",
    "rmst_difference_3y",
    "hazard_ratio",
)
_ANALYSES = (("itt", "adjusted"), ("naive", "naive"))


def _truth(effect: dict[str, Any], measure: str) -> float:
    if measure.startswith("risk_difference_"):
        return float(effect["risk_difference"][measure.removeprefix("risk_difference_")[:-1]])
    if measure == "rmst_difference_3y":
        return float(effect["rmst_difference_days"])
    if measure == "hazard_ratio":
        return float(effect["hazard_ratio"])
    raise KeyError(f"no true value of {measure!r} in the generator's truth")


def simulated_design(
    seed: np.random.SeedSequence, *, design: str = "sequential-trials", **config: Any
) -> tuple[Any, Any, np.random.SeedSequence]:
    """Simulated registers, their comparison cohort, and the seed left for the analysis.

    The three steps of every coverage replication draw from the three children of ``seed``
    (registers, cohort, analysis), so each depends on nothing else. ``config`` goes to
    :class:`~evaluation.synthetic.SimulationConfig`; the Brå Monte Carlo population is not
    simulated (``bra_monte_carlo_persons=0``): no study uses it.
    """
    from evaluation.effects.comparison import comparison_cohort
    from evaluation.synthetic import SimulationConfig, simulate_registers

    sim_seed, cohort_seed, analysis_seed = seed.spawn(3)
    sim = simulate_registers(
        SimulationConfig(**config, bra_monte_carlo_persons=0),
        rng=np.random.default_rng(sim_seed),
    )
    cohort = comparison_cohort(
        sim.registers,
        design=design,  # type: ignore[arg-type]
        rng=np.random.default_rng(cohort_seed),
    )
    return sim, cohort, analysis_seed


def programme_effect_replicate(
    seed: np.random.SeedSequence,
    *,
    n_persons: int = 6000,
    n_boot: int = 200,
    motivation_strength: float = 1.0,
    design: str = "sequential-trials",
    measures: tuple[str, ...] = MEASURES,
) -> list[dict[str, Any]]:
    """One replication: simulated registers, comparison cohort, effect, truth.

    Returns one row per analysis and measure: ``analysis, measure, truth`` (among the
    participants the design follows, ``truth["effect"]["eligible"]``), ``truth_all``
    (among every participant), ``estimate, ci_lower, ci_upper, bias, covered,
    covered_all``.
    """
    from evaluation.effects.effect import estimate_programme_effect

    sim, cohort, boot_seed = simulated_design(
        seed, design=design, n_persons=n_persons, motivation_strength=motivation_strength
    )
    eff = estimate_programme_effect(
        cohort, n_boot=n_boot, per_protocol=False, rng=np.random.default_rng(boot_seed)
    )
    rows = []
    for analysis, name in _ANALYSES:
        for measure in measures:
            truth = _truth(sim.truth["effect"]["eligible"], measure)
            truth_all = _truth(sim.truth["effect"], measure)
            m = eff.measure(measure, analysis=analysis)
            rows.append(
                {
                    "analysis": name,
                    "measure": measure,
                    "truth": truth,
                    "truth_all": truth_all,
                    "estimate": float(m.estimate),
                    "ci_lower": float(m.ci_lower),
                    "ci_upper": float(m.ci_upper),
                    "bias": float(m.estimate - truth),
                    "covered": bool(m.ci_lower <= truth <= m.ci_upper),
                    "covered_all": bool(m.ci_lower <= truth_all <= m.ci_upper),
                }
            )
    return rows


def _coverage_summary(replications: pd.DataFrame, by: list[str], **extra: Any) -> pd.DataFrame:
    """Coverage (of ``truth`` and of ``truth_all``), mean bias, its Monte Carlo SE (the
    estimates' SD over sqrt(R)) and mean truth by ``by``; ``extra`` adds named
    aggregations."""
    if "covered_all" not in replications:  # studies written before the eligible truth
        replications = replications.assign(covered_all=np.nan)
    out = (
        replications.groupby(by, sort=False)
        .agg(
            replications=("covered", "size"),
            coverage=("covered", "mean"),
            coverage_all=("covered_all", "mean"),
            mean_bias=("bias", "mean"),
            sd_estimate=("estimate", "std"),
            **extra,
            mean_truth=("truth", "mean"),
        )
        .reset_index()
    )
    out.insert(len(by) + 4, "bias_se", out.pop("sd_estimate") / np.sqrt(out["replications"]))
    return out


def summarise_coverage(replications: pd.DataFrame) -> pd.DataFrame:
    """Coverage and bias by analysis and measure.

    Returns ``analysis, measure, replications, coverage``, ``coverage_all`` (of the truth
    among every participant, when the replications hold it), ``mean_bias, bias_se`` (the
    Monte Carlo standard error of the mean bias: the estimates' SD over sqrt(R)),
    ``mean_truth``.
    """
    return _coverage_summary(replications, ["analysis", "measure"])


def programme_effect_study(
    *,
    n_persons: int = 6000,
    n_boot: int = 200,
    motivation_strength: float = 1.0,
    design: str = "sequential-trials",
    measures: tuple[str, ...] = MEASURES,
) -> StudyDesign:
    """The coverage study of the programme effect (see the module docstring).

    Examples
    --------
    >>> study = programme_effect_study(n_boot=50)
    >>> study.name, study.params["n_boot"]
    ('programme-effect', 50)
    """
    return StudyDesign(
        name="programme-effect",
        replicate=programme_effect_replicate,
        params={
            "n_persons": n_persons,
            "n_boot": n_boot,
            "motivation_strength": motivation_strength,
            "design": design,
            "measures": tuple(measures),
        },
        summarise=summarise_coverage,
        description="coverage and bias of the programme effect on simulated registers",
    )


#: The analyses of :func:`recurrence_mortality_replicate`: the effect on the number of
#: relapse offences (``estimate_recurrent_effect``) and on death and on relapse or death
#: (``estimate_mortality_effect``).
RECURRENCE_MORTALITY_ANALYSES: tuple[str, ...] = ("recurrence", "mortality")


def recurrence_mortality_replicate(
    seed: np.random.SeedSequence,
    *,
    analyses: tuple[str, ...] = RECURRENCE_MORTALITY_ANALYSES,
    n_persons: int = 6000,
    n_boot: int = 200,
    motivation_strength: float = 1.0,
    death_rate: float = 0.003,
    programme_death_hr: float = 1.0,
    formula: str | None = None,
) -> list[dict[str, Any]]:
    """One replication of the recurrence and mortality effects against the truth.

    Simulates registers (``bra_monte_carlo_persons=0``), builds the default comparison
    cohort and estimates, for ``"recurrence"``, the ATT difference and ratio of the
    expected number of relapse offences at 1, 2, 3 years, and for ``"mortality"`` the ATT
    risk differences of death and of relapse or death (intention to treat). ``formula``
    is the propensity model (None: each estimator's default). Returns one row per
    analysis, measure and year: ``analysis, measure, year, truth`` (the truth among the
    participants the design follows, ``truth[...]["eligible"]``), ``truth_all`` (among
    every participant), ``estimate, ci_lower, ci_upper, bias, covered, covered_all`` and
    ``events`` (relapse offences, or deaths or relapses or deaths, in the data).
    """
    from evaluation.effects.mortality import estimate_mortality_effect
    from evaluation.effects.recurrent import estimate_recurrent_effect

    unknown = set(analyses) - set(RECURRENCE_MORTALITY_ANALYSES)
    if unknown:
        raise ValueError(
            f"unknown analyses {sorted(unknown)}; choose from {RECURRENCE_MORTALITY_ANALYSES}"
        )
    sim, cohort, boot_seed = simulated_design(
        seed,
        n_persons=n_persons,
        motivation_strength=motivation_strength,
        death_rate=death_rate,
        programme_death_hr=programme_death_hr,
    )
    options: dict[str, Any] = {} if formula is None else {"formula": formula}
    rows: list[dict[str, Any]] = []

    def keep(
        analysis: str, measure: str, year: str, truth: float, truth_all: float, m: Any, events: int
    ) -> None:
        rows.append(
            {
                "analysis": analysis,
                "measure": measure,
                "year": int(year),
                "truth": float(truth),
                "truth_all": float(truth_all),
                "estimate": float(m.estimate),
                "ci_lower": float(m.ci_lower),
                "ci_upper": float(m.ci_upper),
                "bias": float(m.estimate - truth),
                "covered": bool(m.ci_lower <= truth <= m.ci_upper),
                "covered_all": bool(m.ci_lower <= truth_all <= m.ci_upper),
                "events": int(events),
            }
        )

    years = ("1", "2", "3")
    if "recurrence" in analyses:
        every = sim.truth["recurrence"]
        rec = estimate_recurrent_effect(
            sim.registers, cohort, n_boot=n_boot, rng=np.random.default_rng(boot_seed), **options
        )
        for measure, key in (("difference", "mean_relapses_difference"), ("ratio", "rate_ratio")):
            for y in years:
                m = rec.measure(f"expected_offences_{measure}_{y}y")
                keep("recurrence", measure, y, every["eligible"][key][y], every[key][y], m,
                     rec.events)  # fmt: skip
    if "mortality" in analyses:
        every = sim.truth["mortality"]
        for outcome in ("death", "relapse_or_death"):
            eff = estimate_mortality_effect(
                cohort, sim.registers, outcome=outcome, n_boot=n_boot, per_protocol=False,
                rng=np.random.default_rng(boot_seed), **options,
            )  # fmt: skip
            key = f"risk_{outcome}_difference"
            for y in years:
                m = eff.measure(f"risk_difference_{y}y")
                keep("mortality", outcome, y, every["eligible"][key][y], every[key][y], m,
                     eff.events)  # fmt: skip
    return rows


def summarise_recurrence_mortality(replications: pd.DataFrame) -> pd.DataFrame:
    """Coverage, bias and width by analysis, measure and year.

    Returns ``analysis, measure, year, replications, coverage`` (of the truth among the
    participants the design follows), ``coverage_all`` (of the truth among every
    participant), ``mean_bias``, ``bias_se`` (the estimates' SD over sqrt(R)),
    ``mean_width``, ``mean_events``, ``mean_truth``.
    """
    r = replications.assign(width=replications["ci_upper"] - replications["ci_lower"])
    return _coverage_summary(
        r,
        ["analysis", "measure", "year"],
        mean_width=("width", "mean"),
        mean_events=("events", "mean"),
    )


def recurrence_mortality_study(
    *,
    analyses: tuple[str, ...] = RECURRENCE_MORTALITY_ANALYSES,
    n_persons: int = 6000,
    n_boot: int = 200,
    motivation_strength: float = 1.0,
    death_rate: float = 0.003,
    programme_death_hr: float = 1.0,
    formula: str | None = None,
) -> StudyDesign:
    """The coverage study of the recurrence and mortality effects (issue 13).

    One design for ``benchmarks/bench_recurrent_coverage.py`` (``analyses=("recurrence",)``)
    and ``benchmarks/bench_mortality.py`` (``("mortality",)``); see
    :func:`recurrence_mortality_replicate`.

    Examples
    --------
    >>> study = recurrence_mortality_study(analyses=("mortality",), n_boot=50)
    >>> study.name, study.params["analyses"]
    ('recurrence-mortality', ('mortality',))
    """
    return StudyDesign(
        name="recurrence-mortality",
        replicate=recurrence_mortality_replicate,
        params={
            "analyses": tuple(analyses),
            "n_persons": n_persons,
            "n_boot": n_boot,
            "motivation_strength": motivation_strength,
            "death_rate": death_rate,
            "programme_death_hr": programme_death_hr,
            "formula": formula,
        },
        summarise=summarise_recurrence_mortality,
        description="coverage and bias of the effects on relapse offences and on death",
    )
