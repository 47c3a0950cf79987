"""Run every benchmark in turn, each in its own process, at register scale.

``make bench`` calls this. Each script prints its own table (times, ratios against lifelines,
comprisk or R measured in the same run, peak memory); copy the tables into
``benchmarks/README.md`` when a hot path changes. ``--quick`` runs the same scripts at 100k
persons, to check that they work before a long run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def commands(quick: bool) -> list[list[str]]:
    """The benchmark invocations, full size or quick."""
    n = "100000" if quick else "1000000"
    return [
        ["bench_registers.py", "--persons", n],
        ["bench_synthetic.py", "--sizes", "100000", *([] if quick else ["1000000"])],
        ["bench_km.py", "--sizes", "100000", *([] if quick else ["1000000"])],
        ["bench_cox.py", "--n", n, "--r-n", "20000" if quick else "100000"],
        ["bench_competing.py"],
        ["bench_cohorts.py", "--persons", n],
        ["bench_effects.py", "bootstrap"],
        ["bench_effects.py", "trials"],
        ["bench_audit.py"],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k persons instead of 1M")
    parser.add_argument("--only", nargs="*", default=None, help="script names to run")
    args = parser.parse_args(argv)
    failed = []
    for cmd in commands(args.quick):
        if args.only and cmd[0] not in args.only:
            continue
        print(f"\n=== {' '.join(cmd)}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / cmd[0]), *cmd[1:]], cwd=HERE.parent)
        print(f"=== {cmd[0]} finished in {time.perf_counter() - start:.0f} s (exit {rc})")
        if rc != 0:
            failed.append(cmd[0])
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
