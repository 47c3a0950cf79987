"""Covariate balance before and after weighting or matching: SMDs, variance ratios, love plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import EstimationError
from evaluation._input import no_missing, require_columns, treatment_column, weights_values
from evaluation._results import html_repr
from evaluation.effects.matching import MatchResult
from evaluation.effects.propensity import PropensityResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["BalanceResult", "balance", "covariate_matrix"]


def covariate_matrix(data: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric columns as they are, booleans as 0/1, categories as one 0/1 column per level
    (``municipality=Botkyrka``), as cobalt expands factors. Missing values are an error."""
    require_columns(data, {"covariate": list(covariates)})
    parts: list[pd.DataFrame] = []
    for c in covariates:
        no_missing(data, c, "covariate")
        col = data[c]
        if col.dtype == bool:
            parts.append(col.astype(np.float64).to_frame(c))
        elif pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype):
            parts.append(col.astype(np.float64).to_frame(c))
        else:
            cat = col.astype("category")
            levels = [lv for lv in cat.cat.categories if (cat == lv).any()]
            parts.append(
                pd.DataFrame(
                    {f"{c}={lv}": (cat == lv).to_numpy(dtype=np.float64) for lv in levels},
                    index=data.index,
                )
            )
    return pd.concat(parts, axis=1)


def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means and unbiased (reliability-weight) variances of the columns of ``x``."""
    sw = w.sum()
    m = (w[:, None] * x).sum(axis=0) / sw
    ss = (w[:, None] * (x - m) ** 2).sum(axis=0) / sw
    denom = 1.0 - (w**2).sum() / sw**2
    return m, ss / denom if denom > 0 else np.full_like(m, np.nan)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceResult:
    """Balance table: one row per covariate (factor levels as separate rows).

    Columns: ``covariate, mean_participants, mean_comparisons, mean_comparisons_adjusted,
    smd_before, smd_after, vr_before, vr_after``. The SMD divides the difference in
    (weighted) means by the pooled standard deviation of the unweighted groups,
    sqrt((s1^2 + s0^2) / 2), the same denominator before and after so that the two are
    comparable (cobalt's ``s.d.denom = "pooled"``). Variance ratios are participants over
    comparisons, for non-binary covariates only.
    """

    n: int
    n_treated: int
    adjustment: str
    threshold: float
    table: pd.DataFrame
    scores_source: PropensityResult | MatchResult | None = None

    @property
    def max_abs_smd(self) -> float:
        """The largest absolute SMD after adjustment."""
        return float(np.nanmax(np.abs(self.table["smd_after"])))

    @property
    def balanced(self) -> bool:
        """Whether every covariate's absolute SMD after adjustment is below the threshold."""
        return self.max_abs_smd < self.threshold

    def summary(self) -> pd.DataFrame:
        """The balance table."""
        return self.table.copy()

    def plot_data(self) -> pd.DataFrame:
        """The numbers behind :meth:`plot`, long form.

        Returns
        -------
        DataFrame
            One row per covariate and ``adjustment`` (``"unadjusted"``, ``"adjusted"``):
            ``covariate, adjustment, smd, abs_smd``.
        """
        from evaluation.presentation.graphics.effects import balance_data

        return balance_data(self.table)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Love plot of :meth:`plot_data`: |SMD| before (open) and after (filled), threshold."""
        from evaluation.presentation.graphics.effects import love_plot

        return love_plot(self.plot_data(), ax=ax, threshold=self.threshold)

    def plot_overlap(
        self, ax: Axes | None = None, *, bins: int = 40, min_cell: int = DEFAULT_MIN_CELL
    ) -> Axes:
        """Propensity-score overlap of the adjustment's scores (weighted or matched)."""
        if self.scores_source is None:
            raise EstimationError("overlap needs propensity scores: pass weights= a result")
        return self.scores_source.plot_overlap(ax, bins=bins, min_cell=min_cell)

    def _repr_html_(self) -> str:
        return html_repr(
            f"Covariate balance ({self.adjustment})",
            self.table,
            notes=[f"largest |SMD| after adjustment {self.max_abs_smd:.3f}"],
        )


def balance(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    treatment: str,
    weights: str | np.ndarray | pd.Series | PropensityResult | MatchResult | None = None,
    threshold: float = 0.1,
) -> BalanceResult:
    """Standardised mean differences and variance ratios before and after adjustment.

    Parameters
    ----------
    data
        One row per person (or person-trial).
    covariates
        Columns to check; categorical columns are split into one row per level.
    treatment
        The 0/1 column, 1 for participants.
    weights
        A weight column or array, a ``PropensityResult`` (its weights) or a ``MatchResult``
        (its matching weights); None shows only the unadjusted balance.
    threshold
        The |SMD| regarded as balanced (0.1, Austin 2009).

    Returns
    -------
    BalanceResult

    References
    ----------
    Austin PC (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. Statistics
    in Medicine 28:3083-3107.
    Greifer N (2024). cobalt: Covariate Balance Tables and Plots. R package.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 1, 0, 0], "age": [20.0, 30.0, 20.0, 40.0]})
    >>> b = balance(df, ["age"], treatment="t", weights=np.array([1.0, 1.0, 1.0, 0.5]))
    >>> round(float(b.table.smd_before.iloc[0]), 3), round(float(b.table.smd_after.iloc[0]), 3)
    (-0.447, -0.149)
    """
    t = treatment_column(data, treatment)
    source: PropensityResult | MatchResult | None = None
    if isinstance(weights, PropensityResult | MatchResult):
        source = weights
        w = weights.weights.to_numpy(dtype=np.float64)
        adjustment = "weighting" if isinstance(weights, PropensityResult) else "matching"
        if len(w) != len(data):
            raise EstimationError(f"the adjustment has {len(w)} rows, data has {len(data)}")
    else:
        w = weights_values(data, weights)
        adjustment = "unadjusted" if weights is None else "weighting"
    X = covariate_matrix(data, covariates)
    x = X.to_numpy()
    one = np.ones(len(t))
    m1, v1 = _wmean_var(x[t == 1], one[t == 1])
    m0, v0 = _wmean_var(x[t == 0], one[t == 0])
    m1a, v1a = _wmean_var(x[t == 1], w[t == 1])
    m0a, v0a = _wmean_var(x[t == 0], w[t == 0])
    sd = np.sqrt((v1 + v0) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        smd_b = np.where(sd > 0, (m1 - m0) / sd, 0.0)
        smd_a = np.where(sd > 0, (m1a - m0a) / sd, 0.0)
        binary = np.all((x == 0) | (x == 1), axis=0)
        vr_b = np.where(binary, np.nan, v1 / v0)
        vr_a = np.where(binary, np.nan, v1a / v0a)
    table = pd.DataFrame(
        {
            "covariate": X.columns,
            "mean_participants": m1a,
            "mean_comparisons": m0,
            "mean_comparisons_adjusted": m0a,
            "smd_before": smd_b,
            "smd_after": smd_a,
            "vr_before": vr_b,
            "vr_after": vr_a,
        }
    )
    return BalanceResult(
        n=len(data),
        n_treated=int(t.sum()),
        adjustment=adjustment,
        threshold=threshold,
        table=table,
        scores_source=source,
    )
