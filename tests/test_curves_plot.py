"""The curve figure: tested on the numbers behind it (plot data, risk table), not pixels."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.presentation.graphics.survival import risk_table_cells
from evaluation.presentation.theme import PALETTE, theme
from evaluation.survival import kaplan_meier

SYN = pd.read_csv(Path(__file__).parent / "reference" / "data" / "km_synthetic.csv")


def _curves(by="group"):
    return kaplan_meier(SYN, duration="time", event="status", by=by)


def _table_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == "risk_table"]


def test_incidence_curves_are_the_plot_data() -> None:
    km = _curves()
    ax = km.plot(kind="incidence", time_unit="years", risk_table=False)
    data = km.plot_data()
    lines = [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"]
    assert len(lines) == 3
    for line, g in zip(lines, km.groups, strict=True):
        part = data[data["group"] == g]
        np.testing.assert_allclose(line.get_xdata(), part["time"] / 365.25)
        np.testing.assert_allclose(line.get_ydata(), 1 - part["estimate"])
    assert [ln.get_color() for ln in lines] == list(PALETTE[:3])
    assert ax.get_ylabel() == "Andel som återfallit"
    assert ax.get_xlabel() == "År"


def test_survival_kind_english_and_censor_marks() -> None:
    km = _curves(by=None)
    with theme("en"):
        ax = km.plot(kind="survival", risk_table=False)
    assert ax.get_ylabel() == "Proportion not reoffended"
    assert ax.get_xlabel() == "Days"
    marks = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None"]
    assert len(marks) == 1
    data = km.plot_data()
    censored = data[data["censored"] > 0]
    np.testing.assert_allclose(marks[0].get_xdata(), censored["time"])
    np.testing.assert_allclose(marks[0].get_ydata(), censored["estimate"])
    assert ax.get_legend() is None  # one curve: no legend


def test_bands_bracket_the_curves() -> None:
    data = _curves().plot_data()
    assert (data["ci_lower"] <= data["estimate"]).all()
    assert (data["estimate"] <= data["ci_upper"]).all()
    assert ((data["incidence"] >= 0) & (data["incidence"] <= 1)).all()


def test_risk_table_is_aligned_with_ticks_and_masked() -> None:
    km = _curves()
    ticks = [0, 365, 730, 1095, 1460]
    fig, ax = plt.subplots()
    km.plot(ax, xticks=ticks, min_cell=5, lang="en")
    np.testing.assert_allclose(ax.get_xticks(), ticks)
    cells = risk_table_cells(km, ticks, min_cell=5)
    raw = km.risk_table(ticks)
    # Masked exactly where 1 <= count < 5, and shown as "..", the tables' symbol.
    small = (raw["n_at_risk"] > 0) & (raw["n_at_risk"] < 5)
    assert cells["n_at_risk"].isna().tolist() == small.tolist()
    assert (cells.loc[small, "at_risk_text"] == "..").all()
    assert small.any()  # the synthetic tail has few at risk: the test exercises masking
    # Texts are drawn row by row: at risk for each group, then events for each group.
    expected = []
    for column in ("at_risk_text", "events_text"):
        for g in km.groups:
            expected += cells.loc[cells["group"] == g, column].tolist()
    assert _table_texts(ax) == expected
    xs = [t.xy[0] for t in ax.texts if t.get_gid() == "risk_table"]
    assert xs == ticks * (2 * len(km.groups))
    titles = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert titles == ["Number at risk", "Number of events"]


def test_risk_table_counts_add_up() -> None:
    km = _curves()
    ticks = np.arange(0, 1600, 100)
    table = km.risk_table(ticks)
    for g, part in table.groupby("group"):
        members = SYN[SYN["group"] == g]
        assert part["n_events"].sum() == (members["status"] == 1).sum()
        assert part["n_censored"].sum() == (members["status"] != 1).sum()
        assert part["n_at_risk"].iloc[0] == len(members)
        # Without delayed entry, those at risk fall by exactly the exits between ticks.
        drop = -np.diff(part["n_at_risk"].to_numpy())
        exits = [
            ((members["time"] >= a) & (members["time"] < b)).sum()
            for a, b in zip(ticks[:-1], ticks[1:], strict=True)
        ]
        assert drop.tolist() == exits


def test_default_ticks_cover_follow_up_and_nine_groups_work() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "t": rng.integers(1, 1000, 900),
            "e": rng.integers(0, 2, 900),
            "g": np.repeat([f"g{i}" for i in range(9)], 100),
        }
    )
    km = kaplan_meier(df, duration="t", event="e", by="g")
    ax = km.plot()
    ticks = ax.get_xticks()
    assert ticks[0] == 0 and ticks[-1] >= df["t"].max() and len(ticks) >= 3
    assert ax.get_xlim() == (0.0, ticks[-1])  # the axis ends at the last tick
    steps = [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"]
    assert len({ln.get_color() for ln in steps}) == 9
    assert len(_table_texts(ax)) == 2 * 9 * len(ticks)


def test_bad_options_raise() -> None:
    km = _curves()
    with pytest.raises(EstimationError, match="kind"):
        km.plot(kind="hazard")
    with pytest.raises(EstimationError, match="time_unit"):
        km.plot(time_unit="weeks")
    df = pd.DataFrame({"t": range(1, 11), "e": 1, "g": range(10)})
    with pytest.raises(EstimationError, match="at most 9"):
        kaplan_meier(df, duration="t", event="e", by="g").plot()


def test_years_axis_puts_the_risk_table_at_the_right_days() -> None:
    km = _curves()
    ax = km.plot(time_unit="years", xticks=[0, 1, 2, 3], min_cell=5)
    cells = risk_table_cells(km, np.array([0, 1, 2, 3]) * 365.25, min_cell=5)
    expected = []
    for column in ("at_risk_text", "events_text"):
        for g in km.groups:
            expected += cells.loc[cells["group"] == g, column].tolist()
    assert _table_texts(ax) == expected


def test_risk_table_uses_the_languages_thousands_separator_and_decimal_mark() -> None:
    big = pd.DataFrame({"t": np.arange(1, 12001) % 1000 + 1, "e": 1})
    km = kaplan_meier(big, duration="t", event="e")
    n = len(big)
    assert risk_table_cells(km, [0], min_cell=5, lang="sv")["at_risk_text"].tolist() == [
        f"{n // 1000}\u00a0{n % 1000:03d}"
    ]
    assert risk_table_cells(km, [0], min_cell=5, lang="en")["at_risk_text"].tolist() == [
        f"{n // 1000},{n % 1000:03d}"
    ]
    ax = km.plot(lang="sv", xticks=[0, 500, 1000])
    assert _table_texts(ax)[0] == "12\u00a0000"
    fig = ax.figure
    fig.canvas.draw()
    ylabels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "0,2" in ylabels and not any("." in t for t in ylabels)


def test_given_ticks_short_of_follow_up_end_the_axis() -> None:
    km = _curves()
    tmax = km.plot_data()["time"].max() / 365.25
    ax = km.plot(time_unit="years", xticks=[0, 1, 2])
    assert tmax > 2  # the follow-up goes beyond the last tick
    assert ax.get_xlim() == (0.0, 2.0)
    xs = sorted({t.xy[0] for t in ax.texts if t.get_gid() == "risk_table"})
    assert xs == [0, 1, 2]


def test_group_names_end_clear_of_the_widest_first_column_number() -> None:
    km = _curves()
    ax = km.plot(xticks=[0, 365, 730], lang="sv")
    cells = risk_table_cells(km, [0, 365, 730], min_cell=5, lang="sv")
    first = cells[cells["time"] == 0]
    widest = max(len(t) for t in [*first["at_risk_text"], *first["events_text"]])
    names = [t for t in ax.texts if t.get_ha() == "right"]
    assert len(names) == 2 * len(km.groups)
    # half the widest centred number (about 3 points a character) plus a gap
    assert all(t.xyann[0] <= -(3.0 * widest + 8.0) for t in names)


def test_group_names_come_from_the_label_table():
    # Sex codes and group codes are shown in words; unknown values as they are.
    from evaluation.presentation.graphics.survival import group_label

    assert [group_label(g, "sv") for g in ("F", "M", "all")] == ["Kvinnor", "Män", "Samtliga"]
    assert group_label("participant", "en") == "Participants"
    assert group_label("Borås", "en") == "Borås"
