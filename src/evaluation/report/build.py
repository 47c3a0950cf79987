"""``build_report``: the evaluation report as one self-contained HTML page plus its files.

The page is rendered from the jinja2 template ``templates/report.html``; figures are embedded
as base64 PNG, so the page can be mailed or archived as one file. Beside it, ``figures/``
holds every figure as PNG (300 dpi), SVG and PDF, ``tables/`` every table as CSV, and
``tables.xlsx`` all tables, one sheet each. Every count that leaves here went through
:func:`~evaluation.report.suppress_small_cells` (tables, figure annotations, at-risk rows)
or :func:`count_text` (sentences).

The sections are built in :mod:`evaluation.report._sections`; each one takes the cohorts
and the report being built and adds its figures, tables and text.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from evaluation._errors import DisclosureError, EvaluationWarning
from evaluation.presentation import _output
from evaluation.presentation._cells import DEFAULT_MIN_CELL
from evaluation.presentation.disclosure import SUPPRESSED
from evaluation.presentation.figures import (
    FORMATS,
    ReportFigure,
    export_figure,
    new_figure,
    source_line,
)
from evaluation.presentation.formatting import format_number
from evaluation.presentation.labels import check_lang, label
from evaluation.presentation.ledger import Ledger, audit
from evaluation.presentation.tables import ReportTable, write_csv, write_excel
from evaluation.presentation.theme import theme
from evaluation.registers import Registers

__all__ = ["ReportBuilder", "build_report", "count_text", "restrict_to_municipality"]


def count_text(n: float | int | None, lang: str, min_cell: int = DEFAULT_MIN_CELL) -> str:
    """A count for a sentence: the number, or ``..`` when it is below ``min_cell``.

    Examples
    --------
    >>> count_text(1234, "sv"), count_text(3, "en"), count_text(0, "en")
    ('1\\xa0234', '..', '0')
    """
    if n is None or pd.isna(n):
        return SUPPRESSED
    if 0 < n < min_cell:
        return SUPPRESSED
    return format_number(n, lang)


@dataclass
class ReportBuilder:
    """The report being built: numbering, files, sections (private state of one build)."""

    out_dir: Path
    lang: str
    min_cell: int
    synthetic: bool
    width: str = "a4"
    formats: tuple[str, ...] = FORMATS
    stamp: _output.Stamp | None = None  # "not for publication" (an unsafe min_cell)
    sections: list[dict[str, Any]] = field(default_factory=list)
    figures: list[ReportFigure] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)
    ledger: Ledger = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.min_cell)

    @property
    def source(self) -> str:
        return source_line(
            self.lang, source=label("report_source", self.lang), synthetic=self.synthetic
        )

    def section(self, key: str, title: str) -> dict[str, Any]:
        """Start a section; blocks are appended to the returned dict."""
        section: dict[str, Any] = {"id": key, "title": title, "blocks": []}
        self.sections.append(section)
        return section

    def text(self, section: dict[str, Any], text: str) -> None:
        section["blocks"].append({"kind": "text", "text": text})

    def figure(
        self,
        section: dict[str, Any],
        draw: Callable[[list[Any]], Any],
        *,
        key: str,
        caption: str,
        data: pd.DataFrame | None = None,
        aspect: float = 0.62,
        width: str | None = None,
        nrows: int = 1,
        height_ratios: list[float] | None = None,
        fig: Figure | None = None,
    ) -> ReportFigure:
        """Draw a figure with ``draw(axes)`` under the theme, export it and place it.

        ``width`` overrides the report's figure width (diagrams and panels of several
        municipalities need the full A4 width to stay legible).
        """
        with theme(self.lang):
            if fig is None:
                fig, axes = new_figure(
                    width or self.width, aspect=aspect, nrows=nrows, height_ratios=height_ratios
                )
                draw(axes)
            if self.stamp is not None:
                _output.stamp_figure(fig, self.stamp)
            written = export_figure(
                fig,
                self.out_dir / "figures",
                key=key,
                number=len(self.figures) + 1,
                caption=caption,
                source=self.source,
                lang=self.lang,
                data=data,
                formats=self.formats,
            )
        plt.close(fig)
        self.figures.append(written)
        if data is not None and not data.empty:
            path = self.out_dir / "figures" / f"{key}.data.csv"
            _output.write_frame_csv(data, path, stamp=self.stamp)
        section["blocks"].append({"kind": "figure", "figure": written})
        return written

    def table(self, section: dict[str, Any], table: ReportTable) -> ReportTable:
        """Number a table, write its CSV and place it."""
        numbered = table.numbered(len(self.tables) + 1)
        self.tables.append(numbered)
        write_csv(numbered, self.out_dir / "tables", stamp=self.stamp)
        section["blocks"].append({"kind": "table", "html": numbered.to_html()})
        return numbered


def restrict_to_municipality(registers: Registers, municipality: str) -> Registers:
    """The registers of the persons living in one municipality (``persons.municipality``).

    Raises
    ------
    ValueError
        If no person lives in ``municipality``; the message lists the municipalities.
    """
    persons = registers.persons
    keep = persons["municipality"] == municipality
    if not keep.any():
        names = ", ".join(sorted(persons["municipality"].dropna().unique()))
        raise ValueError(
            f"no person in the registers lives in {municipality!r}; the municipalities are {names}"
        )
    ids = set(persons.loc[keep, "person_id"])
    tables = {
        name: getattr(registers, name)[getattr(registers, name)["person_id"].isin(ids)].reset_index(
            drop=True
        )
        for name in ("persons", "programme", "offences", "custody", "exits")
    }
    return Registers(
        **tables,
        study_start=registers.study_start,
        study_end=registers.study_end,
        meta={**registers.meta, "municipality": municipality},
    )


def build_report(
    registers: Any,
    out_dir: str | Path,
    *,
    lang: str = "sv",
    municipality: str | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
    truth: Mapping[str, Any] | None = None,
    width: str = "a4",
    formats: tuple[str, ...] = FORMATS,
    progress: Callable[[int], Any] | None = None,
    overwrite: bool = False,
    unsafe_min_cell: bool = False,
) -> Path:
    """Write the evaluation report: ``report.html`` plus figures and tables.

    Parameters
    ----------
    registers : Registers or SimulatedRegisters
        Validated registers (a ``SimulatedRegisters`` brings its truth along).
    out_dir : path
        Output folder (created). Holds ``report.html``, ``tables.xlsx``, ``figures/``
        (PNG, SVG, PDF and the numbers behind each figure as CSV) and ``tables/`` (CSV).
        The report is built in a hidden folder beside it and moved there only when
        complete; an error or Ctrl-C leaves ``out_dir`` as it was. An existing folder must
        be empty, or hold an earlier report of this package and ``overwrite`` be true.
    lang : {"sv", "en"}
        Language of every word in the report.
    municipality : str, optional
        Restrict the report to the persons of one municipality. The municipal comparison
        still compares every municipality of ``registers``, with this one highlighted.
    min_cell : int, default 5
        Disclosure threshold: counts from 1 to ``min_cell - 1`` are never shown. At least
        3 unless ``unsafe_min_cell``.
    truth : mapping, optional
        The generator's truth (``truth.json``); shown beside the estimates. Taken from a
        ``SimulatedRegisters`` when not given.
    width : {"a4", "journal"}
        Width of the figures.
    formats : tuple of str
        Figure files to write besides the page: any of ``"png"`` (always written: the page
        embeds it), ``"svg"``, ``"pdf"``.
    progress : callable, optional
        Called with 1 after each section (for a progress bar).
    overwrite : bool, default False
        Replace an earlier report in ``out_dir`` (recognised by its marker file
        ``.evaluation-report.json``); other files are never replaced.
    unsafe_min_cell : bool, default False
        Allow ``min_cell`` of 1 or 2. Every output is then stamped "NOT FOR PUBLICATION":
        a banner on the page, a first line in every CSV, a first row in every Excel sheet
        and a watermark on every figure.

    Returns
    -------
    Path
        The HTML page.

    Raises
    ------
    RegisterError
        If the registers are invalid (every problem listed), also when they were read
        with ``validate=False``.
    ValueError
        For an unknown language, a municipality with no persons, or ``min_cell`` below 3
        without ``unsafe_min_cell``.
    FileExistsError
        If ``out_dir`` is a non-empty folder that is not an earlier report, or an earlier
        report without ``overwrite``; nothing in it is changed.
    """
    check_lang(lang)
    min_cell = _output.check_min_cell(min_cell, unsafe=unsafe_min_cell)
    if hasattr(registers, "registers") and hasattr(registers, "truth"):
        truth = truth if truth is not None else registers.truth
        registers = registers.registers
    registers.validate()
    # A municipality's report compares it with every municipality (the sites section).
    comparison = registers if municipality is not None else None
    if municipality is not None:
        registers = restrict_to_municipality(registers, municipality)
    stamp = _output.unsafe_stamp(lang, min_cell) if unsafe_min_cell else None
    marker = {"lang": lang, "municipality": municipality, "min_cell": min_cell}
    with _output.staged_output(out_dir, overwrite=overwrite, marker=marker) as staging:
        _write_report(
            registers,
            staging,
            lang=lang,
            municipality=municipality,
            comparison=comparison,
            min_cell=min_cell,
            truth=truth,
            width=width,
            formats=formats,
            progress=progress,
            stamp=stamp,
        )
    return Path(out_dir) / "report.html"


def _write_report(
    registers: Registers,
    out: Path,
    *,
    lang: str,
    municipality: str | None,
    comparison: Registers | None = None,
    min_cell: int,
    truth: Mapping[str, Any] | None,
    width: str,
    formats: tuple[str, ...],
    progress: Callable[[int], Any] | None,
    stamp: _output.Stamp | None,
) -> None:
    """Write every file of the report into ``out`` (the staging folder)."""
    from evaluation.report import _sections

    for sub in ("figures", "tables"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    synthetic = truth is not None or registers.meta.get("source") == "synthetic"
    formats = tuple(dict.fromkeys(("png", *formats)))
    report = ReportBuilder(
        out_dir=out,
        lang=lang,
        min_cell=min_cell,
        synthetic=synthetic,
        width=width,
        formats=formats,
        stamp=stamp,
    )
    cohorts = _sections.Cohorts.build(registers, municipality=municipality, comparison=comparison)
    _sections.register_universes(report, cohorts)
    for build_section in _sections.SECTIONS:
        with warnings.catch_warnings(record=True) as caught:
            # The package's own warnings (convergence, disclosure) become notes in the
            # report, where the reader sees them; every other warning passes through.
            warnings.simplefilter("always", EvaluationWarning)
            n_sections = len(report.sections)
            build_section(report, cohorts, truth)
        _note_warnings(report, caught, n_sections)
        if progress is not None:
            progress(1)
    verdict = audit(report.ledger)
    if not verdict.passed:
        raise DisclosureError(str(verdict))
    write_excel(report.tables, out / "tables.xlsx", stamp=stamp)
    (out / "disclosure").mkdir(exist_ok=True)
    report.ledger.write_manifest(out / "disclosure" / "ledger.json")
    (out / "disclosure" / "audit.txt").write_text(str(verdict) + "\n", encoding="utf-8")
    page = out / "report.html"
    page.write_text(_render(report, registers, municipality, truth), encoding="utf-8")


def _note_warnings(
    report: ReportBuilder, caught: list[warnings.WarningMessage], n_before: int
) -> None:
    ours = [w for w in caught if issubclass(w.category, EvaluationWarning)]
    for w in caught:
        if not issubclass(w.category, EvaluationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if ours and len(report.sections) > n_before:
        section = report.sections[n_before]
        for text in dict.fromkeys(str(w.message) for w in ours):
            report.text(section, label("report_warning", report.lang, message=text))


def _render(
    report: ReportBuilder,
    registers: Registers,
    municipality: str | None,
    truth: Mapping[str, Any] | None,
) -> str:
    lang = report.lang
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evaluation.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("report.html")
    title = label("report_title", lang)
    if municipality:
        title = f"{title}: {municipality}"
    from evaluation import __version__

    return template.render(
        lang=lang,
        title=title,
        L=lambda key, **fields: label(key, lang, **fields),
        sections=report.sections,
        synthetic=report.synthetic,
        has_truth=truth is not None,
        min_cell=report.min_cell,
        stamp=report.stamp.text if report.stamp is not None else None,
        study_start=registers.study_start.date().isoformat(),
        study_end=registers.study_end.date().isoformat(),
        version=__version__,
    )
