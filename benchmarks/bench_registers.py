"""Reading, writing and validating registers at register scale.

Builds registers of 1M persons and 10M offences directly with numpy (faster than the
generator, and the validator's cost depends only on the row counts), then times
``Registers.problems()`` in memory, writing and reading (with validation) as Parquet and CSV,
and validation of a register with about 23,000 bad rows. The reference is plain
``pandas.read_parquet`` of the same five files, measured in the same run.

With ``--partitions K --workers W`` (default 8 and 2) the same registers are also written
partitioned by person and read lazily with validation part by part on a local Dask cluster
of W worker processes (started before the clock; the ids across parts checked too):
``Registers.read(path, lazy=True)`` + ``problems(client=...)``. ``--parquet-only`` skips
the CSV and bad-row steps.

Run: ``flock /tmp/bench.lock .venv/bin/python benchmarks/bench_registers.py [--persons N]``
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.registers import TABLES, Registers

DAY0 = np.datetime64("2010-01-01", "D")


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    digits = np.char.zfill(np.arange(1, n + 1).astype(str), width)
    return pd.Series(np.char.add(prefix, digits), dtype=object)


def _dates(days: np.ndarray) -> pd.Series:
    return pd.Series((DAY0 + days.astype("timedelta64[D]")).astype("datetime64[ns]"))


def _choice(rng: np.random.Generator, values: list[str], n: int) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), n)


def build(n_persons: int, seed: int = 1) -> Registers:
    """Valid registers with ten offences per person on average."""
    rng = np.random.default_rng(seed)
    n_off, n_cust, n_prog, n_exit = 10 * n_persons, n_persons, n_persons // 50, 3 * n_persons // 100
    pid = _ids("P", n_persons, 7)
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "sex": _choice(rng, ["F", "M"], n_persons),
            "birth_date": _dates(rng.integers(-16000, -5600, n_persons)),  # 15 by 2010
            "municipality": _choice(rng, ["Botkyrka", "Stockholm", "Malmö", "other"], n_persons),
            "affiliation": _choice(rng, ["gang", "network", "peripheral"], n_persons),
        }
    )
    off = rng.integers(0, 5600, n_off)
    offences = pd.DataFrame(
        {
            "offence_id": _ids("O", n_off, 8),
            "person_id": pid.to_numpy()[rng.integers(0, n_persons, n_off)],
            "offence_date": _dates(off),
            "decision_date": _dates(np.minimum(off + rng.integers(0, 180, n_off), 5843)),
            "category": _choice(rng, ["violence", "weapons", "drugs", "property", "other"], n_off),
            "sanction": _choice(rng, ["prison", "probation", "fine", "waiver"], n_off),
        }
    )
    start = rng.integers(0, 5400, n_cust)
    custody = pd.DataFrame(
        {
            "person_id": pid.to_numpy()[rng.permutation(n_persons)[:n_cust]],
            "start_date": _dates(start),
            "end_date": _dates(start + rng.integers(1, 365, n_cust)),
            "kind": _choice(rng, ["remand", "prison"], n_cust),
        }
    )
    ps = rng.integers(1900, 5000, n_prog)
    programme = pd.DataFrame(
        {
            "episode_id": _ids("E", n_prog, 6),
            "person_id": pid.to_numpy()[rng.permutation(n_persons)[:n_prog]],
            "municipality": "Malmö",
            "referral": "police",
            "contact_date": _dates(ps - 10),
            "start_date": _dates(ps),
            "end_date": _dates(ps + 200),
            "exit_reason": "completed",
        }
    )
    exits = pd.DataFrame(
        {
            "person_id": pid.to_numpy()[rng.permutation(n_persons)[:n_exit]],
            "date": _dates(np.full(n_exit, 5843)),
            "reason": "death",
        }
    )
    return Registers(
        persons=persons,
        programme=programme,
        offences=offences,
        custody=custody,
        exits=exits,
        study_start=pd.Timestamp("2010-01-01"),
        study_end=pd.Timestamp("2025-12-31"),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parquet-only", action="store_true")
    args = parser.parse_args(argv)
    regs = build(args.persons)
    rows: list[tuple[str, float]] = []

    def timed(label: str, f: Callable[[], object]) -> object:
        t = time.perf_counter()
        out = f()
        rows.append((label, time.perf_counter() - t))
        return out

    problems = timed("problems() in memory, valid", regs.problems)
    assert problems == [], problems
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timed("write parquet", lambda: regs.write(folder / "pq", format="parquet"))
        timed(
            "pandas.read_parquet, five tables (reference)",
            lambda: [pd.read_parquet(folder / "pq" / f"{t}.parquet") for t in TABLES],
        )
        timed("Registers.read parquet + validate", lambda: Registers.read(folder / "pq"))
        timed(
            f"write parquet, {args.partitions} parts by person",
            lambda: regs.write(folder / "parts", format="parquet", partitions=args.partitions),
        )
        if args.workers > 0:
            _partitioned_read(folder / "parts", args.workers, timed)
        if not args.parquet_only:
            timed("write csv", lambda: regs.write(folder / "csv", format="csv"))
            timed("Registers.read csv + validate", lambda: Registers.read(folder / "csv"))
    if args.parquet_only:
        _report(rows, args.persons, len(regs.offences))
        return
    bad = regs.offences.copy()
    bad.loc[::1000, "decision_date"] = pd.Timestamp("2030-01-01")
    bad.loc[::777, "sanction"] = "jail"
    corrupt = Registers(
        **{t: regs.table(t) for t in TABLES if t != "offences"},
        offences=bad,
        study_start=regs.study_start,
        study_end=regs.study_end,
    )
    found = timed("problems() with bad rows", corrupt.problems)
    assert isinstance(found, list) and len(found) >= 2, found
    _report(rows, args.persons, len(regs.offences))


def _partitioned_read(folder: Path, workers: int, timed: Callable[..., object]) -> None:
    """Lazy read + validation part by part on a local cluster (started before the clock)."""
    from distributed import Client, LocalCluster

    from evaluation._dask import worker_malloc

    def warm() -> None:
        import evaluation.registers  # noqa: F401  (imports are not reading)

    with worker_malloc():  # as evaluation's own local clusters (evaluation._dask)
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    with cluster, Client(cluster) as client:
        client.run(warm)

        def read_and_validate() -> None:
            parts = Registers.read(folder, lazy=True, validate=False)
            problems = parts.problems(client=client)
            assert problems == [], problems

        timed(f"Registers.read(lazy=True) + validate, {workers} workers", read_and_validate)
        peaks = client.run(_own_peak_gb)
        print(f"peak memory per worker: {', '.join(f'{p:.2f} GB' for p in peaks.values())}")


def _own_peak_gb() -> float:
    """This process's own peak (VmHWM); ru_maxrss keeps the spawning process's across exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1e6


def _report(rows: list[tuple[str, float]], persons: int, offences: int) -> None:
    reference = dict(rows)["pandas.read_parquet, five tables (reference)"]
    print(f"persons {persons:,}, offences {offences:,}")
    print(f"{'step':55s} {'seconds':>8s} {'ratio to read_parquet':>22s}")
    for label, seconds in rows:
        print(f"{label:55s} {seconds:8.1f} {seconds / reference:22.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak resident memory: {peak:.2f} GB")


if __name__ == "__main__":
    main()
