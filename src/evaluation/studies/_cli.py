"""``evaluation study``: the command's work (its options are in ``evaluation.cli``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from evaluation._errors import StudyError
from evaluation.studies._design import resolve_design
from evaluation.studies._run import run_study

__all__ = ["parse_params", "run_from_command_line"]


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a value is read as JSON (numbers, lists) or else kept as text.

    Examples
    --------
    >>> parse_params(["n_boot=50", "design=matched", "measures=[\\"hazard_ratio\\"]"])
    {'n_boot': 50, 'design': 'matched', 'measures': ['hazard_ratio']}
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise StudyError(f"--param takes KEY=VALUE, not {pair!r}")
        try:
            params[key] = json.loads(text)
        except json.JSONDecodeError:
            params[key] = text
    return params


def run_from_command_line(args: argparse.Namespace) -> int:
    """Run the study the options name; print its summary; 0 on success, 1 on refusal."""
    try:
        params = parse_params(args.param)
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        design = resolve_design(args.design, **params)
        result = run_study(
            design,
            replications=args.replications,
            seed=args.seed,
            out=args.out,
            client=args.scheduler,
            workers=args.workers,
            progress=sys.stderr.isatty(),
        )
    except (StudyError, TypeError) as err:
        print(f"cannot run the study: {err}", file=sys.stderr)
        return 1
    print(result.summary().to_string(index=False))
    print(
        f"{result.n_replications} replications of {result.design} (seed {result.seed}) in "
        f"{args.out}: {result.n_run} run now on {result.workers} worker(s) in "
        f"{result.seconds:.1f} s"
    )
    return 0
