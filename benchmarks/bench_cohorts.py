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

With ``--partitions K --workers W`` (default 8 and 2) the registers are also written
partitioned by person (``Registers.write(..., partitions=K)``, reused when present) and
the cohort is built part by part on a local Dask cluster of W worker processes, started
before the clock (``relapse_cohort`` of ``Registers.read(path, lazy=True)``, via
``relapse_cohort_partitioned``), in a fresh process; reported: the time, the peak resident
memory of each worker and of the calling process, and whether the rows equal the
in-memory cohort's (a hash of every row compared).

``--tile T`` (with ``--partitions K``) builds registers of T times the persons, chunk by
chunk: each chunk is the ``--persons`` registers with fresh ids (``-c<chunk>`` appended to
every id), added to the K parts as files of their own, so no process holds more than one
chunk; then the cohort is written part by part (``write_relapse_cohort``: the workers
write their rows, the calling process receives the flows only).
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


PARTITION = r"""
import sys
from evaluation.registers import Registers
Registers.read(sys.argv[1], validate=False).write(
    sys.argv[2], format="parquet", partitions=int(sys.argv[3])
)
"""

DIGEST = r"""
import json, sys
import pandas as pd
from evaluation.registers import Registers
from evaluation.cohorts import relapse_cohort
cohort = relapse_cohort(Registers.read(sys.argv[1], validate=False), rng=1)
print(json.dumps({"digest": int(pd.util.hash_pandas_object(cohort.data, index=False).sum())}))
"""

ON_DASK = r"""
import json, resource, sys, time
import pandas as pd
from distributed import Client, LocalCluster
from evaluation.registers import Registers
from evaluation.cohorts.partitioned import relapse_cohort_partitioned, write_relapse_cohort
from evaluation._dask import worker_malloc
folder, workers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def warm():
    import evaluation.cohorts  # noqa: F401  (imports are not building)

def peak():
    # VmHWM: this process's own peak. ru_maxrss would keep the peak of the process that
    # spawned the worker (Linux keeps it across exec).
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024

with worker_malloc():  # as evaluation's own local clusters (evaluation._dask)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", memory_limit=0)
with cluster, Client(cluster) as client:
    client.run(warm)
    t = time.perf_counter()
    parts = Registers.read(folder, lazy=True, validate=False)
    if out == "-":
        cohort = relapse_cohort_partitioned(parts, rng=1, client=client)
        seconds = time.perf_counter() - t  # the check's hash below is not building
        rows = cohort.n
        digest = int(pd.util.hash_pandas_object(cohort.data, index=False).sum())
    else:
        flow = write_relapse_cohort(parts, out, rng=1, client=client)
        seconds = time.perf_counter() - t
        rows = int(flow.loc[flow.reason == "included", "n_entries"].iloc[0])
        digest = None
    peaks = list(client.run(peak).values())
print(json.dumps({"seconds": seconds, "worker_peak_mb": peaks, "driver_peak_mb": peak(),
                  "rows": rows, "digest": digest, "parts": parts.partitions,
                  "table_rows": parts.rows()}))
"""

TILE = r"""
import sys, time
import numpy as np
from evaluation.registers import Registers
from evaluation.registers._partitioned import write_partitioned
source, target, k, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
reg = Registers.read(source, validate=False)
tag = f"-c{chunk}"
tables = {}
for name in ("persons", "programme", "offences", "custody", "exits"):
    t = reg.table(name).copy()
    for col in ("person_id", "episode_id", "offence_id"):
        if col in t.columns:
            t[col] = (t[col].astype(str) + tag).astype(object)
    tables[name] = t
piece = Registers(**tables, study_start=reg.study_start, study_end=reg.study_end, meta=reg.meta)
write_partitioned(piece, __import__("pathlib").Path(target), k, chunk=chunk)
"""


def _run(script: str, *argv: object) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, argv)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _partitioned(folder: Path, k: int, workers: int, base: float) -> None:
    parts = Path(f"{folder}_parts{k}")
    if not (parts / "partitions.json").is_file():
        subprocess.run(
            [sys.executable, "-c", PARTITION, str(folder), str(parts), str(k)], check=True
        )
    r = _run(ON_DASK, parts, workers, "-")
    same = r["digest"] == _run(DIGEST, folder)["digest"]
    print(
        f"relapse_cohort, {k} parts on {workers} workers: {r['seconds']:.2f} s, ratio "
        f"{r['seconds'] / base:.2f} to read parquet; peak per worker "
        f"{', '.join(f'{m:,.0f}' for m in r['worker_peak_mb'])} MB, calling process "
        f"{r['driver_peak_mb']:,.0f} MB; {r['rows']:,} rows, equal to in-memory: {same}"
    )


def _tiled(folder: Path, k: int, workers: int, tile: int) -> None:
    import shutil
    import time

    big = Path(f"{folder}_x{tile}_parts{k}")
    if not (big / "partitions.json").is_file():
        shutil.rmtree(big, ignore_errors=True)
        t = time.perf_counter()
        for chunk in range(tile):
            subprocess.run(
                [sys.executable, "-c", TILE, str(folder), str(big), str(k), str(chunk)], check=True
            )
            print(f"chunk {chunk + 1}/{tile} written ({time.perf_counter() - t:.0f} s)", flush=True)
    out = Path(f"{big}_cohort")
    shutil.rmtree(out, ignore_errors=True)
    r = _run(ON_DASK, big, workers, out)
    print(
        f"{r['table_rows']['persons']:,} persons, {r['table_rows']['offences']:,} offences, "
        f"{r['parts']} parts: cohort of {r['rows']:,} entries written in {r['seconds']:.1f} s on "
        f"{workers} workers; peak per worker "
        f"{', '.join(f'{m:,.0f}' for m in r['worker_peak_mb'])} MB, calling process "
        f"{r['driver_peak_mb']:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tile", type=int, default=0, help="registers of T x --persons")
    parser.add_argument("--skip-in-memory", action="store_true")
    args = parser.parse_args()
    folder = args.data or Path(f"/tmp/bench_cohorts_{args.persons}")
    if not (folder / "meta.json").is_file():
        subprocess.run([sys.executable, "-c", GENERATE, str(args.persons), str(folder)], check=True)
    subprocess.run(["uptime"], check=True)
    if args.tile:
        _tiled(folder, args.partitions, args.workers, args.tile)
        subprocess.run(["uptime"], check=True)
        return
    read = subprocess.run(
        [sys.executable, "-c", READ, str(folder)], check=True, capture_output=True, text=True
    )
    if args.skip_in_memory:
        base = json.loads(read.stdout.strip().splitlines()[-1])["read parquet"]
        print(f"read parquet {base:.2f} s")
        _partitioned(folder, args.partitions, args.workers, base)
        subprocess.run(["uptime"], check=True)
        return
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
    if args.workers:
        _partitioned(folder, args.partitions, args.workers, base)
    subprocess.run(["uptime"], check=True)


if __name__ == "__main__":
    main()
