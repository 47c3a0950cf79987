# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Every new offence, and every life
#
# Time to the *first* relapse throws information away: a participant who goes from twelve
# lagförda offences a year to two is a "relapse" just like one who carries on. Brå itself
# reports how many new offences follow (återfallsfrekvens). This notebook follows every
# relapse offence after an entry, in time at liberty (custody is not time at risk), with
# death ending the count, and estimates the programme's effect on the expected number of
# offences against the truth of the synthetic registers.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import evaluation
from evaluation.cohorts import recurrence_cohort, recurrence_totals, relapse_cohort, relapse_table
from evaluation.effects import comparison_cohort, estimate_recurrent_effect
from evaluation.report import theme
from evaluation.survival import (
    ghosh_lin,
    mean_cumulative_function,
    rate_model,
    recurrent_cox,
)
from evaluation.synthetic import load_truth

SEED = 20261201
SMOKE = "CI" in os.environ  # fewer bootstrap replicates in CI
N_BOOT = 60 if SMOKE else 300
pd.set_option("display.max_columns", 30, "display.width", 160)

registers = evaluation.load_synthetic()
truth = load_truth()["recurrence"]  # data/synthetic/truth.json

# %% [markdown]
# ## How many offences follow an entry?
#
# The recurrence cohort has the same entry events as Brå's relapse cohort (the same
# definition and seed choose the same entries) and one row per interval between relapse
# offences: `start`, `stop` in days since entry, `event`, `n_offences` (offences that
# day), `terminal` (2 death, 3 emigration) and `enum` (the offence number). A custody
# period is a gap between two rows.

# %%
rec = recurrence_cohort(registers, definition="bra-final", rng=SEED)
rel = relapse_cohort(registers, definition="bra-final", rng=SEED)
rows = rec.data
print(rec.flow[["reason", "n_persons", "n_entries"]].to_string(index=False))
rows[["person_id", "entry_id", "start", "stop", "event", "n_offences", "terminal", "enum"]].head(8)

# %%
flow = rec.flow.set_index("reason")
assert flow.loc[flow.index != "persons in registers", "n_persons"].sum() == len(registers.persons)
assert rec.meta["n_entries"] + rec.meta["n_entries_without_community_time"] == len(rel.data)
assert (rows["stop"] > rows["start"]).all()

# %% [markdown]
# Brå's frequency measures, per window: relapse offences per person followed and per
# recidivist, beside the share relapsing (disclosure control as in every Brå table).

# %%
bra = relapse_table(rel, by=("group",), min_cell=5)
frequency = ["n", "share", "offences", "offences_per_person", "offences_per_relapsed"]
bra.table[["level", "window", *frequency]]

# %%
one = bra.table[(bra.table["breakdown"] == "all") & (bra.table["window"] == "1y")].iloc[0]
assert one["offences_per_person"] == one["offences"] / one["n"]
assert one["offences_per_relapsed"] > 1  # recidivists commit more than one offence on average

# %% [markdown]
# ## How many offences per person, by time since entry?
#
# The mean cumulative function (Nelson–Aalen for recurrent events) with the
# Lawless–Nadeau robust variance by person, equal to R's `survfit(Surv(start, stop,
# event) ~ 1, id = id)`. Several offences on one day count as several
# (`event="n_offences"`).

# %%
mcf = mean_cumulative_function(
    rows, start="start", stop="stop", event="n_offences", id="person_id", by="group"
)
with theme("en"):
    fig, ax = plt.subplots(figsize=(6.3, 4.2))
    mcf.plot(ax=ax, time_unit="years", lang="en")
mcf.at([365, 730, 1095])

# %%
by_year = mcf.at([365, 730, 1095])
assert (by_year.groupby("group")["estimate"].diff().dropna() > 0).all()

# %% [markdown]
# ## Does death change the count?
#
# The MCF is the mean among those still alive and followed: it treats death as
# censoring, as if the dead would go on offending at the rate of the living. Ghosh and
# Lin's marginal mean counts a dead person's offences as stopped (R's
# `mets::recurrentMarginal`). Among gang members who die young, the difference is the
# point.

# %%
gl = ghosh_lin(
    rows,
    start="start",
    stop="stop",
    event="n_offences",
    terminal="terminal",
    id="person_id",
)
naive = mean_cumulative_function(
    rows, start="start", stop="stop", event="n_offences", id="person_id"
)
both = pd.concat([gl.plot_data(), naive.plot_data()], ignore_index=True)
from evaluation.presentation.graphics.recurrent import draw_recurrent  # noqa: E402

with theme("en"):
    fig, ax = plt.subplots(figsize=(6.3, 4.2))
    draw_recurrent(both, ax=ax, time_unit="years", lang="en")
pd.DataFrame(
    {
        "ghosh_lin": gl.at([1095])["estimate"].to_numpy(),
        "mcf": naive.at([1095])["estimate"].to_numpy(),
    }
)

# %%
assert gl.deaths > 0
assert gl.at([1095])["estimate"].iloc[0] < naive.at([1095])["estimate"].iloc[0]

# %% [markdown]
# ## Rates with exposure, and models of every event
#
# A Poisson or negative binomial model of the number of offences with
# `offset(log(days at liberty))` gives rate ratios; the standard errors are
# cluster-robust by person (persons have several entries). Andersen–Gill (every interval
# at risk) and PWP (strata by offence number, total or gap time) are Cox models of the
# same rows, fitted by the package's `cox` with clusters and strata.

# %%
totals = recurrence_totals(rows)
totals = totals[totals["exposure_days"] > 0].assign(
    participant=(totals["group"] == "participant").astype(int)
)
formula = "participant + age + np.log1p(prior_decisions_5y) + C(sex)"
poisson = rate_model(
    totals, formula, count="n_offences", exposure="exposure_days", cluster="person_id"
)
negbin = rate_model(
    totals,
    formula,
    count="n_offences",
    exposure="exposure_days",
    cluster="person_id",
    family="negbin",
)
pd.concat(
    [poisson.summary().assign(model="poisson"), negbin.summary().assign(model="negbin")]
).query("term == 'participant'")

# %%
assert negbin.theta is not None and negbin.theta < 20  # offending is overdispersed
rows_x = rows.assign(participant=(rows["group"] == "participant").astype(int))
models = {
    m: recurrent_cox(rows_x, formula, model=m, event="event").summary().query(
        "term == 'participant'"
    )
    for m in ("andersen-gill", "pwp-total", "pwp-gap")
}
pd.concat(models, names=["model"])

# %%
assert all(np.isfinite(s["robust_se"]).all() for s in models.values())

# %% [markdown]
# ## Did the programme change how many offences follow?
#
# The target trial of notebook 05 (participants at their start, comparisons on the same
# dates), followed for every relapse offence from the day after time zero, custody
# included (a person in custody stays in the count): each arm's
# ATT-weighted Ghosh–Lin mean (death and emigration end the count), their difference and
# ratio at 1, 2 and 3 years, with a bootstrap that refits the propensity model in every
# replicate. The truth is the same mean in the participants' two worlds, with and without
# the programme, among the participants the design follows (`truth.json`, `recurrence`,
# `eligible`: those who start in the entry period, adult and not in custody; the
# top-level entries include the last three years' starters, whom no design can follow).

# %%
design = comparison_cohort(registers, rng=SEED)
effect = estimate_recurrent_effect(registers, design, n_boot=N_BOOT, rng=SEED)
truth = truth["eligible"]  # the population the design follows
table = effect.summary().set_index("measure")
rows_truth = []
for y in (1, 2, 3):
    rows_truth.append(
        {
            "years": y,
            "difference": table.at[f"expected_offences_difference_{y}y", "estimate"],
            "ci": (
                table.at[f"expected_offences_difference_{y}y", "ci_lower"],
                table.at[f"expected_offences_difference_{y}y", "ci_upper"],
            ),
            "truth_difference": truth["mean_relapses_difference"][str(y)],
            "ratio": table.at[f"expected_offences_ratio_{y}y", "estimate"],
            "truth_ratio": truth["rate_ratio"][str(y)],
        }
    )
comparison = pd.DataFrame(rows_truth)
comparison

# %%
with theme("en"):
    fig, ax = plt.subplots(figsize=(6.3, 4.2))
    effect.plot(ax=ax, time_unit="years", lang="en")

# %% [markdown]
# The estimates land within a few bootstrap standard errors of the truth (the bootstrap
# standard error of a ratio is on the log scale).

# %%
for y in (1, 2, 3):
    d = table.loc[f"expected_offences_difference_{y}y"]
    assert abs(d["estimate"] - truth["mean_relapses_difference"][str(y)]) < 3 * d["se"]
    r = table.loc[f"expected_offences_ratio_{y}y"]
    assert abs(np.log(r["estimate"]) - np.log(truth["rate_ratio"][str(y)])) < 3 * r["se"]

# %% [markdown]
# ## Death as an outcome
#
# The people who run exit programmes say what they are for: every person who leaves the
# criminal milieu is a life saved. The same target trial, with death as the outcome
# (followed past any relapse, emigration competing): the ATT difference in the risk of
# death within 1, 2 and 3 years, with the bootstrap that refits the propensity model,
# against the truth (`truth.json`, `mortality`, `eligible`). Deaths are few, so the interval is wide:
# it can rule out only effects larger than the risk of death itself.

# %%
from evaluation.effects import estimate_mortality_effect  # noqa: E402

mortality_truth = load_truth()["mortality"]["eligible"]  # the population the design follows
death = estimate_mortality_effect(
    design, registers, outcome="death", n_boot=N_BOOT, per_protocol=False, rng=SEED
)
death_table = pd.DataFrame(
    [
        {
            "years": y,
            "estimate": death.measure(f"risk_difference_{y}y").estimate,
            "ci_lower": death.measure(f"risk_difference_{y}y").ci_lower,
            "ci_upper": death.measure(f"risk_difference_{y}y").ci_upper,
            "truth": mortality_truth["risk_death_difference"][str(y)],
        }
        for y in (1, 2, 3)
    ]
)
death_table

# %%
for y in (1, 2, 3):
    m = death.measure(f"risk_difference_{y}y")
    assert abs(m.estimate - mortality_truth["risk_death_difference"][str(y)]) < 3 * m.se
