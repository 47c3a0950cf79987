"""Weighted Aalen–Johansen cumulative incidence on a daily grid, for many weight vectors at once.

Durations are whole days, so every curve can live on the grid 0..T. With rows binned by day
through one sparse indicator matrix, the weighted numbers leaving and the weighted events of
each cause on every day are a sparse-times-dense product with the (rows x replicates) weight
matrix; at-risk sums are reverse cumulative sums and the curves cumulative products and sums
down the day axis. 500 bootstrap replicates therefore cost a few matrix passes, not 500 fits.

Conventions (as R's ``survfit`` with weights): a row with duration ``d`` is at risk on day
``d``; events on day ``d`` are removed before censorings of the same day matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True, slots=True)
class GridCurves:
    """Curves on days 0..T (rows) for each weight column (columns)."""

    days: np.ndarray  # (T + 1,)
    at_risk: np.ndarray  # (T + 1, B) weighted number at risk at the start of each day
    survival: np.ndarray  # (T + 1, B) all-cause event-free probability after each day
    cif: dict[int, np.ndarray]  # cause -> (T + 1, B) cumulative incidence after each day


def aalen_johansen_grid(
    duration: np.ndarray,
    event: np.ndarray,
    W: np.ndarray,
    *,
    horizon: int,
    causes: tuple[int, ...] = (1, 2, 3),
    weight_time: np.ndarray | None = None,
) -> GridCurves:
    """Weighted Aalen–Johansen estimates for every column of ``W``.

    Parameters
    ----------
    duration, event
        Whole-day durations (>= 0) and event codes (0 censored).
    W
        Weights, shape (n,) or (n, B).
    horizon
        Last day of the grid ``T``; later follow-up only counts as at risk until T.
    causes
        Event codes whose cumulative incidence is returned (all non-zero codes end
        follow-up for the all-cause survival).
    weight_time
        Optional time-varying multiplier, shape (n, T + 1): row i's weight on day d is
        ``W[i] * weight_time[i, d]`` (inverse-probability-of-censoring weights).

    Returns
    -------
    GridCurves
    """
    W2 = W[:, None] if W.ndim == 1 else W
    n, B = W2.shape
    T = int(horizon)
    d = np.minimum(duration.astype(np.int64), T + 1)
    inside = duration <= T
    if weight_time is None:
        ind = sparse.csr_matrix((np.ones(n), (d, np.arange(n))), shape=(T + 2, n))
        leave = np.asarray(ind @ W2)
        at_risk = np.cumsum(leave[::-1], axis=0)[::-1][: T + 1]
        ev = {}
        for k in sorted(set(np.unique(event[inside & (event > 0)]).tolist()) | set(causes)):
            m = inside & (event == k)
            ik = sparse.csr_matrix(
                (np.ones(int(m.sum())), (d[m], np.flatnonzero(m))), shape=(T + 1, n)
            )
            ev[k] = np.asarray(ik @ W2)
    else:
        # At risk on day t: sum of w_i * g_i(t) over rows with duration >= t. Rows are few
        # (one group), so a dense (T + 1, n) pass is affordable.
        alive = (np.arange(T + 1)[:, None] <= duration[None, :]).astype(np.float64)
        g = weight_time.T  # (T + 1, n)
        at_risk = (alive * g) @ W2
        ev = {}
        for k in sorted(set(np.unique(event[inside & (event > 0)]).tolist()) | set(causes)):
            m = inside & (event == k)
            e = np.zeros((T + 1, n))
            e[d[m], np.flatnonzero(m)] = g[d[m], np.flatnonzero(m)]
            ev[k] = e @ W2
    total = sum(ev.values()) if ev else np.zeros((T + 1, B))
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, total / at_risk, 0.0)
        surv = np.cumprod(1.0 - hazard, axis=0)
        s_before = np.vstack([np.ones((1, B)), surv[:-1]])
        cif = {
            k: np.cumsum(s_before * np.where(at_risk > 0, ev[k] / at_risk, 0.0), axis=0)
            for k in causes
        }
    return GridCurves(days=np.arange(T + 1), at_risk=at_risk, survival=surv, cif=cif)


def restricted_mean(curve: np.ndarray, tau: float) -> np.ndarray:
    """Integral over [0, tau] of a step function given on days 0..T (value on [d, d + 1)).

    ``curve`` has shape (T + 1, B) with T >= floor(tau).
    """
    full = int(np.floor(tau))
    frac = tau - full
    area = curve[:full].sum(axis=0)
    if frac > 0:
        area = area + frac * curve[full]
    return area
