"""Recovery of a known truth: Aalen–Johansen and Fine–Gray on data simulated from models
whose cumulative incidence and coefficients are known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.survival.competing import cumulative_incidence
from evaluation.survival.fine_gray import fine_gray

RATES = np.array([0.5, 0.3, 0.1])  # constant cause-specific hazards per year


def _exponential_causes(n: int, rng: np.random.Generator) -> pd.DataFrame:
    latent = rng.exponential(1.0 / RATES, size=(n, RATES.size))
    t = latent.min(axis=1)
    c = rng.uniform(0.5, 4.0, size=n)
    return pd.DataFrame(
        {"t": np.minimum(t, c), "e": np.where(t <= c, latent.argmin(axis=1) + 1, 0)}
    )


def _true_cif(t: float) -> np.ndarray:
    total = RATES.sum()
    return RATES / total * (1 - np.exp(-total * t))


def test_aalen_johansen_recovers_the_truth_within_its_standard_error():
    d = _exponential_causes(4000, np.random.default_rng(11))
    at = cumulative_incidence(d, duration="t", event="e").at([1.0]).query("cause > 0")
    z = (at["estimate"].to_numpy() - _true_cif(1.0)) / at["se"].to_numpy()
    assert np.all(np.abs(z) < 3)  # 3 standard errors: fails by chance in ~1 of 370 seeds


def test_log_log_intervals_cover_at_the_nominal_rate():
    """Coverage of the 95 % intervals at t = 1 over 400 samples of 300 persons.

    The Monte Carlo standard error of a 95 % coverage is sqrt(.95 * .05 / 400) = 0.011;
    the test allows 3 of them (and the slight undercoverage expected at n = 300).
    """
    rng = np.random.default_rng(2024)
    truth = _true_cif(1.0)
    hits = np.zeros(RATES.size)
    reps = 400
    for _ in range(reps):
        d = _exponential_causes(300, rng)
        at = cumulative_incidence(d, duration="t", event="e").at([1.0]).query("cause > 0")
        hits += (at["ci_lower"].to_numpy() <= truth) & (truth <= at["ci_upper"].to_numpy())
    assert np.all(np.abs(hits / reps - 0.95) < 0.035)


def test_fine_gray_recovers_coefficients_of_a_subdistribution_model():
    """Fine and Gray's (1999) simulation design: F1(t | x) = 1 - (1 - p (1 - e^-t))^exp(xb)."""
    rng = np.random.default_rng(5)
    n, p, beta = 3000, 0.6, np.array([0.5, -0.4])
    x = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)])
    risk = np.exp(x @ beta)
    f_inf = 1 - (1 - p) ** risk
    cause1 = rng.uniform(size=n) < f_inf
    u = rng.uniform(size=n)
    inner = (1 - (1 - u * f_inf) ** (1 / risk)) / p
    t1 = -np.log1p(-np.clip(inner, 0, 1 - 1e-12))
    t2 = rng.exponential(1.0 / np.exp(x @ np.array([0.3, 0.2])))
    t = np.where(cause1, t1, t2)
    c = rng.uniform(0, 3, n)
    d = pd.DataFrame(
        {
            "t": np.minimum(t, c),
            "e": np.where(t <= c, np.where(cause1, 1, 2), 0),
            "x1": x[:, 0],
            "x2": x[:, 1],
        }
    )
    fit = fine_gray(d, "x1 + x2", duration="t", event="e", cause=1).summary()
    z = (fit["coef"].to_numpy() - beta) / fit["se"].to_numpy()
    assert np.all(np.abs(z) < 3)  # within 3 sandwich standard errors of the truth
