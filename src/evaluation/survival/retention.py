"""Retention measures: how programme episodes end, by competing endings over time.

The estimator half of retention: :func:`evaluation.cohorts.retention_cohort` builds the
episodes, this module estimates how many are still in, completed, dropped out, moved or
died by each month, with the Aalen–Johansen estimator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._results import html_repr
from evaluation.cohorts.retention import DAYS_PER_MONTH, RETENTION_CODES
from evaluation.survival.competing import cumulative_incidence

if TYPE_CHECKING:
    from evaluation.cohorts import Cohort

__all__ = ["RetentionMeasures", "retention_measures"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionMeasures:
    """Retention measures of a retention cohort.

    Attributes
    ----------
    table
        Tidy: ``group``, ``months``, ``time`` (days), ``measure`` (``still_in``,
        ``completed``, ``dropped_out``, ``moved``, ``died``), ``cause`` (0 for still in),
        ``n_at_risk``, ``estimate``, ``se``, ``ci_lower``, ``ci_upper``. ``still_in`` is the
        share still in the programme (event-free survival), the others the Aalen–Johansen
        cumulative incidence of each way an episode ends.
    dropout_days
        ``group``, ``n_dropped_out`` and ``median_days``, ``q25_days``, ``q75_days``: time
        to dropout among those who dropped out.
    n, by, alpha
        Episodes, the grouping columns and the interval level.
    """

    table: pd.DataFrame
    dropout_days: pd.DataFrame
    n: int
    by: tuple[str, ...]
    alpha: float
    method: str = "Aalen-Johansen"

    def summary(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        return html_repr(f"Retention measures ({self.n} episodes)", self.table)


def retention_measures(
    cohort: Cohort,
    *,
    months: Sequence[float] = (3, 6, 12, 24),
    by: str | Sequence[str] | None = None,
    alpha: float = 0.05,
) -> RetentionMeasures:
    """Share still in the programme and cumulative incidence of each ending at ``months``.

    Parameters
    ----------
    cohort
        A retention cohort (:func:`retention_cohort`).
    months
        Times in months (a month is 365.25 / 12 days).
    by
        Optional grouping column(s), e.g. ``"municipality"``, ``"referral"``,
        ``"age_group"``, ``"prior_group"``.
    alpha
        1 - confidence level.

    Returns
    -------
    RetentionMeasures

    Notes
    -----
    Completion, dropout, moving and death compete: each is estimated with the
    Aalen–Johansen estimator (:func:`evaluation.survival.cumulative_incidence`), never as
    one minus a Kaplan–Meier curve that censors the other endings.

    References
    ----------
    Aalen, O. O. and Johansen, S. (1978). An empirical transition matrix for
    non-homogeneous Markov chains based on censored observations. *Scandinavian Journal
    of Statistics*, 5(3), 141–150.
    """
    data = cohort.data
    by_cols: tuple[str, ...] = () if by is None else ((by,) if isinstance(by, str) else tuple(by))
    frame = data[["duration_days", "event", *by_cols]].copy()
    for c in by_cols:
        frame[c] = frame[c].astype("string").fillna("<NA>").astype(str)
    ci = cumulative_incidence(
        frame, duration="duration_days", event="event", by=list(by_cols) or None, alpha=alpha
    )
    mo = np.asarray(months, dtype=np.float64)
    at = ci.at(mo * DAYS_PER_MONTH)
    names = {0: "still_in", **{v: k for k, v in RETENTION_CODES.items() if v}}
    at["measure"] = at["cause"].map(names)
    at["months"] = (at["time"] / DAYS_PER_MONTH).round(6)
    cols = [
        "group",
        "months",
        "time",
        "measure",
        "cause",
        "n_at_risk",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
    ]
    table = at[cols].reset_index(drop=True)

    drop = data[data["event"] == 2]
    if by_cols:
        keys = [drop[c].astype("string").fillna("<NA>").astype(str) for c in by_cols]
        grouped = drop.groupby(keys if len(keys) > 1 else keys[0])["duration_days"]
    else:
        grouped = drop.assign(_g="all").groupby("_g")["duration_days"]
    days = grouped.agg(
        n_dropped_out="size",
        median_days="median",
        q25_days=lambda x: x.quantile(0.25),
        q75_days=lambda x: x.quantile(0.75),
    ).reset_index()
    days = days.rename(columns={days.columns[0]: "group"}) if len(by_cols) <= 1 else days
    return RetentionMeasures(
        table=table, dropout_days=days, n=len(data), by=by_cols, alpha=float(alpha)
    )
