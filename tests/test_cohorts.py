"""Cohort building: covariates at entry, entry events and the Brå relapse rules.

Every rule is proved on a tiny hand-built register whose answer can be read off by eye.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import EstimationError
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
