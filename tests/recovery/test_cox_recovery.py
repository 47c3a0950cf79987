"""Recovery tests: on data simulated with a known conditional hazard ratio, ``cox`` finds it.

Proportional-hazards data (Weibull baseline, independent uniform censoring), times rounded
so that ties occur, some delayed entry. Tolerances come from the standard errors: each
estimate within 2 SE of the truth (one fixed seed), and over 200 replications the 95 %
interval covers the truth between 92 % and 98 % of the time (the binomial SD of a 95 %
coverage over 200 draws is 1.5 points, so the band is about +-2 SD).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.survival.cox import cox

TRUE = {"x1": 0.5, "x2": -0.7}


def simulate(n: int, rng: np.random.Generator, *, split: bool = False) -> pd.DataFrame:
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.5).astype(float)
    eta = TRUE["x1"] * x1 + TRUE["x2"] * x2
    # Weibull(shape 1.5) times with hazard multiplied by exp(eta).
    t = (rng.exponential(size=n) / np.exp(eta)) ** (1 / 1.5) * 100
    c = rng.uniform(20, 250, n)
    time = np.ceil(np.minimum(t, c))  # whole days: ties
    event = (t <= c).astype(int)
    # Left truncation: persons who exited before their entry day are never seen.
    entry = np.where(rng.random(n) < 0.3, rng.uniform(0, 30, n).round(), 0.0)
    keep = time > entry
    data = pd.DataFrame(
        {"id": np.arange(n), "entry": entry, "time": time, "event": event, "x1": x1, "x2": x2}
    )[keep]
    if not split:
        return data.reset_index(drop=True)
    # The same follow-up as start/stop rows cut at day 40: the likelihood is unchanged,
    # rows of one person are dependent pieces, the robust variance must cluster them.
    cut = 40.0
    first = data[data["entry"] < cut].assign(time=lambda d: np.minimum(d["time"], cut))
    first = first.assign(event=np.where(data.loc[first.index, "time"] > cut, 0, first["event"]))
    second = data[data["time"] > cut].assign(entry=lambda d: np.maximum(d["entry"], cut))
    return pd.concat([first, second]).sort_values(["id", "entry"]).reset_index(drop=True)


def test_estimates_within_two_standard_errors() -> None:
    data = simulate(3000, np.random.default_rng(20260311))
    res = cox(data, "x1 + x2", duration="time", event="event", entry="entry")
    table = res.summary().set_index("term")
    for term, truth in TRUE.items():
        assert abs(table.loc[term, "coef"] - truth) < 2 * table.loc[term, "se"]


def test_split_rows_give_the_same_fit_and_clustered_variance() -> None:
    rng = np.random.default_rng(7)
    data = simulate(800, rng)
    split = simulate(800, np.random.default_rng(7), split=True)
    assert len(split) > len(data)
    whole = cox(data, "x1 + x2", duration="time", event="event", entry="entry", robust=True)
    parts = cox(split, "x1 + x2", duration="time", event="event", entry="entry", cluster="id")
    np.testing.assert_allclose(parts.coef, whole.coef, rtol=1e-9)
    np.testing.assert_allclose(parts.cov, whole.cov, rtol=1e-8)


def test_interval_coverage_over_200_replications() -> None:
    rng = np.random.default_rng(20260312)
    truth = np.array([TRUE["x1"], TRUE["x2"]])
    covered = {"naive": np.zeros(2), "cluster": np.zeros(2)}
    reps = 200
    for _ in range(reps):
        data = simulate(300, rng, split=True)
        for kind, kw in (("naive", {}), ("cluster", {"cluster": "id"})):
            table = cox(data, "x1 + x2", duration="time", event="event", entry="entry", **kw)
            s = table.summary()
            lo, hi = np.log(s["ci_lower"].to_numpy()), np.log(s["ci_upper"].to_numpy())
            covered[kind] += (lo <= truth) & (truth <= hi)
    for kind, hits in covered.items():
        rate = hits / reps
        assert np.all((rate >= 0.92) & (rate <= 0.98)), (kind, rate)
