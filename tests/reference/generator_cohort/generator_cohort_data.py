"""Write ``data/generator_cohort.csv``: a relapse cohort from the package's own generator.

The other reference data are small numpy simulations; this file is what the package really
produces: the committed default synthetic registers (``evaluation.load_synthetic()``) turned
into a Brå "final decision" relapse cohort of all entry events, so it has several rows per
person (clusters), whole-day exit times (many ties), four event codes (0 censored, 1 relapse,
2 death, 3 emigration) and a municipality group for strata. A deterministic delayed entry is
added: every third row enters at ``min(30, duration_days // 4)`` days.

The first 6000 rows (in the cohort's own order: by person, then entry date) keep the file
small; clusters are renumbered 1, 2, ... in order of appearance so no person id is written.

Run from the repository root:
``.venv/bin/python tests/reference/generator_cohort/generator_cohort_data.py``, then
``Rscript tests/reference/generator_cohort/generator_cohort.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import evaluation

N_ROWS = 6000
BIG_CITIES = {"Stockholm", "Göteborg", "Malmö"}


def make(n_rows: int = N_ROWS) -> pd.DataFrame:
    registers = evaluation.load_synthetic()
    cohort = evaluation.relapse_cohort(registers, definition="bra-final", population="all", rng=1)
    cohort = cohort.data.head(n_rows).reset_index(drop=True)
    duration = cohort["duration_days"].to_numpy(dtype="int64")
    row = np.arange(len(cohort))
    entry = np.where(row % 3 == 2, np.minimum(30, duration // 4), 0)
    return pd.DataFrame(
        {
            "cluster_id": pd.factorize(cohort["person_id"])[0] + 1,
            "entry_days": entry,
            "duration_days": duration,
            "event": cohort["event"].astype("int64"),
            "sex": cohort["sex"].astype(str),
            "age": cohort["age"].astype("int64"),
            "prior_decisions_5y": cohort["prior_decisions_5y"].astype("int64"),
            "muni_group": np.where(cohort["municipality"].isin(BIG_CITIES), "city", "other"),
        }
    )


if __name__ == "__main__":
    out = Path(__file__).parents[1] / "data" / "generator_cohort.csv"
    make().to_csv(out, index=False)
