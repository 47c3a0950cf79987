"""Does the programme's effect differ between municipalities? Effects per site, pooled."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError, EvaluationWarning
from evaluation._input import require_columns
from evaluation._results import html_repr
from evaluation.sites.meta import MetaAnalysisResult, meta_analysis

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from evaluation.cohorts import Cohort

__all__ = ["SiteEffects", "effect_by_site"]

#: The measures pooled by default: the ATT risk difference at 1 year and the RMST difference.
SITE_MEASURES: tuple[str, ...] = ("risk_difference_1y", "rmst_difference_3y")


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteEffects:
    """The programme's effect per municipality and its random-effects meta-analysis.

    Attributes
    ----------
    table
        One row per site and measure: ``group``, ``measure``, ``n``, ``n_treated``,
        ``estimate``, ``se``, ``ci_lower``, ``ci_upper`` (bootstrap, from
        :func:`~evaluation.effects.estimate_programme_effect`), ``included`` (False for a
        site left out, with the reason in ``reason``).
    meta
        One meta-analysis per measure.
    notes
        Warnings raised while estimating a site (e.g. a propensity model that separates),
        kept rather than lost.
    """

    table: pd.DataFrame
    meta: dict[str, MetaAnalysisResult]
    site: str
    n_boot: int
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> pd.DataFrame:
        """Pooled effect and heterogeneity per measure: ``measure`` plus the meta-analysis
        summary columns."""
        parts = [m.summary().assign(measure=k) for k, m in self.meta.items()]
        out = pd.concat(parts, ignore_index=True)
        return out[["measure", *[c for c in out.columns if c != "measure"]]]

    def plot_data(self, measure: str = "risk_difference_1y") -> pd.DataFrame:
        """The forest plot's rows for one measure.

        Returns
        -------
        DataFrame
            :meth:`MetaAnalysisResult.plot_data` of ``measure``: ``label, estimate, se,
            ci_lower, ci_upper, weight, kind`` (``study``, ``pooled``, ``prediction``).
        """
        return self.meta[measure].plot_data()

    def plot(
        self,
        ax: Axes | None = None,
        *,
        measure: str = "risk_difference_1y",
        lang: str = "sv",
        hidden: tuple[str, ...] = (),
    ) -> Axes:
        """Forest plot of one measure with the pooled diamond (``lang`` and ``hidden`` as
        in :meth:`MetaAnalysisResult.plot`).

        Returns
        -------
        Axes
        """
        return self.meta[measure].plot(ax=ax, lang=lang, hidden=hidden)

    def _repr_html_(self) -> str:
        return html_repr(
            f"Programme effect by {self.site} (random-effects meta-analysis)",
            self.summary(),
            notes=list(self.notes),
        )


def effect_by_site(
    cohort: Cohort | pd.DataFrame,
    *,
    site: str = "municipality",
    measures: Sequence[str] = SITE_MEASURES,
    method: Literal["DL", "REML"] = "REML",
    test: Literal["z", "knha"] = "knha",
    n_boot: int = 100,
    min_treated: int = 10,
    alpha: float = 0.05,
    rng: np.random.Generator | int | None = None,
    **effect_kwargs: Any,
) -> SiteEffects:
    """The programme's effect in each municipality, combined by random-effects meta-analysis.

    Parameters
    ----------
    cohort
        A comparison cohort (:func:`evaluation.effects.comparison_cohort`) or its data.
    site
        Column of the municipality (participants and their comparisons by residence).
    measures
        Rows of :class:`~evaluation.effects.ProgrammeEffect`'s table to pool (analysis
        ``itt``); the bootstrap SE is the meta-analysis's within-site SE.
    method
        τ² estimator of the meta-analysis.
    test
        ``"knha"`` (Hartung–Knapp, the default: with nine sites the normal interval
        covers the pooled effect about 90 % of the time when the sites differ; see
        ``tests/recovery/test_sites_recovery.py``) or ``"z"``.
    n_boot
        Bootstrap replicates per site (small by default: nine estimations).
    min_treated
        Sites with fewer participants are left out (``included`` False), since their
        propensity model and bootstrap cannot be trusted.
    alpha
        1 - confidence.
    rng
        Seed or generator; each site gets its own child generator.
    **effect_kwargs
        Passed on to :func:`~evaluation.effects.estimate_programme_effect`
        (``per_protocol`` is False unless given).

    Returns
    -------
    SiteEffects

    Raises
    ------
    EstimationError
        Fewer than two sites with enough participants.
    """
    from evaluation.effects import estimate_programme_effect

    data = cohort if isinstance(cohort, pd.DataFrame) else getattr(cohort, "data", None)
    if not isinstance(data, pd.DataFrame):
        raise EstimationError("effect_by_site: pass a comparison cohort or a DataFrame")
    treatment = effect_kwargs.get("treatment", "treated")
    require_columns(data, {"site": site, "treatment": treatment})
    effect_kwargs.setdefault("per_protocol", False)
    gen = np.random.default_rng(rng)
    sites = sorted(data[site].astype(str).unique())
    seeds = gen.spawn(len(sites))
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name, child in zip(sites, seeds, strict=True):
        sub = data[data[site].astype(str) == name]
        n_t = int(sub[treatment].sum())
        base = {"group": name, "n": len(sub), "n_treated": n_t}
        if n_t < min_treated:
            for m in measures:
                rows.append({**base, "measure": m, "included": False,
                             "reason": f"fewer than {min_treated} participants"})  # fmt: skip
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                eff = estimate_programme_effect(
                    sub, n_boot=n_boot, alpha=alpha, rng=child, **effect_kwargs
                )
            except EstimationError as exc:
                eff = None
                reason = str(exc)
        notes.extend(f"{name}: {w.message}" for w in caught if issubclass(w.category, Warning))
        for m in measures:
            if eff is None:
                rows.append({**base, "measure": m, "included": False, "reason": reason})
                continue
            r = eff.measure(m)
            ok = bool(np.isfinite(r.se) and r.se > 0)
            rows.append(
                {**base, "measure": m, "estimate": float(r.estimate), "se": float(r.se),
                 "ci_lower": float(r.ci_lower), "ci_upper": float(r.ci_upper),
                 "included": ok, "reason": "" if ok else "no bootstrap standard error"}
            )  # fmt: skip
    table = pd.DataFrame(rows)
    for col in ("estimate", "se", "ci_lower", "ci_upper"):
        if col not in table:
            table[col] = np.nan
    table["reason"] = table["reason"].fillna("")
    meta = {}
    for m in measures:
        t = table[(table["measure"] == m) & table["included"]]
        if len(t) < 2:
            raise EstimationError(
                f"effect_by_site: fewer than two {site} values with at least {min_treated} "
                f"participants and an estimate of {m}"
            )
        meta[m] = meta_analysis(t["estimate"], t["se"], method=method, labels=t["group"].tolist(),
                                alpha=alpha, test=test, measure=m)  # fmt: skip
    if notes:
        warnings.warn(
            f"effect_by_site: {len(notes)} warnings while estimating sites (kept in .notes)",
            EvaluationWarning,
            stacklevel=2,
        )
    cols = [
        "group",
        "measure",
        "n",
        "n_treated",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "included",
        "reason",
    ]
    return SiteEffects(
        table=table[cols], meta=meta, site=site, n_boot=n_boot, notes=tuple(dict.fromkeys(notes))
    )
