"""Comparison cohorts: eligibility at a common time zero, outcomes, flow, both designs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import DefinitionError, load_synthetic

# no public name: day numbers, to recompute the ages the way the cohort counts them
from evaluation._keyed import to_days
from evaluation.cohorts.covariates import whole_years
from evaluation.effects import comparison_cohort


@pytest.fixture(scope="module")
def registers():
    return load_synthetic()


@pytest.fixture(scope="module")
def trials(registers):
    return comparison_cohort(registers, rng=1)


def test_flow_accounts_for_every_person(registers, trials):
    f = trials.flow
    total = int(f.loc[f.reason == "persons in registers", "n_persons"].iloc[0])
    assert total == len(registers.persons)
    assert f.loc[f.reason != "persons in registers", "n_persons"].sum() == total
    inc = f[f.reason.str.startswith("included")]
    assert inc["n_entries"].sum() == len(trials.data)


def test_time_zero_is_the_same_kind_of_moment(registers, trials):
    d = trials.data
    part = d[d.treated == 1]
    # participants: their first programme start, once each
    first = registers.programme.groupby("person_id")["start_date"].min()
    assert (part.entry_date.to_numpy() == first.loc[part.person_id].to_numpy()).all()
    assert not part.person_id.duplicated().any()
    # comparisons: a start date of a participant of the same trial
    starts = part.groupby("trial")["entry_date"].apply(set)
    comp = d[d.treated == 0]
    assert all(e in starts[t] for t, e in zip(comp.trial, comp.entry_date, strict=True))
    # nobody had started the programme before time zero
    started_before = comp.person_id.map(first).lt(comp.entry_date)
    assert not started_before.any()
    # people do appear in several trials (clustering needed downstream)
    assert comp.person_id.duplicated().any()


def test_everyone_is_eligible_at_time_zero(registers, trials):
    d = trials.data
    p = registers.persons.set_index("person_id")
    age = whole_years(to_days(p.loc[d.person_id, "birth_date"]), to_days(d.entry_date))
    assert (age >= 18).all()
    np.testing.assert_array_equal(age, d.age.to_numpy())
    ex = registers.exits.groupby("person_id")["date"].min()
    assert not d.person_id.map(ex).le(d.entry_date).any()
    cus = registers.custody.merge(d[["person_id", "entry_date"]], on="person_id")
    end = cus.end_date.fillna(pd.Timestamp("2100-01-01"))
    assert not ((cus.start_date <= cus.entry_date) & (end > cus.entry_date)).any()


def test_outcomes(registers, trials):
    d = trials.data
    assert (d.duration_days >= 1).all()
    assert set(d.event.unique()) <= {0, 1, 2, 3}
    last = pd.Timestamp(trials.meta["last_usable"])
    assert (d.entry_date + pd.to_timedelta(d.duration_days, unit="D") <= last).all()
    # a relapse is the first offence after time zero: check one participant by hand
    row = d[(d.treated == 1) & (d.event == 1)].iloc[0]
    off = registers.offences
    own = off[(off.person_id == row.person_id) & (off.offence_date > row.entry_date)]
    assert (own.offence_date.min() - row.entry_date).days == row.duration_days
    # comparisons who start later are censored at their start
    first = registers.programme.groupby("person_id")["start_date"].min()
    comp = d[d.treated == 0]
    later = comp.person_id.map(first)
    stop = comp.entry_date + pd.to_timedelta(comp.duration_days, unit="D")
    assert (stop <= later.fillna(pd.Timestamp("2100-01-01"))).all()
    assert ((stop == later) & (comp.event == 0)).any()


def test_dropout_days_only_for_dropped_out_participants(trials):
    d = trials.data
    has = d.dropout_days.notna()
    assert (d.loc[has, "exit_reason"] == "dropped_out").all()
    assert not (has & (d.treated == 0)).any()


def test_risk_set_matching(registers):
    c = comparison_cohort(registers, design="risk-set-matching", k=3, rng=1)
    d = c.data
    per_trial = d.groupby("trial").treated.agg(["sum", "size"])
    assert (per_trial["sum"] == 1).all()
    assert (per_trial["size"] <= 4).all()
    same = d.groupby("trial")[["sex", "municipality_group"]].nunique()
    assert (same == 1).all().all()
    assert (d.weight > 0).all()
    f = c.flow
    assert f.loc[f.reason != "persons in registers", "n_persons"].sum() == len(registers.persons)


def test_unknown_design(registers):
    with pytest.raises(DefinitionError, match="design"):
        comparison_cohort(registers, design="cohort")  # type: ignore[arg-type]


def test_the_cohort_is_built_in_cohorts_and_matched_in_effects(registers, trials):
    """evaluation.cohorts.comparison_cohort builds the cohort (effects adds only the
    matching of risk-set matching); participants that its ``select`` step drops are
    counted in the flow as without a comparison, and the flow still adds up."""
    from evaluation.cohorts import comparison_cohort as build

    built = build(registers, rng=1)
    pd.testing.assert_frame_equal(built.data, trials.data)
    pd.testing.assert_frame_equal(built.flow, trials.flow)
    risk_sets = build(registers, design="risk-set-matching", rng=1)
    assert "weight" not in risk_sets.data.columns
    assert (risk_sets.data.groupby("trial").treated.sum() == 1).all()

    def drop_some(d: pd.DataFrame) -> pd.DataFrame:
        return d[~((d.treated == 1) & (d.index % 3 == 0))]

    kept = build(registers, rng=1, select=drop_some)
    dropped = built.data[(built.data.treated == 1) & (built.data.index % 3 == 0)]
    f = kept.flow.set_index("reason")["n_persons"]
    assert f["excluded: participant without a comparison within the caliper"] == len(dropped)
    assert f.drop("persons in registers").sum() == len(registers.persons)
    assert len(kept.data) == len(built.data) - len(dropped)
