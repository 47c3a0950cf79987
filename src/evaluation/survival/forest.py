"""Forest plot of hazard ratios (or odds / time ratios) from one or several models."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError

__all__ = ["forest_data", "forest_plot"]

_FACTOR = re.compile(r"^(?:C\((?P<cvar>[^,)]+)[^)]*\)|(?P<var>[^\[]+))\[T\.(?P<level>.+)\]$")
_RATIO_COLUMNS = ("hr", "or", "time_ratio")
# Register codes whose label key differs from the code (sex is F/M in the registers).
_LEVEL_KEYS = {("sex", "M"): "men", ("sex", "F"): "women"}


def _term_label(term: str, lang: str) -> str:
    """``C(sex)[T.M]`` -> ``Kön: Män`` with the label table, else the term itself."""
    from evaluation.report.labels import has_label, label

    match = _FACTOR.match(term)
    if match:
        var = (match.group("cvar") or match.group("var")).strip()
        level = match.group("level")
        var_text = label(var, lang) if has_label(var) else var
        key = _LEVEL_KEYS.get((var, level), level)
        level_text = label(key, lang) if has_label(key) else level
        return f"{var_text}: {level_text}"
    return label(term, lang) if has_label(term) else term


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
    from evaluation.report.theme import current_lang

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
        Label language; default the active :func:`evaluation.report.theme`'s.
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

    from evaluation.report.labels import label
    from evaluation.report.theme import current_lang, style_for

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
    rows = data.drop_duplicates("term")
    ax.set_yticks(rows["row"].to_numpy(), labels=list(rows["label"]))
    ax.set_ylim(-0.6, rows["row"].max() + 0.6)
    ax.set_xlabel(xlabel or label("hazard_ratio", lang))
    ax.grid(axis="y", visible=False)
    if len(models) > 1:
        ax.legend()
    return ax
