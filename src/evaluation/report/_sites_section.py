"""The report section "Kommunjämförelse / Municipal comparison".

Case mix by indirect standardisation (observed, expected, O/E, adjusted share), the funnel
plot, empirical-Bayes O/E with rank intervals, and the programme's effect per municipality
with its random-effects meta-analysis (:mod:`evaluation.sites`).

Disclosure: the entries followed and the relapses per municipality are the Brå table's own
cells (the same keys), so a count withheld there is withheld here. Expected counts are
model outputs, but O/E times E gives O back, and so do the interval, the adjusted share,
the z-score and the shrunken estimate: where O or n is withheld, all of them are shown as
"..". Participants per municipality in the effect design are counted in a universe of
their own (``sites_effect``, rebuilt by the audit with :func:`sites_universes`); a
municipality whose number of participants is withheld has its effect withheld too.

A municipality's report (``--municipality X``) still compares every municipality: this
section alone reads the registers of all (``cohorts.comparison``), while every other section
reads X's. X is highlighted (the ``highlight`` column of the figure data, a marked point,
row or label). Its counts are protected as in the report of all municipalities, with one
more link: the comparison's entries are a universe of their own (``sites_entries``, every
municipality's programme entries, rebuilt by the audit with
:func:`sites_entries_universe`), and X's own entries among them are the units of X's Brå
table, so every publication of X's ``entries:programme`` is mirrored there
(:meth:`~evaluation.presentation.ledger.Ledger.mirror`): a count of X printed in the
comparison and in X's other sections is one count to the attack, and no subtraction
between them escapes it. X's participants in the effect forest are the design section's
cell of X. ARCHITECTURE.md, "Disclosure control".

Totals: a logistic model with an intercept makes the expected counts add up to the
observed ones, so the sum of the printed E gives the relapses of all compared
municipalities, and O/E with the adjusted share gives the overall share. Both are
registered as published (both totals exactly), so that a single withheld O or n cannot be
recovered as the total minus the others.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation.presentation.disclosure import SUPPRESSED
from evaluation.presentation.formatting import format_number
from evaluation.presentation.labels import label
from evaluation.presentation.ledger import Publication
from evaluation.presentation.tables import ReportTable
from evaluation.report._analysis_sections import REPORT_SEED
from evaluation.report._publish import window_cells
from evaluation.report.build import ReportBuilder

__all__ = ["SITE_BOOTSTRAP", "sites_entries_universe", "sites_section", "sites_universes"]

#: Bootstrap replicates per municipality for its effect (nine estimations: kept small).
SITE_BOOTSTRAP = 50
#: Fewest municipalities for a comparison.
MIN_SITES = 3
#: The window of the comparison (Brå's 1-year window of the report's programme cohort).
WINDOW = "1y"
ENTRIES = "entries:programme"
#: The comparison's entries in a municipality's report (every municipality's).
SITES_ENTRIES = "sites_entries"
#: The column of ``sites_entries`` that marks the report's own units.
IN_REPORT = "in_report"


def _places(data: pd.DataFrame) -> list[str]:
    # "other" is many municipalities together, not one programme: not compared.
    return sorted(p for p in data["municipality"].astype(str).unique() if p != "other")


def sites_universes(design: Any) -> dict[str, pd.DataFrame]:
    """The effect design's rows with municipality and treatment (the audit calls this too)."""
    d = design.data
    return {
        "sites_effect": pd.DataFrame(
            {
                "municipality": d["municipality"].astype(str).to_numpy(),
                "treated": d["treated"].astype(int).to_numpy(),
            }
        )
    }


def sites_entries_universe(cohort: Any, report_persons: Any) -> pd.DataFrame:
    """Every municipality's programme entries (the comparison of a municipality's report),
    with the columns of the report's own ``entries:programme`` and ``in_report``: the entry
    is one of the report's (its person is one of ``report_persons``). The audit calls this
    too."""
    from evaluation.report._publish import entries_universe
    from evaluation.report._sections import BRA_BY

    frame = entries_universe(cohort, BRA_BY["programme"])
    own = set(pd.Series(report_persons).astype(str))
    frame[IN_REPORT] = frame["person_id"].isin(own).to_numpy()
    return frame


def comparison_cohort_of(registers: Any) -> Any:
    """The programme cohort the comparison of a municipality's report is made of (all
    municipalities; the same definition and seed as the report's own)."""
    from evaluation.cohorts import relapse_cohort

    return relapse_cohort(
        registers, definition="bra-final", population="programme", rng=REPORT_SEED
    )


def sites_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.sites import case_mix, funnel, shrinkage

    lang = report.lang
    section = report.section("sites", label("report_section_sites", lang))
    mine = getattr(cohorts, "municipality", None)
    everyone = getattr(cohorts, "comparison", None) if mine is not None else None
    cohort = comparison_cohort_of(everyone) if everyone is not None else cohorts.programme
    data = cohort.data
    places = _places(data)
    if len(places) < MIN_SITES:
        report.text(section, label("report_sites_single", lang, n=MIN_SITES))
        return
    highlight = mine if mine in places else None
    report.text(section, label("report_sites_text", lang))
    if highlight is not None:
        report.text(section, label("report_sites_highlight", lang, municipality=highlight))
    rows = data[data["municipality"].astype(str).isin(places)]
    try:
        cm = case_mix(rows, outcome=f"relapse_{WINDOW}")
        fun = funnel(cm)
        shr = shrinkage(cm, rng=REPORT_SEED)
    except EstimationError as err:
        report.text(section, label("report_not_estimable", lang, reason=str(err)))
        return
    entries = ENTRIES
    if everyone is not None:
        entries = SITES_ENTRIES
        report.ledger.add_universe(
            SITES_ENTRIES, sites_entries_universe(cohort, cohorts.registers.persons["person_id"])
        )
        # X's entries are the same units in both universes: one count to the attack.
        report.ledger.mirror(
            ENTRIES, SITES_ENTRIES, [(IN_REPORT, "==", True)], prefix=f"{SITES_ENTRIES}|"
        )
    totals_ok = _protect_totals(report, entries, places)
    shown = _protect_case_mix(report, cm.table, entries)
    hidden = tuple(g for g, (_, r_ok) in shown.items() if not r_ok)
    table = _site_frame(cm.table, fun.points, shr.table, shown, totals_ok)
    table.insert(1, "highlight", table["group"] == highlight)
    note = label("report_sites_hidden", lang, min_cell=report.min_cell) if hidden else ""
    report.table(section, _case_mix_table(table, cm, lang, note, highlight))
    funnel_data = table[["group", "highlight", "n", "observed", "expected", "estimate",
                         "lower_95", "upper_95", "lower_998", "upper_998", "z"]]  # fmt: skip
    report.figure(
        section,
        lambda axes: _draw_funnel(fun, table, axes[0], lang, hidden, highlight),
        key="sites_funnel",
        caption=_caption(
            "report_fig_sites_funnel",
            lang,
            note,
            over=label(f"sites_over_{fun.overdispersion}", lang),
        ),  # fmt: skip
        data=funnel_data,
        aspect=0.7,
    )
    shares = table[["group", "highlight", "n", "observed", "share", "adjusted_share",
                    "adjusted_ci_lower", "adjusted_ci_upper"]]  # fmt: skip
    overall = cm.overall_share if totals_ok else None
    report.figure(
        section,
        lambda axes: _draw_shares(shares, axes[0], overall, lang, highlight),
        key="sites_shares",
        caption=_caption("report_fig_sites_shares", lang, note),
        data=shares,
        aspect=0.7,
    )
    ranks = table[["group", "highlight", "shrunken", "shrunken_ci_lower", "shrunken_ci_upper",
                   "rank_lower", "rank_upper"]]  # fmt: skip
    report.figure(
        section,
        lambda axes: _draw_ranks(table, axes[0], lang, highlight),
        key="sites_ranks",
        caption=_caption("report_fig_sites_ranks", lang, note),
        data=ranks,
        aspect=0.75,
    )
    _effects(report, section, cohorts, everyone, places, highlight)
    # What each municipality could detect on its own is the design section's table.
    report.text(section, label("report_sites_detect", lang))


def _caption(key: str, lang: str, note: str, **fields: Any) -> str:
    text = label(key, lang, **fields)
    return f"{text.rstrip('.')}. {note}" if note else text


def _protect_totals(report: ReportBuilder, entries: str, places: list[str]) -> bool:
    """The relapses of all compared municipalities (the sum of the printed E) and the
    entries followed (the overall share, which O/E and the adjusted share give back, with
    the relapses), registered as published.

    Returns False when the ledger withholds them; the expected counts and the overall share
    are then withheld too.
    """
    ledger = report.ledger
    tag = f"{entries}/{WINDOW}/municipality=compared"
    n, r, _ = window_cells(ledger, entries, tag, [("municipality", "in", tuple(places))], WINDOW)
    file = "tables/sites_case_mix.csv"
    # The overall share (three decimals) and the total relapses give the total followed
    # to within one or two: registered as exact, so that a single withheld n is protected
    # by subtraction (the ledger then withholds a second n, not every O).
    decided = ledger.protect(
        [Publication(n.key, "exact", file=file), Publication(r.key, "exact", file=file)]
    )
    return all(decided)


def _protect_case_mix(
    report: ReportBuilder, t: pd.DataFrame, entries: str = ENTRIES
) -> dict[str, tuple[bool, bool]]:
    """Register each municipality's followed entries and relapses: (n shown, O shown)."""
    ledger = report.ledger
    batch: list[Publication] = []
    where: dict[str, tuple[int, int]] = {}
    files = ("figures/sites_funnel.data.csv", "figures/sites_shares.data.csv")
    for g in t["group"]:
        tag = f"{entries}/{WINDOW}/municipality={g}"
        n, r, rest = window_cells(ledger, entries, tag, [("municipality", "==", g)], WINDOW)
        k = len(batch)
        for f in files:
            batch += [
                Publication(n.key, "exact", file=f, location={"group": g, "column": "n"}),
                Publication(r.key, "exact", file=f, location={"group": g, "column": "observed"}),
            ]
        batch += [
            Publication(n.key, "exact", file="tables/sites_case_mix.csv"),
            Publication(r.key, "exact", file="tables/sites_case_mix.csv"),
            Publication(rest.key, "hidden", file="tables/sites_case_mix.csv"),
        ]
        where[g] = (k, len(batch))
    decided = ledger.protect(batch)
    # Per site: [n, r] per figure file, then n and r in the table, then the hidden rest.
    return {g: (bool(decided[a]), bool(decided[a + 1])) for g, (a, _) in where.items()}


def _site_frame(
    t: pd.DataFrame,
    points: pd.DataFrame,
    shr: pd.DataFrame,
    shown: dict[str, tuple[bool, bool]],
    totals_ok: bool = True,
) -> pd.DataFrame:
    """One row per municipality with every published number, NaN where withheld."""
    p = points.set_index("group")
    s = shr.set_index("group")
    out = t.set_index("group")[["n", "observed", "expected", "estimate", "ci_lower", "ci_upper",
                                "share", "adjusted_share", "adjusted_ci_lower",
                                "adjusted_ci_upper"]].astype(float)  # fmt: skip
    for c in ("lower_95", "upper_95", "lower_998", "upper_998", "z"):
        out[c] = p[c].astype(float)
    out["shrunken"] = s["estimate"]
    out["shrunken_ci_lower"] = s["ci_lower"]
    out["shrunken_ci_upper"] = s["ci_upper"]
    out["rank_lower"] = s["rank_lower"]
    out["rank_upper"] = s["rank_upper"]
    # Everything computed from O gives O back (with E, which is shown): withheld with it.
    revealing = ["observed", "estimate", "ci_lower", "ci_upper", "share", "adjusted_share",
                 "adjusted_ci_lower", "adjusted_ci_upper", "z", "shrunken", "shrunken_ci_lower",
                 "shrunken_ci_upper", "rank_lower", "rank_upper"]  # fmt: skip
    for g, (n_ok, r_ok) in shown.items():
        if not n_ok:
            out.loc[g, ["n", "share"]] = np.nan
        if not r_ok:
            out.loc[g, revealing] = np.nan
    if not totals_ok:
        # The expected counts add up to the withheld total; the adjusted shares give the
        # withheld overall share.
        out[["expected", "adjusted_share", "adjusted_ci_lower", "adjusted_ci_upper"]] = np.nan
    # Model outputs to the precision a reader needs (and no more).
    out = out.round({"expected": 2, "estimate": 3, "ci_lower": 3, "ci_upper": 3, "share": 3,
                     "adjusted_share": 3, "adjusted_ci_lower": 3, "adjusted_ci_upper": 3,
                     "lower_95": 3, "upper_95": 3, "lower_998": 3, "upper_998": 3, "z": 2,
                     "shrunken": 3, "shrunken_ci_lower": 3, "shrunken_ci_upper": 3})  # fmt: skip
    return out.reset_index()


def _case_mix_table(
    t: pd.DataFrame, cm: Any, lang: str, note: str, highlight: str | None = None
) -> ReportTable:
    def num(x: float, d: int = 0) -> str:
        return SUPPRESSED if pd.isna(x) else format_number(x, lang, decimals=d)

    def pct(x: float) -> str:
        return SUPPRESSED if pd.isna(x) else format_number(100 * x, lang, decimals=0)

    cells = pd.DataFrame(
        {
            label("sites_col_municipality", lang): [
                f"{g} *" if g == highlight else g for g in t["group"]
            ],
            label("sites_col_n", lang): [num(x) for x in t["n"]],
            label("sites_col_observed", lang): [num(x) for x in t["observed"]],
            label("sites_col_expected", lang): [num(x, 1) for x in t["expected"]],
            label("sites_col_oe", lang): [num(x, 2) for x in t["estimate"]],
            label("sites_col_ci", lang): [
                SUPPRESSED if pd.isna(a) else f"{num(a, 2)}–{num(b, 2)}"
                for a, b in zip(t["ci_lower"], t["ci_upper"], strict=True)
            ],
            label("sites_col_share", lang): [pct(x) for x in t["share"]],
            label("sites_col_adjusted", lang): [pct(x) for x in t["adjusted_share"]],
        }
    )
    notes = [label("report_sites_table_note", lang, covariates=", ".join(cm.covariates))]
    if note:
        notes.append(note)
    if highlight is not None:
        notes.append(label("report_sites_table_highlight", lang, municipality=highlight))
    return ReportTable(
        key="sites_case_mix",
        title=label("report_table_sites", lang),
        table=cells.astype(str),
        footnotes=tuple(notes),
        lang=lang,
    )


def _draw_funnel(
    fun: Any,
    table: pd.DataFrame,
    ax: Any,
    lang: str,
    hidden: tuple[str, ...],
    highlight: str | None,
) -> None:
    """The funnel drawn from the published numbers: each site at its printed E and O/E
    (rounded as the figure data, withheld where they are), the limits as fitted."""
    from evaluation.presentation.graphics.sites import draw_funnel

    d = fun.plot_data()
    if fun.measure == "ratio":  # precision is E, the estimate O/E
        site = d["kind"] == "site"
        t = table.set_index("group")
        d.loc[site, "precision"] = d.loc[site, "group"].map(t["expected"]).to_numpy(float)
        d.loc[site, "estimate"] = d.loc[site, "group"].map(t["estimate"]).to_numpy(float)
    draw_funnel(
        d, ax=ax, target=fun.target, measure=fun.measure, highlight=highlight, lang=lang,
        hidden=hidden,
    )  # fmt: skip


def _draw_shares(
    shares: pd.DataFrame, ax: Any, overall: float | None, lang: str, highlight: str | None
) -> None:
    from evaluation.presentation.graphics.sites import draw_raw_adjusted

    s = shares.dropna(subset=["adjusted_share"])
    long = pd.concat(
        [
            s.assign(kind="raw", estimate=s["share"], ci_lower=np.nan, ci_upper=np.nan),
            s.assign(
                kind="adjusted",
                estimate=s["adjusted_share"],
                ci_lower=s["adjusted_ci_lower"],
                ci_upper=s["adjusted_ci_upper"],
            ),  # fmt: skip
        ],
        ignore_index=True,
    )
    draw_raw_adjusted(long, ax=ax, overall=overall, lang=lang, highlight=highlight)


def _draw_ranks(t: pd.DataFrame, ax: Any, lang: str, highlight: str | None) -> None:
    from evaluation.presentation.graphics.sites import draw_shrinkage

    s = t.dropna(subset=["shrunken"])
    long = pd.concat(
        [
            s.assign(kind="raw", ci_lower=s["ci_lower"], ci_upper=s["ci_upper"]),
            s.assign(
                kind="shrunken",
                estimate=s["shrunken"],
                ci_lower=s["shrunken_ci_lower"],
                ci_upper=s["shrunken_ci_upper"],
            ),  # fmt: skip
            s.assign(
                kind="rank", estimate=np.nan, ci_lower=s["rank_lower"], ci_upper=s["rank_upper"]
            ),  # fmt: skip
        ],
        ignore_index=True,
    )
    draw_shrinkage(
        long[["group", "kind", "estimate", "ci_lower", "ci_upper"]],
        ax=ax,
        lang=lang,
        highlight=highlight,
    )


def _effects(
    report: ReportBuilder,
    section: dict[str, Any],
    cohorts: Any,
    everyone: Any,
    places: list[str],
    highlight: str | None,
) -> None:
    """The programme's effect per municipality and its meta-analysis (forest plot).

    Participants per municipality are the design section's cells where that section
    counted the same rows (every municipality in the report of all; the report's own
    municipality in a municipality's report), so that one count has one decision;
    the other municipalities of a municipality's report are counted in ``sites_effect``.
    """
    from evaluation._errors import EvaluationWarning
    from evaluation.effects import comparison_cohort
    from evaluation.sites import effect_by_site

    lang = report.lang
    try:
        design = comparison_cohort(
            everyone if everyone is not None else cohorts.registers, rng=REPORT_SEED
        )
        data = design.data[design.data["municipality"].astype(str).isin(places)]
        with warnings.catch_warnings():
            # Per-municipality propensity models on few persons may not converge; the
            # estimates are kept, and the caption says the intervals are rough.
            warnings.simplefilter("ignore", EvaluationWarning)
            eff = effect_by_site(data, n_boot=SITE_BOOTSTRAP, rng=REPORT_SEED)
    except EstimationError as err:
        report.text(section, label("report_not_estimable", lang, reason=str(err)))
        return
    ledger = report.ledger
    file = "figures/sites_effect_forest.data.csv"
    meta = eff.meta["risk_difference_1y"]
    studies = meta.plot_data()
    treated = data.loc[data["treated"].astype(int) == 1, "municipality"].astype(str)
    batch: list[Publication] = []
    keys: list[tuple[str, str]] = []
    wrong: list[int] = []
    for g in studies.loc[studies["kind"] == "study", "label"]:
        where = [("municipality", "==", g), ("treated", "==", 1)]
        if "design" in ledger.universes and (everyone is None or g == highlight):
            # The design section's own cell of these participants (the same key and rows).
            c = ledger.cell(f"design/{g}/n1", "design", where)
            if ledger.value(c.key) != int((treated == g).sum()):
                wrong.append(len(batch))  # not the same rows after all: withheld
        else:
            if "sites_effect" not in ledger.universes:
                for name, frame in sites_universes(design).items():
                    ledger.add_universe(name, frame)
            c = ledger.cell(f"sites_effect/{g}/treated", "sites_effect", where)
        batch.append(
            Publication(c.key, "exact", file=file, location={"label": g, "column": "n_treated"})
        )
        keys.append((g, c.key))
    decided = ledger.protect(batch, hide=wrong)
    hidden = tuple(g for (g, _), ok in zip(keys, decided, strict=True) if not ok)
    n_treated = {g: float(ledger.value(k)) for (g, k), ok in zip(keys, decided, strict=True) if ok}
    studies["n_treated"] = studies["label"].map(n_treated)
    studies["highlight"] = studies["label"] == highlight
    cols = ["estimate", "se", "ci_lower", "ci_upper", "weight"]
    studies.loc[studies["label"].isin(hidden), cols] = np.nan
    studies[cols] = studies[cols].round(4)
    left_out = eff.table[(eff.table["measure"] == "risk_difference_1y") & ~eff.table["included"]]
    note = ""
    if hidden:
        note = label("report_sites_effect_hidden", lang, min_cell=report.min_cell)
    if len(left_out):
        note = " ".join(
            [note, label("report_sites_left_out", lang, places=", ".join(left_out["group"]))]
        ).strip()

    def pct(x: float) -> str:
        return format_number(100 * x, lang, decimals=1)

    caption = label(
        "report_fig_sites_forest", lang, pooled=pct(meta.estimate), lo=pct(meta.ci_lower),
        hi=pct(meta.ci_upper), pi_lo=pct(meta.pi_lower), pi_hi=pct(meta.pi_upper),
        i2=format_number(100 * meta.i2, lang, decimals=0),
        q_p=format_number(meta.q_p, lang, decimals=2),
    )  # fmt: skip
    report.figure(
        section,
        lambda axes: meta.plot(ax=axes[0], lang=lang, hidden=hidden, highlight=highlight),
        key="sites_effect_forest",
        caption=f"{caption.rstrip('.')}. {note}" if note else caption,
        data=studies[["label", "kind", "highlight", "n_treated", *cols]],
        aspect=0.75,
    )
