"""Issue 5: the naive unadjusted comparison is biased, the adjusted one is not, on the generator.

With the default generator the naive comparison lands near the truth by luck: the observed
confounding (participants are younger and more often in the high-risk municipalities) and
the unobserved motivation (raises joining, lowers offending) bias it in opposite directions
and roughly cancel (benchmarks/README.md, effects). With the motivation switched off
(``motivation_strength=0``, as ``bench_effects.py replications --motivation 0``) only
observed confounding remains: the weighted ATT is unbiased and the naive comparison shows
too little benefit (over 100 replications at 6,000 persons its 1-year risk difference was
+0.04 above the truth, about 1.5 of one data set's standard errors). At 40,000 persons one
data set's SE is about 0.010, so the naive bias is about 4 SEs and detectable in one run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import evaluation
from evaluation.synthetic import SimulationConfig, simulate_registers

SEED = 20251231


def test_naive_is_biased_and_adjusted_recovers_without_unobserved_confounding():
    # About 25 s on one core: 8 s to simulate, 1 s for the cohort, the rest bootstrap.
    config = SimulationConfig(
        n_persons=40_000, motivation_strength=0.0, bra_monte_carlo_persons=1000
    )
    sim = simulate_registers(config, rng=SEED)
    truth = sim.truth["effect"]["eligible"]["risk_difference"]["1"]  # the design's estimand
    cohort = evaluation.comparison_cohort(sim.registers, rng=SEED)
    # 50 replicates: the bootstrap SE is then within about 10 % of its limit (relative
    # error 1 / sqrt(2 * 50)), enough for tolerances of 2-2.5 SE.
    eff = evaluation.estimate_programme_effect(cohort, n_boot=50, per_protocol=False, rng=SEED)
    adjusted = eff.measure("risk_difference_1y", analysis="itt")
    naive = eff.measure("risk_difference_1y", analysis="naive")
    assert adjusted["se"] > 0 and naive["se"] > 0

    # Only observed confounding: the weighted ATT is unbiased, so it lies within 2.5 of its
    # SEs of the truth (a false alarm about 1 time in 80).
    assert abs(adjusted["estimate"] - truth) < 2.5 * adjusted["se"], (adjusted, truth)
    # The naive comparison ignores that participants are at higher risk to begin with, so it
    # understates the benefit: its risk difference lies above the truth (the design's
    # direction), by more than 2 of its SEs (expected about 4).
    assert naive["estimate"] - truth > 2 * naive["se"], (naive, truth)
    # And it is further from the truth than the adjusted estimate, on the same data.
    assert abs(naive["estimate"] - truth) > abs(adjusted["estimate"] - truth)


def test_confounding_check_reports_both_analyses_and_strong_motivation_fakes_a_benefit():
    # About 10 s: two small simulations with the smallest bootstrap allowed (20 replicates).
    strengths = (0.0, 4.0)
    out = evaluation.confounding_check(strengths, n_persons=2000, n_boot=20, rng=SEED)

    # Guaranteed by construction: one row per strength and analysis, consistent columns.
    assert list(out.columns) == [
        "strength",
        "analysis",
        "truth",
        "estimate",
        "ci_lower",
        "ci_upper",
        "bias",
        "covered",
    ]
    assert list(zip(out["strength"], out["analysis"], strict=True)) == [
        (0.0, "adjusted"),
        (0.0, "naive"),
        (4.0, "adjusted"),
        (4.0, "naive"),
    ]
    assert out.groupby("strength")["truth"].nunique().eq(1).all()  # one truth per data set
    np.testing.assert_allclose(out["bias"], out["estimate"] - out["truth"], rtol=0, atol=1e-12)
    inside = (out["ci_lower"] <= out["truth"]) & (out["truth"] <= out["ci_upper"])
    pd.testing.assert_series_equal(out["covered"], inside, check_names=False)
    assert (out["ci_lower"] <= out["ci_upper"]).all()
    assert out[["truth", "estimate"]].abs().lt(1).all().all()  # risk differences

    # The direction the design implies: strong unobserved motivation raises joining and
    # lowers offending, so both analyses credit the programme with a benefit it did not
    # cause: the estimate lies below the truth with the whole interval below it. At
    # strength 4 and 2,000 persons the adjusted bias is about -0.06 with an SE near 0.014
    # (about 4 SE), the naive one about -0.18 (over 10 SE), so a failure means the
    # generator's knob or the check's wiring is broken, not chance (< 2 % for adjusted).
    strong = out[out["strength"] == 4.0].set_index("analysis")
    assert (strong["bias"] < 0).all()
    assert (strong["ci_upper"] < strong["truth"]).all(), strong
