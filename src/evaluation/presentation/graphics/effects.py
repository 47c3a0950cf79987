"""Figures of the effect results: score overlap, love plot, adjusted curves.

Each function draws only on the Axes it is given (or a new one) and returns it; labels
come from the package's label table in the language of the active ``theme``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.presentation.labels import has_label, label
from evaluation.presentation.theme import current_lang, style_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _label(key: str, fallback: str | None = None) -> str:
    return label(key, current_lang()) if has_label(key) else (fallback or key)


def covariate_label(name: str, lang: str) -> str:
    """A balance covariate in words: ``sex=M`` -> "Kön: Män", ``age`` -> "Ålder".

    Dummies ``name=value`` become "Label: value label"; names and values are looked up in
    the label table as model terms are (:func:`evaluation.presentation.tables.term_label`), and
    shown as they are when the table has no row for them.

    Examples
    --------
    >>> covariate_label("sex=M", "sv"), covariate_label("municipality_group=other", "en")
    ('Kön: Män', 'Region: Other municipalities')
    """
    from evaluation.presentation.tables import term_label

    var, sep, value = str(name).partition("=")
    return term_label(f"{var}[T.{value}]" if sep else var, lang)


def _decimal_axis(axis: object, *, absolute: bool = False) -> None:
    """Tick labels with the language's decimal mark (0,05 in Swedish), optionally |value|."""
    from matplotlib.ticker import FuncFormatter

    from evaluation.presentation.formatting import format_number
    from evaluation.presentation.graphics.survival import decimal_formatter, tick_decimals

    lang = current_lang()
    if absolute:
        formatter = FuncFormatter(
            lambda v, _pos: format_number(abs(v), lang, decimals=tick_decimals([v]))
        )
    else:
        formatter = decimal_formatter(lang)
    axis.set_major_formatter(formatter)  # type: ignore[attr-defined]


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def score_bin_edges(scores: np.ndarray, bins: int) -> np.ndarray | int:
    """Bins from 0 to the first tenth above the largest score (not to 1 when all are small).

    Examples
    --------
    >>> score_bin_edges(np.array([0.02, 0.31]), 4).tolist()
    [0.0, 0.1, 0.2, 0.30000000000000004, 0.4]
    """
    if scores.min() < 0 or scores.max() > 1:
        return bins
    upper = min(1.0, float(np.ceil(scores.max() * 10 - 1e-9)) / 10) or 0.1
    return np.linspace(0.0, upper, bins + 1)


def mirrored_histogram(
    scores: np.ndarray,
    treat: np.ndarray,
    weights: np.ndarray | None,
    *,
    ax: Axes | None,
    bins: int,
    xlabel_key: str,
    min_cell: int | None = None,
) -> Axes:
    """Participants' score histogram above the axis, comparisons' mirrored below it.

    With ``min_cell``, a bin holding 1 to ``min_cell - 1`` persons of a group is drawn empty
    (disclosure control): a density bar's height times the group size and bin width would
    otherwise give the small count back.
    """
    ax = _axes(ax)
    edges = score_bin_edges(scores, bins)
    for i, (g, sign, key) in enumerate(((1, 1.0, "participants"), (0, -1.0, "comparisons"))):
        m = treat == g
        w = None if weights is None else weights[m]
        h, e = np.histogram(scores[m], bins=edges, weights=w, density=True)
        if min_cell is not None:
            persons, _ = np.histogram(scores[m], bins=e)
            h = np.where((persons > 0) & (persons < min_cell), 0.0, h)
        st = style_for(i)
        ax.bar(
            e[:-1],
            sign * h,
            width=np.diff(e),
            align="edge",
            color=st["color"],
            alpha=0.7,
            label=_label(key),
            edgecolor="white",
            linewidth=0.3,
            hatch=None if i == 0 else "//",
        )
    ax.axhline(0.0, color="black", linewidth=0.6)
    if not isinstance(edges, int):
        ax.set_xlim(0.0, float(edges[-1]))
    ax.set_xlabel(_label(xlabel_key, "Propensity score"))
    ax.set_ylabel(_label("density", "Density"))
    _decimal_axis(ax.xaxis)
    _decimal_axis(ax.yaxis, absolute=True)  # the comparisons' bars point down, densities not
    ax.legend()
    return ax


def love_plot(table: pd.DataFrame, *, ax: Axes | None, threshold: float = 0.1) -> Axes:
    """Absolute standardised mean differences before and after adjustment, per covariate."""
    ax = _axes(ax)
    order = table.sort_values("smd_before", key=np.abs)["covariate"].tolist()
    y = np.arange(len(order))
    t = table.set_index("covariate").loc[order]
    for i, (col, key) in enumerate((("smd_before", "unadjusted"), ("smd_after", "adjusted"))):
        st = style_for(i)
        ax.plot(
            np.abs(t[col].to_numpy()),
            y,
            linestyle="none",
            marker="o" if i == 0 else "s",
            color=st["color"],
            label=_label(key),
            markerfacecolor="none" if i == 0 else st["color"],
        )
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([covariate_label(c, current_lang()) for c in order])
    _decimal_axis(ax.xaxis)
    ax.set_xlabel(_label("abs_smd", "Absolute standardised mean difference"))
    ax.legend()
    return ax


def curves_plot(
    curves: pd.DataFrame,
    *,
    ax: Axes | None,
    what: str,
    time_scale: float = 365.25,
) -> Axes:
    """Adjusted step curves with pointwise bands for both groups (time in years)."""
    ax = _axes(ax)
    for i, group in enumerate(("participants", "comparisons")):
        d = curves[curves["group"] == group]
        st = style_for(i)
        x = d["time"].to_numpy() / time_scale
        ax.plot(
            x,
            d["estimate"],
            drawstyle="steps-post",
            color=st["color"],
            linestyle=st["linestyle"],
            label=_label(group),
        )
        ax.fill_between(
            x,
            d["ci_lower"],
            d["ci_upper"],
            step="post",
            color=st["color"],
            alpha=0.2,
            linewidth=0,
        )
    ax.set_xlabel(_label("time_years", "Years"))
    ax.set_ylabel(_label(what, what))
    # Shares without the outcome start at 1: the whole axis; incidences start at 0.
    ax.set_ylim(0, 1 if what.startswith(("share_not", "share_alive", "share_neither")) else None)
    _decimal_axis(ax.xaxis)
    _decimal_axis(ax.yaxis)
    ax.legend()
    return ax
