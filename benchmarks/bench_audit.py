"""The disclosure audit against writing the reports it audits, in the same run.

Writes the ``--all-municipalities`` reports of a register folder (the default data: ten
reports), then audits them with ``evaluation audit`` (every file read, the units rebuilt from
the registers, all published numbers attacked together), and prints both times and their
ratio. Target (issue 9): the audit at most 2x the writing. Also prints, per report, the
counts published, the atoms and the quantities attacked.

Run: ``.venv/bin/python benchmarks/bench_audit.py [--data data/synthetic]``
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from evaluation.registers import Registers
from evaluation.report import audit_report, build_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/synthetic"))
    args = parser.parse_args(argv)
    registers = Registers.read(args.data)
    names = sorted(registers.persons["municipality"].dropna().unique())
    out = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    try:
        start = time.perf_counter()
        for name in names:
            build_report(registers, out / name, municipality=name)
        written = time.perf_counter() - start
        start = time.perf_counter()
        verdicts = [audit_report(out / name, registers) for name in names]
        audited = time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print("| municipality | published | atoms | attacked | passed |")
    print("|---|--:|--:|--:|---|")
    for name, v in zip(names, verdicts, strict=True):
        a = v.attack
        print(f"| {name} | {a.n_publications} | {a.n_atoms} | {a.n_checked} | {v.passed} |")
    print()
    print("| reports | write (s) | audit (s) | audit / write |")
    print("|--:|--:|--:|--:|")
    print(f"| {len(names)} | {written:.0f} | {audited:.0f} | {audited / written:.2f} |")
    return 0 if all(v.passed for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
