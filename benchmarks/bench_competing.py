"""Benchmark of the competing-risks estimators against the reference tools, in one run.

Fine–Gray (``fine_gray``) against comprisk's ``FineGrayRegression`` (robust SE), and
Aalen–Johansen (``cumulative_incidence``, all causes with standard errors) against
lifelines' ``AalenJohansenFitter`` (one cause per fit, with variance) and comprisk's
``CumulativeIncidence``, at 100k and 1M persons; R's ``cmprsk::crr`` at 5k for scale when
Rscript is installed. Each measurement runs in a fresh subprocess so that its peak memory
(maxrss) is its own. Run under the shared lock:

    flock /tmp/bench.lock .venv/bin/python benchmarks/bench_competing.py

Data: integer days in 1..3650 (heavy ties), four causes plus censoring, three covariates.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

SIZES = (100_000, 1_000_000)
R_SIZE = 5_000
TIMEOUT = 600  # seconds per measurement


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    rate = np.array([0.3, 0.4, 0.1, 0.03]) * np.exp(
        x @ np.array([[0.3, -0.4, 0.1, 0.0], [-0.2, 0.3, 0.0, 0.1], [0.1, 0.0, 0.2, 0.0]])
    )
    latent = rng.exponential(1.0 / rate)
    years = latent.min(axis=1)
    censor = rng.uniform(0.2, 10.0, size=n)
    days = np.clip(np.ceil(np.minimum(years, censor) * 365.25), 1, 3650)
    event = np.where(years <= censor, latent.argmin(axis=1) + 1, 0)
    return pd.DataFrame({"t": days, "e": event, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})


def run_one(tool: str, n: int) -> dict[str, float]:
    """Time one tool on one size (called in a subprocess); imports are not timed."""
    from comprisk import CumulativeIncidence, FineGrayRegression
    from lifelines import AalenJohansenFitter

    from evaluation.survival.competing import cumulative_incidence
    from evaluation.survival.fine_gray import fine_gray

    d = make_data(n)
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    cpu = time.process_time()
    if tool == "fine_gray":
        fit = fine_gray(d, "x1 + x2 + x3", duration="t", event="e", cause=2)
        check = float(fit.coef[0])
    elif tool == "comprisk_fine_gray":
        model = FineGrayRegression(cause=2, robust_se=True).fit(
            d[["x1", "x2", "x3"]].to_numpy(), time=d["t"].to_numpy(), event=d["e"].to_numpy()
        )
        check = float(np.ravel(model.coef_)[0])
    elif tool == "aalen_johansen":
        ci = cumulative_incidence(d, duration="t", event="e")
        check = float(ci.at([365]).query("cause == 2")["estimate"].iloc[0])
    elif tool == "lifelines_aj":
        aj = AalenJohansenFitter(calculate_variance=True, seed=1)
        aj.fit(d["t"], d["e"], event_of_interest=2)
        check = float(aj.cumulative_density_.asof(365).iloc[0])
    elif tool == "comprisk_aj":
        CumulativeIncidence().fit(d["t"].to_numpy(), d["e"].to_numpy())
        check = 0.0
    else:
        raise ValueError(tool)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb, "check": check}


def run_r(n: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        make_data(n).to_csv(path, index=False)
        code = (
            f"suppressMessages(library(cmprsk)); d <- read.csv('{path}'); "
            "s <- Sys.time(); f <- crr(d$t, d$e, as.matrix(d[, c('x1','x2','x3')]), "
            "failcode = 2); cat(as.numeric(difftime(Sys.time(), s, units = 'secs')))"
        )
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=True)
        return float(out.stdout.strip())


def main() -> None:
    rows = []
    for n in SIZES:
        for tool in [
            "fine_gray",
            "comprisk_fine_gray",
            "aalen_johansen",
            "lifelines_aj",
            "comprisk_aj",
        ]:
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", tool, str(n)],
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                rows.append(
                    {"n": n, "tool": tool, "seconds": np.nan, "note": f"> {TIMEOUT} s, stopped"}
                )
                continue
            if out.returncode != 0:
                rows.append(
                    {
                        "n": n,
                        "tool": tool,
                        "seconds": np.nan,
                        "peak_mb": np.nan,
                        "note": out.stderr.strip().splitlines()[-1][:60],
                    }
                )
                continue
            rows.append({"n": n, "tool": tool, **json.loads(out.stdout), "note": ""})
    r_seconds = run_r(R_SIZE)
    if r_seconds is not None:
        ours = json.loads(
            subprocess.run(
                [sys.executable, __file__, "--one", "fine_gray", str(R_SIZE)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        rows.append({"n": R_SIZE, "tool": "fine_gray", **ours, "note": ""})
        rows.append(
            {
                "n": R_SIZE,
                "tool": "R_crr",
                "seconds": r_seconds,
                "peak_mb": np.nan,
                "note": "Rscript, fit only",
            }
        )
    table = pd.DataFrame(rows)
    # ratio of our wall time to the reference tool's in the same run (comprisk for
    # Fine–Gray, lifelines for Aalen–Johansen; R's crr at 5k)
    ref = {"fine_gray": "comprisk_fine_gray", "aalen_johansen": "lifelines_aj"}
    table["ratio"] = np.nan
    table["cpu_ratio"] = np.nan
    for i, row in table.iterrows():
        other = "R_crr" if row["n"] == R_SIZE else ref.get(row["tool"])
        if row["tool"] in ref and other is not None:
            match = table[(table["n"] == row["n"]) & (table["tool"] == other)]
            if len(match):
                table.loc[i, "ratio"] = row["seconds"] / match["seconds"].iloc[0]
                if "cpu_seconds" in match and other != "R_crr":
                    table.loc[i, "cpu_ratio"] = row["cpu_seconds"] / match["cpu_seconds"].iloc[0]
    cols = ["n", "tool", "seconds", "cpu_seconds", "peak_mb", "ratio", "cpu_ratio", "note"]
    with pd.option_context("display.width", 140):
        print(table.reindex(columns=cols).to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
