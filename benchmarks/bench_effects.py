"""Benchmarks of the programme-effect area.

Parts (run one at a time; heavy ones under ``flock /tmp/bench.lock``):

``bootstrap``
    500 bootstrap replicates of the weighted curves (propensity model refitted in every
    replicate) on a 20,000-person analysis table, against one fit on the same table. The
    target is a total time of at most 50 times one fit.
``trials``
    Sequential-trial construction (``comparison_cohort``) on 1,000,000 persons: the default
    synthetic registers tiled with fresh ids, so the register tables grow with the persons.
``replications``
    The replication study: ``--replications`` simulated data sets from the default
    generator, each analysed with ``estimate_programme_effect``: the programme-effect
    design of ``evaluation.effects.coverage`` run by ``evaluation.studies.run_study``
    (results per replication in ``--out``, resumed when run again); coverage of the 95 %
    intervals for the true ATT and the bias of the naive comparison.

Usage::

    .venv/bin/python benchmarks/bench_effects.py bootstrap
    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_effects.py trials
    .venv/bin/python benchmarks/bench_effects.py replications --replications 100
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def analysis_table(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A 20k-person analysis table shaped like a comparison cohort (one trial each)."""
    age = rng.integers(18, 60, n)
    prior = rng.poisson(2.5, n)
    sex = rng.choice(["F", "M"], n, p=[0.1, 0.9])
    muni = rng.choice(["Stockholm", "Skåne", "Västra Götaland", "Mellansverige", "other"], n)
    lin = -2.5 + 0.02 * (30 - age) + 0.15 * prior + 0.3 * (muni != "other")
    treated = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    rate = 0.0012 * np.exp(0.1 * prior - 0.01 * (age - 30)) * np.where(treated == 1, 0.8, 1.0)
    t_rel = rng.exponential(1 / rate)
    t_death = rng.exponential(1 / 0.00003, n)
    cens = rng.uniform(300, 2900, n)
    end = np.minimum(np.minimum(t_rel, t_death), cens)
    event = np.where(end == t_rel, 1, np.where(end == t_death, 2, 0))
    return pd.DataFrame(
        {
            "person_id": [f"P{i:06d}" for i in range(n)],
            "treated": treated,
            "age": age,
            "prior_decisions_5y": prior,
            "sex": sex,
            "municipality_group": muni,
            "duration_days": np.maximum(np.ceil(end), 1).astype(int),
            "event": event,
        }
    )


def bench_bootstrap(n: int = 20_000, n_boot: int = 500) -> None:
    from evaluation.effects import propensity_weights
    from evaluation.effects.bootstrap import cluster_frequencies, weighted_curves

    rng = np.random.default_rng(1)
    data = analysis_table(n, rng)
    formula = "C(sex) + bs(age, df=4) + np.log1p(prior_decisions_5y) + C(municipality_group)"
    dur = data.duration_days.to_numpy()
    ev = data.event.to_numpy()
    t = data.treated.to_numpy()

    def one_fit() -> None:
        ps = propensity_weights(data, formula, treatment="treated")
        weighted_curves(
            dur,
            ev,
            t,
            ps.design,
            np.ones((n, 1)),
            estimand="ATT",
            horizon=1095,
            tau=1095.75,
            beta0=ps.coefficients["coef"].to_numpy(),
        )

    one_fit()  # warm-up (imports)
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        one_fit()
    t_one = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    ps = propensity_weights(data, formula, treatment="treated")
    F = cluster_frequencies(data.person_id.to_numpy(), n_boot, rng)
    weighted_curves(
        dur,
        ev,
        t,
        ps.design,
        F,
        estimand="ATT",
        horizon=1095,
        tau=1095.75,
        beta0=ps.coefficients["coef"].to_numpy(),
    )
    t_boot = time.perf_counter() - t0
    print("| persons | replicates | one fit (s) | bootstrap (s) | ratio | peak MB |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {n:,} | {n_boot} | {t_one:.3f} | {t_boot:.2f} | {t_boot / t_one:.1f}x | "
        f"{_peak_mb():.0f} |"
    )


def tiled_registers(copies: int):
    from evaluation import load_synthetic
    from evaluation.registers import Registers

    reg = load_synthetic()
    tables = {}
    for name in ("persons", "programme", "offences", "custody", "exits"):
        df = reg.table(name)
        parts = []
        for c in range(copies):
            part = df.copy()
            part["person_id"] = part["person_id"].astype(str) + f"_{c:03d}"
            if name == "programme":
                part["episode_id"] = part["episode_id"].astype(str) + f"_{c:03d}"
            if name == "offences":
                part["offence_id"] = part["offence_id"].astype(str) + f"_{c:03d}"
            parts.append(part)
        tables[name] = pd.concat(parts, ignore_index=True)
    return Registers(**tables, study_start=reg.study_start, study_end=reg.study_end, meta=reg.meta)


def bench_trials(n_persons: int = 1_000_000) -> None:
    from evaluation.effects import comparison_cohort

    copies = int(np.ceil(n_persons / 6000))
    t0 = time.perf_counter()
    reg = tiled_registers(copies)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    c = comparison_cohort(reg, rng=1)
    t_trials = time.perf_counter() - t0
    n_trials = c.data.trial.nunique()
    print("| persons | trials | rows | participants | construction (s) | peak MB |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {len(reg.persons):,} | {n_trials} | {len(c.data):,} | "
        f"{int(c.data.treated.sum()):,} | {t_trials:.1f} | {_peak_mb():.0f} |"
    )
    print(f"(tiling the registers took {t_build:.1f} s, not included)")


def bench_replications(n_rep: int, n_boot: int, out: Path, motivation: float = 1.0) -> None:
    """The coverage study on the study runner (``evaluation.studies``), resumable in ``out``."""
    from evaluation.effects.coverage import programme_effect_study
    from evaluation.studies import run_study

    design = programme_effect_study(n_boot=n_boot, motivation_strength=motivation)
    result = run_study(design, replications=n_rep, seed=10_000, out=out)
    print(result.summary().round(4).to_string(index=False))
    print(
        f"total {result.seconds:.0f} s for {result.n_run} replications run now "
        f"({n_rep} in {out}), {n_boot} replicates, motivation_strength {motivation}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("part", choices=["bootstrap", "trials", "replications"])
    p.add_argument("--replications", type=int, default=100)
    p.add_argument("--n-boot", type=int, default=200)
    p.add_argument("--out", type=Path, default=Path("/tmp/effects_replications"))
    p.add_argument("--motivation", type=float, default=1.0, help="motivation_strength")
    a = p.parse_args()
    if a.part == "bootstrap":
        bench_bootstrap()
    elif a.part == "trials":
        bench_trials()
    else:
        bench_replications(a.replications, a.n_boot, a.out, a.motivation)


if __name__ == "__main__":
    main()
