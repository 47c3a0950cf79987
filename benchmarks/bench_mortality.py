"""Replications of the effect on death and on relapse or death (issue 13).

``--replications`` data sets from the generator (seeded per replication from
``SeedSequence(--seed)`` children by :func:`evaluation.studies.run_study`), each analysed
with ``estimate_mortality_effect`` for both outcomes (the ``recurrence-mortality`` study
design of :mod:`evaluation.effects.coverage`, ``analyses=("mortality",)``): coverage of
the 95 % bootstrap intervals for the true ATT risk differences among the participants
the design follows (``truth["mortality"]["eligible"]``; ``coverage_all``: among every
participant), mean bias and the mean number of events in the data. ``--death-hr`` sets
the programme's hazard ratio of death (``programme_death_hr``), ``--death-rate`` the
generator's yearly death rate. Results are written to ``--out`` (one Parquet file per
replication; an interrupted run resumes). The results are recorded in
``tests/recovery/test_mortality_recovery.py`` and ``benchmarks/README.md``.

Usage::

    .venv/bin/python benchmarks/bench_mortality.py --replications 20
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
    formula: str | None,
    death_hr: float,
    death_rate: float,
) -> None:
    from evaluation.effects.coverage import recurrence_mortality_study
    from evaluation.studies import run_study

    design = recurrence_mortality_study(
        analyses=("mortality",),
        n_boot=n_boot,
        motivation_strength=motivation,
        formula=formula,
        programme_death_hr=death_hr,
        death_rate=death_rate,
    )
    result = run_study(design, replications=n_rep, seed=seed, out=out, workers=workers)
    print(result.summary().round(4).to_string(index=False))
    print(
        f"total {result.seconds:.0f} s for {result.n_run} replications run now "
        f"({n_rep} in {out}), {n_boot} replicates, motivation_strength {motivation}, "
        f"programme_death_hr {death_hr}, death_rate {death_rate}, seed {seed}"
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--replications", type=int, default=20)
    p.add_argument("--n-boot", type=int, default=200)
    p.add_argument("--motivation", type=float, default=1.0, help="motivation_strength")
    p.add_argument("--death-hr", type=float, default=1.0, help="programme_death_hr")
    p.add_argument("--death-rate", type=float, default=0.003, help="death_rate")
    p.add_argument("--seed", type=int, default=20_000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--formula", default=None, help="propensity formula (default: the package's)")
    p.add_argument("--out", type=Path, default=None, help="results folder (resumable)")
    a = p.parse_args()
    out = a.out or Path(
        f"/tmp/mortality_replications_m{a.motivation:g}_hr{a.death_hr:g}_dr{a.death_rate:g}"
        + ("_formula" if a.formula else "")
    )
    bench_replications(
        a.replications,
        a.n_boot,
        out,
        motivation=a.motivation,
        seed=a.seed,
        workers=a.workers,
        formula=a.formula,
        death_hr=a.death_hr,
        death_rate=a.death_rate,
    )


if __name__ == "__main__":
    main()
