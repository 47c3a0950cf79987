"""Regression for recurrent events: Andersen–Gill and PWP Cox models, and rate models.

- :func:`recurrent_cox_data` prepares counting-process rows for the package's
  :func:`~evaluation.survival.cox` (no second Cox fitter): Andersen–Gill (one baseline,
  every interval at risk, ``cluster`` by person), PWP total time (strata by event number,
  time since entry) and PWP gap time (strata by event number, time since the previous
  event). :func:`recurrent_cox` fits them; R: ``coxph(Surv(start, stop, event) ~ x +
  cluster(id))`` and ``coxph(Surv(...) ~ x + strata(enum) + cluster(id))``.
- :func:`rate_model`: Poisson or negative binomial regression of the number of events on
  covariates with ``offset(log(exposure))`` (time at risk in the community), and a
  cluster-robust variance; R's ``glm(..., family = poisson)`` and ``MASS::glm.nb`` with
  ``sandwich::vcovCL``.

References
----------
Andersen PK, Gill RD (1982). Cox's regression model for counting processes: a large
sample study. Annals of Statistics 10:1100-1120.
Prentice RL, Williams BJ, Peterson AV (1981). On the regression analysis of multivariate
failure time data. Biometrika 68:373-379.
Amorim LD, Cai J (2015). Modelling recurrent events: a tutorial for analysis in
epidemiology. International Journal of Epidemiology 44:324-333.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._input import (
    check_alpha,
    event_codes_column,
    numeric_column,
    require_columns,
)
from evaluation._results import html_repr
from evaluation.survival.cox import CoxResult, cox

__all__ = [
    "RECURRENT_COX_MODELS",
    "RateModelResult",
    "rate_model",
    "recurrent_cox",
    "recurrent_cox_data",
]

RecurrentCoxModel = Literal["andersen-gill", "pwp-total", "pwp-gap"]
RECURRENT_COX_MODELS: tuple[str, ...] = ("andersen-gill", "pwp-total", "pwp-gap")


def recurrent_cox_data(
    data: pd.DataFrame,
    *,
    model: RecurrentCoxModel = "andersen-gill",
    start: str = "start",
    stop: str = "stop",
    event: str = "event",
    id: str = "entry_id",
    enum: str = "enum",
) -> pd.DataFrame:
    """Rows for a recurrent-event Cox model: ``entry``, ``exit`` and ``stratum`` columns.

    Parameters
    ----------
    data
        Counting-process rows ordered by ``id`` and ``start`` (a recurrence cohort).
    model
        ``"andersen-gill"``: ``entry``/``exit`` are ``start``/``stop``, one stratum.
        ``"pwp-total"``: the same times, ``stratum`` the event number ``enum`` (the
        ``k``-th offence is at risk only after the ``k - 1``-th). ``"pwp-gap"``: times
        since the previous event of the process (``start - t_prev``, ``stop - t_prev``),
        strata by ``enum``; a custody gap inside an interval stays a gap.
    start, stop, event, enum
        Columns of the counting-process rows.
    id
        The process: rows of one follow-up (``entry_id``; a person with several entries
        has several processes, clustered by person in the fit).

    Returns
    -------
    DataFrame
        ``data`` with ``entry``, ``exit`` and ``stratum`` added.

    Examples
    --------
    >>> df = pd.DataFrame({"entry_id": [0, 0, 0], "start": [0, 3, 8], "stop": [3, 7, 9],
    ...     "event": [1, 0, 1], "enum": [1, 2, 2]})
    >>> recurrent_cox_data(df, model="pwp-gap")[["entry", "exit", "stratum"]].values.tolist()
    [[0.0, 3.0, 1.0], [0.0, 4.0, 2.0], [5.0, 6.0, 2.0]]
    """
    if model not in RECURRENT_COX_MODELS:
        raise EstimationError(
            f"model must be one of {', '.join(RECURRENT_COX_MODELS)}, not {model!r}"
        )
    require_columns(data, {"start": start, "stop": stop, "event": event, "id": id, "enum": enum})
    out = data.copy()
    t0 = out[start].to_numpy()
    t1 = out[stop].to_numpy()
    out["stratum"] = 1 if model == "andersen-gill" else out[enum].to_numpy()
    if model == "pwp-gap":
        ev = event_codes_column(out, event) > 0
        pid = out[id].to_numpy()
        # Time of the process's previous event: the last event stop before this row.
        prev = pd.Series(np.where(ev, t1, np.nan), index=out.index)
        prev = prev.groupby(pid, sort=False).shift(1)
        prev = prev.groupby(pid, sort=False).ffill().fillna(0).to_numpy()
        t0 = t0 - prev
        t1 = t1 - prev
    out["entry"] = t0
    out["exit"] = t1
    return out


def recurrent_cox(
    data: pd.DataFrame,
    formula: str,
    *,
    model: RecurrentCoxModel = "andersen-gill",
    start: str = "start",
    stop: str = "stop",
    event: str = "event",
    id: str = "entry_id",
    cluster: str = "person_id",
    enum: str = "enum",
    ties: str = "efron",
    alpha: float = 0.05,
) -> CoxResult:
    """Andersen–Gill or PWP Cox model of recurrent events, cluster-robust by person.

    The rows of :func:`recurrent_cox_data` fitted by :func:`~evaluation.survival.cox`
    with ``entry``, ``strata`` (PWP) and ``cluster``. Parameters as there.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"entry_id": np.repeat(np.arange(40), 2), "x": np.repeat(
    ...     rng.integers(0, 2, 40), 2), "start": np.tile([0.0, 1.0], 40),
    ...     "stop": np.tile([1.0, 2.0], 40) + rng.random(80) * 0.5 * np.tile([0, 1], 40),
    ...     "event": rng.integers(0, 2, 80), "enum": np.tile([1, 2], 40)})
    >>> fit = recurrent_cox(df, "x", model="pwp-total", cluster="entry_id")
    >>> fit.strata, fit.cluster
    (('stratum',), 'entry_id')
    """
    rows = recurrent_cox_data(
        data, model=model, start=start, stop=stop, event=event, id=id, enum=enum
    )
    return cox(
        rows,
        formula,
        duration="exit",
        event=event,
        entry="entry",
        strata=None if model == "andersen-gill" else "stratum",
        cluster=cluster,
        ties=ties,
        alpha=alpha,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RateModelResult:
    """A fitted rate model: rate ratios per term with cluster-robust intervals.

    ``table`` has one row per term: ``term, coef, se, rate_ratio, ci_lower, ci_upper, z, p``
    (``se`` cluster-robust when ``cluster`` was given, else model-based; ``ci_*`` on the
    rate-ratio scale). ``theta`` is the negative binomial's shape (R's ``theta``; variance
    ``μ + μ²/θ``), None for Poisson.
    """

    family: str
    formula: str
    n: int
    events: float
    exposure: float
    cluster: str | None
    n_clusters: int | None
    theta: float | None
    alpha: float
    coef: pd.Series
    cov: pd.DataFrame
    table: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """One row per term (see the class)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        notes = [
            f"{self.family} rate model with offset log(exposure); n = {self.n}, "
            f"{self.events:g} events in {self.exposure:g} units of time at risk"
            + (f"; cluster-robust by {self.cluster} ({self.n_clusters})" if self.cluster else "")
            + (f"; theta = {self.theta:.4g}" if self.theta is not None else "")
        ]
        return html_repr("Rate model", self.table, notes=notes)


def rate_model(
    data: pd.DataFrame,
    formula: str,
    *,
    count: str,
    exposure: str,
    cluster: str | None = None,
    family: Literal["poisson", "negbin"] = "poisson",
    weights: str | None = None,
    alpha: float = 0.05,
) -> RateModelResult:
    """Poisson or negative binomial regression of event counts on time at risk.

    Parameters
    ----------
    data
        One row per person (or entry, or person-period): the number of events and the
        time at risk.
    formula
        Right-hand side in patsy syntax (an intercept is added), e.g. ``"treated + age"``.
    count
        Number of events (non-negative integers).
    exposure
        Time at risk (positive; days in the community, say); enters as
        ``offset(log(exposure))``, so coefficients are log rate ratios.
    cluster
        Cluster column for the robust variance (``person_id`` when a person has several
        rows). The variance is the sandwich of R's ``sandwich::vcovCL`` (type HC1):
        ``G / (G - 1) · (N - 1) / (N - K)`` times the sum of clustered scores; without
        ``cluster`` the model-based variance.
    family
        ``"poisson"`` or ``"negbin"`` (NB2: θ by maximum likelihood as ``MASS::glm.nb``;
        the cluster-robust variance then holds θ fixed, as ``vcovCL`` on a ``glm.nb`` fit).
    weights
        Case weights (balancing weights: the ATT-weighted rate ratio), as R's ``weights``.
    alpha
        1 - confidence level.

    Returns
    -------
    RateModelResult

    References
    ----------
    Cameron AC, Trivedi PK (2013). Regression Analysis of Count Data, 2nd ed. Cambridge.
    Zeileis A, Köll S, Graham N (2020). Various versatile variances: an object-oriented
    implementation of clustered covariances in R. Journal of Statistical Software 95(1).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"x": rng.integers(0, 2, 500), "t": rng.uniform(1, 3, 500)})
    >>> df["n"] = rng.poisson(df["t"] * np.exp(0.5 * df["x"]))
    >>> fit = rate_model(df, "x", count="n", exposure="t")
    >>> round(float(fit.table.set_index("term").at["x", "rate_ratio"]), 2)
    1.65
    """
    import patsy
    import statsmodels.api as sm

    check_alpha(alpha)
    if family not in ("poisson", "negbin"):
        raise EstimationError(f"family must be 'poisson' or 'negbin', not {family!r}")
    require_columns(
        data, {"count": count, "exposure": exposure, "cluster": cluster, "weights": weights}
    )
    y = numeric_column(data, count, "count")
    if (y != np.round(y)).any():
        raise EstimationError(f"count column {count!r} must hold whole numbers of events")
    t = numeric_column(data, exposure, "exposure", strict=True)
    w = None if weights is None else numeric_column(data, weights, "weights")
    rhs = formula.split("~")[-1].strip() or "1"
    try:
        X = patsy.dmatrix(rhs, data, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as exc:
        raise EstimationError(f"rate model formula {formula!r}: {exc}") from exc
    X.columns = ["(Intercept)" if c == "Intercept" else c for c in X.columns]
    offset = np.log(t)
    theta: float | None = None
    if family == "negbin":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset, var_weights=w).fit()
        alpha_nb = _nb_alpha(
            y, X.to_numpy(), offset, np.ones(len(y)) if w is None else w, start.params.to_numpy()
        )
        theta = 1.0 / alpha_nb
        fam = sm.families.NegativeBinomial(alpha=alpha_nb)
    else:
        fam = sm.families.Poisson()
    glm = sm.GLM(y, X, family=fam, offset=offset, var_weights=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = glm.fit(tol=1e-12, maxiter=200)
    coef = res.params
    if cluster is not None:
        groups = pd.factorize(data[cluster])[0]
        cov = _cluster_cov(res, X.to_numpy(), y, groups)
        n_clusters: int | None = int(groups.max()) + 1
    else:
        cov = res.cov_params().to_numpy()
        n_clusters = None
    se = np.sqrt(np.diag(cov))
    z = coef.to_numpy() / se
    q = stats.norm.ppf(1 - alpha / 2)
    table = pd.DataFrame(
        {
            "term": list(X.columns),
            "coef": coef.to_numpy(),
            "se": se,
            "rate_ratio": np.exp(coef.to_numpy()),
            "ci_lower": np.exp(coef.to_numpy() - q * se),
            "ci_upper": np.exp(coef.to_numpy() + q * se),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )
    return RateModelResult(
        family=family,
        formula=formula,
        n=len(y),
        events=float(y.sum()),
        exposure=float(t.sum()),
        cluster=cluster,
        n_clusters=n_clusters,
        theta=theta,
        alpha=alpha,
        coef=coef,
        cov=pd.DataFrame(cov, index=X.columns, columns=X.columns),
        table=table,
    )


def _cluster_cov(res: object, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``vcovCL`` (HC1): bread · Σ_g s_g s_g' · bread · G/(G-1) · (N-1)/(N-K).

    Scores of a GLM with canonical or NB2 log link: ``w_i (y_i - μ_i) / V(μ_i) · μ_i x_i``
    (the working residual times the working weight); the bread is the inverse of the
    expected information at the estimate.
    """
    mu = res.mu  # type: ignore[attr-defined]
    fam = res.model.family  # type: ignore[attr-defined]
    vw = res.model.var_weights  # type: ignore[attr-defined]
    var = fam.variance(mu)
    s = (vw * (y - mu) / var * mu)[:, None] * X
    info = (X * (vw * mu * mu / var)[:, None]).T @ X
    bread = np.linalg.inv(info)
    G = int(groups.max()) + 1
    S = np.zeros((G, X.shape[1]))
    np.add.at(S, groups, s)
    n, k = X.shape
    factor = G / (G - 1) * (n - 1) / (n - k)
    return factor * bread @ (S.T @ S) @ bread


def _nb_alpha(
    y: np.ndarray, X: np.ndarray, offset: np.ndarray, w: np.ndarray, beta0: np.ndarray
) -> float:
    """NB2 dispersion ``1/θ`` by (weighted) maximum likelihood, profiling out the coefficients.

    ``MASS::glm.nb`` alternates a GLM fit at fixed θ and a Newton step for θ until both
    settle: the same maximum of the same likelihood.
    """
    import statsmodels.api as sm
    from scipy import optimize, special

    def negll(log_alpha: float) -> float:
        a = float(np.exp(log_alpha))
        fit = sm.GLM(
            y, X, family=sm.families.NegativeBinomial(alpha=a), offset=offset, var_weights=w
        ).fit(start_params=beta0, tol=1e-12, maxiter=200)
        mu = fit.mu
        r = 1.0 / a
        ll = (
            special.gammaln(y + r)
            - special.gammaln(r)
            - special.gammaln(y + 1)
            + r * np.log(r / (r + mu))
            + y * np.log(mu / (r + mu))
        )
        return -float(np.sum(w * ll))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = optimize.minimize_scalar(
            negll, bounds=(-12.0, 6.0), method="bounded", options={"xatol": 1e-10}
        )
    return float(np.exp(opt.x))
