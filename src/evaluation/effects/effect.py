"""The programme's effect on relapse: adjusted curves, effect measures, design quality."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import EstimationError
from evaluation._input import (
    counted,
    event_codes_column,
    numeric_column,
    require_columns,
    rows_text,
    treatment_column,
)
from evaluation._results import html_repr
from evaluation.effects._measures import (
    DAYS_PER_YEAR,
    _curves,
    _hazard_ratio,
    _ipcw,
    _measures,
    _msms,
)
from evaluation.effects.balance import BalanceResult, balance
from evaluation.effects.bootstrap import BootstrapDraws, draw_clusters, weighted_curves
from evaluation.effects.comparison import formula_with_affiliation
from evaluation.effects.matching import MatchResult, match
from evaluation.effects.propensity import PropensityResult, propensity_weights

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from evaluation.cohorts import Cohort

__all__ = ["ProgrammeEffect", "estimate_programme_effect", "BALANCE_COVARIATES"]

BALANCE_COVARIATES: tuple[str, ...] = (
    "sex",
    "age",
    "prior_decisions_5y",
    "prior_custody_5y",
    "prior_custody_days_5y",
    "prior_violence_5y",
    "prior_weapons_5y",
    "prior_drugs_5y",
    "prior_property_5y",
    "days_since_last_decision_capped",
    "no_prior_decision",
    "municipality_group",
    "entry_year",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgrammeEffect:
    """The estimated effect of the programme on relapse, with what is needed to judge it.

    Attributes
    ----------
    table
        One row per analysis and measure: ``analysis`` (``itt``, ``per_protocol``,
        ``naive``), ``estimand``, ``measure``, ``time`` (years; NaN for the HR),
        ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``p``. For risk and hazard ratios
        ``se`` is on the log scale; ``p`` is the two-sided normal test of no effect,
        ``2 * norm.sf(|estimate| / se)`` for differences and
        ``2 * norm.sf(|log(estimate)| / se)`` for ratios (NaN for the groups' own risks).
    curves
        Adjusted curves on days 0..3 years: ``analysis, group, time`` (days), ``estimate``
        (cumulative incidence of relapse), ``ci_lower``, ``ci_upper`` (pointwise bootstrap
        percentiles), ``n_at_risk`` (weighted, rounded to whole persons).
    bootstrap
        The persons each replicate drew and, for weighting, the propensity coefficients
        refitted in each replicate (:class:`~evaluation.effects.BootstrapDraws`), so that
        the bootstrap can be checked replicate by replicate.
    outcome
        What the risks are risks of: ``"relapse"`` (this function), or ``"death"`` and
        ``"relapse_or_death"`` (:func:`~evaluation.effects.estimate_mortality_effect`).
    """

    n: int
    n_persons: int
    n_treated: int
    events: int
    alpha: float
    method: str
    estimand: str
    design: str
    n_boot: int
    table: pd.DataFrame
    curves: pd.DataFrame
    balance: BalanceResult
    propensity: PropensityResult | None
    matching: MatchResult | None
    msms_level: int
    design_quality: dict[str, str]
    at_risk_convention: str = (
        "Number at risk under weighted curves: the sum of weights of persons still followed, "
        "rounded to whole persons."
    )
    notes: tuple[str, ...] = field(default=())
    bootstrap: BootstrapDraws | None = field(default=None, repr=False)
    outcome: str = "relapse"

    def summary(self, analysis: str | None = None) -> pd.DataFrame:
        """Effect measures: ``analysis, estimand, measure, time, estimate, se, ci_lower,
        ci_upper, p`` (all analyses, or the one named)."""
        t = self.table
        return (t if analysis is None else t[t["analysis"] == analysis]).reset_index(drop=True)

    def measure(self, measure: str, analysis: str = "itt") -> pd.Series:
        """One row of the table (for example ``"risk_difference_1y"``)."""
        t = self.table
        row = t[(t["analysis"] == analysis) & (t["measure"] == measure)]
        if row.empty:
            raise KeyError(f"no measure {measure!r} in analysis {analysis!r}")
        return row.iloc[0]

    def plot_data(self) -> pd.DataFrame:
        """The numbers behind :meth:`plot`, long form (the adjusted curves).

        Returns
        -------
        DataFrame
            One row per ``analysis`` (``"itt"``, ``"pp"``), ``group`` (``"participant"``,
            ``"comparison"``) and ``time`` (days): ``estimate, ci_lower, ci_upper`` (the
            cumulative incidence of relapse) and the weighted ``n_at_risk``.
        """
        return self.curves.copy()

    def plot(
        self,
        ax: Axes | None = None,
        *,
        analysis: str = "itt",
        what: Literal["relapse", "relapse_free"] = "relapse",
    ) -> Axes:
        """Adjusted cumulative incidence of the outcome (or the share without it) in both
        groups; ``what="relapse"`` draws the incidence whatever the outcome."""
        from evaluation.presentation.graphics.effects import curves_plot

        c = self.curves[self.curves["analysis"] == analysis].copy()
        c["group"] = c["group"].map({"participant": "participants", "comparison": "comparisons"})
        if what == "relapse_free":
            c["estimate"], c["ci_lower"], c["ci_upper"] = (
                1 - c["estimate"],
                1 - c["ci_upper"],
                1 - c["ci_lower"],
            )
        keys = _SHARE_LABELS.get(self.outcome, ("share_relapsed", "share_not_relapsed"))
        key = keys[0] if what == "relapse" else keys[1]
        return curves_plot(c, ax=ax, what=key)

    def plot_balance(self, ax: Axes | None = None) -> Axes:
        """Love plot of the covariate balance before and after adjustment."""
        return self.balance.plot(ax=ax)

    def plot_overlap(self, ax: Axes | None = None, *, min_cell: int = DEFAULT_MIN_CELL) -> Axes:
        """Propensity-score overlap of the groups."""
        return self.balance.plot_overlap(ax=ax, min_cell=min_cell)

    def number_at_risk(
        self, analysis: str = "itt", years: tuple[int, ...] = (0, 1, 2, 3)
    ) -> pd.DataFrame:
        """Weighted, rounded number at risk per group at whole years (see the convention)."""
        c = self.curves[self.curves["analysis"] == analysis]
        days = [int(np.floor(y * DAYS_PER_YEAR)) for y in years]
        out = c[c["time"].isin(days)][["group", "time", "n_at_risk"]].copy()
        out["time"] = out["time"].map(dict(zip(days, years, strict=True)))
        return out.pivot(index="group", columns="time", values="n_at_risk")

    def sentence(self, lang: str = "sv") -> str:
        """A plain-language sentence about the 1-year risk difference, cautious when the
        interval includes no effect."""
        from evaluation.presentation.formatting import format_number
        from evaluation.presentation.labels import label

        if self.outcome != "relapse":
            raise EstimationError(
                f"sentence() describes the effect on relapse; this result's outcome is "
                f"{self.outcome!r}"
            )
        r = self.measure("risk_difference_1y")
        pts = format_number(100 * abs(r.estimate), lang, decimals=1)
        lo = format_number(100 * r.ci_lower, lang, decimals=1)
        hi = format_number(100 * r.ci_upper, lang, decimals=1)
        lower = r.estimate < 0
        # The prose is in the bilingual label table, as every other text of the package.
        if r.ci_lower <= 0 <= r.ci_upper:
            direction = label("effect_lower" if lower else "effect_higher", lang)
            return label("effect_sentence_null", lang, pts=pts, direction=direction, lo=lo, hi=hi)
        direction = label("effect_fewer" if lower else "effect_more", lang)
        return label("effect_sentence", lang, pts=pts, direction=direction, lo=lo, hi=hi)

    def _repr_html_(self) -> str:
        return html_repr(
            f"Programme effect ({self.estimand}, {self.method}, {self.design})",
            self.summary()[["analysis", "measure", "estimate", "ci_lower", "ci_upper", "p"]],
            notes=[self.design_quality["en"], self.at_risk_convention],
        )


#: Axis labels of the curves by outcome: the incidence, and the share without the outcome.
_SHARE_LABELS: dict[str, tuple[str, str]] = {
    "relapse": ("share_relapsed", "share_not_relapsed"),
    "death": ("share_died", "share_alive"),
    "relapse_or_death": ("share_relapsed_or_died", "share_neither_relapsed_nor_died"),
}


def _as_data(cohort_or_data: Cohort | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(cohort_or_data, pd.DataFrame):
        return cohort_or_data, "user data"
    data = getattr(cohort_or_data, "data", None)
    if not isinstance(data, pd.DataFrame):
        raise EstimationError("pass a comparison cohort or a DataFrame")
    return data, str(getattr(cohort_or_data, "meta", {}).get("design", "cohort"))


def _check_outcome(data: pd.DataFrame, duration: str, event: str) -> None:
    """Whole days of follow-up and the relapse cohort's event codes."""
    require_columns(data, {"duration": duration, "event": event})
    dur = numeric_column(data, duration, "duration")
    bad = dur != np.round(dur)
    if bad.any():
        raise EstimationError(
            f"duration column {duration!r} must hold whole days; "
            f"{counted(int(bad.sum()), 'row does', 'rows do')} not ({rows_text(data, bad)})"
        )
    bad = ~np.isin(event_codes_column(data, event), (0, 1, 2, 3))
    if bad.any():
        raise EstimationError(
            f"event column {event!r} must hold 0 censored, 1 relapse, 2 death or "
            f"3 emigration; {counted(int(bad.sum()), 'row does', 'rows do')} not "
            f"({rows_text(data, bad)})"
        )


def estimate_programme_effect(
    cohort_or_data: Cohort | pd.DataFrame,
    *,
    treatment: str = "treated",
    duration: str = "duration_days",
    event: str = "event",
    cluster: str = "person_id",
    dropout: str = "dropout_days",
    trial: str = "trial",
    weights: str = "weight",
    design: str | None = None,
    estimand: Literal["ATT", "ATE", "ATO"] = "ATT",
    method: Literal["weighting", "matching"] = "weighting",
    formula: str | None = None,
    covariates: tuple[str, ...] | None = None,
    n_boot: int = 500,
    times_years: tuple[int, ...] = (1, 2, 3),
    tau_years: float = 3.0,
    per_protocol: bool = True,
    k: int = 1,
    caliper: float = 0.2,
    alpha: float = 0.05,
    rng: np.random.Generator | int | None = None,
) -> ProgrammeEffect:
    """Estimate the programme's effect on relapse with honest intervals.

    Parameters
    ----------
    cohort_or_data
        A :func:`comparison_cohort` or a DataFrame with the columns below and the
        covariates of ``formula``.
    treatment
        Column with 1 for participants and 0 for comparisons.
    duration
        Column of follow-up from time zero in whole days.
    event
        Column of the outcome code: 0 censored, 1 relapse, 2 death, 3 emigration.
    cluster
        Column identifying persons (clusters for the bootstrap and the Cox variance).
    dropout
        Column of days from the start to the end of a dropped-out episode (missing
        otherwise), for the per-protocol analysis; without it, no per-protocol analysis.
    trial
        Column of the trial (time-zero group) within which matching is exact, when present.
    weights
        Column of the matching weights a risk-set-matching cohort holds (used with
        ``method="matching"`` and ``design="risk-set-matching"``).
    design
        Label of the design (taken from the cohort when not given).
    estimand
        ``"ATT"`` (effect among those who started, the default), ``"ATE"`` or ``"ATO"``.
    method
        ``"weighting"`` (inverse-probability weights from the propensity model) or
        ``"matching"`` (1:k nearest-neighbour matching within ``caliper`` SD of the logit
        score; comparisons reused across trials are fine, within a trial not).
    formula
        Propensity model (patsy). None: register covariates at time zero
        (``DEFAULT_PROPENSITY_FORMULA``) plus gang affiliation when the cohort knows
        everyone's (:func:`~evaluation.effects.comparison.formula_with_affiliation`), the
        same model as the effects on death and on the number of relapse offences.
    covariates
        Covariates whose balance is reported. None: ``BALANCE_COVARIATES``, plus
        ``affiliation`` when the default model adjusts for it.
    n_boot
        Bootstrap replicates. Each resamples persons with replacement (all their trials
        together) and, for weighting, refits the propensity model, so the intervals
        account for estimating the score; what each replicate drew and the coefficients
        it refitted are kept in ``.bootstrap``.
    times_years, tau_years
        Years at which risks are compared; horizon of the restricted mean.
    per_protocol
        Also estimate the effect among completers: participants censored when they drop
        out, weighted by the inverse probability of not having dropped out (a Cox model of
        dropout on baseline covariates); the propensity model is refitted in every
        replicate, the dropout model is held fixed.
    k, caliper
        Matching only (a risk-set-matching cohort is used with the matches it holds).
    alpha
        1 - confidence level.
    rng
        Seed or generator for the bootstrap.

    Returns
    -------
    ProgrammeEffect
        ``.summary()`` one row per analysis and measure: risk difference and risk ratio of
        relapse at 1, 2 and 3 years (adjusted Aalen–Johansen cumulative incidence, death
        and emigration competing), the difference in restricted mean relapse-free time to
        3 years (days), and the marginal hazard ratio (weighted cause-specific Cox model,
        cluster-robust variance by person); ``analysis`` is ``itt`` (everyone who started),
        ``per_protocol`` (completers, IPCW) or ``naive`` (unadjusted, for contrast).

    Notes
    -----
    Intervals of risks, risk ratios and RMST are bootstrap percentile intervals; their
    p-values are Wald tests with the bootstrap standard error (log scale for ratios). The
    hazard ratio's interval is the cluster-robust Cox interval, which treats the weights
    as known.

    References
    ----------
    Austin PC (2016). Variance estimation when using inverse probability of treatment
    weighting (IPTW) with survival analysis. Statistics in Medicine 35:5642-5655.
    Robins JM, Finkelstein DM (2000). Correcting for noncompliance and dependent censoring
    in an AIDS clinical trial with inverse probability of censoring weighted (IPCW)
    log-rank tests. Biometrics 56:779-788.
    Sherman LW et al. (1997). Preventing crime: what works, what doesn't, what's promising.
    (The Maryland Scientific Methods Scale.)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"person_id": np.arange(400), "treated": rng.integers(0, 2, 400),
    ...     "age": rng.normal(30, 5, 400), "duration_days": rng.integers(1, 1200, 400),
    ...     "event": rng.integers(0, 2, 400)})
    >>> eff = estimate_programme_effect(df, formula="age", covariates=("age",), n_boot=20,
    ...     per_protocol=False, rng=1)
    >>> eff.summary("itt")["measure"].tolist()[:2]
    ['risk_difference_1y', 'risk_ratio_1y']
    """
    data, design_label = _as_data(cohort_or_data)
    design = design or design_label
    if formula is None:
        formula = formula_with_affiliation(data)
    if covariates is None:
        covariates = BALANCE_COVARIATES
        if "C(affiliation)" in formula:
            covariates = (*covariates, "affiliation")
    if method not in ("weighting", "matching"):
        raise EstimationError(f"method must be 'weighting' or 'matching', not {method!r}")
    if n_boot < 20:
        raise EstimationError(f"n_boot must be at least 20 for percentile intervals, not {n_boot}")
    # Checked before the index is reset, so that messages name the caller's rows.
    t = treatment_column(data, treatment)
    _check_outcome(data, duration, event)
    require_columns(data, {"cluster": cluster})
    data = data.reset_index(drop=True)
    gen = np.random.default_rng(rng)
    horizon = int(np.floor(max(max(times_years), tau_years) * DAYS_PER_YEAR))
    tau = tau_years * DAYS_PER_YEAR
    dur = data[duration].to_numpy(dtype=np.int64)
    ev = data[event].to_numpy(dtype=np.int64)
    draws = draw_clusters(data[cluster].to_numpy(), n_boot, gen)
    F = draws.frequencies()

    ps = propensity_weights(data, formula, treatment=treatment, estimand=estimand)
    mres: MatchResult | None = None
    if method == "weighting":
        adj: PropensityResult | MatchResult | pd.Series = ps
        rep = weighted_curves(
            dur,
            ev,
            t,
            ps.design,
            F,
            estimand=estimand,
            horizon=horizon,
            tau=tau,
            beta0=ps.coefficients["coef"].to_numpy(),
        )
        label = f"{estimand} (weighting)"
        assert rep.coefficients is not None
        draws = replace(
            draws,
            propensity_coefficients=pd.DataFrame(
                rep.coefficients.T,
                columns=ps.coefficients["term"].tolist(),
                index=pd.RangeIndex(n_boot + 1, name="replicate"),
            ),
        )
    else:
        if design == "risk-set-matching" and weights in data.columns:
            # Already matched within each participant's risk set: keep those matches.
            fixed = data[weights].to_numpy(dtype=np.float64)
        else:
            exact = [trial] if trial in data.columns else None
            mres = match(data, treatment=treatment, score=ps, k=k, caliper=caliper, exact=exact)
            fixed = mres.weights.to_numpy()
        adj = mres if mres is not None else data[weights]
        rep = weighted_curves(
            dur,
            ev,
            t,
            None,
            F,
            estimand="ATT",
            horizon=horizon,
            tau=tau,
            fixed_weights=fixed,
        )
        label = "ATT (matching)"
    w0 = rep.weights
    bal = balance(data, list(covariates), treatment=treatment, weights=adj)
    rows = _measures(rep, analysis="itt", estimand=label, times=times_years, tau=tau, alpha=alpha)
    columns = {"treatment": treatment, "duration": duration, "event": event, "cluster": cluster}
    rows.append(_hazard_ratio(data, w0, analysis="itt", estimand=label, alpha=alpha, **columns))
    curves = [_curves(rep, "itt", alpha)]

    naive = weighted_curves(
        dur, ev, t, None, F, estimand="ATT", horizon=horizon, tau=tau, fixed_weights=np.ones(len(t))
    )
    rows += _measures(
        naive, analysis="naive", estimand="unadjusted", times=times_years, tau=tau, alpha=alpha
    )
    rows.append(
        _hazard_ratio(
            data,
            np.ones(len(t)),
            analysis="naive",
            estimand="unadjusted",
            alpha=alpha,
            **columns,
        )
    )
    notes: list[str] = []
    if per_protocol:
        if dropout not in data.columns:
            notes.append(f"per protocol not estimated: no {dropout} column")
        else:
            part = data[t == 1]
            g, pp_part = _ipcw(part, horizon, duration=duration, event=event, dropout=dropout)
            pp = data.copy()
            pp.loc[t == 1, [duration, event]] = pp_part[[duration, event]].to_numpy()
            pdur = pp[duration].to_numpy(dtype=np.int64)
            pev = pp[event].to_numpy(dtype=np.int64)
            if method == "weighting":
                prep = weighted_curves(
                    pdur,
                    pev,
                    t,
                    ps.design,
                    F,
                    estimand=estimand,
                    horizon=horizon,
                    tau=tau,
                    beta0=ps.coefficients["coef"].to_numpy(),
                    weight_time=g,
                )
            else:
                prep = weighted_curves(
                    pdur,
                    pev,
                    t,
                    None,
                    F,
                    estimand="ATT",
                    horizon=horizon,
                    tau=tau,
                    fixed_weights=w0,
                    weight_time=g,
                )
            pl = f"{label.split(' ')[0]} per protocol (completers, IPCW)"
            rows += _measures(
                prep, analysis="per_protocol", estimand=pl, times=times_years, tau=tau, alpha=alpha
            )
            curves.append(_curves(prep, "per_protocol", alpha))
            notes.append(
                "per protocol: participants censored at dropout and weighted by the inverse "
                "probability of staying (Cox model of dropout, weights truncated at 20); "
                "no hazard ratio (time-varying weights)"
            )
    table = pd.DataFrame(rows)
    level, quality = _msms(bal.balanced, method)
    persons = data[cluster].nunique()
    return ProgrammeEffect(
        n=len(data),
        n_persons=int(persons),
        n_treated=int(t.sum()),
        events=int((ev == 1).sum()),
        alpha=alpha,
        method=method,
        estimand=estimand,
        design=design,
        n_boot=n_boot,
        table=table,
        curves=pd.concat(curves, ignore_index=True),
        balance=bal,
        propensity=ps,
        matching=mres,
        msms_level=level,
        design_quality=quality,
        notes=tuple(notes),
        bootstrap=draws,
    )
