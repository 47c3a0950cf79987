"""Write ``data/km_synthetic.csv``: a small cohort for the Kaplan–Meier, log-rank and RMST
reference scripts, with heavy ties (whole 30-day units), delayed entry, three ordered groups,
two strata, multi-code events (0 censored, 1 relapse, 2 death) and non-integer case weights.

Deterministic: run ``.venv/bin/python tests/reference/km/km_synthetic_data.py`` to rewrite the
same bytes; the R scripts and the Python tests both read the written CSV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parents[1] / "data" / "km_synthetic.csv"


def make(n: int = 600, seed: int = 20241126) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)  # ordered: 0 < 1 < 2
    stratum = rng.integers(0, 2, n)
    rate = 1 / 900 * np.exp(0.35 * group + 0.3 * stratum)
    event_time = rng.exponential(1 / rate)
    death_time = rng.exponential(9000, n)
    censor_time = rng.uniform(200, 1500, n)
    # Coarsen to 30-day units so that many times are tied, as register dates often are.
    time = np.ceil(np.minimum.reduce([event_time, death_time, censor_time]) / 30) * 30
    event = np.where(
        event_time <= np.minimum(death_time, censor_time),
        1,
        np.where(death_time <= censor_time, 2, 0),
    )
    # A third enter late (left truncation); entry strictly before exit.
    late = rng.random(n) < 1 / 3
    entry = np.where(late, np.floor(rng.uniform(0, 1, n) * time / 30) * 30, 0.0)
    weight = np.round(rng.uniform(0.5, 2.5, n), 3)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "time": time.astype(int),
            "status": event,
            "entry": entry.astype(int),
            "group": np.array(["low", "mid", "high"])[group],
            "group_score": group + 1,
            "stratum": np.array(["s1", "s2"])[stratum],
            "weight": weight,
        }
    )


if __name__ == "__main__":
    make().to_csv(OUT, index=False)
