"""The vectorised cluster bootstrap behind the adjusted curves and effect measures.

Column 0 of every weight matrix is the estimate on the data as they are; columns 1..B are
bootstrap replicates that resample persons (clusters) with replacement, expressed as
frequency weights. In each replicate the propensity model is refitted (one batched Newton
fit for all replicates), the balancing weights recomputed, and the weighted Aalen–Johansen
curves of both groups computed for all replicates at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.effects._aj import aalen_johansen_grid, restricted_mean
from evaluation.effects._logit import fit_logistic_batch, scores_batch
from evaluation.effects.propensity import ipw


@dataclass(frozen=True, slots=True, kw_only=True)
class BootstrapDraws:
    """Which persons each bootstrap replicate drew, and the propensity model it refitted.

    Replicate 0 is the data as they are; replicates 1..B each draw as many clusters
    (persons) as there are, with replacement, and take all rows of a drawn cluster
    together. This record lets a reader check the bootstrap replicate by replicate: refit
    the propensity model on ``resample(data, b)`` and compare with
    ``propensity_coefficients.loc[b]``.

    Attributes
    ----------
    clusters
        The distinct cluster labels, sorted (the columns of ``counts``).
    counts
        Shape (B, number of clusters): how often replicate b drew each cluster.
    row_codes
        For each analysed row, the position of its cluster in ``clusters``.
    propensity_coefficients
        One row per replicate (index 0..B, 0 the data as they are) and one column per term
        of the propensity model: the coefficients refitted on that replicate. None when no
        propensity model is refitted (matching keeps its matches and only resamples them).
    """

    clusters: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    row_codes: np.ndarray = field(repr=False)
    propensity_coefficients: pd.DataFrame | None = None

    @property
    def n_boot(self) -> int:
        """Number of bootstrap replicates B."""
        return int(self.counts.shape[0])

    def frequencies(self) -> np.ndarray:
        """(n rows, 1 + B) frequency weights: ones, then each row's cluster count per replicate."""
        F = np.empty((len(self.row_codes), self.n_boot + 1))
        F[:, 0] = 1.0
        F[:, 1:] = self.counts[:, self.row_codes].T
        return F

    def resample(self, data: pd.DataFrame, replicate: int) -> pd.DataFrame:
        """The analysed rows as replicate ``replicate`` drew them (each repeated by its count).

        ``data`` must be the rows the estimator analysed, in the same order.

        Examples
        --------
        >>> d = draw_clusters(np.array(["a", "b", "b"]), 3, np.random.default_rng(0))
        >>> frame = pd.DataFrame({"person": ["a", "b", "b"]})
        >>> d.resample(frame, 0)["person"].tolist()  # replicate 0: the data as they are
        ['a', 'b', 'b']
        >>> all(len(d.resample(frame, b)) == d.frequencies()[:, b].sum() for b in range(4))
        True
        """
        if len(data) != len(self.row_codes):
            raise ValueError(
                f"the data have {len(data)} rows, the bootstrap drew from {len(self.row_codes)}"
            )
        if not 0 <= replicate <= self.n_boot:
            raise ValueError(f"replicate must be between 0 and {self.n_boot}, not {replicate}")
        reps = self.frequencies()[:, replicate].astype(np.int64)
        return data.iloc[np.repeat(np.arange(len(data)), reps)].reset_index(drop=True)


def draw_clusters(clusters: np.ndarray, n_boot: int, gen: np.random.Generator) -> BootstrapDraws:
    """Multinomial resamples of the clusters of ``clusters`` (one label per row)."""
    codes, uniq = _factorize(clusters)
    nc = len(uniq)
    counts = gen.multinomial(nc, np.full(nc, 1.0 / nc), size=n_boot)  # (B, nc)
    # Counts rarely exceed a few; the smallest integer type keeps 500 replicates of many
    # thousand persons at a few megabytes.
    counts = counts.astype(np.min_scalar_type(int(counts.max(initial=0))))
    return BootstrapDraws(clusters=uniq, counts=counts, row_codes=codes)


def cluster_frequencies(clusters: np.ndarray, n_boot: int, gen: np.random.Generator) -> np.ndarray:
    """(n, 1 + n_boot) frequency weights: ones, then multinomial resamples of clusters."""
    return draw_clusters(clusters, n_boot, gen).frequencies()


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
    coefficients: np.ndarray | None = None  # (p, 1 + B) propensity model refitted per column


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
    beta = None
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
    return Replicates(cif=cif, survival=surv, at_risk=risk, rmst=rm, weights=w0, coefficients=beta)
