"""Pure numpy Kaplan–Meier computations: arrays in, arrays out.

Everything here follows R's ``survival`` package (3.5) so that the public functions can be
checked against it: the Kaplan–Meier product, the (weighted) Greenwood variance, the
infinitesimal-jackknife (robust) variance of ``survfit(..., robust=TRUE)``, the
Nelson–Aalen cumulative hazard, the three confidence-interval types of ``survfit_confint``
and the quantile rule of ``quantile.survfit``.

The data are sorted once (``np.unique``) and every sum is a ``bincount`` or ``cumsum``, so a
curve of a million persons costs one sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain")
VARIANCES: tuple[str, ...] = ("greenwood", "robust")


@dataclass(frozen=True, slots=True)
class KMArrays:
    """One curve on its grid of distinct exit times (events or censorings)."""

    time: np.ndarray
    n_risk: np.ndarray  # weighted number at risk just before each time
    n_event: np.ndarray  # weighted events at each time
    n_censor: np.ndarray  # weighted censorings at each time
    surv: np.ndarray  # Kaplan–Meier estimate S(t)
    std_err: np.ndarray  # standard error of log S(t) (R's ``fit$std.err``)
    cumhaz: np.ndarray  # Nelson–Aalen H(t)
    std_chaz: np.ndarray  # its standard error
    persons_event: np.ndarray  # unweighted events at each time (for risk tables)
    persons_censor: np.ndarray  # unweighted censorings at each time
    entry_sorted: np.ndarray | None  # sorted entry times (delayed entry), else None


def _revcumsum(x: np.ndarray) -> np.ndarray:
    return np.cumsum(x[::-1])[::-1]


def _ij_variance(
    exit_index: np.ndarray,
    entry_index: np.ndarray | None,
    event: np.ndarray,
    weight: np.ndarray,
    own: np.ndarray,
    hazard: np.ndarray,
) -> np.ndarray:
    """Infinitesimal-jackknife variance on the time grid, in O(n + m).

    The influence of person ``i`` (exit at grid index ``J``, at risk from grid index ``k``)
    at grid time ``t`` is ``d_i own[J] 1{J <= t} - sum_{k <= j <= min(J, t)} hazard[j] own[j]``
    (for log S, ``own = 1 / (n - d)``; for H, ``own = 1 / n``); the variance is the sum of the
    squared weighted influences, as R's ``survfit(robust=TRUE)`` computes it. Persons still at
    risk at ``t`` contribute ``(A(t) - A0_i)^2``, expanded so that cumulative sums give every
    ``t`` at once.
    """
    m = len(own)
    with np.errstate(divide="ignore", invalid="ignore"):
        cum = np.cumsum(hazard * own)
        a0 = (
            np.zeros_like(weight)
            if entry_index is None
            else np.where(entry_index > 0, cum[np.maximum(entry_index - 1, 0)], 0.0)
        )
        w2 = weight * weight
        finished = event * own[exit_index] - (cum[exit_index] - a0)
        done = np.cumsum(np.bincount(exit_index, weights=w2 * finished**2, minlength=m))
        start = np.zeros_like(exit_index) if entry_index is None else entry_index

        def active(values: np.ndarray) -> np.ndarray:
            add = np.bincount(start, weights=values, minlength=m + 1)
            drop = np.bincount(exit_index, weights=values, minlength=m + 1)
            return np.cumsum(add - drop)[:m]

        cnt = active(w2)
        if entry_index is None:
            return done + cum * cum * cnt
        s1 = active(w2 * a0)
        s2 = active(w2 * a0 * a0)
        return done + cum * cum * cnt - 2 * cum * s1 + s2


def _ij_variance_clustered(
    exit_index: np.ndarray,
    entry_index: np.ndarray | None,
    event: np.ndarray,
    weight: np.ndarray,
    own: np.ndarray,
    hazard: np.ndarray,
    cluster: np.ndarray,
) -> np.ndarray:
    """Infinitesimal-jackknife variance with influences summed within clusters, O(n log n).

    With the notation of ``_ij_variance``, the weighted influence of row ``i`` at grid
    index ``j`` is ``w_i (a0_i - A_j)`` while it is at risk (``k_i <= j < J_i``), ``w_i c_i``
    once it has left (``j >= J_i``, ``c_i = d_i own[J_i] - (A_{J_i} - a0_i)``) and 0 before
    it enters. A cluster's influence is therefore ``R_c(j) - A_j N_c(j)`` with
    ``N_c`` the weight of its rows at risk and ``R_c`` the sum of ``w a0`` over those and of
    ``w c`` over its rows that have left: both step functions that change only where one of
    its rows enters or leaves. The variance ``sum_c (R_c - A N_c)^2`` needs
    ``sum_c R_c^2``, ``sum_c R_c N_c`` and ``sum_c N_c^2`` over time; each changes at a
    row's entry or exit by the difference of the cluster's squares after and before, so
    one sort of the 2n changes by (cluster, time) and cumulative sums give every time at
    once (R's ``survfit(id=, robust=TRUE)`` sums the n x m influence matrix by cluster).
    """
    m = len(own)
    n = exit_index.size
    with np.errstate(divide="ignore", invalid="ignore"):
        cum = np.cumsum(hazard * own)
        start = np.zeros_like(exit_index) if entry_index is None else entry_index
        a0 = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
        c = event * own[exit_index] - (cum[exit_index] - a0)
        idx = np.concatenate([start, exit_index])
        d_r = np.concatenate([weight * a0, weight * (c - a0)])
        d_n = np.concatenate([weight, -weight])
        cl = np.concatenate([cluster, cluster])
        # Entries before exits at one index, so that a cluster's running sums pass through
        # the values they really take (the squares telescope either way).
        order = np.lexsort((np.repeat([0, 1], n), idx, cl))
        idx, d_r, d_n, cl = idx[order], d_r[order], d_n[order], cl[order]
        first = np.concatenate([[True], cl[1:] != cl[:-1]])
        base = np.flatnonzero(first)
        seg = np.cumsum(first) - 1

        def running(delta: np.ndarray) -> np.ndarray:
            total = np.cumsum(delta)
            offset = total[base] - delta[base]
            return total - offset[seg]

        r_after, n_after = running(d_r), running(d_n)
        r_before, n_before = r_after - d_r, n_after - d_n

        def over_time(after: np.ndarray, before: np.ndarray) -> np.ndarray:
            return np.cumsum(np.bincount(idx, weights=after - before, minlength=m))[:m]

        rr = over_time(r_after**2, r_before**2)
        rn = over_time(r_after * n_after, r_before * n_before)
        nn = over_time(n_after**2, n_before**2)
        return rr - 2 * cum * rn + cum * cum * nn


def km_arrays(
    time: np.ndarray,
    event: np.ndarray,
    weight: np.ndarray,
    entry: np.ndarray | None = None,
    *,
    variance: str = "greenwood",
    cluster: np.ndarray | None = None,
) -> KMArrays:
    """Kaplan–Meier and Nelson–Aalen estimates for one group.

    ``variance="greenwood"`` gives Greenwood's formula with weighted counts (R's default
    ``survfit(robust=FALSE)``, right for frequency weights); ``"robust"`` the
    infinitesimal-jackknife variance (R's ``survfit(robust=TRUE, id=)`` with one row per
    person, right for sampling or inverse-probability weights). ``cluster`` (integer
    codes, with ``"robust"``) sums the influences of the rows of one person first (R's
    ``survfit(robust=TRUE, id=)`` with several rows per person).
    """
    ut, exit_index = np.unique(time, return_inverse=True)
    exit_index = exit_index.astype(np.intp, copy=False)
    m = len(ut)
    weighted_events = weight * event
    n_event = np.bincount(exit_index, weights=weighted_events, minlength=m)
    n_exit = np.bincount(exit_index, weights=weight, minlength=m)
    n_censor = n_exit - n_event
    persons_event = np.bincount(exit_index, weights=event, minlength=m)
    persons_censor = np.bincount(exit_index, minlength=m) - persons_event
    n_risk = _revcumsum(n_exit)
    entry_index = None
    entry_sorted = None
    if entry is not None:
        # At risk at t_j when entry < t_j <= exit: remove those who enter at or after t_j.
        entry_index = np.searchsorted(ut, entry, side="right").astype(np.intp)
        late = np.bincount(entry_index, weights=weight, minlength=m + 1)
        n_risk = n_risk - _revcumsum(late)[1:]
        # Those leaving at t_j are at risk at t_j; the difference of two weighted sums can
        # round below that (and make 1 - d/n negative), so snap it back.
        close = np.abs(n_risk - n_exit) <= 1e-12 * np.abs(n_risk)
        n_risk = np.where(close, n_exit, np.maximum(n_risk, n_exit))
        entry_sorted = np.sort(entry)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = n_event / n_risk
        surv = np.cumprod(1.0 - hazard)
        cumhaz = np.cumsum(hazard)
        if variance == "greenwood":
            var_log = np.cumsum(n_event / (n_risk * (n_risk - n_event)))
            var_chaz = np.cumsum(n_event / (n_risk * n_risk))
        elif variance == "robust" and cluster is not None:
            args = (exit_index, entry_index, event, weight)
            var_log = _ij_variance_clustered(
                *args, 1.0 / (n_risk - n_event), hazard, np.asarray(cluster)
            )
            var_chaz = _ij_variance_clustered(*args, 1.0 / n_risk, hazard, np.asarray(cluster))
        elif variance == "robust":
            var_log = _ij_variance(
                exit_index, entry_index, event, weight, 1.0 / (n_risk - n_event), hazard
            )
            var_chaz = _ij_variance(exit_index, entry_index, event, weight, 1.0 / n_risk, hazard)
        else:
            raise ValueError(f"variance must be one of {VARIANCES}, not {variance!r}")
    return KMArrays(
        time=ut,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        surv=surv,
        # The jackknife sums can round a zero variance to -1e-18; clip (NaN stays NaN).
        std_err=np.sqrt(np.where(var_log < 0, 0.0, var_log)),
        cumhaz=cumhaz,
        std_chaz=np.sqrt(np.where(var_chaz < 0, 0.0, var_chaz)),
        persons_event=persons_event,
        persons_censor=persons_censor,
        entry_sorted=entry_sorted,
    )


def z_value(alpha: float) -> float:
    """The two-sided normal quantile for a ``1 - alpha`` interval."""
    return float(stats.norm.ppf(1 - alpha / 2))


def confidence_limits(
    surv: np.ndarray, std_err: np.ndarray, conf_type: str, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits for S(t) from the standard error of log S(t), as R's ``survfit``.

    ``log-log`` is undefined where S is 0 or 1 and is NaN there, as in R.
    """
    z = z_value(alpha)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = z * std_err * surv
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(xx) - z * std_err), np.minimum(np.exp(np.log(xx) + z * std_err), 1)
        if conf_type == "log-log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            shift = z * std_err / np.log(xx)
            loglog = np.log(-np.log(xx))
            return np.exp(-np.exp(loglog - shift)), np.exp(-np.exp(loglog + shift))
    raise ValueError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")


def step_index(grid: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the last grid time at or before each time (-1 before the first)."""
    return np.searchsorted(grid, times, side="right") - 1


def find_quantile(
    time: np.ndarray, curve: np.ndarray, probs: np.ndarray, tol: float = 1.4901161193847656e-08
) -> np.ndarray:
    """R's ``findq``: the first time at which ``1 - curve`` reaches each probability.

    Where the curve sits exactly on the level over an interval, the quantile is the midpoint
    of that interval (and the midpoint up to the last time at the end of the curve), as R's
    ``quantile.survfit`` does. R finds the crossing with ``approx()``, which sorts the points
    by level: for a band that is not monotone (it happens with delayed entry) the answer is
    the time of the lowest level above the probability, and this function does the same.
    NaN points of ``curve`` are skipped, as ``approx`` skips them.
    """
    x = np.concatenate([[0.0], time])
    y = np.concatenate([[0.0], 1.0 - curve])
    xmax = x[-1]
    out = np.full(len(probs), np.nan)
    if np.all(np.isnan(y)) or np.nanmax(y) < np.min(probs):
        return out
    # R drops repeated levels (keeping the first time), then approx() skips NaN points.
    _, first = np.unique(y, return_index=True)
    first = np.sort(first)
    x, y = x[first], y[first]
    last_is_nan = bool(np.isnan(y[-1]))
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    order = np.argsort(y, kind="stable")
    ys = y[order]
    n = len(ys)
    for k, p in enumerate(probs):
        if p == 0:
            out[k] = x[0]
            continue
        j1 = int(np.searchsorted(ys, p - tol, side="right"))
        j2 = int(np.searchsorted(ys, p + tol, side="right"))
        if j1 >= n:
            continue
        if j2 < n:
            out[k] = (x[order[j1]] + x[order[j2]]) / 2
        elif not last_is_nan and abs(p - y[-1]) < tol:
            out[k] = (x[order[j1]] + xmax) / 2
    return out


def rmst_arrays(
    time: np.ndarray, surv: np.ndarray, n_risk: np.ndarray, n_event: np.ndarray, tau: float
) -> tuple[float, float]:
    """Area under the Kaplan–Meier curve on [0, tau] and its Greenwood-type variance.

    The variance is ``sum_j A_j^2 d_j / (n_j (n_j - d_j))`` over event times up to ``tau``,
    with ``A_j`` the area from ``t_j`` to ``tau``: R's ``survmean`` (``print(fit, rmean=)``)
    and survRM2's ``rmst1``.
    """
    keep = time <= tau
    t = np.concatenate([time[keep], [tau]])
    s_before = np.concatenate([[1.0], surv[keep]])  # S on [t_{j-1}, t_j)
    rectangles = np.diff(np.concatenate([[0.0], t])) * s_before
    mean = float(rectangles.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        d, n = n_event[keep], n_risk[keep]
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    tail_area = _revcumsum(rectangles[1:])  # A_j = area from t_j to tau
    return mean, float(np.sum(tail_area**2 * hh))


def rmst_ij_variance(
    time: np.ndarray,
    event: np.ndarray,
    weight: np.ndarray,
    entry: np.ndarray | None,
    tau: float,
) -> float:
    """Infinitesimal-jackknife variance of the RMST to ``tau`` (sampling weights).

    The influence of person ``i`` is the integral over [0, tau] of its influence on S(t),
    ``S(t) d log S(t) / d w_i`` (see ``_ij_variance``); on the step grid it is
    ``sum_j a_j U_i(t_j)`` with ``a_j`` the rectangle of S on [t_j, t_{j+1}) cut at tau.
    The variance is ``sum_i (w_i influence_i)^2``, which is what R gets from
    ``residuals(survfit(..., robust=TRUE, id=), times=tau, type="rmst")``.
    """
    ut, exit_index = np.unique(time, return_inverse=True)
    exit_index = exit_index.astype(np.intp, copy=False)
    m = len(ut)
    n_event = np.bincount(exit_index, weights=weight * event, minlength=m)
    n_exit = np.bincount(exit_index, weights=weight, minlength=m)
    n_risk = _revcumsum(n_exit)
    entry_index = np.zeros_like(exit_index)
    if entry is not None:
        entry_index = np.searchsorted(ut, entry, side="right").astype(np.intp)
        n_risk = n_risk - _revcumsum(np.bincount(entry_index, weights=weight, minlength=m + 1))[1:]
        close = np.abs(n_risk - n_exit) <= 1e-12 * np.abs(n_risk)
        n_risk = np.where(close, n_exit, np.maximum(n_risk, n_exit))
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = n_event / n_risk
        surv = np.cumprod(1.0 - hazard)
        own = 1.0 / (n_risk - n_event)
        cum = np.cumsum(hazard * own)  # A_j
        nxt = np.append(ut[1:], max(tau, ut[-1]))
        a = np.clip(np.minimum(nxt, tau) - ut, 0.0, None) * surv
        a = np.where(a > 0, a, 0.0)  # S = 0 with an infinite A contributes nothing
        p0 = np.concatenate([[0.0], np.cumsum(a)])  # p0[j] = sum_{l < j} a_l
        p1 = np.concatenate([[0.0], np.cumsum(np.where(a > 0, a * cum, 0.0))])
        a0 = np.where(entry_index > 0, cum[np.maximum(entry_index - 1, 0)], 0.0)
        # While at risk (entry index k <= j < exit index J): U = -(A_j - A0); from J on:
        # U = -(d own_J - (A_J - A0)), constant.
        during = (p1[exit_index] - p1[entry_index]) - a0 * (p0[exit_index] - p0[entry_index])
        after = event * own[exit_index] - (cum[exit_index] - a0)
        tail = p0[-1] - p0[exit_index]
        influence = -(-during + np.where(tail > 0, after * tail, 0.0))
        return float(np.sum((weight * influence) ** 2))
