"""Write tests/reference/data/matchit_input.csv: the data matchit_nearest.R matches.

Scores are fitted once here and written with the data, so that R and Python match on
exactly the same numbers (the algorithms are compared, not the logistic fits).
Run: .venv/bin/python tests/reference/matching/matchit_data.py
"""

from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    rng = np.random.default_rng(20261126)
    n = 600
    age = rng.integers(18, 60, n)
    prior = rng.poisson(2.0, n)
    sex = rng.choice(["F", "M"], n, p=[0.3, 0.7])
    lin = -2.2 + 0.04 * (age - 30) + 0.25 * prior + 0.5 * (sex == "M")
    treat = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    ps = 1 / (1 + np.exp(-(lin + rng.normal(0, 0.3, n))))
    df = pd.DataFrame({"treat": treat, "age": age, "prior": prior, "sex": sex, "ps": ps})
    df["logit_ps"] = np.log(df.ps / (1 - df.ps))
    out = Path(__file__).parents[1] / "data" / "matchit_input.csv"
    df.to_csv(out, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
