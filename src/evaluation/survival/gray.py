"""Gray's K-sample test of equal cumulative incidence: ``gray_test``.

A port of the algorithm of ``crstm``/``crst`` in R's cmprsk (Fortran, R. Gray), with the
loop over distinct times replaced by cumulative sums over a (time x group) grid, so that it
runs in O(n log n + J K^2) for J distinct times and K groups.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._input import group_codes, prepare
from evaluation._results import html_repr

__all__ = ["GrayTestResult", "gray_test"]


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b != 0)
    return out


def gray_score(
    time: np.ndarray, status: np.ndarray, group: np.ndarray, n_groups: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Score vector (first K-1 groups) and its variance for one stratum, as cmprsk's ``crst``.

    ``status`` is 0 censored, 1 the cause of interest, 2 any other cause; ``group`` holds
    codes ``0..n_groups-1``.
    """
    ng = n_groups
    times, t_idx = np.unique(time, return_inverse=True)
    n_t = times.size
    flat = (status * n_t + t_idx) * ng + group
    d = np.bincount(flat, minlength=3 * n_t * ng).astype(float).reshape(3, n_t, ng)
    # risk set at each distinct time, per group (before removing those exiting then)
    exits = d.sum(axis=0)
    rs = np.cumsum(exits[::-1], axis=0)[::-1]
    d1, d2 = d[1], d[2]
    nd1 = d1.sum(axis=1)
    nd2 = d2.sum(axis=1)
    keep = (nd1 > 0) | (nd2 > 0)  # crst skips times with censorings only
    rs, d1, d2, nd1, nd2 = rs[keep], d1[keep], d2[keep], nd1[keep], nd2[keep]
    td = d1 + d2
    live = rs > 0
    step = np.where(live, _div(rs - td, rs), 1.0)
    skm = np.cumprod(step, axis=0)  # right-continuous KM per group
    skmm = np.vstack([np.ones((1, ng)), skm[:-1]])  # left-continuous
    f1 = np.cumsum(np.where(live, _div(skmm * d1, rs), 0.0), axis=0)
    f1m = np.vstack([np.zeros((1, ng)), f1[:-1]])
    t1 = np.where(live, _div(rs, skmm), 0.0)
    tr = t1.sum(axis=1)
    tq = np.where(live, _div(rs * (1 - f1m), skmm), 0.0).sum(axis=1)
    f = np.cumsum(_div(nd1, tr))
    fm = np.concatenate([[0.0], f[:-1]])
    fb = (1 - fm) ** rho

    # a(i, j) at each time; c(i, j) its cumulative sum weighted by nd1 / (tr (1 - fm))
    a = (
        -fb[:, None, None]
        * t1[:, :, None]
        * t1[:, None, :]
        * _div(np.ones_like(tr), tr)[:, None, None]
    )
    diag = fb[:, None] * t1 * (1 - _div(t1, tr[:, None]))
    idx = np.arange(ng)
    a[:, idx, idx] = diag
    a = np.where(live[:, :, None] & live[:, None, :], a, 0.0)
    c = np.cumsum(a * _div(nd1, tr * (1 - fm))[:, None, None], axis=0)

    score = (
        fb[:, None]
        * np.where(live, d1 - _div(nd1[:, None] * rs * (1 - f1m), skmm * tq[:, None]), 0.0)
    ).sum(axis=0)[: ng - 1]

    v = np.zeros((ng - 1, ng - 1))
    v3 = np.zeros(ng)
    v2 = np.zeros((ng - 1, ng))
    # cause-of-interest part (times with nd1 > 0, groups at risk)
    t4 = np.where(skm > 0, 1 - _div(1 - f[:, None], skm), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
    t3 = t5 * _div(skmm * nd1[:, None], tr[:, None] * rs)
    t3 = np.where(live & (nd1[:, None] > 0), t3, 0.0)
    v3 += (t4 * t4 * t3).sum(axis=0)
    b = a[:, : ng - 1, :] - t4[:, None, :] * c[:, : ng - 1, :]  # (time, i, k)
    v2 += (b * (t4 * t3)[:, None, :]).sum(axis=0)
    v += np.einsum("tik,tjk,tk->ij", b, b, t3)
    # other causes (groups with a surviving risk set and other-cause events)
    ok = (skm > 0) & (d2 > 0)
    t4 = np.where(ok, _div(1 - f[:, None], skm), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t5 = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
    t3 = np.where(ok, t5 * _div(skmm**2 * d2, rs**2), 0.0)
    v3 += (t4 * t4 * t3).sum(axis=0)
    b = t4[:, None, :] * c[:, : ng - 1, :]
    v2 -= (b * (t4 * t3)[:, None, :]).sum(axis=0)
    v += np.einsum("tik,tjk,tk->ij", b, b, t3)
    cf = c[-1, : ng - 1, :]
    v += (cf * v3) @ cf.T + cf @ v2.T + v2 @ cf.T
    return score, v


@dataclass(frozen=True, slots=True, kw_only=True)
class GrayTestResult:
    """Gray's test per cause: ``table`` with ``cause, statistic, df, p``."""

    n: int
    events: dict[int, float]
    groups: tuple[Hashable, ...]
    n_strata: int
    rho: float
    method: str
    table: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """One row per cause: ``cause, statistic, df, p``."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        notes = [f"{self.method}; groups: {', '.join(map(str, self.groups))}; n = {self.n}"]
        return html_repr("Gray's test", self.summary(), notes=notes)


def gray_test(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: str | Sequence[str],
    cause: int | Sequence[int] | None = None,
    strata: str | Sequence[str] | None = None,
    rho: float = 0.0,
) -> GrayTestResult:
    """Gray's K-sample test that the cumulative incidence of a cause is equal across groups.

    Parameters
    ----------
    data : DataFrame
        One row per person (or episode).
    duration, event : str
        Columns of exit times and integer event codes (0 censored, 1, 2, ... causes).
    by : str or list of str
        Column(s) defining the groups compared.
    cause : int or list of int, optional
        Cause(s) to test; all causes present when None.
    strata : str or list of str, optional
        Column(s) of strata: scores and variances are summed over strata.
    rho : float
        Power of the weight ``(1 - F(t-))^rho``; 0 (the default) weights all times alike.

    Returns
    -------
    GrayTestResult
        ``summary()`` has one row per cause with the chi-square ``statistic``, ``df`` (groups
        minus one) and ``p``; equal to R's ``cmprsk::cuminc(...)$Tests``.

    Raises
    ------
    EstimationError
        Bad columns, fewer than two groups, or a cause that does not occur.

    References
    ----------
    Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative incidence of
    a competing risk. *The Annals of Statistics*, 16(3), 1141–1154.

    Examples
    --------
    >>> d = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "e": [1, 2, 1, 0, 1, 2, 2, 0],
    ...                   "g": ["a", "b"] * 4})
    >>> gray_test(d, duration="t", event="e", by="g").summary()["df"].tolist()
    [1, 1]
    """
    if not isinstance(rho, int | float) or not np.isfinite(rho):
        raise EstimationError(f"rho must be a number, not {rho!r}")
    prep = prepare(data, duration=duration, event=event, by=by, event_codes=None)
    n_groups = len(prep.groups)
    if n_groups < 2:
        raise EstimationError(f"by {by!r} defines {n_groups} group; Gray's test needs two or more")
    causes = prep.chosen_causes(cause, event)
    strata_groups = group_codes(data, strata, "strata")
    st_codes = strata_groups.codes
    rows = []
    for code in causes:
        status = np.where(prep.code == code, 1, np.where(prep.code == 0, 0, 2))
        s = np.zeros(n_groups - 1)
        v = np.zeros((n_groups - 1, n_groups - 1))
        for si in range(len(strata_groups)):
            m = st_codes == si
            s_k, v_k = gray_score(
                prep.time[m], status[m], prep.group_index[m], n_groups, float(rho)
            )
            s += s_k
            v += v_k
        # as cuminc: the statistic needs a full-rank variance (else reported as missing)
        if np.linalg.matrix_rank(v) == n_groups - 1:
            stat = float(s @ np.linalg.solve(v, s))
        else:
            stat = np.nan
        rows.append(
            {
                "cause": code,
                "statistic": stat,
                "df": n_groups - 1,
                "p": float(stats.chi2.sf(stat, n_groups - 1)) if np.isfinite(stat) else np.nan,
            }
        )
    events = {c: float((prep.code == c).sum()) for c in causes}
    method = "Gray's test" + (f", stratified by {strata}" if strata is not None else "")
    return GrayTestResult(
        n=int(prep.time.size),
        events=events,
        groups=prep.groups,
        n_strata=len(strata_groups),
        rho=float(rho),
        method=method + (f", rho = {rho:g}" if rho else ""),
        table=pd.DataFrame(rows, columns=["cause", "statistic", "df", "p"]),
    )
