"""The recurrence cohort: every relapse offence of community time, from relapse_cohort's entries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import load_synthetic
from evaluation.cohorts import (
    RelapseDefinition,
    recurrence_cohort,
    recurrence_rows,
    recurrence_totals,
    relapse_cohort,
)
from evaluation.registers import Registers
from registers_helpers import dates


def _one_person() -> Registers:
    """P1 enters at a fine decided 2016-03-01 and then, in days since entry:
    day 0 an offence (decided later: a relapse), day 92 two offences, day 122 an offence and
    the arrest (remand 2016-07-01 .. 2016-08-01), day 131 an offence in custody, death on
    day 320 (2017-01-15)."""
    off = pd.DataFrame(
        {
            "offence_id": [f"O{i}" for i in range(1, 7)],
            "person_id": ["P1"] * 6,
            "offence_date": dates(
                "2016-01-01", "2016-03-01", "2016-06-01", "2016-06-01", "2016-07-01", "2016-07-10"
            ),
            "decision_date": dates(
                "2016-03-01", "2016-05-01", "2016-09-01", "2016-09-01", "2016-10-01", "2016-10-01"
            ),
            "category": ["drugs"] * 6,
            "sanction": ["fine"] * 6,
        }
    )
    empty = pd.Series([], dtype=str)
    return Registers(
        persons=pd.DataFrame(
            {
                "person_id": ["P1"],
                "sex": ["M"],
                "birth_date": dates("1990-06-01"),
                "municipality": ["Botkyrka"],
            }
        ),
        programme=pd.DataFrame(
            {
                c: empty
                for c in ("episode_id", "person_id", "municipality", "referral", "exit_reason")
            }
            | {c: pd.to_datetime([]) for c in ("contact_date", "start_date", "end_date")}
        ),
        offences=off,
        custody=pd.DataFrame(
            {
                "person_id": ["P1"],
                "start_date": dates("2016-07-01"),
                "end_date": dates("2016-08-01"),
                "kind": ["remand"],
            }
        ),
        exits=pd.DataFrame({"person_id": ["P1"], "date": dates("2017-01-15"), "reason": ["death"]}),
        study_start=pd.Timestamp("2010-01-01"),
        study_end=pd.Timestamp("2025-12-31"),
    )


ALL = RelapseDefinition.preset("bra-final").with_(selection="all")


def test_rows_of_one_person_follow_the_rules_spelled_out():
    c = recurrence_cohort(_one_person(), definition=ALL)
    rows = c.data[c.data["entry_date"] == pd.Timestamp("2016-03-01")]
    got = rows[["start", "stop", "event", "n_offences", "terminal", "enum"]].values.tolist()
    assert got == [
        [0, 1, 1, 1, 0, 1],  # the entry day's offence, decided later, is at time 1
        [1, 93, 1, 2, 0, 2],  # two offences on one day: one row, n_offences 2
        [93, 123, 1, 1, 0, 3],  # the arrest day's offence counts; custody then is a gap
        [153, 321, 0, 0, 2, 4],  # from the release to the end of the day of death
    ]
    assert c.meta["offences_in_custody"] >= 1


def test_flow_accounts_for_every_person_and_entry():
    reg = load_synthetic()
    c = recurrence_cohort(reg, rng=1)
    flow = c.flow.set_index("reason")
    excluded = flow.loc[flow.index.str.startswith("excluded"), "n_persons"].sum()
    assert (
        excluded + flow.at["included", "n_persons"] == flow.at["persons in registers", "n_persons"]
    )
    assert flow.at["included", "n_entries"] == c.data["entry_id"].nunique()
    rel = relapse_cohort(reg, rng=1)
    assert c.meta["n_entries"] + c.meta["n_entries_without_community_time"] == len(rel.data)
    assert (c.data["stop"] > c.data["start"]).all()
    # One terminal code per entry at most, on its last row.
    last = c.data.groupby("entry_id").tail(1)
    assert c.data.loc[c.data["terminal"] > 0].index.isin(last.index).all()


def test_one_year_horizon_counts_the_relapse_cohorts_offences():
    # Same entries (same rng), Brå's 1-year window and buffer; the synthetic registers have no
    # offences committed in custody, so every measured window's count is the rows' count.
    reg = load_synthetic()
    d = RelapseDefinition.preset("bra-final").with_(windows_years=(1.0,))
    rel = relapse_cohort(reg, definition=d, rng=3)
    rec = recurrence_cohort(reg, definition=d, rng=3)
    assert rec.meta["offences_in_custody"] == 0
    n = rec.data.groupby("entry_id")["n_offences"].sum().reindex(range(len(rel.data)), fill_value=0)
    measured = rel.data["n_relapse_offences_1y"].notna().to_numpy()
    assert measured.sum() > 1000
    np.testing.assert_array_equal(
        n.to_numpy()[measured], rel.data["n_relapse_offences_1y"].to_numpy()[measured].astype(int)
    )


def test_time_at_risk_is_follow_up_minus_custody():
    reg = load_synthetic()
    rec = recurrence_cohort(reg, rng=1)
    tot = recurrence_totals(rec.data)
    last_stop = rec.data.groupby("entry_id")["stop"].max().to_numpy()
    first_start = rec.data.groupby("entry_id")["start"].min().to_numpy()
    gaps = (last_stop - first_start) - tot["exposure_days"].to_numpy()
    assert (gaps >= 0).all()
    assert (gaps > 0).sum() > 100  # custody gaps occur in the synthetic registers


def test_rows_from_given_time_zeros_and_censoring():
    reg = _one_person()
    entries = pd.DataFrame(
        {
            "person_id": ["P1", "P1"],
            "entry_date": dates("2016-03-01", "2016-03-01"),
            "stop_at": dates(None, "2016-06-10"),
        }
    )
    rows = recurrence_rows(reg, entries, censor_date="stop_at", from_day_after=True)
    first = rows[rows["entry_id"] == 0]
    # From the day after: the entry day's offence is not counted, follow-up starts at 1.
    assert first["start"].iloc[0] == 1 and first["n_offences"].sum() == 3
    second = rows[rows["entry_id"] == 1]
    assert second["stop"].max() == 101 and second["terminal"].max() == 0


def test_refuses_a_nonpositive_horizon():
    from evaluation._errors import DefinitionError

    with pytest.raises(DefinitionError, match="horizon_years"):
        recurrence_cohort(_one_person(), definition=ALL, horizon_years=0)
