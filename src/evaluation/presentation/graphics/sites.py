"""Municipal comparison graphics: funnel plot, raw against adjusted shares, caterpillar
plot of shrunken O/E with rank intervals, and the meta-analysis forest with its diamond.

Each function draws a tidy frame (a result's ``plot_data()``) onto ``ax`` and returns it;
nothing here imports an estimator (ARCHITECTURE.md, "Layers").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["draw_funnel", "draw_meta_forest", "draw_raw_adjusted", "draw_shrinkage"]

_HIGHLIGHT = "#D55E00"  # Okabe–Ito vermilion: colour-blind safe against the grey points
_POINT = "#0072B2"


def _axes(ax: Any, size: tuple[float, float] = (6.4, 4.4)) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax


def _legend(ax: Any, **kwargs: Any) -> None:
    """A legend only where something labelled was drawn (every site may be withheld)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def _plain(v: float, lang: str) -> str:
    """A tick value as short as ``:g`` writes it, with the language's decimal mark.

    Examples
    --------
    >>> _plain(0.25, "sv"), _plain(2.0, "sv"), _plain(1.5, "en"), _plain(2000.0, "sv")
    ('0,25', '2', '1.5', '2\xa0000')
    """
    from evaluation.presentation.formatting import format_number

    text = f"{v:g}"
    decimals = len(text.partition(".")[2]) if "e" not in text else 0
    return format_number(v, lang, decimals=decimals)


def _plain_log_axis(ax: Any, which: str = "x", lang: str = "sv") -> None:
    """A log axis with plain-number ticks at 1, 2, 5 × 10^k (no 10^0 notation)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: _plain(v, lang)))
    axis.set_minor_formatter(NullFormatter())


def _decimal_axis(ax: Any, lang: str, which: str = "x") -> None:
    """A linear axis whose ticks carry the language's decimal mark (0,25 in Swedish)."""
    from evaluation.presentation.graphics.survival import decimal_formatter

    (ax.xaxis if which == "x" else ax.yaxis).set_major_formatter(decimal_formatter(lang))


def _mark(ax: Any, highlight: str | None, which: str = "y") -> None:
    """Bold, coloured tick label(s) of the highlighted municipality (its name, or its name
    followed by its rank interval)."""
    if highlight is None:
        return
    ticks = ax.get_yticklabels() if which == "y" else ax.get_xticklabels()
    for t in ticks:
        text = t.get_text()
        if text == highlight or text.startswith(f"{highlight}  ("):
            t.set_fontweight("bold")
            t.set_color(_HIGHLIGHT)


def draw_funnel(
    data: pd.DataFrame,
    ax: Any = None,
    *,
    target: float = 1.0,
    measure: str = "ratio",
    highlight: str | None = None,
    lang: str = "sv",
    hidden: tuple[str, ...] = (),
) -> Any:
    """Funnel plot from ``FunnelResult.plot_data()``: limits as lines (dashed 95 %, dotted
    99.8 %), sites as points labelled by name; ``highlight`` drawn in colour (a diamond,
    or, where its O/E is in ``hidden``, a vertical line at its expected count, which is
    published); sites in ``hidden`` (withheld for disclosure control) are not drawn."""
    from evaluation.presentation.formatting import format_number
    from evaluation.presentation.labels import label

    ax = _axes(ax)
    lim = data[data["kind"] == "limit"]
    styles = {0: "--", 1: ":"}
    for i, (level, part) in enumerate(lim.groupby("level", sort=True)):
        # The language's decimal comma: 99,8 % in Swedish, 99.8 % in English.
        name = f"{format_number(100 * level, lang, decimals=1 if level > 0.99 else 0)} %"
        for side, s in part.groupby("side"):
            s = s.sort_values("precision")
            ax.plot(
                s["precision"], s["estimate"], color="0.35", linestyle=styles.get(i, "-."),
                linewidth=1.0, label=name if side == "upper" else None,
            )  # fmt: skip
    ax.axhline(target, color="0.2", linewidth=0.8)
    pts = data[(data["kind"] == "site") & ~data["group"].isin(hidden)]
    for _, r in pts.iterrows():
        hi = highlight is not None and r["group"] == highlight
        ax.scatter(
            r["precision"], r["estimate"], s=42 if hi else 26, zorder=3,
            color=_HIGHLIGHT if hi else _POINT, marker="D" if hi else "o",
        )  # fmt: skip
        ax.annotate(
            str(r["group"]), (r["precision"], r["estimate"]), xytext=(4, 3),
            textcoords="offset points", fontsize=7, fontweight="bold" if hi else "normal",
        )  # fmt: skip
    mine = data[(data["kind"] == "site") & (data["group"] == highlight)]
    x = float(mine["precision"].iloc[0]) if len(mine) else np.nan
    if highlight is not None and highlight in hidden and np.isfinite(x):
        # Its O/E is withheld, its expected count is not: mark where it would lie.
        ax.axvline(x, color=_HIGHLIGHT, linestyle="-", linewidth=1.0, zorder=2)
        ax.annotate(
            label("sites_oe_withheld", lang, municipality=highlight), (x, 0.98),
            xycoords=("data", "axes fraction"), xytext=(3, 0), textcoords="offset points",
            fontsize=7, fontweight="bold", color=_HIGHLIGHT, va="top",
        )  # fmt: skip
    ax.set_xscale("log")
    _plain_log_axis(ax, lang=lang)
    _decimal_axis(ax, lang, "y")
    key = "sites_expected" if measure == "ratio" else "sites_entries"
    ax.set_xlabel(label(key, lang))
    ax.set_ylabel(label("sites_oe" if measure == "ratio" else "sites_share", lang))
    ymax = float(np.nanmax(pts["estimate"])) if len(pts) else target * 2
    top = lim["estimate"][lim["estimate"] < max(3 * target, ymax * 1.2)]
    ax.set_ylim(max(0.0, float(lim["estimate"].min())), max(float(top.max()), ymax * 1.1))
    _legend(ax, title=label("sites_limits", lang), fontsize=7, title_fontsize=7, frameon=False)
    return ax


def draw_raw_adjusted(
    data: pd.DataFrame,
    ax: Any = None,
    *,
    overall: float | None = None,
    lang: str = "sv",
    highlight: str | None = None,
) -> Any:
    """Raw and case-mix-adjusted share per site (``CaseMixResult.plot_data()``);
    ``highlight``'s name in bold colour."""
    import seaborn as sns

    from evaluation.presentation.labels import label

    ax = _axes(ax)
    ax.set_xlabel(label("sites_share", lang))
    if data.empty:  # every municipality withheld
        return ax
    d = data.copy()
    d["kind"] = d["kind"].map(
        {"raw": label("sites_raw", lang), "adjusted": label("sites_adjusted", lang)}
    )
    order = data[data["kind"] == "adjusted"].sort_values("estimate")["group"].tolist() or sorted(
        d["group"].unique()
    )
    sns.pointplot(
        data=d, x="estimate", y="group", hue="kind", order=order, dodge=0.4,
        linestyle="none", markers=["o", "D"], palette=[_POINT, _HIGHLIGHT], ax=ax, errorbar=None,
    )  # fmt: skip
    adj = data[data["kind"] == "adjusted"].set_index("group").reindex(order)
    ypos = np.arange(len(order)) + 0.1
    ax.hlines(ypos, adj["ci_lower"], adj["ci_upper"], color=_HIGHLIGHT, linewidth=1)
    if overall is not None:
        ax.axvline(overall, color="0.4", linestyle="--", linewidth=0.8)
    ax.set_xlabel(label("sites_share", lang))
    ax.set_ylabel("")
    _decimal_axis(ax, lang)
    _mark(ax, highlight)
    _legend(ax, title="", frameon=False, fontsize=8)
    return ax


def draw_shrinkage(
    data: pd.DataFrame, ax: Any = None, *, lang: str = "sv", highlight: str | None = None
) -> Any:
    """Caterpillar plot of raw and shrunken O/E (``ShrinkageResult.plot_data()``), sorted
    by the shrunken estimate, with each site's rank interval beside its name;
    ``highlight``'s row in bold colour."""
    from evaluation.presentation.labels import label

    ax = _axes(ax, (6.4, 4.8))
    ax.set_xlabel(label("sites_oe", lang))
    if data.empty:  # every municipality withheld
        return ax
    shr = data[data["kind"] == "shrunken"].sort_values("estimate").reset_index(drop=True)
    order = shr["group"].tolist()
    raw = data[data["kind"] == "raw"].set_index("group").reindex(order)
    rank = data[data["kind"] == "rank"].set_index("group").reindex(order)
    y = np.arange(len(order))

    def arr(frame: pd.DataFrame, col: str) -> np.ndarray:
        # Arrays, not Series: matplotlib calls float() on a one-site Series (deprecated).
        return frame[col].to_numpy(dtype=float)

    ax.errorbar(
        arr(raw, "estimate"), y + 0.18,
        xerr=np.vstack([arr(raw, "estimate") - arr(raw, "ci_lower"),
                        arr(raw, "ci_upper") - arr(raw, "estimate")]),
        fmt="o", color="0.55", markersize=4, linewidth=1, label=label("sites_raw", lang),
    )  # fmt: skip
    ax.errorbar(
        arr(shr, "estimate"), y - 0.18,
        xerr=np.vstack([arr(shr, "estimate") - arr(shr, "ci_lower"),
                        arr(shr, "ci_upper") - arr(shr, "estimate")]),
        fmt="D", color=_POINT, markersize=4, linewidth=1.4, label=label("sites_shrunken", lang),
    )  # fmt: skip
    ax.axvline(1.0, color="0.3", linewidth=0.8)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ticks = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _plain(v, lang)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(
        y, [f"{g}  ({rank.loc[g, 'ci_lower']:.0f}–{rank.loc[g, 'ci_upper']:.0f})" for g in order]
    )
    _mark(ax, highlight)
    ax.set_xlabel(label("sites_oe", lang))
    ax.set_title(label("sites_rank_note", lang), fontsize=8, loc="left")
    _legend(ax, frameon=False, fontsize=8)
    return ax


def draw_meta_forest(
    data: pd.DataFrame, ax: Any = None, *, measure: str = "estimate", lang: str = "sv",
    hidden: tuple[str, ...] = (), highlight: str | None = None,
) -> Any:  # fmt: skip
    """Forest plot from ``MetaAnalysisResult.plot_data()``: each site's estimate and
    interval (marker size by weight), the pooled diamond and the prediction interval;
    ``highlight``'s row in bold colour."""
    from matplotlib.patches import Polygon

    from evaluation.presentation.labels import label

    ax = _axes(ax, (6.4, 0.35 * len(data) + 1.5))
    st = data[(data["kind"] == "study") & ~data["label"].isin(hidden)].reset_index(drop=True)
    n = len(st)
    ys = np.arange(n, 0, -1) + 1.0
    w = st["weight"].to_numpy(dtype=float)
    ax.hlines(ys, st["ci_lower"], st["ci_upper"], color="0.3", linewidth=1)
    ax.scatter(
        st["estimate"], ys, s=12 + 2.5 * np.nan_to_num(w), marker="s", color=_POINT, zorder=3
    )
    pooled = data[data["kind"] == "pooled"].iloc[0]
    pred = data[data["kind"] == "prediction"].iloc[0]
    ax.add_patch(
        Polygon(
            [(pooled["ci_lower"], 1.0), (pooled["estimate"], 1.25), (pooled["ci_upper"], 1.0),
             (pooled["estimate"], 0.75)],
            closed=True, color=_HIGHLIGHT,
        )
    )  # fmt: skip
    ax.hlines(0.35, pred["ci_lower"], pred["ci_upper"], color=_HIGHLIGHT, linewidth=2.0)
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.axvline(pooled["estimate"], color=_HIGHLIGHT, linewidth=0.6, linestyle=":")
    ax.set_yticks(
        [*ys, 1.0, 0.35],
        [*st["label"].astype(str), label("sites_pooled", lang), label("sites_prediction", lang)],
    )
    ax.set_ylim(0.0, n + 1.8)
    _decimal_axis(ax, lang)
    _mark(ax, highlight)
    key = f"sites_measure_{measure}"
    from evaluation.presentation.labels import label_table

    ax.set_xlabel(label(key, lang) if key in label_table().index else measure)
    return ax
