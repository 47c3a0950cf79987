"""Kaplan–Meier at scale: evaluation.kaplan_meier against lifelines' KaplanMeierFitter.

Run under the shared lock:  flock /tmp/bench.lock .venv/bin/python benchmarks/bench_km.py
Prints, per size, the best of ``REPEATS`` wall times for each tool on the same data in the
same run, the ratio (ours / lifelines; the target is at most 1.2 at 1M persons) and the
peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from evaluation.survival import kaplan_meier

REPEATS = 3


def cohort(n: int, seed: int = 1) -> pd.DataFrame:
    """Register-like data: whole days up to 10 years, ~55 % relapse, three other codes."""
    rng = np.random.default_rng(seed)
    days = np.minimum(np.ceil(rng.exponential(700, n)), 3652).astype("int64")
    event = rng.choice([0, 1, 2, 3], n, p=[0.38, 0.55, 0.04, 0.03])
    return pd.DataFrame({"duration_days": days, "event": event})


def best(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        df = cohort(n)
        relapse = df["event"] == 1

        def ours(df=df) -> None:
            kaplan_meier(df, duration="duration_days", event="event")

        def theirs(df=df, relapse=relapse) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                KaplanMeierFitter().fit(df["duration_days"], relapse)

        # Same curve: the comparison is of equal work.
        km = kaplan_meier(df, duration="duration_days", event="event")
        kmf = KaplanMeierFitter().fit(df["duration_days"], relapse)
        grid = km.table["time"].to_numpy()
        assert np.allclose(km.table["estimate"], kmf.survival_function_at_times(grid))
        t_ours, t_theirs = best(ours), best(theirs)
        rows.append(
            {
                "persons": n,
                "evaluation_s": round(t_ours, 3),
                "lifelines_s": round(t_theirs, 3),
                "ratio": round(t_ours / t_theirs, 2),
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"peak memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
