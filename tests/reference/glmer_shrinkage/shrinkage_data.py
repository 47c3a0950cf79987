"""Write ``shrinkage.csv`` beside this file: entries in ten sites of very different sizes
with a true site effect (normal, SD 0.35 on the logit scale) besides the case mix.

Run from the repository root: ``python tests/reference/glmer_shrinkage/shrinkage_data.py``;
deterministic (fixed seed). ``glmer_shrinkage.R`` and the Python test read the CSV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "shrinkage.csv"
SIZES = (15, 20, 30, 45, 60, 80, 110, 150, 220, 300)


def make(seed: int = 20261201) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, 0.35, len(SIZES))
    site = np.repeat([f"S{i:02d}" for i in range(len(SIZES))], SIZES)
    ui = np.repeat(u, SIZES)
    n = site.size
    age = rng.integers(18, 40, n)
    prior = rng.poisson(2.0, n)
    eta = -1.0 - 0.04 * (age - 25) + 0.3 * prior + ui
    relapse = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame(
        {"person_id": np.arange(n), "municipality": site, "age": age,
         "prior_decisions_5y": prior, "relapse_1y": relapse}
    )  # fmt: skip


if __name__ == "__main__":
    make().to_csv(OUT, index=False)
