"""Case-mix adjustment by indirect standardisation: observed, expected and O/E per site.

One model of relapse is fitted on every municipality together, without a term for the
municipality; each municipality's *expected* count is the sum of its persons' predicted
risks (logistic model of a Brå window flag) or cumulative hazards at their own follow-up
(Cox model of time to relapse). Observed over expected (O/E) says whether a municipality
has more or fewer relapses than its intake predicts; times the overall share it is the
risk-adjusted share.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._input import (
    check_alpha,
    counted,
    event_codes_column,
    no_missing,
    numeric_column,
    require_columns,
    rows_text,
)
from evaluation._results import html_repr

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from evaluation.cohorts import Cohort
    from evaluation.sites.funnel import FunnelResult

__all__ = [
    "CASE_MIX_COVARIATES",
    "CaseMixResult",
    "case_mix",
    "poisson_ci",
    "poisson_p",
]

#: Covariates at entry that the default case-mix model adjusts for (columns of a relapse
#: cohort): who a municipality takes in, not what it does with them.
CASE_MIX_COVARIATES: tuple[str, ...] = (
    "sex",
    "age",
    "prior_decisions_5y",
    "prior_custody_5y",
    "prior_violence_5y",
    "entry_year",
)


def poisson_ci(observed: np.ndarray | float, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a Poisson mean given the observed count.

    ``chi2(alpha/2, 2 O) / 2`` to ``chi2(1 - alpha/2, 2 O + 2) / 2``, 0 below when O = 0,
    as R's ``poisson.test``; divide by the expected count for an interval for O/E.

    Examples
    --------
    >>> lo, hi = poisson_ci(10.0)
    >>> round(float(lo), 4), round(float(hi), 4)
    (4.7954, 18.3904)
    """
    o = np.asarray(observed, dtype=float)
    lo = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def poisson_p(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Two-sided exact Poisson p-value of O given mean E, as R's ``poisson.test``.

    The sum of the probabilities of all counts no more likely than O (with R's relative
    tolerance ``1 + 1e-7``).
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    out = np.empty(o.size)
    for i, (x, m) in enumerate(zip(o, e, strict=True)):
        d = stats.poisson.pmf(x, m) * (1 + 1e-7)
        if x == m:
            out[i] = 1.0
            continue
        hi = int(max(x, m) * 4 + 50)
        ks = np.arange(hi + 1)
        pk = stats.poisson.pmf(ks, m)
        if x < m:
            p = stats.poisson.cdf(x, m) + np.sum(pk[(ks > m) & (pk <= d)]) + stats.poisson.sf(hi, m)
        else:
            p = stats.poisson.sf(x - 1, m) + np.sum(pk[(ks < m) & (pk <= d)])
        out[i] = min(1.0, p)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseMixResult:
    """Observed and expected relapses per municipality (indirect standardisation).

    Attributes
    ----------
    table
        One row per site: ``group`` (the site), ``n`` (rows used), ``n_persons``,
        ``observed``, ``expected``, ``estimate`` (O/E), ``ci_lower``, ``ci_upper`` (exact
        Poisson interval for O, divided by E), ``p`` (exact Poisson test of O/E = 1),
        ``share`` (raw: O / n), ``adjusted_share`` (O/E × ``overall_share``) with
        ``adjusted_ci_lower``, ``adjusted_ci_upper``.
    model_table
        The case-mix model: ``term, coef, se, ci_lower, ci_upper, z, p`` (cluster-robust
        by person for the logistic model; the Cox model's own variance otherwise).
    overall_share
        Observed events over rows, all sites together.
    model, outcome, site, covariates, alpha, n, n_excluded
        How it was computed; ``n_excluded`` rows had no measured outcome (a Brå window not
        yet closed) and are not used.
    """

    table: pd.DataFrame
    model_table: pd.DataFrame
    overall_share: float
    model: str
    outcome: str
    site: str
    covariates: tuple[str, ...]
    alpha: float
    n: int
    n_excluded: int

    def summary(self) -> pd.DataFrame:
        """The per-site table (see the attribute ``table``)."""
        return self.table.copy()

    def plot_data(self) -> pd.DataFrame:
        """Raw and adjusted share per site, long form.

        Returns
        -------
        DataFrame
            ``group, kind`` (``raw``, ``adjusted``), ``estimate, ci_lower, ci_upper``
            (no interval for ``raw``), ``n``.
        """
        t = self.table
        raw = t.assign(kind="raw", estimate=t["share"], ci_lower=np.nan, ci_upper=np.nan)
        adj = t.assign(
            kind="adjusted",
            estimate=t["adjusted_share"],
            ci_lower=t["adjusted_ci_lower"],
            ci_upper=t["adjusted_ci_upper"],
        )
        cols = ["group", "kind", "estimate", "ci_lower", "ci_upper", "n"]
        return pd.concat([raw[cols], adj[cols]], ignore_index=True)

    def plot(self, ax: Axes | None = None, *, lang: str = "sv") -> Axes:
        """Raw against case-mix-adjusted share per municipality; ``lang`` the labels'
        language.

        Returns
        -------
        Axes
        """
        from evaluation.presentation.graphics.sites import draw_raw_adjusted

        return draw_raw_adjusted(self.plot_data(), ax=ax, overall=self.overall_share, lang=lang)

    def funnel(self, **kwargs: Any) -> FunnelResult:
        """:func:`evaluation.sites.funnel` of this result."""
        from evaluation.sites.funnel import funnel

        return funnel(self, **kwargs)

    def _repr_html_(self) -> str:
        cols = ["group", "n", "observed", "expected", "estimate", "ci_lower", "ci_upper"]
        return html_repr(
            f"Case mix ({self.model}, {self.outcome}): observed / expected by {self.site}",
            self.table[[*cols, "share", "adjusted_share"]],
            notes=[f"Overall share {self.overall_share:.3f}; {self.n_excluded} rows unmeasured."],
        )


def _data(cohort_or_data: Cohort | pd.DataFrame) -> pd.DataFrame:
    if isinstance(cohort_or_data, pd.DataFrame):
        return cohort_or_data
    data = getattr(cohort_or_data, "data", None)
    if not isinstance(data, pd.DataFrame):
        raise EstimationError("case_mix: pass a cohort or a DataFrame")
    return data


def _term(data: pd.DataFrame, col: str) -> str:
    s = data[col]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return f"C(Q('{col}'))"
    return f"Q('{col}')"


def _design_frame(data: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Covariates as plain numpy-backed columns (nullable and categorical types converted)."""
    out = {}
    for col in covariates:
        s = data[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
            out[col] = s.astype(str).to_numpy()
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.astype(bool).astype(str).to_numpy()
        else:
            out[col] = s.astype(float).to_numpy()
    return pd.DataFrame(out, index=data.index)


def case_mix(
    cohort_or_data: Cohort | pd.DataFrame,
    *,
    outcome: str = "relapse_1y",
    covariates: Sequence[str] = CASE_MIX_COVARIATES,
    site: str = "municipality",
    model: Literal["logistic", "cox"] = "logistic",
    duration: str = "duration_days",
    event: str = "event",
    cluster: str = "person_id",
    alpha: float = 0.05,
) -> CaseMixResult:
    """Observed, expected and O/E of relapse per municipality, adjusted for case mix.

    Parameters
    ----------
    cohort_or_data
        A relapse cohort or its DataFrame: one row per entry event.
    outcome
        Logistic model: the window flag (True/False; missing rows, whose window has not
        closed, are left out and counted in ``n_excluded``).
    covariates
        Columns at entry the model adjusts for (non-numeric columns as categories).
    site
        Column of the municipality.
    model
        ``"logistic"`` (expected = sum of predicted risks of ``outcome``) or ``"cox"``
        (time to relapse, ``duration`` and ``event`` with 1 = relapse, Breslow ties,
        cluster-robust by person; expected = sum of each row's cumulative hazard at the
        end of its follow-up, so O - E sums the martingale residuals).
    cluster
        Column of persons: the logistic model's variance is cluster-robust by person
        (a person may enter several times).
    alpha
        1 - confidence level of the O/E intervals.

    Returns
    -------
    CaseMixResult

    Raises
    ------
    EstimationError
        Missing columns, missing covariates or site, an outcome that is not binary, a
        model that cannot be fitted.

    References
    ----------
    Breslow, N. E. and Day, N. E. (1987). *Statistical Methods in Cancer Research II*,
    ch. 2 (indirect standardisation, exact Poisson limits for the SMR). NHS Digital,
    *Summary Hospital-level Mortality Indicator: methodology* (expected deaths from a
    model fitted on all trusts).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> g = np.random.default_rng(1)
    >>> d = pd.DataFrame({"person_id": np.arange(400), "municipality": np.repeat(list("ABCD"), 100),
    ...                   "age": g.normal(30, 5, 400)})
    >>> d["relapse_1y"] = g.random(400) < 1 / (1 + np.exp(-(d.age - 30) / 5))
    >>> cm = case_mix(d, covariates=("age",))
    >>> bool(np.isclose(cm.table.expected.sum(), cm.table.observed.sum()))
    True
    """
    alpha = check_alpha(alpha)
    data = _data(cohort_or_data)
    covariates = tuple(covariates)
    if model not in ("logistic", "cox"):
        raise EstimationError(f"case_mix: model must be 'logistic' or 'cox', got {model!r}")
    roles: dict[str, Any] = {"site": site, "cluster": cluster, "covariate": list(covariates)}
    roles.update(
        {"outcome": outcome} if model == "logistic" else {"duration": duration, "event": event}
    )
    require_columns(data, roles)
    no_missing(data, site, "site")
    for col in covariates:
        no_missing(data, col, "covariate")
    n_excluded = 0
    if model == "logistic":
        flag = data[outcome]
        measured = flag.notna().to_numpy()
        n_excluded = int((~measured).sum())
        data = data[measured]
        values = pd.Series(data[outcome]).to_numpy()
        ok = np.isin(values.astype(object), [True, False, 0, 1, 0.0, 1.0])
        if not ok.all():
            raise EstimationError(
                f"case_mix: outcome column {outcome!r} must hold True/False (or 1/0); "
                f"{counted(int((~ok).sum()), 'row does', 'rows do')} not "
                f"({rows_text(data, ~ok)})"
            )
        y = values.astype(float)
    else:
        numeric_column(data, duration, "duration")
        y = (event_codes_column(data, event) == 1).astype(float)
    if len(data) == 0 or y.sum() == 0:
        raise EstimationError("case_mix: no relapses among the rows used; nothing to compare")

    frame = _design_frame(data, covariates)
    rhs = " + ".join(_term(frame, c) for c in covariates) or "1"
    codes = pd.factorize(data[cluster])[0]
    if model == "logistic":
        expected_i, model_table = _logistic(frame, y, rhs, codes, alpha)
    else:
        expected_i, model_table = _cox(frame, data, duration, y, rhs, cluster, alpha)

    work = pd.DataFrame(
        {
            "group": data[site].astype(str).to_numpy(),
            "observed": y,
            "expected": expected_i,
            "person": data[cluster].to_numpy(),
        }
    )
    g = work.groupby("group", sort=True)
    table = pd.DataFrame(
        {
            "n": g.size(),
            "n_persons": g["person"].nunique(),
            "observed": g["observed"].sum(),
            "expected": g["expected"].sum(),
        }
    ).reset_index()
    table["observed"] = table["observed"].round().astype(np.int64)
    o = table["observed"].to_numpy(dtype=float)
    e = table["expected"].to_numpy(dtype=float)
    lo, hi = poisson_ci(o, alpha)
    overall = float(y.sum() / y.size)
    table["estimate"] = o / e
    table["ci_lower"] = lo / e
    table["ci_upper"] = hi / e
    table["p"] = poisson_p(o, e)
    table["share"] = o / table["n"].to_numpy()
    table["adjusted_share"] = table["estimate"] * overall
    table["adjusted_ci_lower"] = table["ci_lower"] * overall
    table["adjusted_ci_upper"] = table["ci_upper"] * overall
    return CaseMixResult(
        table=table,
        model_table=model_table,
        overall_share=overall,
        model=model,
        outcome=outcome if model == "logistic" else event,
        site=site,
        covariates=covariates,
        alpha=alpha,
        n=int(y.size),
        n_excluded=n_excluded,
    )


def _logistic(
    frame: pd.DataFrame, y: np.ndarray, rhs: str, codes: np.ndarray, alpha: float
) -> tuple[np.ndarray, pd.DataFrame]:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    d = frame.assign(_y=y)
    try:
        with warnings.catch_warnings():
            # Perfect prediction is reported below as an error, in the domain's words.
            warnings.simplefilter("ignore")
            fit = smf.glm(f"_y ~ {rhs}", data=d, family=sm.families.Binomial()).fit(
                cov_type="cluster", cov_kwds={"groups": codes}
            )
    except Exception as exc:  # statsmodels raises several types for a singular design
        raise EstimationError(
            f"case_mix: the logistic case-mix model cannot be fitted ({exc})"
        ) from exc
    ci = fit.conf_int(alpha)
    table = pd.DataFrame(
        {
            "term": fit.params.index,
            "coef": fit.params.to_numpy(),
            "se": fit.bse.to_numpy(),
            "ci_lower": ci[0].to_numpy(),
            "ci_upper": ci[1].to_numpy(),
            "z": fit.tvalues.to_numpy(),
            "p": fit.pvalues.to_numpy(),
        }
    )
    return np.asarray(fit.fittedvalues, dtype=float), table


def _cox(
    frame: pd.DataFrame,
    data: pd.DataFrame,
    duration: str,
    y: np.ndarray,
    rhs: str,
    cluster: str,
    alpha: float,
) -> tuple[np.ndarray, pd.DataFrame]:
    from evaluation.survival import cox

    d = frame.assign(
        _t=data[duration].to_numpy(dtype=float), _e=y.astype(int), _c=data[cluster].to_numpy()
    )
    # Breslow ties: each row's cumulative hazard at its own time is then exactly event minus
    # its martingale residual, so the expected counts add up to the observed total.
    fit = cox(
        d, rhs, duration="_t", event="_e", cluster="_c", robust=True, ties="breslow", alpha=alpha
    )
    # H_i = H0(t_i) exp(eta_i), from public methods: exp(eta_i) from the predicted survival
    # at the last event time (centred as the baseline is), H0 at each row's own time.
    base = fit.baseline_hazard()
    t_last = float(base["time"].iloc[-1])
    h_last = float(base["estimate"].iloc[-1])
    s_last = fit.predict_survival(d, times=[t_last]).to_numpy()[0]
    risk = -np.log(s_last) / h_last
    pos = np.searchsorted(base["time"].to_numpy(), d["_t"].to_numpy(), side="right") - 1
    h0 = np.where(pos >= 0, base["estimate"].to_numpy()[np.maximum(pos, 0)], 0.0)
    s = fit.summary()
    # The robust (cluster) SE is the one the interval and test use (R's coxph with cluster).
    table = s[["term", "coef", "robust_se", "ci_lower", "ci_upper", "z", "p"]].rename(
        columns={"robust_se": "se"}
    )
    table["ci_lower"] = np.log(table["ci_lower"])
    table["ci_upper"] = np.log(table["ci_upper"])
    return h0 * risk, table.reset_index(drop=True)
