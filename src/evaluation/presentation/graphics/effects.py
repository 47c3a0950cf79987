"""Figures of the effect results: score overlap, love plot, adjusted curves.

Each function draws only on the Axes it is given (or a new one) and returns it; labels
come from the package's label table in the language of the active ``theme``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
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


#: The columns of an overlap figure's data (:func:`overlap_data`), one row per group and bin.
OVERLAP_COLUMNS = ["group", "bin_lower", "bin_upper", "n", "density"]


def overlap_data(
    scores: np.ndarray,
    treat: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    bins: int | np.ndarray = 40,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Binned propensity scores per group, long form: the numbers an overlap figure draws.

    Parameters
    ----------
    scores, treat
        One score and one 0/1 treatment per row (1: participants).
    weights
        Row weights for the densities (the weighted distributions); persons are counted
        unweighted.
    bins
        A number of bins (from 0 to the first tenth above the largest score, see
        :func:`score_bin_edges`) or the bin edges.
    min_cell
        A bin holding 1 to ``min_cell - 1`` persons of a group has ``n`` and ``density``
        missing (disclosure control): a density times the group size and the bin width
        would give the small count back. ``min_cell=1`` withholds nothing.

    Returns
    -------
    DataFrame
        One row per group (``"participants"``, ``"comparisons"``) and bin: ``group,
        bin_lower, bin_upper`` (the bin's edges), ``n`` (persons in the bin) and ``density``
        (the group's, weighted when weights are given: heights of a density histogram).

    Examples
    --------
    >>> scores, treat = np.array([0.1, 0.2, 0.3, 0.8]), np.array([1, 1, 0, 0])
    >>> d = overlap_data(scores, treat, bins=2, min_cell=1)
    >>> d[["group", "bin_lower", "n", "density"]].to_dict("list")
    {'group': ['participants', 'participants', 'comparisons', 'comparisons'], \
'bin_lower': [0.0, 0.4, 0.0, 0.4], 'n': [2.0, 0.0, 1.0, 1.0], 'density': [2.5, 0.0, 1.25, 1.25]}
    """
    edges = np.asarray(bins, dtype=float) if np.ndim(bins) else score_bin_edges(scores, int(bins))
    frames = []
    for g, name in ((1, "participants"), (0, "comparisons")):
        m = treat == g
        w = None if weights is None else weights[m]
        persons, e = np.histogram(scores[m], bins=edges)
        density = np.histogram(scores[m], bins=e, weights=w, density=True)[0]
        n = persons.astype("float64")
        small = (persons > 0) & (persons < min_cell)
        n, density = np.where(small, np.nan, n), np.where(small, np.nan, density)
        frames.append(
            pd.DataFrame(
                {"group": name, "bin_lower": e[:-1], "bin_upper": e[1:], "n": n, "density": density}
            )
        )
    return pd.concat(frames, ignore_index=True)[OVERLAP_COLUMNS]


def overlap_plot(
    data: pd.DataFrame, *, ax: Axes | None = None, xlabel_key: str = "propensity_score"
) -> Axes:
    """Mirrored density histograms: the first group above the axis, the second below it.

    ``data`` is :func:`overlap_data`'s long frame (``group, bin_lower, bin_upper,
    density``; a missing density, withheld, is drawn as an empty bin). Drawn with
    seaborn's ``histplot`` (the densities as weights on the given bins), the second group
    hatched so that the figure reads in black and white. Group names that are label keys
    (``participants``) are translated. Returns the Axes.
    """
    import seaborn as sns

    ax = _axes(ax)
    groups = list(dict.fromkeys(data["group"]))
    for i, (g, sign) in enumerate(zip(groups, (1.0, -1.0), strict=False)):
        part = data[data["group"] == g]
        edges = [*part["bin_lower"].tolist(), float(part["bin_upper"].iloc[-1])]
        st = style_for(i)
        sns.histplot(
            x=((part["bin_lower"] + part["bin_upper"]) / 2).to_numpy(),
            weights=sign * part["density"].fillna(0.0).to_numpy(),
            bins=edges,  # a list: seaborn 0.13 compares an array with "auto"
            stat="count",
            ax=ax,
            color=st["color"],
            alpha=0.7,
            label=_label(str(g), str(g)),
            edgecolor="white",
            linewidth=0.3,
            hatch=None if i == 0 else "//",
        )
    ax.axhline(0.0, color="black", linewidth=0.6)
    shown = data[data["n"].fillna(1) > 0]
    upper = float(shown["bin_upper"].max()) if len(shown) else 1.0
    ax.set_xlim(0.0, min(1.0, upper))
    ax.set_xlabel(_label(xlabel_key, "Propensity score"))
    ax.set_ylabel(_label("density", "Density"))
    _decimal_axis(ax.xaxis)
    _decimal_axis(ax.yaxis, absolute=True)  # the comparisons' bars point down, densities not
    ax.legend()
    return ax


def balance_data(table: pd.DataFrame) -> pd.DataFrame:
    """A balance table in long form, the numbers a love plot draws.

    Returns
    -------
    DataFrame
        One row per covariate and ``adjustment`` (``"unadjusted"``, ``"adjusted"``):
        ``covariate, adjustment, smd, abs_smd`` (missing where the table withholds them).

    Examples
    --------
    >>> t = pd.DataFrame({"covariate": ["age"], "smd_before": [-0.3], "smd_after": [0.02]})
    >>> balance_data(t)["abs_smd"].tolist()
    [0.3, 0.02]
    """
    long = table.melt(
        id_vars="covariate",
        value_vars=["smd_before", "smd_after"],
        var_name="adjustment",
        value_name="smd",
    )
    long["adjustment"] = long["adjustment"].map(
        {"smd_before": "unadjusted", "smd_after": "adjusted"}
    )
    long["abs_smd"] = long["smd"].abs()
    return long


def love_plot(data: pd.DataFrame, *, ax: Axes | None = None, threshold: float = 0.1) -> Axes:
    """Absolute standardised mean differences before (open) and after (filled) adjustment.

    ``data`` is :func:`balance_data`'s long frame; covariates are ordered by the absolute
    SMD before adjustment, a dashed line marks ``threshold``. Drawn with seaborn's
    ``scatterplot``, one call per adjustment, so that the unadjusted markers stay open
    circles and the adjusted filled squares (readable in black and white). A withheld SMD
    (missing) is not drawn. Returns the Axes.
    """
    import seaborn as sns

    ax = _axes(ax)
    before = data[data["adjustment"] == "unadjusted"]
    order = before.sort_values("abs_smd", kind="stable")["covariate"].tolist()
    y = {c: k for k, c in enumerate(order)}
    for i, key in enumerate(("unadjusted", "adjusted")):
        part = data[(data["adjustment"] == key) & data["abs_smd"].notna()]
        st = style_for(i)
        sns.scatterplot(
            x=part["abs_smd"].to_numpy(),
            y=part["covariate"].map(y).to_numpy(),
            ax=ax,
            marker="o" if i == 0 else "s",
            s=30,
            facecolor="none" if i == 0 else st["color"],
            edgecolor=st["color"],
            linewidth=1.0,
            label=_label(key),
        )
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(np.arange(len(order)))
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
