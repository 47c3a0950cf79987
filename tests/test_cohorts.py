"""Cohort building: covariates at entry, entry events and the Brå relapse rules.

Every rule is proved on a tiny hand-built register whose answer can be read off by eye.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.cohorts import covariates_at
from evaluation.registers import Registers

STUDY_START = pd.Timestamp("2010-01-01")
STUDY_END = pd.Timestamp("2025-12-31")


def tiny(
    persons: list[tuple] | None = None,
    offences: list[tuple] = (),
    custody: list[tuple] = (),
    programme: list[tuple] = (),
    exits: list[tuple] = (),
    study_end: str | pd.Timestamp = STUDY_END,
) -> Registers:
    """Build registers from tuples.

    persons: (person_id, sex, birth_date, municipality); offences: (person_id, offence_date,
    decision_date, category, sanction); custody: (person_id, start, end or None, kind);
    programme: (person_id, contact, start, end or None, exit_reason[, referral,
    municipality]); exits: (person_id, date, reason).
    """
    persons = persons or [("P1", "M", "1990-01-01", "Botkyrka")]
    p = pd.DataFrame(persons, columns=["person_id", "sex", "birth_date", "municipality"])
    p["birth_date"] = pd.to_datetime(p["birth_date"])
    o = pd.DataFrame(
        list(offences),
        columns=["person_id", "offence_date", "decision_date", "category", "sanction"],
    )
    o.insert(0, "offence_id", [f"O{i:07d}" for i in range(len(o))])
    for c in ("offence_date", "decision_date"):
        o[c] = pd.to_datetime(o[c])
    c = pd.DataFrame(list(custody), columns=["person_id", "start_date", "end_date", "kind"])
    for col in ("start_date", "end_date"):
        c[col] = pd.to_datetime(c[col])
    rows = []
    for i, r in enumerate(programme):
        pid, contact, start, end, reason, *rest = r
        referral = rest[0] if rest else "police"
        muni = rest[1] if len(rest) > 1 else "Botkyrka"
        rows.append((f"E{i:06d}", pid, muni, referral, contact, start, end, reason))
    g = pd.DataFrame(
        rows,
        columns=[
            "episode_id",
            "person_id",
            "municipality",
            "referral",
            "contact_date",
            "start_date",
            "end_date",
            "exit_reason",
        ],
    )
    for col in ("contact_date", "start_date", "end_date"):
        g[col] = pd.to_datetime(g[col])
    e = pd.DataFrame(list(exits), columns=["person_id", "date", "reason"])
    e["date"] = pd.to_datetime(e["date"])
    return Registers(
        persons=p,
        programme=g,
        offences=o,
        custody=c,
        exits=e,
        study_start=STUDY_START,
        study_end=pd.Timestamp(study_end),
    )


# ---------------------------------------------------------------- covariates_at


def test_covariates_count_only_the_five_years_before_entry():
    reg = tiny(
        persons=[("P1", "M", "1990-03-15", "Malmö"), ("P2", "F", "2000-01-01", "Borås")],
        offences=[
            # decided 5 years and 1 day before the second entry: outside
            ("P1", "2010-01-01", "2011-02-28", "violence", "fine"),
            # two offences decided on one date: one lagföring, two offences
            ("P1", "2012-01-01", "2012-06-01", "violence", "fine"),
            ("P1", "2012-01-02", "2012-06-01", "drugs", "fine"),
            # decided on the entry date: the entry event, not prior
            ("P1", "2015-01-01", "2016-03-01", "weapons", "prison"),
        ],
        custody=[
            ("P1", "2013-01-01", "2013-01-11", "remand"),
            ("P1", "2016-02-20", None, "remand"),
        ],
    )
    idx = pd.DataFrame(
        {
            "person_id": ["P1", "P1", "P2"],
            "entry_date": pd.to_datetime(["2016-03-01", "2016-03-15", "2016-03-01"]),
        },
        index=[10, 11, 12],
    )
    cov = covariates_at(reg, idx)
    assert list(cov.index) == [10, 11, 12]
    assert cov["age"].tolist() == [25, 26, 16]  # birthday on 15 March counts on the day
    assert cov["age_group"].astype(str).tolist() == ["21-29", "21-29", "15-17"]
    assert cov["prior_decisions_5y"].tolist() == [1, 2, 0]
    assert cov["prior_group"].astype(str).tolist() == ["1", "2-3", "0"]
    assert cov["prior_violence_5y"].tolist() == [1, 1, 0]
    assert cov["prior_drugs_5y"].tolist() == [1, 1, 0]
    assert cov["prior_weapons_5y"].tolist() == [0, 1, 0]
    # 10 days in 2013 plus 2016-02-20.. entry (ongoing custody counts up to entry)
    assert cov["prior_custody_days_5y"].tolist() == [10 + 10, 10 + 24, 0]
    assert cov["prior_custody_5y"].tolist() == [True, True, False]
    days = cov["days_since_last_decision"].to_numpy()
    assert days[0] == (pd.Timestamp("2016-03-01") - pd.Timestamp("2012-06-01")).days
    assert days[1] == 14 and np.isnan(days[2])
    assert cov["municipality"].tolist() == ["Malmö", "Malmö", "Borås"]
    assert cov["entry_year"].tolist() == [2016, 2016, 2016]
    assert cov["sex"].tolist() == ["M", "M", "F"]


def test_covariates_leap_day_lookback_and_unknown_person():
    reg = tiny(offences=[("P1", "2011-02-01", "2011-02-28", "other", "fine")])
    idx = pd.DataFrame({"person_id": ["P1"], "entry_date": pd.to_datetime(["2016-02-29"])})
    # 2016-02-29 minus 5 years is 2011-02-28: the decision on that day is inside
    assert covariates_at(reg, idx)["prior_decisions_5y"].tolist() == [1]
    bad = pd.DataFrame({"person_id": ["P9"], "entry_date": pd.to_datetime(["2016-01-01"])})
    with pytest.raises(EstimationError, match="unknown to persons"):
        covariates_at(reg, bad)
    with pytest.raises(EstimationError, match="entry_date"):
        covariates_at(reg, pd.DataFrame({"person_id": ["P1"]}))


# ---------------------------------------------------------------- relapse rules

from evaluation import DefinitionError  # noqa: E402
from evaluation.cohorts import PRESETS, RelapseDefinition, relapse_cohort  # noqa: E402
from evaluation.cohorts.relapse import WINDOW_ENDED, WINDOW_INCOMPLETE  # noqa: E402

ALL = RelapseDefinition.preset("bra-final").with_(selection="all")


def fine(pid: str, offence: str, decision: str, sanction: str = "fine") -> tuple:
    return (pid, offence, decision, "property", sanction)


def row_at(cohort, date: str) -> pd.Series:
    rows = cohort.data[cohort.data["entry_date"] == pd.Timestamp(date)]
    assert len(rows) == 1, cohort.data[["person_id", "entry_date"]]
    return rows.iloc[0]


def test_offence_in_window_decided_after_the_buffer_is_not_a_relapse():
    # bra-preliminary: window 1 year from 2016-03-01, decision needed before 2018-03-01.
    reg = tiny(
        offences=[fine("P1", "2016-01-01", "2016-03-01"), fine("P1", "2016-09-01", "2018-03-01")]
    )
    c = relapse_cohort(reg, definition=PRESETS["bra-preliminary"].with_(selection="all"))
    r = row_at(c, "2016-03-01")
    assert r["relapse_1y"] is False or r["relapse_1y"] == False  # noqa: E712
    assert r["n_relapse_offences_1y"] == 0
    # The survival outcome sees it: decided before study_end, committed before the last
    # usable date.
    assert r["event"] == 1 and r["duration_days"] == 184
    # One day earlier the decision is inside the buffer.
    reg2 = tiny(
        offences=[fine("P1", "2016-01-01", "2016-03-01"), fine("P1", "2016-09-01", "2018-02-28")]
    )
    r2 = row_at(relapse_cohort(reg2, definition="bra-preliminary", rng=0), "2016-03-01")
    assert bool(r2["relapse_1y"]) and r2["n_relapse_offences_1y"] == 1
    assert r2["days_to_relapse_1y"] == 184


def test_offence_before_entry_is_not_a_relapse_and_entry_offences_belong_to_entry():
    reg = tiny(
        offences=[
            fine("P1", "2016-03-01", "2016-03-01"),  # summary fine on the spot: the entry itself
            fine("P1", "2016-02-01", "2016-05-01"),  # committed before entry, decided after
        ]
    )
    c = relapse_cohort(reg, definition=ALL)
    first = row_at(c, "2016-03-01")
    assert first["relapse_1y"] == False and first["event"] == 0  # noqa: E712
    # The later decision is an entry event of its own and has no relapse either.
    assert row_at(c, "2016-05-01")["n_relapse_offences_3y"] == 0


def test_offence_on_the_entry_day_decided_later_is_a_relapse():
    reg = tiny(
        offences=[fine("P1", "2016-01-01", "2016-03-01"), fine("P1", "2016-03-01", "2016-04-01")]
    )
    r = row_at(relapse_cohort(reg, definition=ALL), "2016-03-01")
    assert r["event"] == 1 and r["duration_days"] == 0 and bool(r["relapse_1y"])


def test_a_decision_in_remand_followed_by_prison_waits_for_the_prison_release():
    # Adjacent periods: the remand's end is the first day of a prison term, so the clock of
    # a fine decided on remand moves twice (remand end, then prison release), and the
    # release and the moved fine are one entry event.
    reg = tiny(
        offences=[
            fine("P1", "2015-12-01", "2016-02-01"),
            fine("P1", "2015-12-01", "2016-03-01", "prison"),
        ],
        custody=[
            ("P1", "2016-01-01", "2016-03-01", "remand"),
            ("P1", "2016-03-01", "2016-09-01", "prison"),
        ],
    )
    c = relapse_cohort(reg, definition=ALL)
    days = c.data["entry_date"].dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2016-09-01"]
    assert c.data["entry_kind"].tolist() == ["release"]


def test_custody_at_entry_moves_the_clock_to_release():
    # A fine decided while on remand: the clock starts when the remand ends.
    reg = tiny(
        offences=[
            fine("P1", "2015-12-01", "2016-03-01"),
            fine("P1", "2016-04-01", "2016-08-01"),
        ],  # offence in custody, before release
        custody=[("P1", "2016-01-01", "2016-06-01", "remand")],
    )
    c = relapse_cohort(reg, definition=ALL)
    r = row_at(c, "2016-06-01")
    assert r["entry_kind"] == "decision" and bool(r["in_custody_at_entry"])
    assert r["n_relapse_offences_1y"] == 0  # the offence came before the (moved) entry
    # A prison sentence starts the clock at release, and the release is one entry event
    # even when a fine decided during the prison term is moved to it.
    reg2 = tiny(
        offences=[
            fine("P1", "2015-11-01", "2016-01-01", "prison"),
            fine("P1", "2015-12-01", "2016-03-01"),
        ],
        custody=[("P1", "2016-01-01", "2016-07-01", "prison")],
    )
    c2 = relapse_cohort(reg2, definition=ALL)
    assert c2.data["entry_date"].tolist() == [pd.Timestamp("2016-07-01")]
    assert c2.data["entry_kind"].tolist() == ["release"]
    # Still in custody at extraction: no usable entry, counted in the flow.
    reg3 = tiny(
        offences=[
            fine("P1", "2015-11-01", "2016-01-01", "prison"),
            fine("P1", "2015-12-01", "2016-03-01"),
        ],
        custody=[("P1", "2016-01-01", None, "prison")],
    )
    c3 = relapse_cohort(reg3, definition=ALL)
    assert c3.n == 0
    assert flow_count(c3, "excluded: in custody until extraction") == 1


def flow_count(cohort, reason: str, window: str = "") -> int:
    f = cohort.flow
    rows = f[(f["reason"] == reason) & (f["window"] == window)]
    assert len(rows) == 1, f
    return int(rows["n_persons"].iloc[0] if not window else rows["n_entries"].iloc[0])


def test_death_in_the_window_ignored_as_bra_or_censored():
    reg = tiny(
        offences=[fine("P1", "2016-01-01", "2016-03-01")], exits=[("P1", "2016-06-01", "death")]
    )
    r = row_at(relapse_cohort(reg, definition=ALL), "2016-03-01")
    assert r["event"] == 2 and r["duration_days"] == 92
    assert r["relapse_1y"] == False  # noqa: E712  Brå keeps the dead in the denominator
    c = relapse_cohort(reg, definition=ALL.with_(custody="censor"))
    assert pd.isna(row_at(c, "2016-03-01")["relapse_1y"])
    assert flow_count(c, WINDOW_ENDED, "1y") == 1
    # Emigration is event 3.
    reg2 = tiny(
        offences=[fine("P1", "2016-01-01", "2016-03-01")],
        exits=[("P1", "2017-03-01", "emigration")],
    )
    assert row_at(relapse_cohort(reg2, definition=ALL), "2016-03-01")["event"] == 3


def test_custody_during_follow_up_censor_and_subtract():
    reg = tiny(
        offences=[
            fine("P1", "2016-01-01", "2016-03-01"),
            fine("P1", "2017-03-10", "2017-05-01"),
        ],  # 1 year and 9 days after entry
        custody=[("P1", "2016-06-01", "2016-07-01", "remand")],  # 30 days
    )
    ignore = row_at(relapse_cohort(reg, definition=ALL), "2016-03-01")
    assert ignore["relapse_1y"] == False and bool(ignore["relapse_2y"])  # noqa: E712
    sub = row_at(relapse_cohort(reg, definition=ALL.with_(custody="subtract")), "2016-03-01")
    # 30 days locked up extend the 1-year window past the offence; they are not at risk.
    assert bool(sub["relapse_1y"]) and sub["event"] == 1
    assert sub["duration_days"] == ignore["duration_days"] - 30
    cen = row_at(relapse_cohort(reg, definition=ALL.with_(custody="censor")), "2016-03-01")
    assert cen["event"] == 0 and cen["duration_days"] == 92
    assert pd.isna(cen["relapse_1y"])


def test_buffer_exclusion_is_missing_and_counted_in_the_flow():
    reg = tiny(
        offences=[fine("P1", "2021-01-01", "2021-06-01"), fine("P1", "2021-08-01", "2021-09-01")]
    )
    # rng=0 draws the June entry of the two in 2021 (one entry per person and year).
    c = relapse_cohort(reg, definition="bra-final", rng=0)
    r = row_at(c, "2021-06-01")
    # 1 year + 3 years buffer ends 2025-06-01, before study_end; 2 and 3 years do not.
    assert bool(r["relapse_1y"]) and pd.isna(r["relapse_2y"]) and pd.isna(r["relapse_3y"])
    assert pd.isna(r["n_relapse_offences_2y"])
    assert flow_count(c, WINDOW_INCOMPLETE, "2y") == flow_count(c, WINDOW_INCOMPLETE, "3y") == 1
    # The survival outcome is censored at study_end - buffer (2023-01-01) at the latest.
    assert r["event"] == 1
    # An entry on or after the last usable date is excluded altogether.
    late = tiny(offences=[fine("P1", "2022-12-01", "2023-01-01")])
    c2 = relapse_cohort(late, definition="bra-final", rng=3)
    assert c2.n == 0
    assert flow_count(c2, "excluded: entry events only after the last usable date") == 1


def test_lookback_and_no_entry_reasons():
    reg = tiny(
        persons=[("P1", "M", "1990-01-01", "Malmö"), ("P2", "F", "1991-01-01", "Malmö")],
        offences=[fine("P1", "2014-01-01", "2014-12-31")],
    )
    c = relapse_cohort(reg, definition="bra-final", rng=1)
    assert c.n == 0
    assert flow_count(c, "excluded: no entry event") == 1
    assert flow_count(c, "excluded: entry events only before the look-back is complete") == 1


def test_random_one_entry_per_person_and_year_is_deterministic_from_rng():
    decisions = [f"2016-{m:02d}-15" for m in range(1, 13)] + ["2017-05-01"]
    reg = tiny(offences=[fine("P1", "2015-06-01", d) for d in decisions])
    pick = [
        tuple(relapse_cohort(reg, definition="bra-final", rng=s).data["entry_date"])
        for s in range(6)
    ]
    assert all(len(p) == 2 for p in pick)  # one in 2016, one in 2017
    assert pick[0] == tuple(relapse_cohort(reg, definition="bra-final", rng=0).data["entry_date"])
    g = np.random.default_rng(0)
    assert pick[0] == tuple(relapse_cohort(reg, definition="bra-final", rng=g).data["entry_date"])
    # 12 candidates in 2016: six seeds picking the same one has probability 12**-5.
    assert len({p[0] for p in pick}) > 1
    assert relapse_cohort(reg, definition=ALL).n == 13


def test_prison_service_counts_only_prison_and_probation():
    reg = tiny(
        offences=[
            fine("P1", "2016-01-01", "2016-03-01", "probation"),
            fine("P1", "2016-06-01", "2016-09-01", "fine"),
            fine("P1", "2017-06-01", "2017-09-01", "probation"),
        ]
    )
    d = PRESETS["prison-service"].with_(selection="all")
    r = row_at(relapse_cohort(reg, definition=d), "2016-03-01")
    assert r["n_relapse_offences_3y"] == 1 and r["event"] == 1
    assert r["duration_days"] == (pd.Timestamp("2017-06-01") - pd.Timestamp("2016-03-01")).days
    r_all = row_at(relapse_cohort(reg, definition=ALL), "2016-03-01")
    assert r_all["n_relapse_offences_3y"] == 2


def test_prison_service_enters_at_release_from_prison_or_start_of_probation_only():
    """Kriminalvården's measure starts at a release from prison or the start of probation."""
    reg = tiny(
        persons=[("P1", "M", "1990-01-01", "Botkyrka"), ("P2", "M", "1999-01-01", "Malmö")],
        offences=[
            fine("P1", "2016-01-01", "2016-03-01"),  # a fine: no entry
            fine("P1", "2016-02-01", "2016-04-01", "waiver"),  # a waiver: no entry
            fine("P1", "2016-05-01", "2016-06-01", "probation"),  # probation starts: entry
            fine("P1", "2016-12-01", "2017-02-01", "prison"),  # entry at the release
            fine("P1", "2018-06-01", "2018-09-01", "other"),  # no entry
            fine("P2", "2016-01-01", "2016-05-01", "youth_care"),  # youth care: not theirs
        ],
        custody=[
            ("P1", "2017-02-01", "2017-08-01", "prison"),
            ("P2", "2016-05-01", "2016-11-01", "youth_care"),
        ],
    )
    d = PRESETS["prison-service"].with_(selection="all")
    c = relapse_cohort(reg, definition=d)
    assert c.data["person_id"].tolist() == ["P1", "P1"]
    assert c.data["entry_date"].tolist() == [pd.Timestamp("2016-06-01"), pd.Timestamp("2017-08-01")]
    assert c.data["entry_kind"].tolist() == ["decision", "release"]
    assert flow_count(c, "excluded: no entry event") == 1  # P2
    # Brå takes every sanction: the fine, the waiver, the other and the youth-care release.
    assert relapse_cohort(reg, definition=ALL).n == 6


def test_custodial_sentence_served_in_remand_keeps_its_decision_as_entry():
    """Brå's release replaces the decision only when there is a release."""
    reg = tiny(
        offences=[
            # Remand until the judgment; the prison term is deducted: no prison period.
            fine("P1", "2015-12-01", "2016-03-01", "prison"),
            fine("P1", "2016-06-01", "2016-09-01"),  # a relapse within 1 year
            # A second prison sentence, served from the judgment: its release is the entry.
            fine("P1", "2017-01-10", "2017-03-01", "prison"),
        ],
        custody=[
            ("P1", "2015-12-05", "2016-03-01", "remand"),
            ("P1", "2017-03-01", "2017-09-01", "prison"),
        ],
    )
    c = relapse_cohort(reg, definition=ALL)
    assert c.data["entry_date"].tolist() == [
        pd.Timestamp("2016-03-01"),
        pd.Timestamp("2016-09-01"),
        pd.Timestamp("2017-09-01"),
    ]
    assert c.data["entry_kind"].tolist() == ["decision", "decision", "release"]
    r = row_at(c, "2016-03-01")
    # Both later offences were committed within the year (2016-06-01 and 2017-01-10).
    assert bool(r["relapse_1y"]) and r["n_relapse_offences_1y"] == 2 and r["event"] == 1
    # Remand that runs on past the judgment: the clock starts when it ends.
    late = tiny(
        offences=[fine("P1", "2015-12-01", "2016-03-01", "prison")],
        custody=[("P1", "2015-12-05", "2016-03-20", "remand")],
    )
    r = row_at(relapse_cohort(late, definition=ALL), "2016-03-20")
    assert r["entry_kind"] == "decision" and bool(r["in_custody_at_entry"])
    # Served later (a prison period starting after the judgment): the release only.
    later = tiny(
        offences=[fine("P1", "2015-12-01", "2016-03-01", "prison")],
        custody=[("P1", "2016-05-01", "2016-08-01", "prison")],
    )
    c = relapse_cohort(later, definition=ALL)
    assert c.data["entry_date"].tolist() == [pd.Timestamp("2016-08-01")]


def test_offences_before_15_are_refused_unless_the_definition_allows_them():
    from evaluation import RegisterError

    reg = tiny(
        persons=[("P1", "M", "2002-06-01", "Botkyrka")],
        offences=[
            fine("P1", "2016-05-01", "2016-06-30"),  # committed at 13, decided at 14
            fine("P1", "2017-01-01", "2017-02-01"),  # at 14: a relapse within 1 year
        ],
    )
    for preset in ("bra-final", "bra-preliminary", "prison-service"):
        with pytest.raises(RegisterError, match="before the person's 15th birthday") as err:
            relapse_cohort(reg, definition=preset, rng=1)
        assert "offence_id O0000000, O0000001; rows 1, 2" in str(err.value)
    # England and Wales: criminal responsibility from 10. The 14-year-old has an age group.
    c = relapse_cohort(reg, definition="uk-proven")
    r = row_at(c, "2016-06-30")
    assert r["age"] == 14 and r["age_group"] == "10-14" and bool(r["relapse_1y"])
    assert not c.data["age_group"].isna().any()
    younger = tiny(
        persons=[("P1", "M", "2007-06-01", "Botkyrka")],
        offences=[fine("P1", "2016-05-01", "2016-06-30")],  # at 8
    )
    with pytest.raises(RegisterError, match="10th birthday"):
        relapse_cohort(younger, definition="uk-proven")
    with pytest.raises(DefinitionError, match="min_age"):
        RelapseDefinition(name="x", min_age=-1)
    with pytest.raises(DefinitionError, match="entry_sanctions"):
        RelapseDefinition(name="x", entry_sanctions=("jail",))


def test_uk_proven_six_month_buffer():
    base = [fine("P1", "2016-01-01", "2016-03-01")]
    inside = tiny(offences=[*base, fine("P1", "2016-12-01", "2017-08-31")])
    outside = tiny(offences=[*base, fine("P1", "2016-12-01", "2017-09-01")])
    assert bool(row_at(relapse_cohort(inside, definition="uk-proven"), "2016-03-01")["relapse_1y"])
    r = row_at(relapse_cohort(outside, definition="uk-proven"), "2016-03-01")
    assert r["relapse_1y"] == False  # noqa: E712


def test_group_is_programme_status_at_entry():
    reg = tiny(
        offences=[fine("P1", "2016-01-01", "2016-03-01"), fine("P1", "2018-01-01", "2018-03-01")],
        programme=[("P1", "2016-12-01", "2017-01-01", "2017-06-01", "completed", "self")],
    )
    c = relapse_cohort(reg, definition=ALL)
    assert row_at(c, "2016-03-01")["group"] == "non-participant"
    later = row_at(c, "2018-03-01")
    assert later["group"] == "participant" and later["referral"] == "self"
    assert c.data["ever_participant"].all()
    p = relapse_cohort(reg, definition=ALL, population="programme")
    assert p.data["entry_date"].tolist() == [pd.Timestamp("2017-01-01")]
    assert p.data[["group", "referral", "municipality"]].iloc[0].tolist() == [
        "participant",
        "self",
        "Botkyrka",
    ]


def test_bad_options_are_definition_errors():
    with pytest.raises(DefinitionError, match="unknown relapse definition"):
        relapse_cohort(tiny(), definition="bra")
    with pytest.raises(DefinitionError, match="population"):
        relapse_cohort(tiny(), population="everyone")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="custody"):
        RelapseDefinition(name="x", custody="drop")
    with pytest.raises(DefinitionError, match="windows_years"):
        RelapseDefinition(name="x", windows_years=(2, 1))


# ---------------------------------------------------------------- the flow adds up


def random_registers(n: int = 300, seed: int = 7) -> Registers:
    """A messy random register: offences, custody (non-overlapping), exits, programme."""
    g = np.random.default_rng(seed)
    day0 = pd.Timestamp("2010-01-01")
    ids = [f"P{i:06d}" for i in range(n)]
    persons = pd.DataFrame(
        {
            "person_id": ids,
            "sex": g.choice(["F", "M"], n),
            "birth_date": day0 - pd.to_timedelta(g.integers(15 * 365, 45 * 365, n), "D"),
            "municipality": g.choice(["Botkyrka", "Malmö", "other"], n),
        }
    )
    k = g.poisson(4, n)
    pid = np.repeat(np.arange(n), k)
    od = g.integers(0, 5800, len(pid))
    # Court lags up to 900 days, and one in six up to 2,400: longer than every preset's
    # buffer (6 months to 3 years), so that the buffer rule decides some flags.
    long_lag = g.random(len(pid)) < 1 / 6
    dd = od + np.where(long_lag, g.integers(0, 2400, len(pid)), g.integers(0, 900, len(pid)))
    keep = dd < 5843
    offences = pd.DataFrame(
        {
            "offence_id": [f"O{i:07d}" for i in range(keep.sum())],
            "person_id": np.array(ids)[pid[keep]],
            "offence_date": day0 + pd.to_timedelta(od[keep], "D"),
            "decision_date": day0 + pd.to_timedelta(dd[keep], "D"),
            "category": g.choice(["violence", "drugs", "other"], keep.sum()),
            "sanction": g.choice(["prison", "probation", "fine", "youth_care"], keep.sum()),
        }
    )
    # two custody periods per sampled person, the second after the first
    who = g.choice(n, n // 2, replace=False)
    s1 = g.integers(0, 4000, len(who))
    e1 = s1 + g.integers(1, 400, len(who))
    s2 = e1 + g.integers(0, 300, len(who))
    e2 = s2 + g.integers(1, 700, len(who))
    starts = np.concatenate([s1, s2])
    ends = np.concatenate([e1, e2]).astype(float)
    ends[ends > 5843] = np.nan
    custody = pd.DataFrame(
        {
            "person_id": np.array(ids)[np.concatenate([who, who])],
            "start_date": day0 + pd.to_timedelta(starts, "D"),
            "end_date": _dates(day0, ends),
            "kind": g.choice(["remand", "prison", "youth_care"], 2 * len(who)),
        }
    )
    exiters = g.choice(n, n // 10, replace=False)
    exits = pd.DataFrame(
        {
            "person_id": np.array(ids)[exiters],
            "date": day0 + pd.to_timedelta(g.integers(2000, 5843, len(exiters)), "D"),
            "reason": g.choice(["death", "emigration"], len(exiters)),
        }
    )
    starters = g.choice(n, n // 5, replace=False)
    st = g.integers(1900, 5800, len(starters))
    dur = g.integers(10, 900, len(starters))
    end = np.where(st + dur < 5843, st + dur, np.nan)
    programme = pd.DataFrame(
        {
            "episode_id": [f"E{i:06d}" for i in range(len(starters))],
            "person_id": np.array(ids)[starters],
            "municipality": "Botkyrka",
            "referral": g.choice(["police", "self"], len(starters)),
            "contact_date": day0 + pd.to_timedelta(st - 20, "D"),
            "start_date": day0 + pd.to_timedelta(st, "D"),
            "end_date": _dates(day0, end),
            "exit_reason": np.where(
                np.isnan(end),
                "ongoing",
                g.choice(["completed", "dropped_out", "moved"], len(starters)),
            ),
        }
    )
    return Registers(
        persons=persons,
        programme=programme,
        offences=offences,
        custody=custody,
        exits=exits,
        study_start=STUDY_START,
        study_end=STUDY_END,
    )


def _dates(day0: pd.Timestamp, days: np.ndarray) -> pd.Series:
    """``day0`` plus whole days, NaT where missing (pandas' NaN-to-timedelta cast reads
    uninitialised memory on some versions and warns of an overflow at random)."""
    missing = np.isnan(days)
    out = day0 + pd.to_timedelta(np.where(missing, 0, days).astype(np.int64), "D")
    return pd.Series(out).mask(missing)


@pytest.fixture(scope="module")
def messy() -> Registers:
    return random_registers()


def check_flow_adds_up(cohort, n_persons: int) -> None:
    f = cohort.flow
    p = f[f["stage"] == "persons"]
    assert p["n_persons"].iloc[0] == n_persons
    excluded = p[p["reason"].str.startswith("excluded")]["n_persons"].sum()
    included = p[p["reason"] == "included"]
    assert excluded + included["n_persons"].iloc[0] == n_persons
    assert included["n_persons"].iloc[0] == cohort.n_persons
    assert included["n_entries"].iloc[0] == cohort.n
    for label in cohort.definition.window_labels:
        w = f[(f["stage"] == "window") & (f["window"] == label)]
        assert w["n_entries"].sum() == cohort.n
        measured = w[w["reason"] == "measured"]["n_entries"].iloc[0]
        assert measured == cohort.data[f"relapse_{label}"].notna().sum()


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("population", ["all", "programme"])
def test_flow_accounts_for_every_person(messy, preset, population):
    c = relapse_cohort(messy, definition=preset, population=population, rng=11)
    check_flow_adds_up(c, len(messy.persons))
    assert c.n > 0
    assert c.data["event"].isin([0, 1, 2, 3]).all()
    assert (c.data["duration_days"] >= 0).all()
    # The window flag agrees with the count of relapse offences.
    for label in c.definition.window_labels:
        m = c.data[f"relapse_{label}"].notna()
        flag = c.data.loc[m, f"relapse_{label}"].astype(bool)
        assert (flag == (c.data.loc[m, f"n_relapse_offences_{label}"] > 0)).all()


@pytest.mark.parametrize("custody", ["censor", "subtract"])
def test_flow_adds_up_with_custody_handling(messy, custody):
    d = PRESETS["bra-final"].with_(custody=custody)
    c = relapse_cohort(messy, definition=d, rng=11)
    check_flow_adds_up(c, len(messy.persons))
    # Windows nest: a relapse within 1 year is a relapse within 2 (where both are measured).
    both = c.data["relapse_1y"].notna() & c.data["relapse_2y"].notna()
    assert (
        c.data.loc[both, "relapse_2y"].astype(bool) >= c.data.loc[both, "relapse_1y"].astype(bool)
    ).all()


# ---------------------------------------------------------------- brute-force references


def test_covariates_equal_a_row_by_row_reference(messy):
    g = np.random.default_rng(5)
    ids = messy.persons["person_id"].to_numpy()[g.integers(0, len(messy.persons), 150)]
    dates = pd.Timestamp("2015-01-01") + pd.to_timedelta(g.integers(0, 3000, 150), "D")
    idx = pd.DataFrame({"person_id": ids, "entry_date": dates})
    cov = covariates_at(messy, idx)
    off, cus = messy.offences, messy.custody
    for i, (pid, t) in enumerate(zip(ids, dates, strict=True)):
        lo = t - pd.DateOffset(years=5)
        mine = off[
            (off["person_id"] == pid) & (off["decision_date"] >= lo) & (off["decision_date"] < t)
        ]
        assert cov["prior_decisions_5y"].iloc[i] == mine["decision_date"].nunique()
        assert cov["prior_drugs_5y"].iloc[i] == (mine["category"] == "drugs").sum()
        c = cus[cus["person_id"] == pid]
        end = c["end_date"].fillna(STUDY_END + pd.Timedelta(days=1))
        overlap = (end.clip(upper=t) - c["start_date"].clip(lower=lo)).dt.days.clip(lower=0)
        assert cov["prior_custody_days_5y"].iloc[i] == overlap.sum()
        before = off[(off["person_id"] == pid) & (off["decision_date"] < t)]["decision_date"]
        expected = (t - before.max()).days if len(before) else np.nan
        assert np.isclose(cov["days_since_last_decision"].iloc[i], expected, equal_nan=True)


@pytest.mark.parametrize("preset", ["bra-final", "bra-preliminary", "uk-proven"])
def test_window_flags_equal_a_row_by_row_reference(messy, preset):
    d = PRESETS[preset]
    c = relapse_cohort(messy, definition=d, rng=2)
    off = messy.offences
    buffer = pd.DateOffset(months=round(d.buffer_years * 12))
    sample = c.data.sample(300, random_state=1)
    bitten = 0  # offences in a window that only the buffer rule leaves out
    for _, row in sample.iterrows():
        t = row["entry_date"]
        o = off[
            (off["person_id"] == row["person_id"])
            & (off["offence_date"] >= t)
            & (off["decision_date"] > t)
        ]
        for w, label in zip(d.windows_years, d.window_labels, strict=True):
            end = t + pd.DateOffset(years=int(w))
            deadline = end + buffer
            flag = row[f"relapse_{label}"]
            if deadline > messy.study_end + pd.Timedelta(days=1):
                assert pd.isna(flag)
                continue
            in_window = o["offence_date"] < end
            n = (in_window & (o["decision_date"] < deadline)).sum()
            bitten += (in_window & (o["decision_date"] >= deadline)).sum()
            assert row[f"n_relapse_offences_{label}"] == n
            assert bool(flag) == (n > 0)
        # survival outcome: the first relapse before the last usable date, or censoring
        first = o["offence_date"].min()
        last_usable = messy.study_end + pd.Timedelta(days=1) - buffer
        if row["event"] == 1:
            assert row["duration_days"] == (first - t).days
        elif row["event"] == 0:
            assert pd.isna(first) or first >= last_usable
            assert row["duration_days"] == (last_usable - t).days
    # The reference can see the buffer rule: dropping it would change these flags.
    assert bitten >= 10


def test_missing_register_columns_are_named():
    from evaluation import RegisterError

    reg = tiny()
    broken = Registers(
        persons=reg.persons.drop(columns=["birth_date"]),
        programme=reg.programme,
        offences=reg.offences.drop(columns=["sanction"]),
        custody=reg.custody,
        exits=reg.exits,
        study_start=reg.study_start,
        study_end=reg.study_end,
    )
    with pytest.raises(RegisterError, match="persons.birth_date is missing") as err:
        relapse_cohort(broken)
    assert "offences.sanction is missing" in err.value.problems


@pytest.mark.parametrize("shuffle", [False, True])
def test_the_entry_drawn_per_person_and_year_is_the_first_with_the_smallest_number(
    monkeypatch, shuffle
):
    # The rule of the random selection: per person and calendar year, the entry with the
    # smallest number, the earliest row among equal numbers. Entries in order of person and
    # day take a path without sorting; any other order sorts. Numbers with many ties (the
    # day of the week) test the tie rule on both paths.
    from evaluation.cohorts import relapse as rel

    g = np.random.default_rng(11)
    n = 4000
    code = np.sort(g.integers(0, 150, n))
    day = g.integers(70_000, 73_000, n)
    cand = pd.DataFrame({"code": code, "day": day}).sort_values(["code", "day"], kind="stable")
    if shuffle:
        cand = cand.sample(frac=1.0, random_state=2)
    cand = cand.reset_index(drop=True)
    monkeypatch.setattr(rel, "entry_uniforms", lambda key, ids, days: (days % 7) / 7.0)
    ids = np.array([f"P{i}" for i in range(150)], dtype=object)
    got = rel._select(cand, "random", rel.SelectionKey(1), ids)

    u = (cand["day"].to_numpy() % 7) / 7.0
    year = rel.year_of(cand["day"].to_numpy())
    want = []
    for (_, _), rows in cand.assign(u=u, year=year).groupby(["code", "year"], sort=False):
        want.append(rows.index[np.argmin(rows["u"].to_numpy())])  # first of the smallest
    expected = cand.loc[sorted(want)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
