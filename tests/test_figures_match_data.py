"""Each figure draws exactly its data, after protection (issue 11).

One report is built (Göteborg and Borås of the default data, PNG only: every figure the
report writes, the effect section and the municipality small multiples among them) with
every figure captured as drawn. Each test reads the artists back — lines, band polygons,
bar heights, marker positions, the texts of the risk tables and flow boxes — and compares
them with the figure's data table (``figures/<key>.data.csv``, the published, protected
numbers): a value the table withholds must not be drawn. The results' own ``plot()`` are
compared with their ``plot_data()`` at the end, among them the municipal comparison's
(funnel, raw against adjusted shares, shrinkage, meta-analysis forest), whose section
this two-municipality report does not draw; that section is drawn in a municipality's
report of the default data (every municipality compared, that one highlighted), built with
its Brå section only.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from evaluation import load_synthetic
from evaluation.presentation.graphics.cohort import milestone_bars
from evaluation.presentation.graphics.effects import balance_data
from evaluation.registers import Registers
from evaluation.report import build_report
from evaluation.report.build import ReportBuilder

MUNICIPALITIES = ("Göteborg", "Borås")
FIGURES = (
    "adjusted_curves",
    "balance_love",
    "cox_forest",
    "design_planning",
    "flow_all",
    "flow_programme",
    "milestones_by_group",
    "propensity_overlap",
    "recurrence_by_group",
    "relapse_3y_by_municipality",
    "relapse_curves_by_group",
    "retention_by_municipality",
    "retention_stacked",
)
YEAR, MONTH = 365.25, 365.25 / 12
#: The data tables round estimates to 4 decimals (curves) or 2-3 (effect figures).
ROUNDED = 5e-5


def _two_municipalities() -> Registers:
    regs = load_synthetic()
    ids = set(regs.persons.loc[regs.persons["municipality"].isin(MUNICIPALITIES), "person_id"])
    tables = {
        name: getattr(regs, name)[getattr(regs, name)["person_id"].isin(ids)].reset_index(drop=True)
        for name in ("persons", "programme", "offences", "custody", "exits")
    }
    return Registers(**tables, study_start=regs.study_start, study_end=regs.study_end)


def _capture_figures(patch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Keep every figure the report draws (key -> matplotlib figure) while ``patch`` lasts."""
    figures: dict[str, Any] = {}
    original = ReportBuilder.figure

    def capture(self: ReportBuilder, section: Any, draw: Any, *, key: str, **kw: Any) -> Any:
        def keep(axes: list[Any]) -> None:
            draw(axes)
            figures[key] = axes[0].figure

        return original(self, section, keep, key=key, **kw)

    patch.setattr(ReportBuilder, "figure", capture)
    return figures


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, pd.DataFrame]]:
    """key -> (the figure as drawn, its data table as written)."""
    out = tmp_path_factory.mktemp("figures_match")
    with pytest.MonkeyPatch.context() as patch:
        figures = _capture_figures(patch)
        # The figures do not depend on the number of bootstrap replicates.
        patch.setattr("evaluation.report._analysis_sections.REPORT_BOOTSTRAP", 20)
        page = build_report(_two_municipalities(), out, lang="en", min_cell=5, formats=("png",))
    return {
        key: (fig, pd.read_csv(page.parent / "figures" / f"{key}.data.csv", encoding="utf-8-sig"))
        for key, fig in figures.items()
    }


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_every_figure_of_the_report_is_checked(drawn):
    assert set(drawn) == set(FIGURES)


# -- helpers -------------------------------------------------------------------------------


def _step_value(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The value of a steps-post line at ``at``."""
    return y[np.searchsorted(x, at, side="right") - 1]


def _on_band(coll: Any, x: np.ndarray, y: np.ndarray, tol: float = ROUNDED) -> bool:
    """The band's step-post polygon passes through (x, y): at the last step at or before
    each x, one of the polygon's vertices has that value."""
    vertices = np.concatenate([p.vertices for p in coll.get_paths()])
    steps = np.unique(vertices[:, 0])
    for xi, yi in zip(x, y, strict=True):
        step = steps[np.searchsorted(steps, xi + 1e-9, side="right") - 1]
        near = np.abs(vertices[:, 0] - step) < 1e-9
        if not (np.abs(vertices[near, 1] - yi) <= tol).any():
            return False
    return True


def _count_text(value: float) -> str:
    return ".." if np.isnan(value) else f"{int(value):,}"


def _risk_rows(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == "risk_table"]


# -- curves ---------------------------------------------------------------------------------


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_relapse_curves_are_one_minus_the_published_survival(drawn):
    fig, data = drawn["relapse_curves_by_group"]
    ax = fig.axes[0]
    groups = list(dict.fromkeys(data["group"]))
    assert [line.get_label() for line in ax.lines] == groups
    for line, band, g in zip(ax.lines, ax.collections, groups, strict=True):
        part = data[data["group"] == g]
        x = part["time"].to_numpy() / YEAR
        got = _step_value(np.asarray(line.get_xdata()), np.asarray(line.get_ydata()), x)
        np.testing.assert_allclose(got, 1 - part["estimate"], atol=ROUNDED)
        assert _on_band(band, x, 1 - part["ci_lower"].to_numpy())
        assert _on_band(band, x, 1 - part["ci_upper"].to_numpy())
    # The risk table: persons at risk, then events since the previous tick, per group, at
    # whole years; a withheld number at risk is "..", as are 1 to 4 events.
    ticks = np.asarray(ax.get_xticks()) * YEAR
    want = []
    for g in groups:
        part = data[data["group"] == g].set_index("time")
        want += [_count_text(v) for v in part["n_at_risk"].reindex(ticks, method="nearest")]
    for g in groups:
        cum = data[data["group"] == g].set_index("time")["cum_1"]
        events = np.diff(cum.reindex(ticks, method="nearest").to_numpy(), prepend=0)
        want += [".." if 0 < e < 5 else f"{int(e):,}" for e in events]
    assert _risk_rows(ax) == want


def _stack_checks(ax: Any, part: pd.DataFrame, scale: float, risk: bool) -> None:
    causes = sorted(int(c.removeprefix("cif_")) for c in part.columns if c.startswith("cif_"))
    upper = np.zeros(len(part))
    x = part["time"].to_numpy() / scale
    for k, (code, area) in enumerate(zip(causes, ax.collections, strict=False)):
        upper = upper + part[f"cif_{code}"].to_numpy()
        # A sum of k + 1 incidences each rounded to 4 decimals.
        assert _on_band(area, x, upper, tol=(k + 1) * ROUNDED), code
    if risk:
        ticks = np.asarray(ax.get_xticks()) * scale
        at = part.set_index("time")["n_at_risk"].reindex(ticks, method="nearest")
        assert _risk_rows(ax) == [_count_text(v) for v in at]


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_retention_areas_stack_the_published_incidences(drawn):
    fig, data = drawn["retention_stacked"]
    _stack_checks(fig.axes[0], data, MONTH, risk=True)


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_retention_small_multiples_draw_each_municipality_s_published_curve(drawn):
    fig, data = drawn["retention_by_municipality"]
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert sorted(ax.get_title() for ax in panels) == sorted(set(data["municipality"]))
    for ax in panels:
        _stack_checks(ax, data[data["municipality"] == ax.get_title()], MONTH, risk=False)


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_adjusted_curves_are_the_published_coarse_curves(drawn):
    fig, data = drawn["adjusted_curves"]
    ax = fig.axes[0]
    for line, band, g in zip(ax.lines, ax.collections, ("participant", "comparison"), strict=True):
        part = data[data["group"] == g]
        x = part["time"].to_numpy() / YEAR
        got = _step_value(np.asarray(line.get_xdata()), np.asarray(line.get_ydata()), x)
        np.testing.assert_allclose(got, part["estimate"], atol=ROUNDED)
        assert _on_band(band, x, part["ci_lower"].to_numpy())
        assert _on_band(band, x, part["ci_upper"].to_numpy())


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_recurrence_curves_are_the_published_expected_offences(drawn):
    fig, data = drawn["recurrence_by_group"]
    ax = fig.axes[0]
    groups = list(dict.fromkeys(data["group"]))
    assert len(ax.lines) == len(ax.collections) == len(groups)
    for line, band, g in zip(ax.lines, ax.collections, groups, strict=True):
        part = data[data["group"] == g]
        x = part["time"].to_numpy() / YEAR
        np.testing.assert_allclose(np.asarray(line.get_xdata(), float), x, atol=1e-9)
        got = _step_value(np.asarray(line.get_xdata()), np.asarray(line.get_ydata()), x)
        # The table is the drawn (coarse, rounded) curve itself: equal, not just close.
        np.testing.assert_allclose(got, part["estimate"], atol=1e-9)
        assert _on_band(band, x, part["ci_lower"].to_numpy(), tol=1e-9)
        assert _on_band(band, x, part["ci_upper"].to_numpy(), tol=1e-9)


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_planning_lines_are_the_published_minimum_detectable_ratios(drawn):
    fig, data = drawn["design_planning"]
    ax = fig.axes[0]
    lines = [line for line in ax.lines if not line.get_label().startswith("_")]
    mdhr = data[data["quantity"] == "mdhr"]
    intakes = sorted(mdhr["intake_per_year"].unique())
    assert len(lines) == len(intakes)
    for line, intake in zip(lines, intakes, strict=True):
        assert f"{intake:g}" in line.get_label()
        part = mdhr[mdhr["intake_per_year"] == intake].sort_values("follow_up_years")
        np.testing.assert_allclose(
            np.asarray(line.get_xdata(), float), part["follow_up_years"], rtol=1e-12
        )
        # NaN (nothing detectable) stays NaN: not drawn.
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), part["value"], rtol=1e-9)
    # The reference line of no effect, and nothing else.
    refs = [line for line in ax.lines if line.get_label().startswith("_")]
    assert [tuple(np.asarray(r.get_ydata(), float)) for r in refs] == [(1.0, 1.0)]


# -- bars, markers, boxes ------------------------------------------------------------------


def _milestone_checks(ax: Any, data: pd.DataFrame) -> None:
    """The bars are the table's shares (group by group, window by window); a withheld
    share is no bar and a ".." label, one per withheld share."""
    heights = [p.get_height() for p in ax.patches]
    groups = list(dict.fromkeys(data["group"]))
    want = np.concatenate(
        [data[data["group"] == g].sort_values("window")["estimate"].to_numpy() for g in groups]
    )
    assert len(heights) == len(want)
    np.testing.assert_allclose(heights, np.nan_to_num(want), atol=1e-12)
    assert [t.get_text() for t in ax.texts] == [".."] * int(np.isnan(want).sum())


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_milestone_bars_are_the_published_shares(drawn):
    fig, data = drawn["milestones_by_group"]
    _milestone_checks(fig.axes[0], data)
    # Withhold one more share than the report does: it is drawn as no bar and one more "..".
    shown = data.index[data["estimate"].notna()]
    assert len(shown), "the report withholds every share: nothing left to withhold"
    withheld = data.assign(estimate=data["estimate"].where(data.index != shown[0]))
    assert withheld["estimate"].isna().sum() == data["estimate"].isna().sum() + 1
    _milestone_checks(milestone_bars(withheld), withheld)


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_municipality_bars_are_the_published_shares(drawn):
    fig, data = drawn["relapse_3y_by_municipality"]
    ax = fig.axes[0]
    # Bars from the top: the first row of the table is the top bar.
    bars = sorted(ax.patches, key=lambda p: -p.get_y())
    np.testing.assert_allclose(
        [p.get_width() for p in bars], np.nan_to_num(data["estimate"]), atol=1e-12
    )
    assert [t.get_text() for t in ax.texts] == [".."] * int(data["estimate"].isna().sum())


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_forest_markers_and_whiskers_are_the_published_ratios(drawn):
    fig, data = drawn["cox_forest"]
    ax = fig.axes[0]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(markers) == 1
    np.testing.assert_allclose(np.asarray(markers[0].get_xdata(), float), data["hr"], rtol=1e-12)
    whiskers = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in whiskers], data["ci_lower"], rtol=1e-12)
    np.testing.assert_allclose([s[1][0] for s in whiskers], data["ci_upper"], rtol=1e-12)


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_love_plot_draws_the_published_smds_only(drawn):
    fig, data = drawn["balance_love"]
    ax = fig.axes[0]
    long = balance_data(data)
    for points, key in zip(ax.collections, ("unadjusted", "adjusted"), strict=True):
        want = long.loc[long["adjustment"] == key, "abs_smd"].dropna()
        np.testing.assert_allclose(
            np.sort(points.get_offsets()[:, 0]), np.sort(want.to_numpy()), atol=1e-12
        )


@pytest.mark.slow  # builds a report (about 30 s, once per module)
def test_overlap_bars_are_the_published_densities(drawn):
    fig, data = drawn["propensity_overlap"]
    ax = fig.axes[0]
    heights = np.array([p.get_height() for p in ax.patches])
    lefts = np.array([p.get_x() for p in ax.patches])
    for k, (g, sign) in enumerate(zip(dict.fromkeys(data["group"]), (1, -1), strict=True)):
        part = data[data["group"] == g]
        rows = slice(k * len(part), (k + 1) * len(part))
        np.testing.assert_allclose(lefts[rows], part["bin_lower"], atol=1e-12)
        np.testing.assert_allclose(heights[rows], sign * part["density"].fillna(0), atol=1e-12)


@pytest.mark.slow  # builds a report (about 30 s, once per module)
@pytest.mark.parametrize("key", ["flow_programme", "flow_all"])
def test_flow_boxes_print_only_published_counts(key, drawn):
    fig, data = drawn[key]
    printed = Counter(
        m
        for t in fig.axes[0].texts
        for m in re.findall(r"(?:n = |: )(\.\.|\d[\d,]*)", t.get_text())
    )
    assert printed
    published = Counter(
        _count_text(v) for v in pd.concat([data["n_persons"], data["n_entries"]]).dropna()
    ) + Counter({"..": int(data["suppressed"].sum())})
    # Every number in a box is one of the table's (a box leaves out rows that are 0).
    assert not printed - published, printed - published


# -- the results' own plot() ---------------------------------------------------------------


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    rng = np.random.default_rng(20151)
    n = 400
    age = rng.normal(35, 8, n)
    prior = rng.poisson(2, n)
    treated = rng.binomial(1, 1 / (1 + np.exp(2.5 - 0.04 * (age - 35) - 0.3 * prior)))
    duration = np.ceil(rng.exponential(700, n))
    return pd.DataFrame(
        {
            "age": age,
            "prior": prior,
            "treated": treated,
            "duration_days": np.minimum(duration, 1500),
            "event": (duration < 1500).astype(int),
        }
    )


def test_propensity_overlap_draws_its_protected_plot_data(people):
    from evaluation.effects import propensity_weights

    ps = propensity_weights(people, "age + prior", treatment="treated")
    data = ps.plot_data(min_cell=5)
    assert list(data.columns) == ["group", "bin_lower", "bin_upper", "n", "density"]
    assert data["n"].isna().any()  # something is withheld, so the comparison can fail
    heights = np.array([p.get_height() for p in ps.plot(min_cell=5).patches])
    want = np.concatenate(
        [
            sign * data.loc[data["group"] == g, "density"].fillna(0).to_numpy()
            for g, sign in (("participants", 1), ("comparisons", -1))
        ]
    )
    np.testing.assert_allclose(heights, want, atol=1e-12)


def test_matching_overlap_draws_its_plot_data(people):
    from evaluation.effects import match, propensity_weights

    m = match(
        people,
        treatment="treated",
        score=propensity_weights(people, "age + prior", treatment="treated"),
        rng=1,
    )
    data = m.plot_data()
    heights = np.array([p.get_height() for p in m.plot().patches])
    half = len(data) // 2
    density = data["density"].fillna(0.0)  # withheld bins (default min_cell) drawn empty
    np.testing.assert_allclose(heights[:half], density[:half], atol=1e-12)
    np.testing.assert_allclose(heights[half:], -density[half:], atol=1e-12)


def test_love_plot_draws_its_plot_data(people):
    from evaluation.effects import balance, propensity_weights

    ps = propensity_weights(people, "age + prior", treatment="treated")
    b = balance(people, ["age", "prior"], treatment="treated", weights=ps)
    data = b.plot_data()
    ax = b.plot()
    for points, key in zip(ax.collections, ("unadjusted", "adjusted"), strict=True):
        want = data.loc[data["adjustment"] == key].set_index("covariate")["abs_smd"]
        order = [t.get_text() for t in ax.get_yticklabels()]
        got = dict(
            zip(
                np.asarray(points.get_offsets())[:, 1].round().astype(int),
                np.asarray(points.get_offsets())[:, 0],
                strict=True,
            )
        )
        assert len(got) == len(want) == len(order)
        np.testing.assert_allclose(sorted(got.values()), sorted(want), atol=1e-12)


def test_forest_plot_of_a_cox_model_draws_its_plot_data(people):
    from evaluation.survival import cox

    fit = cox(people, "age + prior + treated", duration="duration_days", event="event")
    data = fit.plot_data()
    ax = fit.plot(lang="en")
    marker = next(line for line in ax.lines if line.get_marker() == "o")
    np.testing.assert_allclose(np.asarray(marker.get_xdata(), float), data["hr"], rtol=1e-12)
    segments = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segments], data["ci_lower"], rtol=1e-12)
    np.testing.assert_allclose([s[1][0] for s in segments], data["ci_upper"], rtol=1e-12)


def test_schoenfeld_plot_draws_its_plot_data(people):
    from evaluation.survival import cox, cox_zph

    zph = cox_zph(cox(people, "age + prior", duration="duration_days", event="event"))
    data = zph.plot_data("prior")
    ax = zph.plot(term="prior")
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], data["residual"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), data["smooth"])


def test_small_multiples_draw_each_group_s_stacked_plot_data():
    from evaluation.presentation.graphics.competing import plot_cif_panels
    from evaluation.survival import cumulative_incidence

    data = pd.read_csv(Path(__file__).parent / "reference" / "data" / "cif_retention.csv")
    ci = cumulative_incidence(data, duration="duration_days", event="event", by="group")
    grid = plot_cif_panels(ci, ncols=2, titles=[f"panel {g}" for g in ci.groups])
    drawn = ci.plot_data()
    panels = [ax for ax in grid.ravel() if ax.get_title()]
    assert len(panels) == len(ci.groups) and grid.size >= len(ci.groups)
    for ax, g in zip(panels, ci.groups, strict=True):
        assert ax.get_title() == f"panel {g}"
        for area, code in zip(ax.collections, [*ci.causes, 0], strict=True):
            part = drawn[(drawn["group"] == g) & (drawn["cause"] == code)]
            assert _on_band(area, part["time"].to_numpy(), part["stack_upper"].to_numpy(), 1e-12)


# -- the municipal comparison (not in this report: it needs more municipalities) ----------


@pytest.fixture(scope="module")
def case_mix_result() -> Any:
    from evaluation.sites import case_mix

    rng = np.random.default_rng(5)
    sizes = (12, 25, 40, 60, 90, 150)
    site = np.repeat([f"K{i}" for i in range(len(sizes))], sizes)
    u = np.repeat(rng.normal(0, 0.6, len(sizes)), sizes)
    age = rng.integers(18, 45, site.size)
    eta = -0.7 - 0.04 * (age - 25) + u
    data = pd.DataFrame(
        {
            "person_id": np.arange(site.size),
            "municipality": site,
            "age": age,
            "relapse_1y": pd.array(rng.random(site.size) < 1 / (1 + np.exp(-eta)), "boolean"),
        }
    )
    return case_mix(data, covariates=("age",))


def test_funnel_draws_its_plot_data_and_not_the_hidden_site(case_mix_result):
    from evaluation.sites import funnel

    f = funnel(case_mix_result)
    data = f.plot_data()
    ax = f.plot(hidden=("K1",))
    limits = data[data["kind"] == "limit"]
    drawn_limits = [line for line in ax.lines if len(line.get_xdata()) > 2]
    want = [
        s.sort_values("precision")
        for _, part in limits.groupby("level", sort=True)
        for _, s in part.groupby("side")
    ]
    assert len(drawn_limits) == len(want) == 4
    for line, s in zip(drawn_limits, want, strict=True):
        np.testing.assert_allclose(np.asarray(line.get_xdata(), float), s["precision"])
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), s["estimate"])
    sites = data[(data["kind"] == "site") & (data["group"] != "K1")]
    assert len(sites) == 5
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(points, sites[["precision", "estimate"]].to_numpy(float))
    assert [t.get_text() for t in ax.texts] == sites["group"].tolist()


def test_raw_adjusted_shares_draw_their_plot_data(case_mix_result):
    data = case_mix_result.plot_data()
    ax = case_mix_result.plot()
    adjusted = data[data["kind"] == "adjusted"].sort_values("estimate")
    order = adjusted["group"].tolist()
    raw = data[data["kind"] == "raw"].set_index("group").reindex(order)
    marked = {
        line.get_marker(): np.asarray(line.get_xdata(), float)
        for line in ax.lines
        if line.get_marker() in ("o", "D") and len(line.get_xdata()) == len(order)
    }
    np.testing.assert_allclose(marked["o"], raw["estimate"], rtol=1e-12)
    np.testing.assert_allclose(marked["D"], adjusted["estimate"], rtol=1e-12)
    whiskers = next(c for c in ax.collections if len(c.get_segments()) == len(order))
    segments = whiskers.get_segments()
    np.testing.assert_allclose([s[0][0] for s in segments], adjusted["ci_lower"], rtol=1e-12)
    np.testing.assert_allclose([s[1][0] for s in segments], adjusted["ci_upper"], rtol=1e-12)


def test_shrinkage_draws_its_plot_data(case_mix_result):
    from evaluation.sites import shrinkage

    s = shrinkage(case_mix_result, n_sim=200, rng=1)
    data = s.plot_data()
    ax = s.plot()
    shrunk = data[data["kind"] == "shrunken"].sort_values("estimate")
    order = shrunk["group"].tolist()
    for container, part in zip(
        ax.containers,
        (data[data["kind"] == "raw"].set_index("group").reindex(order), shrunk),
        strict=True,
    ):
        line, _, (bars,) = container
        np.testing.assert_allclose(np.asarray(line.get_xdata(), float), part["estimate"])
        segments = bars.get_segments()
        np.testing.assert_allclose([sg[0][0] for sg in segments], part["ci_lower"])
        np.testing.assert_allclose([sg[1][0] for sg in segments], part["ci_upper"])
    rank = data[data["kind"] == "rank"].set_index("group").reindex(order)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{g}  ({lo:.0f}–{hi:.0f})"
        for g, lo, hi in zip(order, rank["ci_lower"], rank["ci_upper"], strict=True)
    ]


def test_meta_forest_draws_its_plot_data_and_not_the_hidden_site():
    from evaluation.sites import meta_analysis

    meta = meta_analysis([0.1, 0.3, -0.2], [0.2, 0.14, 0.22], labels=list("abc"))
    data = meta.plot_data()
    ax = meta.plot(hidden=("b",))
    studies = data[(data["kind"] == "study") & (data["label"] != "b")]
    whiskers, points = ax.collections[0], ax.collections[1]
    np.testing.assert_allclose([s[0][0] for s in whiskers.get_segments()], studies["ci_lower"])
    np.testing.assert_allclose([s[1][0] for s in whiskers.get_segments()], studies["ci_upper"])
    np.testing.assert_allclose(points.get_offsets()[:, 0], studies["estimate"])
    pooled = data[data["kind"] == "pooled"].iloc[0]
    diamond = ax.patches[0].get_xy()[:, 0]
    np.testing.assert_allclose(
        sorted(set(diamond)), [pooled["ci_lower"], pooled["estimate"], pooled["ci_upper"]]
    )
    pred = data[data["kind"] == "prediction"].iloc[0]
    (segment,) = ax.collections[2].get_segments()
    np.testing.assert_allclose(segment[:, 0], [pred["ci_lower"], pred["ci_upper"]])
    assert "b" not in [t.get_text() for t in ax.get_yticklabels()]


# -- the municipal comparison of a municipality's report (issue 12) ------------------------

#: Malmö's report: its 1-year relapses are withheld (its Brå table withholds them), so the
#: funnel marks it at its expected count; it has an effect of its own in the forest.
HIGHLIGHT = "Malmö"


@pytest.fixture(scope="module")
def drawn_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, pd.DataFrame]]:
    from evaluation.report import _sections

    out = tmp_path_factory.mktemp("figures_match_sites")
    with pytest.MonkeyPatch.context() as patch:
        figures = _capture_figures(patch)
        patch.setattr(_sections, "SECTIONS", (_sections.bra_section, _sections.sites_section))
        patch.setattr("evaluation.report._sites_section.SITE_BOOTSTRAP", 20)
        page = build_report(
            load_synthetic(), out, lang="en", municipality=HIGHLIGHT, formats=("png",)
        )
    return {
        key: (fig, pd.read_csv(page.parent / "figures" / f"{key}.data.csv", encoding="utf-8-sig"))
        for key, fig in figures.items()
        if key.startswith("sites_")
    }


@pytest.mark.slow  # builds two sections of a municipality's report (about 20 s)
def test_the_funnel_of_a_municipality_report_draws_its_data_and_marks_the_municipality(
    drawn_sites,
):
    from matplotlib.colors import to_hex

    fig, data = drawn_sites["sites_funnel"]
    (ax,) = fig.axes
    assert data.loc[data["highlight"], "group"].tolist() == [HIGHLIGHT]
    shown = data[data["estimate"].notna()]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    np.testing.assert_allclose(points, shown[["expected", "estimate"]].to_numpy(float))
    colours = [to_hex(c.get_facecolor()[0]) for c in ax.collections]
    mine = data[data["highlight"]].iloc[0]
    vertical = [line for line in ax.lines if len(set(np.asarray(line.get_xdata(), float))) == 1]
    if np.isfinite(mine["estimate"]):  # shown: the one diamond in the highlight colour
        assert colours.count("#d55e00") == 1 and not vertical
    else:  # withheld: no point of it, a line at its (published) expected count
        assert "#d55e00" not in colours
        (line,) = vertical
        assert np.asarray(line.get_xdata(), float)[0] == pytest.approx(mine["expected"])
        assert to_hex(line.get_color()) == "#d55e00"
        assert [t.get_text() for t in ax.texts if t.get_text().startswith(HIGHLIGHT)] == [
            f"{HIGHLIGHT} (O/E ..)"
        ]


@pytest.mark.slow
def test_the_forest_and_ranks_of_a_municipality_report_mark_its_row(drawn_sites):
    fig, data = drawn_sites["sites_effect_forest"]
    (ax,) = fig.axes
    assert data.loc[data["highlight"], "label"].tolist() == [HIGHLIGHT]
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == [HIGHLIGHT]
    fig, data = drawn_sites["sites_ranks"]
    (ax,) = fig.axes
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    shown = data[data["highlight"] & data["shrunken"].notna()]
    assert [b.split("  (")[0] for b in bold] == shown["group"].tolist()
