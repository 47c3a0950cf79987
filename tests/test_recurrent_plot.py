"""The recurrent-event curves: the numbers behind the figure and the figure drawn from them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evaluation.survival import ghosh_lin, mean_cumulative_function

DATA = pd.read_csv(Path(__file__).parent / "reference" / "data" / "recurrent_events.csv")


@pytest.fixture
def curves():
    return mean_cumulative_function(
        DATA, start="start", stop="stop", event="event", id="id", by="x"
    )


def test_plot_data_are_steps_from_zero_with_bands_around(curves):
    pdata = curves.plot_data()
    for _, part in pdata.groupby("group"):
        assert part["time"].iloc[0] == 0 and part["estimate"].iloc[0] == 0
        assert (np.diff(part["estimate"]) >= 0).all()  # a mean count never decreases
        assert (part["ci_lower"] <= part["estimate"] + 1e-12).all()
        assert (part["estimate"] <= part["ci_upper"] + 1e-12).all()


def test_figure_draws_one_step_line_per_group(curves):
    fig, ax = plt.subplots()
    try:
        out = curves.plot(ax=ax, time_unit="years", lang="en")
        assert out is ax
        lines = [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"]
        assert len(lines) == 2
        last = curves.plot_data().groupby("group")["estimate"].last().sort_index()
        np.testing.assert_allclose(sorted(ln.get_ydata()[-1] for ln in lines), sorted(last))
        assert ax.get_ylabel() == "Expected number of relapse offences per person"
    finally:
        plt.close(fig)


def test_mcf_and_ghosh_lin_in_one_figure_are_labelled_by_method():
    gl = ghosh_lin(DATA, start="start", stop="stop", event="event", terminal="terminal", id="id")
    mcf = mean_cumulative_function(DATA, start="start", stop="stop", event="event", id="id")
    both = pd.concat([gl.plot_data(), mcf.plot_data()], ignore_index=True)
    from evaluation.presentation.graphics.recurrent import draw_recurrent

    fig, ax = plt.subplots()
    try:
        draw_recurrent(both, ax=ax, lang="sv")
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("Ghosh–Lin" in t for t in texts) and any("medelkumulativ" in t for t in texts)
    finally:
        plt.close(fig)
