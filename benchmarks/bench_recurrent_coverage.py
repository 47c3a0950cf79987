"""Replications of the effect on the number of relapse offences (issue 13).

``--replications`` data sets from the default generator (different seeds), each analysed
with ``estimate_recurrent_effect``; coverage of the 95 % bootstrap intervals for the true
ATT difference and ratio of expected relapse offences at 1, 2 and 3 years
(``truth["recurrence"]``), mean bias and its standard error. The results are recorded in
``tests/recovery/test_recurrent_recovery.py``.

Usage::

    .venv/bin/python benchmarks/bench_recurrent_coverage.py --replications 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def bench_replications(n_rep: int, n_boot: int, out: Path) -> None:
    from evaluation.effects import comparison_cohort, estimate_recurrent_effect
    from evaluation.synthetic import SimulationConfig, simulate_registers

    rows = []
    t0 = time.perf_counter()
    for r in range(n_rep):
        sim = simulate_registers(SimulationConfig(bra_monte_carlo_persons=0), rng=30_000 + r)
        truth = sim.truth["recurrence"]
        design = comparison_cohort(sim.registers, rng=r)
        eff = estimate_recurrent_effect(sim.registers, design, n_boot=n_boot, rng=r)
        for year in ("1", "2", "3"):
            for measure, true in (
                ("difference", truth["mean_relapses_difference"][year]),
                ("ratio", truth["rate_ratio"][year]),
            ):
                m = eff.measure(f"expected_offences_{measure}_{year}y")
                rows.append(
                    {
                        "replication": r,
                        "measure": measure,
                        "year": int(year),
                        "truth": true,
                        "estimate": m.estimate,
                        "ci_lower": m.ci_lower,
                        "ci_upper": m.ci_upper,
                    }
                )
        pd.DataFrame(rows).to_csv(out, index=False)
        print(f"replication {r} done, {time.perf_counter() - t0:.0f} s", flush=True)
    res = pd.DataFrame(rows)
    res["covered"] = (res.ci_lower <= res.truth) & (res.truth <= res.ci_upper)
    res["bias"] = res.estimate - res.truth
    res["width"] = res.ci_upper - res.ci_lower
    table = res.groupby(["measure", "year"]).agg(
        replications=("covered", "size"),
        coverage=("covered", "mean"),
        mean_bias=("bias", "mean"),
        sd_estimate=("estimate", "std"),
        mean_width=("width", "mean"),
        mean_truth=("truth", "mean"),
    )
    table["bias_se"] = table.sd_estimate / np.sqrt(table.replications)
    print(table.round(4).to_string())
    print(f"total {time.perf_counter() - t0:.0f} s for {n_rep} replications, {n_boot} replicates")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--n-boot", type=int, default=200)
    p.add_argument("--out", type=Path, default=Path("/tmp/recurrent_replications.csv"))
    a = p.parse_args()
    bench_replications(a.replications, a.n_boot, a.out)


if __name__ == "__main__":
    main()
