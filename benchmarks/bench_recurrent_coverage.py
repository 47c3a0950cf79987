"""Replications of the effect on the number of relapse offences (issue 13).

``--replications`` data sets from the generator (seeded per replication from
``SeedSequence(--seed)`` children by :func:`evaluation.studies.run_study`), each analysed
with ``estimate_recurrent_effect`` (the ``recurrence-mortality`` study design of
:mod:`evaluation.effects.coverage`, ``analyses=("recurrence",)``): coverage of the 95 %
bootstrap intervals for the true ATT difference and ratio of expected relapse offences
at 1, 2 and 3 years among the participants the design follows
(``truth["recurrence"]["eligible"]``; ``coverage_all``: of the truth among every
participant), mean bias and its standard error. Results are written to ``--out`` (one
Parquet file per replication; an interrupted run resumes). The results are recorded in
``tests/recovery/test_recurrent_recovery.py`` and ``benchmarks/README.md``.

Usage::

    .venv/bin/python benchmarks/bench_recurrent_coverage.py --replications 20 --motivation 0
"""

from __future__ import annotations

import argparse
from pathlib import Path


def bench_replications(
    n_rep: int,
    n_boot: int,
    out: Path,
    *,
    motivation: float,
    seed: int,
    workers: int,
    formula: str | None = None,
) -> None:
    from evaluation.effects.coverage import recurrence_mortality_study
    from evaluation.studies import run_study

    design = recurrence_mortality_study(
        analyses=("recurrence",), n_boot=n_boot, motivation_strength=motivation, formula=formula
    )
    result = run_study(design, replications=n_rep, seed=seed, out=out, workers=workers)
    print(result.summary().round(4).to_string(index=False))
    print(
        f"total {result.seconds:.0f} s for {result.n_run} replications run now "
        f"({n_rep} in {out}), {n_boot} replicates, motivation_strength {motivation}, "
        f"seed {seed}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--n-boot", type=int, default=200)
    p.add_argument("--motivation", type=float, default=1.0, help="motivation_strength")
    p.add_argument("--seed", type=int, default=30_000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--formula", default=None, help="propensity formula (default: the package's)")
    p.add_argument("--out", type=Path, default=None, help="results folder (resumable)")
    a = p.parse_args()
    out = a.out or Path(
        f"/tmp/recurrent_replications_m{a.motivation:g}" + ("_formula" if a.formula else "")
    )
    bench_replications(
        a.replications,
        a.n_boot,
        out,
        motivation=a.motivation,
        seed=a.seed,
        workers=a.workers,
        formula=a.formula,
    )


if __name__ == "__main__":
    main()
