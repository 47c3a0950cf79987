"""The ``evaluation`` command: simulate registers, validate a register folder, write the report.

Examples
--------
.. code-block:: console

    $ evaluation simulate --seed 20151 --persons 4000 --out data/synthetic
    $ evaluation validate data/synthetic
    $ evaluation report --data data/synthetic --out reports --lang sv
    $ evaluation report --all-municipalities --lang en

Heavy imports (the generator, the estimators, matplotlib) happen inside the commands, so
that ``evaluation --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser"]

DESCRIPTION = """\
Evaluate Swedish exit programmes (avhopparverksamhet) by relapse and retention.

commands:
  simulate   write synthetic registers with a known truth (persons, programme, offences,
             custody, exits, meta.json, truth.json)
  validate   check a register folder; exit code 0 when valid, 1 with every problem listed
  report     write the evaluation report (HTML page, figures as PNG/SVG/PDF, tables as CSV
             and one Excel workbook), with disclosure control of small counts
  study      run a simulation study (in-process, on local processes or on a Dask cluster)
"""

EPILOG = """\
exit codes: 0 success, 1 invalid registers or a report that could not be built, 2 bad usage.
Run `evaluation COMMAND --help` for the options of a command."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``evaluation`` command (its ``--help`` is the manual)."""
    parser = argparse.ArgumentParser(
        prog="evaluation",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from evaluation import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sim = sub.add_parser(
        "simulate",
        help="write synthetic registers with a known truth",
        description="Simulate registers of a gang-involved population, with programme "
        "episodes whose true effect is known, and write them with meta.json and truth.json.",
    )
    sim.add_argument(
        "--seed", type=int, metavar="N", required=True, help="random seed (same seed, same files)"
    )
    sim.add_argument(
        "--persons",
        type=_positive_int,
        metavar="N",
        default=None,
        help="number of persons (default: the generator's default, a few thousand)",
    )
    sim.add_argument(
        "--out", type=Path, metavar="DIR", required=True, help="folder to write (created)"
    )
    sim.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="file format (default csv)"
    )

    val = sub.add_parser(
        "validate",
        help="check a register folder",
        description="Read and validate a register folder. Prints every problem (table, "
        "column, number of rows, first offending ids) and exits with 1 when there is any; "
        "exits with 0 when the registers are valid.",
    )
    val.add_argument("folder", type=Path, metavar="DIR", help="the register folder")

    rep = sub.add_parser(
        "report",
        help="write the evaluation report",
        description="Write the evaluation report of a register folder: one self-contained "
        "HTML page (report.html) with every figure and table, each figure as PNG (300 dpi), "
        "SVG and PDF, each table as CSV, and all tables in one Excel workbook. Counts below "
        "--min-cell are suppressed, with secondary suppression so that totals cannot give "
        "them back.",
    )
    rep.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        default=Path("data/synthetic"),
        help="register folder (default data/synthetic); a truth.json there is shown beside "
        "the estimates",
    )
    rep.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        default=Path("reports"),
        help="output folder (default reports)",
    )
    rep.add_argument(
        "--lang", choices=("sv", "en"), default="sv", help="language: sv (default) or en"
    )
    which = rep.add_mutually_exclusive_group()
    which.add_argument(
        "--municipality",
        metavar="NAME",
        default=None,
        help="build the report for one municipality (for example Botkyrka)",
    )
    which.add_argument(
        "--all-municipalities",
        action="store_true",
        help="build one report per municipality, each in its own folder OUT/<name> (the "
        "name in lower-case ASCII: OUT/malmo, OUT/goteborg, ...)",
    )
    rep.add_argument(
        "--width",
        choices=("a4", "journal"),
        default="a4",
        help="figure width: a4 (6.3 in, default) or journal (3.5 in, one column)",
    )
    rep.add_argument(
        "--min-cell",
        type=_positive_int,
        metavar="N",
        default=5,
        help="disclosure threshold: counts from 1 to N-1 are suppressed (default 5; at "
        "least 3 unless --unsafe-min-cell)",
    )
    rep.add_argument(
        "--unsafe-min-cell",
        action="store_true",
        help="allow --min-cell 1 or 2; every file is then stamped NOT FOR PUBLICATION",
    )
    rep.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier report in the output folder (a folder holding anything else "
        "is never written into)",
    )
    aud = sub.add_parser(
        "audit",
        help="attack a written report with everything it published",
        description="Read every file of one report (or of every report below a folder "
        "written with --all-municipalities), rebuild the counts its ledger names from the "
        "registers, and compute the tightest bounds an attacker gets on every withheld "
        "count. Exits with 0 when no count below min_cell can be worked out, 1 otherwise.",
    )
    aud.add_argument("folder", type=Path, metavar="REPORT_DIR", help="the report folder")
    aud.add_argument(
        "--data",
        type=Path,
        default=Path("data/synthetic"),
        metavar="DIR",
        help="the register folder the report was written from (default: data/synthetic)",
    )
    stu = sub.add_parser(
        "study",
        help="run a simulation study (coverage, bias, power) with resumable results",
        description="Run R replications of a study design, each seeded from the study's "
        "seed (SeedSequence.spawn), writing each replication into --out as it finishes; a "
        "restart skips the replications already there. Prints the design's summary.",
    )
    stu.add_argument("design", metavar="DESIGN", help="a registered design or module:function")
    stu.add_argument("--replications", type=_positive_int, required=True, metavar="R")
    stu.add_argument("--seed", type=int, required=True, metavar="S")
    stu.add_argument("--out", type=Path, required=True, metavar="DIR", help="results folder")
    stu.add_argument("--workers", type=_positive_int, default=None, metavar="N")
    stu.add_argument("--scheduler", default=None, metavar="ADDRESS", help="tcp://host:8786")
    stu.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    return parser


def _audit(args: argparse.Namespace) -> int:
    import time

    from evaluation._errors import RegisterError
    from evaluation.registers import Registers
    from evaluation.report.audit import audit_report

    started = time.perf_counter()
    folders = (
        [args.folder]
        if (args.folder / "disclosure").is_dir()
        else sorted(p.parent.parent for p in args.folder.glob("*/disclosure/ledger.json"))
    )
    if not folders:
        print(f"{args.folder} holds no report written by this package", file=sys.stderr)
        return 1
    try:
        registers = Registers.read(args.data)
    except (RegisterError, OSError) as err:
        print(f"cannot read the registers in {args.data}: {err}", file=sys.stderr)
        return 1
    failed = 0
    for folder in folders:
        try:
            verdict = audit_report(folder, registers)
        except (ValueError, OSError, KeyError) as err:
            print(f"{folder}: cannot audit: {err}", file=sys.stderr)
            failed += 1
            continue
        print(verdict)
        failed += not verdict.passed
    seconds = time.perf_counter() - started
    print(f"audited {len(folders)} report(s) in {seconds:.0f} s: {failed} failed")
    return 1 if failed else 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``evaluation`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    command = {
        "simulate": _simulate,
        "validate": _validate,
        "report": _report,
        "audit": _audit,
        "study": _study,
    }[args.command]
    return command(args)


def _study(args: argparse.Namespace) -> int:
    from evaluation.studies._cli import run_from_command_line

    return run_from_command_line(args)


def _simulate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from evaluation.synthetic import SimulationConfig, simulate_registers, write_synthetic

    config = (
        SimulationConfig() if args.persons is None else SimulationConfig(n_persons=args.persons)
    )
    with tqdm(total=2, desc="simulate", unit="step", disable=None, file=sys.stderr) as bar:
        bar.set_postfix_str(f"{config.n_persons} persons")
        sim = simulate_registers(config, rng=args.seed)
        bar.update()
        bar.set_postfix_str(f"writing {args.format}")
        folder = write_synthetic(sim, args.out, format=args.format)
        bar.update()
    print(f"wrote synthetic registers ({config.n_persons} persons, seed {args.seed}) to {folder}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from evaluation._errors import RegisterError
    from evaluation.registers import Registers

    try:
        registers = Registers.read(args.folder)
    except RegisterError as err:
        n = len(err.problems)
        print(
            f"{args.folder}: {n} problem{'s' if n != 1 else ''} found:",
            *(f"- {p}" for p in err.problems),
            sep="\n",
        )
        return 1
    sizes = ", ".join(f"{name} {len(registers.table(name))}" for name in _tables())
    print(f"{args.folder}: valid registers ({sizes})")
    return 0


def _tables() -> tuple[str, ...]:
    from evaluation.registers import TABLES

    return TABLES


def _report(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from evaluation._errors import RegisterError
    from evaluation.presentation import _output
    from evaluation.registers import Registers
    from evaluation.report import build_report

    started = time.perf_counter()
    try:
        _output.check_min_cell(args.min_cell, unsafe=args.unsafe_min_cell)
    except ValueError as err:
        print(f"cannot build the report: {err}", file=sys.stderr)
        return 1
    try:
        registers = Registers.read(args.data)
    except RegisterError as err:
        print(f"cannot build the report: {err}", file=sys.stderr)
        return 1
    names = sorted(registers.persons["municipality"].dropna().unique().tolist())
    if args.municipality is not None and args.municipality not in names:
        print(
            f"no person in {args.data} lives in {args.municipality!r}; "
            f"the municipalities are {', '.join(names)}",
            file=sys.stderr,
        )
        return 1
    try:
        truth = _read_truth(args.data)
    except ValueError as err:
        print(f"cannot build the report: {err}", file=sys.stderr)
        return 1
    common: dict[str, Any] = {
        "lang": args.lang,
        "min_cell": args.min_cell,
        "truth": truth,
        "width": args.width,
        "overwrite": args.overwrite,
        "unsafe_min_cell": args.unsafe_min_cell,
    }
    try:
        # Every folder is checked before the first report is built (build_report checks
        # again), so that a refusal does not come after minutes of work.
        if args.all_municipalities:
            slugs = [_slug(n) for n in names]
            _output.check_collection(args.out, slugs, overwrite=args.overwrite)
        else:
            _output.check_target(args.out, overwrite=args.overwrite)
    except FileExistsError as err:
        print(f"cannot build the report: {err}", file=sys.stderr)
        return 1
    try:
        if args.all_municipalities:
            written = []
            for name in tqdm(
                names, desc="report", unit="municipality", disable=None, file=sys.stderr
            ):
                out = args.out / _slug(name)
                written.append(build_report(registers, out, municipality=name, **common))
            seconds = time.perf_counter() - started
            print(f"wrote {len(written)} reports into {args.out} in {seconds:.0f} s")
            return 0
        from evaluation.report._sections import SECTIONS

        with tqdm(
            total=len(SECTIONS), desc="report", unit="section", disable=None, file=sys.stderr
        ) as bar:
            page = build_report(
                registers, args.out, municipality=args.municipality, progress=bar.update, **common
            )
    except OSError as err:  # the output folder cannot be written (no access, disk full)
        where = err.filename or args.out
        print(f"cannot write the report into {where}: {err.strerror or err}", file=sys.stderr)
        return 1
    print(f"wrote {page} in {time.perf_counter() - started:.0f} s")
    return 0


def _read_truth(folder: Path) -> dict[str, Any] | None:
    """The generator's truth beside the registers (``truth.json``), or None without one.

    Raises ValueError with a message for the user when the file is there but unusable: the
    report would otherwise compare its estimates with nothing, or stop with a traceback.
    """
    path = Path(folder) / "truth.json"
    remove = "remove it to build the report without the true values"
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except PermissionError:
        raise ValueError(f"{path} cannot be read: permission denied") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not a file; {remove}") from None
    except OSError as err:
        raise ValueError(f"{path} cannot be read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text; {remove}") from None
    try:
        truth = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            f"it holds the generator's true values: {remove}"
        ) from None
    sections = ("effect", "retention")
    if not isinstance(truth, dict) or any(
        not isinstance(truth.get(key, {}), dict) for key in sections
    ):
        raise ValueError(
            f"{path} is not a JSON object of the generator's true values (with 'effect' and "
            f"'retention' as objects), as `evaluation simulate` writes it; {remove}"
        )
    return truth


def _slug(name: str) -> str:
    """A folder name for a municipality (ASCII, lower case): 'Malmö' -> 'malmo'."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "-" for c in ascii_name.lower()).strip("-") or "other"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
