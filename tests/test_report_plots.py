"""The report's own figures: flow diagram, milestone bars and window bars.

Every test reads what a figure shows (box texts, bar heights, interval ends, labels) and
compares it with numbers computed another way: the counts written into the flow table, the
shares of Brå's relapse table (``relapse_table``) and Wilson intervals from statsmodels. No
pixels are compared.
"""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer
from statsmodels.stats.proportion import proportion_confint

from evaluation.cohorts import Cohort, relapse_table
from evaluation.cohorts.definitions import RelapseDefinition
from evaluation.presentation.graphics.cohort import (
    flow_data,
    flow_diagram,
    milestone_bars,
    milestone_data,
    window_bars,
)
from evaluation.presentation.theme import theme
from evaluation.report import SUPPRESSED

matplotlib.use("Agg")

# -- the flow diagram -------------------------------------------------------------------------


def flow_table() -> pd.DataFrame:
    """1 200 persons: 3 and 20 excluded (the 3 is small), 1 177 included with 1 500 entries;
    of those entries 1 490 followed up a year, 8 not complete and 2 cut short (the 2 small)."""
    persons = [
        ("persons in registers", 1200, np.nan),
        ("excluded: no entry event", 3, np.nan),
        ("excluded: in custody until extraction", 0, np.nan),
        ("excluded: died or emigrated before entry", 20, np.nan),
        ("included", 1177, 1500),
    ]
    windows = [
        ("measured", 1170, 1490),
        ("excluded: window + buffer passes study_end", 5, 8),
        ("excluded: follow-up ended (custody, death, emigration) before the window closed", 2, 2),
    ]
    rows = [
        {"stage": "persons", "window": "", "reason": r, "n_persons": n, "n_entries": e}
        for r, n, e in persons
    ]
    rows += [
        {"stage": "window", "window": "1y", "reason": r, "n_persons": n, "n_entries": e}
        for r, n, e in windows
    ]
    return pd.DataFrame(rows)


def box_values(ax) -> list[str]:
    """Every value written after '= ' or ': ' in the diagram's boxes."""
    return [
        m.group(1)
        for t in ax.texts
        for line in t.get_text().splitlines()
        if (m := re.search(r"(?:= |: )([^:=]+)$", line))
    ]


def test_flow_data_suppresses_the_small_counts_and_what_would_give_them_back():
    data = flow_data(flow_table(), min_cell=5)
    persons = data[data["stage"] == "persons"]
    # 3 is primary; 20 is the next-smallest member of 1 200 = 3 + 0 + 20 + 1 177.
    assert persons["n_persons"].fillna(-1).tolist() == [1200, -1, 0, -1, 1177]
    assert persons["suppressed"].tolist() == [False, True, False, True, False]
    window = data[data["stage"] == "window"]
    # 2 is primary; 8 goes too since 1 500 - 1 490 - 8 would give the 2 back.
    assert window["n_entries"].fillna(-1).tolist() == [1490, -1, -1]
    assert window["n_persons"].fillna(-1).tolist() == [1170, 5, -1]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "sv",
            [
                "Personer i registren\nn = 1\u00a0200",
                "Ingår\nn = 1\u00a0177\nAntal inskrivningar: 1\u00a0500",
                "Ingen startpunkt (inskrivning eller programstart): ..\n"
                "Avliden eller utvandrad före startpunkten: ..",
                "Inom 1 år\nUppföljda: 1\u00a0490\nEj färdiga vid uttaget: ..\nAvbrutna: ..",
            ],
        ),
        (
            "en",
            [
                "Persons in the registers\nn = 1,200",
                "Included\nn = 1,177\nNumber of entry events: 1,500",
                "No entry event (decision or programme start): ..\n"
                "Died or emigrated before entry: ..",
                "Within 1 year\nFollowed up: 1,490\nNot complete at extraction: ..\nCut short: ..",
            ],
        ),
    ],
)
def test_flow_diagram_boxes_show_the_flow_data_in_words_of_the_language(lang, expected):
    with theme(lang):
        ax = flow_diagram(flow_table(), min_cell=5)
    texts = [t.get_text() for t in ax.texts if t.get_text()]
    # Boxes: everyone, the included, the exclusions (zero reasons left out), one per window.
    assert texts == expected
    values = box_values(ax)
    assert values.count(SUPPRESSED) == 4
    shown = {int(re.sub(r"[^0-9]", "", v)) for v in values if v != SUPPRESSED}
    assert shown == {1200, 1177, 1500, 1490}


def test_flow_diagram_shows_small_counts_only_when_the_threshold_allows():
    # The same table with min_cell=1 shows the 3 and the 2: the test above can fail.
    with theme("en"):
        ax = flow_diagram(flow_table(), min_cell=1)
    assert SUPPRESSED not in box_values(ax)
    assert {"3", "20", "8", "2"} <= set(box_values(ax))


# -- milestone bars and window bars -----------------------------------------------------------

# Persons per group and relapses within 1, 2 and 3 years; C and D are small groups.
GROUPS = {"A": (40, (8, 16, 20)), "B": (60, (15, 30, 33)), "C": (3, (1, 2, 3)), "D": (4, (2, 1, 2))}
NOT_MEASURED_3Y = 10  # B's last ten persons: the 3-year window is not fully observed


def cohort() -> Cohort:
    rows = []
    for group, (n, events) in GROUPS.items():
        for i in range(n):
            row = {"person_id": f"{group}{i}", "group": group}
            for w, k in zip((1, 2, 3), events, strict=True):
                hit = i < k
                row[f"relapse_{w}y"] = hit
                row[f"n_relapse_offences_{w}y"] = int(hit)
                row[f"days_to_relapse_{w}y"] = 100.0 * w if hit else np.nan
            if group == "B" and i >= n - NOT_MEASURED_3Y:
                row["relapse_3y"] = pd.NA
                row["n_relapse_offences_3y"] = pd.NA
                row["days_to_relapse_3y"] = np.nan
            rows.append(row)
    data = pd.DataFrame(rows)
    for w in (1, 2, 3):
        data[f"relapse_{w}y"] = data[f"relapse_{w}y"].astype("boolean")
        data[f"n_relapse_offences_{w}y"] = data[f"n_relapse_offences_{w}y"].astype("Int64")
    return Cohort(data, pd.DataFrame(), RelapseDefinition.preset("bra-final"))


def bra_shares() -> dict[tuple[str, int], float]:
    """Share relapsed per (group, window) from Brå's relapse table, computed independently."""
    t = relapse_table(cohort(), windows=(1, 2, 3), by=("group",), min_cell=5).table
    t = t[t["breakdown"] == "group"]
    return {
        (str(level), int(window[:-1])): share
        for level, window, share in zip(t["level"], t["window"], t["share"], strict=True)
    }


def wilson(k: float, n: float) -> tuple[float, float]:
    return proportion_confint(k, n, alpha=0.05, method="wilson")


def test_milestone_data_hides_the_small_groups_counts_and_shares():
    data = milestone_data(cohort().data, by="group", min_cell=5)
    small = data["group"].isin(["C", "D"])
    assert data.loc[small, ["n", "n_events", "estimate", "ci_lower", "ci_upper"]].isna().all().all()
    big = data[~small].set_index(["group", "window"])
    assert big.loc[("B", 3), "n"] == 60 - NOT_MEASURED_3Y  # only measured windows count
    shares = bra_shares()
    for (group, window), row in big.iterrows():
        assert row["estimate"] == pytest.approx(shares[(group, window)], rel=1e-12)
        assert (row["ci_lower"], row["ci_upper"]) == pytest.approx(
            wilson(row["n_events"], row["n"]), rel=1e-9
        )


@pytest.mark.parametrize(
    ("lang", "ticks", "ylabel"),
    [
        ("sv", ["Inom 1 år", "Inom 2 år", "Inom 3 år"], "Andel som återfallit"),
        ("en", ["Within 1 year", "Within 2 years", "Within 3 years"], "Proportion reoffended"),
    ],
)
def test_milestone_bars_are_the_relapse_tables_shares_with_wilson_intervals(lang, ticks, ylabel):
    table = milestone_data(cohort().data, by="group", min_cell=5)
    with theme(lang):
        ax = milestone_bars(table)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    errors = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert [b.get_label() for b in bars] == ["A", "B", "C", "D"]
    shares = bra_shares()
    for group, bar, error in zip("ABCD", bars, errors, strict=True):
        heights = [p.get_height() for p in bar.patches]
        segments = error.lines[2][0].get_segments()
        for w, height, segment in zip((1, 2, 3), heights, segments, strict=True):
            if group in "AB":
                assert height == pytest.approx(shares[(group, w)], rel=1e-12)
                row = table[(table["group"] == group) & (table["window"] == w)].iloc[0]
                low, high = wilson(row["n_events"], row["n"])
                assert sorted(segment[:, 1]) == pytest.approx([low, high], rel=1e-9)
            else:
                assert height == 0 and np.isnan(segment).all()  # no bar, no interval
    # One '..' for each hidden share (C and D in three windows) and no other text.
    assert [t.get_text() for t in ax.texts] == [SUPPRESSED] * 6
    assert [t.get_text() for t in ax.get_xticklabels()] == ticks
    assert ax.get_ylabel() == ylabel


@pytest.mark.parametrize(
    ("lang", "xlabel"), [("sv", "Andel som återfallit"), ("en", "Proportion reoffended")]
)
def test_window_bars_draw_one_bar_per_group_at_the_share(lang, xlabel):
    table = milestone_data(cohort().data, by="group", windows=(3,), min_cell=5)
    with theme(lang):
        ax = window_bars(table, window=3)
    bar = next(c for c in ax.containers if isinstance(c, BarContainer))
    # The first group is the top bar (Brå's order, read from the top); seaborn keeps the
    # patches in the order of their positions, so read them from the top.
    patches = sorted(bar.patches, key=lambda p: -p.get_y())
    labels = {t.get_position()[1]: t.get_text() for t in ax.get_yticklabels()}
    assert [labels[p.get_y() + p.get_height() / 2] for p in patches] == ["A", "B", "C", "D"]
    shares = bra_shares()
    widths = [p.get_width() for p in patches]
    assert widths[:2] == pytest.approx([shares[("A", 3)], shares[("B", 3)]], rel=1e-12)
    assert widths[2:] == [0, 0]
    assert [t.get_text() for t in ax.texts] == [SUPPRESSED, SUPPRESSED]
    assert ax.get_xlabel() == xlabel


def test_shares_of_small_groups_are_drawn_when_the_threshold_allows():
    # With min_cell=1 nothing is hidden: C's and D's bars appear and no '..' is drawn.
    table = milestone_data(cohort().data, by="group", windows=(3,), min_cell=1)
    ax = window_bars(table, window=3)
    bar = next(c for c in ax.containers if isinstance(c, BarContainer))
    patches = sorted(bar.patches, key=lambda p: -p.get_y())  # from the top, as the table
    assert [p.get_width() for p in patches][2:] == pytest.approx([3 / 3, 2 / 4])
    assert len(ax.texts) == 0


def test_the_theme_is_seaborns_paper_whitegrid_inside_the_block_only():
    import matplotlib as mpl
    import seaborn as sns

    from evaluation.presentation.theme import theme

    before = dict(mpl.rcParams)
    with theme("en"):
        # Seaborn's style where the package sets nothing of its own ...
        assert mpl.rcParams["axes.edgecolor"] == sns.axes_style("whitegrid")["axes.edgecolor"]
        assert mpl.rcParams["lines.markersize"] == sns.plotting_context("paper")["lines.markersize"]
        # ... and the package's own look on top (Brå's sizes, text kept as text in SVG).
        assert mpl.rcParams["font.size"] == 9 and mpl.rcParams["svg.fonttype"] == "none"
    assert dict(mpl.rcParams) == before  # nothing leaks out of the block
