"""The sections of the evaluation report, each built from the analysis functions.

Each ``*_section(report, cohorts, truth)`` adds one section to a :class:`ReportBuilder`.
``SECTIONS`` lists them in reading order. A section is listed once the analysis functions
it draws on are part of the package (no silent fallbacks: a missing function is an error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaluation.cohorts import Cohort, relapse_cohort
from evaluation.registers import Registers
from evaluation.report.build import ReportBuilder, count_text
from evaluation.report.disclosure import suppress_small_cells
from evaluation.report.labels import has_label, label
from evaluation.report.plots import (
    flow_data,
    flow_diagram,
    milestone_bars,
    milestone_data,
    reason_label,
)
from evaluation.report.tables import ReportTable, table_from_suppressed

__all__ = ["Cohorts", "SECTIONS", "value_label"]

WINDOWS = (1, 2, 3)


@dataclass(frozen=True, slots=True)
class Cohorts:
    """The cohorts every section shares (built once per report)."""

    registers: Registers
    everyone: Cohort  # every Brå entry event (decisions and releases), bra-final
    programme: Cohort  # programme starts, bra-final

    @classmethod
    def build(cls, registers: Registers) -> Cohorts:
        return cls(
            registers=registers,
            everyone=relapse_cohort(registers, definition="bra-final", population="all"),
            programme=relapse_cohort(registers, definition="bra-final", population="programme"),
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


def data_section(report: ReportBuilder, cohorts: Cohorts, truth: Mapping[str, Any] | None) -> None:
    lang, m = report.lang, report.min_cell
    section = report.section("data", label("report_section_data", lang))
    regs = cohorts.registers
    report.text(
        section,
        label(
            "report_data_text",
            lang,
            n_persons=count_text(len(regs.persons), lang, m),
            n_episodes=count_text(len(regs.programme), lang, m),
            n_offences=count_text(len(regs.offences), lang, m),
            study_start=regs.study_start.date().isoformat(),
            study_end=regs.study_end.date().isoformat(),
        ),
    )
    for key, cohort, caption_key in (
        ("flow_programme", cohorts.programme, "report_fig_flow_programme"),
        ("flow_all", cohorts.everyone, "report_fig_flow_all"),
    ):
        flow = flow_data(cohort.flow, min_cell=m)

        def draw(axes: list[Any], c: Cohort = cohort) -> None:
            flow_diagram(c.flow, ax=axes[0], min_cell=m)

        report.figure(
            section,
            draw,
            key=key,
            caption=label(caption_key, lang),
            data=flow,
            aspect=0.55,
        )
        counts = pd.DataFrame(
            {"n_persons": cohort.flow.loc[cohort.flow["stage"] == "persons", "n_persons"]}
        ).reset_index(drop=True)
        counts.index = [reason_label(r, lang) for r in flow["reason"]]
        suppressed = suppress_small_cells(
            counts.astype("int64"), min_cell=m, total_row=counts.index[0]
        )
        report.table(
            section,
            table_from_suppressed(
                suppressed,
                key=key,
                title=label(caption_key, lang),
                lang=lang,
                headers={"n_persons": label("flow_n_persons", lang)},
                row_header=label("flow_reason", lang),
            ),
        )


# -- 2. Brå relapse measures -------------------------------------------------------------


def milestone_table(
    data: pd.DataFrame, *, by: str, lang: str, min_cell: int, key: str, title: str
) -> ReportTable:
    """Brå layout: groups as rows; per window the denominator, count and whole-number share."""
    total = _window_counts(data, by=None)
    counts = pd.concat([total.assign(group=label("all", lang)), _window_counts(data, by=by)])
    counts = counts.set_index("group")
    counts.index = [value_label(g, lang) for g in counts.index]
    for w in WINDOWS:  # shares next to their counts, Brå's column order
        n = counts[f"n_{w}y"].astype("float64")
        counts[f"share_{w}y"] = counts[f"relapsed_{w}y"] / n.where(n > 0)
    order = [c for w in WINDOWS for c in (f"n_{w}y", f"relapsed_{w}y", f"share_{w}y")]
    suppressed = suppress_small_cells(
        counts[order],
        min_cell=min_cell,
        counts=[c for c in order if not c.startswith("share")],
        total_row=counts.index[0],
        shares={f"share_{w}y": (f"relapsed_{w}y", f"n_{w}y") for w in WINDOWS},
    )
    headers = {}
    for w in WINDOWS:
        window = label("bra_window_years", lang, years=w)
        headers[f"n_{w}y"] = label("bra_n", lang, window=window)
        headers[f"relapsed_{w}y"] = label("bra_relapsed", lang, window=window)
        headers[f"share_{w}y"] = label("bra_share", lang, window=window)
    return table_from_suppressed(
        suppressed,
        key=key,
        title=title,
        title_other=label("report_tab_milestones", "en" if lang == "sv" else "sv"),
        lang=lang,
        headers=headers,
        row_header=label("group", lang),
        footnotes=(label("report_footnote_windows", lang),),
    )


def _window_counts(data: pd.DataFrame, *, by: str | None) -> pd.DataFrame:
    frames = {}
    for w in WINDOWS:
        flags = data[f"relapse_{w}y"]
        measured = flags.notna()
        keys = (
            data.loc[measured, by].astype(str)
            if by
            else pd.Series("all", index=data.index[measured])
        )
        hits = flags[measured].astype(bool)
        frames[f"n_{w}y"] = keys.value_counts()
        frames[f"relapsed_{w}y"] = hits.groupby(keys).sum()
    out = pd.DataFrame(frames).fillna(0).sort_index()
    if by is None:  # the total row exists even when nothing was measured
        out = out.reindex(["all"], fill_value=0)
    return out.rename_axis("group").reset_index()


def bra_section(report: ReportBuilder, cohorts: Cohorts, truth: Mapping[str, Any] | None) -> None:
    lang, m = report.lang, report.min_cell
    section = report.section("bra", label("report_section_bra", lang))
    report.text(section, label("report_bra_text", lang))
    data = cohorts.everyone.data
    report.table(
        section,
        milestone_table(
            data,
            by="group",
            lang=lang,
            min_cell=m,
            key="relapse_by_group",
            title=label("report_tab_milestones", lang),
        ),
    )
    bars = milestone_data(
        data.assign(group=[value_label(g, lang) for g in data["group"]]),
        by="group",
        windows=WINDOWS,
        min_cell=m,
    )
    report.figure(
        section,
        lambda axes: milestone_bars(bars, ax=axes[0]),
        key="milestones_by_group",
        caption=label("report_fig_milestones", lang),
        data=bars,
    )
    programme = cohorts.programme.data
    for by, key in (
        ("sex", "programme_by_sex"),
        ("age_group", "programme_by_age"),
        ("prior_group", "programme_by_prior"),
        ("municipality", "programme_by_municipality"),
    ):
        report.table(
            section,
            milestone_table(
                programme,
                by=by,
                lang=lang,
                min_cell=m,
                key=key,
                title=label("report_tab_programme_by", lang, by=label(by, lang).lower()),
            ),
        )


SECTIONS: tuple[Callable[[ReportBuilder, Cohorts, Mapping[str, Any] | None], None], ...] = (
    data_section,
    bra_section,
)
