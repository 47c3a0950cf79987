"""Benchmark: the programme-effect coverage study on one and on two worker processes.

Run from the repository root (heavy: under the shared lock)::

    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_studies.py [--replications 100]

Parts, in one run so that the ratios compare like with like:

* ``one replication``: the default design (6,000 persons, 200 bootstrap replicates, the
  Brå Monte Carlo of the truth skipped) in this process, the median of three after a
  warm-up; beside it the same replication with the truth's 40,000-person Monte Carlo
  (``SimulationConfig()``'s default), as the study paid for it before.
* ``1 worker`` and ``2 workers``: ``run_study`` of ``--replications`` replications on a
  local Dask cluster of one and of two worker processes (one thread each), results
  written to a folder; the two runs must give identical numbers. Target: two workers in
  at most 0.6x the time of one on this 2-core machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def one_replication(monte_carlo: int) -> float:
    from evaluation.effects.comparison import comparison_cohort
    from evaluation.effects.effect import estimate_programme_effect
    from evaluation.synthetic import SimulationConfig, simulate_registers

    seed = np.random.SeedSequence(1)
    t0 = time.perf_counter()
    sim = simulate_registers(SimulationConfig(bra_monte_carlo_persons=monte_carlo), rng=seed)
    cohort = comparison_cohort(sim.registers, rng=1)
    estimate_programme_effect(cohort, n_boot=200, per_protocol=False, rng=1)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--replications", type=int, default=100)
    p.add_argument("--seed", type=int, default=2026)
    a = p.parse_args()
    from distributed import Client, LocalCluster

    from evaluation._dask import worker_malloc
    from evaluation.effects.coverage import programme_effect_replicate, programme_effect_study
    from evaluation.studies import run_study

    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    programme_effect_replicate(np.random.SeedSequence(0), n_persons=1000, n_boot=20)  # warm-up
    fast = statistics.median(one_replication(0) for _ in range(3))
    slow = one_replication(40_000)
    print("| one replication | seconds |")
    print("|---|---:|")
    print(f"| default study (Brå Monte Carlo skipped) | {fast:.2f} |")
    print(f"| with the truth's 40,000-person Monte Carlo | {slow:.2f} |")

    design = programme_effect_study()
    times, frames = {}, {}
    for n_workers in (1, 2):
        out = Path(tempfile.mkdtemp(prefix=f"bench_studies_{n_workers}_"))
        with worker_malloc():  # as evaluation's own local clusters (evaluation._dask)
            cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
        with cluster, Client(cluster) as client:
            t0 = time.perf_counter()
            result = run_study(
                design,
                replications=a.replications,
                seed=a.seed,
                out=out,
                client=client,
                progress=False,
            )
            times[n_workers] = time.perf_counter() - t0
        frames[n_workers] = result.replications
        shutil.rmtree(out)
    pd.testing.assert_frame_equal(frames[1], frames[2])
    print()
    print(f"| workers | {a.replications} replications (s) | per replication (s) | ratio to 1 |")
    print("|---|---:|---:|---:|")
    for n_workers, seconds in times.items():
        print(
            f"| {n_workers} | {seconds:.1f} | {seconds / a.replications:.2f} | "
            f"{seconds / times[1]:.2f} |"
        )
    print()
    print("identical numbers on 1 and 2 workers: True")
    print(design.summarise(frames[2]).round(4).to_string(index=False))  # type: ignore[misc]
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
