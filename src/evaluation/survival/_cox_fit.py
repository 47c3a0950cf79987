"""Vectorised numpy core of the Cox model: partial likelihood, Newton–Raphson, residuals.

Everything here takes arrays and returns arrays; the public ``cox`` builds the design
matrix, validates the data and names the results.

The risk-set sums are computed without a loop over subjects or event times. Times are
replaced by their ranks, and each row gets integer keys ``stratum * width + rank`` for its
entry and exit, so that one sorted array serves every stratum at once. At an event time
``t`` with key ``g`` the risk set of counting-process rows ``(start, stop]`` is

    {stop key >= g} minus {start key >= g}     (within the stratum's key band),

that is two differences of cumulative sums at positions found once by ``searchsorted``
(the reverse-time "add at exit, remove at entry" trick, vectorised). Ordinary right-censored
data are the special case where every start key is the bottom of its stratum's band.

Tied event times (tie groups: one stratum, one time) use Efron's approximation: a group of
``n`` events gives ``n`` terms ``j = 0..n-1`` whose denominators remove the fraction
``f = j/n`` of the events' own risk. Breslow's method is the special case ``f = 0`` and is
computed as one term per group. Second-order sums over the risk set are never formed per
event time: the Hessian's risk-set part is ``X' diag(w r H) X`` with ``H`` a per-row sum of
per-term weights over the tie groups the row is at risk in (again two cumulative sums).

References
----------
Therneau T, Grambsch P (2000). Modeling Survival Data: Extending the Cox Model. Springer.
Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA 72:557-565.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evaluation._errors import ConvergenceWarning

# Loose aliases: numpy's stubs type bincount/searchsorted results too narrowly for mypy.
FloatArray = NDArray[Any]
IntArray = NDArray[Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """Sorting and index structures that do not depend on the coefficients."""

    X: FloatArray  # (n, p), centred
    XT: FloatArray  # (p, n), the same, contiguous by covariate (fast cumulative sums)
    center: FloatArray  # (p,) column means removed from X
    weights: FloatArray  # (n,)
    event: NDArray[np.bool_]  # (n,)
    stop: FloatArray  # (n,) exit times
    start: FloatArray | None  # (n,) entry times, None for right-censored data
    strata: IntArray  # (n,) stratum codes 0..S-1
    # risk-set bookkeeping
    order_stop: IntArray  # rows sorted by stop key
    order_start: IntArray | None
    stop_lo: IntArray  # per tie group: first position with stop key >= group key
    stop_hi: IntArray  # per tie group: end of the stratum's band in stop order
    start_lo: IntArray | None
    start_hi: IntArray | None
    # tie groups (one per stratum and distinct event time)
    group_time: FloatArray  # (K,)
    group_stratum: IntArray  # (K,)
    group_n: FloatArray  # (K,) number of events
    group_wsum: FloatArray  # (K,) sum of event weights
    event_group: IntArray  # (n_events,) tie group of each event row
    event_rows: IntArray  # (n_events,) row index of each event
    # per row: the tie groups it is at risk in are group indices [row_lo, row_hi)
    row_lo: IntArray
    row_hi: IntArray
    # Efron / Breslow terms: one per event (Efron) or one per group (Breslow)
    term_group: IntArray
    term_f: FloatArray
    term_wt: FloatArray


def prepare(
    X: FloatArray,
    stop: FloatArray,
    event: NDArray[np.bool_],
    *,
    weights: FloatArray | None = None,
    strata: IntArray | None = None,
    start: FloatArray | None = None,
    ties: str = "efron",
) -> Prepared:
    """Build the index structures for a Cox fit (done once, before Newton–Raphson)."""
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    stop = np.asarray(stop, dtype=float)
    event = np.asarray(event, dtype=bool)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    s = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    center = X.mean(axis=0) if n else np.zeros(X.shape[1])
    Xc = X - center

    # Ranks of all times (exits and entries together) -> integer keys per stratum band.
    all_times = stop if start is None else np.concatenate([stop, np.asarray(start, float)])
    uniq = np.unique(all_times)
    width = np.int64(uniq.size + 2)
    band = s * width
    stop_key = band + np.searchsorted(uniq, stop).astype(np.int64) + 1
    if start is None:
        start_key = band  # below every time in the band: at risk from the start
    else:
        start = np.asarray(start, dtype=float)
        start_key = band + np.searchsorted(uniq, start).astype(np.int64) + 1

    order_stop = np.argsort(stop_key, kind="stable")
    stop_sorted = stop_key[order_stop]

    event_rows = np.flatnonzero(event)
    gkeys, event_group = np.unique(stop_key[event_rows], return_inverse=True)
    event_group = event_group.astype(np.int64)
    K = gkeys.size
    group_stratum = gkeys // width
    group_time = uniq[(gkeys % width) - 1] if K else np.zeros(0)
    group_n = np.bincount(event_group, minlength=K).astype(float)
    group_wsum = np.bincount(event_group, weights=w[event_rows], minlength=K)
    band_end = (group_stratum + 1) * width

    stop_lo: IntArray = np.asarray(np.searchsorted(stop_sorted, gkeys, side="left"))
    stop_hi: IntArray = np.asarray(np.searchsorted(stop_sorted, band_end, side="left"))
    if start is None:
        order_start = None
        start_lo: IntArray | None = None
        start_hi: IntArray | None = None
    else:
        order_start = np.argsort(start_key, kind="stable")
        start_sorted = start_key[order_start]
        start_lo = np.asarray(np.searchsorted(start_sorted, gkeys, side="left"))
        start_hi = np.asarray(np.searchsorted(start_sorted, band_end, side="left"))

    # Row i is at risk at the groups with start_key_i < key <= stop_key_i.
    row_hi = np.searchsorted(gkeys, stop_key, side="right")
    row_lo = np.searchsorted(gkeys, start_key, side="right")

    if ties == "efron":
        # Term j of a group of n events removes the fraction j/n of the events' risk.
        term_group = np.sort(event_group)
        first = np.searchsorted(term_group, np.arange(K))
        j = np.arange(term_group.size) - first[term_group]
        term_f = j / group_n[term_group]
        term_wt = (group_wsum / group_n)[term_group]
    elif ties == "breslow":
        term_group = np.arange(K, dtype=np.int64)
        term_f = np.zeros(K)
        term_wt = group_wsum
    else:
        raise ValueError(f"ties must be 'efron' or 'breslow', not {ties!r}")

    return Prepared(
        X=Xc,
        XT=np.ascontiguousarray(Xc.T),
        center=center,
        weights=w,
        event=event,
        stop=stop,
        start=start,
        strata=s,
        order_stop=order_stop,
        order_start=order_start,
        stop_lo=stop_lo,
        stop_hi=stop_hi,
        start_lo=start_lo,
        start_hi=start_hi,
        group_time=group_time,
        group_stratum=group_stratum,
        group_n=group_n,
        group_wsum=group_wsum,
        event_group=event_group,
        event_rows=event_rows,
        row_lo=row_lo,
        row_hi=row_hi,
        term_group=term_group,
        term_f=term_f,
        term_wt=term_wt,
    )


def _band_sums(values: FloatArray, order: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
    """Sum the columns of ``values`` (k, n) over sorted positions ``[lo, hi)`` -> (groups, k).

    Rows of ``values`` are variables, so that each cumulative sum runs over contiguous
    memory (several times faster than a cumulative sum down the columns of an (n, k) array).
    """
    v = values[:, order]
    c = np.empty((v.shape[0], v.shape[1] + 1))
    c[:, 0] = 0.0
    np.cumsum(v, axis=1, out=c[:, 1:])
    return (c[:, hi] - c[:, lo]).T


def _group_sum(index: IntArray, values: FloatArray, size: int) -> FloatArray:
    """Sum the rows of ``values`` (n, p) by ``index`` into ``size`` rows (bincount per column)."""
    out = np.empty((size, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(index, weights=values[:, j], minlength=size)
    return out


def _per_row(group_values: FloatArray, prep: Prepared) -> FloatArray:
    """For every row, the sum of ``group_values`` over the tie groups it is at risk in."""
    c = np.empty((group_values.shape[0] + 1, *group_values.shape[1:]))
    c[0] = 0.0
    np.cumsum(group_values, axis=0, out=c[1:])
    return c[prep.row_hi] - c[prep.row_lo]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Log partial likelihood and its derivatives at one coefficient vector."""

    loglik: float
    score: FloatArray  # (p,)
    information: FloatArray  # (p, p), minus the Hessian
    risk: FloatArray  # exp(X_c beta - shift), per row
    shift: float
    term_d: FloatArray  # denominators of the Efron/Breslow terms
    term_mean: FloatArray  # (terms, p) weighted covariate means of the terms
    H: FloatArray  # per-row sum of term weights over the groups at risk (own group adjusted)


def evaluate(prep: Prepared, beta: FloatArray, *, second: bool = True) -> Evaluation:
    """Log partial likelihood, score and information at ``beta``."""
    X, w = prep.X, prep.weights
    XT = prep.XT
    eta = beta @ XT
    # A common shift of eta leaves the likelihood unchanged (the events' sum of w*eta and the
    # terms' sum of weights are equal) and protects exp() from overflow.
    shift = float(eta.max()) if eta.size else 0.0
    r = np.exp(eta - shift)
    v = w * r
    both = np.empty((XT.shape[0] + 1, XT.shape[1]))
    both[0] = v
    np.multiply(XT, v, out=both[1:])
    R = _band_sums(both, prep.order_stop, prep.stop_lo, prep.stop_hi)
    if prep.order_start is not None:
        assert prep.start_lo is not None and prep.start_hi is not None
        R -= _band_sums(both, prep.order_start, prep.start_lo, prep.start_hi)
    K = prep.group_n.size
    ev = prep.event_rows
    D = _group_sum(prep.event_group, both[:, ev].T, K)
    g, f = prep.term_group, prep.term_f
    num = R[g] - f[:, None] * D[g]
    d = num[:, 0]
    mean = num[:, 1:] / d[:, None]
    tw = prep.term_wt
    loglik = float(np.dot(w[ev], eta[ev] - shift) - np.dot(tw, np.log(d)))
    score = w[ev] @ X[ev] - tw @ mean
    h = np.bincount(g, weights=tw / d, minlength=K)
    hf = np.bincount(g, weights=tw * f / d, minlength=K)
    H = _per_row(h, prep)
    H[ev] -= hf[prep.event_group]
    if second:
        info = (XT * (v * H)) @ X - (mean * tw[:, None]).T @ mean
        info = (info + info.T) / 2.0
    else:
        info = np.zeros((X.shape[1], X.shape[1]))
    return Evaluation(
        loglik=loglik,
        score=score,
        information=info,
        risk=r,
        shift=shift,
        term_d=d,
        term_mean=mean,
        H=H,
    )


@dataclass(frozen=True, slots=True)
class Fit:
    beta: FloatArray
    loglik: float
    loglik_null: float
    score_null: FloatArray
    information_null: FloatArray
    information: FloatArray
    iterations: int
    converged: bool
    final: Evaluation


def newton_raphson(
    prep: Prepared,
    *,
    beta0: FloatArray | None = None,
    max_iter: int = 50,
    tol: float = 1e-11,
) -> Fit:
    """Maximise the partial likelihood by Newton–Raphson with step halving (as R's coxph).

    Converged when the relative change of the log-likelihood is below ``tol`` (R uses 1e-9;
    a tighter value costs one or two cheap iterations and makes results reproducible to
    ~1e-10, which the reference tests need).
    """
    p = prep.X.shape[1]
    beta = np.zeros(p) if beta0 is None else np.asarray(beta0, dtype=float).copy()
    cur = evaluate(prep, beta)
    null = cur if beta0 is None else evaluate(prep, np.zeros(p))
    converged = p == 0
    it = 0
    halvings = 0
    while not converged and it < max_iter:
        it += 1
        try:
            step = np.linalg.solve(cur.information, cur.score)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(cur.information, cur.score, rcond=None)[0]
        new_beta = beta + step
        new = evaluate(prep, new_beta)
        while not np.isfinite(new.loglik) or new.loglik < cur.loglik - 1e-12 * abs(cur.loglik):
            # Step halving, as R's coxph does when the likelihood gets worse.
            halvings += 1
            step = step / 2.0
            new_beta = beta + step
            new = evaluate(prep, new_beta)
            if halvings > 60:
                break
        change = abs(new.loglik - cur.loglik)
        beta, cur = new_beta, new
        if change <= tol * max(abs(cur.loglik), 1.0) and np.max(np.abs(step)) < 1e-6:
            converged = True
    if not converged:
        warnings.warn(
            f"Cox model did not converge in {max_iter} Newton–Raphson iterations; a coefficient "
            "may be infinite (monotone likelihood, e.g. a group without events)",
            ConvergenceWarning,
            stacklevel=3,
        )
    return Fit(
        beta=beta,
        loglik=cur.loglik,
        loglik_null=null.loglik,
        score_null=null.score,
        information_null=null.information,
        information=cur.information,
        iterations=it,
        converged=converged,
        final=cur,
    )


def score_residuals(prep: Prepared, ev: Evaluation) -> FloatArray:
    """Per-row score residuals (unweighted, as R's ``residuals(fit, "score")``).

    Row ``i`` gets ``delta_i (x_i - mean of its group's term means)`` minus
    ``r_i * sum over terms at risk of c * wt / d * (x_i - term mean)``, where ``c`` is 1,
    or ``1 - f`` for the row's own tie group (Efron). Their sum over rows is the score.
    """
    X = prep.X
    K = prep.group_n.size
    g, f, tw = prep.term_group, prep.term_f, prep.term_wt
    d, m = ev.term_d, ev.term_mean
    a = (tw / d)[:, None] * m
    G = _group_sum(g, a, K)
    Gf = _group_sum(g, a * f[:, None], K)
    n_terms = np.bincount(g, minlength=K).astype(float)
    mbar = _group_sum(g, m, K) / n_terms[:, None]
    Gi = _per_row(G, prep)
    rows = prep.event_rows
    Gi[rows] -= Gf[prep.event_group]
    resid = -ev.risk[:, None] * (X * ev.H[:, None] - Gi)
    resid[rows] += X[rows] - mbar[prep.event_group]
    return resid


def baseline_hazard(prep: Prepared, ev: Evaluation) -> FloatArray:
    """Cumulative-hazard increments per tie group for a row with centred covariates 0.

    Efron fits use Efron's increment ``sum_j wt / d_j`` (R's survfit.coxph ``ctype = 2``),
    Breslow fits the Breslow increment. Multiply by ``exp((x - center) beta)`` to predict.
    """
    K = prep.group_n.size
    h = np.bincount(prep.term_group, weights=prep.term_wt / ev.term_d, minlength=K)
    return h * np.exp(-ev.shift)


def zph_score(
    prep: Prepared, ev: Evaluation, gtime_group: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Score vector and information for the extended model ``beta x + gamma g(t) x``.

    Evaluated at ``(beta_hat, 0)``: returns ``u`` (2p,), ``imat`` (2p, 2p) and the
    (unscaled) Schoenfeld residuals, one row per event in ``prep.event_rows`` order.
    ``gtime_group`` is the centred transformed time of each tie group (R's ``cox.zph``,
    survival >= 3.0).
    """
    X, w = prep.X, prep.weights
    K = prep.group_n.size
    g, f, tw = prep.term_group, prep.term_f, prep.term_wt
    d, m = ev.term_d, ev.term_mean
    rows = prep.event_rows
    gt_ev = gtime_group[prep.event_group]
    gt_term = gtime_group[g]
    u = np.concatenate(
        [w[rows] @ X[rows] - tw @ m, (w[rows] * gt_ev) @ X[rows] - (tw * gt_term) @ m]
    )
    # Per tie group, the Efron-averaged variance V_k; the extended information has blocks
    # sum V_k, sum g_k V_k, sum g_k^2 V_k. Each is a weighted version of the fit's Hessian.
    blocks = []
    for power in (0, 1, 2):
        gw = gtime_group**power
        h = np.bincount(g, weights=gw[g] * tw / d, minlength=K)
        hf = np.bincount(g, weights=gw[g] * tw * f / d, minlength=K)
        H = _per_row(h, prep)
        H[rows] -= hf[prep.event_group]
        v = w * ev.risk * H
        b = (prep.XT * v) @ X - (m * (tw * gw[g])[:, None]).T @ m
        blocks.append((b + b.T) / 2.0)
    imat = np.block([[blocks[0], blocks[1]], [blocks[1], blocks[2]]])
    n_terms = np.bincount(g, minlength=K).astype(float)
    mbar = _group_sum(g, m, K) / n_terms[:, None]
    schoen = X[rows] - mbar[prep.event_group]
    return u, imat, schoen


def _prefix_counts(
    ranks: IntArray, weights: FloatArray, P: IntArray, R: IntArray, n_ranks: int
) -> FloatArray:
    """``sum(weights[pos] for pos < P if ranks[pos] < R)`` for every query ``(P, R)``.

    Offline two-dimensional dominance counting without a Python loop over rows: the prefix
    ``[0, P)`` is the union of dyadic blocks (one per set bit of ``P``); at level ``L`` the
    rows are sorted by (block of length 2**L, rank), so that each block's count is one
    difference of cumulative weights found by ``searchsorted``. log2(n) levels in all.
    """
    n = ranks.size
    total = np.zeros(P.size)
    if n == 0 or P.size == 0:
        return total
    pos = np.arange(n, dtype=np.int64)
    width = np.int64(n_ranks + 1)
    order = np.arange(n)
    level = 0
    while (1 << level) <= n:
        keys = (pos >> level) * width + ranks
        # Stable sort of the previous level's order: the keys come in sorted runs, which
        # the merge sort exploits.
        order = order[np.argsort(keys[order], kind="stable")]
        sorted_keys = keys[order]
        cw = np.concatenate([[0.0], np.cumsum(weights[order])])
        sel = np.flatnonzero((P >> level) & 1)
        if sel.size:
            base = ((P[sel] >> level) - 1) * width
            lo = np.searchsorted(sorted_keys, base, side="left")
            hi = np.searchsorted(sorted_keys, base + R[sel], side="left")
            total[sel] += cw[hi] - cw[lo]
        level += 1
    return total


def _event_side(prep: Prepared, eta: FloatArray) -> tuple[FloatArray, ...]:
    """Per event: weighted counts of comparable rows below / at-or-below its predictor.

    The comparable rows of an event are those at risk at its time in its stratum other
    than the events at that same time (those are tied on time).
    """
    w = prep.weights
    rows = prep.event_rows
    uniq, rank = np.unique(eta, return_inverse=True)
    rank = rank.astype(np.int64)
    nr = uniq.size
    wq = w[rows]
    rq = rank[rows]
    grp = prep.event_group
    # Counts over the risk set {stop >= t} - {start >= t}, below and below-or-equal.
    P_lo, P_hi = prep.stop_lo[grp], prep.stop_hi[grp]
    P = np.concatenate([P_hi, P_lo, P_hi, P_lo])
    R = np.concatenate([rq, rq, rq + 1, rq + 1])
    c = _prefix_counts(rank[prep.order_stop], w[prep.order_stop], P, R, nr)
    m = rows.size
    below = c[:m] - c[m : 2 * m]
    below_eq = c[2 * m : 3 * m] - c[3 * m :]
    at_risk = _band(w, prep.order_stop, prep.stop_lo, prep.stop_hi)[grp]
    if prep.order_start is not None:
        assert prep.start_lo is not None and prep.start_hi is not None
        S_lo, S_hi = prep.start_lo[grp], prep.start_hi[grp]
        P = np.concatenate([S_hi, S_lo, S_hi, S_lo])
        c = _prefix_counts(rank[prep.order_start], w[prep.order_start], P, R, nr)
        below -= c[:m] - c[m : 2 * m]
        below_eq -= c[2 * m : 3 * m] - c[3 * m :]
        at_risk -= _band(w, prep.order_start, prep.start_lo, prep.start_hi)[grp]
    # Remove the events tied on time (the row itself included) from the comparable set.
    keys = grp * np.int64(nr + 1) + rq
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    cw = np.concatenate([[0.0], np.cumsum(wq[order])])
    base = cw[np.searchsorted(sk, grp * np.int64(nr + 1), "left")]
    below -= cw[np.searchsorted(sk, keys, "left")] - base
    below_eq -= cw[np.searchsorted(sk, keys + 1, "left")] - base
    t_all = np.bincount(grp, weights=wq, minlength=prep.group_n.size)[grp]
    comparable = at_risk - t_all
    return rank, below, below_eq, comparable, t_all


def concordance(prep: Prepared, eta: FloatArray) -> tuple[float, float, float, float]:
    """Weighted counts of concordant, discordant, tied-on-predictor and tied-on-time pairs.

    As R's ``concordance(coxph fit)``: for each event, the comparable rows are those at risk
    at its time in its stratum other than the events at that same time (those are
    ``tied.y``); a higher linear predictor with the earlier event is concordant; pairs are
    weighted by the product of case weights.
    """
    wq = prep.weights[prep.event_rows]
    _, below, below_eq, comparable, t_all = _event_side(prep, eta)
    concordant = float(np.dot(wq, below))
    tied_x = float(np.dot(wq, below_eq - below))
    discordant = float(np.dot(wq, comparable - below_eq))
    # Each tied-time pair of events is seen from both sides.
    tied_y = float(np.dot(wq, t_all - wq)) / 2.0
    return concordant, discordant, tied_x, tied_y


def concordance_influence(prep: Prepared, eta: FloatArray) -> tuple[FloatArray, ...]:
    """Per row: weighted counts of the concordant, discordant and tied-x pairs it is in.

    A row is in pairs as the event (partners weighted by their weights) and as the
    comparator of earlier events (weighted by the events' weights): R's ``influence``
    matrix of ``concordancefit``, from which its infinitesimal-jackknife variance comes.
    """
    w = prep.weights
    n = w.size
    rows = prep.event_rows
    grp = prep.event_group
    rank, below, below_eq, comparable, _ = _event_side(prep, eta)
    conc = np.zeros(n)
    disc = np.zeros(n)
    tie = np.zeros(n)
    conc[rows] += below
    tie[rows] += below_eq - below
    disc[rows] += comparable - below_eq
    # As the comparator: the events of the tie groups the row is at risk in, except its
    # own group when it is itself an event (tied on time).
    nr = int(rank.max()) + 1 if n else 0
    ev_order = np.argsort(grp, kind="stable")
    ev_rank = rank[rows][ev_order]
    ev_w = w[rows][ev_order]
    first = np.searchsorted(grp[ev_order], np.arange(prep.group_n.size + 1))
    hi = prep.row_hi.copy()
    hi[rows] = grp
    P_lo, P_hi = first[prep.row_lo], first[hi]
    P = np.concatenate([P_hi, P_lo, P_hi, P_lo])
    R = np.concatenate([rank + 1, rank + 1, rank, rank])
    c = _prefix_counts(ev_rank, ev_w, P, R, nr)
    at_or_below = c[:n] - c[n : 2 * n]  # events whose predictor is <= the row's
    strictly_below = c[2 * n : 3 * n] - c[3 * n :]
    cum = np.concatenate([[0.0], np.cumsum(ev_w)])
    total = cum[P_hi] - cum[P_lo]
    conc += total - at_or_below
    disc += strictly_below
    tie += at_or_below - strictly_below
    return conc, disc, tie


def _band(values: FloatArray, order: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
    c = np.concatenate([[0.0], np.cumsum(values[order])])
    return c[hi] - c[lo]


#: R's ``coxph.control()$toler.chol``, the pivot tolerance of its generalised inverse.
TOLER_CHOL = float(np.finfo(float).eps ** 0.75)


def wald_test(cov: FloatArray, beta: FloatArray, toler: float = TOLER_CHOL) -> tuple[float, int]:
    """``beta' V^- beta`` with R's generalised inverse, and the rank of ``V`` (its df).

    A cluster-robust variance summed within ``G`` clusters has rank at most ``G - 1``, so
    with fewer clusters than coefficients it is singular and cannot be inverted. R's
    ``coxph.wtest`` then factors ``V`` by its ``cholesky2`` (a Cholesky decomposition that
    sets a pivot to zero when it is below ``toler`` times the largest diagonal element,
    and the whole row and column of the inverse with it) and solves with ``chsolve2``.
    This is the same g-inverse, pivot by pivot in the order of the coefficients, so the
    statistic equals R's; the degrees of freedom are the number of pivots kept.
    """
    p = beta.size
    a = np.array(cov, dtype=float, copy=True)
    diag = np.diag(a)
    eps = float(diag.max()) if p and diag.max() > 0 else 0.0
    eps = toler if eps == 0 else eps * toler
    rank = 0
    for i in range(p):
        pivot = a[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            a[i, i] = 0.0
            continue
        rank += 1
        for j in range(i + 1, p):
            temp = a[j, i] / pivot
            a[j, i] = temp
            a[j, j] -= temp * temp * pivot
            a[j + 1 :, j] -= temp * a[j + 1 :, i]
    y = np.array(beta, dtype=float, copy=True)
    for i in range(p):  # solve L z = beta (unit lower triangle)
        y[i] -= float(np.dot(y[:i], a[i, :i]))
    for i in range(p - 1, -1, -1):  # solve D L' x = z; zero where the pivot was dropped
        if a[i, i] == 0:
            y[i] = 0.0
        else:
            y[i] = y[i] / a[i, i] - float(np.dot(y[i + 1 :], a[i + 1 :, i]))
    return float(np.dot(beta, y)), rank
