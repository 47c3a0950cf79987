"""The recurrent-event figure: expected number of offences per person as step curves.

Draws a tidy frame (``RecurrentCurves.plot_data()``: ``group, time, estimate, ci_lower,
ci_upper``, optionally ``method``) on the given Axes, as the survival curves are drawn
(steps, bands, the theme's colour and line style per group). Several methods (the MCF
and the Ghosh–Lin mean) in one frame are drawn as separate curves per group and method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation.presentation.graphics.survival import (
    TIME_UNITS,
    decimal_formatter,
    default_ticks,
    group_label,
)
from evaluation.presentation.labels import check_lang, label
from evaluation.presentation.theme import current_lang, style_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["draw_recurrent"]


def draw_recurrent(
    data: pd.DataFrame,
    ax: Axes | None = None,
    *,
    time_unit: str = "days",
    ci: bool = True,
    lang: str | None = None,
    xticks: Sequence[float] | None = None,
    ylabel: str | None = None,
) -> Axes:
    """Draw expected numbers of offences per person by time, one step curve per group.

    Parameters
    ----------
    data
        ``group, time, estimate, ci_lower, ci_upper`` (times in days), and ``method``
        (``"mcf"``, ``"ghosh-lin"``) when curves of several methods are drawn together.
    ax
        Where to draw; a new figure and Axes when None.
    time_unit
        ``"days"``, ``"months"`` or ``"years"``.
    ci
        Draw the pointwise confidence bands.
    lang
        Label language; the active theme's by default.
    xticks
        Tick positions in ``time_unit``; the axis ends at the last.
    ylabel
        Override the y-axis label.

    Returns
    -------
    Axes
    """
    import matplotlib.pyplot as plt

    lang = check_lang(lang if lang is not None else current_lang())
    if time_unit not in TIME_UNITS:
        raise EstimationError(
            f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}"
        )
    if ax is None:
        _, ax = plt.subplots()
    scale = TIME_UNITS[time_unit]
    keys = ["group", "method"] if "method" in data.columns else ["group"]
    curves = list(data.groupby(keys, sort=False))
    if len(curves) > 9:
        raise EstimationError(f"at most 9 curves fit one figure; there are {len(curves)}")
    several_methods = "method" in data.columns and data["method"].nunique() > 1
    for i, (key, part) in enumerate(curves):
        style = style_for(i)
        group = key[0] if isinstance(key, tuple) else key
        name = group_label(group, lang)
        if several_methods:
            name = f"{name}: {label('recurrent_' + key[1].replace('-', '_'), lang)}"
        x = part["time"].to_numpy() / scale
        ax.plot(
            x,
            part["estimate"].to_numpy(),
            drawstyle="steps-post",
            color=style["color"],
            linestyle=style["linestyle"],
            label=name if len(curves) > 1 else None,
        )
        if ci:
            ax.fill_between(
                x,
                part["ci_lower"].to_numpy(),
                part["ci_upper"].to_numpy(),
                step="post",
                color=style["color"],
                alpha=0.15,
                lw=0,
            )
    tmax = float(data["time"].max()) / scale if len(data) else 1.0
    ticks = np.asarray(xticks, dtype="float64") if xticks is not None else default_ticks(tmax)
    ax.set_xticks(ticks)
    ax.set_xlim(0, float(ticks.max()) if len(ticks) else tmax)
    ax.set_ylim(0, None)
    ax.xaxis.set_major_formatter(decimal_formatter(lang))
    ax.yaxis.set_major_formatter(decimal_formatter(lang))
    ax.set_xlabel(label(f"time_{time_unit}", lang))
    ax.set_ylabel(ylabel if ylabel is not None else label("recurrent_expected_offences", lang))
    if len(curves) > 1:
        ax.legend(loc="best")
    return ax
