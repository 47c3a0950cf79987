"""Write tests/reference/data/recurrent_events.csv: small recurrent-event data for the R references.

Run: PYTHONPATH=src python tests/reference/recurrent_data.py

300 persons with a binary ``x`` and a continuous ``z``; offences as a Poisson process with
a person-level gamma frailty (so that the robust variances matter), rate
0.8 exp(0.5 x - 0.3 z) per year; one custody gap for a third of the persons (not at risk,
as the recurrence cohort writes it); death with hazard 0.08 exp(0.4 x) ends follow-up
(``terminal`` 2), else administrative censoring uniform on 1..4 years. Times are rounded to
1e-6 years and distinct, so no ties (mets breaks tied times as if in sequence). ``w`` are
case weights for the weighted curves.
"""

from pathlib import Path

import numpy as np
import pandas as pd


def simulate(n: int = 300, seed: int = 20241) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        x = int(rng.integers(0, 2))
        z = float(rng.normal())
        frailty = rng.gamma(2.0, 0.5)
        rate = 0.8 * np.exp(0.5 * x - 0.3 * z) * frailty
        death = rng.exponential(1 / (0.08 * np.exp(0.4 * x)))
        cens = rng.uniform(1, 4)
        end = min(death, cens)
        term = 2 if death < cens else 0
        gap = None
        if rng.random() < 1 / 3:
            g0 = rng.uniform(0, end)
            gap = (g0, min(g0 + rng.uniform(0.1, 0.5), end))
        segs = [(0.0, end)] if gap is None else [(0.0, gap[0]), (gap[1], end)]
        segs = [(a, b) for a, b in segs if b - a > 1e-3]
        w = float(rng.uniform(0.5, 2.0))
        for k, (a, b) in enumerate(segs):
            t = a
            start = a
            while True:
                t += rng.exponential(1 / rate)
                if t >= b:
                    break
                rows.append((i + 1, start, t, 1, 0, x, z, w))
                start = t
            last = k == len(segs) - 1
            rows.append((i + 1, start, b, 0, term if last else 0, x, z, w))
    d = pd.DataFrame(rows, columns=["id", "start", "stop", "event", "terminal", "x", "z", "w"])
    d[["start", "stop", "z", "w"]] = d[["start", "stop", "z", "w"]].round(6)
    d = d[d["stop"] > d["start"]].reset_index(drop=True)
    # enum: 1 before the first event, k + 1 after the k-th (the PWP strata).
    d["enum"] = d.groupby("id")["event"].cumsum() - d["event"] + 1
    return d


if __name__ == "__main__":
    out = Path(__file__).parent / "data" / "recurrent_events.csv"
    simulate().to_csv(out, index=False)
    print(out)
