"""Proportional-hazards diagnostics for a Cox fit, as R's ``cox.zph`` (survival >= 3.0).

Each term's test is the score test of adding ``g(t) x`` to the model for the term's
columns, evaluated at ``(beta_hat, 0)`` with the full information matrix of the extended
model (Grambsch and Therneau 1994; the survival 3.0 algorithm, not the older approximation
from scaled residuals). The scaled Schoenfeld residuals estimate ``beta(t)``; a flat smooth
supports proportional hazards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaluation._errors import EstimationError
from evaluation._input import check_choice
from evaluation._results import html_repr
from evaluation.survival import _cox_fit
from evaluation.survival.cox import CoxResult

__all__ = ["ZphResult", "cox_zph"]

_TRANSFORMS = ("km", "identity", "rank")


@dataclass(frozen=True, slots=True, kw_only=True)
class ZphResult:
    """Tests of proportional hazards per term and globally (see :func:`cox_zph`).

    Attributes
    ----------
    table : DataFrame
        ``term, statistic, df, p``: one row per model term and a last row ``GLOBAL``.
    residuals : DataFrame
        One row per event: ``time``, ``g_time`` (the transformed time) and, per term, the
        scaled Schoenfeld residual (``beta + `` the rescaled residual), NaN where a
        covariate is constant within the event's stratum.
    """

    n: int
    events: int
    alpha: float
    method: str
    transform: str
    terms: tuple[str, ...]
    coef: dict[str, float]
    table: pd.DataFrame
    residuals: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """The test table ``term, statistic, df, p``."""
        return self.table.copy()

    def plot_data(self, term: str | None = None, *, frac: float = 2 / 3) -> pd.DataFrame:
        """The numbers behind :meth:`plot` for one term (the first by default), long form.

        Returns
        -------
        DataFrame
            One row per event time, ordered by ``g_time`` (the transformed time on the
            x axis): ``g_time, time, residual`` (scaled Schoenfeld, the points) and
            ``smooth`` (the lowess line, ``frac`` of the points in each window).
        """
        from statsmodels.nonparametric.smoothers_lowess import lowess

        term = self._term(term)
        data = pd.DataFrame(
            {
                "g_time": self.residuals["g_time"],
                "time": self.residuals["time"],
                "residual": self.residuals[term],
            }
        )
        data = data.dropna().sort_values("g_time", kind="stable").reset_index(drop=True)
        if len(data) >= 3:
            fitted = lowess(data["residual"], data["g_time"], frac=frac, return_sorted=False)
            data["smooth"] = fitted
        else:
            data["smooth"] = np.nan
        return data

    def plot(
        self, ax: Any = None, *, term: str | None = None, frac: float = 2 / 3, **kwargs: Any
    ) -> Any:
        """Scaled Schoenfeld residuals of ``term`` against transformed time, with a lowess.

        Draws :meth:`plot_data` (``term``, ``frac``); a horizontal dashed line marks the
        fitted (constant) coefficient. ``kwargs`` go to matplotlib's ``Axes.plot`` of the
        lowess line (``linewidth=``, say). Returns the Axes.
        """
        import matplotlib.pyplot as plt

        from evaluation.presentation.theme import style_for

        term = self._term(term)
        data = self.plot_data(term, frac=frac)
        if ax is None:
            _, ax = plt.subplots()
        style = style_for(0)
        ax.scatter(data["g_time"], data["residual"], s=8, alpha=0.4, color="#999999", linewidths=0)
        ax.plot(data["g_time"], data["smooth"], color=style["color"], **kwargs)
        ax.axhline(self.coef[term], color="black", linestyle="--", linewidth=0.8)
        ax.set_xlabel({"km": "1 - KM(t)", "identity": "t", "rank": "rank(t)"}[self.transform])
        ax.set_ylabel(f"beta(t): {term}")
        return ax

    def _term(self, term: str | None) -> str:
        if term is None:
            return self.terms[0]
        if term not in self.terms:
            raise EstimationError(f"no term {term!r}; terms are {', '.join(self.terms)}")
        return term

    def _repr_html_(self) -> str:
        return html_repr(f"Proportional hazards test (transform {self.transform})", self.table)


def _km_left(prep: _cox_fit.Prepared) -> np.ndarray:
    """``1 - S(t-)`` at every row's exit time, from one unweighted, unstratified KM.

    As ``cox.zph``'s ``km`` transform: the Kaplan–Meier of all rows pooled (counting-process
    risk sets), evaluated just before each time.
    """
    stop, event = prep.stop, prep.event
    start = prep.start
    times = np.unique(stop[event])
    d = np.bincount(np.searchsorted(times, stop[event]), minlength=times.size).astype(float)
    at_risk = stop.size - np.searchsorted(np.sort(stop), times, side="left")
    if start is not None:
        at_risk = at_risk - (stop.size - np.searchsorted(np.sort(start), times, side="left"))
    surv = np.cumprod(1.0 - d / at_risk)
    before = np.searchsorted(times, stop, side="left")  # event times strictly before t
    return 1.0 - np.concatenate([[1.0], surv])[before]


def cox_zph(result: CoxResult, transform: str = "km") -> ZphResult:
    """Test the proportional hazards assumption of a Cox model, as R's ``cox.zph``.

    Parameters
    ----------
    result : CoxResult
        A fit from :func:`evaluation.survival.cox`.
    transform : {"km", "identity", "rank"}
        The function of time ``g(t)`` the coefficients may drift with: one minus the
        left-continuous Kaplan–Meier (R's default), time itself, or its rank.

    Returns
    -------
    ZphResult
        Per-term and global chi-square tests and the scaled Schoenfeld residuals.

    Notes
    -----
    Follows survival 3.x: ``g`` is centred at its mean over the events; the score vector
    and the ``2p x 2p`` information of the model with the extra ``g(t) x`` covariates are
    computed at ``(beta_hat, 0)`` with the fit's ties, weights, strata and risk sets; a
    term's statistic is ``u' I^{-1} u`` over all ``beta`` and that term's ``gamma``.
    Scaled residuals are ``beta + r V^{-1}`` with ``V`` the information divided by the
    number of events in the strata where the covariate varies.

    References
    ----------
    Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based on
    weighted residuals. Biometrika 81:515-526.
    Therneau TM (2020). survival 3.x, ``cox.zph`` (vignette "Validation").

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.survival.cox import cox
    >>> df = pd.DataFrame({"t": [5, 8, 3, 9, 4, 7, 6, 2], "e": [1, 0, 1, 1, 1, 0, 1, 1],
    ...                    "x": [0, 1, 1, 0, 0, 1, 0, 1]})
    >>> z = cox_zph(cox(df, "x", duration="t", event="e"))
    >>> list(z.summary()["term"])
    ['x', 'GLOBAL']
    """
    if not isinstance(result, CoxResult):
        raise EstimationError("cox_zph needs the result of evaluation.survival.cox")
    check_choice(transform, _TRANSFORMS, "transform")
    m = result._model
    prep = m.prep
    stop = prep.stop
    if transform == "identity":
        ttimes = stop
    elif transform == "rank":
        ttimes = stats.rankdata(stop)
    else:
        ttimes = _km_left(prep)
    gtime = ttimes - ttimes[prep.event].mean()
    K = prep.group_n.size
    gtime_group = np.zeros(K)
    gtime_group[prep.event_group] = gtime[prep.event_rows]
    u, imat, schoen = _cox_fit.zph_score(prep, m.final, gtime_group)

    p = len(result.terms)
    term_names = m.design.term_names
    term_cols = m.design.term_columns
    rows = []
    for name, cols in zip(term_names, term_cols, strict=True):
        kk = [*range(p), *(p + c for c in cols)]
        uu = np.concatenate([np.zeros(p), u[[p + c for c in cols]]])
        stat = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
        rows.append((name, stat, len(cols)))
    uu = np.concatenate([np.zeros(p), u[p:]])
    rows.append(("GLOBAL", float(uu @ np.linalg.solve(imat, uu)), p))
    table = pd.DataFrame(rows, columns=["term", "statistic", "df"])
    table["p"] = stats.chi2.sf(table["statistic"], table["df"])

    residuals = _scaled_residuals(result, schoen, imat[:p, :p], ttimes)
    return ZphResult(
        n=result.n,
        events=result.events,
        alpha=result.alpha,
        method="cox.zph",
        transform=transform,
        terms=tuple(term_names),
        coef=_term_coef(result),
        table=table,
        residuals=residuals,
    )


def _term_coef(result: CoxResult) -> dict[str, float]:
    """The reference line of each term's plot: its coefficient, or 1 for multi-column terms."""
    d = result._model.design
    return {
        name: float(result.coef[cols[0]]) if len(cols) == 1 else 1.0
        for name, cols in zip(d.term_names, d.term_columns, strict=True)
    }


def _scaled_residuals(
    result: CoxResult, schoen: np.ndarray, info: np.ndarray, ttimes: np.ndarray
) -> pd.DataFrame:
    m = result._model
    prep = m.prep
    d = m.design
    p = len(result.terms)
    rows = prep.event_rows
    ev_stratum = prep.strata[rows]
    # Events in R's order: by stratum, then time, then row (rows tied in time in reverse
    # order for start/stop data, where R walks the data backwards).
    tiebreak = rows if prep.start is None else -rows
    order = np.lexsort((tiebreak, prep.stop[rows], ev_stratum))
    rows, ev_stratum, schoen = rows[order], ev_stratum[order], schoen[order]
    n_strata = int(prep.strata.max()) + 1
    used = np.zeros((n_strata, p))
    for s in range(n_strata):
        in_s = prep.strata == s
        varies = np.ptp(prep.X[in_s], axis=0) > 0 if in_s.any() else np.zeros(p, bool)
        used[s] = np.where(varies, np.sum(ev_stratum == s), 0)
    # Multi-column terms (factors) are collapsed with their coefficients, as R does.
    nterm = len(d.term_names)
    collapse = np.zeros((p, nterm))
    for i, cols in enumerate(d.term_columns):
        collapse[list(cols), i] = 1.0 if len(cols) == 1 else result.coef[list(cols)]
    wtmat = sum(np.minimum.outer(u, u) for u in used)
    vmean = info / np.where(wtmat == 0, 1.0, wtmat)
    sres = schoen @ collapse
    vmean = collapse.T @ vmean @ collapse
    used_t = used[:, [cols[0] for cols in d.term_columns]]
    scaled = np.full_like(sres, np.nan)
    for s in range(n_strata):
        k = np.flatnonzero(used_t[s] > 0)
        j = ev_stratum == s
        if k.size:
            scaled[np.ix_(j, k)] = sres[np.ix_(j, k)] @ np.linalg.inv(vmean[np.ix_(k, k)]).T
    for i, cols in enumerate(d.term_columns):
        scaled[:, i] += result.coef[cols[0]] if len(cols) == 1 else 1.0
    frame = pd.DataFrame(scaled, columns=list(d.term_names))
    frame.insert(0, "g_time", ttimes[rows])
    frame.insert(0, "time", prep.stop[rows])
    if m.strata_labels is not None:
        labels = m.strata_labels.iloc[ev_stratum].reset_index(drop=True)
        frame = pd.concat([labels, frame], axis=1)
    return frame
