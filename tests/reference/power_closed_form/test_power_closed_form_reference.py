"""Reference tests: the closed forms of evaluation.design equal the formulas of Stata's
`power logrank` (Schoenfeld, Freedman) written out in R, and R's own
stats::power.prop.test (pooled variance, equal groups) and Fleiss's unequal-groups formula
(tests/reference/power_closed_form/power_closed_form.R)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.design import (
    events_needed,
    hazard_ratio_power,
    kish_effective_size,
    minimum_detectable_hazard_ratio,
    risk_difference_power,
    risk_difference_sample_size,
    weighting_design_effect,
)

REF = json.loads((Path(__file__).parent / "power_closed_form.json").read_text())
# Both sides evaluate the same closed forms in double precision; the root finders stop at
# 1e-10 or better, so 1e-8 relative leaves room only for rounding.
RTOL = 1e-8


@pytest.mark.parametrize("case", REF["hazard_ratio"], ids=lambda c: f"hr{c['hr']}-p{c['p']:.3f}")
@pytest.mark.parametrize("method", ["schoenfeld", "freedman"])
def test_hazard_ratio_formulas_equal_r(case: dict, method: str) -> None:
    kw = {"alpha": case["alpha"], "allocation": case["p"], "method": method}
    d = events_needed(case["hr"], power=case["power"], **kw)
    assert d.value == pytest.approx(case[f"{method}_events"], rel=RTOL)
    pw = hazard_ratio_power(case["hr"], events=100, **kw)
    assert pw.value == pytest.approx(case[f"{method}_power_100"], rel=RTOL)
    md = minimum_detectable_hazard_ratio(events=100, power=case["power"], **kw)
    assert md.value == pytest.approx(case[f"{method}_mdhr_100"], rel=1e-7)


@pytest.mark.parametrize("case", REF["proportions"], ids=lambda c: f"{c['p0']}-{c['p1']}")
def test_proportions_equal_power_prop_test(case: dict) -> None:
    p0, rd, alpha = case["p0"], case["p1"] - case["p0"], case["alpha"]
    n = risk_difference_sample_size(p0, rd, alpha=alpha, power=case["power"])
    assert n.n_participants == pytest.approx(case["n_per_group"], rel=1e-7)
    pw = risk_difference_power(p0, rd, n_participants=60, n_comparisons=60, alpha=alpha)
    assert pw.value == pytest.approx(case["power_n60"], rel=RTOL)
    # Five comparisons per participant: Fleiss's formula for the comparisons' group.
    n5 = risk_difference_sample_size(p0, rd, alpha=alpha, power=case["power"], allocation=1 / 6)
    assert n5.n_comparisons == pytest.approx(case["fleiss_n0_ratio_1_over_5"], rel=1e-7)


def test_kish_equals_r() -> None:
    k = REF["kish"]
    assert kish_effective_size(k["weights"]) == pytest.approx(k["n_eff"], rel=1e-12)
    assert weighting_design_effect(k["weights"]).value == pytest.approx(k["deff"], rel=1e-12)
