"""The sections of the evaluation report, each built from the analysis functions.

Each ``*_section(report, cohorts, truth)`` adds one section to a :class:`ReportBuilder`.
``SECTIONS`` lists them in reading order. A section is listed once the analysis functions
it draws on are part of the package (no silent fallbacks: a missing function is an error).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaluation.cohorts import Cohort, relapse_cohort
from evaluation.presentation.graphics.cohort import (
    flow_diagram,
    milestone_bars,
    reason_label,
    window_bars,
)
from evaluation.presentation.labels import has_label, label
from evaluation.presentation.tables import ReportTable, table_from_counts
from evaluation.registers import Registers
from evaluation.report._analysis_sections import (
    REPORT_SEED,
    curves_section,
    effect_section,
    retention_section,
)
from evaluation.report._design_section import design_section
from evaluation.report._mortality_section import mortality_section
from evaluation.report._recurrence_section import recurrence_section
from evaluation.report._sites_section import sites_section
from evaluation.report.build import ReportBuilder, count_text

__all__ = ["Cohorts", "SECTIONS", "value_label"]

WINDOWS = (1, 2, 3)


@dataclass(frozen=True, slots=True)
class Cohorts:
    """The cohorts every section shares (built once per report)."""

    registers: Registers
    everyone: Cohort  # every Brå entry event (decisions and releases), bra-final
    programme: Cohort  # programme starts, bra-final
    # A municipality's report: its name, and the registers of every municipality, which
    # only the municipal comparison reads (every other section reads ``registers``).
    municipality: str | None = None
    comparison: Registers | None = None

    @classmethod
    def build(
        cls,
        registers: Registers,
        *,
        municipality: str | None = None,
        comparison: Registers | None = None,
    ) -> Cohorts:
        return cls(
            registers=registers,
            municipality=municipality,
            comparison=comparison,
            # Brå follows one random entry event per person and year: a fixed seed makes
            # the same registers give the same report.
            everyone=relapse_cohort(
                registers, definition="bra-final", population="all", rng=REPORT_SEED
            ),
            programme=relapse_cohort(
                registers, definition="bra-final", population="programme", rng=REPORT_SEED
            ),
        )


def value_label(value: object, lang: str) -> str:
    """A category value in ``lang``: ``"F"`` -> Kvinnor, ``"participant"`` -> Deltagare.

    Examples
    --------
    >>> value_label("non-participant", "sv"), value_label("M", "en"), value_label("18-20", "sv")
    ('Icke-deltagare', 'Men', '18-20')
    """
    text = str(value)
    special = {"F": "women", "M": "men", "other": "other_municipality"}
    base = text.replace("-", "_").lower()
    for key in (special.get(text, ""), text, base, base + "s"):
        if key and has_label(key):
            return label(key, lang)
    return text


# -- 1. data and flow ------------------------------------------------------------------


def universe_frames(cohorts: Cohorts) -> dict[str, pd.DataFrame]:
    """The units the counts of the data and Brå sections are made of (one frame each)."""
    from evaluation.report._publish import entries_universe, offences_universe, persons_universe

    regs = cohorts.registers
    frames = {
        "persons": persons_universe(
            regs, [("programme", cohorts.programme), ("all", cohorts.everyone)]
        )
    }
    for name, cohort in (("programme", cohorts.programme), ("all", cohorts.everyone)):
        frames[f"entries:{name}"] = entries_universe(cohort, BRA_BY[name])
        frames[f"offences:{name}"] = offences_universe(cohort, BRA_BY[name])
    episodes = retention_episodes(regs)
    frames["episodes"] = pd.DataFrame(
        {"municipality": episodes["municipality"].astype(str).to_numpy()}
    )
    frames["register_offences"] = pd.DataFrame(index=range(len(regs.offences)))
    return frames


def retention_episodes(registers: Registers) -> pd.DataFrame:
    """The programme episodes of the retention section (one row per episode)."""
    from evaluation.cohorts import retention_cohort

    return retention_cohort(registers).data


def register_universes(report: ReportBuilder, cohorts: Cohorts) -> None:
    """Register :func:`universe_frames` in the report's ledger."""
    for name, frame in universe_frames(cohorts).items():
        report.ledger.add_universe(name, frame)


#: Breakdowns of the two Brå tables.
BRA_BY: dict[str, tuple[str, ...]] = {
    "programme": ("sex", "age_group", "prior_group", "municipality"),
    "all": ("group", "sex", "age_group", "prior_group"),
}


def data_section(report: ReportBuilder, cohorts: Cohorts, truth: Mapping[str, Any] | None) -> None:
    from evaluation.report._publish import protect_counts, protect_flow

    lang = report.lang
    section = report.section("data", label("report_section_data", lang))
    regs = cohorts.registers
    counts = protect_counts(
        report.ledger,
        [
            ("persons/all", "persons", []),
            ("episodes/all", "episodes", []),
            ("register_offences/all", "register_offences", []),
        ],
        file="report.html",
    )
    report.text(
        section,
        label(
            "report_data_text",
            lang,
            n_persons=count_text(counts["persons/all"], lang),
            n_episodes=count_text(counts["episodes/all"], lang),
            n_offences=count_text(counts["register_offences/all"], lang),
            study_start=regs.study_start.date().isoformat(),
            study_end=regs.study_end.date().isoformat(),
        ),
    )
    for key, name, cohort, caption_key in (
        ("flow_programme", "programme", cohorts.programme, "report_fig_flow_programme"),
        ("flow_all", "all", cohorts.everyone, "report_fig_flow_all"),
    ):
        flow = protect_flow(
            report.ledger,
            cohort,
            name=name,
            entries=f"entries:{name}",
            file=f"figures/{key}.data.csv",
        )

        def draw(axes: list[Any], c: Cohort = cohort, f: pd.DataFrame = flow) -> None:
            flow_diagram(c.flow, ax=axes[0], data=f)

        report.figure(
            section,
            draw,
            key=key,
            caption=label(caption_key, lang),
            data=flow,
            aspect=0.7,
            width="a4",
        )
        persons_rows = flow[flow["stage"] == "persons"].reset_index(drop=True)
        counts_table = pd.DataFrame({"n_persons": persons_rows["n_persons"].to_numpy()})
        counts_table.index = [reason_label(r, lang) for r in persons_rows["reason"]]
        report.table(
            section,
            table_from_counts(
                counts_table,
                key=key,
                title=label(caption_key, lang),
                lang=lang,
                headers={"n_persons": label("flow_n_persons", lang)},
                row_header=label("flow_reason", lang),
                min_cell=report.min_cell,
            ),
        )


# -- 2. Brå relapse measures -------------------------------------------------------------


def bra_section(report: ReportBuilder, cohorts: Cohorts, truth: Mapping[str, Any] | None) -> None:
    from evaluation.cohorts import relapse_table
    from evaluation.report._publish import protect_milestones, protect_relapse_table

    lang, m = report.lang, report.min_cell
    section = report.section("bra", label("report_section_bra", lang))
    report.text(section, label("report_bra_text", lang))
    tables = (
        ("bra_programme", "programme", cohorts.programme),
        ("bra_all", "all", cohorts.everyone),
    )
    for key, name, cohort in tables:
        result = relapse_table(cohort, by=BRA_BY[name], lang=lang, min_cell=m)
        result = protect_relapse_table(
            report.ledger,
            result,
            cohort,
            entries=f"entries:{name}",
            offences=f"offences:{name}",
            file=f"tables/{key}.csv",
        )
        report.table(section, bra_table(result, key=key, lang=lang))
    groups = report.ledger.universes["entries:all"]["group"].unique()
    bars = protect_milestones(
        report.ledger,
        cohorts.everyone.data,
        by="group",
        windows=WINDOWS,
        entries="entries:all",
        file="figures/milestones_by_group.data.csv",
        labels={g: value_label(g, lang) for g in groups},
    )
    report.figure(
        section,
        lambda axes: milestone_bars(bars, ax=axes[0]),
        key="milestones_by_group",
        caption=label("report_fig_milestones", lang),
        data=bars,
    )
    places = report.ledger.universes["entries:programme"]["municipality"].unique()
    by_municipality = protect_milestones(
        report.ledger,
        cohorts.programme.data,
        by="municipality",
        windows=(3,),
        entries="entries:programme",
        file="figures/relapse_3y_by_municipality.data.csv",
        labels={g: value_label(g, lang) for g in places},
    )
    report.figure(
        section,
        lambda axes: window_bars(by_municipality, window=3, ax=axes[0]),
        key="relapse_3y_by_municipality",
        caption=label("report_fig_by_municipality", lang),
        data=by_municipality,
        aspect=0.7,
    )


def bra_table(result: Any, *, key: str, lang: str) -> ReportTable:
    """A :class:`ReportTable` from ``relapse_table``'s result: its bilingual title and notes.

    The measures of each follow-up window form a column group, so that the HTML shows one
    block per window (``Inom 1 år``: Antal uppföljda, Antal återfall, ...) instead of one
    table three pages wide; the CSV and Excel sheet keep Brå's one wide table.
    """
    cells = result.formatted(lang)
    title, _, other = cells.attrs["title"].partition("\n")
    return ReportTable(
        key=key,
        title=title,
        title_other=other or None,
        table=cells.astype(str).reset_index(drop=True),
        footnotes=tuple(cells.attrs.get("footnotes", ())),
        lang=lang,
        column_groups=_window_groups(list(cells.columns[2:]), result.windows, lang),
    )


#: A Brå column header: the measure, then the window in brackets (``Antal återfall (1 år)``).
_WINDOW_HEADER = re.compile(r"^(?P<measure>.+) \((?P<window>[^()]+)\)$")


def _window_groups(
    columns: list[str], windows: Sequence[str], lang: str
) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """The measure columns split by window, each with its header without the window."""
    if not windows or len(columns) % len(windows):
        return ()
    size = len(columns) // len(windows)
    groups = []
    for k, window in enumerate(windows):
        block = columns[k * size : (k + 1) * size]
        matches = [_WINDOW_HEADER.match(c) for c in block]
        if not all(matches):
            return ()
        shown = {m.group("window") for m in matches if m}
        heading = label(f"window_{window}", lang) if has_label(f"window_{window}") else None
        groups.append(
            (
                heading or shown.pop(),
                tuple((c, m.group("measure")) for c, m in zip(block, matches, strict=True) if m),
            )
        )
    return tuple(groups)


def definitions_section(
    report: ReportBuilder, cohorts: Cohorts, truth: Mapping[str, Any] | None
) -> None:
    """The definitions behind every number, and the disclosure rule."""
    from evaluation.cohorts import relapse_table

    lang = report.lang
    section = report.section("definitions", label("report_section_definitions", lang))
    notes = relapse_table(cohorts.programme, by=("sex",), lang=lang, min_cell=report.min_cell)
    items = [n for n in notes.footnotes(lang) if not n.startswith(("..", "Källa", "Source"))]
    items.append(label("report_definition_retention", lang))
    items.append(label("report_disclosure_note", lang, min_cell=report.min_cell))
    section["blocks"].append({"kind": "list", "items": items})


SECTIONS: tuple[Callable[[ReportBuilder, Cohorts, Mapping[str, Any] | None], None], ...] = (
    data_section,
    bra_section,
    curves_section,
    recurrence_section,
    retention_section,
    effect_section,
    mortality_section,
    design_section,
    sites_section,
    definitions_section,
)
