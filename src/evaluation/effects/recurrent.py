"""The programme's effect on every relapse offence: expected counts and their ratio.

From a comparison cohort's time zeros, the counting-process rows of every relapse offence
(:func:`evaluation.cohorts.recurrence_rows`, the one builder) are weighted by the
propensity model's ATT weights, and each arm's expected number of relapse offences per
person is the Ghosh–Lin marginal mean with death and emigration ending the process (a
dead or emigrated person commits no more offences that Swedish courts decide; an MCF
would count the offences of the living only). The bootstrap resamples persons and refits
the propensity model in every replicate, as :func:`estimate_programme_effect` does
(:mod:`evaluation.effects.bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation._input import require_columns, treatment_column
from evaluation._keyed import to_days
from evaluation._results import html_repr
from evaluation.cohorts import Cohort, recurrence_rows, recurrence_totals
from evaluation.cohorts.definitions import RelapseDefinition, resolve_definition
from evaluation.effects._logit import fit_logistic_batch, scores_batch
from evaluation.effects._measures import DAYS_PER_YEAR, _interval
from evaluation.effects.bootstrap import BootstrapDraws, draw_clusters
from evaluation.effects.comparison import formula_with_affiliation
from evaluation.effects.propensity import PropensityResult, ipw, propensity_weights
from evaluation.survival._recurrent_core import risk_sets
from evaluation.survival.recurrent import RecurrentCurves, ghosh_lin
from evaluation.survival.recurrent_models import RateModelResult, rate_model

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from evaluation.registers import Registers

__all__ = ["RecurrentEffect", "estimate_recurrent_effect"]

#: Terminal codes of the recurrence rows that end the process: death and emigration.
TERMINAL = (2, 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurrentEffect:
    """The programme's effect on the number of relapse offences.

    Attributes
    ----------
    table
        One row per measure: ``measure`` (``expected_offences_participants_1y``,
        ``..._comparisons_1y``, ``expected_offences_difference_1y``,
        ``expected_offences_ratio_1y``, ... by year, and ``rate_ratio``, the ratio of
        offences per day in the community over the whole follow-up), ``time`` (years),
        ``estimate``, ``se`` (bootstrap; log scale for ratios), ``ci_lower``, ``ci_upper``
        (bootstrap percentiles), ``p``.
    curves
        The ATT-weighted Ghosh–Lin curves of both arms (:class:`RecurrentCurves`; their
        standard errors treat the weights as known, the table's intervals do not).
    rows
        The counting-process rows of the expected counts (one process per person-trial:
        ``entry_id`` is the comparison cohort's row; custody included), with the
        ``weight`` of the estimate.
    rows_at_liberty
        The same follow-up with custody periods as gaps: the exposure of ``rate_ratio``.
    rate_model
        The weighted Poisson model of offences on treatment with offset log(days in the
        community), cluster-robust by person.
    bootstrap
        The persons each replicate drew and the propensity coefficients it refitted.
    """

    n: int
    n_persons: int
    n_treated: int
    events: int
    estimand: str
    n_boot: int
    alpha: float
    times_years: tuple[float, ...]
    table: pd.DataFrame
    curves: RecurrentCurves
    rows: pd.DataFrame = field(repr=False)
    rows_at_liberty: pd.DataFrame = field(repr=False)
    propensity: PropensityResult = field(repr=False)
    rate_model: RateModelResult = field(repr=False)
    bootstrap: BootstrapDraws | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """The measures (``table``)."""
        return self.table.copy()

    def measure(self, measure: str) -> pd.Series:
        """One row of ``table`` by its measure name."""
        hit = self.table[self.table["measure"] == measure]
        if hit.empty:
            raise EstimationError(
                f"no measure {measure!r}; there are {', '.join(self.table['measure'])}"
            )
        return hit.iloc[0]

    def plot_data(self) -> pd.DataFrame:
        """The weighted curves of both arms (``RecurrentCurves.plot_data``).

        Returns
        -------
        DataFrame
            ``group, time`` (days), ``estimate, ci_lower, ci_upper, method``.
        """
        return self.curves.plot_data()

    def plot(
        self,
        ax: Axes | None = None,
        *,
        time_unit: str = "days",
        ci: bool = True,
        lang: str | None = None,
        xticks: Sequence[float] | None = None,
        ylabel: str | None = None,
    ) -> Axes:
        """Both arms' expected number of relapse offences by time since time zero (the
        keywords as in :meth:`RecurrentCurves.plot`).

        Returns
        -------
        Axes
        """
        return self.curves.plot(
            ax=ax, time_unit=time_unit, ci=ci, lang=lang, xticks=xticks, ylabel=ylabel
        )

    def _repr_html_(self) -> str:
        return html_repr(
            f"Effect on relapse offences ({self.estimand}, Ghosh–Lin, death and emigration "
            "terminal)",
            self.table,
            notes=[
                f"{self.n_treated} participants, {self.n} person-trials, {self.n_persons} "
                f"persons, {self.events} relapse offences; {self.n_boot} bootstrap replicates "
                "refitting the propensity model",
                *self.notes,
            ],
        )


def estimate_recurrent_effect(
    registers: Registers,
    cohort: Cohort | pd.DataFrame,
    *,
    treatment: str = "treated",
    cluster: str = "person_id",
    formula: str | None = None,
    estimand: Literal["ATT", "ATE", "ATO"] = "ATT",
    definition: str | RelapseDefinition | None = None,
    times_years: Sequence[float] = (1, 2, 3),
    censor_at_programme_start: bool | None = None,
    n_boot: int = 200,
    alpha: float = 0.05,
    rng: np.random.Generator | int | None = None,
) -> RecurrentEffect:
    """Estimate the programme's effect on the expected number of relapse offences.

    Parameters
    ----------
    registers
        The registers the comparison cohort was built from (the offences after time zero
        are read from them).
    cohort
        A comparison cohort (:func:`evaluation.effects.comparison_cohort`) or its data:
        one row per person and trial with ``person_id``, ``entry_date`` (time zero), the
        treatment and the propensity model's covariates.
    treatment, cluster, estimand
        As in :func:`estimate_programme_effect`.
    formula
        The propensity model; None: ``DEFAULT_PROPENSITY_FORMULA`` plus ``C(affiliation)``
        when the cohort knows every person's gang affiliation
        (:func:`~evaluation.effects.comparison.formula_with_affiliation`; affiliation
        raises both offending and entry: without it the estimates lean towards harm when
        nothing else confounds, ``benchmarks/README.md``, recurrent coverage).
    definition
        Which offences count (the cohort's definition by default, else ``bra-final``).
    times_years
        Years at which the expected counts are compared; follow-up ends at the largest.
    censor_at_programme_start
        Censor a comparison at its own later programme start (the cohort's setting by
        default, which is True: "never start").
    n_boot
        Bootstrap replicates (persons resampled, the propensity model refitted in each).
    alpha
        1 - confidence level.
    rng
        Seed or generator for the bootstrap.

    Returns
    -------
    RecurrentEffect

    Notes
    -----
    Offences count from the day after time zero, as in the comparison cohort and its
    truth; a day ``d`` after time zero is the interval ``(d, d + 1]``, so the count "by
    ``y`` years" (offences on days 1 .. ``floor(365.25 y)``) is the curve at
    ``floor(365.25 y) + 1``. The expected counts follow calendar time since time zero,
    custody included (a person in custody stays in the count, committing fewer offences):
    treating custody as a gap would estimate the count of a life spent entirely at
    liberty, about a fifth higher on the synthetic registers than what people commit.
    The expected counts' ratio is the truth's ``rate_ratio``; ``rate_ratio`` here is the
    ratio of offences per day at liberty (custody as gaps), a different quantity when
    the programme changes custody or death.

    References
    ----------
    Ghosh D, Lin DY (2000). Nonparametric analysis of recurrent events and death.
    Biometrics 56:554-562.
    Austin PC (2016). Variance estimation when using inverse probability of treatment
    weighting (IPTW) with survival analysis. Statistics in Medicine 35:5642-5655.
    """
    data = cohort.data if isinstance(cohort, Cohort) else cohort
    if definition is None:
        definition = cohort.definition if isinstance(cohort, Cohort) else "bra-final"
    d = resolve_definition(definition)
    if censor_at_programme_start is None:
        meta = cohort.meta if isinstance(cohort, Cohort) else {}
        censor_at_programme_start = bool(meta.get("censor_at_programme_start", True))
    if n_boot < 20:
        raise EstimationError(f"n_boot must be at least 20 for percentile intervals, not {n_boot}")
    years = tuple(float(y) for y in times_years)
    if not years or min(years) <= 0:
        raise EstimationError(f"times_years must be positive years, not {times_years!r}")
    t = treatment_column(data, treatment)
    require_columns(data, {"cluster": cluster, "entry_date": "entry_date"})
    data = data.reset_index(drop=True)
    gen = np.random.default_rng(rng)

    entries = data[["person_id", "entry_date"]].copy()
    if censor_at_programme_start:
        entries["censor_date"] = _later_start(registers, data, t)
    build: dict[str, Any] = {
        "definition": d,
        "horizon_years": max(years),
        "censor_date": "censor_date" if censor_at_programme_start else None,
        "from_day_after": True,
    }
    # Expected counts follow calendar time since time zero, custody included (a person in
    # custody is still counted, offending less): the offences a person commits as they
    # live, which the truth counts. Rates divide by days at liberty (custody as gaps).
    rows = recurrence_rows(registers, entries, custody_gaps=False, **build)
    at_liberty = recurrence_rows(registers, entries, custody_gaps=True, **build)
    eid = rows["entry_id"].to_numpy()
    draws = draw_clusters(data[cluster].to_numpy(), n_boot, gen)
    F = draws.frequencies()
    if formula is None:
        formula = formula_with_affiliation(data)
    ps = propensity_weights(data, formula, treatment=treatment, estimand=estimand)
    beta = fit_logistic_batch(ps.design, t, F, start=ps.coefficients["coef"].to_numpy())
    W = F * ipw(t, scores_batch(ps.design, beta), estimand, freq=F)  # (n, 1 + B)
    draws = _with_coefficients(draws, beta, ps)

    eval_days = np.array([np.floor(y * DAYS_PER_YEAR) + 1 for y in years])
    start = rows["start"].to_numpy(np.float64)
    stop = rows["stop"].to_numpy(np.float64)
    count = rows["n_offences"].to_numpy(np.float64)
    death = np.isin(rows["terminal"].to_numpy(), TERMINAL).astype(np.float64)
    arm = t[eid]
    mu = {}
    for g in (1, 0):
        m = arm == g
        mu[g] = _ghosh_lin_at(start[m], stop[m], count[m], death[m], W[eid[m]], eval_days)
    # Offences per day in the community over the follow-up, per arm and replicate.
    lid = at_liberty["entry_id"].to_numpy()
    days_at_risk = np.bincount(
        lid, weights=(at_liberty["stop"] - at_liberty["start"]).to_numpy(float), minlength=len(data)
    )
    offences = np.bincount(
        lid, weights=at_liberty["n_offences"].to_numpy(float), minlength=len(data)
    )
    rates = {
        g: (W[t == g].T @ offences[t == g]) / (W[t == g].T @ days_at_risk[t == g]) for g in (1, 0)
    }

    out: list[dict[str, Any]] = []
    for k, y in enumerate(years):
        label = f"{y:g}y"
        for g, name in ((1, "participants"), (0, "comparisons")):
            out.append(_row(f"expected_offences_{name}_{label}", y, mu[g][k], alpha))
        out.append(_row(f"expected_offences_difference_{label}", y, mu[1][k] - mu[0][k], alpha))
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(
                _row(f"expected_offences_ratio_{label}", y, mu[1][k] / mu[0][k], alpha, log=True)
            )
    out.append(_row("rate_ratio", max(years), rates[1] / rates[0], alpha, log=True))
    table = pd.DataFrame(out)

    rows = rows.assign(weight=W[eid, 0], treated=arm, group=data["group"].to_numpy()[eid])
    curves = ghosh_lin(
        rows[rows["weight"] > 0],
        start="start",
        stop="stop",
        event="n_offences",
        terminal="terminal",
        terminal_codes=TERMINAL,
        id=cluster,
        by="group",
        weights="weight",
        alpha=alpha,
    )
    at_liberty = at_liberty.assign(weight=W[lid, 0], treated=t[lid])
    totals = recurrence_totals(at_liberty)
    totals = totals[(totals["exposure_days"] > 0) & (totals["weight"] > 0)]
    rm = rate_model(
        totals,
        treatment,
        count="n_offences",
        exposure="exposure_days",
        cluster=cluster,
        weights="weight",
        alpha=alpha,
    )
    notes = (
        "expected offences: Ghosh–Lin marginal mean in calendar time since time zero, "
        "custody included; death and emigration end the process; offences from the day "
        "after time zero",
        "rate_ratio: offences per day in the community (weighted Poisson); its model-based "
        "interval with cluster-robust errors is in .rate_model",
    )
    return RecurrentEffect(
        n=len(data),
        n_persons=int(data[cluster].nunique()),
        n_treated=int(t.sum()),
        events=int(count.sum()),
        estimand=estimand,
        n_boot=n_boot,
        alpha=alpha,
        times_years=years,
        table=table,
        curves=curves,
        rows=rows,
        rows_at_liberty=at_liberty,
        propensity=ps,
        rate_model=rm,
        bootstrap=draws,
        notes=notes,
    )


def _row(
    measure: str, year: float, values: np.ndarray, alpha: float, log: bool = False
) -> dict[str, Any]:
    lo, hi, se, p = _interval(float(values[0]), values[1:], alpha, log=log)
    return {
        "measure": measure,
        "time": year,
        "estimate": float(values[0]),
        "se": se,
        "ci_lower": lo,
        "ci_upper": hi,
        "p": p if ("difference" in measure or "ratio" in measure) else np.nan,
    }


def _later_start(registers: Registers, data: pd.DataFrame, t: np.ndarray) -> pd.Series:
    """Each comparison's first programme start after its time zero (NaT otherwise)."""
    prog = registers.programme
    first = (
        prog.groupby("person_id")["start_date"].min()
        if len(prog)
        else pd.Series(dtype="datetime64[ns]")
    )
    start = data["person_id"].map(first)
    later = (t == 0) & (to_days(start) > to_days(data["entry_date"]))
    return start.where(later)


def _with_coefficients(
    draws: BootstrapDraws, beta: np.ndarray, ps: PropensityResult
) -> BootstrapDraws:
    from dataclasses import replace

    return replace(
        draws,
        propensity_coefficients=pd.DataFrame(
            beta.T,
            columns=ps.coefficients["term"].tolist(),
            index=pd.RangeIndex(beta.shape[1], name="replicate"),
        ),
    )


def _ghosh_lin_at(
    start: np.ndarray,
    stop: np.ndarray,
    count: np.ndarray,
    death: np.ndarray,
    W: np.ndarray,
    at: np.ndarray,
) -> np.ndarray:
    """Ghosh–Lin means at times ``at`` for every column of weights ``W`` (rows, K): (len(at), K).

    The estimate of :func:`evaluation.survival.ghosh_lin` without its variance, for all
    bootstrap replicates at once.
    """
    has = (count > 0) | (death > 0)
    times = np.unique(stop[has])
    K = W.shape[1]
    if len(times) == 0:
        return np.zeros((len(at), K))
    rs = risk_sets(start, stop, times, np.ones(len(start)), np.zeros(len(start), np.int64))
    T = len(times)
    Y = np.empty((T, K))
    dN = np.empty((T, K))
    dD = np.empty((T, K))
    j = rs.b - 1
    ev, de = count > 0, death > 0
    for k in range(K):
        w = W[:, k]
        diff = np.bincount(rs.a, weights=w, minlength=T + 1) - np.bincount(
            rs.b, weights=w, minlength=T + 1
        )
        Y[:, k] = np.cumsum(diff)[:T]
        dN[:, k] = np.bincount(j[ev], weights=(w * count)[ev], minlength=T)
        dD[:, k] = np.bincount(j[de], weights=(w * death)[de], minlength=T)
    with np.errstate(divide="ignore", invalid="ignore"):
        dLr = np.where(Y > 0, dN / Y, 0.0)
        dLd = np.where(Y > 0, dD / Y, 0.0)
    surv = np.cumprod(1.0 - dLd, axis=0)
    s_minus = np.vstack([np.ones((1, K)), surv[:-1]])
    mu = np.cumsum(s_minus * dLr, axis=0)
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx[:, None] >= 0, mu[np.maximum(idx, 0)], 0.0)
