"""Write the synthetic retention-like competing-risks data used by the R reference scripts.

Deterministic (fixed seed, numpy only) so the CSV can be regenerated and checked:
``.venv/bin/python tests/reference/competing/cif_make_retention.py``. Durations are whole
days rounded to weeks, so that many events of different causes and censorings share a time:
the case the tie handling of Aalen–Johansen, Gray's test and Fine–Gray must get right.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parents[1] / "data" / "cif_retention.csv"


def make(n: int = 600, seed: int = 20240611) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["A", "B", "C"]), size=n, p=[0.4, 0.35, 0.25])
    stratum = rng.choice(np.array(["police", "social_services"]), size=n)
    team = rng.integers(1, 16, size=n)
    x1 = rng.integers(0, 2, size=n)
    x2 = np.round(rng.normal(size=n), 3)
    # Cause-specific hazards per year for: completed, dropped out, moved, died.
    base = np.array([0.35, 0.45, 0.10, 0.03])
    effect = np.exp(
        np.column_stack(
            [
                0.3 * x1 - 0.2 * x2,
                -0.4 * x1 + 0.3 * x2 + 0.3 * (group == "B"),
                0.1 * x2,
                np.zeros(n),
            ]
        )
    )
    rate = base * effect
    latent = rng.exponential(1.0 / rate)
    cause = latent.argmin(axis=1) + 1
    years = latent.min(axis=1)
    censor = rng.uniform(0.2, 4.0, size=n)
    observed = np.minimum(years, censor)
    event = np.where(years <= censor, cause, 0)
    # Whole weeks (at least one), in days: heavy ties across causes and censoring.
    days = np.maximum(7 * np.ceil(observed * 365.25 / 7), 7).astype(int)
    weight = np.round(rng.uniform(0.5, 2.0, size=n), 3)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "duration_days": days,
            "event": event,
            "group": group,
            "stratum": stratum,
            "team": team,
            "x1": x1,
            "x2": x2,
            "weight": weight,
        }
    )


if __name__ == "__main__":
    make().to_csv(OUT, index=False)
