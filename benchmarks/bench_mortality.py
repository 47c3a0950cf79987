"""Replications of the effect on death and on relapse or death (issue 13).

``--replications`` data sets from the default generator (different seeds), each analysed
with ``estimate_mortality_effect`` for both outcomes; coverage of the 95 % bootstrap
intervals for the true ATT risk differences (``truth["mortality"]``), mean bias and the
number of deaths among the participants. The results are recorded in
``tests/recovery/test_mortality_recovery.py``.

Usage::

    .venv/bin/python benchmarks/bench_mortality.py --replications 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def bench_replications(n_rep: int, n_boot: int, out: Path, formula: str | None = None) -> None:
    from evaluation.effects import (
        DEFAULT_PROPENSITY_FORMULA,
        comparison_cohort,
        estimate_mortality_effect,
    )
    from evaluation.synthetic import SimulationConfig, simulate_registers

    rows = []
    t0 = time.perf_counter()
    for r in range(n_rep):
        sim = simulate_registers(SimulationConfig(bra_monte_carlo_persons=0), rng=20_000 + r)
        truth = sim.truth["mortality"]
        cohort = comparison_cohort(sim.registers, rng=r)
        for outcome in ("death", "relapse_or_death"):
            eff = estimate_mortality_effect(
                cohort,
                sim.registers,
                outcome=outcome,
                n_boot=n_boot,
                per_protocol=False,
                formula=formula or DEFAULT_PROPENSITY_FORMULA,
                rng=r,
            )
            for year in ("1", "2", "3"):
                m = eff.measure(f"risk_difference_{year}y")
                rows.append(
                    {
                        "replication": r,
                        "outcome": outcome,
                        "year": int(year),
                        "truth": truth[f"risk_{outcome}_difference"][year],
                        "estimate": m.estimate,
                        "ci_lower": m.ci_lower,
                        "ci_upper": m.ci_upper,
                        "events": eff.events,
                        "deaths_participants_3y": truth["n_deaths_with"],
                    }
                )
        pd.DataFrame(rows).to_csv(out, index=False)
        print(f"replication {r} done, {time.perf_counter() - t0:.0f} s", flush=True)
    res = pd.DataFrame(rows)
    res["covered"] = (res.ci_lower <= res.truth) & (res.truth <= res.ci_upper)
    res["bias"] = res.estimate - res.truth
    res["width"] = res.ci_upper - res.ci_lower
    table = res.groupby(["outcome", "year"]).agg(
        replications=("covered", "size"),
        coverage=("covered", "mean"),
        mean_bias=("bias", "mean"),
        sd_estimate=("estimate", "std"),
        mean_width=("width", "mean"),
        mean_truth=("truth", "mean"),
        mean_deaths_3y=("deaths_participants_3y", "mean"),
    )
    table["bias_se"] = table.sd_estimate / np.sqrt(table.replications)
    print(table.round(4).to_string())
    print(f"total {time.perf_counter() - t0:.0f} s for {n_rep} replications, {n_boot} replicates")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--n-boot", type=int, default=200)
    p.add_argument("--out", type=Path, default=Path("/tmp/mortality_replications.csv"))
    p.add_argument("--formula", default=None, help="propensity formula (default: the package's)")
    a = p.parse_args()
    bench_replications(a.replications, a.n_boot, a.out, a.formula)


if __name__ == "__main__":
    main()
