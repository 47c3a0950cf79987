"""Random-effects meta-analysis of per-municipality estimates: pooled effect, τ², I², Q.

DerSimonian–Laird comes from statsmodels (``combine_effects``); REML, which statsmodels
lacks, is a short Fisher-scoring loop on the restricted likelihood, as metafor's ``rma``
runs it. Both are checked against ``metafor::rma`` in ``tests/reference/metafor/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import ConvergenceWarning, EstimationError
from evaluation._input import check_alpha
from evaluation._results import html_repr

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MetaAnalysisResult", "meta_analysis", "tau2_reml"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetaAnalysisResult:
    """A random-effects meta-analysis (normal-normal model, estimates with known SEs).

    Attributes
    ----------
    k, method, alpha
        Number of estimates, the τ² estimator (``"DL"`` or ``"REML"``), 1 - confidence.
    estimate, se, ci_lower, ci_upper, z, p
        The pooled effect μ (inverse-variance weights ``1 / (se_i² + τ²)``), its standard
        error, interval and test of μ = 0 (normal, or with ``test="knha"`` the
        Hartung–Knapp scaled SE and t with ``k - 1`` df).
    tau2, i2, h2
        Between-site variance, the share of total variance it accounts for
        (``τ² / (τ² + s²)``, ``s²`` the typical within-site variance, as metafor reports
        it; for DL equal to ``(Q - df) / Q`` truncated at 0) and ``H² = (τ² + s²) / s²``.
    q, q_df, q_p
        Cochran's Q (fixed-effect weights), its degrees of freedom ``k - 1`` and p-value.
    pi_lower, pi_upper
        Prediction interval for the effect in a new municipality,
        ``μ ± q · sqrt(τ² + se²)``, ``q`` the normal quantile (t with ``k - 1`` df for
        ``knha``), as metafor's ``predict``.
    studies
        One row per estimate: ``label, estimate, se, ci_lower, ci_upper, weight`` (weights
        in percent, random-effects).
    """

    k: int
    method: str
    alpha: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    z: float
    p: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_lower: float
    pi_upper: float
    studies: pd.DataFrame
    measure: str = "estimate"
    test: str = "z"

    @property
    def tau(self) -> float:
        """Between-site standard deviation."""
        return float(np.sqrt(self.tau2))

    def blup(self) -> pd.DataFrame:
        """Empirical-Bayes (best linear unbiased) predictions of each site's true effect.

        ``label, estimate, se, ci_lower, ci_upper, shrinkage``: with
        ``λ_i = τ² / (τ² + se_i²)`` the prediction is ``μ + λ_i (y_i - μ)`` and its standard
        error ``sqrt(λ_i se_i² + (1 - λ_i)² se(μ)²)``, as metafor's ``blup``; ``shrinkage``
        is ``1 - λ_i``, the weight pulled towards μ.
        """
        y = self.studies["estimate"].to_numpy(dtype=float)
        v = self.studies["se"].to_numpy(dtype=float) ** 2
        lam = self.tau2 / (self.tau2 + v)
        pred = self.estimate + lam * (y - self.estimate)
        se = np.sqrt(lam * v + (1 - lam) ** 2 * self.se**2)
        zq = float(stats.norm.ppf(1 - self.alpha / 2))
        return pd.DataFrame(
            {
                "label": self.studies["label"].to_numpy(),
                "estimate": pred,
                "se": se,
                "ci_lower": pred - zq * se,
                "ci_upper": pred + zq * se,
                "shrinkage": 1 - lam,
            }
        )

    def summary(self) -> pd.DataFrame:
        """``quantity, estimate, se, ci_lower, ci_upper, statistic, df, p``: the pooled
        effect, the prediction interval, τ², I², H² and Q."""
        nan = float("nan")
        rows = [
            (
                "pooled",
                self.estimate,
                self.se,
                self.ci_lower,
                self.ci_upper,
                self.z,
                float(self.k - 1) if self.test == "knha" else nan,
                self.p,
            ),  # fmt: skip
            ("prediction", self.estimate, nan, self.pi_lower, self.pi_upper, nan, nan, nan),
            ("tau2", self.tau2, nan, nan, nan, nan, nan, nan),
            ("i2", self.i2, nan, nan, nan, nan, nan, nan),
            ("h2", self.h2, nan, nan, nan, nan, nan, nan),
            ("q", nan, nan, nan, nan, self.q, float(self.q_df), self.q_p),
        ]
        return pd.DataFrame(
            rows,
            columns=["quantity", "estimate", "se", "ci_lower", "ci_upper", "statistic", "df", "p"],
        )

    def plot_data(self) -> pd.DataFrame:
        """Forest plot rows, one per study, then the pooled estimate and the prediction
        interval.

        Returns
        -------
        DataFrame
            ``label, estimate, se, ci_lower, ci_upper, weight, kind`` (``study``,
            ``pooled``, ``prediction``; ``se`` and ``weight`` missing for the prediction
            interval).
        """
        s = self.studies.assign(kind="study")
        pooled = pd.DataFrame(
            {
                "label": ["pooled", "prediction"],
                "kind": ["pooled", "prediction"],
                "estimate": [self.estimate, self.estimate],
                "se": [self.se, float("nan")],
                "ci_lower": [self.ci_lower, self.pi_lower],
                "ci_upper": [self.ci_upper, self.pi_upper],
                "weight": [100.0, float("nan")],
            }
        )
        return pd.concat([s, pooled], ignore_index=True)

    def plot(
        self,
        ax: Axes | None = None,
        *,
        lang: str = "sv",
        hidden: tuple[str, ...] = (),
        highlight: str | None = None,
    ) -> Axes:
        """Forest plot: each municipality's estimate and interval, the pooled diamond and
        the prediction interval; ``lang`` the labels' language, ``hidden`` the sites not
        to draw, ``highlight`` a municipality to mark.

        Returns
        -------
        Axes
        """
        from evaluation.presentation.graphics.sites import draw_meta_forest

        return draw_meta_forest(
            self.plot_data(),
            ax=ax,
            measure=self.measure,
            lang=lang,
            hidden=hidden,
            highlight=highlight,
        )

    def _repr_html_(self) -> str:
        return html_repr(
            f"Random-effects meta-analysis ({self.method}, k = {self.k})",
            self.summary(),
            notes=[f"tau = {self.tau:.4g}; I2 = {100 * self.i2:.1f} %"],
        )


def tau2_reml(
    y: np.ndarray, v: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100
) -> tuple[float, bool]:
    """REML estimate of τ² by Fisher scoring (metafor's algorithm), truncated at 0.

    Starts from the DerSimonian–Laird value; each step adds
    ``(yᵀPPy - tr P) / tr(PP)`` with ``P = W - w wᵀ / Σw``, ``W = diag(1 / (v + τ²))``.
    Returns the estimate and whether it converged.

    Examples
    --------
    >>> y, v = np.array([0.1, 0.3, -0.2, 0.5]), np.array([0.04, 0.02, 0.05, 0.03])
    >>> tau2, converged = tau2_reml(y, v)
    >>> round(float(tau2), 4), converged
    (0.0435, True)
    """
    tau2 = max(0.0, _tau2_dl(y, v))
    for _ in range(max_iter):
        w = 1.0 / (v + tau2)
        p = np.diag(w) - np.outer(w, w) / w.sum()
        py = p @ y
        step = (py @ py - np.trace(p)) / np.trace(p @ p)
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < tol:
            return new, True
        tau2 = new
    # Fisher scoring can oscillate when the likelihood is flat; then maximise the
    # restricted log-likelihood directly (bounded Brent) instead.
    from scipy.optimize import minimize_scalar

    upper = max(10.0 * float(np.var(y)), 10.0 * float(v.max()))
    fit = minimize_scalar(
        lambda t2: -_restricted_loglik(y, v, t2),
        bounds=(0.0, upper),
        method="bounded",
        options={"xatol": tol},
    )
    best = float(fit.x)
    if _restricted_loglik(y, v, 0.0) >= _restricted_loglik(y, v, best):
        best = 0.0
    return best, bool(fit.success)


def _restricted_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    mu = np.sum(w * y) / w.sum()
    return float(-0.5 * (np.sum(np.log(v + tau2)) + np.log(w.sum()) + np.sum(w * (y - mu) ** 2)))


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / v
    mu = np.sum(w * y) / w.sum()
    q = float(np.sum(w * (y - mu) ** 2))
    c = w.sum() - np.sum(w**2) / w.sum()
    return max(0.0, (q - (y.size - 1)) / c) if c > 0 else 0.0


def meta_analysis(
    estimates: Sequence[float] | np.ndarray | pd.Series,
    se: Sequence[float] | np.ndarray | pd.Series,
    *,
    method: Literal["DL", "REML"] = "REML",
    labels: Sequence[str] | None = None,
    alpha: float = 0.05,
    test: Literal["z", "knha"] = "z",
    measure: str = "estimate",
) -> MetaAnalysisResult:
    """Combine per-municipality estimates by random-effects meta-analysis.

    Parameters
    ----------
    estimates, se
        The estimates (on a scale where they are roughly normal: risk differences, log
        hazard ratios) and their standard errors.
    method
        ``"REML"`` (restricted maximum likelihood, metafor's default) or ``"DL"``
        (DerSimonian–Laird, by statsmodels' ``combine_effects``).
    labels
        Names of the estimates (municipalities); ``1..k`` by default.
    alpha
        1 - confidence level.
    test
        ``"z"``: Wald interval and test with the normal quantile (metafor's default);
        ``"knha"``: the Hartung–Knapp–Sidik–Jonkman adjustment, the standard error scaled by
        ``sqrt(Σ w (y - μ)² / (k - 1))`` and the t quantile with ``k - 1`` degrees of
        freedom for the interval, the test and the prediction interval (metafor's
        ``test = "knha"``), which keeps near-nominal coverage with few sites.
    measure
        What the estimates are (a label key for the plot's axis).

    Returns
    -------
    MetaAnalysisResult

    Raises
    ------
    EstimationError
        Fewer than two estimates, lengths that differ, missing values or SEs <= 0.

    References
    ----------
    DerSimonian, R. and Laird, N. (1986). Meta-analysis in clinical trials. *Controlled
    Clinical Trials* 7, 177–188. Viechtbauer, W. (2005). Bias and efficiency of
    meta-analytic variance estimators in the random-effects model. *Journal of
    Educational and Behavioral Statistics* 30, 261–293. Higgins, J. P. T. and
    Thompson, S. G. (2002). Quantifying heterogeneity in a meta-analysis. *Statistics in
    Medicine* 21, 1539–1558. Hartung, J. and Knapp, G. (2001). A refined method for the
    meta-analysis of controlled clinical trials with binary outcome. *Statistics in
    Medicine* 20, 3875–3889.

    Examples
    --------
    >>> m = meta_analysis([0.1, 0.3, -0.2, 0.5], [0.2, 0.14, 0.22, 0.17], method="DL")
    >>> round(m.estimate, 4), round(m.tau2, 4)
    (0.2037, 0.0425)
    """
    alpha = check_alpha(alpha)
    y = np.asarray(estimates, dtype=float)
    s = np.asarray(se, dtype=float)
    k = y.size
    names = [str(i + 1) for i in range(k)] if labels is None else [str(x) for x in labels]
    if s.size != k or len(names) != k:
        raise EstimationError(
            f"meta_analysis: {k} estimates, {s.size} standard errors and {len(names)} labels; "
            "they must match"
        )
    if k < 2:
        raise EstimationError(f"meta_analysis needs at least 2 estimates, got {k}")
    bad = ~np.isfinite(y) | ~np.isfinite(s) | (s <= 0)
    if bad.any():
        which = ", ".join(n for n, b in zip(names, bad, strict=True) if b)
        raise EstimationError(
            f"meta_analysis: estimates and standard errors must be finite with se > 0; "
            f"not so for {which}"
        )
    if method not in ("DL", "REML"):
        raise EstimationError(f"meta_analysis: method must be 'DL' or 'REML', got {method!r}")
    v = s**2
    if method == "DL":
        import warnings

        from statsmodels.stats.meta_analysis import combine_effects

        with warnings.catch_warnings():
            # combine_effects also computes the Hartung–Knapp scale, whose square root is
            # NaN (with a RuntimeWarning) when Q < k - 1; we use only its tau2.
            warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
            # Truncated at 0 as metafor does (statsmodels may return a negative value).
            tau2 = max(0.0, float(combine_effects(y, v, method_re="dl").tau2))
    else:
        tau2, ok = tau2_reml(y, v)
        if not ok:
            import warnings

            warnings.warn(
                "meta_analysis: the REML estimate of tau2 did not converge in 100 steps",
                ConvergenceWarning,
                stacklevel=2,
            )
    w0 = 1.0 / v
    mu_fe = np.sum(w0 * y) / w0.sum()
    q = float(np.sum(w0 * (y - mu_fe) ** 2))
    s2 = (k - 1) * w0.sum() / (w0.sum() ** 2 - np.sum(w0**2))
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / w.sum())
    se_mu = float(np.sqrt(1.0 / w.sum()))
    if test == "knha":
        se_mu *= float(np.sqrt(np.sum(w * (y - mu) ** 2) / (k - 1)))
        zq = float(stats.t.ppf(1 - alpha / 2, k - 1))
    elif test == "z":
        zq = float(stats.norm.ppf(1 - alpha / 2))
    else:
        raise EstimationError(f"meta_analysis: test must be 'z' or 'knha', got {test!r}")
    z = mu / se_mu
    p = 2 * (stats.t.sf(abs(z), k - 1) if test == "knha" else stats.norm.sf(abs(z)))
    pi_half = zq * np.sqrt(tau2 + se_mu**2)
    zs = float(stats.norm.ppf(1 - alpha / 2))
    studies = pd.DataFrame(
        {
            "label": names,
            "estimate": y,
            "se": s,
            "ci_lower": y - zs * s,
            "ci_upper": y + zs * s,
            "weight": 100 * w / w.sum(),
        }
    )
    return MetaAnalysisResult(
        k=k,
        method=method,
        alpha=alpha,
        estimate=mu,
        se=se_mu,
        ci_lower=mu - zq * se_mu,
        ci_upper=mu + zq * se_mu,
        z=float(z),
        p=float(p),
        tau2=tau2,
        i2=float(tau2 / (tau2 + s2)),
        h2=float((tau2 + s2) / s2),
        q=q,
        q_df=k - 1,
        q_p=float(stats.chi2.sf(q, k - 1)),
        pi_lower=float(mu - pi_half),
        pi_upper=float(mu + pi_half),
        studies=studies,
        measure=measure,
        test=test,
    )
