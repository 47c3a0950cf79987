"""Coverage of the pooled effect across municipalities on the generator (issue 12).

``--replications`` data sets from the default generator (municipalities' effects differ by
``effect_tau`` = 0.15 on the log-hazard-ratio scale), each analysed with
``evaluation.sites.effect_by_site`` (ATT risk difference at 1 year per municipality,
pooled by REML with the Hartung–Knapp interval): the design of
``evaluation.sites.coverage`` run by ``evaluation.studies.run_study`` (one Parquet file
per replication in ``--out``, resumed when run again; replication ``i`` is seeded by the
``i``-th child of the study's seed). The target is the unweighted mean of the pooled
municipalities' true ATTs (see the module's docstring). The results are recorded in
``benchmarks/README.md`` ("sites") and ``tests/recovery/test_sites_recovery.py``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_sites_coverage.py --replications 200
    nice -n 10 .venv/bin/python benchmarks/bench_sites_coverage.py --motivation 0 \
        --out /tmp/sites_coverage_m0 --replications 100
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    from evaluation.sites.coverage import site_coverage_study
    from evaluation.studies import run_study

    p = argparse.ArgumentParser()
    p.add_argument("--replications", type=int, default=100)
    p.add_argument("--n-boot", type=int, default=100)
    p.add_argument("--effect-tau", type=float, default=0.15)
    p.add_argument("--motivation", type=float, default=1.0)
    p.add_argument("--out", type=Path, default=Path("/tmp/sites_coverage"))
    a = p.parse_args()
    design = site_coverage_study(
        n_boot=a.n_boot, effect_tau=a.effect_tau, motivation_strength=a.motivation
    )
    result = run_study(design, replications=a.replications, seed=12_012, out=a.out)
    print(result.summary().round(4).to_string(index=False))
    print(
        f"total {result.seconds:.0f} s for {result.n_run} replications run now "
        f"({a.replications} in {a.out}), {a.n_boot} replicates, effect_tau {a.effect_tau}, "
        f"motivation_strength {a.motivation}"
    )


if __name__ == "__main__":
    main()
