"""Figures of the design results: the planning figure and the replications of a power
simulation.

Each function draws a tidy frame (the result's ``plot_data()``) on the Axes it is given
(or a new one) and returns it; labels come from the label table in the language of the
active ``theme``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.presentation.labels import label
from evaluation.presentation.theme import current_lang, style_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["planning_plot", "replication_intervals"]

_Y = {"mdhr": "design_mdhr", "power": "design_power", "mdrd_1y": "design_mdrd_1y"}


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def planning_plot(
    data: pd.DataFrame,
    ax: Axes | None = None,
    *,
    what: str = "mdhr",
    hr: float | None = None,
    power: float | None = None,
) -> Axes:
    """One line per yearly intake over the years of intake.

    Parameters
    ----------
    data
        :meth:`evaluation.design.PlanningResult.plot_data` (``intake_per_year,
        follow_up_years, quantity, value``).
    ax
        Axes to draw on (a new figure when None).
    what
        ``"mdhr"`` (minimum detectable hazard ratio), ``"power"`` (to detect ``hr``) or
        ``"mdrd_1y"`` (minimum detectable difference in the 1-year risk, in percentage
        points).
    hr, power
        Shown in the axis label (the hazard ratio of the power; the power of the minimum
        detectable effects).

    Returns
    -------
    Axes
    """
    from evaluation.presentation.graphics.survival import decimal_formatter

    lang = current_lang()
    ax = _axes(ax)
    d = data[data["quantity"] == what]
    for i, (intake, g) in enumerate(d.groupby("intake_per_year", sort=True)):
        g = g.sort_values("follow_up_years")
        y = g["value"].to_numpy(dtype=float)
        if what == "mdrd_1y":
            y = 100 * np.abs(y)
        st = style_for(i)
        ax.plot(
            g["follow_up_years"],
            y,
            color=st["color"],
            linestyle=st["linestyle"],
            marker=st["marker"],
            label=label("design_intake_line", lang, n=f"{intake:g}"),
        )
    if what == "mdhr":
        ax.axhline(1.0, color="0.4", linewidth=0.8)
    if what == "power" and power is not None:
        ax.axhline(power, color="0.4", linewidth=0.8, linestyle=":")
    pct = f"{100 * power:.0f}" if power is not None else ""
    from evaluation.presentation.graphics.forest import ratio_tick_text

    hr_text = ratio_tick_text(hr, lang) if hr else ""
    ax.set_ylabel(label(_Y[what], lang, hr=hr_text, power=pct))
    ax.set_xlabel(label("design_years_of_intake", lang))
    from matplotlib.ticker import MaxNLocator

    # Whole years, in the language's numbers (matplotlib's own ticks wrote 1.5 in Swedish).
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(decimal_formatter(lang))
    ax.yaxis.set_major_formatter(decimal_formatter(lang))
    ax.legend(title=label("design_intake", lang), fontsize="small")
    return ax


def replication_intervals(data: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Each replication's interval (ordered by estimate), dark when it excludes no
    effect; for a design tested by p-value, the p-values in order against ``alpha``.

    Parameters
    ----------
    data
        :meth:`evaluation.design.PowerResult.plot_data`.
    ax
        Axes to draw on.

    Returns
    -------
    Axes
    """
    lang = current_lang()
    ax = _axes(ax)
    detected = data["detected"].to_numpy(dtype=bool)
    rank = data["rank"].to_numpy()
    colours = [str(style_for(0)["color"]) if d else "0.65" for d in detected]
    if data["ci_lower"].notna().any():
        ax.vlines(rank, data["ci_lower"], data["ci_upper"], colors=colours, linewidth=1.0)
        ax.scatter(rank, data["estimate"], c=colours, s=8, zorder=3)
        ax.axhline(float(data["null"].iloc[0]), color="0.3", linewidth=0.8)
        key = "design_hazard_ratio" if data["measure"].iloc[0] == "hazard_ratio" else "design_rd"
        ax.set_ylabel(label(key, lang))
        if data["measure"].iloc[0] == "hazard_ratio":
            ax.set_yscale("log")
    else:
        from evaluation.presentation.graphics.survival import decimal_formatter

        ax.scatter(rank, data["p"], c=colours, s=8)
        ax.set_ylabel(label("design_p_value", lang))
        ax.yaxis.set_major_formatter(decimal_formatter(lang))
    ax.set_xlabel(label("design_replication", lang))
    return ax
