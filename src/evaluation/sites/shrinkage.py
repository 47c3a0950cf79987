"""Empirical-Bayes shrinkage of municipalities' O/E and the uncertainty of their ranks.

A municipality with 15 participants has an O/E so noisy that ranking by it is mostly
chance. The normal–normal random-effects model on the log O/E scale,

    log(O_i / E_i) ~ N(θ_i, 1 / O_i),    θ_i ~ N(μ, τ²),

with τ² by REML, gives each municipality its best linear unbiased prediction (the
empirical-Bayes estimate, pulled towards μ the more the smaller its count) and an
interval; ranks are drawn from the estimates' normal distributions. This is what
``metafor::blup(rma(yi, vi, method = "REML"))`` computes, the R reference of the tests;
its agreement with a binomial random-intercept model (``lme4::glmer`` with the case-mix
model's linear predictor as offset, Laplace approximation) is shown and bounded in
``tests/reference/glmer_shrinkage/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._input import check_alpha
from evaluation._results import html_repr
from evaluation.sites.meta import meta_analysis

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from evaluation.sites.case_mix import CaseMixResult

__all__ = ["ShrinkageResult", "shrinkage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShrinkageResult:
    """Empirical-Bayes O/E per municipality, with intervals and rank intervals.

    Attributes
    ----------
    table
        One row per site: ``group``, ``observed``, ``expected``, ``raw`` (O/E), ``estimate``
        (the shrunken O/E, ``exp`` of the BLUP of log O/E), ``se`` (of the BLUP, log
        scale), ``ci_lower``, ``ci_upper``, ``shrinkage`` (the weight ``1 - λ`` given to
        the overall mean), ``rank`` (of the shrunken estimate; 1 = fewest relapses
        relative to expected), ``rank_mean``, ``rank_lower``, ``rank_upper`` (the
        ``alpha/2`` and ``1 - alpha/2`` quantiles of simulated ranks).
    mu, tau2
        The overall log O/E and the between-site variance (REML).
    n_sim, alpha
        Simulated rank draws; 1 - confidence.
    """

    table: pd.DataFrame
    mu: float
    tau2: float
    n_sim: int
    alpha: float

    def summary(self) -> pd.DataFrame:
        """The per-site table."""
        return self.table.copy()

    def plot_data(self) -> pd.DataFrame:
        """Raw and shrunken O/E and the ranks, long form.

        Returns
        -------
        DataFrame
            ``group, kind`` (``raw``, ``shrunken``, ``rank``), ``estimate, ci_lower,
            ci_upper``.
        """
        t = self.table
        raw = t.assign(
            kind="raw", estimate=t["raw"], ci_lower=t["raw_ci_lower"], ci_upper=t["raw_ci_upper"]
        )
        shr = t.assign(kind="shrunken")
        rnk = t.assign(
            kind="rank", estimate=t["rank_mean"], ci_lower=t["rank_lower"], ci_upper=t["rank_upper"]
        )
        cols = ["group", "kind", "estimate", "ci_lower", "ci_upper"]
        return pd.concat([raw[cols], shr[cols], rnk[cols]], ignore_index=True)

    def plot(self, ax: Axes | None = None, *, lang: str = "sv") -> Axes:
        """Caterpillar plot: raw and shrunken O/E with intervals, and the rank intervals;
        ``lang`` the labels' language.

        Returns
        -------
        Axes
        """
        from evaluation.presentation.graphics.sites import draw_shrinkage

        return draw_shrinkage(self.plot_data(), ax=ax, lang=lang)

    def _repr_html_(self) -> str:
        return html_repr(
            "Empirical-Bayes O/E and ranks",
            self.table[
                [
                    "group",
                    "raw",
                    "estimate",
                    "ci_lower",
                    "ci_upper",
                    "rank",
                    "rank_lower",
                    "rank_upper",
                ]
            ],
            notes=[
                f"mu = {self.mu:.3g} (log O/E), tau2 = {self.tau2:.3g}; {self.n_sim} rank draws"
            ],
        )


def shrinkage(
    result: CaseMixResult,
    *,
    n_sim: int = 4000,
    alpha: float = 0.05,
    rng: np.random.Generator | int | None = None,
) -> ShrinkageResult:
    """Shrink each municipality's O/E towards the mean and give its rank with an interval.

    Parameters
    ----------
    result
        A :func:`~evaluation.sites.case_mix` result.
    n_sim
        Draws of the estimates for the rank intervals.
    alpha
        1 - confidence of the intervals.
    rng
        Seed or generator for the rank draws.

    Returns
    -------
    ShrinkageResult

    Notes
    -----
    ``y_i = log(O_i / E_i)`` with variance ``v_i = 1 / O_i`` (delta method; a site with
    O = 0 gets ``log(0.5 / E)`` and ``v = 2``, the usual half-count correction). With
    ``λ_i = τ² / (τ² + v_i)`` the BLUP is ``μ + λ_i (y_i - μ)`` and its standard error
    ``sqrt(λ_i v_i + (1 - λ_i)² var(μ))`` (metafor's ``blup``). The rank draws take the
    sites as independent normals with these moments (they ignore the small correlation
    through μ).

    References
    ----------
    Goldstein, H. and Spiegelhalter, D. J. (1996). League tables and their limitations:
    statistical issues in comparisons of institutional performance. *JRSS A* 159,
    385–443. Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor
    package. *Journal of Statistical Software* 36(3).
    """
    alpha = check_alpha(alpha)
    if n_sim < 100:
        raise EstimationError(f"shrinkage: n_sim must be at least 100, got {n_sim}")
    t = result.table
    if len(t) < 3:
        raise EstimationError(f"shrinkage: needs at least 3 sites, got {len(t)}")
    o = t["observed"].to_numpy(dtype=float)
    e = t["expected"].to_numpy(dtype=float)
    oc = np.where(o > 0, o, 0.5)
    y = np.log(oc / e)
    v = 1.0 / oc
    m = meta_analysis(y, np.sqrt(v), method="REML", labels=t["group"].tolist(), alpha=alpha)
    b = m.blup()
    blup = b["estimate"].to_numpy()
    se = b["se"].to_numpy()
    lam = 1 - b["shrinkage"].to_numpy()
    zq = stats.norm.ppf(1 - alpha / 2)
    gen = np.random.default_rng(rng)
    draws = gen.normal(blup, se, size=(n_sim, y.size))
    ranks = draws.argsort(axis=1).argsort(axis=1) + 1
    out = pd.DataFrame(
        {
            "group": t["group"].to_numpy(),
            "observed": t["observed"].to_numpy(),
            "expected": e,
            "raw": t["estimate"].to_numpy(dtype=float),
            "raw_ci_lower": t["ci_lower"].to_numpy(dtype=float),
            "raw_ci_upper": t["ci_upper"].to_numpy(dtype=float),
            "estimate": np.exp(blup),
            "se": se,
            "ci_lower": np.exp(blup - zq * se),
            "ci_upper": np.exp(blup + zq * se),
            "shrinkage": 1 - lam,
            "rank": stats.rankdata(blup, method="min").astype(int),
            "rank_mean": ranks.mean(axis=0),
            "rank_lower": np.quantile(ranks, alpha / 2, axis=0),
            "rank_upper": np.quantile(ranks, 1 - alpha / 2, axis=0),
        }
    )
    return ShrinkageResult(table=out, mu=m.estimate, tau2=m.tau2, n_sim=n_sim, alpha=alpha)
