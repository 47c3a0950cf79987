"""Report figures drawn here: the cohort flow diagram and milestone bar charts.

The other figures of the report are ``.plot(ax=...)`` methods of the analysis results
(relapse curves, forest plots, stacked cumulative incidence, love and overlap plots).
Each function here draws on the given ``ax`` only, returns it, and has a ``*_data``
companion that returns the disclosure-controlled numbers it draws.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats

from evaluation.presentation._cells import DEFAULT_MIN_CELL
from evaluation.presentation.disclosure import SUPPRESSED, suppress_small_cells
from evaluation.presentation.formatting import format_number, format_percent
from evaluation.presentation.labels import has_label, label
from evaluation.presentation.theme import HATCHES, current_lang, style_for

__all__ = [
    "flow_data",
    "flow_diagram",
    "milestone_bars",
    "milestone_data",
    "reason_label",
    "window_bars",
]


def reason_label(reason: str, lang: str, *, short: bool = False) -> str:
    """A flow-table reason in ``lang``: the label ``flow_<slug>`` when there is one.

    With ``short``, the label ``flow_short_<slug>`` is preferred (for small boxes).

    Examples
    --------
    >>> reason_label("included", "sv")
    'Ingår'
    """
    text = re.sub(r"^excluded:\s*", "", str(reason))
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    for key in ([f"flow_short_{slug}"] if short else []) + [f"flow_{slug}"]:
        if has_label(key):
            return label(key, lang)
    return text


def flow_data(flow: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """A cohort's flow table after disclosure control: persons rows, then window rows.

    Persons rows: the first row (every person in the registers) is the total; the exclusions
    and the included row add up to it. Window rows: for each follow-up window, the measured
    entries and the reasons a window could not be measured add up to the included entries.
    Secondary suppression protects both sets of relations against subtraction.

    Returns
    -------
    DataFrame
        ``stage``, ``window``, ``reason``, ``n_persons``, ``n_entries`` (NaN where suppressed
        or not applicable) and ``suppressed``.
    """
    missing = {"stage", "reason", "n_persons", "n_entries"} - set(flow.columns)
    if missing:
        raise ValueError(f"the flow table lacks the columns {', '.join(sorted(missing))}")
    persons = flow[flow["stage"] == "persons"].reset_index(drop=True)
    if persons.empty:
        raise ValueError("the flow table has no 'persons' rows")
    counts = pd.DataFrame(
        {"n_persons": pd.to_numeric(persons["n_persons"]).astype("float64")},
        index=range(len(persons)),
    )
    s = suppress_small_cells(counts, min_cell=min_cell, total_row=0)
    entries = pd.to_numeric(persons["n_entries"], errors="coerce").astype("float64")
    included_entries = entries.iloc[-1]
    entries_hidden = (entries >= 1) & (entries < min_cell)
    parts = [
        pd.DataFrame(
            {
                "stage": "persons",
                "window": "",
                "reason": persons["reason"].astype(str),
                "n_persons": s.table["n_persons"],
                "n_entries": entries.mask(entries_hidden),
                "suppressed": s.mask["n_persons"],
            }
        )
    ]
    if "window" not in flow.columns:  # a flow table without window rows
        flow = flow.assign(window="")
    windows = flow[flow["stage"] == "window"]
    for window in dict.fromkeys(windows["window"]):
        rows = windows[windows["window"] == window].reset_index(drop=True)
        n = pd.to_numeric(rows["n_entries"]).astype("float64").tolist()
        table = pd.DataFrame({"n_entries": [included_entries, *n]})
        w = suppress_small_cells(table, min_cell=min_cell, total_row=0)
        shown = w.table["n_entries"].iloc[1:].reset_index(drop=True)
        hidden = w.mask["n_entries"].iloc[1:].reset_index(drop=True)
        n_persons = pd.to_numeric(rows["n_persons"]).astype("float64")
        parts.append(
            pd.DataFrame(
                {
                    "stage": "window",
                    "window": str(window),
                    "reason": rows["reason"].astype(str),
                    "n_persons": n_persons.mask((n_persons >= 1) & (n_persons < min_cell)),
                    "n_entries": shown,
                    "suppressed": hidden,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _n(value: float, lang: str) -> str:
    return SUPPRESSED if pd.isna(value) else format_number(value, lang)


def flow_diagram(
    flow: pd.DataFrame,
    *,
    ax: Axes | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
    data: pd.DataFrame | None = None,
) -> Axes:
    """A CONSORT-style flow diagram of a cohort: everyone, exclusions, the included, windows.

    Parameters
    ----------
    flow : DataFrame
        ``Cohort.flow`` (columns ``stage``, ``window``, ``reason``, ``n_persons``,
        ``n_entries``).
    ax : Axes, optional
        Where to draw (a new figure's axes otherwise).
    min_cell : int
        Disclosure threshold for the counts in the boxes (see :func:`flow_data`).
    data : DataFrame, optional
        The protected numbers to draw (``flow_data``'s columns, NaN where withheld), as the
        report's ledger decided them; by default ``flow_data(flow, min_cell=min_cell)``.

    Examples
    --------
    >>> flow = pd.DataFrame({"stage": ["persons"] * 3,
    ...     "reason": ["persons in registers", "excluded: no entry event", "included"],
    ...     "n_persons": [100, 3, 97], "n_entries": [pd.NA, pd.NA, 120]})
    >>> ax = flow_diagram(flow)
    >>> [t.get_text().splitlines()[1] for t in ax.texts[:2]]
    ['n = 100', 'n = ..']
    >>> [t.get_text() for t in ax.texts if t.get_text().startswith("Ingen")][0]
    'Ingen startpunkt (inskrivning eller programstart): ..'
    """
    lang = current_lang()
    if data is None:
        data = flow_data(flow, min_cell=min_cell)
    persons = data[data["stage"] == "persons"].reset_index(drop=True)
    windows = data[data["stage"] == "window"]
    ax = _axes(ax)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    box = {"boxstyle": "square,pad=0.5", "facecolor": "white", "edgecolor": "#333333", "lw": 0.8}
    arrow = {"arrowstyle": "-|>", "color": "#333333", "lw": 0.8}
    top, excluded, included = persons.iloc[0], persons.iloc[1:-1], persons.iloc[-1]
    y_included = 0.45 if len(windows) else 0.12
    top_box = ax.text(
        0.3,
        0.92,
        f"{reason_label(top['reason'], lang)}\nn = {_n(top['n_persons'], lang)}",
        ha="center",
        va="center",
        bbox=box,
        fontsize=8,
    )
    entries = included["n_entries"]
    entry_text = (
        f"\n{label('flow_n_entries', lang)}: {_n(entries, lang)}" if pd.notna(entries) else ""
    )
    included_box = ax.text(
        0.3,
        y_included,
        f"{reason_label(included['reason'], lang)}\n"
        f"n = {_n(included['n_persons'], lang)}{entry_text}",
        ha="center",
        va="center",
        bbox=box,
        fontsize=8,
    )
    # Arrows join box centres and are cut at the box edges (patchA/patchB), so they touch
    # the boxes whatever the height of their text.
    ax.annotate(
        "",
        xy=(0.3, y_included),
        xytext=(0.3, 0.92),
        arrowprops={
            **arrow,
            "patchA": top_box.get_bbox_patch(),
            "patchB": included_box.get_bbox_patch(),
        },
    )
    y_excluded = (0.92 + y_included) / 2
    if len(excluded):
        # Reasons that excluded nobody are left out of the box (they stay in the table).
        lines = [
            f"{reason_label(r, lang)}: {_n(n, lang)}"
            for r, n in zip(excluded["reason"], excluded["n_persons"], strict=True)
            if not n == 0
        ]
        excluded_box = ax.text(
            0.62, y_excluded, "\n".join(lines), ha="left", va="center", bbox=box, fontsize=7
        )
        ax.annotate(
            "",
            xy=(0.62, y_excluded),
            xytext=(0.3, y_excluded),
            arrowprops={**arrow, "patchB": excluded_box.get_bbox_patch()},
        )
    names = list(dict.fromkeys(windows["window"]))
    for k, window in enumerate(names):
        x = (k + 0.5) / len(names)
        rows = windows[windows["window"] == window]
        lines = [_window_title(window, lang)]
        lines += [
            f"{reason_label(r, lang, short=True)}: {_n(n, lang)}"
            for r, n in zip(rows["reason"], rows["n_entries"], strict=True)
            if not n == 0
        ]
        window_box = ax.text(
            x, 0.1, "\n".join(lines), ha="center", va="center", bbox=box, fontsize=6.5
        )
        ax.annotate(
            "",
            xy=(x, 0.1),
            xytext=(0.3, y_included),
            arrowprops={
                **arrow,
                "patchA": included_box.get_bbox_patch(),
                "patchB": window_box.get_bbox_patch(),
            },
        )
    return ax


def _window_title(window: str, lang: str) -> str:
    """'1y' -> 'Inom 1 år' (the label ``window_1y``), else the window as written."""
    key = f"window_{window}"
    return label(key, lang) if has_label(key) else str(window)


def wilson_interval(k: float, n: float, z: float) -> tuple[float, float]:
    """Wilson's score interval for ``k`` of ``n`` (Wilson 1927): inside [0, 1] for small n.

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(5, 10, 1.959964)]
    [0.2366, 0.7634]
    """
    centre = (k + z**2 / 2) / (n + z**2)
    half = z * np.sqrt(k * (n - k) / n + z**2 / 4) / (n + z**2)
    return float(centre - half), float(centre + half)


def milestone_data(
    data: pd.DataFrame,
    *,
    by: str,
    windows: Sequence[int] = (1, 2, 3),
    min_cell: int = DEFAULT_MIN_CELL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Share relapsed within each window by group, with Wilson intervals, disclosure-controlled.

    Uses the cohort's window flags ``relapse_{w}y`` (True, False, or missing where the
    window is not fully observed). Counts below ``min_cell`` are suppressed (with secondary
    suppression across the groups of a window, whose counts add up to the total); a share
    and its interval are shown only where the count and a denominator of at least
    ``min_cell`` are shown.

    Returns
    -------
    DataFrame
        ``group``, ``window``, ``n``, ``n_events``, ``estimate``, ``ci_lower``, ``ci_upper``
        (NaN where suppressed).
    """
    if by not in data.columns:
        raise ValueError(f"the cohort has no column {by!r} to group by")
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for w in windows:
        col = f"relapse_{w}y"
        if col not in data.columns:
            raise ValueError(f"the cohort has no window column {col!r}")
        flags = data[col]
        measured = flags.notna()
        groups = data.loc[measured, by].astype(str)
        hits = flags[measured].astype(bool)
        table = pd.DataFrame({"n": groups.value_counts(), "n_events": hits.groupby(groups).sum()})
        table = table.fillna(0).sort_index()
        total = pd.DataFrame(
            {"n": [table["n"].sum()], "n_events": [table["n_events"].sum()]}, index=["__total__"]
        )
        s = suppress_small_cells(
            pd.concat([total, table]).astype("int64"),
            min_cell=min_cell,
            total_row="__total__",
            shares={"estimate": ("n_events", "n")},
        )
        shown = s.table.drop(index="__total__")
        for group, row in shown.iterrows():
            n, k, p = row["n"], row["n_events"], row["estimate"]
            lo = hi = np.nan
            if pd.notna(p):
                lo, hi = wilson_interval(k, n, z)
            rows.append(
                {
                    "group": group,
                    "window": w,
                    "n": n,
                    "n_events": k,
                    "estimate": p,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
    columns = ["group", "window", "n", "n_events", "estimate", "ci_lower", "ci_upper"]
    return pd.DataFrame(rows, columns=columns)


def milestone_bars(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Grouped bars: share relapsed at each window (x) by group (bars), with intervals.

    ``table`` is :func:`milestone_data`'s output. Suppressed shares are drawn as no bar with
    ``..`` at its place.
    """
    lang = current_lang()
    ax = _axes(ax)
    groups = list(dict.fromkeys(table["group"]))
    windows = list(dict.fromkeys(table["window"]))
    width = 0.8 / max(len(groups), 1)
    for i, group in enumerate(groups):
        rows = table[table["group"] == group].set_index("window").reindex(windows)
        x = np.arange(len(windows)) + (i - (len(groups) - 1) / 2) * width
        est = rows["estimate"].to_numpy(dtype=float)
        style = style_for(i)
        ax.bar(
            x,
            np.nan_to_num(est),
            width=width * 0.9,
            color=style["color"],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor="white",
            lw=0.5,
            label=group,
        )
        err = np.vstack(
            [est - rows["ci_lower"].to_numpy(float), rows["ci_upper"].to_numpy(float) - est]
        )
        ax.errorbar(x, est, yerr=err, fmt="none", ecolor="#222222", elinewidth=0.8, capsize=2)
        for xi, e in zip(x, est, strict=True):
            if np.isnan(e):
                ax.text(xi, 0.01, SUPPRESSED, ha="center", va="bottom", fontsize=7)
    ax.set_xticks(np.arange(len(windows)))
    ax.set_xticklabels(
        [label(f"window_{w}y", lang) if has_label(f"window_{w}y") else str(w) for w in windows]
    )
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: format_percent(v, lang) + " %")
    ax.set_ylabel(label("share_relapsed", lang))
    if groups:
        ax.legend(ncols=min(len(groups), 4), loc="upper left")
    ax.grid(axis="x", visible=False)
    return ax


def window_bars(table: pd.DataFrame, *, window: int, ax: Axes | None = None) -> Axes:
    """Horizontal bars: share relapsed within one window for each group, with intervals.

    ``table`` is :func:`milestone_data`'s output (long: one row per group and window);
    groups are the rows (Brå's layout, for example one bar per municipality), drawn with
    seaborn's ``barplot``. A suppressed share is drawn as ``..`` and no bar.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["A", "B"], "window": [3, 3], "n": [40, 4],
    ...     "n_events": [20, 2], "estimate": [0.5, None], "ci_lower": [0.35, None],
    ...     "ci_upper": [0.65, None]})
    >>> ax = window_bars(t, window=3)
    >>> [t.get_text() for t in ax.texts]
    ['..']
    """
    lang = current_lang()
    ax = _axes(ax)
    rows = table[table["window"] == window].reset_index(drop=True)
    y = np.arange(len(rows))[::-1]
    est = rows["estimate"].to_numpy(dtype=float)
    import seaborn as sns

    # One bar per group (municipality), with seaborn on the group's row position (seaborn
    # takes an empty vector for a missing one: draw nothing then).
    if len(rows):
        sns.barplot(
            x=np.nan_to_num(est),
            y=y,
            orient="h",
            native_scale=True,
            width=0.7,
            color=style_for(0)["color"],
            errorbar=None,
            ax=ax,
        )
    err = np.vstack(
        [est - rows["ci_lower"].to_numpy(float), rows["ci_upper"].to_numpy(float) - est]
    )
    ax.errorbar(est, y, xerr=err, fmt="none", ecolor="#222222", elinewidth=0.8, capsize=2)
    for yi, e in zip(y, est, strict=True):
        if np.isnan(e):
            ax.text(0.01, yi, SUPPRESSED, ha="left", va="center", fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels(rows["group"].astype(str).tolist())
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _pos: format_percent(v, lang) + " %")
    ax.set_xlabel(label("share_relapsed", lang))
    ax.grid(axis="y", visible=False)
    return ax


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(layout="constrained").add_subplot()
