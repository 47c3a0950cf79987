"""The log-rank test and its weighted (Fleming–Harrington) and stratified forms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._input import DEFAULT_EVENT_CODES, group_codes, prepare
from evaluation._results import html_repr

__all__ = ["LogRankResult", "logrank"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRankResult:
    """Result of :func:`logrank`.

    ``statistic``, ``df`` and ``p`` are the test of equal curves across all groups;
    ``table`` has per group ``group, n, observed, expected, o_minus_e, variance``
    (observed and expected weighted when ``rho``/``gamma`` are not 0, as R's ``survdiff``);
    ``variance`` is the K × K variance matrix of O − E summed over strata. With
    ``trend=True``, ``trend_statistic`` (a chi-square on 1 df), ``trend_p`` and the
    ``scores`` used are filled in.
    """

    n: int
    events: int
    alpha: float
    method: str
    rho: float
    gamma: float
    stratified: bool
    statistic: float
    df: int
    p: float
    table: pd.DataFrame
    variance: np.ndarray
    scores: tuple[float, ...] | None = None
    trend_statistic: float | None = None
    trend_p: float | None = None

    def summary(self) -> pd.DataFrame:
        """The test(s) as a tidy table: ``test, statistic, df, p``."""
        rows = [{"test": self.method, "statistic": self.statistic, "df": self.df, "p": self.p}]
        if self.trend_statistic is not None:
            rows.append(
                {"test": "trend", "statistic": self.trend_statistic, "df": 1, "p": self.trend_p}
            )
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        note = f"{self.method}: chi2 = {self.statistic:.3f} on {self.df} df, p = {self.p:.3g}"
        return html_repr("Log-rank test", self.table, notes=[note])


def _stratum_sums(
    time: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    rho: float,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted observed, expected and variance of O − E in one stratum (R's survdiff2).

    The weight at event time t is ``S(t-)^rho (1 - S(t-))^gamma`` with S the pooled
    Kaplan–Meier curve of the stratum.
    """
    ut, idx = np.unique(time, return_inverse=True)
    m = len(ut)
    cell = idx * n_groups + group
    exits = np.bincount(cell, minlength=m * n_groups).reshape(m, n_groups).astype("float64")
    deaths = np.bincount(cell, weights=event, minlength=m * n_groups).reshape(m, n_groups)
    at_risk = np.cumsum(exits[::-1], axis=0)[::-1]
    d = deaths.sum(axis=1)
    n = at_risk.sum(axis=1)
    keep = d > 0
    d, n, at_risk, deaths = d[keep], n[keep], at_risk[keep], deaths[keep]
    s_before = np.concatenate([[1.0], np.cumprod(1 - d / n)[:-1]])
    w = s_before**rho * (1 - s_before) ** gamma
    share = at_risk / n[:, None]
    observed = (w[:, None] * deaths).sum(axis=0)
    expected = (w[:, None] * d[:, None] * share).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 1, w * w * d * (n - d) / (n - 1), 0.0)
    # V = sum_j factor_j (diag(share_j) - share_j share_j^T)
    var = np.diag((factor[:, None] * share).sum(axis=0)) - (share.T * factor) @ share
    return observed, expected, var


def logrank(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: str | Sequence[str],
    strata: str | Sequence[str] | None = None,
    weights: str | tuple[str, float, float] = "logrank",
    trend: bool = False,
    scores: Sequence[float] | None = None,
    event_codes: Sequence[int] = DEFAULT_EVENT_CODES,
    timefix: bool = True,
) -> LogRankResult:
    """Test whether survival curves differ between groups (log-rank and relatives).

    Parameters
    ----------
    data : DataFrame
    duration, event : str
        Exit time and event-code columns (codes in ``event_codes`` are events, others censor).
    by : str or list of str
        Column(s) defining the groups compared (two or more).
    strata : str or list of str, optional
        Column(s) of strata: O − E and its variance are summed over strata, as R's
        ``survdiff(... + strata(s))``. (lifelines has no stratified log-rank test.)
    weights : "logrank" or ("fh", p, q)
        ``"logrank"``: equal weights. ``("fh", p, q)``: the Fleming–Harrington G(p, q)
        weight ``S(t-)^p (1 - S(t-))^q`` from the pooled Kaplan–Meier curve of the stratum;
        ``("fh", rho, 0)`` is R's ``survdiff(rho=rho)`` (``rho=1``: Peto–Peto/Prentice,
        early differences weigh more; ``q > 0`` stresses late differences).
    trend : bool
        Also test for a trend across ordered groups with ``scores``: ``U = s'(O - E)``,
        chi-square ``U^2 / s'Vs`` on 1 df.
    scores : sequence of float, optional
        Group scores for the trend test, in group order; by default the group values when
        ``by`` is numeric, else 1, 2, ..., K.
    event_codes : sequence of int
        The codes counted as events.
    timefix : bool
        Merge times that differ only by floating-point rounding into one (R's
        ``survdiff(timefix = TRUE)``, its default; the rule of ``aeqSurv``, see
        :func:`evaluation._input.aeq_times`). Whole days are never changed.

    Returns
    -------
    LogRankResult

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 1, 0, 1],
    ...                    "g": ["a", "a", "a", "b", "b", "b"]})
    >>> res = logrank(df, duration="t", event="e", by="g")
    >>> round(res.statistic, 4), res.df
    (5.0517, 1)

    References
    ----------
    Mantel N (1966). Evaluation of survival data and two new rank order statistics.
    *Cancer Chemotherapy Reports* 50:163–170. Harrington DP, Fleming TR (1982). A class of
    rank test procedures for censored survival data. *Biometrika* 69:553–566.
    """
    if weights == "logrank":
        rho, gamma, method = 0.0, 0.0, "logrank"
    elif (
        isinstance(weights, tuple)
        and len(weights) == 3
        and weights[0] == "fh"
        and all(isinstance(v, int | float) and v >= 0 for v in weights[1:])
    ):
        rho, gamma = float(weights[1]), float(weights[2])
        method = f"fleming-harrington({rho:g}, {gamma:g})"
    else:
        raise EstimationError(f"weights must be 'logrank' or ('fh', p, q), not {weights!r}")
    prep = prepare(
        data, duration=duration, event=event, by=by, event_codes=event_codes, timefix=timefix
    )
    k = len(prep.groups)
    if k < 2:
        raise EstimationError(f"the log-rank test needs two or more groups; by has {k}")
    strata_groups = group_codes(data, strata, "strata")
    stratum, levels = strata_groups.codes, strata_groups.labels
    observed = np.zeros(k)
    expected = np.zeros(k)
    var = np.zeros((k, k))
    for s in range(len(levels)):
        rows = np.flatnonzero(stratum == s) if len(levels) > 1 else slice(None)
        o, e, v = _stratum_sums(
            prep.time[rows], prep.event[rows], prep.group_index[rows], k, rho, gamma
        )
        observed += o
        expected += e
        var += v
    if not observed.any():
        raise EstimationError(f"column {event!r} has no events: nothing to test")
    # As survdiff: drop groups with nothing expected, then the first group (V is singular).
    used = np.flatnonzero(expected > 0)
    diff = observed - expected
    if len(used) < 2:
        statistic, df = 0.0, 0
    else:
        u = diff[used][1:]
        statistic = float(u @ np.linalg.solve(var[np.ix_(used, used)][1:, 1:], u))
        df = len(used) - 1
    p = float(stats.chi2.sf(statistic, df)) if df > 0 else 1.0
    counts = np.bincount(prep.group_index, minlength=k)
    table = pd.DataFrame(
        {
            "group": pd.Series(prep.groups, dtype=object),
            "n": counts,
            "observed": observed,
            "expected": expected,
            "o_minus_e": diff,
            "variance": np.diag(var),
        }
    )
    score_t = trend_stat = trend_p = None
    if trend:
        if scores is None:
            numeric = all(
                isinstance(g, int | float | np.integer | np.floating) for g in prep.groups
            )
            s_vec = np.asarray(prep.groups, dtype="float64") if numeric else np.arange(1.0, k + 1)
        else:
            s_vec = np.asarray(scores, dtype="float64")
            if s_vec.shape != (k,):
                raise EstimationError(
                    f"scores must have one value per group ({k}), not {len(s_vec)}"
                )
        u_trend = float(s_vec @ diff)
        trend_stat = u_trend**2 / float(s_vec @ var @ s_vec)
        trend_p = float(stats.chi2.sf(trend_stat, 1))
        score_t = tuple(float(v) for v in s_vec)
    return LogRankResult(
        n=len(prep.time),
        events=int(prep.event.sum()),
        alpha=0.05,
        method=method,
        rho=rho,
        gamma=gamma,
        stratified=strata is not None,
        statistic=statistic,
        df=df,
        p=p,
        table=table,
        variance=var,
        scores=score_t,
        trend_statistic=trend_stat,
        trend_p=trend_p,
    )
