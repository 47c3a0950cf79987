"""The coverage study of the pooled effect across municipalities, on the generator.

One replication simulates registers from the default generator (its municipalities'
programme effects differ: ``effect_tau``, truth in ``truth["effect"]["by_municipality"]``),
builds the comparison cohort, estimates the effect in each municipality with
:func:`~evaluation.sites.effect_by_site` (ATT risk difference at 1 year, bootstrap SE per
municipality) and pools them by random-effects meta-analysis (REML τ², Hartung–Knapp
interval).

The target
    A random-effects meta-analysis estimates the mean of the municipalities' effects, each
    municipality counting once, whatever its size. Its truth here is the unweighted mean of
    the true ATT risk differences at 1 year (``by_municipality[m]["risk_difference_1y"]``,
    from the potential outcomes of that municipality's participants) over the
    municipalities that ``effect_by_site`` pooled (a municipality with fewer than
    ``min_treated`` participants is left out of both). The participant-weighted ATT
    (``truth["effect"]["risk_difference"]["1"]``) is kept beside it, as ``truth_att``, to
    show how far the two targets lie apart.

``motivation_strength`` is the generator's unobserved confounding (1 by default; 0 leaves
only what the registers hold), which biases every municipality's weighted estimate alike.

Run it with :func:`evaluation.studies.run_study` (``benchmarks/bench_sites_coverage.py``);
``benchmarks/README.md`` ("sites") holds the recorded runs.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from evaluation.studies import StudyDesign

__all__ = ["site_coverage_replicate", "site_coverage_study", "summarise_site_coverage"]

MEASURE = "risk_difference_1y"


def site_coverage_replicate(
    seed: np.random.SeedSequence,
    *,
    n_persons: int = 6000,
    n_boot: int = 100,
    effect_tau: float = 0.15,
    motivation_strength: float = 1.0,
    method: str = "REML",
    test: str = "knha",
) -> dict[str, Any]:
    """One replication: simulated registers, comparison cohort, effects by municipality, pooled.

    Returns one row: ``truth`` (mean of the pooled municipalities' true ATTs), ``truth_att``
    (the participants' ATT), ``estimate``, ``ci_lower``, ``ci_upper``, ``covered``,
    ``covered_att``, ``tau2``, ``i2``, ``n_sites``, ``bias``.
    """
    from evaluation._errors import EvaluationWarning
    from evaluation.effects.coverage import simulated_design
    from evaluation.sites.by_site import effect_by_site

    sim, design, site_seed = simulated_design(
        seed,
        n_persons=n_persons,
        effect_tau=effect_tau,
        motivation_strength=motivation_strength,
    )
    data = design.data[design.data["municipality"].astype(str) != "other"]
    with warnings.catch_warnings():
        # Small municipalities' propensity models may not converge: kept, as the report does.
        warnings.simplefilter("ignore", EvaluationWarning)
        eff = effect_by_site(
            data,
            measures=(MEASURE,),
            method=method,  # type: ignore[arg-type]
            test=test,  # type: ignore[arg-type]
            n_boot=n_boot,
            rng=np.random.default_rng(site_seed),
        )
    meta = eff.meta[MEASURE]
    by = sim.truth["effect"]["by_municipality"]
    pooled = eff.table.loc[eff.table["included"], "group"].astype(str).tolist()
    truth = float(np.mean([by[g]["risk_difference_1y"] for g in pooled]))
    truth_att = float(sim.truth["effect"]["risk_difference"]["1"])
    return {
        "truth": truth,
        "truth_att": truth_att,
        "estimate": float(meta.estimate),
        "ci_lower": float(meta.ci_lower),
        "ci_upper": float(meta.ci_upper),
        "covered": bool(meta.ci_lower <= truth <= meta.ci_upper),
        "covered_att": bool(meta.ci_lower <= truth_att <= meta.ci_upper),
        "tau2": float(meta.tau2),
        "i2": float(meta.i2),
        "n_sites": len(pooled),
        "bias": float(meta.estimate - truth),
    }


def summarise_site_coverage(replications: pd.DataFrame) -> pd.DataFrame:
    """Coverage with its Monte Carlo SE, bias with its SE, mean width and mean τ².

    Returns one row: ``replications, coverage, coverage_se`` (``sqrt(c (1 - c) / R)``),
    ``coverage_att``, ``mean_bias, bias_se`` (the estimates' SD over ``sqrt(R)``),
    ``mean_width``, ``mean_tau2``, ``mean_sites``, ``mean_truth``, ``mean_truth_att``.
    """
    r = replications
    n = len(r)
    cov = float(r["covered"].mean())
    return pd.DataFrame(
        [
            {
                "replications": n,
                "coverage": cov,
                "coverage_se": float(np.sqrt(cov * (1 - cov) / n)) if n else np.nan,
                "coverage_att": float(r["covered_att"].mean()),
                "mean_bias": float(r["bias"].mean()),
                "bias_se": float(r["estimate"].std() / np.sqrt(n)) if n > 1 else np.nan,
                "mean_width": float((r["ci_upper"] - r["ci_lower"]).mean()),
                "mean_tau2": float(r["tau2"].mean()),
                "mean_sites": float(r["n_sites"].mean()),
                "mean_truth": float(r["truth"].mean()),
                "mean_truth_att": float(r["truth_att"].mean()),
            }
        ]
    )


def site_coverage_study(
    *,
    n_persons: int = 6000,
    n_boot: int = 100,
    effect_tau: float = 0.15,
    motivation_strength: float = 1.0,
    method: str = "REML",
    test: str = "knha",
) -> StudyDesign:
    """The coverage study of the pooled effect across municipalities (module docstring).

    Examples
    --------
    >>> study = site_coverage_study(n_boot=50)
    >>> study.name, study.params["effect_tau"]
    ('site-coverage', 0.15)
    """
    return StudyDesign(
        name="site-coverage",
        replicate=site_coverage_replicate,
        params={
            "n_persons": n_persons,
            "n_boot": n_boot,
            "effect_tau": effect_tau,
            "motivation_strength": motivation_strength,
            "method": method,
            "test": test,
        },
        summarise=summarise_site_coverage,
        description="coverage of the pooled effect across municipalities on simulated registers",
    )
