"""Tests of the cumulative-incidence figure and the numbers behind it."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.presentation.graphics.competing import cause_label, risk_table_cells
from evaluation.presentation.theme import HATCHES, theme
from evaluation.survival.competing import cumulative_incidence

RETENTION = pd.read_csv(Path(__file__).parent / "reference" / "data" / "cif_retention.csv")


@pytest.fixture(scope="module")
def ci():
    return cumulative_incidence(RETENTION, duration="duration_days", event="event", by="group")


def test_plot_data_stack_fills_the_unit_interval(ci):
    data = ci.plot_data()
    for g in ci.groups:
        part = data[data["group"] == g]
        top = part[part["cause"] == 0]
        assert np.allclose(top["stack_upper"], 1.0)
        # the event-free band starts where the last cause ends and has the survival's height
        assert np.allclose(top["stack_upper"] - top["stack_lower"], top["estimate"], atol=1e-12)
        first = part[part["cause"] == ci.causes[0]]
        assert np.allclose(first["stack_lower"], 0.0)
        assert (part["time"].groupby(part["cause"]).first() == 0).all()


def test_stacked_figure_hatches_and_labels(ci):
    with theme("en"):
        ax = ci.plot(group="B", cause_labels="retention", min_cell=5)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Ongoing", "Died", "Moved", "Dropped out", "Completed"]
    hatches = [c.get_hatch() or "" for c in ax.collections]
    assert hatches[:4] == list(HATCHES[:4])
    assert ax.get_ylabel() == "Proportion"


def test_risk_table_is_masked(ci):
    cells = risk_table_cells(ci, [0, 900, 1300], min_cell=5)
    raw = ci.risk_table([0, 900, 1300])
    small = (raw["n_at_risk"] > 0) & (raw["n_at_risk"] < 5)
    assert small.any()  # the late ticks have small risk sets in this data
    assert cells.loc[small.to_numpy(), "n_at_risk"].isna().all()
    assert (cells.loc[small.to_numpy(), "at_risk_text"] == "..").all()
    with theme("sv"):
        ax = ci.plot(kind="lines", xticks=[0, 900, 1300])
    shown = [t.get_text() for t in ax.texts if t.get_gid() == "risk_table"]
    assert ".." in shown and not any(s in {"1", "2", "3", "4"} for s in shown)
    assert ax.get_ylabel() == "Kumulativ incidens"


def test_lines_one_curve_per_group_and_cause(ci):
    _, ax = plt.subplots()
    out = ci.plot(ax, kind="lines", risk_table=False, lang="en")
    assert out is ax
    assert len(ax.get_lines()) == len(ci.groups) * len(ci.causes)


def test_cause_labels_and_errors(ci):
    assert cause_label(1, {1: "completed"}, "en") == "Completed"
    assert cause_label(1, {1: "Klar"}, "sv") == "Klar"
    assert cause_label(0, None, "sv") == "Ingen händelse ännu"
    with pytest.raises(EstimationError, match="one group"):
        ci.plot()
    with pytest.raises(EstimationError, match="kind"):
        ci.plot(group="A", kind="pie")
    with pytest.raises(EstimationError, match="preset"):
        ci.plot(group="A", cause_labels="nope")


def test_risk_table_thousands_separator_and_axis_end(ci):
    big = pd.concat([RETENTION] * 40, ignore_index=True)
    many = cumulative_incidence(big, duration="duration_days", event="event")
    n = len(big)
    assert n >= 1000  # the count needs a thousands separator
    sv = risk_table_cells(many, [0], min_cell=5, lang="sv")["at_risk_text"].iloc[0]
    en = risk_table_cells(many, [0], min_cell=5, lang="en")["at_risk_text"].iloc[0]
    assert sv == f"{n:,}".replace(",", "\u00a0") and en == f"{n:,}"
    ax = ci.plot(kind="lines", lang="en")
    ticks = ax.get_xticks()
    assert ticks[-1] >= ci.plot_data()["time"].max()
    assert ax.get_xlim() == (0.0, ticks[-1])
    # one at-risk column per tick and group
    assert len([t for t in ax.texts if t.get_gid() == "risk_table"]) == len(ticks) * len(ci.groups)
