"""Write ``data/effect_curves_input.csv`` for ``weighted_survival.R`` (section "effect").

A small cohort with known confounding (participants younger, more often men, with more
prior decisions; the same characteristics raise relapse), competing death and emigration,
whole-day durations with many ties and some persons in two rows (two trials), together with
the weights :func:`evaluation.estimate_programme_effect` adjusts with: the stabilised ATT
weights of the propensity model ``PROPENSITY_FORMULA`` (``att_weight``) and the 1:1 caliper
matching weights (``match_weight``). R reads the data, refits the propensity model, checks
that its ATT weights equal ``att_weight``, and draws the weighted and unweighted
Aalen–Johansen curves that the estimator's ``curves`` must reproduce.

Deterministic: run ``.venv/bin/python tests/reference/effects/effect_curves_data.py`` (with
``PYTHONPATH=src``) to rewrite the same bytes; the tests read the written CSV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parents[1] / "data" / "effect_curves_input.csv"
PROPENSITY_FORMULA = "age + C(sex) + np.log1p(prior_decisions_5y)"


def make(n_persons: int = 850, n_second: int = 150, seed: int = 20261201) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = np.concatenate([np.arange(n_persons), rng.choice(n_persons, n_second, replace=False)])
    n = len(pid)
    age0 = np.clip(rng.normal(30, 7, n_persons), 15, None).round(1)
    sex0 = np.where(rng.random(n_persons) < 0.6, "M", "F")
    age = age0[pid] + np.where(np.arange(n) >= n_persons, 1.0, 0.0)  # a later trial
    sex = sex0[pid]
    prior = rng.poisson(1.5, n)
    male = (sex == "M").astype(float)
    lp = -1.3 - 0.06 * (age - 30) + 0.5 * np.log1p(prior) + 0.4 * male
    treated = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    rate = np.exp(0.5 * np.log1p(prior) - 0.03 * (age - 30) + 0.3 * male) / 900
    t_relapse = rng.exponential(1.0, n) / (rate * np.where(treated == 1, 0.75, 1.0))
    t_death = rng.exponential(5000, n)
    t_emig = rng.exponential(6000, n)
    t_cens = rng.uniform(300, 1500, n)
    end = np.minimum.reduce([t_relapse, t_death, t_emig, t_cens])
    event = np.select([end == t_relapse, end == t_death, end == t_emig], [1, 2, 3], 0)
    data = pd.DataFrame(
        {
            "person_id": [f"P{i:04d}" for i in pid],
            "treated": treated,
            "age": age,
            "sex": sex,
            "prior_decisions_5y": prior,
            # Whole weeks, in days: many tied days, as register dates grouped by week are.
            "duration_days": (np.ceil(end / 7) * 7).astype(int),
            "event": event,
        }
    )
    return data


def with_weights(data: pd.DataFrame) -> pd.DataFrame:
    from evaluation.effects import match, propensity_weights

    ps = propensity_weights(data, PROPENSITY_FORMULA, treatment="treated")
    m = match(data, treatment="treated", score=ps, k=1, caliper=0.2)
    return data.assign(att_weight=ps.weights.to_numpy(), match_weight=m.weights.to_numpy())


if __name__ == "__main__":
    with_weights(make()).to_csv(OUT, index=False, float_format="%.17g")
