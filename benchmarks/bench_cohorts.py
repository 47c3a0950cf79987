"""Benchmark: building the bra-final relapse cohort from 1M persons, against reading them.

Run under the shared lock, from the repository root::

    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_cohorts.py [--persons 1000000]

The registers are simulated once with ``simulate_registers`` (a small Monte Carlo
population for the truth, which is not used here) and written as Parquet into
``--data`` (default ``/tmp/bench_cohorts_<persons>``, reused when present). Then, in
fresh Python processes (so that the peak resident memory belongs to the cohort alone):

* ``read parquet``: ``pandas.read_parquet`` of the five tables (the reference; own
  process, pyarrow imported first, the faster of two passes);
* ``Registers.read``: the package's reader without validation (types and ids checked);
* ``relapse_cohort``: entry events, the random one-per-year selection, follow-up, the
  window flags, covariates at entry and the flow, for the ``bra-final`` preset;
* ``relapse_table``: Brå's table with disclosure control, for scale.

The ratio column divides each time by the ``read parquet`` time measured in the same run
(target for the cohort: at most 3).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

GENERATE = r"""
import sys
from evaluation.synthetic import SimulationConfig, simulate_registers
n, out = int(sys.argv[1]), sys.argv[2]
sim = simulate_registers(SimulationConfig(n_persons=n, bra_monte_carlo_persons=2000), rng=2025)
sim.registers.write(out, format="parquet")
"""

READ = r"""
import json, sys, time
from pathlib import Path
import pandas as pd
import pyarrow.parquet  # noqa: F401  (import time is not reading time)
folder = Path(sys.argv[1])
names = ("persons", "programme", "offences", "custody", "exits")
best = float("inf")
for _ in range(2):  # the first pass warms the file cache; the faster pass is reported
    t = time.perf_counter()
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}
    best = min(best, time.perf_counter() - t)
    del tables
print(json.dumps({"read parquet": best}))
"""

MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
from evaluation.registers import Registers
from evaluation.cohorts import relapse_cohort, relapse_table
folder = Path(sys.argv[1])
times = {}
t = time.perf_counter()
reg = Registers.read(folder, validate=False)
times["Registers.read"] = time.perf_counter() - t
t = time.perf_counter()
cohort = relapse_cohort(reg, definition="bra-final", rng=1)
times["relapse_cohort"] = time.perf_counter() - t
t = time.perf_counter()
relapse_table(cohort)
times["relapse_table"] = time.perf_counter() - t
print(json.dumps({
    "times": times,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "persons": len(reg.persons), "offences": len(reg.offences), "custody": len(reg.custody),
    "entries": cohort.n, "cohort_persons": cohort.n_persons,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    folder = args.data or Path(f"/tmp/bench_cohorts_{args.persons}")
    if not (folder / "meta.json").is_file():
        subprocess.run([sys.executable, "-c", GENERATE, str(args.persons), str(folder)], check=True)
    read = subprocess.run(
        [sys.executable, "-c", READ, str(folder)], check=True, capture_output=True, text=True
    )
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(folder)], check=True, capture_output=True, text=True
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["times"] = json.loads(read.stdout.strip().splitlines()[-1]) | r["times"]
    base = r["times"]["read parquet"]
    print(
        f"persons {r['persons']:,}  offences {r['offences']:,}  custody {r['custody']:,}  "
        f"cohort entries {r['entries']:,} ({r['cohort_persons']:,} persons)"
    )
    print(f"{'step':<16} {'seconds':>8} {'ratio':>6}")
    for step, s in r["times"].items():
        print(f"{step:<16} {s:>8.2f} {s / base:>6.2f}")
    print(
        f"ratio of relapse_cohort to Registers.read: "
        f"{r['times']['relapse_cohort'] / r['times']['Registers.read']:.2f}"
    )
    print(f"peak memory of the cohort process (read + cohort + table): {r['peak_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
