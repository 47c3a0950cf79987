"""Report sections built on the estimators: relapse curves and Cox, retention, programme effect.

Where a municipality's data are too few for a model, the estimator raises
:class:`~evaluation.EstimationError`; the section then says so in plain words (with the
estimator's reason) instead of showing numbers, so that nothing is left out silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation.report.build import ReportBuilder, count_text
from evaluation.report.disclosure import SUPPRESSED
from evaluation.report.formatting import format_percent
from evaluation.report.labels import label
from evaluation.report.tables import ReportTable, model_table

#: Seed of the report's random steps (comparison sampling, bootstrap): same data, same report.
REPORT_SEED = 20151
#: Bootstrap replicates of the adjusted curves and effect intervals in the report.
REPORT_BOOTSTRAP = 200
COX_FORMULA = "C(group) + C(sex) + age + prior_decisions_5y"
RETENTION_MONTHS = (3, 6, 12, 24)
#: Fewest participants for an effect estimate (the UK Justice Data Lab's rule).
MIN_PARTICIPANTS = 60
RETENTION_MEASURES = ("still_in", "completed", "dropped_out", "moved", "died")


def _not_estimable(report: ReportBuilder, section: dict[str, Any], err: Exception) -> None:
    report.text(section, label("report_not_estimable", report.lang, reason=str(err)))


# -- relapse curves and the Cox model ------------------------------------------------------


def curves_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.survival import cox, fine_gray, forest_plot, kaplan_meier

    lang, m = report.lang, report.min_cell
    section = report.section("curves", label("report_section_curves", lang))
    report.text(section, label("report_curves_text", lang))
    from evaluation.report._sections import value_label

    data = cohorts.everyone.data
    shown = data.assign(group=[value_label(g, lang) for g in data["group"]])
    try:
        km = kaplan_meier(shown, duration="duration_days", event="event", by="group")
    except EstimationError as err:
        _not_estimable(report, section, err)
        return
    report.figure(
        section,
        lambda axes: km.plot(
            ax=axes[0],
            kind="incidence",
            time_unit="years",
            risk_table=True,
            min_cell=m,
            lang=lang,
            xticks=[0, 1, 2, 3, 4, 5],
        ),
        key="relapse_curves_by_group",
        caption=label("report_fig_curves", lang),
        data=_masked_risk(km.risk_table(np.arange(0, 6) * 365.25), m),
        aspect=0.75,
    )
    try:
        model = cox(data, COX_FORMULA, duration="duration_days", event="event", cluster="person_id")
    except EstimationError as err:
        _not_estimable(report, section, err)
        return
    summary = model.summary()
    report.figure(
        section,
        lambda axes: forest_plot(model, ax=axes[0], lang=lang),
        key="cox_forest",
        caption=label("report_fig_forest", lang),
        data=summary,
        aspect=0.45,
    )
    report.table(
        section,
        model_table(
            summary,
            key="cox_model",
            title=label("report_tab_cox", lang),
            lang=lang,
            footnotes=(label("report_footnote_cox", lang),),
        ),
    )
    try:
        competing = fine_gray(
            data,
            COX_FORMULA,
            duration="duration_days",
            event="event",
            cause=1,
            cluster="person_id",
        )
    except EstimationError as err:
        _not_estimable(report, section, err)
        return
    report.table(
        section,
        model_table(
            competing.summary(),
            key="fine_gray_model",
            title=label("report_tab_fine_gray", lang),
            lang=lang,
            footnotes=(label("report_footnote_fine_gray", lang),),
        ),
    )


def _masked_risk(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """An at-risk table with counts below ``min_cell`` removed (NaN), for the figure's CSV."""
    out = table.copy()
    for col in ("n_at_risk", "n_events", "n_censored"):
        if col in out.columns:
            values = out[col].astype("float64")
            out[col] = values.mask((values >= 1) & (values < min_cell))
    return out


# -- retention ----------------------------------------------------------------------------


def retention_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.cohorts import retention_cohort, retention_measures
    from evaluation.survival import cumulative_incidence

    lang, m = report.lang, report.min_cell
    section = report.section("retention", label("report_section_retention", lang))
    report.text(section, label("report_retention_text", lang))
    episodes = retention_cohort(cohorts.registers).data
    try:
        overall = cumulative_incidence(episodes, duration="duration_days", event="event")
        measures = retention_measures(
            retention_cohort(cohorts.registers), months=RETENTION_MONTHS
        ).summary()
    except EstimationError as err:
        _not_estimable(report, section, err)
        return
    report.figure(
        section,
        lambda axes: overall.plot(
            ax=axes[0],
            kind="stacked",
            risk_table=True,
            min_cell=m,
            lang=lang,
            cause_labels="retention",
            time_unit="months",
            xticks=[0, 3, 6, 12, 18, 24],
        ),
        key="retention_stacked",
        caption=label("report_fig_retention", lang),
        data=_masked_risk(overall.risk_table(np.array([0, 3, 6, 12, 18, 24]) * 30.4375), m),
        aspect=0.75,
    )
    report.table(section, _retention_table(episodes, measures, truth, lang=lang, min_cell=m))
    _retention_by_municipality(report, section, episodes)


def _retention_by_municipality(
    report: ReportBuilder, section: dict[str, Any], episodes: pd.DataFrame
) -> None:
    """Small multiples: stacked cumulative incidence per municipality with enough episodes."""
    from evaluation.report._sections import value_label
    from evaluation.survival import cumulative_incidence

    lang, m = report.lang, report.min_cell
    counts = episodes["municipality"].value_counts()
    shown = sorted(counts.index[counts >= max(m, 20)])
    hidden = sorted(set(counts.index) - set(shown))
    if len(shown) < 2:
        return
    by = cumulative_incidence(
        episodes[episodes["municipality"].isin(shown)],
        duration="duration_days",
        event="event",
        by="municipality",
    )
    ncols = 2
    nrows = int(np.ceil(len(shown) / ncols))

    def draw(axes: list[Any]) -> None:
        fig = axes[0].figure
        fig.clear()
        grid = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        for k, ax in enumerate(grid.ravel()):
            if k >= len(shown):
                ax.set_axis_off()
                continue
            name = shown[k]
            by.plot(
                ax=ax,
                kind="stacked",
                group=name,
                risk_table=False,
                min_cell=m,
                lang=lang,
                cause_labels="retention",
                time_unit="months",
                xticks=[0, 6, 12, 18, 24],
            )
            ax.set_title(value_label(name, lang), fontsize=8)
            if k > 0 and ax.get_legend() is not None:
                ax.get_legend().remove()

    report.figure(
        section,
        draw,
        key="retention_by_municipality",
        caption=label("report_fig_retention_municipality", lang, min_n=max(m, 20)),
        data=pd.DataFrame({"municipality": shown, "n_episodes": counts[shown].to_numpy()}),
        aspect=0.34 * nrows,
        width="a4",
    )
    if hidden:
        report.text(section, label("report_retention_hidden", lang, names=", ".join(hidden)))


def _retention_table(
    episodes: pd.DataFrame,
    measures: pd.DataFrame,
    truth: Mapping[str, Any] | None,
    *,
    lang: str,
    min_cell: int,
) -> ReportTable:
    """Share of episodes in each state at 3, 6, 12, 24 months; shares of small counts hidden.

    A share is hidden when the number of episodes that ended that way by that time is in
    ``1 .. min_cell - 1`` (the share times the number of episodes would give it back).
    """
    codes = {"completed": 1, "dropped_out": 2, "moved": 3, "died": 4}
    rows, hide = {}, {}
    for name in RETENTION_MEASURES:
        values, masked = [], []
        for months in RETENTION_MONTHS:
            row = measures[(measures["measure"] == name) & (measures["months"] == months)]
            values.append(float(row["estimate"].iloc[0]) if len(row) else np.nan)
            if name in codes:
                ended = (episodes["event"] == codes[name]) & (
                    episodes["duration_days"] <= months * 30.4375
                )
                masked.append(0 < int(ended.sum()) < min_cell)
            else:
                masked.append(False)
        rows[name], hide[name] = values, masked
    headers = [label("report_months", lang, months=mo) for mo in RETENTION_MONTHS]
    table = pd.DataFrame(rows, index=headers).T
    shown = table.map(lambda v: format_percent(v, lang))
    shown = shown.mask(pd.DataFrame(hide, index=headers).T, SUPPRESSED)
    if truth is not None and "retention" in truth:
        r = truth["retention"]
        for mo, header in zip(RETENTION_MONTHS, headers, strict=True):
            shown[f"{header} ({label('truth', lang).lower()})"] = [
                format_percent(r[n][str(mo)], lang) if n in r and str(mo) in r[n] else "–"
                for n in RETENTION_MEASURES
            ]
    n_episodes = len(episodes)
    shown.insert(0, label("report_state", lang), [label(n, lang) for n in RETENTION_MEASURES])
    return ReportTable(
        key="retention_shares",
        title=label("report_tab_retention", lang),
        table=shown.reset_index(drop=True),
        footnotes=(
            label("report_footnote_retention", lang, n=count_text(n_episodes, lang, min_cell)),
            label("report_footnote_retention_hidden", lang, min_cell=min_cell),
        ),
        lang=lang,
    )


# -- programme effect -----------------------------------------------------------------------


def effect_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.effects import comparison_cohort, estimate_programme_effect

    lang, m = report.lang, report.min_cell
    section = report.section("effect", label("report_section_effect", lang))
    report.text(section, label("report_effect_text", lang))
    if cohorts.programme.n_persons < MIN_PARTICIPANTS:
        # As the UK Justice Data Lab: no effect estimate from fewer than 60 participants.
        report.text(section, label("report_effect_too_few", lang, min_n=MIN_PARTICIPANTS))
        _quality(report, None)
        return
    try:
        design = comparison_cohort(cohorts.registers, rng=REPORT_SEED)
        effect = estimate_programme_effect(design, n_boot=REPORT_BOOTSTRAP, rng=REPORT_SEED)
    except EstimationError as err:
        _not_estimable(report, section, err)
        _quality(report, None)
        return
    n_treated = count_text(effect.n_treated, lang, m)
    report.text(
        section,
        label(
            "report_effect_n", lang, n_treated=n_treated, n=count_text(effect.n_persons, lang, m)
        ),
    )
    report.figure(
        section,
        lambda axes: effect.plot_balance(ax=axes[0]),
        key="balance_love",
        caption=label("report_fig_balance", lang),
        data=effect.balance.summary(),
        aspect=0.7,
    )
    report.figure(
        section,
        lambda axes: effect.plot_overlap(ax=axes[0], min_cell=m),
        key="propensity_overlap",
        caption=label("report_fig_overlap", lang),
        data=_overlap_data(effect.balance.scores_source, m, lang=lang),
        aspect=0.5,
    )
    curves = effect.plot_data()
    if "n_at_risk" in curves.columns:
        curves = _masked_risk(curves, m)
    report.figure(
        section,
        lambda axes: effect.plot(ax=axes[0]),
        key="adjusted_curves",
        caption=label("report_fig_adjusted", lang),
        data=curves,
        aspect=0.62,
    )
    report.table(section, _effect_table(effect.summary(), truth, lang=lang))
    report.text(section, effect.sentence(lang))
    _quality(report, effect)


def _overlap_data(source: Any, min_cell: int, *, lang: str, bins: int = 40) -> pd.DataFrame:
    """The numbers behind the overlap figure: persons per score bin and group, suppressed.

    ``source`` is the propensity result (or matching result) whose ``plot_overlap`` draws the
    figure; the bins are the figure's (``bins`` equal bins on [0, 1]). The figure draws
    densities; the table gives the persons in each bin (``n``) and the density drawn. Person
    counts below ``min_cell`` are suppressed, with complementary suppression within each
    group (its bins add up to the group's total, which the report states), and a density is
    shown only where its count is.
    """
    from evaluation.effects.propensity import PropensityResult
    from evaluation.report.disclosure import suppress_small_cells

    # The overlap plot of a propensity result is unweighted; a matched one is weighted.
    weighted = not isinstance(source, PropensityResult)
    if weighted:
        frame = pd.DataFrame(
            {
                "score": source.scores,
                "weight": source.weights,
                "group": pd.Series(source.treat, index=source.scores.index).map(
                    {1: "participants", 0: "comparisons"}
                ),
            }
        )
    else:
        frame = source.plot_data()
    scores = frame["score"].to_numpy(dtype="float64")
    inside = scores.min() >= 0 and scores.max() <= 1
    edges = np.linspace(0.0, 1.0, bins + 1) if inside else np.histogram_bin_edges(scores, bins)
    parts = []
    for group in ("participants", "comparisons"):
        rows = frame[frame["group"] == group]
        x = rows["score"].to_numpy(dtype="float64")
        n, _ = np.histogram(x, bins=edges)
        w = rows["weight"].to_numpy(dtype="float64") if weighted else None
        # An empty group has no density (numpy would divide 0 by 0).
        density = (
            np.histogram(x, bins=edges, weights=w, density=True)[0] if len(x) else np.zeros(bins)
        )
        counts = pd.DataFrame({"n": [int(n.sum()), *n.tolist()]}, index=[-1, *range(bins)])
        s = suppress_small_cells(counts, min_cell=min_cell, total_row=-1)
        hidden = s.mask["n"].to_numpy()[1:]
        parts.append(
            pd.DataFrame(
                {
                    "group": label(group, lang),
                    "bin_lower": edges[:-1],
                    "bin_upper": edges[1:],
                    "n": s.table["n"].to_numpy()[1:],
                    "density": np.where(hidden, np.nan, density),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _quality(report: ReportBuilder, effect: Any) -> None:
    """The design-quality statement: the effect design's level, and the descriptive parts."""
    lang = report.lang
    quality = report.section("quality", label("report_section_quality", lang))
    if effect is not None:
        report.text(quality, effect.design_quality[lang])
    report.text(quality, label("report_quality_descriptive", lang))


def _effect_table(
    summary: pd.DataFrame, truth: Mapping[str, Any] | None, *, lang: str
) -> ReportTable:
    keep = (
        [f"risk_difference_{w}y" for w in (1, 2, 3)]
        + [f"risk_ratio_{w}y" for w in (1, 2, 3)]
        + ["rmst_difference_3y", "hazard_ratio"]
    )
    rows = summary[summary["measure"].isin(keep)].copy()
    rows["order"] = rows["measure"].map({k: i for i, k in enumerate(keep)})
    analyses = {"itt": 0, "naive": 1, "per_protocol": 2}
    rows["a"] = rows["analysis"].map(analyses)
    rows = rows.sort_values(["a", "order"]).reset_index(drop=True)
    effect_truth = (truth or {}).get("effect", {})

    def true_value(measure: str, analysis: str) -> float:
        if analysis != "itt" or not effect_truth:
            return np.nan
        if measure.startswith("risk_difference_"):
            return float(effect_truth["risk_difference"][measure[-2]])
        if measure.startswith("risk_ratio_"):
            w = measure[-2]
            return float(effect_truth["risk_with"][w]) / float(effect_truth["risk_without"][w])
        if measure == "rmst_difference_3y":
            return float(effect_truth["rmst_difference_days"])
        if measure == "hazard_ratio":
            return float(effect_truth["hazard_ratio"])
        return np.nan

    rows["truth"] = [
        true_value(ms, a) for ms, a in zip(rows["measure"], rows["analysis"], strict=True)
    ]
    rows["measure"] = [
        label(f"effect_{ms}", lang) if _has(f"effect_{ms}") else ms for ms in rows["measure"]
    ]
    extra = ["estimand", "truth"] if effect_truth else ["estimand"]
    return model_table(
        rows,
        key="programme_effect",
        title=label("report_tab_effect", lang),
        lang=lang,
        value="estimate",
        decimals=3,
        extra=extra,
        footnotes=(label("report_footnote_effect", lang, n_boot=REPORT_BOOTSTRAP),),
    )


def _has(key: str) -> bool:
    from evaluation.report.labels import has_label

    return has_label(key)


__all__ = ["curves_section", "effect_section", "retention_section"]
