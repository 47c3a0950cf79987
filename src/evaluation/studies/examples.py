"""A small design to show and test the runner: the t-interval of a normal mean.

Its replication takes milliseconds, so the runner's own behaviour (seeding, resuming,
workers) can be tested and timed without the cost of a real analysis.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from evaluation.studies._design import StudyDesign

__all__ = ["mean_interval", "mean_interval_study"]


def mean_interval(
    seed: np.random.SeedSequence, *, n: int = 20, mean: float = 1.0, alpha: float = 0.05
) -> dict[str, float | bool]:
    """One replication: ``n`` draws from N(mean, 1), the mean and its t-interval.

    Examples
    --------
    >>> row = mean_interval(np.random.SeedSequence(1), n=20)
    >>> sorted(row)
    ['ci_lower', 'ci_upper', 'covered', 'estimate']
    """
    x = np.random.default_rng(seed).normal(mean, 1.0, n)
    est = float(x.mean())
    half = float(stats.t.ppf(1 - alpha / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return {
        "estimate": est,
        "ci_lower": est - half,
        "ci_upper": est + half,
        "covered": bool(est - half <= mean <= est + half),
    }


def mean_interval_study(*, n: int = 20, mean: float = 1.0, alpha: float = 0.05) -> StudyDesign:
    """The coverage study of :func:`mean_interval` (its intervals cover ``mean`` at 1 - alpha)."""
    return StudyDesign(
        name="mean-interval",
        replicate=mean_interval,
        params={"n": n, "mean": mean, "alpha": alpha},
        description="coverage of the t-interval of a normal mean",
    )


mean_interval_study.study_factory = True  # type: ignore[attr-defined]
