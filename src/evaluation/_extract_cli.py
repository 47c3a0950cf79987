"""The ``evaluation import`` and ``evaluation pseudonymise`` commands (added to ``cli.py``).

In a module of its own so that ``cli.py`` stays short; like ``cli.py`` it imports the
package only inside the commands, so that ``evaluation --help`` answers at once.

Exit codes: 0 when everything was written and nothing refused (or refusals were accepted
with ``--allow-refused``); 1 when rows or numbers were refused, the registers are not valid,
or the mapping, sources or key cannot be used (the report is still written where it can
be); 2 for bad usage. Nothing printed holds an identity number or the key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "run_import", "run_pseudonymise"]


def add_commands(sub: Any) -> None:
    """Add ``import`` and ``pseudonymise`` to the subcommands of the ``evaluation`` parser."""
    imp = sub.add_parser(
        "import",
        help="map a raw register extract to the five register tables",
        description="Read the source files of a register extract (SAS, Stata, SPSS, Excel, "
        "CSV, Parquet), apply a TOML mapping and write the five register tables (Parquet) "
        "with import_report.json and import_report.md: rows read, refused and written per "
        "table and feed, every code value the mapping does not cover, and every refused "
        "row by number with its reason. The registers are written only when they are valid "
        "and no row was refused (or --allow-refused).",
    )
    imp.add_argument("--mapping", type=Path, metavar="MAP.toml", required=True, help="mapping")
    imp.add_argument("--out", type=Path, metavar="DIR", required=True, help="output folder")
    imp.add_argument(
        "--sources",
        type=Path,
        metavar="DIR",
        default=None,
        help="folder of the source files (default: the mapping file's folder)",
    )
    imp.add_argument(
        "--allow-refused",
        action="store_true",
        help="write the registers although rows were refused (they stay listed in the report)",
    )
    pse = sub.add_parser(
        "pseudonymise",
        help="replace personal identity numbers by keyed pseudonyms",
        description="Replace the personal identity numbers in the named columns of source "
        "files by HMAC-SHA-256 pseudonyms under a secret key (the same number gives the same "
        "pseudonym in every file and run with the same key). Numbers are normalised first "
        "(10 or 12 digits, - or +, spaces); invalid ones are refused by row number and left "
        "empty. The files are written into --out with pseudonymise_report.json/.md; a file "
        "in which anything still looks like a personal identity number is not written. The "
        "key and the numbers are never written or printed.",
    )
    pse.add_argument(
        "--in",
        dest="inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        required=True,
        help="source files, or folders whose source files are all taken",
    )
    pse.add_argument("--out", type=Path, metavar="DIR", required=True, help="output folder")
    key = pse.add_mutually_exclusive_group(required=True)
    key.add_argument("--key-file", type=Path, metavar="FILE", help="file holding the key")
    key.add_argument("--key-env", metavar="VAR", help="environment variable holding the key")
    cols = pse.add_mutually_exclusive_group(required=True)
    cols.add_argument(
        "--column", action="append", metavar="NAME", help="a column of identity numbers"
    )
    cols.add_argument(
        "--mapping",
        type=Path,
        metavar="MAP.toml",
        help="take the columns from the mapping's identity = [...] of each source",
    )
    pse.add_argument(
        "--reference-date",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        default=None,
        help="the date that decides the century of 10-digit numbers (the extraction date; "
        "default today)",
    )
    pse.add_argument(
        "--allow-refused",
        action="store_true",
        help="exit with 0 although numbers were refused (they are left empty and listed)",
    )


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from None


def run_import(args: argparse.Namespace) -> int:
    """``evaluation import``."""
    from evaluation._errors import ExtractError
    from evaluation.registers.extract import import_extract, write_import

    try:
        result = import_extract(args.mapping, args.sources)
        written = write_import(result, args.out, allow_refused=args.allow_refused)
    except ExtractError as err:
        print(f"cannot import: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"cannot write into {args.out}: {err.strerror or err}", file=sys.stderr)
        return 1
    print(result.summary().to_string(index=False))
    report = args.out / "import_report.md"
    if written:
        print(f"wrote the registers and {report}")
        return 0
    if result.problems:
        print(
            f"the imported registers are not valid ({len(result.problems)} problems); see {report}"
        )
    else:
        print(
            f"{result.n_refused} source rows were refused; nothing but {report} was written "
            "(give --allow-refused to write the registers without them)"
        )
    return 1


def run_pseudonymise(args: argparse.Namespace) -> int:
    """``evaluation pseudonymise``."""
    from evaluation._errors import ExtractError
    from evaluation.registers.extract import (
        Pseudonymiser,
        pseudonymise_files,
        read_key,
        read_mapping,
    )
    from evaluation.registers.extract.pseudonym import write_pseudonym_report

    try:
        key = read_key(key_file=args.key_file, key_env=args.key_env)
        pseudonymiser = Pseudonymiser(key, reference_date=args.reference_date)
        del key
        columns: tuple[str, ...] | dict[str, tuple[str, ...]] = (
            tuple(args.column) if args.column else read_mapping(args.mapping).identity_columns()
        )
        result = pseudonymise_files(
            args.inputs, args.out, pseudonymiser=pseudonymiser, columns=columns
        )
        report = write_pseudonym_report(result, args.out)
    except ExtractError as err:
        print(f"cannot pseudonymise: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"cannot pseudonymise: {err.strerror or err}", file=sys.stderr)
        return 1
    if not result.columns.empty:
        print(result.columns.to_string(index=False))
    print(f"wrote {len(result.written)} files and {report} into {args.out}")
    for problem in result.problems:
        print(problem, file=sys.stderr)
    refused = len(result.refused)
    if refused:
        print(f"{refused} identity numbers were refused (left empty); see the report")
    return 1 if result.problems or (refused and not args.allow_refused) else 0
