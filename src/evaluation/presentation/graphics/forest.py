"""Forest plot of hazard ratios (or odds / time ratios) from one or several models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError

__all__ = ["forest_data", "forest_plot"]

_RATIO_COLUMNS = ("hr", "or", "time_ratio")
# Round ratios for the log axis, finest ladder first; the first that gives 3 to 7 ticks in
# the axis range is used, so that the ticks read as plain numbers (0,8; 1; 1,25), never 10^0.
_TICK_LADDERS: tuple[tuple[float, ...], ...] = (
    (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0),
    (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0),
    (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0),
    (0.01, 0.1, 1.0, 10.0, 100.0),
    (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
)


def _term_label(term: str, lang: str) -> str:
    """``C(sex)[T.M]`` -> ``Kön: Män``: the report's one labelling of model terms."""
    from evaluation.presentation.tables import term_label

    return term_label(term, lang)


def ratio_ticks(lower: float, upper: float) -> list[float]:
    """Round ratios for a log axis from ``lower`` to ``upper`` (3 to 7 of them when possible).

    Examples
    --------
    >>> ratio_ticks(0.72, 1.4)
    [0.8, 0.9, 1.0, 1.1, 1.25]
    >>> ratio_ticks(0.3, 4.5)
    [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0]
    """
    fallback: list[float] = [1.0]
    for ladder in _TICK_LADDERS:
        inside = [t for t in ladder if lower <= t <= upper]
        if 3 <= len(inside) <= 7:
            return inside
        if len(inside) > len(fallback) and len(inside) <= 7:
            fallback = inside
    return fallback


def ratio_tick_text(value: float, lang: str) -> str:
    """A ratio as a plain number with the language's decimal mark and no trailing zeros.

    Examples
    --------
    >>> ratio_tick_text(1.25, "sv"), ratio_tick_text(1.0, "sv"), ratio_tick_text(0.8, "en")
    ('1,25', '1', '0.8')
    """
    from evaluation.presentation.formatting import format_number
    from evaluation.presentation.graphics.survival import tick_decimals

    return format_number(value, lang, decimals=tick_decimals([value]))


def _table_of(item: Any) -> pd.DataFrame:
    if isinstance(item, pd.DataFrame):
        table = item
    elif hasattr(item, "summary"):
        table = item.summary()
    else:
        raise EstimationError(
            f"forest_plot takes Cox results or their summary tables, not {type(item).__name__}"
        )
    ratio = next((c for c in _RATIO_COLUMNS if c in table.columns), None)
    needed = {"term", "ci_lower", "ci_upper"}
    if ratio is None or not needed <= set(table.columns):
        raise EstimationError(
            "a forest plot needs columns term, hr (or or, time_ratio), ci_lower, ci_upper"
        )
    out = table[["term", ratio, "ci_lower", "ci_upper"]].rename(columns={ratio: "estimate"})
    if "p" in table.columns:
        out = out.assign(p=table["p"].to_numpy())
    # Intercepts and scale parameters have no place on a ratio axis.
    return out[~out["term"].isin(["Intercept", "Log(scale)"])].reset_index(drop=True)


def forest_data(
    results_or_tables: Any,
    *,
    labels: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> pd.DataFrame:
    """The numbers behind :func:`forest_plot`: ``model, term, label, estimate, ci_lower,
    ci_upper, p, row, y`` (``row`` is the term's row, top term highest; ``y`` adds a small
    offset per model when several are drawn)."""
    from evaluation.presentation.theme import current_lang

    lang = lang or current_lang()
    if isinstance(results_or_tables, Mapping):
        items = list(results_or_tables.items())
    elif isinstance(results_or_tables, Sequence) and not isinstance(
        results_or_tables, (str, pd.DataFrame)
    ):
        items = [(f"{i + 1}", r) for i, r in enumerate(results_or_tables)]
    else:
        items = [("1", results_or_tables)]
    if not items:
        raise EstimationError("forest_plot needs at least one result")
    frames = [_table_of(r).assign(model=str(name)) for name, r in items]
    data = pd.concat(frames, ignore_index=True)
    terms = list(dict.fromkeys(data["term"]))
    data["label"] = [(labels or {}).get(t) or _term_label(t, lang) for t in data["term"]]
    models = list(dict.fromkeys(data["model"]))
    row = {t: len(terms) - 1 - i for i, t in enumerate(terms)}
    # Several models: small vertical offsets within each term's row.
    offset = {
        m: (0.0 if len(models) == 1 else 0.25 - 0.5 * i / (len(models) - 1))
        for i, m in enumerate(models)
    }
    data["row"] = [row[t] for t in data["term"]]
    data["y"] = data["row"] + data["model"].map(offset)
    return data[
        [
            "model",
            "term",
            "label",
            "estimate",
            "ci_lower",
            "ci_upper",
            *(["p"] if "p" in data else []),
            "row",
            "y",
        ]
    ]


def _plain_ratio_axis(ax: Any, data: pd.DataFrame, lang: str) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    lower = min(float(data["ci_lower"].min()), 1.0)
    upper = max(float(data["ci_upper"].max()), 1.0)
    # A little room either side on the log scale so that caps do not touch the frame.
    pad = (np.log(upper) - np.log(lower)) * 0.05 or 0.05
    lo, hi = float(np.exp(np.log(lower) - pad)), float(np.exp(np.log(upper) + pad))
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator(ratio_ticks(lo, hi)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: ratio_tick_text(v, lang)))
    ax.xaxis.set_minor_locator(NullLocator())


def forest_plot(
    results_or_tables: Any,
    ax: Any = None,
    *,
    labels: Mapping[str, str] | None = None,
    lang: str | None = None,
    xlabel: str | None = None,
) -> Any:
    """Hazard ratios with intervals on a log axis, one row per term, a line at 1.

    Parameters
    ----------
    results_or_tables : CoxResult, DataFrame, list or dict of them
        One or several fitted models (or their ``summary()`` tables); a dict's keys
        name the models in the legend.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    labels : mapping, optional
        Display labels for terms; other terms are labelled from the label table
        (``C(sex)[T.M]`` becomes "Kön: Män"), or shown as they are.
    lang : {"sv", "en"}, optional
        Label language; default the active :func:`evaluation.presentation.theme`'s.
    xlabel : str, optional
        Axis label; default "Hasardkvot" / "Hazard ratio".

    Returns
    -------
    matplotlib Axes
        The numbers are in :func:`forest_data`.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"term": ["age"], "hr": [0.9], "ci_lower": [0.8],
    ...                       "ci_upper": [1.1]})
    >>> ax = forest_plot(table, lang="en")
    >>> ax.get_xlabel()
    'Hazard ratio'
    """
    import matplotlib.pyplot as plt

    from evaluation.presentation.labels import label
    from evaluation.presentation.theme import current_lang, style_for

    lang = lang or current_lang()
    data = forest_data(results_or_tables, labels=labels, lang=lang)
    if ax is None:
        n_rows = data["term"].nunique()
        _, ax = plt.subplots(figsize=(6.3, 0.8 + 0.35 * n_rows))
    models = list(dict.fromkeys(data["model"]))
    for i, model in enumerate(models):
        part = data[data["model"] == model]
        style = style_for(i)
        err = np.vstack([part["estimate"] - part["ci_lower"], part["ci_upper"] - part["estimate"]])
        ax.errorbar(
            part["estimate"],
            part["y"],
            xerr=err,
            fmt="o" if i == 0 else "s",
            color=style["color"],
            ecolor=style["color"],
            capsize=2,
            markersize=4,
            linestyle="none",
            label=model if len(models) > 1 else None,
        )
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    _plain_ratio_axis(ax, data, lang)
    rows = data.drop_duplicates("term")
    ax.set_yticks(rows["row"].to_numpy(), labels=list(rows["label"]))
    ax.set_ylim(-0.6, rows["row"].max() + 0.6)
    ax.set_xlabel(xlabel or label("hazard_ratio", lang))
    ax.grid(axis="y", visible=False)
    if len(models) > 1:
        ax.legend()
    return ax
