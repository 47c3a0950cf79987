"""Closed-form power (evaluation.design.closed_form): published worked examples with their
numbers, the design effects, and the invariants that tie the solutions together."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from evaluation import EstimationError
from evaluation.design import (
    DesignEffect,
    clustering_design_effect,
    event_probability,
    events_needed,
    hazard_ratio_power,
    kish_effective_size,
    minimum_detectable_hazard_ratio,
    minimum_detectable_risk_difference,
    participants_needed,
    risk_difference_power,
    risk_difference_sample_size,
    weighting_design_effect,
)

# ------------------------------------------------------------------ worked examples


def test_schoenfeld_and_freedman_classic_numbers() -> None:
    # HR 0.5, two-sided 5 %, power 80 %, equal groups. Schoenfeld (1983):
    # d = 4 (1.96 + 0.8416)^2 / (log 0.5)^2 = 65.35 -> 66 events; Freedman (1982):
    # d = (1.96 + 0.8416)^2 (1 + 0.5)^2 / (1 - 0.5)^2 = 70.64 -> 71 events.
    s = events_needed(0.5)
    f = events_needed(0.5, method="freedman")
    assert s.value == pytest.approx(65.35, abs=0.005)
    assert f.value == pytest.approx(70.64, abs=0.005)
    assert (s.required, f.required) == (66, 71)


def test_schoenfeld_collett_worked_example() -> None:
    # MRC CBU statistics wiki, "Example comparing software for evaluating sample sizes for
    # log rank test" (FAQ/powsurv): survival 0.75 against 0.37, HR = log 0.75 / log 0.37,
    # Schoenfeld (1983) with z = 1.96 and 0.84 gives 20.39 events, and Collett's
    # events / (1 - (S1 + S0) / 2) gives 47 persons. The package uses z_0.8 = 0.8416, so
    # its events are the example's times (1.96 + 0.8416)^2 / 2.80^2.
    hr = math.log(0.75) / math.log(0.37)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    d = events_needed(hr)
    assert d.value == pytest.approx(20.39 * z**2 / 2.80**2, abs=0.005)
    n = participants_needed(hr, control_risk=1 - 0.37, risk_years=1, follow_up_years=1)
    assert n.event_probability == pytest.approx(1 - (0.75 + 0.37) / 2, abs=1e-9)
    assert n.required == 47


def test_power_prop_test_documented_examples() -> None:
    # R's ?power.prop.test examples, with the values its help page states:
    # power.prop.test(n = 50, p1 = .50, p2 = .75)      ## => power = 0.740
    # power.prop.test(p1 = .50, p2 = .75, power = .90) ## =>     n = 76.7
    # power.prop.test(n = 50, p1 = .5, power = .90)    ## =>    p2 = 0.8026
    pw = risk_difference_power(0.5, 0.25, n_participants=50, n_comparisons=50)
    assert round(pw.value, 3) == 0.740
    n = risk_difference_sample_size(0.5, 0.25, power=0.9)
    assert round(n.n_participants, 1) == 76.7
    md = minimum_detectable_risk_difference(
        0.5, n_participants=50, n_comparisons=50, power=0.9, direction="harmful"
    )
    assert round(0.5 + md.value, 4) == 0.8026


# ------------------------------------------------------------------- invariants


@pytest.mark.parametrize("method", ["schoenfeld", "freedman"])
@pytest.mark.parametrize("p", [0.5, 1 / 11])
def test_events_power_and_mdhr_invert_each_other(method: str, p: float) -> None:
    deffs = (DesignEffect(kind="weighting", value=1.6), DesignEffect(kind="clustering", value=1.2))
    d = events_needed(0.6, allocation=p, method=method, power=0.85, design_effects=deffs)
    pw = hazard_ratio_power(0.6, events=d.value, allocation=p, method=method, design_effects=deffs)
    assert pw.value == pytest.approx(0.85, abs=1e-10)
    md = minimum_detectable_hazard_ratio(
        events=d.value, allocation=p, method=method, power=0.85, design_effects=deffs
    )
    assert md.value == pytest.approx(0.6, abs=1e-10)


def test_power_grows_with_events_and_effect() -> None:
    powers = [hazard_ratio_power(0.7, events=e).value for e in (20, 50, 100, 400)]
    assert np.all(np.diff(powers) > 0)
    mdhr = [minimum_detectable_hazard_ratio(events=e).value for e in (20, 50, 100, 400)]
    assert np.all(np.diff(mdhr) > 0) and mdhr[-1] < 1  # more events detect HRs nearer 1


def test_harmful_mdhr_is_the_reciprocal_under_schoenfeld() -> None:
    # Schoenfeld's formula is symmetric in log HR.
    pro = minimum_detectable_hazard_ratio(events=80, allocation=0.3).value
    harm = minimum_detectable_hazard_ratio(events=80, allocation=0.3, direction="harmful").value
    assert pro * harm == pytest.approx(1.0, rel=1e-12)


def test_freedman_caps_what_few_events_can_detect() -> None:
    # Freedman's events per (z + z')^2, (1 + R HR)^2 / (R (1 - HR)^2), tends to 1 / R as
    # HR -> 0 and to R as HR -> infinity: with R = 0.1 (10 comparisons per participant)
    # fewer than 7.85 / 0.1 = 78.5 events detect no protective HR at 80 %, and with
    # R = 10 fewer than 78.5 detect no harmful one.
    pro = minimum_detectable_hazard_ratio(events=70, allocation=1 / 11, method="freedman")
    assert pro.value == 0.0
    harm = minimum_detectable_hazard_ratio(
        events=70, allocation=10 / 11, method="freedman", direction="harmful"
    )
    assert harm.value == math.inf
    assert (
        0 < minimum_detectable_hazard_ratio(events=80, allocation=1 / 11, method="freedman").value
    )


def test_event_probability_without_accrual_is_stata_p_e() -> None:
    # Stata power logrank: p_E = 1 - [(1 - p) S_1 + p S_1^HR] at the end of follow-up.
    s = 0.6
    assert event_probability(0.4, hr=0.5, allocation=0.25) == pytest.approx(
        1 - (0.75 * s + 0.25 * s**0.5), rel=1e-12
    )


def test_event_probability_with_uniform_accrual_is_the_exponential_integral() -> None:
    # Entry uniform over 3 years, 1 more year of follow-up: mean of exp(-λ t) on [1, 4].
    lam = -math.log(0.6)
    mean_s = (math.exp(-lam) - math.exp(-4 * lam)) / (3 * lam)
    got = event_probability(0.4, hr=1.0, follow_up_years=1, accrual_years=3)
    assert got == pytest.approx(1 - mean_s, rel=1e-9)


def test_participants_needed_is_events_over_event_probability() -> None:
    n = participants_needed(0.7, control_risk=0.45, allocation=1 / 6, accrual_years=2)
    assert n.value * n.event_probability == pytest.approx(n.events, rel=1e-12)
    assert n.n_participants + n.n_comparisons == pytest.approx(n.value, rel=1e-12)


# ---------------------------------------------------------------- design effects


def test_kish_effective_size_of_equal_weights_is_n() -> None:
    assert kish_effective_size(np.full(37, 2.5)) == pytest.approx(37)


def test_weighting_design_effect_costs_comparisons_not_participants() -> None:
    # With equal groups, D_w = 2 on the comparisons: 1/d1 + 2/d0 = 3 / (d/2) = 6 / d,
    # one and a half times the unweighted 4 / d.
    base = events_needed(0.6).value
    w = events_needed(0.6, design_effects=(DesignEffect(kind="weighting", value=2.0),))
    assert w.value == pytest.approx(1.5 * base, rel=1e-12)
    assert w.design_effects[0].kind == "weighting"


def test_clustering_design_effect_multiplies_what_is_needed() -> None:
    deff = clustering_design_effect(0.1, mean_cluster_size=3)
    assert deff.value == pytest.approx(1.2)
    assert events_needed(0.6, design_effects=(deff,)).value == pytest.approx(
        1.2 * events_needed(0.6).value, rel=1e-12
    )
    rd = risk_difference_sample_size(0.45, -0.1, design_effects=(deff,)).value
    assert rd == pytest.approx(1.2 * risk_difference_sample_size(0.45, -0.1).value, rel=1e-8)


def test_clustering_from_actual_sizes_uses_sum_of_squares() -> None:
    sizes = np.array([1, 1, 2, 4])
    deff = clustering_design_effect(0.2, cluster_sizes=sizes)
    assert deff.value == pytest.approx(1 + (22 / 8 - 1) * 0.2)


def test_weighting_design_effect_from_propensity_weights() -> None:
    w = np.array([0.2, 0.2, 0.4, 1.0, 3.0])
    deff = weighting_design_effect(w)
    assert deff.value == pytest.approx(5 * np.sum(w**2) / np.sum(w) ** 2)
    assert "effective size" in deff.detail


def test_results_say_which_design_effects_were_applied() -> None:
    deffs = (clustering_design_effect(0.05, mean_cluster_size=2),)
    res = minimum_detectable_risk_difference(
        0.45, n_participants=40, n_comparisons=400, design_effects=deffs
    )
    table = res.summary().set_index("quantity")["value"]
    assert table["design_effect_clustering"] == pytest.approx(1.05)
    assert "clustering" in res._repr_html_()


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: events_needed(1.0), "not 1"),
        (lambda: events_needed(0.5, allocation=1.0), "allocation"),
        (lambda: events_needed(0.5, method="cox"), "method"),  # type: ignore[arg-type]
        (lambda: hazard_ratio_power(0.5, events=0), "events"),
        (lambda: risk_difference_power(0.3, -0.4, n_participants=5, n_comparisons=5), "inside"),
        (lambda: kish_effective_size([0.0, 0.0]), "every weight is 0"),
        (lambda: clustering_design_effect(0.1), "either"),
        (lambda: DesignEffect(kind="weighting", value=-1.0), "positive"),
    ],
)
def test_bad_inputs_are_refused(call, match: str) -> None:
    with pytest.raises(EstimationError, match=match):
        call()


def test_weighting_halves_the_comparisons_of_a_risk_difference() -> None:
    # Kish: 200 comparisons with design effect 2 are as precise as 100 unweighted ones.
    weighted = risk_difference_power(
        0.45,
        -0.15,
        n_participants=60,
        n_comparisons=200,
        design_effects=(DesignEffect(kind="weighting", value=2.0),),
    )
    plain = risk_difference_power(0.45, -0.15, n_participants=60, n_comparisons=100)
    assert weighted.value == pytest.approx(plain.value, rel=1e-12)


def test_rubinstein_is_one_over_the_events_of_each_group() -> None:
    # Var(log HR) = 1/d1 + D_w/d0 (Rubinstein, Gail & Santner 1981): 20 and 200 events,
    # comparisons weighted with design effect 2: se = sqrt(1/20 + 2/200) = sqrt(0.06).
    deffs = (DesignEffect(kind="weighting", value=2.0),)
    md = minimum_detectable_hazard_ratio(
        events=220, events_participants=20, method="rubinstein", design_effects=deffs
    )
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert md.value == pytest.approx(math.exp(-z * math.sqrt(0.06)), rel=1e-12)
    pw = hazard_ratio_power(
        md.value, events=220, events_participants=20, method="rubinstein", design_effects=deffs
    )
    assert pw.value == pytest.approx(0.8, abs=1e-12)


def test_rubinstein_participants_give_the_power_with_their_expected_events() -> None:
    n = participants_needed(0.6, control_risk=0.45, allocation=1 / 11, method="rubinstein")
    pw = hazard_ratio_power(
        0.6, events=n.events, events_participants=n.events_participants, method="rubinstein"
    )
    assert pw.value == pytest.approx(0.8, abs=1e-12)
    # The same as Schoenfeld with equal groups and an effect near none.
    a = participants_needed(0.98, control_risk=0.45, method="rubinstein").value
    b = participants_needed(0.98, control_risk=0.45).value
    assert a == pytest.approx(b, rel=0.02)


def test_rubinstein_needs_the_participants_events() -> None:
    with pytest.raises(EstimationError, match="events_participants"):
        hazard_ratio_power(0.6, events=100, method="rubinstein")
    with pytest.raises(EstimationError, match="participants_needed"):
        events_needed(0.6, method="rubinstein")
