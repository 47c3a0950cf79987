"""Power of the real design by simulation, against the closed form.

For each yearly intake, ``--replications`` replications of the whole design
(:func:`evaluation.design.simulated_power`: generator with the effect, the
sequential-trials comparison cohort over ``--years`` years of intake, the weighted Cox
interval of ``estimate_programme_effect``), printed with the Monte Carlo error, the closed
form (Rubinstein, at the replications' mean events, Kish design effect and true marginal
hazard ratio), the mean true hazard ratio and the seconds per replication.

Usage::

    .venv/bin/python benchmarks/bench_design.py --intakes 10 20 --years 3 --replications 40
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from evaluation.design import simulated_power


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intakes", type=float, nargs="+", default=[10, 20, 50])
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--effect-hr", type=float, default=0.6)
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20151)
    args = parser.parse_args()
    rows = []
    for intake in args.intakes:
        t0 = time.perf_counter()
        res = simulated_power(
            effect_hr=args.effect_hr,
            intake_per_year=intake,
            follow_up_years=args.years,
            replications=args.replications,
            seed=args.seed,
        )
        s = res.summary().iloc[0]
        rows.append(
            {
                "intake_per_year": intake,
                "participants": round(s["n_participants"], 1),
                "events": round(s["events"], 1),
                "deff_weighting": round(s["deff_weighting"], 2),
                "true_hr": round(s["true_hr"], 3),
                "power": round(res.power, 3),
                "mc_se": round(res.mc_se, 3),
                "closed_form": round(res.closed_form, 3),
                "failed": res.n_failed,
                "s_per_replication": round(s["seconds"], 2),
                "wall_s": round(time.perf_counter() - t0, 1),
            }
        )
        print(pd.DataFrame(rows).to_string(index=False), flush=True)


if __name__ == "__main__":
    main()
