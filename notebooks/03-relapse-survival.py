# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · How soon do programme participants relapse, and who relapses sooner?
#
# Time from the start of an exit programme to the first new offence that leads to a
# lagföring (Brå's relapse, `bra-final` definition), for the participants in the default
# synthetic registers. Death and emigration end follow-up (they are censored here; the
# competing-risks view is notebook 04's and the survival chapter's). We describe the
# curves by sex, age group, prior decisions and municipality, test the differences, fit a
# Cox model with standard errors clustered by municipality, check its proportional hazards
# assumption, and report restricted mean time without relapse.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import evaluation
from evaluation.report import theme
from evaluation.survival import (
    aft,
    cox,
    cox_zph,
    forest_plot,
    kaplan_meier,
    logrank,
    rmst,
    window_logistic,
)

SEED = 20261126  # relapse_cohort draws nothing for programme starts; kept for uniformity
SMOKE = "CI" in os.environ  # nothing here is heavy; the switch is kept for uniformity
YEAR = 365.25
MILESTONES = [1 * YEAR, 2 * YEAR, 3 * YEAR]
pd.set_option("display.max_columns", 30, "display.width", 160)

registers = evaluation.load_synthetic()
cohort = evaluation.relapse_cohort(registers, population="programme", rng=SEED)
data = cohort.data
DUR, EV = "duration_days", "event"

# %% [markdown]
# ## Who is followed, and what ends their follow-up?
#
# One row per programme start (a person who started twice is followed from each start).
# Event codes: 0 censored at the last usable date, 1 relapse, 2 death, 3 emigration.

# %%
print(cohort.flow)
ends = data[EV].value_counts().sort_index()
print(ends)
included = cohort.flow[cohort.flow["reason"] == "included"].iloc[0]
assert len(data) == included["n_entries"]  # every included start is a row
assert set(ends.index) <= {0, 1, 2, 3}
assert ends.get(1, 0) > 100  # enough relapses for the models below
assert (data[DUR] >= 0).all()

# %% [markdown]
# ## How fast do participants relapse?
#
# The share who have relapsed (1 − Kaplan–Meier) with a log-log interval and the number
# at risk under the curve, in years.

# %%
km_all = kaplan_meier(data, duration=DUR, event=EV)
with theme("sv"):
    fig, ax = plt.subplots(figsize=(6.3, 4.2))
    km_all.plot(ax=ax, kind="incidence", time_unit="years")
milestones = km_all.at(MILESTONES)
milestones

# %%
share = 1 - milestones["estimate"].to_numpy()
assert np.all(np.diff(share) >= 0)  # relapse accumulates
assert 0.1 < share[0] < share[2] < 0.9
# Brå's window share at one year agrees with the Kaplan–Meier share where everybody's
# window is complete (censoring before a year is rare among participants).
complete_1y = data["relapse_1y"].dropna().astype(bool)
assert abs(complete_1y.mean() - share[0]) < 0.05

# %% [markdown]
# ## Does relapse differ by sex, age group, prior decisions and municipality?
#
# Kaplan–Meier curves with risk tables, the share relapsed at 1, 2 and 3 years, and
# log-rank tests (the trend test for the ordered prior-decision groups).

# %%
# Ten municipalities do not fit one figure: the four largest, the rest pooled.
largest = data["municipality"].value_counts().index[:4]
data = data.assign(
    municipality_group=data["municipality"].where(data["municipality"].isin(largest), "other")
)
factors = ["sex", "age_group", "prior_group", "municipality_group"]
curves = {f: kaplan_meier(data, duration=DUR, event=EV, by=f) for f in factors}
with theme("sv"):
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    for ax, f in zip(axes.flat, factors, strict=True):
        curves[f].plot(ax=ax, kind="incidence", time_unit="years", risk_table=True)
        ax.set_title(f)
    fig.tight_layout()

# %%
milestone_table = pd.concat(
    {f: curves[f].at(MILESTONES) for f in factors}, names=["factor"]
).reset_index(level=0)
milestone_table

# %%
tests = {f: logrank(data, duration=DUR, event=EV, by=f) for f in [*factors, "municipality"]}
logrank_table = pd.DataFrame(
    {f: {"statistic": t.statistic, "df": t.df, "p": t.p} for f, t in tests.items()}
).T
trend = logrank(data, duration=DUR, event=EV, by="prior_group", trend=True)
logrank_table

# %%
# The generator makes offending rise with recent decisions, so prior decisions must separate
# the curves clearly; the trend test agrees in direction.
assert tests["prior_group"].p < 0.001
assert trend.trend_p < 0.001

# %% [markdown]
# ## Which characteristics go with a higher relapse hazard, all else equal?
#
# A Cox model (Efron ties) with sex, age group and prior decisions. Participants of one
# municipality share its programme and its police, so standard errors are clustered by
# municipality. With only ten municipalities the cluster-robust variance is itself
# uncertain: the joint Wald test leans on it and is shown for completeness only.

# %%
model = cox(
    data,
    "C(sex) + C(age_group) + C(prior_group)",
    duration=DUR,
    event=EV,
    cluster="municipality",
)
summary = model.summary()
summary

# %%
model.tests, model.concordance_table()

# %%
with theme("sv"):
    ax = forest_plot(model)
    ax.set_title("Hasardkvoter för återfall (kluster: kommun)")

# %%
hr = summary.set_index("term")["hr"]
assert model.converged and model.n == len(data)
# More prior decisions, higher hazard, monotone over the ordered groups.
prior = hr[[t for t in hr.index if t.startswith("C(prior_group)")]]
assert (prior > 1).all()
assert hr["C(prior_group)[T.4-9]"] > hr["C(prior_group)[T.1]"]
assert 0.6 < model.concordance < 0.8
assert summary["robust_se"].notna().all()

# %% [markdown]
# ## Do the hazard ratios stay constant over follow-up?
#
# Grambsch–Therneau tests (R's `cox.zph`, Kaplan–Meier time scale) per term and globally,
# and the scaled Schoenfeld residuals of prior decisions with a lowess smooth: a flat
# smooth is what proportional hazards predicts.

# %%
zph = cox_zph(model, "km")
zph.table

# %%
with theme("sv"):
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
    for ax, term in zip(axes, zph.terms, strict=True):
        zph.plot(ax=ax, term=term)
    fig.tight_layout()

# %%
assert list(zph.table["term"]) == ["C(sex)", "C(age_group)", "C(prior_group)", "GLOBAL"]
assert zph.table["p"].between(0, 1).all()
# The data are generated with proportional hazards in the observed covariates.
assert zph.table.set_index("term").loc["GLOBAL", "p"] > 0.01

# %% [markdown]
# ## How long do participants stay free of new offences within three years?
#
# Restricted mean time without relapse to three years, by prior-decision group (0 against
# 4–9 decisions, the two groups with enough people), with the difference and ratio.

# %%
two = data[data["prior_group"].astype(str).isin(["0", "4-9"])]
rm = rmst(two, duration=DUR, event=EV, tau=3 * YEAR, by="prior_group")
rm.summary()

# %%
rm.contrasts

# %%
table = rm.summary()
means = table[table["term"] == "rmst"].set_index("group")["estimate"]
assert means["0"] > means["4-9"]  # more prior decisions, less time without relapse
assert means.between(0, 3 * YEAR).all()
diff = rm.contrasts.set_index("term").loc["difference"]
assert diff["ci_upper"] < 0  # the difference is clear, not only in sign

# %% [markdown]
# ## Do window shares and time-to-event models tell the same story?
#
# Brå reports the share who relapse within one year. A logistic regression of that flag
# (people whose window is not fully observed are left out and counted) against the Cox
# hazard ratios, and a Weibull accelerated failure time model that reads the same data as
# time ratios.

# %%
logit = window_logistic(
    data,
    "C(sex) + C(age_group) + C(prior_group)",
    window_flag="relapse_1y",
    cluster="municipality",
)
print(f"{logit.n} participants with a complete 1-year window, {logit.n_missing} left out")
weibull = aft(data[data[DUR] > 0], "C(sex) + C(age_group) + C(prior_group)", duration=DUR, event=EV)
side = pd.DataFrame(
    {
        "hr (Cox)": summary.set_index("term")["hr"],
        "or (1 year)": logit.summary().set_index("term")["or"],
        "time ratio (Weibull)": weibull.summary().set_index("term")["time_ratio"],
    }
).dropna()
side

# %%
# Higher hazard goes with higher odds of relapse within a year and shorter times.
prior_terms = [t for t in side.index if t.startswith("C(prior_group)")]
assert (side.loc[prior_terms, "or (1 year)"] > 1).all()
assert (side.loc[prior_terms, "time ratio (Weibull)"] < 1).all()
assert logit.n + logit.n_missing == len(data)
