"""The package's figure style, applied inside a context manager, never at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import matplotlib as mpl
from cycler import cycler

from evaluation.presentation.labels import check_lang

#: Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. Paired with
#: line styles and markers (below) so that curves stay apart in black-and-white print.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
    "#999999",  # grey
)
LINESTYLES: tuple[object, ...] = (
    "-",
    "--",
    ":",
    "-.",
    (0, (5, 1)),
    (0, (3, 1, 1, 1)),
    (0, (1, 3)),
    (0, (5, 5)),
    (0, (3, 5, 1, 5)),
)
MARKERS: tuple[str, ...] = ("|", "x", "+", "1", "2", "3", "4", "|", "x")
#: Hatches for stacked areas, so that stacks read in black and white.
HATCHES: tuple[str, ...] = ("", "//", "..", "\\\\", "xx", "--", "++", "oo", "**")

#: Figure widths in inches: a journal column, a full A4 text width.
WIDTHS: dict[str, float] = {"journal": 3.5, "a4": 6.3}

_LANG: ContextVar[str] = ContextVar("evaluation_lang", default="sv")

_RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "lines.linewidth": 1.5,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "axes.formatter.use_locale": False,
}


def current_lang() -> str:
    """The language set by the innermost active ``theme`` (Swedish outside any)."""
    return _LANG.get()


def style_for(index: int) -> dict[str, object]:
    """Colour, line style and marker for the ``index``-th group (up to nine groups)."""
    i = index % len(PALETTE)
    return {"color": PALETTE[i], "linestyle": LINESTYLES[i], "marker": MARKERS[i]}


@contextmanager
def theme(lang: str = "sv") -> Iterator[None]:
    """Apply the package's figure style and language inside a ``with`` block.

    Parameters
    ----------
    lang : {"sv", "en"}
        Language of labels drawn inside the block.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with theme("en"):
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    check_lang(lang)
    token = _LANG.set(lang)
    try:
        rc: Any = theme_rc()
        with mpl.rc_context(rc):
            yield
    finally:
        _LANG.reset(token)


def theme_rc() -> dict[str, Any]:
    """The theme's matplotlib settings: seaborn's ``whitegrid`` style and ``paper`` context,
    the Okabe–Ito palette, then the package's own settings (Brå's look: sizes for an A4
    page, no top and right spines, light grid, text kept as text in SVG).

    Seaborn is the stack's theming tool; its style is taken as dictionaries
    (``sns.axes_style``, ``sns.plotting_context``) and applied only inside :func:`theme`,
    never globally.

    Examples
    --------
    >>> theme_rc()["axes.prop_cycle"].by_key()["color"][:2]
    ['#0072b2', '#d55e00']
    """
    import seaborn as sns

    palette = sns.color_palette(list(PALETTE)).as_hex()
    return {
        **sns.axes_style("whitegrid"),
        **sns.plotting_context("paper"),
        **_RC,
        "axes.prop_cycle": cycler(color=list(palette)),
    }
