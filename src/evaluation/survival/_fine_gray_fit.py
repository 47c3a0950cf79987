"""Fine–Gray subdistribution hazard fit by forward–backward scans (numpy, O(n log n)).

The risk set of the cause of interest at a failure time t holds everyone still under
observation (T_i >= t, weight 1) and everyone who left earlier by a competing cause
(weight ``G(t-) / G(T_i-)``, G the Kaplan–Meier of the censoring distribution in the
person's censoring stratum). Splitting the risk-set sums into a backward cumulative sum over
persons still under observation and, per censoring stratum, ``G_g(t-)`` times a forward
cumulative sum over earlier competing exits gives every sum in O(n) after one sort; this is
the two-way scan of Kawaguchi et al. (2020). The same split gives the score residuals and
the censoring-estimation term of Fine and Gray's sandwich variance in closed form.

Status codes here: 1 cause of interest, 2 competing cause, 0 censored.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from evaluation._errors import ConvergenceWarning, EstimationError

__all__ = ["FGFit", "censoring_survival", "fit_fine_gray"]


@dataclass(frozen=True, slots=True)
class FGFit:
    """Fitted coefficients and what inference and prediction need."""

    coef: np.ndarray
    information: np.ndarray
    cov: np.ndarray  # sandwich
    naive_cov: np.ndarray  # inverse information
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    failure_times: np.ndarray
    base_jumps: np.ndarray  # Breslow jumps of the baseline subdistribution hazard (x = 0)


def censoring_survival(
    time: np.ndarray, status: np.ndarray, convention: str
) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier of the censoring distribution: distinct times and G just after each.

    ``convention="crr"``: censorings are the events and everyone with ``T >= t`` is at risk
    at t (``survfit(Surv(T, status == 0))``, as cmprsk's ``crr``). ``"finegray"``: persons
    with an event at t leave before the censorings at t (as ``survival::finegray``, which
    moves event times 0.2 of a time unit earlier).
    """
    times, idx = np.unique(time, return_inverse=True)
    n_t = times.size
    exits = np.bincount(idx, minlength=n_t).astype(float)
    cens = np.bincount(idx, weights=(status == 0).astype(float), minlength=n_t)
    at_risk = np.cumsum(exits[::-1])[::-1]
    if convention == "finegray":
        at_risk = at_risk - (exits - cens)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(at_risk > 0, 1.0 - cens / at_risk, 1.0)
    return times, np.cumprod(step)


def _left_limit(times: np.ndarray, surv: np.ndarray, at: np.ndarray) -> np.ndarray:
    """G(at-): the curve just before each time in ``at`` (1 before the first time)."""
    j = np.searchsorted(times, at, side="left") - 1
    return np.where(j >= 0, surv[np.clip(j, 0, None)], 1.0)


@dataclass(frozen=True, slots=True)
class _Setup:
    time: np.ndarray  # sorted
    status: np.ndarray
    x: np.ndarray  # centred
    w: np.ndarray  # case weights
    group: np.ndarray  # censoring stratum codes 0..ncg-1
    n_groups: int
    g_own: np.ndarray  # G_{g(i)}(T_i-)
    ftimes: np.ndarray  # distinct failure times of the cause of interest
    d: np.ndarray  # weighted failures at each
    first_at_risk: np.ndarray  # position of the first person with T >= t_f
    g_fail: np.ndarray  # (F, ncg): G_g(t_f-)
    comp_pos: list[np.ndarray]  # per stratum: positions (sorted) of competing exits
    comp_cut: np.ndarray  # (F, ncg): number of competing exits in g with T < t_f
    g_curves: list[tuple[np.ndarray, np.ndarray]]
    starts: np.ndarray  # first position of each distinct time (data sorted by time)
    f_block: np.ndarray  # (F,): distinct-time block of each failure time
    comp_starts: list[np.ndarray]  # per stratum: block starts of equal times within comp_pos
    comp_block_cut: np.ndarray  # (F, ncg): number of competing blocks in g with T < t_f
    triu: tuple[np.ndarray, np.ndarray]  # upper-triangle indices of a p x p matrix


def _setup(time, status, x, w, group, n_groups, convention) -> _Setup:
    order = np.argsort(time, kind="stable")
    time, status, x, w, group = time[order], status[order], x[order], w[order], group[order]
    curves = []
    g_own = np.empty(time.size)
    for g in range(n_groups):
        m = group == g
        curve = censoring_survival(time[m], status[m], convention)
        curves.append(curve)
        g_own[m] = _left_limit(*curve, time[m])
    fail = status == 1
    ftimes, f_idx = np.unique(time[fail], return_inverse=True)
    d = np.bincount(f_idx, weights=w[fail], minlength=ftimes.size)
    first = np.searchsorted(time, ftimes, side="left")
    # Beyond the last time observed in a censoring stratum its G is 0 (as crr's approx()
    # and finegray's expansion, which ends each stratum's rows at its last time): competing
    # exits of that stratum leave the risk sets of later failures.
    g_fail = np.column_stack(
        [np.where(ftimes > c[0][-1], 0.0, _left_limit(*c, ftimes)) for c in curves]
    )
    comp_pos = []
    cut = np.empty((ftimes.size, n_groups), dtype=np.int64)
    comp_starts = []
    block_cut = np.empty((ftimes.size, n_groups), dtype=np.int64)
    for g in range(n_groups):
        pos = np.flatnonzero((status == 2) & (group == g))
        comp_pos.append(pos)
        cut[:, g] = np.searchsorted(time[pos], ftimes, side="left")
        tg = time[pos]
        st = np.flatnonzero(np.concatenate([[True], tg[1:] != tg[:-1]])) if tg.size else tg
        comp_starts.append(st.astype(np.int64))
        block_cut[:, g] = np.searchsorted(tg[st] if tg.size else tg, ftimes, side="left")
    starts = np.flatnonzero(np.concatenate([[True], time[1:] != time[:-1]]))
    f_block = np.searchsorted(time[starts], ftimes)
    p = x.shape[1]
    return _Setup(
        time,
        status,
        x,
        w,
        group,
        n_groups,
        g_own,
        ftimes,
        d,
        first,
        g_fail,
        comp_pos,
        cut,
        curves,
        starts,
        f_block,
        comp_starts,
        block_cut,
        np.triu_indices(p),
    )


def _risk_sums(s: _Setup, beta: np.ndarray, second: bool):
    """S0 (F,), S1 (F, p) and optionally S2 (F, p, p) over the subdistribution risk sets.

    Person terms are first summed within blocks of equal time (the data are sorted), so
    the cumulative sums run over distinct times only.
    """
    p = s.x.shape[1]
    eta = s.x @ beta
    r = s.w * np.exp(eta)
    rx = r[:, None] * s.x
    cols = [r[:, None], rx]
    if second:
        cols.append(rx[:, s.triu[0]] * s.x[:, s.triu[1]])
    a = np.concatenate(cols, axis=1)
    blocks = np.add.reduceat(a, s.starts, axis=0)
    # backward sums over persons still under observation: T_i >= t_f
    back = np.cumsum(blocks[::-1], axis=0)[::-1]
    tot = back[s.f_block]
    for g in range(s.n_groups):
        pos = s.comp_pos[g]
        if pos.size == 0:
            continue
        cb = np.add.reduceat(a[pos] / s.g_own[pos, None], s.comp_starts[g], axis=0)
        fwd = np.concatenate([np.zeros((1, a.shape[1])), np.cumsum(cb, axis=0)])
        tot = tot + s.g_fail[:, g, None] * fwd[s.comp_block_cut[:, g]]
    s0 = tot[:, 0]
    s1 = tot[:, 1 : 1 + p]
    s2 = None
    if second:
        s2 = np.empty((tot.shape[0], p, p))
        s2[:, s.triu[0], s.triu[1]] = tot[:, 1 + p :]
        s2[:, s.triu[1], s.triu[0]] = tot[:, 1 + p :]
    return eta, r, s0, s1, s2


def _evaluate(s: _Setup, beta: np.ndarray, second: bool = True):
    eta, r, s0, s1, s2 = _risk_sums(s, beta, second)
    fail = s.status == 1
    loglik = float(np.sum(s.w[fail] * eta[fail]) - np.sum(s.d * np.log(s0)))
    xbar = s1 / s0[:, None]
    score = (s.w[fail, None] * s.x[fail]).sum(axis=0) - (s.d[:, None] * xbar).sum(axis=0)
    info = None
    if second:
        assert s2 is not None
        info = np.einsum("f,fij->ij", s.d / s0, s2) - np.einsum("f,fi,fj->ij", s.d, xbar, xbar)
    return loglik, score, info


def fit_fine_gray(
    time: np.ndarray,
    status: np.ndarray,
    x: np.ndarray,
    weights: np.ndarray,
    cengroup: np.ndarray,
    cluster: np.ndarray | None,
    *,
    convention: str = "crr",
    max_iter: int = 50,
    tol: float = 1e-10,
) -> FGFit:
    """Fit the Fine–Gray model and its sandwich variance (see the module docstring)."""
    n_groups = int(cengroup.max()) + 1 if cengroup.size else 1
    center = np.average(x, axis=0, weights=weights)
    s = _setup(time, status, x - center, weights, cengroup, n_groups, convention)
    if s.ftimes.size == 0:
        raise EstimationError("no events of the cause of interest")
    p = x.shape[1]
    beta = np.zeros(p)
    loglik, score, info = _evaluate(s, beta)
    loglik_null = loglik
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            raise EstimationError(
                "the Fine–Gray information matrix is singular: a covariate is constant "
                "among persons at risk, or two covariates are collinear"
            ) from None
        new = beta + step
        new_ll, new_score, new_info = _evaluate(s, new)
        halvings = 0
        while (not np.isfinite(new_ll) or new_ll < loglik - 1e-12 * abs(loglik)) and halvings < 30:
            step = step / 2
            new = beta + step
            new_ll, new_score, new_info = _evaluate(s, new)
            halvings += 1
        beta, loglik, score, info = new, new_ll, new_score, new_info
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            converged = True
            break
    if not converged:
        warnings.warn(
            f"Fine–Gray fit did not converge in {max_iter} iterations",
            ConvergenceWarning,
            stacklevel=3,
        )
    inv_info = np.linalg.inv(info)
    resid = _score_residuals(s, beta, with_censoring=convention == "crr")
    if cluster is not None:
        order = np.argsort(time, kind="stable")
        codes = cluster[order]
        n_cl = int(codes.max()) + 1
        resid = np.column_stack(
            [np.bincount(codes, weights=resid[:, j], minlength=n_cl) for j in range(p)]
        )
    meat = resid.T @ resid
    cov = inv_info @ meat @ inv_info
    _, _, s0, _, _ = _risk_sums(s, beta, False)
    # Breslow jumps at x = 0 (undo the centring), as predict.crr uses them.
    jumps = s.d / s0 * np.exp(-center @ beta)
    return FGFit(
        coef=beta,
        information=info,
        cov=cov,
        naive_cov=inv_info,
        loglik=loglik,
        loglik_null=loglik_null,
        iterations=iterations,
        converged=converged,
        failure_times=s.ftimes,
        base_jumps=jumps,
    )


def _score_residuals(s: _Setup, beta: np.ndarray, *, with_censoring: bool) -> np.ndarray:
    """Per-person influence on the score: ``w_i eta_i`` (+ ``psi_i`` for crr's variance).

    ``eta_i`` is the person's score residual in the weighted partial likelihood; ``psi_i``
    the term of Fine and Gray (1999, sec. 3) for having estimated the censoring
    distribution, computed as cmprsk's ``crrvv`` does (unweighted censoring risk sets).
    """
    n, p = s.x.shape
    eta_lin, r, s0, s1, _ = _risk_sums(s, beta, False)
    r = np.exp(eta_lin)  # without the case weight: the residual is per person
    xbar = s1 / s0[:, None]
    dlam = s.d / s0
    # cumulative over failure times: A(t) = sum_{t_f <= t}
    a0 = np.concatenate([[0.0], np.cumsum(dlam)])
    a1 = np.vstack([np.zeros((1, p)), np.cumsum(xbar * dlam[:, None], axis=0)])
    k = np.searchsorted(s.ftimes, s.time, side="right")  # failures with t_f <= T_i
    res = -r[:, None] * (s.x * a0[k, None] - a1[k])
    fail = s.status == 1
    fi = np.searchsorted(s.ftimes, s.time[fail])
    res[fail] += s.x[fail] - xbar[fi]
    comp = s.status == 2
    b0 = np.vstack([np.zeros((1, s.n_groups)), np.cumsum(s.g_fail * dlam[:, None], axis=0)])
    b1 = np.concatenate(
        [
            np.zeros((1, s.n_groups, p)),
            np.cumsum(s.g_fail[:, :, None] * (xbar * dlam[:, None])[:, None, :], axis=0),
        ]
    )  # (F+1, ncg, p)
    gi = s.group[comp]
    kc = k[comp]
    rest0 = b0[-1, gi] - b0[kc, gi]
    rest1 = b1[-1, gi] - b1[kc, gi]
    res[comp] -= (r[comp] / s.g_own[comp])[:, None] * (s.x[comp] * rest0[:, None] - rest1)
    res = res * s.w[:, None]
    if not with_censoring:
        return res
    # q_g(u) at every distinct time u, per censoring stratum g, as cmprsk 2.2's crrvv:
    # C1_g(u) Bq0_g[u, inf) - C0_g(u) Bq1_g[u, inf), with C_g(u) the sum over competing exits
    # in g with T < u of w r (1, x) / G_g(T-) and Bq_g the jumps G_g(t_f-) (1, xbar) dN_g / S0
    # of the failures in stratum g only.
    times, t_idx = np.unique(s.time, return_inverse=True)
    kk = np.searchsorted(s.ftimes, times, side="left")  # failures with t_f < u
    fail = s.status == 1
    f_idx = np.searchsorted(s.ftimes, s.time)
    psi = np.zeros((n, p))
    cens = s.status == 0
    for g in range(s.n_groups):
        m = s.group == g
        pos = s.comp_pos[g]
        q = np.zeros((times.size, p))
        if pos.size:
            d_g = np.bincount(f_idx[fail & m], weights=s.w[fail & m], minlength=s.ftimes.size)
            jump = s.g_fail[:, g] * d_g / s0
            bq0 = np.concatenate([[0.0], np.cumsum(jump)])
            bq1 = np.vstack([np.zeros((1, p)), np.cumsum(xbar * jump[:, None], axis=0)])
            v = (s.w[pos] * r[pos] / s.g_own[pos])[:, None]
            c0 = np.concatenate([[0.0], np.cumsum(v[:, 0])])
            c1 = np.vstack([np.zeros((1, p)), np.cumsum(v * s.x[pos], axis=0)])
            cc = np.searchsorted(s.time[pos], times, side="left")
            q = c1[cc] * (bq0[-1] - bq0[kk])[:, None] - c0[cc, None] * (bq1[-1] - bq1[kk])
        exits = np.bincount(t_idx[m], minlength=times.size).astype(float)
        nc = np.bincount(t_idx[m & cens], minlength=times.size).astype(float)
        at_risk = np.cumsum(exits[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            comp_inc = np.where(at_risk > 0, nc / at_risk**2, 0.0)[:, None] * q
            own = np.where(at_risk > 0, 1.0 / at_risk, 0.0)[:, None] * q
        comp_cum = np.cumsum(comp_inc, axis=0)
        psi[m] = -comp_cum[t_idx[m]]
        mc = m & cens
        psi[mc] += own[t_idx[mc]]
    return res + psi
