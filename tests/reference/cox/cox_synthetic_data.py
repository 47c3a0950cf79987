"""Write ``data/cox_synthetic.csv``: a small deterministic cohort for the Cox reference tests.

It has what the Rossi data lack: ties (times rounded to whole weeks), delayed entry, two
strata, 30 clusters, a three-level category, case weights and a competing event code (2),
which R's script turns into censoring (``event == 1``) as ``cox(..., event_codes=(1,))`` does.

Run from the repository root: ``.venv/bin/python tests/reference/cox/cox_synthetic_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def make(n: int = 600, seed: int = 20260301) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 30, n)
    cluster_effect = rng.normal(0.0, 0.4, 30)[cluster]  # shared frailty: makes clusters matter
    stratum = np.where(rng.random(n) < 0.45, "a", "b")
    x1 = rng.normal(0.0, 1.0, n)
    x2 = (rng.random(n) < 0.4).astype(int)
    grp = rng.choice(["low", "mid", "high"], n, p=[0.3, 0.4, 0.3])
    eta = 0.5 * x1 - 0.4 * x2 + np.select([grp == "mid", grp == "high"], [0.3, 0.7], 0.0)
    eta = eta + cluster_effect
    scale = np.where(stratum == "a", 60.0, 90.0)
    t_event = scale * rng.weibull(1.3, n) * np.exp(-eta / 1.3)
    t_compete = rng.exponential(250.0, n)
    t_censor = rng.uniform(20.0, 200.0, n)
    time = np.minimum.reduce([t_event, t_compete, t_censor])
    event = np.select([time == t_event, time == t_compete], [1, 2], 0)
    time = np.ceil(time / 7.0)  # whole weeks: many tied event times
    entry = np.where(rng.random(n) < 0.3, rng.integers(0, 10, n), 0).astype(float)
    entry = np.where(entry >= time, 0.0, entry)  # entry must precede the exit
    weight = rng.choice([0.5, 1.0, 1.5, 2.0], n)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "entry": entry,
            "time": time,
            "event": event,
            "x1": np.round(x1, 6),
            "x2": x2,
            "grp": grp,
            "stratum": stratum,
            "cl": cluster,
            "w": weight,
        }
    )


if __name__ == "__main__":
    out = Path(__file__).parents[1] / "data" / "cox_synthetic.csv"
    make().to_csv(out, index=False)
