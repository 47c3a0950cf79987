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
# # 06 · The evaluation report for one municipality
#
# A parameterised notebook: run it with papermill for any municipality and language, and it
# writes the same report as `evaluation report --municipality NAME` (HTML page, figures as
# PNG/SVG/PDF, tables as CSV and Excel) and shows its figures and tables here. From the
# repository root:
#
# ```
# .venv/bin/papermill notebooks/06-municipality-report.ipynb reports-notebooks/06-Malmo.ipynb \
#     -p municipality Malmö -p lang en
# ```

# %% tags=["parameters"]
import os
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Image, display

import evaluation
from evaluation.cohorts import relapse_cohort
from evaluation.registers import synthetic_dir
from evaluation.report import REPORT_SEED, audit_report, build_report, find_disclosures, label
from evaluation.report.build import count_text, restrict_to_municipality
from evaluation.synthetic import load_truth

municipality = "Botkyrka"  # any value of persons.municipality
lang = "sv"  # "sv" or "en"
min_cell = 5  # disclosure threshold
out_dir = None  # default: reports-notebooks/<municipality> in the repository
SEED = 20151  # the report's seed: Brå's random entry event per person and year, bootstrap
SMOKE = "CI" in os.environ  # the report is the same either way; nothing here is heavy

# %%
assert SEED == REPORT_SEED  # the checks below recompute the report's cohorts
registers = evaluation.load_synthetic()
truth = load_truth()
repository = synthetic_dir().parents[1]
out = Path(out_dir) if out_dir else repository / "reports-notebooks" / municipality
local = restrict_to_municipality(registers, municipality)

# %% [markdown]
# ## How many persons and programme episodes does the municipality have?
# Counts below the disclosure threshold are shown as `..`, here as in the report.

# %%
pd.Series(
    {
        "persons": count_text(len(local.persons), lang, min_cell),
        "programme episodes": count_text(len(local.programme), lang, min_cell),
        "offences (lagförda)": count_text(len(local.offences), lang, min_cell),
    }
)

# %% [markdown]
# ## What does the report hold?

# %%
page = build_report(
    registers,
    out,
    lang=lang,
    municipality=municipality,
    min_cell=min_cell,
    truth=truth,
    overwrite=True,  # a rerun replaces the notebook's own earlier report
)
figures = sorted((out / "figures").glob("*.png"))
tables = sorted((out / "tables").glob("*.csv"))
print(page)
print(len(figures), "figures:", ", ".join(p.stem for p in figures))
print(len(tables), "tables:", ", ".join(p.stem for p in tables))
assert page.is_file() and (out / "tables.xlsx").is_file()
assert {"flow_programme", "flow_all", "milestones_by_group"} <= {p.stem for p in figures}
for figure in figures:
    for fmt in ("svg", "pdf"):
        assert figure.with_suffix(f".{fmt}").is_file()

# %% [markdown]
# ## Do the figures show what the registers say?
# The numbers behind each figure are written beside it (`figures/<name>.data.csv`). Here
# they are counted again from the municipality's cohort with plain pandas, without the
# report's code: every number the report shows must be the registers' number, and the
# numbers it withholds (empty cells) are simply not compared.

# %%
everyone = relapse_cohort(local, definition="bra-final", population="all", rng=SEED).data
names = {
    "participant": label("participants", lang),
    "non-participant": label("non_participants", lang),
}
written = pd.read_csv(out / "figures" / "milestones_by_group.data.csv", encoding="utf-8-sig")
compared = 0
for _, row in written.iterrows():
    flag = everyone[f"relapse_{row['window']}y"]
    rows = everyone[flag.notna() & (everyone["group"].map(names) == row["group"])]
    followed = len(rows)
    relapsed = int(rows[f"relapse_{row['window']}y"].astype(bool).sum())
    if pd.notna(row["n"]):
        assert row["n"] == followed, row
        compared += 1
    if pd.notna(row["n_events"]):
        assert row["n_events"] == relapsed, row
        compared += 1
    if pd.notna(row["estimate"]):  # a share only beside both of its counts
        assert pd.notna(row["n"]) and pd.notna(row["n_events"]), row
        assert row["estimate"] == round(relapsed / followed, 3), row
print(compared, "numbers of the milestone figure equal a direct count")
programme = relapse_cohort(local, definition="bra-final", population="programme", rng=SEED)
flow_written = pd.read_csv(out / "figures" / "flow_programme.data.csv", encoding="utf-8-sig")
included = flow_written[flow_written["reason"] == "included"].iloc[0]
persons_in = programme.data["person_id"].nunique()
assert pd.isna(included["n_persons"]) or included["n_persons"] == persons_in
assert pd.isna(included["n_entries"]) or included["n_entries"] == len(programme.data)
# The flow accounts for every person of the municipality (before disclosure control).
counts = programme.flow.loc[programme.flow["stage"] == "persons", "n_persons"].astype(int)
assert counts.iloc[0] == len(local.persons) == counts.iloc[1:].sum()
display(written)

# %% [markdown]
# ## Can anything the report wrote give back a count below the threshold?
# The audit attacks every file of the report together: it rebuilds each published count
# from the registers, solves for the tightest bounds an attacker gets on every withheld
# count (subtraction, shares, order relations, the same count in two files), and scans
# every file for small counts outside the report's ledger.

# %%
verdict = audit_report(out, registers)
print(verdict)
assert verdict.passed
findings = find_disclosures(out, min_cell=min_cell)
assert findings == [], findings[:5]
print("no count below", min_cell, "in", sum(1 for p in out.rglob("*") if p.is_file()), "files")

# %% [markdown]
# ## The figures

# %%
for figure in figures:
    display(Image(filename=str(figure), width=640))

# %% [markdown]
# ## The tables (as on the HTML page)

# %%
html = page.read_text(encoding="utf-8")
for block in html.split('<div class="table-wrap">')[1:]:
    display(HTML(block.split("</div>", 1)[0]))
