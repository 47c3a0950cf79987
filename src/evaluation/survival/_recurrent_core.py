"""Pure numpy core of the recurrent-event curves: risk sets, jumps and robust variances.

Counting-process rows ``(start, stop]`` with a count of events at ``stop``, a case weight
and a cluster (the person). Event times are the distinct ``stop`` of rows with events;
``Y_j`` is the weighted number of rows at risk at ``t_j`` (``start < t_j <= stop``).

Robust variance. Every curve here is a sum of integrals ``∫ g(u) dM_i(u) / Y(u)`` over
martingales ``dM_i = dN_i - Y_i dΛ`` (Lawless and Nadeau 1995; Ghosh and Lin 2000), and its
variance at ``t_j`` is ``Σ_i ψ_i(t_j)²`` over clusters ``i``. Written out, a row ``r`` of
cluster ``i`` contributes ``w_r (H(start_r) - H(t))`` while at risk, a jump ``w_r n_r g/Y``
at its stop, and a constant after it, where ``H(t) = Σ_{t_k <= t} g_k dΛ_k / Y_k``. So
``ψ_i(t_j) = Σ_c a_c(j) K^c_i(j) - W_i(j) Z(j)`` (+ the jumps at ``t_j``) with ``K^c_i`` and
``W_i`` (the cluster's weight at risk) constant between the cluster's own row boundaries.
The sums over clusters of ``K K``, ``K W`` and ``W W`` are therefore step functions that
change only at row boundaries: one difference array each, ``O(rows log rows)`` in all,
instead of a clusters × times matrix.

References
----------
Lawless JF, Nadeau C (1995). Some simple robust methods for the analysis of recurrent
events. Technometrics 37:158-168.
Ghosh D, Lin DY (2000). Nonparametric analysis of recurrent events and death.
Biometrics 56:554-562.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Component", "RiskSets", "influence_variance", "risk_sets"]


@dataclass(frozen=True, slots=True)
class RiskSets:
    """Event times and the rows' places among them."""

    times: np.ndarray  # distinct event times (ascending), length T
    at_risk: np.ndarray  # (T,) weighted rows at risk
    n_at_risk: np.ndarray  # (T,) rows at risk (unweighted)
    a: np.ndarray  # per row: first time index with t > start
    b: np.ndarray  # per row: first time index with t > stop
    cluster: np.ndarray  # per row: cluster code 0..G-1
    weight: np.ndarray  # per row


def risk_sets(
    start: np.ndarray,
    stop: np.ndarray,
    times: np.ndarray,
    weight: np.ndarray,
    cluster: np.ndarray,
) -> RiskSets:
    """Weighted and plain numbers at risk at each of ``times`` (sorted, distinct)."""
    T = len(times)
    a, b = _positions(times, start), _positions(times, stop)
    diff = np.bincount(a, weights=weight, minlength=T + 1) - np.bincount(
        b, weights=weight, minlength=T + 1
    )
    cnt = np.bincount(a, minlength=T + 1) - np.bincount(b, minlength=T + 1)
    return RiskSets(
        times=times,
        at_risk=np.cumsum(diff)[:T],
        n_at_risk=np.cumsum(cnt)[:T].astype(np.int64),
        a=a,
        b=b,
        cluster=cluster,
        weight=weight,
    )


def _positions(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``searchsorted(times, values, "right")``; through a table when values are whole days."""
    if len(values) > 4 * len(times) and len(values):
        lo, hi = float(values.min()), float(values.max())
        if lo >= 0 and hi < 1e6 and np.array_equal(values, np.floor(values)):
            table = np.searchsorted(times, np.arange(int(hi) + 1), side="right")
            return table[values.astype(np.int64)]
    return np.searchsorted(times, values, side="right")


def jumps_at(rs: RiskSets, stop: np.ndarray, count: np.ndarray) -> np.ndarray:
    """(T,) weighted sums of ``count`` at each event time (``count`` 0 elsewhere)."""
    idx = rs.b - 1
    m = count > 0
    return np.bincount(idx[m], weights=(rs.weight * count)[m], minlength=len(rs.times))


@dataclass(frozen=True, slots=True)
class Component:
    """One integral ``∫ g dM / Y`` of an influence function.

    ``H`` is ``Σ_{t_k <= t_j} g_k dΛ_k / Y_k`` at each time; ``jump`` per row is ``w n g / Y`` at
    the row's stop (0 for rows without events at their stop).
    """

    H: np.ndarray  # (T,)
    jump: np.ndarray  # (rows,)


def influence_variance(rs: RiskSets, comps: list[Component], coef: np.ndarray) -> np.ndarray:
    """``Σ_i ψ_i(t_j)²`` at every time for ``ψ = Σ_c coef[c, j] · (component c)``.

    ``coef`` has shape (C, T): the multiplier of each component at each evaluation time.
    """
    T = len(rs.times)
    C = len(comps)
    w = rs.weight
    a, b = rs.a, rs.b
    n = len(w)

    def H_before(H: np.ndarray, idx: np.ndarray) -> np.ndarray:
        # H at the last event time before index idx (0 before the first).
        return np.where(idx > 0, H[np.maximum(idx - 1, 0)], 0.0)

    # Boundaries: a row enters at index a (W += w, K += w H(start)) and leaves at b
    # (W -= w, K += final - w H(start), final = jump - w (H(stop) - H(start))).
    enter_K = [w * H_before(cp.H, a) for cp in comps]
    leave_K = [
        cp.jump - w * (H_before(cp.H, b) - H_before(cp.H, a)) - ek
        for cp, ek in zip(comps, enter_K, strict=True)
    ]
    live = np.flatnonzero(b > a)  # rows never at risk at an event time carry no jump
    # Enter and leave boundaries interleaved row by row: for rows already in counting-process
    # order (by cluster, then time) the keys are nearly sorted and a stable merge sort is
    # close to linear.
    idx = np.column_stack([a[live], b[live]]).ravel()
    clu = np.repeat(rs.cluster[live], 2)
    dW = np.column_stack([w[live], -w[live]]).ravel()
    dK = [
        np.column_stack([ek[live], lk[live]]).ravel()
        for ek, lk in zip(enter_K, leave_K, strict=True)
    ]
    order = np.argsort(clu.astype(np.int64) * np.int64(T + 1) + idx, kind="stable")
    idx, clu, dW = idx[order], clu[order], dW[order]
    dK = [k[order] for k in dK]
    m = len(idx)
    first = np.r_[True, clu[1:] != clu[:-1]] if m else np.zeros(0, bool)
    seg_start = np.flatnonzero(first)
    seg_len = np.diff(np.r_[seg_start, m])

    def cum_within(v: np.ndarray) -> np.ndarray:
        c = np.cumsum(v)
        return c - np.repeat(np.r_[0.0, c][seg_start], seg_len)

    W = cum_within(dW)
    K = [cum_within(k) for k in dK]
    nxt = np.r_[idx[1:], T] if m else idx
    last = np.r_[clu[1:] != clu[:-1], True] if m else np.zeros(0, bool)
    nxt = np.where(last, T, nxt)
    piece = nxt > idx

    def spread(values: np.ndarray) -> np.ndarray:
        v = values[piece]
        d = np.bincount(idx[piece], weights=v, minlength=T + 1) - np.bincount(
            nxt[piece], weights=v, minlength=T + 1
        )
        return np.cumsum(d)[:T]

    total = np.zeros(T)
    Z = np.zeros(T)
    for c in range(C):
        Z += coef[c] * comps[c].H
    sWW = spread(W * W)
    total += Z * Z * sWW
    for c in range(C):
        total -= 2.0 * coef[c] * Z * spread(K[c] * W)
        for d in range(c, C):
            s = spread(K[c] * K[d])
            total += (1.0 if c == d else 2.0) * coef[c] * coef[d] * s

    # Jumps at the cluster's own event times: (base + E)² - base².
    jrow: np.ndarray = (
        np.flatnonzero(np.any(np.vstack([cp.jump != 0 for cp in comps]), axis=0))
        if n
        else np.zeros(0, dtype=np.int64)
    )
    if len(jrow):
        j = b[jrow] - 1
        jc = rs.cluster[jrow]
        key = jc.astype(np.int64) * np.int64(T + 1) + j
        uk, inv = np.unique(key, return_inverse=True)
        E = np.zeros(len(uk))
        for c in range(C):
            E += np.bincount(inv, weights=coef[c, j] * comps[c].jump[jrow], minlength=len(uk))
        uj = (uk % (T + 1)).astype(np.int64)
        ucl = uk // (T + 1)
        bkeys = clu.astype(np.int64) * np.int64(T + 1) + idx
        pos = np.searchsorted(bkeys, ucl * (T + 1) + uj, side="right") - 1
        base = -W[pos] * Z[uj]
        for c in range(C):
            base += coef[c, uj] * K[c][pos]
        total += np.bincount(uj, weights=2.0 * E * base + E * E, minlength=T)
    return np.maximum(total, 0.0)
