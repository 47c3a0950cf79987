"""Cumulative incidence of competing events: ``cumulative_incidence`` and its result.

In this population death (often violent) and emigration end follow-up before a relapse can
be seen, and a programme episode ends in one of several ways. The Aalen–Johansen estimator
gives, for every cause at once, the probability of having left by that cause by time t;
``1 - Kaplan–Meier`` with the other causes treated as censoring overstates it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import EstimationError
from evaluation._input import check_alpha, check_choice, prepare
from evaluation._results import html_repr
from evaluation.survival._aalen_johansen import AJCurves, aalen_johansen, gray_standard_errors

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CIF_VARIANCES",
    "CONF_TYPES",
    "CumulativeIncidence",
    "confidence_limits",
    "cumulative_incidence",
]

#: Interval transforms, as R's ``survfit_confint`` applies them to a state probability p
#: with standard error se (``log-log``: on log(-log p); ``log``: on log p; ``plain``: on p).
CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain")

#: Standard errors of ``cumulative_incidence``: ``"robust"`` (infinitesimal jackknife, R's
#: ``survfit``) or ``"gray"`` (Gray's delta-method variance of cmprsk's ``cuminc``).
CIF_VARIANCES: tuple[str, ...] = ("robust", "gray")

_COLUMNS = [
    "group",
    "time",
    "cause",
    "n_at_risk",
    "n_events",
    "n_censored",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
]


def confidence_limits(
    p: np.ndarray, se: np.ndarray, conf_type: str, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits for probabilities ``p`` with standard errors ``se``, as R computes.

    R's ``survfit`` applies the same transform to every state of a multi-state curve: for
    ``log-log`` the limits are ``exp(-exp(log(-log p) -/+ z se / (p log p)))``, undefined
    (NaN) where p is 0 or 1. ``plain`` is clipped to [0, 1]; ``log`` caps the upper limit at 1.

    Examples
    --------
    >>> lo, hi = confidence_limits(np.array([0.2]), np.array([0.05]), "log-log", 0.05)
    >>> bool(lo[0] < 0.2 < hi[0])
    True
    """
    z = stats.norm.ppf(1 - alpha / 2)
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(se == 0, 0.0, se / p)  # se of log p, as survfit_confint(logse=FALSE)
        if conf_type == "plain":
            return np.maximum(p - z * se, 0.0), np.minimum(p + z * se, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            return np.exp(np.log(xx) - z * rel), np.minimum(np.exp(np.log(xx) + z * rel), 1.0)
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            shift = z * rel / np.log(xx)
            return np.exp(-np.exp(np.log(-np.log(xx)) - shift)), np.exp(
                -np.exp(np.log(-np.log(xx)) + shift)
            )
    raise EstimationError(f"conf_type must be one of {', '.join(CONF_TYPES)}, not {conf_type!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CumulativeIncidence:
    """Aalen–Johansen cumulative incidence of every cause, by group.

    Build it with :func:`cumulative_incidence`. ``table`` has one row per group, distinct
    exit time and cause: ``group, time, cause``, ``n_at_risk`` (persons, unweighted, as R's
    multi-state ``survfit`` reports it), ``n_events, n_censored`` (weighted when weights were
    given), ``estimate`` (the cumulative incidence), ``se`` (infinitesimal
    jackknife, or Gray's as cmprsk's ``cuminc`` when ``variance == "gray"``) and
    ``ci_lower, ci_upper``; ``event_free`` has the same columns for the event-free survival
    (``cause`` 0), which is one minus the sum of the incidences.
    """

    n: int
    events: dict[int, float]
    alpha: float
    method: str
    conf_type: str
    variance: str
    causes: tuple[int, ...]
    groups: tuple[Hashable, ...]
    by: tuple[str, ...]
    weighted: bool
    delayed_entry: bool
    table: pd.DataFrame
    event_free: pd.DataFrame
    curves: dict[Hashable, AJCurves] = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """The cumulative incidence table (a copy), one row per group, time and cause."""
        return self.table.copy()

    def at(self, times: Sequence[float] | np.ndarray | float) -> pd.DataFrame:
        """Estimates at given times, for every group and cause and the event-free survival.

        ``n_at_risk`` is the risk set at the first exit time at or after t; ``n_events``
        and ``n_censored`` count what happened since the previous requested time (after
        the one before, up to and including t), as R's ``summary(fit, times=,
        extend=TRUE)`` reports them and as :meth:`SurvivalCurves.at` does: the sum of a
        group's rows is its total. ``cause`` 0 rows hold the event-free survival, whose
        ``n_events`` are the exits of every cause. Times are returned in increasing order.

        Examples
        --------
        >>> d = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "e": [1, 2, 0, 1, 2, 0]})
        >>> ci = cumulative_incidence(d, duration="t", event="e")
        >>> ci.at([2.5]).round(4)[["cause", "estimate"]].to_dict("list")
        {'cause': [0, 1, 2], 'estimate': [0.6667, 0.1667, 0.1667]}
        """
        t = np.sort(np.atleast_1d(np.asarray(times, dtype=float)))
        if np.isnan(t).any() or (t < 0).any():
            raise EstimationError("times must be non-negative numbers")
        frames = []
        for g in self.groups:
            c = self.curves[g]
            j = np.searchsorted(c.time, t, side="right") - 1  # last exit time <= t
            before = j < 0
            jj = np.clip(j, 0, None)
            nxt = np.searchsorted(c.time, t, side="left")
            last = c.time.size - 1
            y = np.where(nxt <= last, c.n_at_risk_persons[np.clip(nxt, 0, last)], 0.0)
            # Cumulative counts at each requested time, then differences between them.
            cum_ev = np.where(before[:, None], 0.0, np.cumsum(c.n_events, axis=0)[jj])
            cum_cens = np.where(before, 0.0, np.cumsum(c.n_censored)[jj])
            events = np.diff(cum_ev, axis=0, prepend=np.zeros((1, cum_ev.shape[1])))
            cens = np.diff(cum_cens, prepend=0.0)
            surv = np.where(before, 1.0, c.surv[jj])
            se_s = np.where(before, 0.0, c.se_surv[jj])
            lo, hi = confidence_limits(surv, se_s, self.conf_type, self.alpha)
            frames.append(
                pd.DataFrame(
                    {
                        "group": g,
                        "time": t,
                        "cause": 0,
                        "n_at_risk": y,
                        "n_events": events.sum(axis=1),
                        "n_censored": cens,
                        "estimate": surv,
                        "se": se_s,
                        "ci_lower": lo,
                        "ci_upper": hi,
                    }
                )
            )
            for k, code in enumerate(self.causes):
                est = np.where(before, 0.0, c.cif[jj, k])
                se = np.where(before, 0.0, c.se_cif[jj, k])
                lo, hi = confidence_limits(est, se, self.conf_type, self.alpha)
                frames.append(
                    pd.DataFrame(
                        {
                            "group": g,
                            "time": t,
                            "cause": code,
                            "n_at_risk": y,
                            "n_events": events[:, k],
                            "n_censored": cens,
                            "estimate": est,
                            "se": se,
                            "ci_lower": lo,
                            "ci_upper": hi,
                        }
                    )
                )
        out = pd.concat(frames, ignore_index=True)
        out = out.sort_values(["group", "time", "cause"], kind="stable", key=_group_key(self))
        return out.reset_index(drop=True)[_COLUMNS]

    def risk_table(self, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """Persons at risk (unweighted head counts) by group at ``times``: for the figure."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        rows = []
        for g in self.groups:
            c = self.curves[g]
            nxt = np.searchsorted(c.time, t, side="left")
            inside = nxt < c.time.size
            y = np.where(inside, c.n_at_risk_persons[np.clip(nxt, 0, c.time.size - 1)], 0.0)
            rows.append(pd.DataFrame({"group": g, "time": t, "n_at_risk": y.astype("int64")}))
        return pd.concat(rows, ignore_index=True)

    def plot_data(self) -> pd.DataFrame:
        """The step curves as drawn, long form: one row per group, cause and time, from 0.

        Returns
        -------
        DataFrame
            ``group, cause, time, estimate, ci_lower, ci_upper`` (bands set to the estimate
            where R leaves them undefined; ``cause`` 0 the event-free survival) and
            ``stack_lower, stack_upper`` (the area of the stacked figure: causes stacked in
            code order, the event-free share on top).
        """
        frames = []
        for g in self.groups:
            c = self.curves[g]
            time = np.concatenate([[0.0], c.time])
            lower_stack = np.zeros(time.size)
            for k, code in enumerate(self.causes):
                est = np.concatenate([[0.0], c.cif[:, k]])
                se = np.concatenate([[0.0], c.se_cif[:, k]])
                lo, hi = confidence_limits(est, se, self.conf_type, self.alpha)
                frames.append(
                    pd.DataFrame(
                        {
                            "group": g,
                            "cause": code,
                            "time": time,
                            "estimate": est,
                            "ci_lower": np.where(np.isnan(lo), est, lo),
                            "ci_upper": np.where(np.isnan(hi), est, hi),
                            "stack_lower": lower_stack,
                            "stack_upper": lower_stack + est,
                        }
                    )
                )
                lower_stack = lower_stack + est
            surv = np.concatenate([[1.0], c.surv])
            se = np.concatenate([[0.0], c.se_surv])
            lo, hi = confidence_limits(surv, se, self.conf_type, self.alpha)
            frames.append(
                pd.DataFrame(
                    {
                        "group": g,
                        "cause": 0,
                        "time": time,
                        "estimate": surv,
                        "ci_lower": np.where(np.isnan(lo), surv, lo),
                        "ci_upper": np.where(np.isnan(hi), surv, hi),
                        "stack_lower": lower_stack,
                        "stack_upper": np.ones(time.size),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def plot(
        self,
        ax: Axes | None = None,
        *,
        kind: str = "stacked",
        time_unit: str = "days",
        risk_table: bool = True,
        ci: bool = True,
        min_cell: int = DEFAULT_MIN_CELL,
        lang: str | None = None,
        xticks: Sequence[float] | None = None,
        cause_labels: Mapping[int, str] | str | None = None,
        group: Hashable | None = None,
    ) -> Axes:
        """Stacked areas (one ``group``) or lines with bands of :meth:`plot_data`.

        The keywords shared with :meth:`SurvivalCurves.plot` mean the same there;
        ``cause_labels`` names the event codes and ``group`` picks the stacked group. See
        :func:`evaluation.presentation.graphics.competing.plot_cif`. Returns the Axes.
        """
        from evaluation.presentation.graphics.competing import plot_cif

        # Every keyword as given: the signature above is the documented one.
        options = {k: v for k, v in locals().items() if k not in ("self", "plot_cif")}
        return plot_cif(self, **options)

    def _repr_html_(self) -> str:
        notes = [
            f"Aalen–Johansen, {self.conf_type} intervals at {100 * (1 - self.alpha):g} %, "
            + (
                "infinitesimal-jackknife standard errors"
                if self.variance == "robust"
                else "Gray's (cmprsk cuminc) standard errors"
            )
            + f"; n = {self.n}"
        ]
        table = self.at(_nice_times(self.table["time"].to_numpy()))
        return html_repr("Cumulative incidence", table, notes=notes)


def _group_key(result: CumulativeIncidence) -> Any:
    order = {g: i for i, g in enumerate(result.groups)}

    def key(col: pd.Series) -> pd.Series:
        return col.map(order) if col.name == "group" else col

    return key


def _nice_times(times: np.ndarray) -> np.ndarray:
    top = float(np.max(times)) if times.size else 0.0
    return np.linspace(0.0, top, 6)[1:]


def _long_table(
    g: Hashable, c: AJCurves, causes: tuple[int, ...], conf_type: str, alpha: float
) -> pd.DataFrame:
    n_t = c.time.size
    k_all = len(causes)
    est = c.cif.ravel()
    se = c.se_cif.ravel()
    lo, hi = confidence_limits(est, se, conf_type, alpha)
    return pd.DataFrame(
        {
            "group": np.repeat(np.array([g], dtype=object), n_t * k_all),
            "time": np.repeat(c.time, k_all),
            "cause": np.tile(np.asarray(causes, dtype=np.int64), n_t),
            "n_at_risk": np.repeat(c.n_at_risk_persons, k_all),
            "n_events": c.n_events.ravel(),
            "n_censored": np.repeat(c.n_censored, k_all),
            "estimate": est,
            "se": se,
            "ci_lower": lo,
            "ci_upper": hi,
        }
    )


def cumulative_incidence(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
    entry: str | None = None,
    conf_type: str = "log-log",
    variance: str = "robust",
    timefix: bool = True,
) -> CumulativeIncidence:
    """Aalen–Johansen cumulative incidence of every cause at once, by group.

    Parameters
    ----------
    data : DataFrame
        One row per person (or episode).
    duration : str
        Column of exit times (for example ``duration_days``), >= 0.
    event : str
        Column of integer event codes: 0 censored, 1, 2, ... the causes (relapse cohorts:
        1 relapse, 2 death, 3 emigration; retention: 1 completed, 2 dropped out, 3 moved,
        4 died). Every nonzero code present is a cause.
    by : str or list of str, optional
        Column(s) defining the groups, in sorted (categorical) order.
    weights : str, optional
        Column of positive case weights (for example inverse probability weights).
    alpha : float
        1 - confidence level of the pointwise intervals.
    entry : str, optional
        Column of entry times (delayed entry, left truncation), each below its duration.
    conf_type : {"log-log", "log", "plain"}
        Interval transform, applied to each cumulative incidence as R's ``survfit`` does.
    variance : {"robust", "gray"}
        ``"robust"`` (default): the infinitesimal-jackknife standard errors of R's
        ``survfit`` (the only ones R's survival gives for multi-state curves; right with
        weights and delayed entry). ``"gray"``: the delta-method variance of Gray (1988)
        that cmprsk's ``cuminc`` reports (with its tie correction), for
        comparison with evaluations made with cmprsk; unweighted data without delayed
        entry only, as ``cuminc``. The event-free survival then gets Greenwood's standard
        error. Estimates are the same either way.
    timefix : bool
        Merge exit and entry times that differ only by floating-point rounding (R's
        ``survfit(timefix = TRUE)``, the rule of ``aeqSurv``); durations in whole days are
        never changed.

    Returns
    -------
    CumulativeIncidence

    Raises
    ------
    EstimationError
        A column is missing, non-numeric, negative or missing-valued, event codes are not
        integers, there are no events, a weight is not positive, an entry time is not
        before the exit time, or ``variance="gray"`` with weights or entry times.

    Notes
    -----
    Events of all causes at a tied time are processed together and censorings at that
    time count as still at risk (no jitter), as R's ``survfit(Surv(t, factor(status)) ~
    g)``. Standard errors are the infinitesimal jackknife, R's default (and only) variance
    for multi-state curves, computed in closed form (see
    :mod:`evaluation.survival._aalen_johansen`); with case weights ``w_i`` the variance is
    ``sum_i (w_i U_i)^2`` as in R. Intervals use the transform ``conf_type`` on the
    probability itself (R's ``survfit_confint``); R's ``survfit`` default is ``log``, ours is
    ``log-log``, which keeps the limits inside (0, 1). The event-free survival equals the
    Kaplan–Meier curve of any event.

    References
    ----------
    Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for
    non-homogeneous Markov chains based on censored observations. *Scandinavian Journal of
    Statistics*, 5(3), 141–150.

    Therneau, T., Crowson, C. and Atkinson, E. (2024). Multi-state models and competing
    risks. Vignette of the R package survival.

    Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative incidence of
    a competing risk. *Annals of Statistics*, 16(3), 1141–1154 (the variance of
    ``variance="gray"``); Gray, R. J. (2024). cmprsk: Subdistribution Analysis of Competing
    Risks. R package (``cuminc``).

    Examples
    --------
    >>> d = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "e": [1, 2, 0, 1, 2, 0]})
    >>> ci = cumulative_incidence(d, duration="t", event="e")
    >>> ci.summary().query("time == 4")[["cause", "estimate"]].round(4).to_dict("list")
    {'cause': [1, 2], 'estimate': [0.3889, 0.3889]}
    """
    alpha = check_alpha(alpha)
    check_choice(conf_type, CONF_TYPES, "conf_type")
    check_choice(variance, CIF_VARIANCES, "variance")
    if variance == "gray" and (weights is not None or entry is not None):
        raise EstimationError(
            "variance='gray' (cmprsk's cuminc) is defined for unweighted data without "
            "delayed entry; use variance='robust' with weights or entry"
        )
    prep = prepare(
        data,
        duration=duration,
        event=event,
        by=by,
        weights=weights,
        entry=entry,
        event_codes=None,
        timefix=timefix,
    )
    code_index = np.zeros(max(prep.causes) + 1, dtype=np.int64)
    code_index[list(prep.causes)] = np.arange(1, len(prep.causes) + 1)
    cause_idx = code_index[prep.code]
    k_all = len(prep.causes)
    curves: dict[Hashable, AJCurves] = {}
    tables = []
    free = []
    for gi, g in enumerate(prep.groups):
        rows = prep.group_index == gi
        c = aalen_johansen(
            prep.time[rows],
            cause_idx[rows],
            prep.weight[rows],
            None if prep.entry is None else prep.entry[rows],
            k_all,
        )
        if variance == "gray":
            se_cif, se_surv = gray_standard_errors(prep.time[rows], cause_idx[rows], k_all)
            c = dataclasses.replace(c, se_cif=se_cif, se_surv=se_surv)
        curves[g] = c
        tables.append(_long_table(g, c, prep.causes, conf_type, alpha))
        lo, hi = confidence_limits(c.surv, c.se_surv, conf_type, alpha)
        free.append(
            pd.DataFrame(
                {
                    "group": np.repeat(np.array([g], dtype=object), c.time.size),
                    "time": c.time,
                    "cause": 0,
                    "n_at_risk": c.n_at_risk_persons,
                    "n_events": c.n_events.sum(axis=1),
                    "n_censored": c.n_censored,
                    "estimate": c.surv,
                    "se": c.se_surv,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
        )
    events = {code: float(prep.weight[prep.code == code].sum()) for code in prep.causes}
    by_names: tuple[str, ...] = () if by is None else ((by,) if isinstance(by, str) else tuple(by))
    return CumulativeIncidence(
        n=int(prep.time.size),
        events=events,
        alpha=alpha,
        method="Aalen–Johansen",
        conf_type=conf_type,
        variance=variance,
        causes=prep.causes,
        groups=prep.groups,
        by=by_names,
        weighted=weights is not None,
        delayed_entry=entry is not None,
        table=pd.concat(tables, ignore_index=True),
        event_free=pd.concat(free, ignore_index=True),
        curves=curves,
    )
