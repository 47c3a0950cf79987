"""Power by simulation: replicate the design with a chosen effect, count the detections.

One replication (:func:`power_replication`) draws a study and analyses it as the
evaluation would; :func:`simulated_power` runs ``R`` of them, each seeded by its own child
of ``numpy.random.SeedSequence(seed)``, so the answer does not depend on the order or the
place in which replications run (in-process, on local processes or on Dask).

Two designs:

``"sequential-trials"`` / ``"risk-set-matching"`` (the real design)
    The generator (:func:`evaluation.synthetic.simulate_registers`) with the effect
    ``effect_hr`` on offending from the programme start on (during, after completion and
    after dropout alike, so the intention-to-treat hazard ratio is about ``effect_hr``),
    no unobserved confounding unless a config override asks for it, and a population
    scaled to give about ``intake_per_year`` eligible starters a year
    (:data:`PERSONS_PER_STARTER`); the comparison cohort of
    :func:`evaluation.effects.comparison_cohort` over ``follow_up_years`` of intake, with
    data extracted ``extra_follow_up_years`` plus the definition's buffer after the last
    intake; :func:`evaluation.effects.estimate_programme_effect` with its own intervals
    (the cluster-robust Cox interval of the hazard ratio, the bootstrap percentile interval
    of the 1-year risk difference). A replication detects the effect when the interval of
    ``measure`` excludes no effect.
``"exponential"`` (the closed forms' world)
    Participants and comparisons enter uniformly over ``follow_up_years``, relapse at
    exponential times (the comparisons' risk within a year ``control_risk``, participants'
    hazard times ``effect_hr``) and are censored ``extra_follow_up_years`` after the last
    entry; the log-rank test at ``alpha`` decides. Schoenfeld's formula holds here.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError, EvaluationError
from evaluation._results import html_repr
from evaluation.design._design_effects import weighting_design_effect
from evaluation.design.closed_form import hazard_ratio_power

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "DESIGNS",
    "PERSONS_PER_STARTER",
    "PowerResult",
    "Runner",
    "power_replication",
    "power_study",
    "simulated_power",
    "summarise_power",
]

DESIGNS: tuple[str, ...] = ("sequential-trials", "risk-set-matching", "exponential")
MEASURES: tuple[str, ...] = ("hazard_ratio", "risk_difference_1y")

PERSONS_PER_STARTER = 163.0
"""Persons in the generator's population per eligible programme starter a year.

Measured on the default :class:`~evaluation.synthetic.SimulationConfig` without unobserved
confounding (``motivation_strength=0``): 6,000 persons give about 37 first starts a year
that are eligible for the comparison cohort (2015–2019, two seeds: 6.0 and 6.3 per 1,000
persons and year). The realised intake of each replication is in its table."""

PROGRAMME_START = "2015-01-01"
DAYS_PER_YEAR = 365.25

Runner = Callable[[Callable[[Any], dict[str, Any]], list[Any]], list[dict[str, Any]]]
"""A map: ``runner(function, items)`` returns ``[function(item) for item in items]`` in
order, wherever it runs them (``lambda f, xs: list(map(f, xs))`` in-process; with Dask,
``lambda f, xs: client.gather(client.map(f, xs))``)."""


def _child(ss: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The k-th child of ``ss``, without the state that ``spawn`` keeps: the same
    replication seed gives the same children however often it is used."""
    return np.random.SeedSequence(entropy=ss.entropy, spawn_key=(*ss.spawn_key, k))


def _as_seed_sequence(seed: np.random.SeedSequence | int) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(int(seed))


def _check(effect_hr: float, intake_per_year: float, follow_up_years: float) -> None:
    if not (np.isfinite(effect_hr) and effect_hr > 0):
        raise EstimationError(f"effect_hr must be positive, got {effect_hr}")
    if not intake_per_year > 0:
        raise EstimationError(f"intake_per_year must be positive, got {intake_per_year}")
    if not follow_up_years > 0:
        raise EstimationError(f"follow_up_years must be positive, got {follow_up_years}")


def power_replication(
    seed: np.random.SeedSequence | int,
    *,
    effect_hr: float,
    intake_per_year: float,
    follow_up_years: float,
    design: str = "sequential-trials",
    measure: str = "hazard_ratio",
    alpha: float = 0.05,
    n_boot: int = 50,
    comparisons_per_participant: float = 10.0,
    extra_follow_up_years: float = 1.0,
    control_risk: float = 0.45,
    definition: str = "bra-final",
    config: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
) -> dict[str, Any]:
    """One replication of a study: draw it, analyse it, say whether it detected the effect.

    A top-level function of plain arguments, so that it can be sent to other processes.

    Parameters
    ----------
    seed
        The replication's seed (a child of the study's ``SeedSequence``, or an int).
    effect_hr, intake_per_year, follow_up_years, design, measure, alpha, n_boot,
    comparisons_per_participant, extra_follow_up_years, control_risk, definition, config
        As in :func:`simulated_power`.

    Returns
    -------
    dict
        ``detected`` (bool), ``estimate``, ``ci_lower``, ``ci_upper`` (of ``measure``;
        NaN for the exponential design, which has ``p``), ``n_participants``,
        ``n_comparisons``, ``events`` (relapses in the analysis), ``events_participants``,
        ``deff_weighting`` (Kish design effect of the comparisons' weights), ``true_hr``
        (the generator's intention-to-treat hazard ratio), ``seconds``, ``error`` (the
        message when the analysis failed: then ``detected`` is False) and ``warnings``.
    """
    _check(effect_hr, intake_per_year, follow_up_years)
    if design not in DESIGNS:
        raise EstimationError(f"design must be one of {', '.join(DESIGNS)}, not {design!r}")
    if measure not in MEASURES:
        raise EstimationError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    ss = _as_seed_sequence(seed)
    t0 = time.perf_counter()
    out: dict[str, Any] = {
        "detected": False,
        "estimate": math.nan,
        "ci_lower": math.nan,
        "ci_upper": math.nan,
        "p": math.nan,
        "n_participants": 0,
        "n_comparisons": 0,
        "events": 0,
        "events_participants": 0,
        "deff_weighting": math.nan,
        "true_hr": math.nan,
        "error": "",
        "warnings": 0,
    }
    with warnings.catch_warnings(record=True) as caught:
        # Small studies warn (few clusters, separation); the replication records how many
        # instead of failing a strict caller.
        warnings.simplefilter("always")
        try:
            if design == "exponential":
                out.update(
                    _exponential(
                        ss,
                        effect_hr=effect_hr,
                        intake_per_year=intake_per_year,
                        follow_up_years=follow_up_years,
                        comparisons_per_participant=comparisons_per_participant,
                        extra_follow_up_years=extra_follow_up_years,
                        control_risk=control_risk,
                        alpha=alpha,
                    )
                )
            else:
                out.update(
                    _real_design(
                        ss,
                        effect_hr=effect_hr,
                        intake_per_year=intake_per_year,
                        follow_up_years=follow_up_years,
                        design=design,
                        measure=measure,
                        alpha=alpha,
                        n_boot=n_boot,
                        comparisons_per_participant=comparisons_per_participant,
                        extra_follow_up_years=extra_follow_up_years,
                        definition=definition,
                        config=dict(config or {}),
                    )
                )
        except (EvaluationError, np.linalg.LinAlgError) as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
    out["warnings"] = len(caught)
    out["seconds"] = time.perf_counter() - t0
    return out


def _exponential(
    ss: np.random.SeedSequence,
    *,
    effect_hr: float,
    intake_per_year: float,
    follow_up_years: float,
    comparisons_per_participant: float,
    extra_follow_up_years: float,
    control_risk: float,
    alpha: float,
) -> dict[str, Any]:
    from evaluation.survival import logrank

    gen = np.random.default_rng(_child(ss, 0))
    n1 = max(1, round(intake_per_year * follow_up_years))
    n0 = max(1, round(comparisons_per_participant * n1))
    treated = np.repeat([1, 0], [n1, n0])
    rate = -math.log1p(-control_risk) * np.where(treated == 1, effect_hr, 1.0)
    entry = gen.uniform(0.0, follow_up_years, n1 + n0)
    time_to_relapse = gen.exponential(1.0 / rate)
    censor = follow_up_years + extra_follow_up_years - entry
    event = (time_to_relapse <= censor).astype(np.int64)
    frame = pd.DataFrame(
        {
            "duration": np.minimum(time_to_relapse, censor),
            "event": event,
            "treated": treated,
        }
    )
    p = float(logrank(frame, duration="duration", event="event", by="treated").summary()["p"][0])
    return {
        "detected": p < alpha,
        "p": p,
        "n_participants": n1,
        "n_comparisons": n0,
        "events": int(event.sum()),
        "events_participants": int(event[:n1].sum()),
        "deff_weighting": 1.0,
        "true_hr": effect_hr,
    }


def _real_design(
    ss: np.random.SeedSequence,
    *,
    effect_hr: float,
    intake_per_year: float,
    follow_up_years: float,
    design: str,
    measure: str,
    alpha: float,
    n_boot: int,
    comparisons_per_participant: float,
    extra_follow_up_years: float,
    definition: str,
    config: dict[str, Any],
) -> dict[str, Any]:
    from evaluation.cohorts.definitions import resolve_definition
    from evaluation.effects import comparison_cohort, estimate_programme_effect
    from evaluation.synthetic import SimulationConfig, simulate_registers

    start = pd.Timestamp(PROGRAMME_START)
    entry_to = start + pd.Timedelta(days=round(follow_up_years * DAYS_PER_YEAR) - 1)
    buffer = resolve_definition(definition).buffer_years
    study_end = entry_to + pd.Timedelta(
        days=round((extra_follow_up_years + buffer) * DAYS_PER_YEAR)
    )
    settings: dict[str, Any] = {
        "n_persons": max(200, round(intake_per_year * PERSONS_PER_STARTER)),
        "programme_start": PROGRAMME_START,
        "study_end": study_end.strftime("%Y-%m-%d"),
        "bra_monte_carlo_persons": 0,
        "motivation_strength": 0.0,
        "effect_during": effect_hr,
        "effect_after": effect_hr,
        "effect_after_dropout": effect_hr,
    }
    settings.update(config)
    sim = simulate_registers(SimulationConfig(**settings), rng=np.random.default_rng(_child(ss, 0)))
    cohort = comparison_cohort(
        sim.registers,
        design=design,  # type: ignore[arg-type]
        definition=definition,
        comparisons_per_participant=comparisons_per_participant,
        entry_from=start,
        entry_to=entry_to,
        rng=np.random.default_rng(_child(ss, 1)),
    )
    eff = estimate_programme_effect(
        cohort,
        n_boot=n_boot,
        per_protocol=False,
        alpha=alpha,
        method="matching" if design == "risk-set-matching" else "weighting",
        rng=np.random.default_rng(_child(ss, 2)),
    )
    row = eff.measure(measure)
    null = 1.0 if measure == "hazard_ratio" else 0.0
    data = cohort.data
    treated = data["treated"].to_numpy() == 1
    relapse = data["event"].to_numpy() == 1
    # The comparisons' weights of the analysis: the matching weights of a risk-set-matching
    # cohort, the ATT weights of the propensity model otherwise.
    if design == "risk-set-matching" and "weight" in data.columns:
        w0 = data["weight"].to_numpy(dtype=float)[~treated]
    else:
        assert eff.propensity is not None
        w0 = eff.propensity.weights.to_numpy()[~treated]
    deff = weighting_design_effect(w0).value
    return {
        "detected": bool(row.ci_lower > null or row.ci_upper < null),
        "estimate": float(row.estimate),
        "ci_lower": float(row.ci_lower),
        "ci_upper": float(row.ci_upper),
        "p": float(row.p),
        "n_participants": int(treated.sum()),
        "n_comparisons": int((~treated).sum()),
        "events": int(relapse.sum()),
        "events_participants": int((relapse & treated).sum()),
        "deff_weighting": deff,
        "true_hr": float(sim.truth["effect"]["hazard_ratio"]),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerResult:
    """Power estimated by replicating a design.

    Attributes
    ----------
    power
        Share of replications that detected the effect.
    mc_se
        Its Monte Carlo standard error, ``sqrt(power (1 - power) / R)``.
    table
        One row per replication (``replication`` and what :func:`power_replication`
        returns).
    closed_form
        The closed form's power (``"rubinstein"``: variance ``1/d_1 + D_w/d_0``) for the
        replications' mean numbers of relapses in each group, (real design) their mean
        Kish design effect of weighting and the mean true hazard ratio (the generator's
        marginal intention-to-treat HR, nearer 1 than ``effect_hr`` because of its
        frailty): what the closed form says for the same numbers.
    """

    power: float
    mc_se: float
    replications: int
    alpha: float
    measure: str
    design: str
    parameters: dict[str, Any]
    table: pd.DataFrame
    closed_form: float
    runner: str
    notes: tuple[str, ...] = field(default=())

    @property
    def n_failed(self) -> int:
        """Replications whose analysis failed (counted as not detecting)."""
        return int((self.table["error"] != "").sum())

    def summary(self) -> pd.DataFrame:
        """One row: ``design, measure, effect_hr, intake_per_year, follow_up_years,
        replications, power, mc_se, ci_lower, ci_upper`` (power ± 1.96 Monte Carlo SE),
        ``closed_form``, mean ``n_participants``, ``events``, ``deff_weighting``, ``true_hr``,
        ``n_failed`` and the mean ``seconds`` per replication."""
        t = self.table
        half = 1.959963984540054 * self.mc_se
        return pd.DataFrame(
            [
                {
                    "design": self.design,
                    "measure": self.measure,
                    "effect_hr": self.parameters["effect_hr"],
                    "intake_per_year": self.parameters["intake_per_year"],
                    "follow_up_years": self.parameters["follow_up_years"],
                    "replications": self.replications,
                    "power": self.power,
                    "mc_se": self.mc_se,
                    "ci_lower": max(0.0, self.power - half),
                    "ci_upper": min(1.0, self.power + half),
                    "closed_form": self.closed_form,
                    "n_participants": float(t["n_participants"].mean()),
                    "events": float(t["events"].mean()),
                    "deff_weighting": float(t["deff_weighting"].mean()),
                    "true_hr": float(t["true_hr"].mean()),
                    "n_failed": self.n_failed,
                    "seconds": float(t["seconds"].mean()),
                }
            ]
        )

    def plot_data(self) -> pd.DataFrame:
        """The replications' intervals (or p-values), ordered by estimate (by p-value
        for the ``exponential`` design).

        Returns
        -------
        DataFrame
            The columns of ``table`` (``replication, estimate, ci_lower, ci_upper, p,
            detected``, ...), with ``null`` (the value of no effect), ``measure`` and
            ``rank`` (1, 2, ... in the order drawn).
        """
        t = self.table.copy()
        t["null"] = 1.0 if self.measure == "hazard_ratio" else 0.0
        t["measure"] = self.measure
        key = "p" if self.design == "exponential" else "estimate"
        t = t.sort_values([key, "replication"]).reset_index(drop=True)
        t["rank"] = np.arange(1, len(t) + 1)
        return t

    def plot(self, ax: Axes | None = None) -> Axes:
        """Each replication's interval, coloured by whether it excludes no effect.

        Returns
        -------
        Axes
        """
        from evaluation.presentation.graphics.design import replication_intervals

        return replication_intervals(self.plot_data(), ax=ax)

    def _repr_html_(self) -> str:
        return html_repr(
            f"Simulated power ({self.design}, {self.measure}, {self.replications} replications)",
            self.summary(),
            notes=[f"runner: {self.runner}", *self.notes],
        )


def summarise_power(replications: pd.DataFrame) -> pd.DataFrame:
    """Power of a study's replications: ``replications, power, mc_se, n_failed`` and the
    mean ``n_participants``, ``events``, ``true_hr``."""
    r = len(replications)
    p = float(replications["detected"].mean()) if r else math.nan
    return pd.DataFrame(
        [
            {
                "replications": r,
                "power": p,
                "mc_se": math.sqrt(p * (1 - p) / r) if r else math.nan,
                "n_failed": int((replications["error"] != "").sum()),
                "n_participants": float(replications["n_participants"].mean()),
                "events": float(replications["events"].mean()),
                "true_hr": float(replications["true_hr"].mean()),
            }
        ]
    )


def power_study(**params: Any) -> Any:
    """The power simulation as a study design for :func:`evaluation.studies.run_study`
    (``evaluation study power`` on the command line): :func:`power_replication` with
    ``params``.

    Examples
    --------
    >>> study = power_study(effect_hr=0.7, intake_per_year=20, follow_up_years=3)
    >>> study.name, study.params["effect_hr"]
    ('power', 0.7)
    """
    from evaluation.studies import StudyDesign

    plain = dict(params)
    # Plain values only (they are written beside the results): config as sorted pairs.
    plain["config"] = tuple(sorted(dict(plain.get("config") or {}).items()))
    return StudyDesign(
        name="power",
        replicate=power_replication,
        params=plain,
        summarise=summarise_power,
        description="Power of a design by simulation (evaluation.design)",
    )


power_study.study_factory = True  # type: ignore[attr-defined]


def simulated_power(
    *,
    effect_hr: float,
    intake_per_year: float,
    follow_up_years: float,
    replications: int,
    seed: int,
    alpha: float = 0.05,
    design: str = "sequential-trials",
    measure: str = "hazard_ratio",
    n_boot: int = 50,
    comparisons_per_participant: float = 10.0,
    extra_follow_up_years: float = 1.0,
    control_risk: float = 0.45,
    definition: str = "bra-final",
    config: Mapping[str, Any] | None = None,
    runner: Runner | None = None,
    client: Any = None,
    workers: int | None = None,
    out: str | None = None,
) -> PowerResult:
    """Power of a design by simulation: the share of replications that detect the effect.

    Parameters
    ----------
    effect_hr
        The programme's hazard ratio of relapse.
    intake_per_year
        Programme starters a year (the real design scales the generator's population to
        it; the realised intake varies).
    follow_up_years
        Years of intake; the data are extracted ``extra_follow_up_years`` (plus the
        definition's buffer) after the last.
    replications
        Number of replications R.
    seed
        Seed of the study: replication ``i`` uses the ``i``-th child of
        ``numpy.random.SeedSequence(seed)``.
    alpha
        Significance level (the intervals are ``1 - alpha``).
    design
        ``"sequential-trials"``, ``"risk-set-matching"`` (the real design) or
        ``"exponential"`` (the closed forms' world); see the module.
    measure
        ``"hazard_ratio"`` (the cluster-robust Cox interval excludes 1) or
        ``"risk_difference_1y"`` (the bootstrap interval excludes 0). Real design only.
    n_boot
        Bootstrap replicates of each analysis (the hazard ratio's interval needs none, but
        :func:`~evaluation.effects.estimate_programme_effect` draws at least 20).
    comparisons_per_participant, extra_follow_up_years
        The comparison cohort's sampling target; follow-up after the last intake.
    control_risk
        Exponential design: the comparisons' 1-year risk of relapse.
    definition
        Relapse definition of the cohort (real design).
    config
        Overrides of :class:`~evaluation.synthetic.SimulationConfig` (for example
        ``{"motivation_strength": 1.0}`` to include unobserved confounding).
    runner
        Runs the replications: a map (see :data:`Runner`). By default they run through
        :func:`evaluation.studies.run_study` (in this process, or on Dask with ``client``
        and ``workers``; ``out`` a folder that keeps each replication as it finishes, so an
        interrupted study resumes), with the same seeds: the answer is the same.
    client, workers, out
        Passed to :func:`~evaluation.studies.run_study` (without ``runner``).

    Returns
    -------
    PowerResult

    Examples
    --------
    >>> res = simulated_power(effect_hr=0.5, intake_per_year=20, follow_up_years=3,
    ...     replications=40, seed=1, design="exponential")
    >>> 0 <= res.power <= 1, res.replications
    (True, 40)
    """
    _check(effect_hr, intake_per_year, follow_up_years)
    if replications < 1:
        raise EstimationError(f"replications must be at least 1, got {replications}")
    params: dict[str, Any] = {
        "effect_hr": effect_hr,
        "intake_per_year": intake_per_year,
        "follow_up_years": follow_up_years,
        "design": design,
        "measure": measure,
        "alpha": alpha,
        "n_boot": n_boot,
        "comparisons_per_participant": comparisons_per_participant,
        "extra_follow_up_years": extra_follow_up_years,
        "control_risk": control_risk,
        "definition": definition,
        "config": dict(config or {}),
    }
    if runner is None:
        from evaluation.studies import run_study

        study = run_study(
            power_study(**params),
            replications=replications,
            seed=seed,
            out=out,
            client=client,
            workers=workers,
            progress=False,
        )
        table = study.replications.reset_index(drop=True)
        runner_name = f"run_study ({study.workers} worker{'s' if study.workers > 1 else ''})"
    else:
        children = np.random.SeedSequence(seed).spawn(replications)
        table = pd.DataFrame(runner(_Replicate(params), children))
        table.insert(0, "replication", np.arange(replications))
        runner_name = getattr(runner, "__name__", "custom")
    power = float(table["detected"].mean())
    closed = _closed_form(table, alpha)
    notes = []
    if design == "exponential" and effect_hr != 1:
        notes.append(
            "exponential design: log-rank test; with the events expected, Schoenfeld's "
            f"power is {_expected_power(params, 'schoenfeld'):.3f} and Rubinstein's "
            f"{_expected_power(params, 'rubinstein'):.3f}"
        )
    return PowerResult(
        power=power,
        mc_se=math.sqrt(power * (1 - power) / replications),
        replications=replications,
        alpha=alpha,
        measure=measure if design != "exponential" else "logrank",
        design=design,
        parameters=params,
        table=table,
        closed_form=closed,
        runner=runner_name,
        notes=tuple(notes),
    )


@dataclass(frozen=True, slots=True)
class _Replicate:
    """``power_replication`` with the study's parameters bound (picklable, unlike a
    lambda)."""

    params: dict[str, Any]

    def __call__(self, seed: np.random.SeedSequence) -> dict[str, Any]:
        return power_replication(seed, **self.params)


def _closed_form(table: pd.DataFrame, alpha: float) -> float:
    """Rubinstein's power at the replications' mean events and the true (marginal) hazard
    ratio: the generator's frailty makes the marginal HR nearer 1 than ``effect_hr``."""
    ok = table[table["error"] == ""]
    hr = float(ok["true_hr"].mean()) if not ok.empty else math.nan
    if not np.isfinite(hr) or hr == 1:
        return math.nan
    events, d1 = ok["events"].mean(), ok["events_participants"].mean()
    if not 0 < d1 < events:
        return math.nan
    from evaluation.design._design_effects import DesignEffect

    deff = ok["deff_weighting"].mean()
    deffs: Sequence[DesignEffect] = (
        (DesignEffect(kind="weighting", value=float(deff)),) if np.isfinite(deff) else ()
    )
    return hazard_ratio_power(
        hr,
        events=events,
        events_participants=d1,
        method="rubinstein",
        alpha=alpha,
        design_effects=deffs,
    ).value


def _expected_power(params: Mapping[str, Any], method: str) -> float:
    """The closed form's power at the events the exponential design expects."""
    from evaluation.design.closed_form import exponential_survival, group_event_probabilities

    n1 = max(1, round(params["intake_per_year"] * params["follow_up_years"]))
    n0 = max(1, round(params["comparisons_per_participant"] * n1))
    p0, p1 = group_event_probabilities(
        exponential_survival(params["control_risk"]),
        hr=params["effect_hr"],
        follow_up_years=params["extra_follow_up_years"],
        accrual_years=params["follow_up_years"],
    )
    return hazard_ratio_power(
        params["effect_hr"],
        events=n1 * p1 + n0 * p0,
        events_participants=n1 * p1,
        allocation=n1 / (n1 + n0),
        alpha=params["alpha"],
        method=method,  # type: ignore[arg-type]
    ).value
