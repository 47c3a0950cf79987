"""Kaplan–Meier curves: ``kaplan_meier`` and its frozen result ``SurvivalCurves``."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import EstimationError
from evaluation._input import DEFAULT_EVENT_CODES, check_alpha, check_choice, group_codes, prepare
from evaluation._results import html_repr
from evaluation.survival._km_core import (
    CONF_TYPES,
    VARIANCES,
    KMArrays,
    confidence_limits,
    find_quantile,
    km_arrays,
    step_index,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SurvivalCurves", "kaplan_meier"]


def _se_of_s(surv: np.ndarray, se_log: np.ndarray) -> np.ndarray:
    """Standard error of S from that of log S (delta method); NaN once S has reached 0."""
    with np.errstate(invalid="ignore"):
        return np.where(surv > 0, surv * se_log, np.nan)


@dataclass(frozen=True, slots=True, kw_only=True)
class SurvivalCurves:
    """Kaplan–Meier curves by group, with intervals, cumulative hazards and risk tables.

    Build it with :func:`kaplan_meier`. ``table`` has one row per group and distinct exit
    time: ``group, time, n_at_risk, n_events, n_censored`` (weighted when weights were
    given), ``estimate`` (S(t)), ``se`` (of S(t)), ``ci_lower, ci_upper`` (for S(t)),
    ``se_log`` (of log S(t), R's ``std.err``), ``cumhaz`` (Nelson–Aalen) and ``se_cumhaz``.
    ``cluster`` names the person column whose rows were summed in the robust variance
    (``n_clusters`` persons), or is None.
    """

    n: int
    events: float
    alpha: float
    method: str
    conf_type: str
    variance: str
    groups: tuple[Hashable, ...]
    by: tuple[str, ...]
    weighted: bool
    delayed_entry: bool
    table: pd.DataFrame
    curves: dict[Hashable, KMArrays] = field(repr=False)
    cluster: str | None = None
    n_clusters: int | None = None

    # ------------------------------------------------------------------ tables
    def _group_rows(self) -> list[tuple[Hashable, KMArrays]]:
        return [(g, self.curves[g]) for g in self.groups]

    def at(self, times: Sequence[float] | np.ndarray | float) -> pd.DataFrame:
        """Survival, its interval and cumulative incidence at given times (milestones).

        ``n_at_risk`` is the (weighted) number at risk at each time and ``n_events`` /
        ``n_censored`` count what happened since the previous requested time, as R's
        ``summary(fit, times=, extend=TRUE)`` reports them.

        Examples
        --------
        >>> df = pd.DataFrame({"t": [1, 2, 2, 3, 4], "e": [1, 1, 0, 1, 0]})
        >>> kaplan_meier(df, duration="t", event="e").at([2, 4])["estimate"].round(3).tolist()
        [0.6, 0.3]
        """
        grid = np.sort(np.atleast_1d(np.asarray(times, dtype="float64")))
        if np.isnan(grid).any() or (grid < 0).any():
            raise EstimationError("times must be non-negative numbers")
        frames = []
        for g, c in self._group_rows():
            idx = step_index(c.time, grid)
            valid = idx >= 0
            pick = np.maximum(idx, 0)
            surv = np.where(valid, c.surv[pick], 1.0)
            se_log = np.where(valid, c.std_err[pick], 0.0)
            lower, upper = confidence_limits(surv, se_log, self.conf_type, self.alpha)
            # Before the first exit time the interval is [1, 1], as R's summary.survfit.
            lower, upper = np.where(valid, lower, 1.0), np.where(valid, upper, 1.0)
            # At risk at t: that of the first exit time at or after t (0 beyond the last).
            nxt = np.searchsorted(c.time, grid, side="left")
            n_risk = np.where(nxt < len(c.time), c.n_risk[np.minimum(nxt, len(c.time) - 1)], 0)
            cum_ev = np.concatenate([[0.0], np.cumsum(c.n_event)])[idx + 1]
            cum_ce = np.concatenate([[0.0], np.cumsum(c.n_censor)])[idx + 1]
            frames.append(
                pd.DataFrame(
                    {
                        "group": [g] * len(grid),
                        "time": grid,
                        "n_at_risk": n_risk,
                        "n_events": np.diff(np.concatenate([[0.0], cum_ev])),
                        "n_censored": np.diff(np.concatenate([[0.0], cum_ce])),
                        "estimate": surv,
                        "se": _se_of_s(surv, se_log),
                        "ci_lower": lower,
                        "ci_upper": upper,
                        "cumulative_incidence": 1 - surv,
                        "cumhaz": np.where(valid, c.cumhaz[pick], 0.0),
                        "se_cumhaz": np.where(valid, c.std_chaz[pick], 0.0),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def survival_table(self) -> pd.DataFrame:
        """S(t) with its interval at every distinct exit time, by group (``table``)."""
        return self.table.copy()

    def incidence_table(self) -> pd.DataFrame:
        """Cumulative incidence 1 − S(t) with its interval (limits swapped and reflected)."""
        out = self.table[["group", "time", "n_at_risk", "n_events", "n_censored"]].copy()
        out["estimate"] = 1 - self.table["estimate"]
        out["se"] = self.table["se"]
        out["ci_lower"] = 1 - self.table["ci_upper"]
        out["ci_upper"] = 1 - self.table["ci_lower"]
        return out

    def hazard_table(self) -> pd.DataFrame:
        """Nelson–Aalen cumulative hazard H(t) with a log-scale interval, by group."""
        from evaluation.survival._km_core import z_value

        out = self.table[["group", "time", "n_at_risk", "n_events", "n_censored"]].copy()
        h = self.table["cumhaz"].to_numpy()
        se = self.table["se_cumhaz"].to_numpy()
        z = z_value(self.alpha)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.exp(z * se / h)
        out["estimate"] = h
        out["se"] = se
        out["ci_lower"] = np.where(h > 0, h / factor, 0.0)
        out["ci_upper"] = np.where(h > 0, h * factor, 0.0)
        return out

    def quantile(self, q: float | Sequence[float] = 0.5) -> pd.DataFrame:
        """Time by which a share ``q`` has had the event, with R's confidence limits.

        The limits are where the pointwise confidence band crosses the level (Brookmeyer
        and Crowley's construction as R's ``quantile.survfit`` implements it). NaN where the
        curve or band never reaches the level.

        References
        ----------
        Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
        *Biometrics* 38:29–41.
        """
        probs = np.atleast_1d(np.asarray(q, dtype="float64"))
        if ((probs < 0) | (probs > 1)).any():
            raise EstimationError("quantile probabilities must lie in [0, 1]")
        rows = []
        for g, c in self._group_rows():
            lower, upper = confidence_limits(c.surv, c.std_err, self.conf_type, self.alpha)
            est = find_quantile(c.time, c.surv, probs)
            lo = find_quantile(c.time, lower, probs)
            hi = find_quantile(c.time, upper, probs)
            for k, p in enumerate(probs):
                rows.append(
                    {"group": g, "q": p, "estimate": est[k], "ci_lower": lo[k], "ci_upper": hi[k]}
                )
        return pd.DataFrame(rows)

    def median(self) -> pd.DataFrame:
        """Median time to event by group, with confidence limits (see :meth:`quantile`)."""
        return self.quantile(0.5)

    def risk_table(self, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """Number of persons at risk at each time, and events and censorings since the last.

        Counts are persons (unweighted, so that disclosure control applies to real people):
        ``n_at_risk`` at ``t`` counts those under observation at t (entry <= t <= exit, so
        that everyone counts at time 0); ``n_events`` and ``n_censored``
        count exits in (previous time, t] (the first interval starts at -inf), so that over
        the ticks the counts add up to the totals.
        """
        grid = np.sort(np.atleast_1d(np.asarray(times, dtype="float64")))
        frames = []
        for g, c in self._group_rows():
            persons = c.persons_event + c.persons_censor
            exited_before = np.concatenate([[0.0], np.cumsum(persons)])
            below = np.searchsorted(c.time, grid, side="left")  # exits strictly before t
            at_risk = persons.sum() - exited_before[below]
            if c.entry_sorted is not None:
                at_risk = at_risk - (
                    len(c.entry_sorted) - np.searchsorted(c.entry_sorted, grid, side="right")
                )
            idx = step_index(c.time, grid) + 1
            cum_ev = np.concatenate([[0.0], np.cumsum(c.persons_event)])[idx]
            cum_ce = np.concatenate([[0.0], np.cumsum(c.persons_censor)])[idx]
            frames.append(
                pd.DataFrame(
                    {
                        "group": [g] * len(grid),
                        "time": grid,
                        "n_at_risk": at_risk.astype("int64"),
                        "n_events": np.diff(np.concatenate([[0.0], cum_ev])).astype("int64"),
                        "n_censored": np.diff(np.concatenate([[0.0], cum_ce])).astype("int64"),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """One row per group: persons, events, median with limits (tidy).

        The column ``quantity`` names what ``estimate`` holds (``"median"``, in the
        duration's unit): ``statistic`` is kept for test statistics, as in the other
        result tables.
        """
        med = self.median().set_index("group")
        rows = []
        for g, c in self._group_rows():
            rows.append(
                {
                    "group": g,
                    "n_at_risk": float(c.n_risk.max()) if len(c.n_risk) else 0.0,
                    "n_events": float(c.n_event.sum()),
                    "n_censored": float(c.n_censor.sum()),
                    "estimate": med.at[g, "estimate"],
                    "ci_lower": med.at[g, "ci_lower"],
                    "ci_upper": med.at[g, "ci_upper"],
                }
            )
        out = pd.DataFrame(rows)
        out.insert(1, "quantity", "median")
        return out

    # ------------------------------------------------------------------ figure
    def plot_data(self) -> pd.DataFrame:
        """The step curves as drawn, long form: one row per group and time, from time 0.

        Returns
        -------
        DataFrame
            ``group, time, estimate, ci_lower, ci_upper`` (survival scale, the band set to
            the estimate where R leaves it undefined, S = 1), ``censored`` (persons
            censored at that time, for the marks) and ``incidence`` (1 − S, what
            ``kind="incidence"`` draws). The risk table's masked counts are
            :meth:`risk_table` (see ``graphics.survival.risk_table_cells``).
        """
        frames = []
        for g, c in self._group_rows():
            lower, upper = confidence_limits(c.surv, c.std_err, self.conf_type, self.alpha)
            lower = np.where(np.isnan(lower), c.surv, lower)
            upper = np.where(np.isnan(upper), c.surv, upper)
            frames.append(
                pd.DataFrame(
                    {
                        "group": [g] * (len(c.time) + 1),
                        "time": np.concatenate([[0.0], c.time]),
                        "estimate": np.concatenate([[1.0], c.surv]),
                        "ci_lower": np.concatenate([[1.0], lower]),
                        "ci_upper": np.concatenate([[1.0], upper]),
                        "censored": np.concatenate([[0], c.persons_censor]).astype("int64"),
                    }
                )
            )
        out = pd.concat(frames, ignore_index=True)
        out["incidence"] = 1 - out["estimate"]
        return out

    def plot(
        self,
        ax: Axes | None = None,
        *,
        kind: str = "incidence",
        time_unit: str = "days",
        risk_table: bool = True,
        ci: bool = True,
        censor_marks: bool = True,
        min_cell: int = DEFAULT_MIN_CELL,
        lang: str | None = None,
        xticks: Sequence[float] | None = None,
        ylabel: str | None = None,
    ) -> Axes:
        """Step curves with censoring marks, bands and a number-at-risk table below.

        ``kind="incidence"`` shows 1 − S(t) ("Andel som återfallit"), ``"survival"`` S(t);
        ``time_unit`` is ``"days"``, ``"months"`` or ``"years"`` (durations in days);
        risk-table counts from 1 to ``min_cell - 1`` are shown as ``..`` (as in the tables),
        others with the language's thousands separator; labels in ``lang`` (the active
        theme's by default); ``xticks`` in ``time_unit``, the axis ending at the last. See
        :func:`evaluation.presentation.graphics.survival.plot_curves`. Returns the Axes.
        """
        from evaluation.presentation.graphics.survival import plot_curves

        # Every keyword as given: the signature above is the documented one.
        options = {k: v for k, v in locals().items() if k not in ("self", "plot_curves")}
        return plot_curves(self, **options)

    def _repr_html_(self) -> str:
        notes = [
            f"Kaplan–Meier, {self.conf_type} intervals at {100 * (1 - self.alpha):g} %, "
            f"{self.variance} variance"
            + (f" clustered by {self.cluster} ({self.n_clusters})" if self.cluster else "")
            + f"; n = {self.n}"
        ]
        return html_repr("Kaplan–Meier curves", self.summary(), notes=notes)


def kaplan_meier(
    data: pd.DataFrame,
    *,
    duration: str,
    event: str,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    entry: str | None = None,
    conf_type: str = "log-log",
    alpha: float = 0.05,
    variance: str | None = None,
    event_codes: Sequence[int] = DEFAULT_EVENT_CODES,
    cluster: str | None = None,
    timefix: bool = True,
) -> SurvivalCurves:
    """Kaplan–Meier survival curves, by group, with weights and delayed entry.

    Parameters
    ----------
    data : DataFrame
        One row per person (or episode).
    duration : str
        Column of exit times (for example ``duration_days``), >= 0.
    event : str
        Column of event codes. Codes in ``event_codes`` are events; 0 and every other code
        censor. With the default ``event_codes=(1,)`` a relapse cohort (1 relapse, 2 death,
        3 emigration) gives the curve of relapse with death and emigration as censoring.
    by : str or list of str, optional
        Column(s) defining the groups; one curve per group, in sorted (categorical) order.
    weights : str, optional
        Column of positive case weights.
    entry : str, optional
        Column of entry times (delayed entry, left truncation): a person is at risk at
        ``t`` when ``entry < t <= duration``.
    conf_type : {"log-log", "log", "plain"}
        Pointwise interval for S(t): on log(−log S) (default, as Stata and Brå-style
        reports), on log S (R's default) or on S itself (clipped to [0, 1]).
    alpha : float
        1 − confidence level.
    variance : {"greenwood", "robust"}, optional
        Default ``"greenwood"``, or ``"robust"`` when ``cluster`` is given.
        ``"greenwood"``: Greenwood's formula with weighted counts, as R's
        ``survfit(robust=FALSE)``; right without weights or with frequency weights.
        ``"robust"``: the infinitesimal-jackknife (sandwich) variance of R's
        ``survfit(robust=TRUE)``; use it with sampling or inverse-probability weights.
    event_codes : sequence of int
        The codes counted as events (default ``(1,)``).
    cluster : str, optional
        Column identifying persons when a person has several rows: repeated entries
        (every Brå entry event of a person) or counting-process rows ``(entry, duration]``
        (R's ``id``). The variance is then the infinitesimal jackknife with each person's
        influence summed over their rows (cluster-robust), as R's ``survfit(..., id = id,
        robust = TRUE)``; it implies ``variance="robust"`` (Greenwood's formula treats the
        rows of one person as independent and understates the uncertainty).
    timefix : bool
        Merge exit and entry times that differ only by floating-point rounding into one
        time (R's ``survfit(timefix = TRUE)``, the default there too; the rule of R's
        ``aeqSurv``: neighbours closer than about 1.5e-8, absolutely or relative to the
        mean time, become the smaller). Durations in whole days are never changed.

    Returns
    -------
    SurvivalCurves

    Raises
    ------
    EstimationError
        Missing columns, missing or negative values, entry not before exit, bad options.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 2, 3, 4], "e": [1, 1, 0, 1, 0]})
    >>> km = kaplan_meier(df, duration="t", event="e")
    >>> km.table["estimate"].round(3).tolist()
    [0.8, 0.6, 0.3, 0.3]
    >>> float(km.median()["estimate"].iloc[0])
    3.0

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
    *JASA* 53:457–481. Therneau TM (2024). *survival: A Package for Survival Analysis in R*
    (``survfit``, ``survfit_confint``, ``quantile.survfit``, ``aeqSurv``; the robust
    variance of ``survfit.formula`` with ``id``, vignette "The survfit function", sec. on
    robust variance). Lin DY, Wei LJ (1989). The robust inference for the Cox proportional
    hazards model. *JASA* 84:1074–1078 (the grouped jackknife sandwich).
    """
    check_choice(conf_type, CONF_TYPES, "conf_type")
    if variance is None:
        variance = "greenwood" if cluster is None else "robust"
    check_choice(variance, VARIANCES, "variance")
    alpha = check_alpha(alpha)
    prep = prepare(
        data,
        duration=duration,
        event=event,
        by=by,
        weights=weights,
        entry=entry,
        event_codes=event_codes,
        timefix=timefix,
    )
    cluster_codes = None
    if cluster is not None:
        if variance != "robust":
            raise EstimationError(
                f"cluster={cluster!r} gives a cluster-robust variance: variance must be "
                f"'robust', not {variance!r}"
            )
        cluster_codes = group_codes(data, cluster, "cluster").codes
    curves: dict[Hashable, KMArrays] = {}
    if len(prep.groups) == 1:
        parts = [np.arange(len(prep.time))]
    else:
        order = np.argsort(prep.group_index, kind="stable")
        bounds = np.searchsorted(prep.group_index[order], np.arange(len(prep.groups) + 1))
        parts = [order[bounds[k] : bounds[k + 1]] for k in range(len(prep.groups))]
    frames = []
    for g, rows in zip(prep.groups, parts, strict=True):
        one = len(parts) == 1
        c = km_arrays(
            prep.time if one else prep.time[rows],
            prep.event if one else prep.event[rows],
            prep.weight if one else prep.weight[rows],
            None if prep.entry is None else (prep.entry if one else prep.entry[rows]),
            variance=variance,
            cluster=None if cluster_codes is None else cluster_codes[rows],
        )
        curves[g] = c
        lower, upper = confidence_limits(c.surv, c.std_err, conf_type, alpha)
        frames.append(
            pd.DataFrame(
                {
                    "group": pd.Series([g]).repeat(len(c.time)).to_numpy(),
                    "time": c.time,
                    "n_at_risk": c.n_risk,
                    "n_events": c.n_event,
                    "n_censored": c.n_censor,
                    "estimate": c.surv,
                    "se": _se_of_s(c.surv, c.std_err),
                    "ci_lower": lower,
                    "ci_upper": upper,
                    "se_log": c.std_err,
                    "cumhaz": c.cumhaz,
                    "se_cumhaz": c.std_chaz,
                }
            )
        )
    table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    by_names = () if by is None else ((by,) if isinstance(by, str) else tuple(by))
    return SurvivalCurves(
        n=len(prep.time),
        events=float(np.sum(prep.event * prep.weight)),
        alpha=alpha,
        method="kaplan-meier",
        conf_type=conf_type,
        variance=variance,
        groups=tuple(prep.groups),
        by=by_names,
        weighted=prep.weighted,
        delayed_entry=prep.entry is not None,
        table=table,
        curves=curves,
        cluster=cluster,
        n_clusters=None if cluster_codes is None else int(cluster_codes.max()) + 1,
    )
