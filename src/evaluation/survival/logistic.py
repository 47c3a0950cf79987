"""Logistic regression of relapse within a fixed window, as Brå's 2012 recidivism report.

Brå reports the share who relapse within one, two or three years; a logistic regression of
that window flag sets those shares beside the hazard models. People whose window (plus the
court buffer) passes the extraction date have a missing flag: they are left out and counted
in the result, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from evaluation._errors import EstimationError
from evaluation._input import check_alpha, counted, group_codes, require_columns, rows_text
from evaluation._results import html_repr, ratio_table
from evaluation.survival._design import design

__all__ = ["WindowLogisticResult", "window_logistic"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowLogisticResult:
    """A fitted window logistic regression (see :func:`window_logistic`).

    Attributes
    ----------
    n : int
        Rows used (flag observed).
    n_missing : int
        Rows left out because the window flag is missing (window not fully observed).
    events : int
        Rows with a relapse within the window.
    """

    n: int
    n_missing: int
    events: int
    alpha: float
    method: str
    window_flag: str
    formula: str
    terms: tuple[str, ...]
    coef: np.ndarray
    cov: np.ndarray
    naive_cov: np.ndarray
    cluster: str | None
    n_clusters: int | None
    loglik: float

    def summary(self) -> pd.DataFrame:
        """``term, coef, se, or, ci_lower, ci_upper, z, p`` (``robust_se`` with clusters).

        ``or`` is the odds ratio ``exp(coef)``; the interval, ``z`` and ``p`` use the
        cluster-robust standard error when ``cluster`` was given.
        """
        use = np.sqrt(np.diag(self.cov))
        table = ratio_table(self.terms, self.coef, use, alpha=self.alpha, ratio="or")
        table["se"] = np.sqrt(np.diag(self.naive_cov))
        if self.cluster is not None:
            table.insert(3, "robust_se", use)
        return table

    def _repr_html_(self) -> str:
        note = (
            f"{self.window_flag}: n = {self.n} ({self.n_missing} left out: window not fully "
            f"observed), relapses = {self.events}"
        )
        return html_repr(
            "Logistic regression of relapse within the window", self.summary(), notes=[note]
        )


def _flag(data: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The window flag as 0/1 and the mask of rows where it is observed."""
    series = data[column]
    observed = series.notna().to_numpy()
    values = series[observed]
    if pd.api.types.is_bool_dtype(values) or values.map(type).eq(bool).all():
        y = values.astype(bool).to_numpy(dtype=float)
    elif pd.api.types.is_numeric_dtype(values):
        y = values.to_numpy(dtype=float)
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            mask = np.zeros(len(data), bool)
            mask[np.flatnonzero(observed)[bad]] = True
            raise EstimationError(
                f"window flag column {column!r} must be True/False (or 1/0) where observed; "
                f"it has {counted(int(bad.sum()), 'other value')} ({rows_text(data, mask)})"
            )
    else:
        raise EstimationError(
            f"window flag column {column!r} must be True/False, not {series.dtype}"
        )
    return y, observed


def window_logistic(
    data: pd.DataFrame,
    formula: str,
    *,
    window_flag: str = "relapse_1y",
    cluster: str | None = None,
    alpha: float = 0.05,
) -> WindowLogisticResult:
    """Logistic regression of relapse within a fixed follow-up window.

    Parameters
    ----------
    data : DataFrame
        A cohort table with the window flag column (True, False, or missing where the
        window plus buffer passes the extraction date).
    formula : str
        Right-hand side in patsy syntax (``"sex + C(age_group)"``); an intercept is added.
    window_flag : str
        The flag column, e.g. ``relapse_1y``, ``relapse_2y``, ``relapse_3y``.
    cluster : str, optional
        Cluster column (e.g. municipality) for cluster-robust standard errors (statsmodels'
        cluster sandwich with the small-sample factor, equal to R's
        ``sandwich::vcovCL(type = "HC1")``).
    alpha : float
        Intervals are ``1 - alpha``.

    Returns
    -------
    WindowLogisticResult
        Odds ratios with intervals; ``n_missing`` rows with a missing flag left out.

    Raises
    ------
    EstimationError
        Missing columns, a flag that is not True/False, missing covariates, or no rows
        with an observed flag.

    References
    ----------
    Brå (2012). Återfall i brott. Stockholm: Brottsförebyggande rådet.
    Hosmer DW, Lemeshow S, Sturdivant RX (2013). Applied Logistic Regression, 3rd ed. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"relapse_1y": [True, False, None, True, False, True, False, False],
    ...                    "x": [1, 0, 1, 1, 0, 0, 1, 0]})
    >>> res = window_logistic(df, "x")
    >>> res.n, res.n_missing
    (7, 1)
    """
    alpha = check_alpha(alpha)
    require_columns(data, {"window flag": window_flag, "cluster": cluster})
    y, observed = _flag(data, window_flag)
    if not observed.any():
        raise EstimationError(f"column {window_flag!r} is missing in every row")
    used = data.loc[observed]
    dm = design(used, formula, intercept=True)
    model = sm.GLM(y, dm.matrix, family=sm.families.Binomial())
    naive_fit = model.fit(tol=1e-12, maxiter=100)
    n_clusters = None
    cov = np.asarray(naive_fit.cov_params())
    if cluster is not None:
        groups = group_codes(used, cluster, "cluster")
        codes, n_clusters = groups.codes.astype(np.int64), len(groups)
        robust_fit = model.fit(
            cov_type="cluster", cov_kwds={"groups": codes}, tol=1e-12, maxiter=100
        )
        cov = np.asarray(robust_fit.cov_params())
    return WindowLogisticResult(
        n=int(observed.sum()),
        n_missing=int((~observed).sum()),
        events=int(y.sum()),
        alpha=float(alpha),
        method="logistic",
        window_flag=window_flag,
        formula=formula,
        terms=dm.columns,
        coef=np.asarray(naive_fit.params),
        cov=cov,
        naive_cov=np.asarray(naive_fit.cov_params()),
        cluster=cluster,
        n_clusters=n_clusters,
        loglik=float(naive_fit.llf),
    )
