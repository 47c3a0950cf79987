"""The cumulative-incidence figure: stacked areas (how follow-up ends) or lines with bands.

Drawn only on the given (or a new) Axes; the number-at-risk table is written below the
axis as text aligned with the x ticks (counts below ``min_cell`` masked), as the
Kaplan–Meier figure does. The numbers behind it are ``CumulativeIncidence.plot_data()``
and ``risk_table_cells``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import EstimationError
from evaluation.presentation._cells import mask_small_counts
from evaluation.presentation.disclosure import SUPPRESSED
from evaluation.presentation.formatting import format_number
from evaluation.presentation.graphics.survival import (
    TIME_UNITS,
    decimal_formatter,
    default_ticks,
    draw_count_rows,
    group_label,
    plot_options,
)
from evaluation.presentation.labels import has_label, label
from evaluation.presentation.theme import HATCHES, PALETTE, current_lang, style_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evaluation.survival.competing import CumulativeIncidence

#: Days per display unit (durations are in days, as ``duration_days`` in cohorts).
KINDS: tuple[str, ...] = ("stacked", "lines")
#: Label keys for the event codes of the cohorts (1 relapse, 2 death, 3 emigration; for
#: retention 1 completed, 2 dropped out, 3 moved, 4 died); 0 is the event-free state.
CAUSE_PRESETS: dict[str, dict[int, str]] = {
    "relapse": {0: "event_free", 1: "relapse", 2: "death", 3: "emigration"},
    "retention": {0: "ongoing", 1: "completed", 2: "dropped_out", 3: "moved", 4: "died"},
}
_EVENT_FREE_COLOUR = "#DDDDDD"


def cause_label(code: int, cause_labels: Mapping[int, str] | str | None, lang: str) -> str:
    """Label of an event code: a preset or mapping (label keys or text), else "Orsak k".

    Examples
    --------
    >>> cause_label(2, "retention", "sv")
    'Avbrutit'
    >>> cause_label(3, None, "en")
    'Cause 3'
    """
    mapping: Mapping[int, str]
    if isinstance(cause_labels, str):
        if cause_labels not in CAUSE_PRESETS:
            raise EstimationError(
                f"cause_labels preset must be one of {', '.join(CAUSE_PRESETS)}, "
                f"not {cause_labels!r}"
            )
        mapping = CAUSE_PRESETS[cause_labels]
    else:
        mapping = cause_labels or {}
    text = mapping.get(code)
    if text is None:
        return label("event_free", lang) if code == 0 else label("cause_code", lang, code=code)
    return label(text, lang) if has_label(text) else text


def risk_table_cells(
    result: CumulativeIncidence,
    times: Sequence[float] | np.ndarray,
    *,
    min_cell: int,
    lang: str = "sv",
) -> pd.DataFrame:
    """Persons at risk at ``times`` as the figure prints them (1..min_cell-1 masked).

    Columns ``group, time, n_at_risk`` (float, NaN = suppressed) and ``at_risk_text``
    (the language's thousands separator; ``..``, as in the tables, where suppressed).
    """
    table = result.risk_table(times)
    masked = mask_small_counts(table["n_at_risk"].to_numpy(), min_cell).to_numpy()
    out = table[["group", "time"]].copy()
    out["n_at_risk"] = masked
    out["at_risk_text"] = [
        SUPPRESSED if np.isnan(v) else format_number(int(v), lang) for v in masked
    ]
    return out


def plot_cif(
    result: CumulativeIncidence,
    ax: Axes | None = None,
    *,
    kind: str = "stacked",
    risk_table: bool = True,
    lang: str | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
    cause_labels: Mapping[int, str] | str | None = None,
    group: Hashable | None = None,
    time_unit: str = "days",
    ci: bool = True,
    xticks: Sequence[float] | None = None,
) -> Axes:
    """Draw cumulative incidence: stacked areas for one group, or lines with bands.

    Parameters
    ----------
    result : CumulativeIncidence
    ax : matplotlib Axes, optional
        Where to draw; a new figure and Axes when None.
    kind : {"stacked", "lines"}
        ``"stacked"``: the causes stacked in code order with the event-free share on top,
        each area hatched (``theme.HATCHES``) so that it reads in black and white; one
        group (``group=``). ``"lines"``: one step curve per cause (colour) and group (line
        style) with pointwise bands.
    risk_table : bool
        Print the number of persons at risk under each tick, masked below ``min_cell``.
    lang : {"sv", "en"}, optional
        Label language; the active theme's language by default.
    min_cell : int
        At-risk counts from 1 to ``min_cell - 1`` are shown as ``..`` (as in the tables).
    cause_labels : mapping or {"relapse", "retention"}, optional
        Labels of the event codes (label-table keys or text); 0 labels the event-free area.
    group : optional
        The group to draw (required for a stacked figure when there are several groups).
    time_unit : {"days", "months", "years"}
        Unit of the x axis; durations are taken to be in days.
    ci : bool
        Draw the bands (lines only).
    xticks : sequence of float, optional
        Tick positions in ``time_unit`` (the risk table follows them); the axis ends at
        the last one. By default round ticks up to the first at or beyond the follow-up.

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt

    lang = plot_options(lang, kind, KINDS, time_unit)
    if group is not None and group not in result.groups:
        raise EstimationError(f"group {group!r} is not one of {', '.join(map(str, result.groups))}")
    groups = [group] if group is not None else list(result.groups)
    if kind == "stacked" and len(groups) > 1:
        raise EstimationError(
            "a stacked figure shows one group; pass group= (one of "
            f"{', '.join(map(str, result.groups))}) or use kind='lines'"
        )
    if ax is None:
        _, ax = plt.subplots()
    scale = TIME_UNITS[time_unit]
    data = result.plot_data()
    data = data[data["group"].isin(groups)]
    tmax = float(data["time"].max()) / scale
    if kind == "stacked":
        part = data[data["group"] == groups[0]]
        codes = [*result.causes, 0]
        for i, code in enumerate(codes):
            rows = part[part["cause"] == code]
            x = rows["time"].to_numpy() / scale
            colour: str = _EVENT_FREE_COLOUR if code == 0 else PALETTE[i % len(PALETTE)]
            ax.fill_between(
                x,
                rows["stack_lower"].to_numpy(),
                rows["stack_upper"].to_numpy(),
                step="post",
                facecolor=colour,
                edgecolor="#333333",
                hatch=HATCHES[i % len(HATCHES)] if code != 0 else "",
                linewidth=0.0,
                label=cause_label(code, cause_labels, lang),
            )
        ax.set_ylim(0, 1)
        ax.set_ylabel(label("proportion", lang))
        handles, labels = ax.get_legend_handles_labels()
        # legend top-down in the order of the stack
        ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        top = 0.05
        for gi, g in enumerate(groups):
            gstyle = style_for(gi)
            for k, code in enumerate(result.causes):
                rows = data[(data["group"] == g) & (data["cause"] == code)]
                x = rows["time"].to_numpy() / scale
                colour = str(style_for(k)["color"])
                name = cause_label(code, cause_labels, lang)
                if len(groups) > 1:
                    name = f"{name}, {group_label(g, lang)}"
                ax.plot(
                    x,
                    rows["estimate"].to_numpy(),
                    drawstyle="steps-post",
                    color=colour,
                    linestyle=gstyle["linestyle"],
                    label=name,
                )
                if ci:
                    ax.fill_between(
                        x,
                        rows["ci_lower"].to_numpy(),
                        rows["ci_upper"].to_numpy(),
                        step="post",
                        color=colour,
                        alpha=0.15,
                        lw=0,
                    )
                    top = max(top, float(rows["ci_upper"].max()))
                else:
                    top = max(top, float(rows["estimate"].max()))
        ax.set_ylim(0, min(1.0, 1.1 * top))
        ax.set_ylabel(label("cumulative_incidence", lang))
        ax.legend(loc="best")
    ticks = np.asarray(xticks, dtype="float64") if xticks is not None else default_ticks(tmax)
    ax.set_xticks(ticks)
    # The axis ends at the last tick, so that the risk table has a column under every tick.
    ax.set_xlim(0, float(ticks.max()) if len(ticks) else tmax)
    ax.set_xlabel(label(f"time_{time_unit}", lang))
    ax.xaxis.set_major_formatter(decimal_formatter(lang))
    ax.yaxis.set_major_formatter(decimal_formatter(lang))
    if risk_table and len(ticks):
        _draw_risk_table(ax, result, groups, ticks, scale, min_cell, lang)
    return ax


def _draw_risk_table(
    ax: Axes,
    result: CumulativeIncidence,
    groups: list[Hashable],
    ticks: np.ndarray,
    scale: float,
    min_cell: int,
    lang: str,
) -> None:
    cells = risk_table_cells(result, ticks * scale, min_cell=min_cell, lang=lang)
    draw_count_rows(
        ax, cells, ticks, groups, (("n_at_risk", "at_risk_text"),), lang=lang, coloured=False
    )


def plot_cif_panels(
    result: CumulativeIncidence,
    fig: Figure | None = None,
    *,
    groups: Sequence[Hashable] | None = None,
    titles: Sequence[str] | None = None,
    ncols: int = 2,
    time_unit: str = "days",
    min_cell: int = DEFAULT_MIN_CELL,
    lang: str | None = None,
    cause_labels: Mapping[int, str] | str | None = None,
    xticks: Sequence[float] | None = None,
) -> np.ndarray:
    """Small multiples: the stacked figure of each group (a municipality, say) in a grid.

    Parameters
    ----------
    result : CumulativeIncidence
        Fitted by group; its :meth:`plot_data` is what every panel draws.
    fig : matplotlib Figure, optional
        The figure to fill (cleared first); a new one when None.
    groups : sequence, optional
        The groups to draw, in order (all of ``result.groups`` by default).
    titles : sequence of str, optional
        One title per panel (the group's label by default).
    ncols : int
        Panels per row; axes are shared, unused panels switched off, and the legend of
        the causes is drawn once, beside the first panel.
    time_unit, min_cell, lang, cause_labels, xticks
        As in :func:`plot_cif` (no risk tables: the panels are too small).

    Returns
    -------
    ndarray of Axes
        The grid, ``(nrows, ncols)``.
    """
    import matplotlib.pyplot as plt

    groups = list(result.groups if groups is None else groups)
    lang = lang or current_lang()
    titles = [group_label(g, lang) for g in groups] if titles is None else titles
    nrows = int(np.ceil(len(groups) / ncols))
    if fig is None:
        fig = plt.figure(layout="constrained")
    fig.clear()
    grid = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for k, ax in enumerate(grid.ravel()):
        if k >= len(groups):
            ax.set_axis_off()
            continue
        plot_cif(
            result,
            ax=ax,
            kind="stacked",
            group=groups[k],
            risk_table=False,
            min_cell=min_cell,
            lang=lang,
            cause_labels=cause_labels,
            time_unit=time_unit,
            xticks=xticks,
        )
        ax.set_title(titles[k], fontsize=8)
        legend = ax.get_legend()
        if k > 0 and legend is not None:
            legend.remove()
    return grid
