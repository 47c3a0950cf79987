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
# # 03 · How soon do programme participants relapse, and who relapses sooner?
#
# Time from the start of an exit programme to the first new offence that leads to a
# lagföring (Brå's relapse, `bra-final` definition), for the participants in the default
# synthetic registers. Death and emigration end follow-up: they are censored in the
# Kaplan–Meier curves and the models, and the last section treats them as competing events
# and shows how much censoring them overstates relapse. We describe the curves by sex, age
# group, prior decisions and municipality, test the differences, fit a Cox model with
# standard errors clustered by municipality, check its proportional hazards assumption,
# and report restricted mean time without relapse.

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

# %% [markdown]
# `plot_data()` is the figure's numbers in long (tidy) form — one row per group and time —
# so the same curves can be drawn with seaborn directly (left: seaborn from `plot_data()`;
# right: the package's own figure). The drawn steps are the same numbers.

# %%
import seaborn as sns  # noqa: E402

tidy = curves["sex"].plot_data().assign(years=lambda d: d["time"] / 365.25)
with theme("sv"):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    sns.lineplot(
        tidy, x="years", y="incidence", hue="group", drawstyle="steps-post", ax=left
    )
    curves["sex"].plot(ax=right, kind="incidence", time_unit="years", risk_table=False)
    fig.tight_layout()
drawn = left.get_lines()[0].get_ydata()
assert list(tidy.columns[:2]) == ["group", "time"] and len(tidy) > 100
assert np.allclose(drawn, tidy[tidy["group"] == tidy["group"].iloc[0]]["incidence"])

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

# %% [markdown]
# ## How much does treating death and emigration as censoring overstate relapse?
#
# So far a death or an emigration censored the person, as if he or she could still
# relapse later, only unseen. 1 − Kaplan–Meier then estimates the share who would have
# relapsed in a world where nobody dies or leaves Sweden. The Aalen–Johansen cumulative
# incidence treats death (code 2) and emigration (code 3) as competing events: it
# estimates the share who have relapsed by time t in the population as it is, where a
# dead person can no longer relapse. Left: 1 − Kaplan–Meier of relapse (as above); right:
# the cumulative incidence of every cause, same axes. We do the same for the cohort of all
# Brå entry events (court decisions without custody and releases), which is larger and has
# more deaths.

# %%
bra = evaluation.relapse_cohort(registers, rng=SEED).data  # Brå's population, all entries
cohorts = {"programme": data, "all entries": bra}
km_fits = {k: kaplan_meier(d, duration=DUR, event=EV) for k, d in cohorts.items()}
cif_fits = {
    k: evaluation.cumulative_incidence(d, duration=DUR, event=EV) for k, d in cohorts.items()
}
cif_all = cif_fits["programme"]
with theme("sv"):
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    km_all.plot(ax=left, kind="incidence", time_unit="years")
    cif_all.plot(ax=right, kind="lines", time_unit="years", cause_labels="relapse")
    for ax in (left, right):
        ax.set_ylim(0, 0.8)
    left.set_title("1 − Kaplan–Meier: död och utvandring censurerar")
    right.set_title("Kumulativ incidens: död och utvandring konkurrerar")
    fig.tight_layout()

# %%
# The two estimates of relapse at every exit time, for both cohorts: both are sums over the
# same relapse times of (share still event-free just before) × (relapses / at risk), KM with
# its own survival of relapse only, Aalen–Johansen with the survival of any exit.
gaps = []
for k, d in cohorts.items():
    times = np.unique(d[DUR].to_numpy(dtype=float))
    cif_at = cif_fits[k].at(times)
    gaps.append(
        pd.DataFrame(
            {
                "cohort": k,
                "time": times,
                "one_minus_km": km_fits[k].at(times)["cumulative_incidence"].to_numpy(),
                "cif_relapse": cif_at.loc[cif_at["cause"] == 1, "estimate"].to_numpy(),
            }
        )
    )
gaps = pd.concat(gaps, ignore_index=True)
gaps["difference"] = gaps["one_minus_km"] - gaps["cif_relapse"]
gaps.groupby("cohort")["difference"].describe()

# %%
for k, d in cohorts.items():
    g = gaps[gaps["cohort"] == k]
    # Invariant: KM's survival of relapse alone is never below the survival of any exit, so
    # every KM step is at least the Aalen–Johansen step and the gap never shrinks
    # (floating-point rounding only).
    assert (g["difference"] >= -1e-12).all()
    assert (g["difference"].diff().dropna() >= -1e-12).all()
    # Strictly above from the first relapse after the first death or emigration on: from
    # then on the survival of any exit is strictly below KM's.
    first_competing = d.loc[d[EV].isin([2, 3]), DUR].min()
    parted = d.loc[(d[EV] == 1) & (d[DUR] > first_competing), DUR].min()
    assert (g.loc[g["time"] >= parted, "difference"] > 0).all()
    # Causes and event-free survival add up to one at every time.
    at = cif_fits[k].at(g["time"].to_numpy())
    assert np.allclose(at.groupby("time")["estimate"].sum(), 1.0, rtol=0, atol=1e-12)

# %% [markdown]
# ## Do Brå's window shares agree with the competing-risks estimate?
#
# At 1, 2 and 3 years: (a) Brå's window share, the `relapse_1y/2y/3y` flags of the cohort
# (among entries whose window and three-year decision buffer end before the extraction
# date; a death or emigration before a relapse counts as no relapse, the person stays in
# the denominator), (b) 1 − Kaplan–Meier with death and emigration censored, and (c) the
# Aalen–Johansen cumulative incidence of relapse, with the cumulative incidence of death
# or emigration beside it and the binomial standard error of the window share. The column
# `cif_same_entries` is (c) again, on only the entries that (a) counts.

# %%
flags = ["relapse_1y", "relapse_2y", "relapse_3y"]
both_ways = []
for k, d in cohorts.items():
    cif_at = cif_fits[k].at(MILESTONES)
    both_ways.append(
        pd.DataFrame(
            {
                "cohort": k,
                "years": [1, 2, 3],
                "n_window": [int(d[f].notna().sum()) for f in flags],
                "window_share": [float(d[f].dropna().astype(bool).mean()) for f in flags],
                "one_minus_km": km_fits[k].at(MILESTONES)["cumulative_incidence"].to_numpy(),
                "cif_relapse": cif_at.loc[cif_at["cause"] == 1, "estimate"].to_numpy(),
                "cif_death_emigration": cif_at[cif_at["cause"].isin([2, 3])]
                .groupby("time")["estimate"]
                .sum()
                .to_numpy(),
                # (c) again, on only the entries whose window is complete, as (a) counts them
                "cif_same_entries": [
                    float(
                        evaluation.cumulative_incidence(d[d[f].notna()], duration=DUR, event=EV)
                        .at([t])
                        .query("cause == 1")["estimate"]
                        .iloc[0]
                    )
                    for f, t in zip(flags, MILESTONES, strict=True)
                ],
            }
        )
    )
both_ways = pd.concat(both_ways, ignore_index=True)
both_ways = both_ways.assign(
    km_minus_cif=both_ways["one_minus_km"] - both_ways["cif_relapse"],
    window_se=np.sqrt(
        both_ways["window_share"] * (1 - both_ways["window_share"]) / both_ways["n_window"]
    ),
)
both_ways.round(4)

# %%
assert (both_ways["km_minus_cif"] >= -1e-12).all()  # (b) >= (c), as above
# Deaths and emigrations within three years in both cohorts: the gap is real at 3 years.
assert (both_ways.query("years == 3")["km_minus_cif"] > 0).all()
# The 1-year window share estimates the cumulative incidence at one year. Tolerance: three
# binomial standard errors of the share. The two estimates use largely the same people, so
# their difference varies less than that from sampling alone; the margin also absorbs the
# small systematic differences (later entries only in (c), calendar year vs 365.25 days,
# the decision deadline of the window).
one_year = both_ways.query("years == 1")
assert (
    (one_year["window_share"] - one_year["cif_relapse"]).abs() < 3 * one_year["window_se"]
).all()
# On the same entries the window share is the cumulative incidence: no one among them is
# censored before the window closes except a handful (< 0.2 % of entries: a follow-up that
# ends before the window, calendar years against 365.25 days, decisions after the buffer).
assert ((both_ways["window_share"] - both_ways["cif_same_entries"]).abs() < 0.002).all()

# %% [markdown]
# **Why (b) ≥ (c).** Both curves add up, over the relapse times, the share still without
# an event just before each time multiplied by the share of those at risk who relapse
# then. Kaplan–Meier's "still without an event" counts only relapses: someone who died
# or emigrated is silently kept in it, as though he or she were still out there and could
# relapse later. The Aalen–Johansen estimator takes them out, because a dead person cannot
# relapse. So every step of 1 − KM is at least as large, the gap only grows, and it is
# strictly positive from the first relapse after the first death or emigration. Its size
# is roughly the cumulative incidence of death or emigration times the relapse risk that
# remained for them: small among the programme participants (few deaths or emigrations),
# larger among all entries.
#
# **How (a) relates to (c).** Brå's window share needs no survival method because it
# avoids censoring by the end of the study: entries whose window (plus the buffer for the
# decision) is not complete at extraction are left out rather than censored, and a death
# or emigration before a relapse counts as "no relapse" with the person kept in the
# denominator. That is exactly the event the cumulative incidence counts, so with full
# follow-up the window share estimates the cumulative incidence of relapse (c), not
# 1 − KM (b). On the entries it counts, the window share and the cumulative incidence are
# the same number (`cif_same_entries`, up to a handful of entries). Against (c) on all
# entries it differs only because (c) also uses the later entries, censored by the end of
# the study: if offending or deaths change over calendar time, the 3-year share (entries
# up to 2019 only) drifts from (c); here it sits one or two standard errors above (c)
# among all entries, between (c) and (b), from sampling or calendar drift, not because it
# censors anybody (it equals (c) on its own entries). Where
# deaths are common, a window share compared with 1 − KM looks too low: the gap is
# KM's censoring of the competing events, not an error in Brå's statistic.
