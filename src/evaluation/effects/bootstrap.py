"""The vectorised cluster bootstrap behind the adjusted curves and effect measures.

Column 0 of every weight matrix is the estimate on the data as they are; columns 1..B are
bootstrap replicates that resample persons (clusters) with replacement, expressed as
frequency weights. In each replicate the propensity model is refitted (one batched Newton
fit for all replicates), the balancing weights recomputed, and the weighted Aalen–Johansen
curves of both groups computed for all replicates at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.effects._aj import aalen_johansen_grid, restricted_mean
from evaluation.effects._logit import fit_logistic_batch, scores_batch
from evaluation.effects.propensity import ipw


def cluster_frequencies(clusters: np.ndarray, n_boot: int, gen: np.random.Generator) -> np.ndarray:
    """(n, 1 + n_boot) frequency weights: ones, then multinomial resamples of clusters."""
    codes, _ = _factorize(clusters)
    nc = int(codes.max()) + 1
    counts = gen.multinomial(nc, np.full(nc, 1.0 / nc), size=n_boot)  # (B, nc)
    F = np.empty((len(codes), n_boot + 1))
    F[:, 0] = 1.0
    F[:, 1:] = counts[:, codes].T
    return F


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(values, return_inverse=True)
    return codes, uniq


@dataclass(frozen=True, slots=True)
class Replicates:
    """Curves and measures for the estimate (column 0) and every replicate."""

    cif: dict[int, np.ndarray]  # group -> (T + 1, 1 + B) relapse cumulative incidence
    survival: dict[int, np.ndarray]  # group -> (T + 1, 1 + B) relapse-free survival
    at_risk: dict[int, np.ndarray]  # group -> (T + 1,) weighted number at risk (estimate)
    rmst: dict[int, np.ndarray]  # group -> (1 + B,) restricted mean relapse-free days
    weights: np.ndarray  # (n,) balancing weights of the estimate


def weighted_curves(
    duration: np.ndarray,
    event: np.ndarray,
    treat: np.ndarray,
    X: np.ndarray | None,
    F: np.ndarray,
    *,
    estimand: str,
    horizon: int,
    tau: float,
    beta0: np.ndarray | None = None,
    fixed_weights: np.ndarray | None = None,
    weight_time: np.ndarray | None = None,
) -> Replicates:
    """Adjusted relapse curves of both groups for the estimate and every replicate.

    ``X`` is the propensity design (refitted per column of ``F``); with ``fixed_weights``
    instead (matching, or no adjustment) the weights are kept and only resampled.
    ``weight_time`` (participants' rows, (n1, T + 1)) multiplies participants' weights by
    day, for inverse-probability-of-censoring weights.
    """
    if fixed_weights is not None:
        Wt = F * fixed_weights[:, None]
        w0 = fixed_weights
    else:
        assert X is not None
        beta = fit_logistic_batch(X, treat, F, start=beta0)
        e = scores_batch(X, beta)
        w = ipw(treat, e, estimand, freq=F)
        Wt = F * w
        w0 = w[:, 0]
    cif, surv, risk, rm = {}, {}, {}, {}
    for g in (1, 0):
        m = treat == g
        wt = weight_time if (g == 1 and weight_time is not None) else None
        curves = aalen_johansen_grid(
            duration[m], event[m], Wt[m], horizon=horizon, causes=(1,), weight_time=wt
        )
        cif[g] = curves.cif[1]
        # Relapse-free: 1 - CIF of relapse (death and emigration are not relapse); its area
        # to tau is the restricted mean time free of relapse (the synthetic truth's RMST).
        surv[g] = 1.0 - curves.cif[1]
        risk[g] = curves.at_risk[:, 0]
        rm[g] = restricted_mean(surv[g], tau)
    return Replicates(cif=cif, survival=surv, at_risk=risk, rmst=rm, weights=w0)
