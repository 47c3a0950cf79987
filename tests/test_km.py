"""Kaplan–Meier: invariants on every curve, agreement with lifelines, risk tables, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter, NelsonAalenFitter

from evaluation import EstimationError
from evaluation.survival import SurvivalCurves, kaplan_meier


def _cohort(n: int, seed: int, *, entry: bool = False, weights: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    time = np.ceil(rng.exponential(400, n) / 30) * 30  # ties, as register dates give
    df = pd.DataFrame(
        {
            "duration_days": time,
            # relapse cohort codes: 0 censored, 1 relapse, 2 death, 3 emigration
            "event": rng.choice([0, 1, 2, 3], n, p=[0.35, 0.55, 0.05, 0.05]),
            "group": rng.choice(["Botkyrka", "Malmö", "Örebro"], n),
        }
    )
    if entry:
        df["entry"] = np.floor(rng.uniform(0, 1, n) * time * (rng.random(n) < 0.4))
    if weights:
        df["w"] = rng.uniform(0.2, 3, n)
    return df


@st.composite
def _datasets(draw):
    n = draw(st.integers(2, 40))
    seed = draw(st.integers(0, 10_000))
    return (
        _cohort(n, seed, entry=draw(st.booleans()), weights=draw(st.booleans())),
        draw(st.sampled_from(["log-log", "log", "plain"])),
        draw(st.sampled_from(["greenwood", "robust"])),
    )


@settings(max_examples=40, deadline=None)
@given(_datasets())
def test_invariants_on_every_curve(case) -> None:
    df, conf_type, variance = case
    km = kaplan_meier(
        df,
        duration="duration_days",
        event="event",
        by="group",
        entry="entry" if "entry" in df else None,
        weights="w" if "w" in df else None,
        conf_type=conf_type,
        variance=variance,
    )
    t = km.table
    assert ((t["estimate"] >= 0) & (t["estimate"] <= 1)).all()
    for _, part in t.groupby("group", sort=False):
        assert (np.diff(part["estimate"]) <= 1e-15).all()  # survival never increases
        assert (np.diff(part["cumhaz"]) >= 0).all()
    ok = t["ci_lower"].notna()  # log-log is undefined (NaN, as in R) where S is 0 or 1
    assert (t.loc[ok, "ci_lower"] <= t.loc[ok, "estimate"] + 1e-12).all()
    assert (t.loc[ok, "ci_upper"] >= t.loc[ok, "estimate"] - 1e-12).all()
    assert ((t.loc[ok, "ci_lower"] >= 0) & (t.loc[ok, "ci_upper"] <= 1)).all()
    plot = km.plot_data()
    assert (plot["ci_lower"] <= plot["estimate"] + 1e-12).all()
    assert (plot["ci_upper"] >= plot["estimate"] - 1e-12).all()
    # Risk table: over ticks that cover follow-up, events and censorings add up to persons.
    ticks = np.append(np.linspace(0, df["duration_days"].max(), 5), df["duration_days"].max() + 1)
    rt = km.risk_table(ticks)
    for g, part in rt.groupby("group"):
        members = df[df["group"] == g]
        assert part["n_events"].sum() == (members["event"] == 1).sum()
        assert part["n_censored"].sum() == (members["event"] != 1).sum()
        start = members["entry"] if "entry" in members else 0
        expected = [((start <= t) & (members["duration_days"] >= t)).sum() for t in ticks]
        assert part["n_at_risk"].tolist() == expected
        assert part["n_at_risk"].iloc[-1] == 0


def test_agrees_with_lifelines_kaplan_meier_and_nelson_aalen() -> None:
    df = _cohort(3000, 1)
    km = kaplan_meier(df, duration="duration_days", event="event")
    kmf = KaplanMeierFitter().fit(df["duration_days"], df["event"] == 1)
    naf = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(df["duration_days"], df["event"] == 1)
    grid = km.table["time"].to_numpy()
    np.testing.assert_allclose(
        km.table["estimate"], kmf.survival_function_at_times(grid), rtol=1e-12
    )
    np.testing.assert_allclose(km.table["cumhaz"], naf.cumulative_hazard_at_times(grid), rtol=1e-12)
    # lifelines' default interval is log(-log S) with Greenwood: our default.
    # Where S reaches 0 the log-log interval is undefined (R: NA); lifelines prints numbers.
    positive = km.table["estimate"].to_numpy() > 0
    ci = kmf.confidence_interval_survival_function_.loc[grid[positive]]
    np.testing.assert_allclose(km.table["ci_lower"][positive], ci.iloc[:, 0], rtol=1e-9)
    np.testing.assert_allclose(km.table["ci_upper"][positive], ci.iloc[:, 1], rtol=1e-9)


def test_delayed_entry_agrees_with_lifelines() -> None:
    df = _cohort(2000, 2, entry=True)
    km = kaplan_meier(df, duration="duration_days", event="event", entry="entry")
    kmf = KaplanMeierFitter().fit(df["duration_days"], df["event"] == 1, entry=df["entry"])
    grid = km.table["time"].to_numpy()
    np.testing.assert_allclose(
        km.table["estimate"], kmf.survival_function_at_times(grid), rtol=1e-12
    )


def test_event_codes_choose_what_counts() -> None:
    df = _cohort(500, 3)
    relapse = kaplan_meier(df, duration="duration_days", event="event")
    any_exit = kaplan_meier(df, duration="duration_days", event="event", event_codes=(1, 2, 3))
    assert relapse.events == (df["event"] == 1).sum()
    assert any_exit.events == (df["event"] > 0).sum()
    assert (any_exit.table["estimate"].to_numpy() <= relapse.table["estimate"].to_numpy()).all()


def test_integer_weights_equal_repeated_rows() -> None:
    df = _cohort(300, 4)
    df["k"] = np.random.default_rng(4).integers(1, 4, len(df))
    weighted = kaplan_meier(df, duration="duration_days", event="event", weights="k")
    repeated = kaplan_meier(
        df.loc[df.index.repeat(df["k"])], duration="duration_days", event="event"
    )
    for col in ("estimate", "se", "ci_lower", "ci_upper", "n_at_risk"):
        np.testing.assert_allclose(weighted.table[col], repeated.table[col], rtol=1e-12)


def test_milestones_quantiles_and_summary() -> None:
    df = _cohort(800, 5)
    km = kaplan_meier(df, duration="duration_days", event="event", by="group")
    at = km.at([365, 730, 1095])
    assert at["group"].tolist() == ["Botkyrka"] * 3 + ["Malmö"] * 3 + ["Örebro"] * 3
    np.testing.assert_allclose(at["cumulative_incidence"], 1 - at["estimate"])
    for g in km.groups:
        part = km.table[km.table["group"] == g]
        expected = part.loc[part["time"] <= 730, "estimate"].iloc[-1]
        assert at.loc[(at["group"] == g) & (at["time"] == 730), "estimate"].item() == expected
    med = km.median()
    assert ((med["ci_lower"] <= med["estimate"]) & (med["estimate"] <= med["ci_upper"])).all()
    q = km.quantile([0.1, 0.25, 0.5])
    for _, part in q.groupby("group"):
        assert part["estimate"].is_monotonic_increasing
    summary = km.summary()
    # "statistic" is reserved for test statistics (ARCHITECTURE.md, "Result tables"):
    # the median is a quantity.
    assert list(summary.columns[:2]) == ["group", "quantity"]
    assert "statistic" not in summary.columns
    assert (summary["quantity"] == "median").all()
    np.testing.assert_allclose(summary["estimate"], med["estimate"])
    assert summary["n_events"].sum() == (df["event"] == 1).sum()
    assert "Kaplan" in km._repr_html_()
    incidence = km.incidence_table()
    np.testing.assert_allclose(incidence["ci_lower"], 1 - km.table["ci_upper"])
    hazard = km.hazard_table()
    assert (hazard["ci_lower"] <= hazard["estimate"]).all()


def test_result_is_frozen() -> None:
    km = kaplan_meier(_cohort(50, 6), duration="duration_days", event="event")
    assert isinstance(km, SurvivalCurves)
    with pytest.raises(AttributeError):
        km.alpha = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.assign(duration_days=d["duration_days"].where(d.index != 3, -1.0)),
            r"duration column 'duration_days' has 1 negative value \(row 3\)",
        ),
        (
            lambda d: d.assign(event=d["event"].astype(float).where(d.index != 2)),
            r"'event' has 1 missing",
        ),
        (lambda d: d.assign(event=d["event"] + 0.5), "integer event codes"),
        (lambda d: d.drop(columns="group"), "by column 'group' is not in the data"),
        (lambda d: d.assign(entry=d["duration_days"]), "entry column 'entry' is not before"),
        (lambda d: d.assign(w=0.0), "zero weights"),
    ],
)
def test_bad_input_is_named(change, message) -> None:
    df = change(_cohort(20, 7).assign(entry=0.0, w=1.0))
    with pytest.raises(EstimationError, match=message):
        kaplan_meier(
            df, duration="duration_days", event="event", by="group", entry="entry", weights="w"
        )


def test_bad_options() -> None:
    df = _cohort(20, 8)
    with pytest.raises(EstimationError, match="conf_type"):
        kaplan_meier(df, duration="duration_days", event="event", conf_type="logit")
    with pytest.raises(EstimationError, match="variance"):
        kaplan_meier(df, duration="duration_days", event="event", variance="bootstrap")
    with pytest.raises(EstimationError, match="alpha"):
        kaplan_meier(df, duration="duration_days", event="event", alpha=1.5)
    with pytest.raises(EstimationError, match="event_codes"):
        kaplan_meier(df, duration="duration_days", event="event", event_codes=(0,))
