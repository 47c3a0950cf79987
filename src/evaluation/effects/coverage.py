"""The coverage study of the programme effect: simulate, analyse, compare with the truth.

One replication simulates registers from the generator (default 6,000 persons), builds the
comparison cohort, estimates the programme effect with its bootstrap intervals and keeps,
per analysis (``adjusted``: ATT weighting; ``naive``) and measure, the truth (the ATT among
participants from their potential outcomes, ``truth["effect"]``), the estimate, its
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

__all__ = ["MEASURES", "programme_effect_replicate", "programme_effect_study", "summarise_coverage"]

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

    Returns one row per analysis and measure: ``analysis, measure, truth, estimate,
    ci_lower, ci_upper, bias, covered``.
    """
    from evaluation.effects.comparison import comparison_cohort
    from evaluation.effects.effect import estimate_programme_effect
    from evaluation.synthetic import SimulationConfig, simulate_registers

    sim_seed, cohort_seed, boot_seed = seed.spawn(3)
    sim = simulate_registers(
        SimulationConfig(
            n_persons=n_persons,
            motivation_strength=motivation_strength,
            bra_monte_carlo_persons=0,
        ),
        rng=np.random.default_rng(sim_seed),
    )
    cohort = comparison_cohort(
        sim.registers,
        design=design,  # type: ignore[arg-type]
        rng=np.random.default_rng(cohort_seed),
    )
    eff = estimate_programme_effect(
        cohort, n_boot=n_boot, per_protocol=False, rng=np.random.default_rng(boot_seed)
    )
    rows = []
    for analysis, name in _ANALYSES:
        for measure in measures:
            truth = _truth(sim.truth["effect"], measure)
            m = eff.measure(measure, analysis=analysis)
            rows.append(
                {
                    "analysis": name,
                    "measure": measure,
                    "truth": truth,
                    "estimate": float(m.estimate),
                    "ci_lower": float(m.ci_lower),
                    "ci_upper": float(m.ci_upper),
                    "bias": float(m.estimate - truth),
                    "covered": bool(m.ci_lower <= truth <= m.ci_upper),
                }
            )
    return rows


def summarise_coverage(replications: pd.DataFrame) -> pd.DataFrame:
    """Coverage and bias by analysis and measure.

    Returns ``analysis, measure, replications, coverage, mean_bias, bias_se`` (the Monte
    Carlo standard error of the mean bias: the estimates' SD over sqrt(R)), ``mean_truth``.
    """
    g = replications.groupby(["analysis", "measure"], sort=False)
    out = g.agg(
        replications=("covered", "size"),
        coverage=("covered", "mean"),
        mean_bias=("bias", "mean"),
        sd_estimate=("estimate", "std"),
        mean_truth=("truth", "mean"),
    ).reset_index()
    out["bias_se"] = out.pop("sd_estimate") / np.sqrt(out["replications"])
    return out[
        ["analysis", "measure", "replications", "coverage", "mean_bias", "bias_se", "mean_truth"]
    ]


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
