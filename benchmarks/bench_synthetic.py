"""Benchmark: generating synthetic registers (with the truth) at 100k and 1M persons.

Run under the shared lock, from the repository root::

    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_synthetic.py [--sizes 100000 1000000]

Each size runs in a fresh Python process, so that the peak resident memory
(``resource.getrusage``'s ``ru_maxrss``) belongs to that size alone. Reported: the time of
``simulate_registers`` (population, the world with the programme, the participants' world
without it, the registers, the truth with its 40,000-person Monte Carlo population and a
lifelines Cox fit), the time of writing the registers as Parquet for scale, table sizes,
and the time per 1,000 persons. The ratio column compares each size's time per person with
the smallest size's (1.0 = linear scaling).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, tempfile, time
from evaluation.synthetic import SimulationConfig, simulate_registers, write_synthetic
n = int(sys.argv[1])
t0 = time.perf_counter()
sim = simulate_registers(SimulationConfig(n_persons=n), rng=20151)
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    write_synthetic(sim, folder, format="parquet")
t2 = time.perf_counter()
regs = sim.registers
print(json.dumps({
    "n": n,
    "simulate_s": t1 - t0,
    "write_parquet_s": t2 - t1,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "offences": len(regs.offences),
    "custody": len(regs.custody),
    "episodes": len(regs.programme),
    "participants": sim.truth["effect"]["n_participants"],
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory():
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(n)], check=True, capture_output=True, text=True
            )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]["simulate_s"] / rows[0]["n"]
    header = (
        f"{'persons':>10} {'simulate s':>11} {'s/1k':>7} {'ratio':>6} {'parquet s':>10} "
        f"{'peak MB':>8} {'offences':>10} {'custody':>9} {'episodes':>9}"
    )
    print(header)
    for r in rows:
        per = r["simulate_s"] / r["n"]
        print(
            f"{r['n']:>10,} {r['simulate_s']:>11.1f} {1000 * per:>7.3f} {per / base:>6.2f} "
            f"{r['write_parquet_s']:>10.1f} {r['peak_mb']:>8.0f} {r['offences']:>10,} "
            f"{r['custody']:>9,} {r['episodes']:>9,}"
        )


if __name__ == "__main__":
    main()
