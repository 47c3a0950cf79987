"""The numbers a report publishes, as one comparable record, and the record kept in git.

A report's numbers are its tables (``tables/*.csv``), the data behind its figures
(``figures/*.data.csv``) and its disclosure ledger (``disclosure/ledger.json``: every
published cell and the value printed for it). ``numbers(folder)`` reads them into one
mapping of file -> SHA-256 of its content. The record in
``tests/reference/report_numbers.json`` is that mapping for the two reports built here
(:func:`build_small_report`, :func:`build_tiny_report`); a refactoring must leave it as it
is (issue 11: "the report's numbers identical before and after").

When numbers change on purpose (new data, a new rule, a corrected estimator), rewrite the
record and say why in the commit::

    PYTHONPATH=src python tests/report_numbers.py --refresh
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"
RECORD = Path(__file__).resolve().parent / "reference" / "report_numbers.json"
MUNICIPALITY = "Landskrona"


def numbers(folder: Path) -> dict[str, str]:
    """File (relative to the report folder) -> SHA-256 of every file that holds numbers."""
    files = [
        *sorted(folder.glob("tables/*.csv")),
        *sorted(folder.glob("figures/*.data.csv")),
        folder / "disclosure" / "ledger.json",
    ]
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def build_small_report(out: Path) -> Path:
    """The Swedish report of one small municipality of the default data (tests/test_report)."""
    from evaluation import load_synthetic
    from evaluation.report import build_report

    truth = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
    return build_report(
        load_synthetic(), out, lang="sv", municipality=MUNICIPALITY, min_cell=5, truth=truth
    )


def build_tiny_report(out: Path) -> Path:
    """The English report of the four-person registers (every count is small)."""
    from evaluation.report import build_report
    from registers_helpers import tiny_registers

    return build_report(tiny_registers(), out, lang="en", min_cell=5, formats=("png", "svg"))


def recorded() -> dict[str, dict[str, str]]:
    """The record in git: report name -> file -> SHA-256."""
    return json.loads(RECORD.read_text(encoding="utf-8"))


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """The files whose numbers differ, are new or are gone, one line each."""
    lines = [
        f"changed: {f}" for f in sorted(expected.keys() & actual.keys()) if expected[f] != actual[f]
    ]
    lines += [f"new: {f}" for f in sorted(actual.keys() - expected.keys())]
    lines += [f"gone: {f}" for f in sorted(expected.keys() - actual.keys())]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh", action="store_true", help="rewrite the record in git")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        record = {
            "small_report": numbers(build_small_report(Path(tmp) / "small").parent),
            "tiny_report": numbers(build_tiny_report(Path(tmp) / "tiny").parent),
        }
    if args.refresh:
        RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {RECORD}")
        return
    old = recorded()
    for name, files in record.items():
        for line in differences(old.get(name, {}), files):
            print(f"{name}: {line}")


if __name__ == "__main__":
    main()
