"""A tiny valid register, hand-built, for doctests and tests of every part of the package."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from evaluation.registers._model import Registers


def _dates(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), format="%Y-%m-%d"), dtype="datetime64[ns]")


def tiny_registers(**overrides: Any) -> Registers:
    """Four persons, four programme episodes, six offences, four custody periods, one exit.

    The register is valid; every field of :class:`Registers` can be replaced by keyword
    (a table, ``study_start``, ``study_end`` or ``meta``), which is how tests build one
    small register per kind of problem.

    - P000001 (M, Stockholm, gang): offence 2012 with prison (remand, then prison to
      2013-10-15), episode E000001 completed 2016, offence 2017 (probation), episode
      E000003 dropped out 2018, in remand since 2024-03-01 (end empty).
    - P000002 (F, Malmö, network): offence 2011 (fine); episode E000002 from 2017 ended
      by death on 2019-06-30 (also in exits).
    - P000003 (M, Botkyrka, peripheral): offences 2019 and 2021, youth care in 2020,
      episode E000004 ongoing since 2022-02-01.
    - P000004 (M, Göteborg, affiliation unknown): one offence 2013 (waiver).

    The study window is 2010-01-01 to 2025-12-31.

    Examples
    --------
    >>> regs = tiny_registers()
    >>> regs
    Registers(persons=4, programme=4, offences=6, custody=4, exits=1; 2010-01-01 to 2025-12-31)
    >>> tiny_registers(study_end=pd.Timestamp("2023-12-31")).problems()
    ['custody.start_date is after study_end (2023-12-31) in 1 row (person_id P000001)']
    """
    persons = pd.DataFrame(
        {
            "person_id": ["P000001", "P000002", "P000003", "P000004"],
            "sex": ["M", "F", "M", "M"],
            "birth_date": _dates("1995-03-01", "1990-07-15", "2000-11-30", "1988-01-20"),
            "municipality": ["Stockholm", "Malmö", "Botkyrka", "Göteborg"],
            "affiliation": ["gang", "network", "peripheral", None],
        }
    )
    programme = pd.DataFrame(
        {
            "episode_id": ["E000001", "E000002", "E000003", "E000004"],
            "person_id": ["P000001", "P000002", "P000001", "P000003"],
            "municipality": ["Stockholm", "Malmö", "Stockholm", "Botkyrka"],
            "referral": ["police", "social_services", "self", "prison_service"],
            "contact_date": _dates("2016-01-10", "2017-03-01", "2018-01-05", "2022-01-10"),
            "start_date": _dates("2016-02-01", "2017-03-15", "2018-02-01", "2022-02-01"),
            "end_date": _dates("2016-09-30", "2019-06-30", "2018-05-01", None),
            "exit_reason": ["completed", "died", "dropped_out", "ongoing"],
        }
    )
    offences = pd.DataFrame(
        {
            "offence_id": [f"O000000{i}" for i in range(1, 7)],
            "person_id": ["P000001", "P000001", "P000002", "P000003", "P000004", "P000003"],
            "offence_date": _dates(
                "2012-04-01", "2017-01-10", "2011-05-05", "2019-08-08", "2013-02-02", "2021-01-01"
            ),
            "decision_date": _dates(
                "2012-10-15", "2017-06-01", "2011-09-01", "2020-02-02", "2013-03-03", "2021-04-04"
            ),
            "category": ["violence", "drugs", "property", "weapons", "other", "drugs"],
            "sanction": ["prison", "probation", "fine", "youth_care", "waiver", "other"],
        }
    )
    custody = pd.DataFrame(
        {
            "person_id": ["P000001", "P000001", "P000003", "P000001"],
            "start_date": _dates("2012-09-01", "2012-10-15", "2020-02-02", "2024-03-01"),
            "end_date": _dates("2012-10-15", "2013-10-15", "2020-08-02", None),
            "kind": ["remand", "prison", "youth_care", "remand"],
        }
    )
    exits = pd.DataFrame(
        {"person_id": ["P000002"], "date": _dates("2019-06-30"), "reason": ["death"]}
    )
    regs = Registers(
        persons=persons,
        programme=programme,
        offences=offences,
        custody=custody,
        exits=exits,
        study_start=pd.Timestamp("2010-01-01"),
        study_end=pd.Timestamp("2025-12-31"),
        meta={"description": "tiny hand-built register"},
    )
    return dataclasses.replace(regs, **overrides)
