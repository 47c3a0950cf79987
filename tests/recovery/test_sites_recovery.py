"""Recovery of the municipal comparison on known truths.

* The pooled effect's interval (REML, Hartung–Knapp) covers the true mean at 92–98 % over
  replications of the meta-analysis level (nine sites with the SEs of small programmes).
* On the generator (``benchmarks/bench_sites_coverage.py``, ``evaluation.sites.coverage``:
  default generator with ``effect_tau`` = 0.15, comparison cohort, ``effect_by_site``,
  REML/Hartung–Knapp; target the unweighted mean of the pooled municipalities' true ATT
  risk differences at 1 year) the interval covered 90.3 % (Monte Carlo SE 2.1) in 206
  replications, every miss on the side of too much benefit: the generator's unobserved
  motivation biases each municipality's estimate by -0.016 (SE 0.002), as it biases the
  overall ATT. Without it (``motivation_strength = 0``) coverage was 92.7 % (SE 2.1) in 150
  replications, bias -0.002 (SE 0.003), misses on both sides. Too slow for a test (5 s
  per replication); recorded in ``benchmarks/README.md`` ("sites").
* With no true differences between sites, about 5 % of sites fall outside the 95 % funnel
  limits (person-level data, case mix estimated).
* A municipality whose programme truly works worse (the generator's
  ``outlier_municipality`` = Stockholm, ``outlier_log_hr = 1.0``: hazard ratio 0.6 -> 1.6
  during the programme) is flagged above the 95 % limits of the default funnel
  (the nine municipalities, binomial limits, overdispersion "auto") in 5 of 6 generator
  replications (83 %); in the sixth the outlier itself makes the sites look overdispersed
  and the additive widening hides it. The test requires 4 of 6. The other municipalities
  were flagged 4 times in 48 (8 %: the outlier raises the fitted overall level, which
  pushes the others' O/E down).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.cohorts import relapse_cohort
from evaluation.sites import case_mix, funnel, meta_analysis
from evaluation.synthetic import SimulationConfig, simulate_registers

# The SEs of per-municipality 1-year risk differences in the default data (0.04 to 0.15).
SE = np.array([0.04, 0.05, 0.06, 0.07, 0.08, 0.10, 0.12, 0.14, 0.15])


@pytest.mark.parametrize("tau", [0.0, 0.05])
def test_pooled_interval_covers_the_truth(tau: float) -> None:
    rng = np.random.default_rng(20261201)
    reps, mu, hits = 1000, -0.08, 0
    for _ in range(reps):
        y = mu + tau * rng.standard_normal(SE.size) + SE * rng.standard_normal(SE.size)
        m = meta_analysis(y, SE, method="REML", test="knha")
        hits += m.ci_lower <= mu <= m.ci_upper
    # 1000 replications: the coverage's Monte Carlo SE is about 0.7 points, so 92-98 %
    # is the nominal 95 % +- 4 SE.
    assert 0.92 <= hits / reps <= 0.98


def test_funnel_flags_about_five_percent_without_true_differences() -> None:
    rng = np.random.default_rng(7)
    sizes = np.array([15, 20, 30, 40, 60, 80, 100, 150, 200])
    site = np.repeat([f"S{i}" for i in range(sizes.size)], sizes)
    flagged, poisson_flagged, total = 0, 0, 0
    for _ in range(150):
        age = rng.integers(18, 40, site.size)
        p = 1 / (1 + np.exp(-(-0.8 - 0.05 * (age - 25))))
        d = pd.DataFrame(
            {"person_id": np.arange(site.size), "municipality": site, "age": age,
             "relapse_1y": rng.random(site.size) < p}
        )  # fmt: skip
        cm = case_mix(d, covariates=("age",))
        flagged += int(funnel(cm, overdispersion="none").points["outside_95"].sum())
        poisson = funnel(cm, overdispersion="none", distribution="poisson")
        poisson_flagged += int(poisson.points["outside_95"].sum())
        total += sizes.size
    # 1350 site-tests: SE of a 5 % rate about 0.6 points. With binomial limits (the
    # default for a logistic case mix) the rate is 4.8 % in this run: 3-7 % is 5 % +- 3 SE.
    assert 0.03 <= flagged / total <= 0.07
    # Poisson limits ignore that a relapse share near 30 % has variance E (1 - risk) < E:
    # they flag about 2 % only (too wide), which is why they are not the default here.
    assert poisson_flagged / total < 0.035


def test_planted_outlier_is_flagged() -> None:
    hits, others, n_other = 0, 0, 0
    for seed in range(6):
        config = SimulationConfig(
            n_persons=6000, entry_rate=0.03, bra_monte_carlo_persons=0,
            outlier_municipality="Stockholm", outlier_log_hr=1.0,
        )  # fmt: skip
        sim = simulate_registers(config, rng=100 + seed)
        truth = sim.truth["effect"]["by_municipality"]["Stockholm"]
        assert truth["log_hr_shift"] > 0.5  # the plant is in the truth
        cohort = relapse_cohort(sim.registers, definition="bra-preliminary", population="programme")
        nine = cohort.data[cohort.data["municipality"] != "other"]  # as the report compares
        pts = funnel(case_mix(nine)).points.set_index("group")
        hits += bool(pts.loc["Stockholm", "outside_95"] and pts.loc["Stockholm", "estimate"] > 1)
        rest = pts.drop(index="Stockholm")
        others += int(rest["outside_95"].sum())
        n_other += len(rest)
    assert hits >= 4
    # Eight others in six replications (48 tests): flags near chance level, with room for
    # the outlier pulling the others' O/E below 1 (it raises the fitted overall level).
    assert others <= stats.binom.ppf(0.999, n_other, 0.1)
