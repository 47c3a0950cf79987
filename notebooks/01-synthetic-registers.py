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
# # 01 · Synthetic registers with a known truth
#
# Every analysis in this package is checked on synthetic registers whose true effects are
# known. This notebook shows what the generator does, what the default registers in
# `data/synthetic/` hold, and the truth they were generated with.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import evaluation
from evaluation.synthetic import SimulationConfig, load_truth, simulate_registers

SEED = 20151  # the seed of `make data`
SMOKE = "CI" in os.environ  # shrinks the demonstration simulation below
N_DEMO = 1500 if SMOKE else 4000
pd.set_option("display.max_columns", 30, "display.width", 160)

registers = evaluation.load_synthetic()
truth = load_truth()  # data/synthetic/truth.json, written with the registers

# %% [markdown]
# ## What does the generator do?
#
# `simulate_registers(SimulationConfig(), rng=SEED)` simulates, in 14-day steps from
# 2010-01-01 to 2025-12-31 (and 3 years beyond, for the truth):
#
# 1. **a population** of gang-involved persons in the nine reference municipalities and
#    `other`: sex, birth date, affiliation, and two hidden traits that never reach the
#    registers, a frailty and a **motivation**;
# 2. **offending** that leads to a lagföring, as a recurrent-event process in time spent in
#    the community (frailty, age, sex, affiliation, recent offending, motivation), with
#    an offence category, a sanction and a skewed lag to the decision;
# 3. **custody**: prison or youth care from the decision, remand after some offences;
#    periods never overlap, and nobody offends while locked up;
# 4. **the programme** from 2015: adults enter more often when recently active, in the gang
#    core and when motivated; episodes end completed, dropped out (mostly early, and far
#    more often after a new offence or custody during the episode), moved or died, or are
#    ongoing at extraction;
# 5. **the effect**: the offending hazard is multiplied by 0.6 during the programme and
#    0.8 after completing it;
# 6. **exits**: death (often violent) and emigration.
#
# The knobs and the calibration targets are in `SimulationConfig`'s docstring; the full
# description is the docstring of `evaluation.synthetic` and `data/synthetic/README.md`.

# %%
config = SimulationConfig()
pd.Series(
    {
        "n_persons": config.n_persons,
        "offence_rate (per year)": config.offence_rate,
        "effect_during (HR)": config.effect_during,
        "effect_after (HR)": config.effect_after,
        "effect_after_dropout (HR)": config.effect_after_dropout,
        "motivation_strength": config.motivation_strength,
        "dropout_probability": config.dropout_probability,
        "dropout after an offence in the episode (HR)": config.dropout_offence_hr,
        "dropout after custody in the episode (HR)": config.dropout_custody_hr,
    },
    name="default",
).to_frame()

# %% [markdown]
# ## What is in the registers?

# %%
sizes = pd.Series({name: len(registers.table(name)) for name in evaluation.registers.TABLES})
sizes.to_frame("rows")

# %%
assert sizes["persons"] == config.n_persons
assert registers.validate() is registers
registers.programme.head()

# %%
registers.offences.head()

# %%
pd.concat(
    {
        "sanction": registers.offences["sanction"].value_counts(normalize=True),
        "custody kind": registers.custody["kind"].value_counts(normalize=True),
        "exit_reason": registers.programme["exit_reason"].value_counts(normalize=True),
    }
).round(3).to_frame("share")

# %% [markdown]
# ## What does one participant's history look like?
#
# Custody periods as bars, offences at their offence date (dots) joined to their decision
# (crosses), the programme episode as a band, and the exit if any.

# %%
ids = registers.programme["person_id"].drop_duplicates().iloc[:6].tolist()
fig, ax = plt.subplots(figsize=(10, 4))
for row, pid in enumerate(ids):
    cus = registers.custody[registers.custody["person_id"] == pid]
    ends = cus["end_date"].fillna(registers.study_end)
    ax.broken_barh(
        list(zip(cus["start_date"], ends - cus["start_date"], strict=True)),
        (row - 0.3, 0.6),
        color="0.6",
        label="custody" if row == 0 else None,
    )
    ep = registers.programme[registers.programme["person_id"] == pid]
    ep_end = ep["end_date"].fillna(registers.study_end)
    ax.broken_barh(
        list(zip(ep["start_date"], ep_end - ep["start_date"], strict=True)),
        (row - 0.15, 0.3),
        color="tab:blue",
        label="programme" if row == 0 else None,
    )
    off = registers.offences[registers.offences["person_id"] == pid]
    ax.plot(off["offence_date"], np.full(len(off), row + 0.35), "o", ms=3, color="tab:red",
            label="offence" if row == 0 else None)  # fmt: skip
    ax.plot(off["decision_date"], np.full(len(off), row + 0.35), "x", ms=3, color="k",
            label="decision" if row == 0 else None)  # fmt: skip
    gone = registers.exits[registers.exits["person_id"] == pid]
    ax.plot(gone["date"], np.full(len(gone), row), "v", ms=8, color="k",
            label="exit" if row == 0 else None)  # fmt: skip
ax.set_yticks(range(len(ids)), ids)
ax.set_xlim(registers.study_start, registers.study_end)
ax.legend(ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8)
ax.set_title("Register histories of six participants (synthetic)")
timeline = ax

# %% [markdown]
# ## What is the truth?
#
# Each participant was simulated twice with the same random numbers: as observed, and
# never starting the programme. The outcome is the first new offence that leads to a
# lagföring after the start, with death and emigration competing, over 3 years without
# censoring by the extraction date.

# %%
eff = truth["effect"]
effect_table = pd.DataFrame(
    {
        "with programme": [eff["risk_with"][y] for y in ("1", "2", "3")],
        "without programme": [eff["risk_without"][y] for y in ("1", "2", "3")],
        "risk difference": [eff["risk_difference"][y] for y in ("1", "2", "3")],
    },
    index=pd.Index([1, 2, 3], name="years after start"),
)
effect_table

# %%
pd.Series(
    {
        "participants": eff["n_participants"],
        "RMST with (days, to 3 years)": eff["rmst_with_days"],
        "RMST without": eff["rmst_without_days"],
        "RMST difference": eff["rmst_difference_days"],
        "marginal hazard ratio": eff["hazard_ratio"],
    }
).to_frame("truth")

# %% [markdown]
# Every relapse offence and every death, from the same potential outcomes: the expected
# number of relapse offences per participant by 1, 2 and 3 years (and their ratio, with
# over without), and the risk of death (emigration competing) and of relapse or death.
# The generator's deaths do not depend on the programme: the true difference is 0.

# %%
rec, mort = truth["recurrence"], truth["mortality"]
pd.DataFrame(
    {
        "relapse offences, with": rec["mean_relapses_with"],
        "relapse offences, without": rec["mean_relapses_without"],
        "ratio of expected numbers": rec["rate_ratio"],
        "risk of death, with": mort["risk_death_with"],
        "risk of death, without": mort["risk_death_without"],
        "relapse or death, difference": mort["risk_relapse_or_death_difference"],
    }
).rename_axis("years")

# %%
assert all(rec["rate_ratio"][y] < 1 for y in ("1", "2", "3"))
assert mort["n_deaths_with"] < 30  # a handful of deaths among about 500 participants

# %%
ret = truth["retention"]
retention_table = pd.DataFrame(
    {k: ret[k] for k in ("completed", "dropped_out", "moved", "died")}
).loc[["3", "6", "12", "24"]]
retention_table.index.name = "months after start"
retention_table

# %%
bra = truth["bra"]
print(bra["definition"])
pd.Series(
    {
        "relapse within 1 year (non-participants)": bra["relapse_1y_nonparticipants"],
        "Monte Carlo standard error": bra["relapse_1y_nonparticipants_se"],
        "one entry per person and year": bra["relapse_1y_nonparticipants_one_per_year"],
    }
).to_frame("truth")

# %% [markdown]
# ## Is the default data calibrated?
#
# Targets: relapse within a year of a Brå entry among non-participants between 40 % and
# 55 % (Brå's general level is 25 %; this is a high-risk group), about a third of
# starters dropping out, at least about 400 participants.

# %%
assert 0.40 < bra["relapse_1y_nonparticipants"] < 0.55
dropped = ret["dropped_out_ever"]
assert abs(dropped - 1 / 3) < 3 * np.sqrt(dropped * (1 - dropped) / ret["n_episodes"])
assert eff["n_participants"] >= 400
assert all(eff["risk_difference"][y] < 0 for y in ("1", "2", "3"))
assert eff["hazard_ratio"] < 1

# %% [markdown]
# ## Does the truth respond to the knobs?
#
# A smaller population with more frequent entry: without any programme effect (and no
# spread between municipalities, `effect_tau=0`) the two simulated worlds coincide person
# by person, so the true risk difference is exactly 0; with the default effect it is
# negative.

# %%
demo = {}
for label, kw in {
    "no effect": {"effect_during": 1.0, "effect_after": 1.0, "effect_tau": 0.0},
    "default effect": {},
}.items():
    cfg = SimulationConfig(n_persons=N_DEMO, entry_rate=0.05, bra_monte_carlo_persons=500, **kw)
    demo[label] = simulate_registers(cfg, rng=SEED).truth["effect"]["risk_difference"]
demo_table = pd.DataFrame(demo)
demo_table

# %%
assert demo_table["no effect"].abs().max() == 0
assert (demo_table["default effect"] < 0).all()
