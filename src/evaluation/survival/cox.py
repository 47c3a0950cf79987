"""Cox proportional hazards regression: ties, strata, delayed entry, weights, clusters.

The fit is this package's own vectorised Newton–Raphson (``_cox_fit``), proven equal to R's
``coxph`` to ~1e-12 on the reference data, because lifelines' ``CoxPHFitter`` has no
start/stop data in the same fitter, no Efron/Breslow choice, and its robust variance is not
R's when there are tied times or delayed entry (see
``tests/reference/cox/test_cox_reference.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError, FewClustersWarning
from evaluation._input import (
    aeq_times,
    check_alpha,
    check_choice,
    entry_values,
    event_indicator,
    group_codes,
    numeric_column,
    require_columns,
    rows_text,
    weights_values,
)
from evaluation._results import html_repr, ratio_table
from evaluation.survival import _cox_fit
from evaluation.survival._design import Design, design

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLUSTER_CORRECTIONS", "MIN_CLUSTERS", "CoxResult", "cox"]

#: Below this many clusters a cluster-robust variance is unreliable (too small, and of rank
#: at most G - 1): ``cox`` warns with :class:`~evaluation._errors.FewClustersWarning`.
#: About 30 is the usual rule (Cameron and Miller 2015, sec. VI).
MIN_CLUSTERS = 30

#: Small-sample corrections of the cluster-robust variance (``cluster_correction``).
CLUSTER_CORRECTIONS: tuple[str, ...] = ("none", "cr1")


@dataclass(frozen=True, slots=True)
class _CoxModel:
    """What prediction and diagnostics need from the fit (private)."""

    prep: _cox_fit.Prepared
    final: _cox_fit.Evaluation
    design: Design
    strata_columns: tuple[str, ...]
    strata_labels: pd.DataFrame | None
    cluster_codes: np.ndarray | None
    information: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class CoxResult:
    """A fitted Cox model (see :func:`cox`).

    Attributes
    ----------
    n, events : int
        Rows used and events (rows whose event code is in ``event_codes``).
    coef : ndarray
        Log hazard ratios, one per model-matrix column (``terms``).
    cov, naive_cov : ndarray
        The variance used for inference (robust when ``robust``) and the model-based one.
    loglik, loglik_null : float
        Log partial likelihood at the estimate and at zero.
    tests : DataFrame
        Likelihood-ratio, Wald and score tests of all coefficients being zero
        (``test, statistic, df, p``); the Wald test uses ``cov`` (through R's generalised
        inverse when ``cov`` is singular, with ``df`` its rank).
    cluster_correction : str
        ``"none"`` or ``"cr1"`` (the cluster-robust ``cov`` multiplied by G / (G - 1)).
    """

    n: int
    events: int
    alpha: float
    method: str
    ties: str
    formula: str
    terms: tuple[str, ...]
    coef: np.ndarray
    cov: np.ndarray
    naive_cov: np.ndarray
    robust: bool
    cluster: str | None
    n_clusters: int | None
    cluster_correction: str
    strata: tuple[str, ...]
    loglik: float
    loglik_null: float
    tests: pd.DataFrame
    iterations: int
    converged: bool
    _model: _CoxModel = field(repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- tables ---------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per term: ``term, coef, se, hr, ci_lower, ci_upper, z, p``.

        With robust or cluster-robust variance a ``robust_se`` column is added and ``z``,
        ``p`` and the interval use it (as R's ``summary.coxph``).
        """
        use = np.sqrt(np.diag(self.cov))
        naive = np.sqrt(np.diag(self.naive_cov))
        table = ratio_table(self.terms, self.coef, use, alpha=self.alpha, ratio="hr")
        table["se"] = naive
        if self.robust:
            table.insert(3, "robust_se", use)
        return table

    @property
    def concordance(self) -> float:
        """Harrell's concordance as R's ``concordance(fit)`` (computed on first use)."""
        c, d, tx, _ = self._concordance_counts()
        npair = c + d + tx
        return float((c + tx / 2) / npair) if npair > 0 else float("nan")

    def _concordance_counts(self) -> tuple[float, float, float, float]:
        if "counts" not in self._cache:
            m = self._model
            self._cache["counts"] = _cox_fit.concordance(m.prep, m.prep.X @ self.coef)
        counts: tuple[float, float, float, float] = self._cache["counts"]
        return counts

    def concordance_table(self) -> pd.DataFrame:
        """Concordant, discordant, tied pairs (weighted), the concordance and its standard
        error, as R's ``concordance(fit)`` counts them.

        The standard error is R's infinitesimal jackknife, summed within clusters for a
        cluster-robust fit (as ``coxph`` passes its cluster to ``concordancefit``). It
        needs a second pass over every row (about three times the cost of the counts).
        """
        if "table" not in self._cache:
            m = self._model
            c, d, tx, ty = self._concordance_counts()
            npair = c + d + tx
            se = np.nan
            if npair > 0:
                eta = m.prep.X @ self.coef
                conc, disc, tie = _cox_fit.concordance_influence(m.prep, eta)
                somer = (c - d) / npair
                dfbeta = m.prep.weights * ((conc - disc) - somer * (conc + disc + tie)) / npair
                if m.cluster_codes is not None:
                    dfbeta = np.bincount(m.cluster_codes, weights=dfbeta).astype(float)
                se = float(np.sqrt(np.sum(dfbeta**2) / 4))
            self._cache["table"] = pd.DataFrame(
                {
                    "concordant": [c],
                    "discordant": [d],
                    "tied_x": [tx],
                    "tied_y": [ty],
                    "concordance": [self.concordance],
                    "se": [se],
                }
            )
        return self._cache["table"].copy()

    def baseline_hazard(self) -> pd.DataFrame:
        """Cumulative baseline hazard at each event time (covariates at their means).

        Columns ``time``, the strata columns (if any) and ``estimate``; increments are
        Efron's or Breslow's as the fit's ``ties`` (R's ``survfit.coxph`` ``ctype``).
        """
        m = self._model
        h = _cox_fit.baseline_hazard(m.prep, m.final)
        table = pd.DataFrame({"time": m.prep.group_time, "_s": m.prep.group_stratum, "h": h})
        table["estimate"] = table.groupby("_s")["h"].cumsum()
        if m.strata_labels is not None:
            table = table.join(m.strata_labels, on="_s")
        cols = ["time", *self.strata, "estimate"]
        return table[cols].reset_index(drop=True)

    def predict_survival(
        self, newdata: pd.DataFrame, times: Sequence[float] | np.ndarray | None = None
    ) -> pd.DataFrame:
        """Predicted survival curves for the covariate values in the rows of ``newdata``.

        Parameters
        ----------
        newdata : DataFrame
            Covariate columns of the formula (and the strata columns for a stratified
            model: each row gets its own stratum's baseline).
        times : array-like, optional
            Times to evaluate at; default all event times of the fit.

        Returns
        -------
        DataFrame
            Index ``time``; one column per row of ``newdata`` (its index labels).
            ``exp(-H0(t) exp((x - mean) beta))`` with the Efron or Breslow baseline,
            as R's ``survfit(fit, newdata)``.
        """
        if not isinstance(newdata, pd.DataFrame):
            raise EstimationError("newdata must be a pandas DataFrame")
        m = self._model
        x = m.design.build(newdata)
        eta = (x - m.prep.center) @ self.coef
        if m.strata_labels is None:
            stratum = np.zeros(len(newdata), dtype=np.int64)
        else:
            require_columns(newdata, {"strata": list(self.strata)})
            lookup = m.strata_labels.reset_index().set_index(list(self.strata))["index"]
            keys = pd.MultiIndex.from_frame(newdata[list(self.strata)])
            if len(self.strata) == 1:
                keys = pd.Index(newdata[self.strata[0]])
            codes = lookup.reindex(keys)
            if codes.isna().any():
                bad = codes.isna().to_numpy()
                raise EstimationError(
                    f"newdata has strata not in the fitted data ({rows_text(newdata, bad)})"
                )
            stratum = codes.to_numpy(dtype=np.int64)
        h = _cox_fit.baseline_hazard(m.prep, m.final)
        gt, gs = m.prep.group_time, m.prep.group_stratum
        t = np.unique(gt) if times is None else np.asarray(times, dtype=float)
        out = np.empty((t.size, len(newdata)))
        for s in np.unique(stratum):
            sel = gs == s
            cum = np.concatenate([[0.0], np.cumsum(h[sel])])
            H0 = cum[np.searchsorted(gt[sel], t, side="right")]
            cols = np.flatnonzero(stratum == s)
            out[:, cols] = np.exp(-np.outer(H0, np.exp(eta[cols])))
        frame = pd.DataFrame(out, index=pd.Index(t, name="time"), columns=newdata.index)
        return frame

    def plot_data(self) -> pd.DataFrame:
        """The numbers behind :meth:`plot`, long form.

        Returns
        -------
        DataFrame
            One row per term, in the formula's order: ``term, hr, ci_lower, ci_upper, p``.
        """
        return self.summary()[["term", "hr", "ci_lower", "ci_upper", "p"]].reset_index(drop=True)

    def plot(
        self,
        ax: Axes | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        lang: str | None = None,
        xlabel: str | None = None,
    ) -> Axes:
        """Forest plot of :meth:`plot_data`: hazard ratios with intervals on a log axis.

        See :func:`evaluation.presentation.graphics.forest.forest_plot` for ``labels``
        (display labels of terms), ``lang`` and ``xlabel``. Returns the Axes.
        """
        from evaluation.presentation.graphics.forest import forest_plot

        return forest_plot(self, ax=ax, labels=labels, lang=lang, xlabel=xlabel)

    def _repr_html_(self) -> str:
        notes = [
            f"n = {self.n}, events = {self.events}, ties = {self.ties}"
            + (f", strata: {', '.join(self.strata)}" if self.strata else "")
            + (
                f", cluster-robust by {self.cluster} ({self.n_clusters} clusters"
                + (", CR1 G/(G-1)" if self.cluster_correction == "cr1" else "")
                + ")"
                if self.cluster
                else ", robust variance"
                if self.robust
                else ""
            ),
            f"log-likelihood {self.loglik:.4f}; "
            + "; ".join(
                f"{r.test}: {r.statistic:.3f} on {int(r.df)} df, p = {r.p:.3g}"
                for r in self.tests.itertuples()
            ),
        ]
        return html_repr("Cox regression", self.summary(), notes=notes)


def cox(
    data: pd.DataFrame,
    formula: str,
    *,
    duration: str,
    event: str,
    entry: str | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    ties: str = "efron",
    robust: bool = False,
    alpha: float = 0.05,
    event_codes: Sequence[int] = (1,),
    cluster_correction: str = "none",
    timefix: bool = True,
) -> CoxResult:
    """Fit a Cox proportional hazards model.

    Parameters
    ----------
    data : DataFrame
        One row per person, or per counting-process interval ``(entry, duration]`` of a
        person for delayed entry and time-varying covariates.
    formula : str
        Right-hand side in patsy syntax, e.g. ``"sex + age + C(municipality)"`` or
        ``"~ fin * prio"``; no intercept is fitted. Categorical terms are coded against
        their first level. Coefficients (and summary rows) come in R's order: the
        formula's main effects as written, then two-way interactions, and so on.
    duration : str
        Exit time column (time of event or censoring; the ``stop`` of an interval).
    event : str
        Event code column; rows whose code is in ``event_codes`` are events, all other
        codes (0 censored, competing events such as 2 death) are censored.
    entry : str, optional
        Entry time column (delayed entry, or the ``start`` of counting-process rows).
        Each row is at risk in ``(entry, duration]``.
    strata : str or list of str, optional
        Stratification columns: a separate baseline hazard per stratum.
    cluster : str, optional
        Cluster column (a person id for repeated rows, a municipality ...): the
        variance is the cluster-robust sandwich of R's ``coxph(..., cluster=)``. With
        fewer than ``MIN_CLUSTERS`` (30) clusters a :class:`FewClustersWarning` is issued:
        the sandwich is then biased downwards, and with no more clusters than
        coefficients it is singular (see Notes).
    weights : str, optional
        Case weights (non-negative).
    ties : {"efron", "breslow"}
        Approximation for tied event times.
    robust : bool
        Robust (sandwich) variance from the dfbeta residuals, each row its own cluster.
        Implied by ``cluster``.
    alpha : float
        Intervals are ``1 - alpha``.
    event_codes : sequence of int
        Which codes of ``event`` count as the event.
    cluster_correction : {"none", "cr1"}
        Small-sample correction of the cluster-robust variance. ``"none"`` (default) is
        R's ``coxph``. ``"cr1"`` multiplies it by ``G / (G - 1)`` for ``G`` clusters (the
        factor of Stata's ``vce(cluster)`` for maximum-likelihood models; Cameron and
        Miller 2015, sec. VI.B), which widens intervals a little with few clusters. Needs
        ``cluster``. (The CR2 "bias-reduced linearisation" of Bell and McCaffrey 2002 is
        defined for linear models and is not offered.)
    timefix : bool
        Merge exit and entry times that differ by rounding alone (relative or absolute
        difference at most ``sqrt(machine epsilon)``, about 1.5e-8) into one time, as R's
        ``coxph`` does by default (``coxph.control(timefix = TRUE)``, ``aeqSurv``); see
        :func:`evaluation._input.aeq_times`. Times in whole days are never
        changed.

    Returns
    -------
    CoxResult

    Warns
    -----
    FewClustersWarning
        ``cluster`` has fewer than ``MIN_CLUSTERS`` clusters.

    Raises
    ------
    EstimationError
        A missing column, missing or negative values, entry not before exit, bad weights,
        no events, or a formula that cannot be built.

    Notes
    -----
    The partial likelihood is maximised by Newton–Raphson with step halving from zero
    (as R's ``coxph``), converging to a relative change of 1e-11 in the log-likelihood.
    Efron's approximation follows Therneau and Grambsch (2000, sec. 3.3); case weights
    enter as in R, with the Efron terms of a tie weighted by the mean weight of the tied
    events. The robust variance is ``D'D`` with ``D`` the weighted dfbeta residuals,
    summed within clusters (Lin and Wei 1989), computed with the same risk sets and tie
    handling as the fit, so it is correct with ties, strata and delayed entry.

    With ``G`` clusters the cluster-robust variance is a sum of ``G`` outer products whose
    total is the score at the estimate, zero, so its rank is at most ``G - 1``: with 5
    clusters and 7 coefficients it is singular. The covariance is returned as it is (the
    standard errors of the single coefficients are still defined) and the Wald test of
    all coefficients uses the generalised inverse of R's ``coxph.wtest``, on as many
    degrees of freedom as the variance has rank (R's ``summary`` prints the number of
    coefficients as the df; the statistic is the same).

    References
    ----------
    Cox DR (1972). Regression models and life-tables. JRSS B 34:187-220.
    Efron B (1977). The efficiency of Cox's likelihood function for censored data.
    JASA 72:557-565.
    Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model.
    JASA 84:1074-1078.
    Therneau TM, Grambsch PM (2000). Modeling Survival Data. Springer.
    Cameron AC, Miller DL (2015). A practitioner's guide to cluster-robust inference.
    Journal of Human Resources 50:317-372.
    Bell RM, McCaffrey DF (2002). Bias reduction in standard errors for linear regression
    with multi-stage samples. Survey Methodology 28:169-181.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [5, 8, 3, 9, 4, 7, 6, 2], "e": [1, 0, 1, 1, 1, 0, 1, 1],
    ...                    "x": [0, 1, 1, 0, 0, 1, 0, 1]})
    >>> res = cox(df, "x", duration="t", event="e")
    >>> round(float(res.summary()["hr"].iloc[0]), 4)
    0.8733
    """
    if ties not in ("efron", "breslow"):
        raise EstimationError(f"ties must be 'efron' or 'breslow', not {ties!r}")
    check_choice(cluster_correction, CLUSTER_CORRECTIONS, "cluster_correction")
    if cluster_correction != "none" and cluster is None:
        raise EstimationError(
            f"cluster_correction={cluster_correction!r} needs a cluster column (cluster=)"
        )
    alpha = check_alpha(alpha)
    strata_cols: tuple[str, ...] = (
        () if strata is None else (strata,) if isinstance(strata, str) else tuple(strata)
    )
    require_columns(
        data,
        {
            "duration": duration,
            "event": event,
            "entry": entry,
            "strata": list(strata_cols),
            "cluster": cluster,
            "weights": weights,
        },
    )
    stop = numeric_column(data, duration, "duration")
    is_event = event_indicator(data, event, event_codes)
    start = None
    if entry is not None:
        # Counting-process rows may start before time 0 (no lower bound on entry).
        start = entry_values(data, entry, stop, duration=duration, minimum=None)
    if timefix:
        stop, start = aeq_times(stop, start, data=data, duration=duration, entry=entry)
    w = None if weights is None else weights_values(data, weights)
    if not is_event.any():
        raise EstimationError(
            f"column {event!r} has no events (codes {tuple(event_codes)}); a Cox model needs some"
        )
    strata_codes = strata_labels = None
    if strata_cols:
        st = group_codes(data, strata_cols, "strata")
        strata_codes, strata_labels = st.codes.astype(np.int64), st.table
    cluster_codes = None
    n_clusters = None
    if cluster is not None:
        cl = group_codes(data, cluster, "cluster")
        cluster_codes, n_clusters = cl.codes.astype(np.int64), len(cl)
    dm = design(data, formula)
    X = dm.matrix
    if n_clusters is not None and n_clusters < MIN_CLUSTERS:
        singular = (
            f"; with no more clusters than the {X.shape[1]} coefficients the variance is "
            "singular and the Wald test uses a generalised inverse"
            if n_clusters <= X.shape[1]
            else ""
        )
        warnings.warn(
            f"cluster column {cluster!r} has {n_clusters} clusters: with fewer than about "
            f"{MIN_CLUSTERS} the cluster-robust standard errors are too small and the "
            f"intervals too narrow{singular} (cluster_correction='cr1' widens them by "
            "G/(G-1))",
            FewClustersWarning,
            stacklevel=2,
        )
    constant = [c for j, c in enumerate(dm.columns) if np.ptp(X[:, j]) == 0]
    if constant:
        raise EstimationError(
            f"covariate {', '.join(map(repr, constant))} is constant; its hazard ratio "
            "cannot be estimated"
        )

    prep = _cox_fit.prepare(
        X, stop, is_event, weights=w, strata=strata_codes, start=start, ties=ties
    )
    fit = _cox_fit.newton_raphson(prep)
    try:
        naive = np.linalg.inv(fit.information)
    except np.linalg.LinAlgError:
        raise EstimationError(
            "the information matrix is singular: covariates are collinear "
            f"({', '.join(dm.columns)})"
        ) from None
    robust = robust or cluster is not None
    cov = naive
    if robust:
        resid = _cox_fit.score_residuals(prep, fit.final)
        if w is not None:
            resid = resid * w[:, None]
        dfbeta = resid @ naive
        if cluster_codes is not None:
            dfbeta = np.column_stack(
                [np.bincount(cluster_codes, weights=dfbeta[:, j]) for j in range(dfbeta.shape[1])]
            )
        cov = dfbeta.T @ dfbeta
        if cluster_correction == "cr1" and n_clusters is not None and n_clusters > 1:
            cov = cov * (n_clusters / (n_clusters - 1))
    p = X.shape[1]
    lr = 2 * (fit.loglik - fit.loglik_null)
    wald, wald_df = _cox_fit.wald_test(cov, fit.beta)
    score = float(fit.score_null @ np.linalg.solve(fit.information_null, fit.score_null))
    dfs = [p, wald_df, p]
    tests = pd.DataFrame(
        {
            "test": ["likelihood_ratio", "wald", "score"],
            "statistic": [lr, wald, score],
            "df": dfs,
            "p": [
                stats.chi2.sf(x, df) if df > 0 else np.nan
                for x, df in zip((lr, wald, score), dfs, strict=True)
            ],
        }
    )
    model = _CoxModel(
        prep=prep,
        final=fit.final,
        design=dm,
        strata_columns=strata_cols,
        strata_labels=strata_labels,
        cluster_codes=cluster_codes,
        information=fit.information,
    )
    return CoxResult(
        n=int(len(data)),
        events=int(is_event.sum()),
        alpha=float(alpha),
        method="cox",
        ties=ties,
        formula=formula,
        terms=dm.columns,
        coef=fit.beta,
        cov=cov,
        naive_cov=naive,
        robust=bool(robust),
        cluster=cluster,
        n_clusters=n_clusters,
        cluster_correction=cluster_correction,
        strata=strata_cols,
        loglik=fit.loglik,
        loglik_null=fit.loglik_null,
        tests=tests,
        iterations=fit.iterations,
        converged=fit.converged,
        _model=model,
    )
