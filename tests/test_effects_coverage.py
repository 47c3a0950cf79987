"""Coverage of the bootstrap intervals when the propensity model is right (slow).

The register replication study (benchmarks/README.md, ## effects) mixes the method's own
error with the unobserved motivation of the generator. Here the only confounders are
observed, so the 95 % intervals of the ATT risk difference must cover the truth at about the
nominal rate: 40 replications (run by `evaluation.studies.run_study`, each seeded from the
study's seed), each with 100 bootstrap replicates that refit the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.effects import estimate_programme_effect
from evaluation.studies import StudyDesign, run_study


def _draw(n: int, rng: np.random.Generator, *, both: bool = False):
    x = rng.normal(0, 1, n)
    z = rng.binomial(1, 0.4, n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.8 * x + 0.5 * z)))).astype(int)
    base = 0.0012 * np.exp(0.5 * x + 0.4 * z)
    e_rel = rng.exponential(1.0, n)  # common random numbers for both potential outcomes
    t_death = rng.exponential(1 / 0.0002, n)
    cens = rng.uniform(400, 1500, n)

    def outcome(treat: np.ndarray):
        t_rel = e_rel / (base * np.where(treat == 1, 0.7, 1.0))
        end = np.minimum(np.minimum(t_rel, t_death), cens)
        event = np.where(end == t_rel, 1, np.where(end == t_death, 2, 0))
        return np.maximum(np.ceil(end), 1).astype(int), event, t_rel, t_death

    dur, ev, _, _ = outcome(t)
    data = pd.DataFrame(
        {"person_id": np.arange(n), "treated": t, "x": x, "z": z, "duration_days": dur, "event": ev}
    )
    if not both:
        return data
    _, _, r1, d1 = outcome(np.ones(n, int))
    _, _, r0, d0 = outcome(np.zeros(n, int))
    m = t == 1
    f1 = np.mean((r1[m] <= d1[m]) & (np.ceil(r1[m]) <= 365))
    f0 = np.mean((r0[m] <= d0[m]) & (np.ceil(r0[m]) <= 365))
    return f1 - f0


def _replicate(seed: np.random.SeedSequence, *, truth: float) -> dict[str, float | bool]:
    """One replication: 1,500 persons, the weighted ATT with 100 bootstrap replicates."""
    rng = np.random.default_rng(seed)
    data = _draw(1500, rng)
    eff = estimate_programme_effect(
        data,
        formula="x + z",
        covariates=("x", "z"),
        n_boot=100,
        per_protocol=False,
        rng=rng,
    )
    r = eff.measure("risk_difference_1y")
    return {
        "covered": bool(r.ci_lower <= truth <= r.ci_upper),
        "adjusted_error": float(r.estimate - truth),
        "naive_error": float(eff.measure("risk_difference_1y", analysis="naive").estimate - truth),
    }


@pytest.mark.slow
def test_bootstrap_intervals_cover_the_att_at_the_nominal_rate():
    truth = _draw(400_000, np.random.default_rng(0), both=True)  # Monte Carlo SE < 0.001
    design = StudyDesign(name="att-coverage", replicate=_replicate, params={"truth": truth})
    reps = run_study(design, replications=40, seed=1, progress=False).replications
    # 40 replications: at 95 % nominal, 34 or fewer covered has probability < 1 %.
    assert reps["covered"].sum() >= 35
    # The naive comparison is biased (participants have higher x), the weighted one not:
    # mean errors compared with their standard errors over the replications.
    adj_err, naive_err = reps["adjusted_error"], reps["naive_error"]
    se = adj_err.std(ddof=1) / np.sqrt(40)
    assert abs(adj_err.mean()) < 3 * se
    assert naive_err.mean() > 5 * se
