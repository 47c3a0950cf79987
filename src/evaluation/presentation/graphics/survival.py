"""The survival-curve figure: steps, censoring marks, bands and a number-at-risk table.

Drawn only on the given (or a new) Axes; the risk table is written below the axis as text
aligned with the x ticks, so that the figure stays one Axes and saves whole with
``bbox_inches="tight"`` (the theme's default). The numbers behind it are
``SurvivalCurves.plot_data()`` and ``risk_table_cells`` (the masked counts as shown).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import EstimationError
from evaluation.presentation._cells import mask_small_counts
from evaluation.presentation.disclosure import SUPPRESSED
from evaluation.presentation.formatting import format_number
from evaluation.presentation.labels import check_lang, label, value_label
from evaluation.presentation.theme import current_lang, style_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from evaluation.survival.km import SurvivalCurves

#: Days per display unit (durations are in days, as ``duration_days`` in cohorts).
TIME_UNITS: dict[str, float] = {"days": 1.0, "months": 365.25 / 12, "years": 365.25}
KINDS: tuple[str, ...] = ("incidence", "survival")
_ROW_STEP = 11.0  # points between risk-table rows
_TABLE_TOP = -42.0  # points below the axis where the table starts (under the x label)


def group_label(group: Hashable, lang: str) -> str:
    """The label of a group: from the label table when it has one (``all``, ``M``), else as is."""
    return value_label(group, lang)


def risk_table_cells(
    curves: SurvivalCurves,
    times: Sequence[float] | np.ndarray,
    *,
    min_cell: int,
    lang: str = "sv",
) -> pd.DataFrame:
    """The risk table as the figure shows it: counts below ``min_cell`` masked.

    Columns ``group, time, n_at_risk, n_events`` (floats, NaN = suppressed) and
    ``at_risk_text, events_text``: the counts with the language's thousands separator
    (``format_number``), and the tables' suppression symbol ``..`` where suppressed.
    """
    table = curves.risk_table(times)
    out = table[["group", "time"]].copy()
    for col, text in (("n_at_risk", "at_risk_text"), ("n_events", "events_text")):
        masked = mask_small_counts(table[col].to_numpy(), min_cell).to_numpy()
        out[col] = masked
        out[text] = [SUPPRESSED if np.isnan(v) else format_number(int(v), lang) for v in masked]
    return out


def decimal_formatter(lang: str) -> Any:
    """A tick formatter with the language's decimal mark and as few decimals as the ticks need.

    Examples
    --------
    >>> f = decimal_formatter("sv")
    >>> f.format_ticks([0.0, 0.25, 0.5])
    ['0,00', '0,25', '0,50']
    >>> decimal_formatter("en").format_ticks([0, 1000, 2000])
    ['0', '1,000', '2,000']
    """
    from matplotlib.ticker import Formatter

    class _Decimal(Formatter):
        decimals = 1

        def set_locs(self, locs: Sequence[float]) -> None:
            # One number of decimals for the whole axis, as matplotlib's own formatter does.
            self.decimals = tick_decimals(locs)

        def __call__(self, x: float, pos: int | None = None) -> str:
            return format_number(float(x), lang, decimals=self.decimals)

    return _Decimal()


def tick_decimals(locs: Sequence[float] | np.ndarray) -> int:
    """The fewest decimals (up to 6) that show every tick position exactly."""
    for d in range(7):
        if all(abs(round(float(v), d) - float(v)) < 1e-9 * max(1.0, abs(float(v))) for v in locs):
            return d
    return 6


def row_label_offset(first_column: Sequence[str]) -> float:
    """Points left of the first tick where the group names end: clear of the widest number.

    The first column is centred on its tick, so half its widest text (about 3 points a
    character in the small font) plus a gap.

    Examples
    --------
    >>> row_label_offset(["456", "14 541"])
    -26.0
    """
    widest = max((len(t) for t in first_column), default=0)
    return -(8.0 + 3.0 * widest)


def plot_options(lang: str | None, kind: str, kinds: Sequence[str], time_unit: str) -> str:
    """Check a curve figure's ``kind`` and ``time_unit``; return the language to draw in.

    ``lang`` defaults to the active theme's language.
    """
    if kind not in kinds:
        raise EstimationError(f"kind must be one of {', '.join(kinds)}, not {kind!r}")
    if time_unit not in TIME_UNITS:
        raise EstimationError(
            f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}"
        )
    return check_lang(lang if lang is not None else current_lang())


def default_ticks(upper: float) -> np.ndarray:
    """Round ticks from 0 up to the first tick at or beyond ``upper`` (the axis ends there).

    Examples
    --------
    >>> default_ticks(7.6).tolist()
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    from matplotlib.ticker import MaxNLocator

    ticks = np.asarray(
        MaxNLocator(nbins=6, steps=[1, 2, 2.5, 3, 5, 10]).tick_values(0, upper), dtype="float64"
    )
    ticks = ticks[ticks >= 0]
    # The locator's last tick is at or beyond ``upper``; drop any further ones.
    beyond = np.flatnonzero(ticks >= upper * (1 - 1e-9))
    return ticks[: beyond[0] + 1] if len(beyond) else ticks


def plot_curves(
    curves: SurvivalCurves,
    ax: Axes | None = None,
    *,
    kind: str = "incidence",
    time_unit: str = "days",
    risk_table: bool = True,
    ci: bool = True,
    censor_marks: bool = True,
    min_cell: int = DEFAULT_MIN_CELL,
    lang: str | None = None,
    xticks: Sequence[float] | None = None,
    ylabel: str | None = None,
) -> Axes:
    """Draw Kaplan–Meier curves as cumulative incidence or survival, with a risk table.

    Parameters
    ----------
    curves : SurvivalCurves
    ax : matplotlib Axes, optional
        Where to draw; a new figure and Axes when None.
    kind : {"incidence", "survival"}
        ``"incidence"`` draws 1 − S(t) ("Andel som återfallit"), ``"survival"`` S(t).
    time_unit : {"days", "months", "years"}
        Unit of the x axis; durations are taken to be in days.
    risk_table : bool
        Print the number at risk and the events since the previous tick under each tick.
    ci, censor_marks : bool
        Draw the pointwise confidence bands and the censoring marks.
    min_cell : int
        Counts from 1 to ``min_cell - 1`` in the risk table are shown as ``..``, the
        tables' suppression symbol.
    lang : {"sv", "en"}, optional
        Label language; the active theme's language by default.
    xticks : sequence of float, optional
        Tick positions in ``time_unit`` (the risk table follows them); the axis ends at
        the last one. By default round ticks up to the first at or beyond the follow-up.
    ylabel : str, optional
        Override the y-axis label (for outcomes other than relapse).

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt

    lang = plot_options(lang, kind, KINDS, time_unit)
    if len(curves.groups) > 9:
        raise EstimationError(f"at most 9 curves fit one figure; there are {len(curves.groups)}")
    if ax is None:
        _, ax = plt.subplots()
    scale = TIME_UNITS[time_unit]
    data = curves.plot_data()
    tmax = float(data["time"].max()) / scale
    for i, g in enumerate(curves.groups):
        style = style_for(i)
        part = data[data["group"] == g]
        x = part["time"].to_numpy() / scale
        if kind == "incidence":
            y = part["incidence"].to_numpy()
            lo, hi = 1 - part["ci_upper"].to_numpy(), 1 - part["ci_lower"].to_numpy()
        else:
            y = part["estimate"].to_numpy()
            lo, hi = part["ci_lower"].to_numpy(), part["ci_upper"].to_numpy()
        name = group_label(g, lang)
        ax.plot(
            x,
            y,
            drawstyle="steps-post",
            color=style["color"],
            linestyle=style["linestyle"],
            label=name if len(curves.groups) > 1 else None,
        )
        if ci:
            ax.fill_between(x, lo, hi, step="post", color=style["color"], alpha=0.15, lw=0)
        if censor_marks:
            marks = part["censored"].to_numpy() > 0
            ax.plot(
                x[marks],
                y[marks],
                linestyle="none",
                marker="|",
                markersize=5,
                color=style["color"],
            )
    ticks = np.asarray(xticks, dtype="float64") if xticks is not None else default_ticks(tmax)
    ax.set_xticks(ticks)
    # The axis ends at the last tick, so that every column of the risk table has a tick and
    # no stretch of the axis goes without one (given ticks short of the follow-up cut it).
    ax.set_xlim(0, float(ticks.max()) if len(ticks) else tmax)
    ax.set_ylim(0, 1.0 if kind == "survival" else min(1.0, 1.1 * _top(data, kind)))
    ax.xaxis.set_major_formatter(decimal_formatter(lang))
    ax.yaxis.set_major_formatter(decimal_formatter(lang))
    ax.set_xlabel(label(f"time_{time_unit}", lang))
    ax.set_ylabel(
        ylabel
        if ylabel is not None
        else label("share_relapsed" if kind == "incidence" else "share_not_relapsed", lang)
    )
    if len(curves.groups) > 1:
        ax.legend(loc="best")
    if risk_table and len(ticks):
        _draw_risk_table(ax, curves, ticks, scale, min_cell, lang)
    return ax


def _top(data: pd.DataFrame, kind: str) -> float:
    if kind == "incidence":
        top = float((1 - data["ci_lower"]).max())
    else:
        top = 1.0
    return max(top, 0.05)


def _draw_risk_table(
    ax: Axes,
    curves: SurvivalCurves,
    ticks: np.ndarray,
    scale: float,
    min_cell: int,
    lang: str,
) -> None:
    cells = risk_table_cells(curves, ticks * scale, min_cell=min_cell, lang=lang)
    draw_count_rows(
        ax,
        cells,
        ticks,
        list(curves.groups),
        (("n_at_risk", "at_risk_text"), ("n_events", "events_text")),
        lang=lang,
        coloured=True,
    )


def draw_count_rows(
    ax: Axes,
    cells: pd.DataFrame,
    ticks: np.ndarray,
    groups: Sequence[Hashable],
    blocks: Sequence[tuple[str, str]],
    *,
    lang: str,
    coloured: bool,
) -> None:
    """Write count rows under the axis, one block per ``(label key, text column)``.

    ``cells`` has one row per group and tick (in tick order) with the already masked and
    formatted texts. Each block is a bold title and one row per group, the numbers centred
    on the ticks and the group names (when there are several) right-aligned before them.
    Shared by the Kaplan–Meier and the cumulative-incidence figures.
    """
    first = cells[cells["time"] == cells["time"].min()]
    offset = row_label_offset([t for _, column in blocks for t in first[column]])
    y = _TABLE_TOP
    for key, column in blocks:
        ax.annotate(
            label(key, lang),
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(0, y),
            textcoords="offset points",
            ha="left",
            va="top",
            fontweight="bold",
            fontsize="small",
            annotation_clip=False,
        )
        y -= _ROW_STEP
        for i, g in enumerate(groups):
            color = style_for(i)["color"] if coloured else None
            if len(groups) > 1:
                ax.annotate(
                    group_label(g, lang),
                    xy=(0, 0),
                    xycoords="axes fraction",
                    xytext=(offset, y),
                    textcoords="offset points",
                    ha="right",
                    va="top",
                    fontsize="small",
                    color=color,
                    annotation_clip=False,
                )
            rows = cells[cells["group"] == g]
            for tick, text in zip(ticks, rows[column], strict=True):
                ax.annotate(
                    text,
                    xy=(tick, 0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, y),
                    textcoords="offset points",
                    ha="center",
                    va="top",
                    fontsize="small",
                    color=color,
                    annotation_clip=False,
                    gid="risk_table",
                )
            y -= _ROW_STEP
        y -= _ROW_STEP / 2
