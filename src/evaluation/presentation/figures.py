"""Figure export: numbered caption above, source line below, PNG (300 dpi), SVG and PDF.

Every figure of the report goes through :func:`new_figure` (the package theme, a journal or
A4 width) and :func:`export_figure`, which adds "Figur N. …" above and "Källa: … Syntetiska
data." below and writes the three files. SVG keeps its text as text, so that the
disclosure scanner can read every number a figure prints.
"""

from __future__ import annotations

import base64
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evaluation.presentation.labels import check_lang, label
from evaluation.presentation.theme import WIDTHS, current_lang

__all__ = ["FORMATS", "ReportFigure", "export_figure", "new_figure", "source_line"]

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: Average glyph width of the 9 pt caption font, in inches (for wrapping captions).
_CHAR_WIDTH_IN = 0.075


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFigure:
    """A written figure: its number, caption, files and the numbers behind it."""

    key: str
    number: int
    caption: str
    source: str
    files: dict[str, Path]
    data: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def full_caption(self) -> str:
        """``Figur 3. <caption>``: the caption as printed above the figure."""
        return self.caption

    def png_base64(self) -> str:
        """The PNG as a base64 ``data:`` URI, for a self-contained HTML page."""
        data = self.files["png"].read_bytes()
        return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def new_figure(
    width: str = "a4",
    *,
    aspect: float = 0.62,
    nrows: int = 1,
    height_ratios: list[float] | None = None,
) -> tuple[Figure, list[Axes]]:
    """A figure of a standard width (``"journal"`` 3.5 in or ``"a4"`` 6.3 in).

    Call inside ``with theme(lang):`` so that the package style applies.

    Examples
    --------
    >>> from evaluation.presentation.theme import theme
    >>> with theme("sv"):
    ...     fig, axes = new_figure("journal")
    >>> float(fig.get_figwidth()), len(axes)
    (3.5, 1)
    """
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {', '.join(WIDTHS)}, not {width!r}")
    w = WIDTHS[width]
    fig = Figure(figsize=(w, w * aspect), layout="constrained")
    FigureCanvasAgg(fig)  # no pyplot: the report never opens windows or keeps global state
    axes = fig.subplots(nrows, 1, squeeze=False, height_ratios=height_ratios)[:, 0].tolist()
    return fig, axes


def source_line(lang: str = "sv", *, source: str | None = None, synthetic: bool = True) -> str:
    """The source line under a figure: ``Källa: … Syntetiska data.``

    Examples
    --------
    >>> source_line("en", source="Simulated registers")
    'Source: Simulated registers. Synthetic data.'
    >>> source_line("sv", source="Polisen", synthetic=False)
    'Källa: Polisen.'
    """
    check_lang(lang)
    if not source:
        return label("source_synthetic", lang) if synthetic else ""
    word = "Källa" if lang == "sv" else "Source"
    text = f"{word}: {source}."
    return f"{text} {label('synthetic_data', lang)}" if synthetic else text


def export_figure(
    fig: Figure,
    folder: str | Path,
    *,
    key: str,
    number: int,
    caption: str,
    source: str,
    lang: str | None = None,
    data: pd.DataFrame | None = None,
    formats: tuple[str, ...] = FORMATS,
) -> ReportFigure:
    """Add the numbered caption and the source line, write the files, close nothing.

    Parameters
    ----------
    fig : Figure
        The drawn figure.
    folder : path
        Where ``<key>.png``, ``<key>.svg`` and ``<key>.pdf`` are written.
    key : str
        File stem.
    number : int
        Figure number in the report ("Figur 3.").
    caption : str
        Caption text without the number.
    source : str
        The source line (see :func:`source_line`).
    lang : {"sv", "en"}, optional
        Language of "Figur"/"Figure"; the active theme's by default.
    data : DataFrame, optional
        The numbers behind the figure, kept on the result (already disclosure-controlled).

    Returns
    -------
    ReportFigure
    """
    lang = check_lang(lang if lang is not None else current_lang())
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown figure formats: {', '.join(sorted(unknown))}")
    full = f"{label('figure', lang)} {number}. {caption}"
    _caption_and_source(fig, full, source)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    # Fixed metadata keeps the files byte-identical between runs (no creation dates).
    metadata = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
    }
    with mpl.rc_context({"svg.hashsalt": key, "svg.fonttype": "none"}):
        for fmt in formats:
            path = folder / f"{key}.{fmt}"
            fig.savefig(path, format=fmt, dpi=300, bbox_inches="tight", metadata=metadata[fmt])
            files[fmt] = path
    return ReportFigure(
        key=key,
        number=number,
        caption=full,
        source=source,
        files=files,
        data=data if data is not None else pd.DataFrame(),
    )


def _caption_and_source(fig: Figure, caption: str, source: str) -> None:
    """Place the caption above and the source below everything already drawn."""
    # Freeze the layout first, so that the texts added here do not move the axes.
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine("none")
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    box = fig.get_tightbbox(renderer)
    width_in, height_in = fig.get_size_inches()
    chars = max(int(box.width / _CHAR_WIDTH_IN), 30)
    x0 = box.x0 / width_in
    fig.text(
        x0,
        box.y1 / height_in + 0.1 / height_in,
        textwrap.fill(caption, chars),
        ha="left",
        va="bottom",
        fontsize=9,
        fontweight="bold",
    )
    fig.text(
        x0,
        box.y0 / height_in - 0.08 / height_in,
        textwrap.fill(source, chars),
        ha="left",
        va="top",
        fontsize=7.5,
        color="#333333",
    )
