"""Funnel plots for comparing municipalities (Spiegelhalter 2005), with overdispersion.

Each municipality's O/E is plotted against its expected count (or its share against its
number of entries); the control limits around the target (O/E = 1, or the overall share)
are exact Poisson (binomial) quantiles with Spiegelhalter's interpolation, so they are
right for the small counts of small programmes. When the sites vary more than chance
allows, the limits are widened multiplicatively (by √φ) or additively (a between-site
variance τ², DerSimonian–Laird), as the NHS Summary Hospital-level Mortality Indicator
does with φ from z-scores winsorised at 10 % on each side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._results import html_repr

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from evaluation.sites.case_mix import CaseMixResult

__all__ = [
    "FunnelResult",
    "binomial_limit",
    "funnel",
    "poisson_limit",
    "winsorised_phi",
]


def poisson_limit(p: float, expected: np.ndarray) -> np.ndarray:
    """Exact Poisson control limit for O/E at probability ``p`` (Spiegelhalter 2005, app. A).

    ``y_p = qpois(p, E)``; ``a = (ppois(y_p, E) - p) / dpois(y_p, E)``; the limit is
    ``(y_p - a) / E``: the quantile, interpolated so that the limits are smooth in E.

    Examples
    --------
    >>> [round(float(x), 4) for x in poisson_limit(0.975, np.array([5.0, 50.0]))]
    [1.8753, 1.2766]
    """
    e = np.asarray(expected, dtype=float)
    y = stats.poisson.ppf(p, e)
    a = (stats.poisson.cdf(y, e) - p) / stats.poisson.pmf(y, e)
    return np.asarray((y - a) / e, dtype=float)


def binomial_limit(p: float, n: np.ndarray, target: float) -> np.ndarray:
    """Exact binomial control limit for a share at probability ``p`` (the same interpolation)."""
    n = np.asarray(n, dtype=float)
    r = stats.binom.ppf(p, n, target)
    a = (stats.binom.cdf(r, n, target) - p) / stats.binom.pmf(r, n, target)
    return np.asarray((r - a) / n, dtype=float)


def winsorised_phi(z: np.ndarray, *, share: float = 0.1) -> float:
    """Overdispersion factor: the mean square of z-scores winsorised at ``share`` each side.

    The lowest and highest ``share`` of the z-scores (rounded to whole sites, half up) are
    set to the nearest kept value, so that a true outlier does not inflate φ
    (Spiegelhalter 2005, section 4; SHMI).
    """
    z = np.sort(np.asarray(z, dtype=float))
    k = z.size
    # The nearest whole number of sites (half up): with nine municipalities 10 % is one at
    # each end; rounding down would winsorise nothing and let one true outlier inflate φ
    # and so widen the limits that should flag it.
    cut = int(np.floor(share * k + 0.5))
    if cut > 0:
        z[:cut] = z[cut]
        z[k - cut :] = z[k - cut - 1]
    return float(np.mean(z**2))


@dataclass(frozen=True, slots=True, kw_only=True)
class FunnelResult:
    """A funnel plot's points, limits and overdispersion.

    Attributes
    ----------
    points
        One row per site: ``group``, ``precision`` (expected count or n), ``estimate``
        (O/E or share), ``z`` (the z-score, after any widening), and for each limit level
        ``outside_95``, ``outside_998`` (True when outside the limits).
    limits
        The limits on a grid of precisions, long: ``precision, level, side`` (``lower``,
        ``upper``), ``estimate``.
    measure
        ``"ratio"`` (O/E against expected) or ``"share"`` (adjusted share against n).
    target, phi, phi_p, tau2, overdispersion
        The target, φ (winsorised mean square of z), its test (``k φ`` against χ²_k), the
        additive τ² and the widening applied (``none``, ``multiplicative``, ``additive``).
    """

    points: pd.DataFrame
    limits: pd.DataFrame
    measure: str
    target: float
    levels: tuple[float, ...]
    phi: float
    phi_p: float
    tau2: float
    overdispersion: str
    distribution: str = "poisson"

    def summary(self) -> pd.DataFrame:
        """The sites with their position against the limits (``points``)."""
        return self.points.copy()

    def outside(self, level: float = 0.95) -> list[str]:
        """Sites outside the limits of ``level``."""
        col = _col(level)
        return self.points.loc[self.points[col], "group"].tolist()

    def plot_data(self) -> pd.DataFrame:
        """Points and limits in one long frame.

        Returns
        -------
        DataFrame
            ``kind`` (``site`` or ``limit``), ``group`` (empty for limits),
            ``precision``, ``estimate``, ``level`` (of a limit) and ``side`` (of a limit).
        """
        pts = self.points.assign(kind="site", level=np.nan, side="")
        lim = self.limits.assign(kind="limit", group="")
        cols = ["kind", "group", "precision", "estimate", "level", "side"]
        return pd.concat([pts[cols], lim[cols]], ignore_index=True)

    def plot(
        self,
        ax: Axes | None = None,
        *,
        highlight: str | None = None,
        lang: str = "sv",
        hidden: tuple[str, ...] = (),
    ) -> Axes:
        """The funnel plot; ``highlight`` names a municipality to mark, ``lang`` the
        labels' language, ``hidden`` the sites not to draw.

        Returns
        -------
        Axes
        """
        from evaluation.presentation.graphics.sites import draw_funnel

        return draw_funnel(
            self.plot_data(), ax=ax, target=self.target, measure=self.measure,
            highlight=highlight, lang=lang, hidden=hidden,
        )  # fmt: skip

    def _repr_html_(self) -> str:
        return html_repr(
            f"Funnel plot ({self.measure}; overdispersion: {self.overdispersion})",
            self.points,
            notes=[f"phi = {self.phi:.3g} (p = {self.phi_p:.3g}); tau2 = {self.tau2:.3g}"],
        )


def _col(level: float) -> str:
    return "outside_" + f"{100 * level:g}".replace(".", "")


def funnel(
    result: CaseMixResult | pd.DataFrame,
    *,
    measure: Literal["ratio", "share"] = "ratio",
    limits: Sequence[float] = (0.95, 0.998),
    overdispersion: Literal["auto", "none", "multiplicative", "additive"] = "auto",
    distribution: Literal["auto", "poisson", "binomial"] = "auto",
    winsorise: float = 0.1,
    test_level: float = 0.05,
) -> FunnelResult:
    """Funnel plot of a case-mix result, with exact limits and overdispersion handling.

    Parameters
    ----------
    result
        A :func:`~evaluation.sites.case_mix` result, or a DataFrame with ``group``,
        ``observed``, ``expected`` (and ``n`` for shares).
    measure
        ``"ratio"``: O/E against the expected count, exact limits around 1;
        ``"share"``: the raw share against the number of rows, binomial limits around the
        overall share (use with a model-free comparison).
    limits
        Two-sided coverage of each pair of limits (95 % and 99.8 %: about 2 and 3 SDs).
    overdispersion
        ``"none"``: exact limits; ``"multiplicative"``: the distance from the target
        times √φ; ``"additive"``: normal limits ``target ± z sqrt(V + τ²)``, with τ² by
        DerSimonian–Laird from φ; ``"auto"``: additive when ``k φ`` exceeds the
        ``1 - test_level`` quantile of χ²_k, none otherwise.
    distribution
        Of O under the target, for ``measure="ratio"``: ``"poisson"`` (Spiegelhalter's
        limits for indirectly standardised ratios; right for rare outcomes and for the Cox
        model's expected counts) or ``"binomial"`` (O ~ Bin(n, E / n): a site's entries
        with their mean expected risk; for a common outcome such as relapse within a year,
        Poisson limits are too wide by about ``1 / sqrt(1 - risk)``). ``"auto"``:
        binomial for a logistic case mix, Poisson otherwise. The plotted curves use the
        overall mean expected risk per entry; each site is judged at its own.
    winsorise
        Share of z-scores winsorised at each end before computing φ (SHMI: 0.1).

    Returns
    -------
    FunnelResult

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
    *Statistics in Medicine* 24, 1185–1202. Spiegelhalter, D. J. (2005). Handling
    over-dispersion of performance indicators. *Quality and Safety in Health Care* 14,
    347–351. NHS Digital, *SHMI methodology* (winsorised z-scores, random-effects limits).
    """
    if measure not in ("ratio", "share"):
        raise EstimationError(f"funnel: measure must be 'ratio' or 'share', got {measure!r}")
    if overdispersion not in ("auto", "none", "multiplicative", "additive"):
        raise EstimationError(f"funnel: unknown overdispersion {overdispersion!r}")
    if distribution not in ("auto", "poisson", "binomial"):
        raise EstimationError(f"funnel: unknown distribution {distribution!r}")
    model = ""
    if isinstance(result, pd.DataFrame):
        from evaluation._input import require_columns

        require_columns(result, {"site": "group", "observed": "observed", "expected": "expected"})
        t = result.assign(estimate=result["observed"] / result["expected"])
        overall_share = float("nan")
        if "n" in t:
            t = t.assign(share=t["observed"] / t["n"])
            overall_share = float(t["observed"].sum() / t["n"].sum())
    else:
        t = result.table
        overall_share = result.overall_share
        model = result.model
    k = len(t)
    if k < 3:
        raise EstimationError(f"funnel: needs at least 3 sites, got {k}")
    if measure == "share" and "n" not in t:
        raise EstimationError("funnel: measure='share' needs the number of entries 'n'")
    dist = distribution
    if dist == "auto":
        dist = "binomial" if model == "logistic" else "poisson"
    if dist == "binomial" and "n" not in t:
        raise EstimationError("funnel: binomial limits need the number of entries 'n'")
    if measure == "ratio":
        prec = t["expected"].to_numpy(dtype=float)
        y = t["estimate"].to_numpy(dtype=float)
        target = 1.0
        # A site's mean expected risk: with binomial limits its O is Bin(n, E / n) under
        # the target, and var(O/E) = (1 - E/n) / E; Poisson: 1 / E.
        risk = prec / t["n"].to_numpy(dtype=float) if dist == "binomial" else np.zeros(k)
        var = (1.0 - risk) / prec
    else:
        prec = t["n"].to_numpy(dtype=float)
        y = t["share"].to_numpy(dtype=float)
        target = overall_share
        risk = np.full(k, target)
        var = target * (1 - target) / prec
    z0 = (y - target) / np.sqrt(var)
    phi = winsorised_phi(z0, share=winsorise)
    phi_p = float(stats.chi2.sf(k * phi, k))
    w = 1.0 / var
    tau2 = max(0.0, (k * phi - (k - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
    mode = overdispersion
    if mode == "auto":
        mode = "additive" if phi_p < test_level else "none"

    def bounds(level: float, p: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
        if measure == "share":
            v0 = target * (1 - target) / p
        else:
            v0 = (1.0 - r) / p
        if mode == "additive":
            zq = stats.norm.ppf(hi_p)
            return np.maximum(target - zq * np.sqrt(v0 + tau2), 0.0), target + zq * np.sqrt(
                v0 + tau2
            )
        if measure == "share":
            lo, hi = binomial_limit(lo_p, p, target), binomial_limit(hi_p, p, target)
        elif dist == "binomial":
            n = np.maximum(np.round(p / r), 1.0)
            lo, hi = binomial_limit(lo_p, n, p / n) * n / p, binomial_limit(hi_p, n, p / n) * n / p
        else:
            lo, hi = poisson_limit(lo_p, p), poisson_limit(hi_p, p)
        if mode == "multiplicative":
            f = np.sqrt(phi)
            lo, hi = target - (target - lo) * f, target + (hi - target) * f
        # Where the lower quantile is 0 the interpolation (and the normal limits) fall below
        # 0, which no ratio or share can: the limit is 0 there.
        return np.maximum(lo, 0.0), hi

    # The limit curves: on a grid of precisions, at the overall mean risk per entry.
    if measure == "share":
        lo_g = max(prec.min() * 0.5, 2.0)
    else:
        lo_g = max(prec.min() * 0.5, 0.5)
    grid = np.unique(np.concatenate([np.geomspace(lo_g, prec.max() * 1.5, 200), prec]))
    if measure == "ratio" and dist == "binomial":
        grid_risk = np.full(grid.size, float(prec.sum() / t["n"].sum()))
    else:
        grid_risk = np.full(grid.size, float(risk.mean()) if measure == "share" else 0.0)
    rows = []
    points = pd.DataFrame({"group": t["group"].to_numpy(), "precision": prec, "estimate": y})
    scale = {"none": 1.0, "multiplicative": np.sqrt(phi), "additive": 1.0}[mode]
    z = (y - target) / np.sqrt(var + (tau2 if mode == "additive" else 0.0)) / scale
    points["z"] = z
    for level in limits:
        lo, hi = bounds(level, grid, grid_risk)
        for side, vals in (("lower", lo), ("upper", hi)):
            rows.append(
                pd.DataFrame({"precision": grid, "level": level, "side": side, "estimate": vals})
            )
        plo, phi_ = bounds(level, prec, risk)
        tag = _col(level).removeprefix("outside_")
        points[f"lower_{tag}"], points[f"upper_{tag}"] = plo, phi_
        points[_col(level)] = (y < plo) | (y > phi_)
    return FunnelResult(
        points=points,
        limits=pd.concat(rows, ignore_index=True),
        measure=measure,
        target=float(target),
        levels=tuple(float(x) for x in limits),
        phi=phi,
        phi_p=phi_p,
        tau2=float(tau2),
        overdispersion=mode,
        distribution=dist if measure == "ratio" else "binomial",
    )
