"""Retention cohorts, retention measures and the landmark analysis (immortal time)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import DefinitionError, EstimationError
from evaluation.cohorts import (
    landmark_cohort,
    relapse_cohort,
    retention_cohort,
)
from evaluation.cohorts.examples import immortal_time_example
from evaluation.survival import retention_measures
from test_cohorts import STUDY_END, fine, random_registers, tiny


def test_retention_cohort_durations_and_codes():
    reg = tiny(
        persons=[
            ("P1", "M", "1990-01-01", "Malmö"),
            ("P2", "F", "1992-01-01", "Borås"),
            ("P3", "M", "1993-01-01", "Borås"),
        ],
        offences=[fine("P1", "2015-01-01", "2015-06-01")],
        programme=[
            ("P1", "2016-01-01", "2016-02-01", "2016-05-01", "dropped_out", "police", "Malmö"),
            ("P1", "2017-01-01", "2017-01-15", "2018-01-15", "completed", "self", "Malmö"),
            ("P2", "2024-12-01", "2025-01-01", None, "ongoing", "social_services", "Borås"),
            ("P3", "2012-01-01", "2012-02-01", "2012-05-01", "moved", "police", "Borås"),
        ],
    )
    c = retention_cohort(reg)
    d = c.data.set_index("episode_id")
    assert d["duration_days"].tolist() == [90, 365, (STUDY_END - pd.Timestamp("2025-01-01")).days]
    assert d["event"].tolist() == [2, 1, 0]
    assert d["referral"].tolist() == ["police", "self", "social_services"]
    assert d["prior_decisions_5y"].tolist() == [1, 1, 0]
    assert d["municipality"].tolist() == ["Malmö", "Malmö", "Borås"]
    assert d["age"].tolist() == [26, 27, 33]
    contact = retention_cohort(reg, time_zero="contact").data
    assert contact["duration_days"].tolist()[:2] == [121, 379]
    f = c.flow
    persons = f[f["stage"] == "persons"]
    assert persons["n_persons"].iloc[0] == 3
    assert persons["n_persons"].iloc[1:].sum() == 3  # excluded + included = all
    assert (
        persons.set_index("reason").loc[
            "excluded: episodes only before the look-back is complete", "n_persons"
        ]
        == 1
    )
    episodes = f[f["stage"] == "episodes"].set_index("reason")["n_entries"]
    assert episodes.iloc[0] == 4 and episodes.iloc[1:].sum() == 4
    with pytest.raises(DefinitionError, match="time_zero"):
        retention_cohort(reg, time_zero="referral")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def messy_retention():
    return retention_cohort(random_registers(n=1500, seed=9))


def test_retention_measures_add_up_and_median_dropout(messy_retention):
    m = retention_measures(messy_retention, months=(3, 6, 12, 24))
    t = m.table
    assert set(t["measure"]) == {"still_in", "completed", "dropped_out", "moved"}
    # Still in plus every way of ending is one at each time (Aalen–Johansen invariant).
    total = t.groupby("months")["estimate"].sum()
    assert np.allclose(total.to_numpy(), 1.0)
    assert t["months"].unique().tolist() == [3, 6, 12, 24]
    # Still in is non-increasing over time.
    still = t[t["measure"] == "still_in"]["estimate"].to_numpy()
    assert (np.diff(still) <= 1e-12).all()
    d = messy_retention.data
    expected = d.loc[d["event"] == 2, "duration_days"].median()
    assert m.dropout_days["median_days"].iloc[0] == expected
    # Without censoring before 3 months the share still in is the plain share.
    early = (d["duration_days"] >= 3 * 365.25 / 12) | (d["event"] != 0)
    if early.all():
        plain = (d["duration_days"] > 3 * 365.25 / 12).mean()
        assert still[0] == pytest.approx(plain)
    by = retention_measures(messy_retention, by="referral")
    assert set(by.table["group"]) == set(d["referral"])
    assert set(by.dropout_days["group"]) <= set(d["referral"])


# ---------------------------------------------------------------- landmark rules


def test_landmark_status_and_exclusions():
    reg = tiny(
        persons=[(f"P{i}", "M", "1990-01-01", "Malmö") for i in range(1, 6)],
        offences=[
            fine("P3", "2016-03-01", "2016-04-01"),  # relapse 1 month after start: excluded
            fine("P1", "2017-01-01", "2017-03-01"),  # relapse after the landmark
        ],
        programme=[
            ("P1", "2016-01-01", "2016-02-01", "2016-04-01", "dropped_out"),
            ("P2", "2016-01-01", "2016-02-01", "2016-06-01", "completed"),
            ("P3", "2016-01-01", "2016-02-01", "2016-12-01", "completed"),
            ("P4", "2016-01-01", "2016-02-01", "2017-06-01", "completed"),
            ("P5", "2016-01-01", "2016-02-01", "2016-03-01", "moved"),
        ],
        exits=[("P4", "2016-05-01", "death")],
    )
    base = relapse_cohort(reg, definition="bra-final", population="programme", rng=1)
    lm = landmark_cohort(base, reg, landmark_months=6)
    d = lm.data.set_index("person_id")
    assert d.index.tolist() == ["P1", "P2"]
    assert d["status"].tolist() == ["dropped_out", "completed"]
    assert d["group"].tolist() == ["dropped_out", "completed_or_in"]
    assert d["entry_date"].tolist() == [pd.Timestamp("2016-08-01")] * 2
    assert d.loc["P1", "event"] == 1
    assert (
        d.loc["P1", "duration_days"]
        == (pd.Timestamp("2017-01-01") - pd.Timestamp("2016-08-01")).days
    )
    f = lm.flow[lm.flow["stage"] == "episodes"].set_index("reason")["n_entries"]
    assert f["excluded: relapse before the landmark"] == 1
    assert f["excluded: died or emigrated before the landmark"] == 1
    assert f["excluded: moved or died before the landmark (programme)"] == 1
    assert f.iloc[0] == 5 and f.iloc[1:].sum() == 5
    # A retention cohort works as input too; at 3 months P2 is still in the programme.
    lm3 = landmark_cohort(retention_cohort(reg), reg, landmark_months=3)
    assert lm3.data.set_index("person_id").loc["P2", "status"] == "in_programme"
    with pytest.raises(EstimationError, match="episode"):
        landmark_cohort(relapse_cohort(reg, rng=1), reg)


# ---------------------------------------------------------------- immortal time


def share_difference(data: pd.DataFrame, a: str, b: str, column: str = "relapse_1y"):
    """Difference in 1-year relapse share (a - b) and its binomial standard error.

    One row per person, so the plain binomial variance applies (no clustering).
    """
    pa = data.loc[data["group"] == a, column].astype(bool)
    pb = data.loc[data["group"] == b, column].astype(bool)
    se = np.sqrt(pa.mean() * (1 - pa.mean()) / len(pa) + pb.mean() * (1 - pb.mean()) / len(pb))
    return pa.mean() - pb.mean(), se


def test_naive_completers_vs_dropouts_is_biased_and_the_landmark_is_not():
    reg = immortal_time_example(3000, rng=2024)
    start = relapse_cohort(reg, definition="bra-final", population="programme", rng=0)
    assert start.data["relapse_1y"].notna().all()
    naive = start.data.assign(group=start.data["exit_reason"])
    diff, se = share_difference(naive, "completed", "dropped_out")
    # Truth: 0. The naive comparison finds completers far less likely to relapse.
    assert diff < -10 * se and diff < -0.3
    for months in (3, 6):
        lm = landmark_cohort(start, reg, landmark_months=months)
        diff_lm, se_lm = share_difference(lm.data, "completed_or_in", "dropped_out")
        # Relapse times are exponential (memoryless) and independent of the programme, so
        # from the landmark both groups share one risk: within 3 SE of 0 (fixed seed).
        assert abs(diff_lm) < 3 * se_lm
        assert (lm.data["group"] == "dropped_out").sum() > 200
