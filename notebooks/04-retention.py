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
# # 04 · Retention: how long people stay in the programme, and how episodes end
#
# One row per programme episode, time zero at the start; an episode ends as completed (1),
# dropped out (2), moved (3), died (4) or is still ongoing at extraction (0). The endings
# compete, so they are estimated with the Aalen–Johansen cumulative incidence, never as
# one minus a Kaplan–Meier curve that censors the others. The last section asks whether
# staying matters for relapse, with a landmark analysis.

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import evaluation
from evaluation.cohorts import (
    landmark_cohort,
    relapse_cohort,
    retention_cohort,
)
from evaluation.survival import (
    cause_specific_cox,
    cumulative_incidence,
    gray_test,
    kaplan_meier,
    retention_measures,
)

SEED = 20251231
MONTHS = (3, 6, 12, 24)
SMOKE = "CI" in os.environ  # nothing here is heavy; the switch is kept for uniformity
pd.set_option("display.max_columns", 30, "display.width", 160)

registers = evaluation.load_synthetic()
truth = json.loads((Path("..") / "data" / "synthetic" / "truth.json").read_text("utf-8"))
episodes = retention_cohort(registers, time_zero="start")

# %% [markdown]
# ## How many episodes are there, and how did they end?

# %%
episodes.flow

# %%
ends = episodes.data["exit_reason"].value_counts()
ends

# %%
assert episodes.n == len(registers.programme)  # programmes start in 2015: none excluded
assert set(episodes.data["event"]) <= {0, 1, 2, 3, 4}
assert ends.sum() == episodes.n

# %% [markdown]
# ## How many are still in the programme after 3, 6, 12 and 24 months?

# %%
measures = retention_measures(episodes, months=MONTHS)
wide = measures.table.pivot(index="months", columns="measure", values="estimate")
wide.round(3)

# %%
# Still in + every way of ending = 1 at each time.
assert np.allclose(wide.sum(axis=1), 1.0)
assert (np.diff(wide["still_in"].to_numpy()) <= 0).all()

# %% [markdown]
# ## Does the estimated dropout match the generator's truth?
#
# The truth is the share of these same episodes that end in dropout within 12 months in
# the simulation before extraction cut them off; the estimate sees only what the registers
# show (ongoing episodes censored at extraction). They should agree within about two
# standard errors of the Aalen–Johansen estimate.

# %%
at12 = measures.table.query("months == 12").set_index("measure")
true12 = truth["retention"]["dropped_out"]["12"]
est12, se12 = at12.loc["dropped_out", "estimate"], at12.loc["dropped_out", "se"]
print(f"dropout by 12 months: estimate {est12:.3f} (SE {se12:.3f}), truth {true12:.3f}")
assert abs(est12 - true12) < 3 * se12
# Calibration target of the generator: about a third of starters drop out.
assert 0.25 < measures.table.query("months == 24 and measure == 'dropped_out'")[
    "estimate"
].iloc[0] < 0.5

# %% [markdown]
# ## How do the episodes end over time? (stacked cumulative incidence)

# %%
ci = cumulative_incidence(episodes.data, duration="duration_days", event="event")
fig, ax = plt.subplots(figsize=(7, 4.5))
ci.plot(ax=ax, kind="stacked", cause_labels="retention", lang="sv")
ax.set_xlabel("Dagar sedan start")
fig.tight_layout()

# %% [markdown]
# ## Who drops out? Dropout and completion by referral route, municipality, age and prior decisions

# %%
rows = []
for by in ("referral", "municipality", "age_group", "prior_group"):
    m = retention_measures(episodes, months=(12,), by=by)
    part = m.table[m.table["measure"].isin(["dropped_out", "completed"])]
    part = part.pivot(index="group", columns="measure", values="estimate")
    n = episodes.data[by].astype("string").fillna("<NA>").value_counts()
    part["n_episodes"] = n.reindex(part.index).to_numpy()
    part.insert(0, "by", by)
    rows.append(part.reset_index())
by_group = pd.concat(rows, ignore_index=True)
by_group.round(3)

# %%
# Gray's test: does the cumulative incidence of dropout differ by referral route?
gray = gray_test(episodes.data, duration="duration_days", event="event", by="referral")
gray.summary()

# %%
# Cause-specific Cox model of dropout, cluster-robust by municipality (the unit that runs
# the programme).
frame = episodes.data.assign(male=(episodes.data["sex"] == "M").astype(float))
csc = cause_specific_cox(
    frame,
    "age + male + prior_decisions_5y + C(referral)",
    duration="duration_days",
    event="event",
    causes=[2],
    cluster="municipality",
)
csc.summary()

# %%
drop_days = measures.dropout_days
drop_days

# %%
# Dropout is concentrated early (the assessment phase): the median episode that ends in
# dropout ends within the first half-year.
assert drop_days["median_days"].iloc[0] < 183

# %% [markdown]
# ## Does staying in the programme matter for relapse? A landmark analysis
#
# "Completers relapse less than dropouts" is the comparison evaluations usually make, from
# the start. It is biased by immortal time: completing takes months during which a
# completer, by definition, did not drop out, and where a new crime ends the plan, did not
# relapse either. The landmark analysis fixes each participant's status 3 or 6 months after
# the start, keeps those still at risk and relapse-free then, and follows everyone from
# that date. It still compares self-selected groups (motivation is unobserved), so it
# describes rather than proves an effect.

# %%
starts = relapse_cohort(registers, definition="bra-final", population="programme", rng=SEED)
naive = starts.data[starts.data["exit_reason"].isin(["completed", "dropped_out"])]
naive = naive[naive["relapse_1y"].notna()]
naive_share = naive.groupby("exit_reason")["relapse_1y"].agg(["size", "mean"])
naive_share

# %%
landmarks = {m: landmark_cohort(starts, registers, landmark_months=m) for m in (3, 6)}
rows = []
for m, lm in landmarks.items():
    d = lm.data[lm.data["relapse_1y"].notna()]
    s = d.groupby("group")["relapse_1y"].agg(["size", "mean"]).reset_index()
    s.insert(0, "landmark_months", m)
    rows.append(s)
landmark_share = pd.concat(rows, ignore_index=True)
landmark_share

# %%
lm_flow = landmarks[6].flow
lm_flow[lm_flow["stage"] == "episodes"]

# %%
episode_rows = lm_flow[lm_flow["stage"] == "episodes"]["n_entries"].to_numpy()
assert episode_rows[0] == starts.n and episode_rows[1:].sum() == starts.n

# %% [markdown]
# In the default generator a new offence during an episode makes dropping out five times as
# likely (a custody period starting during it three times), as programmes end the plan after
# a new crime. Completers are then partly those who did not offend early, and the naive
# comparison counts those months in their favour. The population's answer to "do dropouts
# relapse more than those who stay?" among episodes still at risk at the landmark is in the
# truth (`truth["landmark"]`: the same contrast in an independent simulated population of
# 40,000 persons). The naive gap should miss it by more than two standard errors; the
# landmark gaps should not. (Standard errors are binomial: re-entries are few;
# `tests/recovery/test_immortal_time_recovery.py` clusters them by person.)

# %%
rows = []
for name, frame, column, stayed, months in (
    ("naive, from start", starts.data, "exit_reason", "completed", "6"),
    ("landmark 3 months", landmarks[3].data, "group", "completed_or_in", "3"),
    ("landmark 6 months", landmarks[6].data, "group", "completed_or_in", "6"),
):
    d = frame[frame["relapse_1y"].notna()]
    p1 = d.loc[d[column] == "dropped_out", "relapse_1y"].astype(float)
    p0 = d.loc[d[column] == stayed, "relapse_1y"].astype(float)
    target = truth["landmark"][months]
    rows.append(
        {
            "analysis": name,
            "dropped_out": p1.mean(),
            "stayed": p0.mean(),
            "gap": p1.mean() - p0.mean(),
            "se": np.sqrt(p1.var() / len(p1) + p0.var() / len(p0)),
            "truth": target["difference"],
            "truth_se": target["difference_se"],
        }
    )
gaps = pd.DataFrame(rows).set_index("analysis")
gaps["bias_in_se"] = (gaps["gap"] - gaps["truth"]) / np.hypot(gaps["se"], gaps["truth_se"])
gaps.round(3)

# %%
# Immortal time: the naive comparison is biased by more than 2 standard errors, the
# landmark comparisons are not.
assert gaps.loc["naive, from start", "bias_in_se"] > 2
assert (gaps.loc[["landmark 3 months", "landmark 6 months"], "bias_in_se"].abs() < 2).all()

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
km = kaplan_meier(landmarks[6].data, duration="duration_days", event="event", by="group")
km.plot(ax=ax)
ax.set_xlabel("Dagar sedan 6-månaderslandmärket")
fig.tight_layout()
