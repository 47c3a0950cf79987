"""Benchmark: evaluation's Cox model against lifelines and R at scale.

Run under the shared lock (2 cores, 8 engineers):

    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_cox.py [--n 1000000]

Prints a table of wall times and ratios measured in the same run on the same data:
- ``cox`` (Efron, naive variance) vs lifelines' ``CoxPHFitter`` (Efron, its only method);
- ``cox`` with ``cluster=`` (cluster-robust sandwich, concordance included because R's
  coxph always computes it) at full size, and vs R's ``coxph(..., cluster = cl)`` timed
  inside R (``system.time`` around the fit only) on the first ``--r-n`` rows (default
  100k: R's robust variance is quadratic in n, see below), if ``Rscript`` exists.
Peak memory is the process's maximum resident set size after each step.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.survival.cox import cox

COVARIATES = ["x1", "x2", "x3", "x4", "x5"]
BETA = np.array([0.4, -0.5, 0.2, 0.3, -0.1])


def simulate(n: int, seed: int = 1) -> pd.DataFrame:
    """A relapse-like cohort: five covariates, follow-up in whole days (many ties)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.normal(size=n),
            rng.random(n) < 0.4,
            rng.normal(size=n),
            rng.random(n) < 0.2,
            rng.integers(15, 60, n) / 10,
        ]
    ).astype(float)
    t = rng.weibull(1.2, n) * 900 / np.exp(X @ BETA / 1.2)
    c = rng.uniform(100, 3 * 365, n)
    data = pd.DataFrame(X, columns=COVARIATES)
    data["time"] = np.ceil(np.minimum(t, c))
    data["event"] = (t <= c).astype(int)
    data["cl"] = rng.integers(0, 290, n)  # e.g. Sweden's 290 municipalities
    return data


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(f):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = f()
    return value, time.perf_counter() - start


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
d <- read.csv(commandArgs(TRUE)[1])
tm <- system.time(fit <- coxph(Surv(time, event) ~ x1 + x2 + x3 + x4 + x5, data = d,
                               cluster = cl, ties = "efron"))
cat(sprintf("%.6f\n", tm[["elapsed"]]))
cat(sprintf("%.12g\n", coef(fit)), sep = "")
cat(sprintf("%.12g\n", sqrt(diag(fit$var))), sep = "")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--no-lifelines", action="store_true")
    parser.add_argument("--r-timeout", type=float, default=900.0)
    parser.add_argument("--r-n", type=int, default=100_000, help="rows for the R comparison")
    args = parser.parse_args()
    n = args.n
    data = simulate(n)
    formula = " + ".join(COVARIATES)
    rows = []
    print(
        f"n = {n:,} persons, {int(data['event'].sum()):,} events, "
        f"{data.loc[data['event'] == 1, 'time'].nunique():,} distinct event times"
    )

    ours, t_ours = timed(lambda: cox(data, formula, duration="time", event="event"))
    rows.append(("evaluation.cox (efron)", t_ours, peak_mb()))

    if not args.no_lifelines:
        from lifelines import CoxPHFitter

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lf, t_lf = timed(
                lambda: CoxPHFitter().fit(data[[*COVARIATES, "time", "event"]], "time", "event")
            )
        rows.append(("lifelines CoxPHFitter", t_lf, peak_mb()))
        gap = np.max(np.abs(lf.params_[COVARIATES].to_numpy() - ours.coef))
        print(f"max |coef difference| lifelines vs ours: {gap:.2e}")

    def clustered() -> float:
        res = cox(data, formula, duration="time", event="event", cluster="cl")
        return res, res.concordance_table()  # counts and standard error, as R's coxph

    (ours_cl, _), t_cl = timed(clustered)
    rows.append(("evaluation.cox cluster + concordance", t_cl, peak_mb()))
    # R's coxph computes the score residuals behind the robust variance in O(n x event
    # times) (coxscore2.c walks the later rows at every death time): quadratic in n with
    # whole-day times. It is compared on the first --r-n rows, ours timed on the same rows.
    r_time = t_sub = None
    out = None
    sub = data.iloc[: min(args.r_n, n)]
    if shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "d.csv"
            script = Path(tmp) / "b.R"
            sub[[*COVARIATES, "time", "event", "cl"]].to_csv(csv, index=False)
            script.write_text(R_SCRIPT)
            try:
                out = subprocess.run(
                    ["Rscript", str(script), str(csv)],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=args.r_timeout,
                ).stdout.split()
            except subprocess.TimeoutExpired:
                out = None
                print(f"R's coxph did not finish within {args.r_timeout} s (CSV read included)")
    if out is not None:
        r_time = float(out[0])
        r_coef = np.array(out[1:6], dtype=float)
        r_se = np.array(out[6:11], dtype=float)

        def clustered_sub():  # type: ignore[no-untyped-def]
            res = cox(sub, formula, duration="time", event="event", cluster="cl")
            return res, res.concordance_table()

        (sub_fit, _), t_sub = timed(clustered_sub)
        sub_se = np.sqrt(np.diag(sub_fit.cov))
        print(
            f"max relative difference vs R at {len(sub):,}: coef "
            f"{np.max(np.abs(sub_fit.coef / r_coef - 1)):.1e}, "
            f"cluster SE {np.max(np.abs(sub_se / r_se - 1)):.1e}"
        )
        rows.append((f"evaluation.cox cluster at {len(sub):,}", t_sub, peak_mb()))
        rows.append((f"R coxph cluster at {len(sub):,} (fit only)", r_time, float("nan")))

    print()
    print(f"{'step':40s} {'seconds':>9s} {'peak RSS MB':>12s}")
    for name, sec, mb in rows:
        print(f"{name:40s} {sec:9.2f} {mb:12.0f}")
    print()
    if not args.no_lifelines:
        print(f"ratio cox / lifelines            = {t_ours / t_lf:.3f}   (target <= 1.2)")
    if r_time is not None and t_sub is not None:
        print(f"ratio cluster cox / R coxph      = {t_sub / r_time:.3f}   (target <= 1.5)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
