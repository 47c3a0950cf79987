"""Benchmark: the mean cumulative function and the Ghosh–Lin mean at a million persons.

Run under the shared lock (2 cores, several engineers):

    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_recurrent.py [--n 1000000]

Counting-process rows like a recurrence cohort's (whole days up to 3 years, about seven
offences per person on average with a gamma frailty, so many tied days; a custody gap for a
third of the persons; 5 % die at the end of follow-up), then, on the same rows in the same
run:

- ``mean_cumulative_function`` (estimate and Lawless–Nadeau robust variance by person) and
  ``ghosh_lin`` (death terminal, robust variance);
- lifelines 0.30 ``NelsonAalenFitter`` on the same rows (``entry=start``): lifelines has no
  MCF, but its Nelson–Aalen estimator with delayed entry is the MCF's point estimate (the
  check below), without the robust variance;
- the package's Andersen–Gill ``cox`` on the same rows (one covariate, delayed entry,
  naive variance): the target is MCF and Ghosh–Lin each at most this Cox fit's time;
- R's ``survfit(Surv(start, stop, event) ~ 1, id = id)`` and
  ``mets::recurrentMarginal`` timed inside R (``system.time`` around the fit only) on the
  first ``--r-n`` persons (default 100,000), if ``Rscript`` exists.
"""

from __future__ import annotations

import argparse
import os
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

from evaluation.survival import cox, ghosh_lin, mean_cumulative_function


def simulate(n: int, seed: int = 1) -> pd.DataFrame:
    """Counting-process rows of ``n`` persons (see the module docstring)."""
    rng = np.random.default_rng(seed)
    follow = rng.integers(200, 1096, n)
    x = (rng.random(n) < 0.4).astype(np.int64)
    frailty = rng.gamma(1.0, 1.0, n)
    k = rng.poisson(12.0 * frailty * np.exp(-0.3 * x) * follow / 1095)
    who = np.repeat(np.arange(n), k)
    day = np.ceil(rng.random(k.sum()) * follow[who]).astype(np.int64)
    # One row per person and offence day (tied offences counted in n_offences).
    key = who * 4096 + day
    uk, count = np.unique(key, return_counts=True)
    ew, ed = uk // 4096, uk % 4096
    # Custody gap for a third: days (g0, g1] not at risk; events inside it are dropped.
    has_gap = rng.random(n) < 1 / 3
    g0 = (rng.random(n) * follow * 0.8).astype(np.int64)
    g1 = np.minimum(g0 + rng.integers(10, 120, n), follow - 1)
    inside = has_gap[ew] & (ed > g0[ew]) & (ed <= g1[ew])
    ew, ed, count = ew[~inside], ed[~inside], count[~inside]
    gw = np.flatnonzero(has_gap & (g1 > g0))
    # Boundaries: events (stop with event), gap starts (stop without), person ends.
    stops = np.concatenate([ed, g0[gw], follow])
    pid = np.concatenate([ew, gw, np.arange(n)])
    ev = np.concatenate([count, np.zeros(len(gw) + n, np.int64)])
    is_gap = np.concatenate([np.zeros(len(ed), bool), np.ones(len(gw), bool), np.zeros(n, bool)])
    order = np.lexsort((is_gap, stops, pid))
    stops, pid, ev, is_gap = stops[order], pid[order], ev[order], is_gap[order]
    first = np.r_[True, pid[1:] != pid[:-1]]
    prev_stop = np.r_[0, stops[:-1]]
    prev_gap = np.r_[False, is_gap[:-1]]
    starts = np.where(first, 0, np.where(prev_gap, g1[pid], prev_stop))
    keep = stops > starts
    last = np.r_[pid[1:] != pid[:-1], True]
    died = rng.random(n) < 0.05
    terminal = np.where(last & died[pid], 2, 0)
    d = pd.DataFrame(
        {
            "id": pid,
            "start": starts,
            "stop": stops,
            "event": (ev > 0).astype(np.int64),
            "n_offences": ev,
            "terminal": terminal,
            "x": x[pid],
        }
    )
    return d[keep].reset_index(drop=True)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(f):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = f()
    return value, time.perf_counter() - start


R_SCRIPT = r"""
suppressPackageStartupMessages({library(survival); library(mets)})
d <- read.csv(commandArgs(TRUE)[1])
d$status <- ifelse(d$event == 1, 1, ifelse(d$terminal == 2, 2, 0))
t1 <- system.time(fit <- survfit(Surv(start, stop, event) ~ 1, data = d, id = id))
t2 <- system.time({
  xr <- phreg(Event(start, stop, status == 1) ~ cluster(id), data = d)
  dr <- phreg(Event(start, stop, status == 2) ~ cluster(id), data = d)
  m <- recurrentMarginal(xr, dr)
})
cat(sprintf("%.6f\n%.6f\n%.12g\n", t1[["elapsed"]], t2[["elapsed"]], tail(fit$cumhaz, 1)))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--r-n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    data, t_sim = timed(lambda: simulate(args.n))
    print(
        f"{args.n:,} persons, {len(data):,} rows, {int(data['n_offences'].sum()):,} offences, "
        f"simulated in {t_sim:.1f} s"
    )

    def best(f):  # type: ignore[no-untyped-def]
        runs = [timed(f) for _ in range(args.repeat)]
        return runs[0][0], min(t for _, t in runs)

    kw = {"start": "start", "stop": "stop", "event": "event", "id": "id"}
    mcf, t_mcf = best(lambda: mean_cumulative_function(data, **kw))
    print(f"mean_cumulative_function: {t_mcf:.2f} s (peak {peak_mb():,.0f} MB)")
    gl, t_gl = best(lambda: ghosh_lin(data, terminal="terminal", **kw))
    print(f"ghosh_lin: {t_gl:.2f} s (peak {peak_mb():,.0f} MB)")

    from lifelines import NelsonAalenFitter

    def lifelines_na():  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return NelsonAalenFitter(nelson_aalen_smoothing=False).fit(
                data["stop"], data["event"], entry=data["start"]
            )

    na, t_na = best(lifelines_na)
    ours = mcf.table["estimate"].iloc[-1]
    theirs = float(na.cumulative_hazard_.iloc[-1, 0])
    print(f"lifelines NelsonAalenFitter: {t_na:.2f} s; last MCF {ours:.6f} vs {theirs:.6f}")

    fit, t_cox = timed(lambda: cox(data, "x", duration="stop", event="event", entry="start"))
    hr = fit.summary()["hr"].iloc[0]
    print(f"cox (Andersen–Gill, 1 covariate, naive variance): {t_cox:.2f} s, hr {hr:.4f}")

    r_line = ""
    if shutil.which("Rscript"):
        sub = data[data["id"] < args.r_n]
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "d.csv"
            sub.to_csv(csv, index=False)
            script = Path(tmp) / "b.R"
            script.write_text(R_SCRIPT)
            out = subprocess.run(
                ["Rscript", str(script), str(csv)], capture_output=True, text=True, check=True
            ).stdout.split()
        t_r_mcf, t_r_gl, r_last = float(out[0]), float(out[1]), float(out[2])
        small_mcf, t_small = best(lambda: mean_cumulative_function(sub, **kw))
        small_gl, t_small_gl = best(lambda: ghosh_lin(sub, terminal="terminal", **kw))
        assert abs(small_mcf.table["estimate"].iloc[-1] - r_last) < 1e-8
        r_line = (
            f"R on {args.r_n:,} persons ({len(sub):,} rows): survfit(id) {t_r_mcf:.2f} s vs "
            f"ours {t_small:.2f} s; mets recurrentMarginal {t_r_gl:.2f} s vs ours "
            f"{t_small_gl:.2f} s"
        )
        print(r_line)
    print(
        f"ratios to our Cox fit: MCF {t_mcf / t_cox:.2f}, Ghosh–Lin {t_gl / t_cox:.2f}; "
        f"to lifelines NA: MCF {t_mcf / t_na:.2f}"
    )
    print(f"peak memory {peak_mb():,.0f} MB; load average after: {os.getloadavg()}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
