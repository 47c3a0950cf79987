"""Recurrent events: the mean cumulative function and the Ghosh–Lin marginal mean.

Both read counting-process rows ``(start, stop]`` with the number of events at ``stop``
(a :func:`~evaluation.cohorts.recurrence.recurrence_cohort`'s ``event`` or ``n_offences``)
and a person ``id``; a person may have several rows, also overlapping ones (several entry
events on the time-since-entry axis), and the robust variance sums a person's rows first.

- :func:`mean_cumulative_function`: the Nelson–Aalen estimator of the mean number of
  events per person at risk, ``Σ dN(t_j) / Y(t_j)`` (Nelson 1988), with the robust
  variance of Lawless and Nadeau (1995). It is R's ``survfit(Surv(start, stop, event) ~ 1,
  id = id)`` ``cumhaz`` with ``std.chaz`` (survival 3.x computes the robust variance when
  ``id`` is given; ``std.chaz`` is the standard error of the cumulative hazard itself).
  Death is censoring here: the MCF is the mean among those still alive and followed.
- :func:`ghosh_lin`: the marginal mean number of events with death terminal,
  ``μ(t) = Σ Ŝ(t_j-) dN(t_j) / Y(t_j)`` with ``Ŝ`` the Kaplan–Meier survival from death
  on the same rows: a dead person offends no more (Ghosh and Lin 2000). It is R's
  ``mets::recurrentMarginal`` ``mu`` and ``se.mu``.

Intervals are log-transformed (both curves are positive): ``μ exp(± z se / μ)``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._input import (
    check_alpha,
    event_codes_column,
    group_codes,
    numeric_column,
    require_columns,
    rows_text,
    weights_values,
)
from evaluation._results import html_repr
from evaluation.survival._recurrent_core import (
    Component,
    influence_variance,
    jumps_at,
    risk_sets,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["RecurrentCurves", "ghosh_lin", "mean_cumulative_function"]

_COLUMNS = ["group", "time", "n_at_risk", "n_events", "estimate", "se", "ci_lower", "ci_upper"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurrentCurves:
    """Expected number of events per person by time, by group, with robust intervals.

    ``table`` has one row per group and event time: ``group, time, n_at_risk`` (rows at
    risk, unweighted), ``n_events`` (events at that time, unweighted), ``estimate``,
    ``se``, ``ci_lower``, ``ci_upper``; Ghosh–Lin adds ``survival`` (Ŝ(t) of death).
    """

    method: str  # "mcf" or "ghosh-lin"
    n: int
    n_persons: int
    events: float
    deaths: float
    alpha: float
    weighted: bool
    groups: tuple[Hashable, ...]
    by: tuple[str, ...]
    table: pd.DataFrame

    def at(self, times: Sequence[float] | np.ndarray | float) -> pd.DataFrame:
        """Estimate, standard error and interval at given times (0 before the first event).

        Examples
        --------
        >>> df = pd.DataFrame({"id": [1, 1, 2], "start": [0, 2, 0], "stop": [2, 5, 4],
        ...     "event": [1, 0, 1]})
        >>> f = mean_cumulative_function(df, start="start", stop="stop", event="event", id="id")
        >>> f.at([1, 3, 5])["estimate"].tolist()
        [0.0, 0.5, 1.0]
        """
        grid = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if np.isnan(grid).any() or (grid < 0).any():
            raise EstimationError("times must be non-negative numbers")
        frames = []
        for g in self.groups:
            t = self.table[self.table["group"] == g]
            tt = t["time"].to_numpy()
            idx = np.searchsorted(tt, grid, side="right") - 1
            ok = idx >= 0
            pick = np.maximum(idx, 0)
            frame = {"group": [g] * len(grid), "time": grid}
            for col in ("estimate", "se", "ci_lower", "ci_upper"):
                v = t[col].to_numpy()
                frame[col] = np.where(ok, v[pick] if len(v) else 0.0, 0.0)
            nxt = np.searchsorted(tt, grid, side="left")
            risk = t["n_at_risk"].to_numpy()
            frame["n_at_risk"] = np.where(
                nxt < len(tt), risk[np.minimum(nxt, len(tt) - 1)] if len(tt) else 0, 0
            )
            frames.append(pd.DataFrame(frame))
        out = pd.concat(frames, ignore_index=True)
        return out[["group", "time", "n_at_risk", "estimate", "se", "ci_lower", "ci_upper"]]

    def summary(self) -> pd.DataFrame:
        """The curves at every event time (tidy, the columns of ``table``)."""
        return self.table.copy()

    def plot_data(self) -> pd.DataFrame:
        """The step curves as drawn, from (0, 0).

        Returns
        -------
        DataFrame
            ``group, time`` (days), ``estimate, ci_lower, ci_upper`` and ``method``
            (``mcf``, ``ghosh-lin``).
        """
        frames = []
        for g in self.groups:
            t = self.table[self.table["group"] == g]
            head = pd.DataFrame(
                {
                    "group": [g],
                    "time": [0.0],
                    "estimate": [0.0],
                    "ci_lower": [0.0],
                    "ci_upper": [0.0],
                }
            )
            frames += [head, t[["group", "time", "estimate", "ci_lower", "ci_upper"]]]
        out = pd.concat(frames, ignore_index=True)
        out["method"] = self.method
        return out

    def plot(
        self,
        ax: Axes | None = None,
        *,
        time_unit: str = "days",
        ci: bool = True,
        lang: str | None = None,
        xticks: Sequence[float] | None = None,
        ylabel: str | None = None,
    ) -> Axes:
        """Step curves with bands (see
        :func:`evaluation.presentation.graphics.recurrent.draw_recurrent`).

        Parameters
        ----------
        ax
            Where to draw; a new figure and Axes when None.
        time_unit
            ``"days"``, ``"months"`` or ``"years"``.
        ci
            Draw the pointwise confidence bands.
        lang
            Label language; the active theme's by default.
        xticks
            Tick positions in ``time_unit``; the axis ends at the last.
        ylabel
            Override the y-axis label.

        Returns
        -------
        Axes
        """
        from evaluation.presentation.graphics.recurrent import draw_recurrent

        return draw_recurrent(
            self.plot_data(), ax=ax, time_unit=time_unit, ci=ci, lang=lang, xticks=xticks,
            ylabel=ylabel,
        )  # fmt: skip

    def _repr_html_(self) -> str:
        name = "Mean cumulative function" if self.method == "mcf" else "Ghosh–Lin marginal mean"
        last = self.table.groupby("group", sort=False).tail(1)
        return html_repr(
            name,
            last[_COLUMNS],
            notes=[
                f"n = {self.n} rows, {self.n_persons} persons, {self.events:g} events; "
                f"robust variance by person; log intervals at {100 * (1 - self.alpha):g} %"
            ],
        )


@dataclass(frozen=True, slots=True)
class _Input:
    start: np.ndarray
    stop: np.ndarray
    count: np.ndarray
    death: np.ndarray
    weight: np.ndarray
    cluster: np.ndarray
    group: np.ndarray
    labels: tuple[Hashable, ...]
    by: tuple[str, ...]
    n_persons: int


def _prepare(
    data: pd.DataFrame,
    *,
    start: str,
    stop: str,
    event: str,
    id: str,
    by: str | Sequence[str] | None,
    weights: str | None,
    terminal: str | None = None,
    terminal_codes: Sequence[int] = (2,),
) -> _Input:
    require_columns(
        data,
        {
            "start": start,
            "stop": stop,
            "event": event,
            "id": id,
            "by": by,
            "weights": weights,
            "terminal": terminal,
        },
    )
    if len(data) == 0:
        raise EstimationError("data has no rows")
    t0 = numeric_column(data, start, "start", minimum=None)
    t1 = numeric_column(data, stop, "stop", minimum=None)
    bad = t1 <= t0
    if bad.any():
        raise EstimationError(
            f"stop column {stop!r} is not after start column {start!r} in "
            f"{int(bad.sum())} rows ({rows_text(data, bad)}); each row is the interval "
            "(start, stop] and must have positive length (R's Surv refuses it too)"
        )
    count = event_codes_column(data, event).astype(np.float64)
    death = np.zeros(len(data))
    if terminal is not None:
        death = np.isin(event_codes_column(data, terminal), list(terminal_codes)).astype(float)
    w = weights_values(data, weights, allow_zero=False)
    ids = data[id]
    if ids.isna().any():
        raise EstimationError(
            f"id column {id!r} has missing values ({rows_text(data, ids.isna().to_numpy())})"
        )
    cluster, uniq = pd.factorize(ids)
    g = group_codes(data, by)
    by_cols: tuple[str, ...] = () if by is None else ((by,) if isinstance(by, str) else tuple(by))
    return _Input(
        t0, t1, count, death, w, cluster.astype(np.int64), g.codes, g.labels, by_cols, len(uniq)
    )


def _log_ci(est: np.ndarray, se: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(est > 0, np.exp(z * se / np.where(est > 0, est, 1.0)), 1.0)
    return est / f, est * f


def _one_curve(inp: _Input, m: np.ndarray, method: str, alpha: float) -> pd.DataFrame:
    start, stop, count = inp.start[m], inp.stop[m], inp.count[m]
    death, w = inp.death[m], inp.weight[m]
    cluster = pd.factorize(inp.cluster[m])[0].astype(np.int64)
    has = (count > 0) | (death > 0 if method == "ghosh-lin" else np.zeros(len(count), bool))
    times = np.unique(stop[has])
    if len(times) == 0:
        # No event (nor death): the curve is 0 throughout and has no steps.
        cols = ["time", "n_at_risk", "n_events", "estimate", "se", "ci_lower", "ci_upper"]
        return pd.DataFrame(
            {c: pd.Series(dtype="float64") for c in cols}
            | ({"survival": pd.Series(dtype="float64")} if method == "ghosh-lin" else {})
        )
    rs = risk_sets(start, stop, times, w, cluster)
    Y = rs.at_risk
    dN = jumps_at(rs, stop, count)
    n_events = np.bincount(rs.b[count > 0] - 1, weights=count[count > 0], minlength=len(times))
    safeY = np.where(Y > 0, Y, 1.0)
    dLr = dN / safeY
    jrow = rs.b - 1
    Yrow = safeY[np.maximum(jrow, 0)]
    if method == "mcf":
        est = np.cumsum(dLr)
        comps = [Component(H=np.cumsum(dLr / safeY), jump=w * count / Yrow)]
        coef = np.ones((1, len(times)))
        extra: dict[str, np.ndarray] = {}
    else:
        dD = jumps_at(rs, stop, death)
        dLd = dD / safeY
        surv = np.cumprod(1.0 - dLd)
        s_minus = np.r_[1.0, surv[:-1]]
        est = np.cumsum(s_minus * dLr)
        # ψ = ∫ Ŝ/Y dM^R + ∫ μ/Y dM^D - μ(t) ∫ 1/Y dM^D: the first two integrals share the
        # multiplier 1 and are one component (their H and jumps add), the third has -μ(t).
        comps = [
            Component(
                H=np.cumsum((s_minus * dLr + est * dLd) / safeY),
                jump=w * (count * s_minus[jrow] + death * est[jrow]) / Yrow,
            ),
            Component(H=np.cumsum(dLd / safeY), jump=w * death / Yrow),
        ]
        coef = np.vstack([np.ones(len(times)), -est])
        extra = {"survival": surv}
    var = influence_variance(rs, comps, coef) if len(times) else np.zeros(0)
    se = np.sqrt(var)
    lo, hi = _log_ci(est, se, alpha)
    out = pd.DataFrame(
        {
            "time": times,
            "n_at_risk": rs.n_at_risk,
            "n_events": n_events,
            "estimate": est,
            "se": se,
            "ci_lower": lo,
            "ci_upper": hi,
            **extra,
        }
    )
    if method == "ghosh-lin":
        # Times of deaths only: the curve does not move, but S does; keep them for at().
        pass
    return out


def _curves(inp: _Input, method: str, alpha: float) -> RecurrentCurves:
    frames = []
    for k, label in enumerate(inp.labels):
        t = _one_curve(inp, inp.group == k, method, alpha)
        t.insert(0, "group", [label] * len(t))
        frames.append(t)
    table = pd.concat(frames, ignore_index=True)
    return RecurrentCurves(
        method=method,
        n=len(inp.start),
        n_persons=inp.n_persons,
        events=float(inp.count.sum()),
        deaths=float(inp.death.sum()),
        alpha=alpha,
        weighted=bool((inp.weight != 1).any()),
        groups=inp.labels,
        by=inp.by,
        table=table,
    )


def mean_cumulative_function(
    data: pd.DataFrame,
    *,
    start: str,
    stop: str,
    event: str,
    id: str,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    variance: str = "lawless-nadeau",
    alpha: float = 0.05,
) -> RecurrentCurves:
    """Mean cumulative function (Nelson–Aalen for recurrent events) with robust variance.

    Parameters
    ----------
    data
        Counting-process rows: one per person and interval ``(start, stop]``.
    start, stop
        Interval columns (``stop > start``); gaps between a person's rows (custody) are
        time not at risk.
    event
        Number of events at ``stop`` (0, 1, 2, ...; R's ``Surv`` takes 0/1 only, see
        :mod:`evaluation.cohorts.recurrence` on tied offences).
    id
        Person column: the robust variance sums each person's rows.
    by
        Group columns: one curve per group.
    weights
        Case weights (balancing weights for an adjusted curve).
    variance
        ``"lawless-nadeau"`` (the robust variance; the only one: the Poisson variance
        understates the uncertainty when persons differ in their rates).
    alpha
        1 - confidence level.

    Returns
    -------
    RecurrentCurves
        ``method="mcf"``.

    References
    ----------
    Nelson W (1988). Graphical analysis of system repair data. Journal of Quality
    Technology 20:24-35.
    Lawless JF, Nadeau C (1995). Some simple robust methods for the analysis of recurrent
    events. Technometrics 37:158-168.
    Therneau TM (2024). survival: A Package for Survival Analysis in R (``survfit`` with
    ``id``: robust variance).

    Examples
    --------
    >>> df = pd.DataFrame({"id": [1, 1, 2, 3], "start": [0, 2, 0, 0],
    ...     "stop": [2, 5, 4, 3], "event": [1, 1, 1, 0]})
    >>> mcf = mean_cumulative_function(df, start="start", stop="stop", event="event", id="id")
    >>> mcf.table["estimate"].round(3).tolist()
    [0.333, 0.833, 1.833]
    """
    check_alpha(alpha)
    if variance != "lawless-nadeau":
        raise EstimationError(f"variance must be 'lawless-nadeau', not {variance!r}")
    inp = _prepare(data, start=start, stop=stop, event=event, id=id, by=by, weights=weights)
    return _curves(inp, "mcf", alpha)


def ghosh_lin(
    data: pd.DataFrame,
    *,
    start: str,
    stop: str,
    event: str,
    terminal: str,
    id: str,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    terminal_codes: Sequence[int] = (2,),
    alpha: float = 0.05,
) -> RecurrentCurves:
    """Marginal mean number of events with death as a terminal event (Ghosh–Lin).

    Parameters
    ----------
    data, start, stop, event, id, by, weights, alpha
        As in :func:`mean_cumulative_function`.
    terminal
        Column of the terminal event at ``stop`` (a recurrence cohort's ``terminal``).
    terminal_codes
        Codes of ``terminal`` that end the process: 2 (death) by default; other nonzero
        codes (3 emigration) are censoring, since a person who emigrates goes on
        offending, unobserved.

    Returns
    -------
    RecurrentCurves
        ``method="ghosh-lin"``; ``table`` adds ``survival`` (Ŝ(t), Kaplan–Meier of death on
        the same rows) and has a row at every time with an event or a death.

    Notes
    -----
    ``μ(t) = Σ_{t_j <= t} Ŝ(t_j-) dN(t_j) / Y(t_j)``; an offence at the time of a death
    counts (the offence came first). The variance is the sum over persons of the squared
    influence ``∫ Ŝ/Y dM^R - μ(t) ∫ dM^D/Y + ∫ μ dM^D/Y`` (Ghosh and Lin 2000, eq. 2.4;
    as ``mets::recurrentMarginal``).

    References
    ----------
    Ghosh D, Lin DY (2000). Nonparametric analysis of recurrent events and death.
    Biometrics 56:554-562.
    Scheike TH, Holst KK (2024). mets: Analysis of Multivariate Event Times
    (``recurrentMarginal``).

    Examples
    --------
    >>> df = pd.DataFrame({"id": [1, 1, 2, 3], "start": [0, 2, 0, 0],
    ...     "stop": [2, 5, 4, 3], "event": [1, 1, 1, 0], "terminal": [0, 0, 0, 2]})
    >>> gl = ghosh_lin(df, start="start", stop="stop", event="event", terminal="terminal",
    ...     id="id")
    >>> gl.at([5])["estimate"].round(3).tolist()
    [1.333]
    """
    check_alpha(alpha)
    inp = _prepare(
        data,
        start=start,
        stop=stop,
        event=event,
        id=id,
        by=by,
        weights=weights,
        terminal=terminal,
        terminal_codes=terminal_codes,
    )
    return _curves(inp, "ghosh-lin", alpha)
