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

from evaluation._errors import DisclosureError, EstimationError
from evaluation.presentation.curves import MONTH, rounded_curve
from evaluation.presentation.formatting import format_percent
from evaluation.presentation.labels import label
from evaluation.presentation.ledger import Publication
from evaluation.presentation.tables import ReportTable, model_table
from evaluation.report.build import ReportBuilder, count_text

#: Seed of the report's random steps (comparison sampling, bootstrap): same data, same report.
REPORT_SEED = 20151
#: Bootstrap replicates of the adjusted curves and effect intervals in the report.
REPORT_BOOTSTRAP = 200
COX_FORMULA = "C(group) + C(sex) + age + prior_decisions_5y"
RETENTION_MONTHS = (3, 6, 12, 24)
#: Fewest participants for an effect estimate (the UK Justice Data Lab's rule).
MIN_PARTICIPANTS = 60
RETENTION_MEASURES = ("still_in", "completed", "dropped_out", "moved", "died")


#: The protected curves of the report: each follows the units of a universe (see
#: report.curves); ``grid`` names the grid columns shared by curves of the same exits.
CURVES: dict[str, dict[str, Any]] = {
    "relapse": {
        "universe": "entries:all",
        "duration": "duration_days",
        "event": "relapse",
        "group": "group",
        "last_step": 60,
    },
    "retention": {
        "universe": "episodes",
        "duration": "duration_days",
        "event": "event",
        "group": None,
        "last_step": 24,
    },
}


def curve_inputs(cohorts: Any) -> dict[str, pd.DataFrame]:
    """The rows each protected curve follows, in the order of its universe's units."""
    from evaluation.report._sections import retention_episodes

    data = cohorts.everyone.data
    return {
        "relapse": data.assign(relapse=(data["event"] == 1).astype("int64")),
        "retention": retention_episodes(cohorts.registers),
    }


def _curve(report: ReportBuilder, cohorts: Any, which: str, **kwargs: Any) -> Any:
    """The rounded curve ``which`` (a key of :data:`CURVES`) with ``kwargs`` overriding.

    A curve by another grouping than the spec's is named ``<which>_by_<group>``.
    """
    spec = {k: v for k, v in CURVES[which].items() if k != "universe"} | kwargs
    name = which if spec["group"] == CURVES[which]["group"] else f"{which}_by_{spec['group']}"
    return rounded_curve(
        report.ledger,
        CURVES[which]["universe"],
        curve_inputs(cohorts)[which],
        name=name,
        **spec,
    )


def shown_municipalities(episodes: pd.DataFrame, min_cell: int) -> list[str]:
    """Municipalities with enough episodes for a panel of their own (at least 20)."""
    counts = episodes["municipality"].astype(str).value_counts()
    return sorted(counts.index[counts >= max(min_cell, 20)])


def _not_estimable(report: ReportBuilder, section: dict[str, Any], err: Exception) -> None:
    if isinstance(err, DisclosureError):
        # The reason names cells, not counts, but the reader needs words, not keys.
        report.text(section, label("report_withheld", report.lang, min_cell=report.min_cell))
        return
    report.text(section, label("report_not_estimable", report.lang, reason=str(err)))


# -- relapse curves and the Cox model ------------------------------------------------------


def curves_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.survival import cox, fine_gray, forest_plot, kaplan_meier

    lang, m = report.lang, report.min_cell
    section = report.section("curves", label("report_section_curves", lang))
    report.text(section, label("report_curves_text", lang))
    from evaluation.report._sections import value_label

    data = cohorts.everyone.data
    names = {g: value_label(g, lang) for g in data["group"].unique()}
    try:
        curve = _curve(report, cohorts, "relapse", file="figures/relapse_curves_by_group.data.csv")
        pseudo = curve.pseudo.assign(group=[names.get(g, g) for g in curve.pseudo["group"]])
        km = kaplan_meier(pseudo, duration="duration", event="event", by="group")
    except (EstimationError, DisclosureError) as err:
        _not_estimable(report, section, err)
    else:
        report.figure(
            section,
            lambda axes: km.plot(
                ax=axes[0],
                kind="incidence",
                time_unit="years",
                risk_table=True,
                censor_marks=False,
                min_cell=m,
                lang=lang,
                xticks=[0, 1, 2, 3, 4, 5],
            ),
            key="relapse_curves_by_group",
            caption=_with_note(label("report_fig_curves", lang), _rounding_note(lang, m)),
            data=_curve_data(curve, km, names, kind="survival"),
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


def _rounding_note(lang: str, min_cell: int) -> str:
    return label("report_curve_rounding", lang, min_cell=min_cell)


def _with_note(caption: str, note: str) -> str:
    """A caption followed by its disclosure note, as two sentences."""
    return f"{caption.rstrip('.')}. {note}"


def _curve_data(curve: Any, fit: Any, names: Mapping[Any, str], *, kind: str) -> pd.DataFrame:
    """The numbers behind a protected curve figure, one row per group and grid point.

    ``n`` (the group's size), the rounded cumulative counts ``cum_<code>`` (``cum_0`` the
    censorings) and the estimates recomputed from them: ``estimate``, ``ci_lower``,
    ``ci_upper`` (survival for Kaplan–Meier; per cause ``cif_<code>`` for cumulative
    incidence) and ``n_at_risk``; nothing here goes beyond the rounded counts.
    """
    counts = curve.counts.copy()
    counts["group"] = [names.get(g, g) for g in counts["group"]]
    grid = counts["time"].unique()
    at = fit.at(grid)
    if kind == "survival":
        est = at[["group", "time", "n_at_risk", "estimate", "ci_lower", "ci_upper"]]
    else:
        free = at[at["cause"] == 0][["group", "time", "n_at_risk"]]
        est = free
        for cause in sorted(c for c in at["cause"].unique() if c != 0):
            part = at[at["cause"] == cause][["group", "time", "estimate"]]
            est = est.merge(part.rename(columns={"estimate": f"cif_{cause}"}), on=["group", "time"])
    est = est.assign(group=est["group"].astype(str))
    out = counts.merge(est, on=["group", "time"], how="left")
    # The number at risk is derived from the rounded counts; small ones are shown as the
    # figure's risk table shows them (withheld), so no file prints a count below min_cell.
    at_risk = out["n_at_risk"].astype("float64")
    out["n_at_risk"] = at_risk.mask((at_risk > 0) & (at_risk < curve.base))
    num = out.select_dtypes("float").columns
    out[num] = out[num].round(4)
    return out


# -- retention ----------------------------------------------------------------------------


def retention_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.cohorts import retention_cohort
    from evaluation.survival import cumulative_incidence

    lang, m = report.lang, report.min_cell
    section = report.section("retention", label("report_section_retention", lang))
    report.text(section, label("report_retention_text", lang))
    episodes = retention_cohort(cohorts.registers).data
    try:
        curve = _curve(report, cohorts, "retention", file="figures/retention_stacked.data.csv")
        overall = cumulative_incidence(curve.pseudo, duration="duration", event="event")
    except (EstimationError, DisclosureError) as err:
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
        caption=_with_note(label("report_fig_retention", lang), _rounding_note(lang, m)),
        data=_curve_data(curve, overall, {}, kind="incidence"),
        aspect=0.75,
    )
    report.table(section, _retention_table(overall, episodes, truth, lang=lang, min_cell=m))
    _retention_by_municipality(report, section, episodes, cohorts)


def _retention_by_municipality(
    report: ReportBuilder, section: dict[str, Any], episodes: pd.DataFrame, cohorts: Any
) -> None:
    """Small multiples: stacked cumulative incidence per municipality with enough episodes."""
    from evaluation.presentation.graphics.competing import plot_cif_panels
    from evaluation.report._publish import protect_counts
    from evaluation.report._sections import value_label
    from evaluation.survival import cumulative_incidence

    lang, m = report.lang, report.min_cell
    counts = episodes["municipality"].astype(str).value_counts()
    shown = shown_municipalities(episodes, m)
    hidden = sorted(set(counts.index) - set(shown))
    if len(shown) < 2:
        return
    published = protect_counts(
        report.ledger,
        [(f"episodes/municipality={g}", "episodes", [("municipality", "==", g)]) for g in shown],
        file="figures/retention_by_municipality.data.csv",
    )
    try:
        curve = _curve(
            report,
            cohorts,
            "retention",
            group="municipality",
            groups=shown,
            file="figures/retention_by_municipality.data.csv",
        )
        by = cumulative_incidence(curve.pseudo, duration="duration", event="event", by="group")
    except (EstimationError, DisclosureError) as err:
        _not_estimable(report, section, err)
        return
    nrows = int(np.ceil(len(shown) / 2))

    def draw(axes: list[Any]) -> None:
        plot_cif_panels(
            by,
            axes[0].figure,
            groups=shown,
            titles=[value_label(name, lang) for name in shown],
            ncols=2,
            min_cell=m,
            lang=lang,
            cause_labels="retention",
            time_unit="months",
            xticks=[0, 6, 12, 18, 24],
        )

    report.figure(
        section,
        draw,
        key="retention_by_municipality",
        caption=_with_note(
            label("report_fig_retention_municipality", lang, min_n=max(m, 20)),
            _rounding_note(lang, m),
        ),
        data=_curve_data(curve, by, {}, kind="incidence")
        .assign(
            n_episodes=lambda d: d["group"].map(lambda g: published[f"episodes/municipality={g}"])
        )
        .rename(columns={"group": "municipality"}),
        aspect=0.34 * nrows,
        width="a4",
    )
    if hidden:
        report.text(section, label("report_retention_hidden", lang, names=", ".join(hidden)))


def _retention_table(
    overall: Any,
    episodes: pd.DataFrame,
    truth: Mapping[str, Any] | None,
    *,
    lang: str,
    min_cell: int,
) -> ReportTable:
    """Share of episodes in each state at 3, 6, 12, 24 months, from the protected curve.

    The shares are read off the curve recomputed from rounded counts (the figure's), so they
    publish nothing beyond those counts: a state reached by one to ``min_cell - 1``
    episodes shows as a share of a rounded count, never of the exact one.
    """
    codes = {"completed": 1, "dropped_out": 2, "moved": 3, "died": 4}
    grid = np.array(RETENTION_MONTHS) * MONTH
    at = overall.at(grid)
    rows = {}
    for name in RETENTION_MEASURES:
        cause = 0 if name == "still_in" else codes[name]
        part = at[at["cause"] == cause].sort_values("time")
        values = part["estimate"].to_numpy() if len(part) else np.zeros(len(grid))
        rows[name] = list(values)
    headers = [label("report_months", lang, months=mo) for mo in RETENTION_MONTHS]
    table = pd.DataFrame(rows, index=headers).T
    shown = table.map(lambda v: format_percent(v, lang))
    if truth is not None and "retention" in truth:
        r = truth["retention"]
        for mo, header in zip(RETENTION_MONTHS, headers, strict=True):
            shown[f"{header} ({label('truth', lang).lower()})"] = [
                format_percent(r[n][str(mo)], lang) if n in r and str(mo) in r[n] else "–"
                for n in RETENTION_MEASURES
            ]
    shown.insert(0, label("report_state", lang), [label(n, lang) for n in RETENTION_MEASURES])
    return ReportTable(
        key="retention_shares",
        title=label("report_tab_retention", lang),
        table=shown.reset_index(drop=True),
        footnotes=(label("report_footnote_retention_rounded", lang, min_cell=min_cell),),
        lang=lang,
    )


# -- programme effect -----------------------------------------------------------------------


def effect_section(report: ReportBuilder, cohorts: Any, truth: Mapping[str, Any] | None) -> None:
    from evaluation.effects import comparison_cohort, estimate_programme_effect
    from evaluation.presentation.graphics.effects import (
        balance_data,
        curves_plot,
        love_plot,
        overlap_plot,
    )
    from evaluation.report._publish import protect_counts

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
    ledger = report.ledger
    for name, frame in effect_universes(design, effect).items():
        ledger.add_universe(name, frame)
    counts = protect_counts(
        ledger,
        [
            ("effect/treated", "effect", [("treated", "==", 1)]),
            ("effect_persons/all", "effect_persons", []),
        ],
        file="report.html",
    )
    report.text(
        section,
        label(
            "report_effect_n",
            lang,
            n_treated=count_text(counts["effect/treated"], lang, m),
            n=count_text(counts["effect_persons/all"], lang, m),
        ),
    )
    balance_table = _protected_balance(ledger, effect.balance.table)
    report.figure(
        section,
        lambda axes: love_plot(
            balance_data(balance_table), ax=axes[0], threshold=effect.balance.threshold
        ),
        key="balance_love",
        caption=_with_note(label("report_fig_balance", lang), label("report_balance_note", lang)),
        data=balance_table,
        aspect=0.7,
    )
    overlap = _overlap_data(ledger, effect.balance.scores_source, lang=lang)
    report.figure(
        section,
        lambda axes: overlap_plot(overlap, ax=axes[0]),
        key="propensity_overlap",
        caption=_with_note(
            label("report_fig_overlap", lang), label("report_overlap_note", lang, min_cell=m)
        ),
        data=overlap,
        aspect=0.5,
    )
    curves = _coarse_curves(effect.plot_data(), design.data, m)
    report.figure(
        section,
        lambda axes: curves_plot(
            curves.assign(
                group=curves["group"].map(
                    {"participant": "participants", "comparison": "comparisons"}
                )
            ),
            ax=axes[0],
            what="share_relapsed",
        ),
        key="adjusted_curves",
        caption=_with_note(
            label("report_fig_adjusted", lang), label("report_curve_coarse", lang, min_cell=m)
        ),
        data=curves,
        aspect=0.62,
    )
    report.table(section, _effect_table(effect.summary(), truth, lang=lang))
    report.text(section, effect.sentence(lang))
    _quality(report, effect)


#: Bins of the overlap figure (equal bins on [0, 1]).
OVERLAP_BINS = 40


def effect_universes(design: Any, effect: Any) -> dict[str, pd.DataFrame]:
    """The effect section's units: the design's rows, and its distinct persons."""
    return {
        "effect": _effect_universe(design.data, effect),
        "effect_persons": pd.DataFrame(index=range(int(design.data["person_id"].nunique()))),
    }


def _binary_masks(data: pd.DataFrame, covariates: list[str]) -> dict[str, np.ndarray]:
    """The covariates of the balance table that are shares: ``col=level`` or a 0/1 column."""
    out = {}
    for name in covariates:
        col, sep, level = name.partition("=")
        if sep and col in data.columns:
            out[name] = (data[col].astype(str) == level).to_numpy()
        elif name in data.columns:
            values = pd.to_numeric(data[name], errors="coerce")
            if values.dropna().isin([0, 1]).all():
                out[name] = (values == 1).to_numpy()
    return out


def _effect_universe(data: pd.DataFrame, effect: Any) -> pd.DataFrame:
    """The effect design's rows: treatment, binary covariates, propensity-score bin."""
    frame = pd.DataFrame({"treated": data["treated"].astype(int).to_numpy()})
    for k, (name, mask) in enumerate(
        _binary_masks(data, effect.balance.table["covariate"].tolist()).items()
    ):
        frame[f"cov{k}"] = mask
        frame.attrs.setdefault("covariates", {})[name] = f"cov{k}"
    source = effect.balance.scores_source
    if source is not None and len(source.scores) == len(data):
        edges = np.linspace(0.0, 1.0, OVERLAP_BINS + 1)
        frame["score_bin"] = np.clip(
            np.searchsorted(edges, source.scores.to_numpy(), side="right") - 1, 0, OVERLAP_BINS - 1
        )
    return frame


def _protected_balance(ledger: Any, table: pd.DataFrame) -> pd.DataFrame:
    """The balance table as published: shares of binary covariates protected as counts.

    A binary covariate's mean in a group is a count over the group's size, so it is
    published as a whole per cent through the ledger (with its complement protected);
    where either group's share is withheld, so are the adjusted mean, the SMDs and the
    variance ratios, which would give it back. Other means are rounded to two decimals.
    """
    universe = ledger.universes["effect"]
    names = universe.attrs.get("covariates", {})
    out = table.copy()
    batch: list[Publication] = []
    where_pub: dict[str, list[int]] = {}
    for name, col in names.items():
        where_pub[name] = []
        for g, tag in ((1, "participants"), (0, "comparisons")):
            den = ledger.cell(f"effect/treated={g}", "effect", [("treated", "==", g)])
            num = ledger.cell(
                f"effect/treated={g}/{col}", "effect", [("treated", "==", g), (col, "==", True)]
            )
            rest = ledger.cell(
                f"effect/treated={g}/not_{col}",
                "effect",
                [("treated", "==", g), (col, "==", False)],
            )
            where_pub[name].append(len(batch))
            batch.append(
                Publication(
                    num.key,
                    "share",
                    file="figures/balance_love.data.csv",
                    location={"covariate": name, "column": f"mean_{tag}"},
                    denominator=den.key,
                    decimals=2,
                )
            )
            batch.append(Publication(rest.key, "hidden"))
    shown = ledger.protect(batch) if batch else []
    numeric = [c for c in out.columns if c != "covariate"]
    out[numeric] = out[numeric].astype("float64").round(2) + 0.0  # no "-0.0"
    for i, name in enumerate(out["covariate"]):
        if name not in where_pub:
            continue
        k1, k0 = where_pub[name]
        if shown[k1] and shown[k0]:
            out.loc[i, "mean_participants"] = round(float(table.loc[i, "mean_participants"]), 2)
            out.loc[i, "mean_comparisons"] = round(float(table.loc[i, "mean_comparisons"]), 2)
        else:
            for c in numeric:
                out.loc[i, c] = np.nan
    return out


def _overlap_data(ledger: Any, source: Any, *, lang: str) -> pd.DataFrame:
    """The numbers behind the overlap figure: persons per score bin and group, protected.

    Counts go through the ledger (each group's bins add up to its size, stated in the text);
    the density drawn is the count over the group's size and the bin width, so it is shown
    only where its count is.
    """
    from evaluation.report._publish import protect_counts

    universe = ledger.universes["effect"]
    edges = np.linspace(0.0, 1.0, OVERLAP_BINS + 1)
    parts = []
    if "score_bin" not in universe.columns or source is None:
        return pd.DataFrame(columns=["group", "bin_lower", "bin_upper", "n", "n_group", "density"])
    for g, name in ((1, "participants"), (0, "comparisons")):
        cells = [
            (
                f"effect/treated={g}/bin={b}",
                "effect",
                [("treated", "==", g), ("score_bin", "==", b)],
            )
            for b in range(OVERLAP_BINS)
        ]
        total = (f"effect/treated={g}", "effect", [("treated", "==", g)])
        published = protect_counts(
            ledger, [total, *cells], file="figures/propensity_overlap.data.csv"
        )
        size = float(ledger.value(total[0]))
        n = np.array([published[c[0]] for c in cells])
        parts.append(
            pd.DataFrame(
                {
                    "group": label(name, lang),
                    "bin_lower": edges[:-1].round(3),
                    "bin_upper": edges[1:].round(3),
                    "n": n,
                    "n_group": published[total[0]],
                    "density": (n / (size * np.diff(edges))).round(3) if size else np.nan,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _coarse_curves(curves: pd.DataFrame, data: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The adjusted curves as published: monthly, and stepping only after ``min_cell`` events.

    Weighted curves are not counts, but their steps follow persons: each curve (group) is
    read on a monthly grid and held at its last published value until at least
    ``min_cell`` persons of the group have had a relapse since then, so no step stands
    for fewer persons; estimates and bands are rounded to two decimals; no number at risk
    is published. Only the intention-to-treat curves are drawn.
    """
    c = curves[curves["analysis"] == "itt"]
    out = []
    grid = np.arange(0, int(c["time"].max()) + 1, MONTH)
    for g, part in c.groupby("group", sort=False):
        treated = 1 if g == "participant" else 0
        rows = data[data["treated"].astype(int) == treated]
        ev_days = np.sort(rows.loc[rows["event"] == 1, "duration_days"].to_numpy(dtype=float))
        part = part.sort_values("time")
        times = part["time"].to_numpy(dtype=float)
        last = {"estimate": 0.0, "ci_lower": 0.0, "ci_upper": 0.0}
        last_events = 0
        for t in grid:
            events = int(np.searchsorted(ev_days, t, side="right"))
            if events - last_events >= min_cell:
                k = int(np.searchsorted(times, t, side="right")) - 1
                if k >= 0:
                    last = {col: float(part[col].iloc[k]) for col in last}
                    last_events = events
            out.append({"analysis": "itt", "group": g, "time": float(t)} | last)
    frame = pd.DataFrame(out)
    for col in ("estimate", "ci_lower", "ci_upper"):
        frame[col] = frame[col].round(2)
    return frame


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
    # The estimand: the participants the comparison design follows (truth.json's eligible
    # block; older truth files have only the block over every participant).
    effect_truth = effect_truth.get("eligible", effect_truth)

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
    from evaluation.presentation.labels import has_label

    return has_label(key)


__all__ = ["curves_section", "effect_section", "retention_section"]
