"""Validation of the registers: one small hand-built register per kind of problem.

Each test breaks the valid tiny register in one way and asserts the exact message (table,
column, count, first offending ids), so a change of wording or of a rule shows up here.
"""

from __future__ import annotations

import dataclasses
import unicodedata

import numpy as np
import pandas as pd
import pytest

from evaluation import RegisterError
from evaluation.registers import Registers

# kernel test: the personal-number detector and Luhn check behind the validation messages
from evaluation.registers._messages import looks_like_personnummer, luhn_valid
from registers_helpers import dates, tiny_registers


def edit(name: str, row: int, **values: object) -> Registers:
    """The tiny register with some cells of one row of one table changed."""
    table = tiny_registers().table(name).copy()
    for column, value in values.items():
        table.loc[row, column] = value
    return tiny_registers(**{name: table})


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_the_tiny_register_is_valid():
    regs = tiny_registers()
    assert regs.problems() == []
    assert regs.validate() is regs


def test_touching_custody_periods_do_not_overlap():
    # Remand ends 2012-10-15, the prison term starts that same day: one continuous custody.
    custody = tiny_registers().custody
    assert custody.loc[0, "end_date"] == custody.loc[1, "start_date"]
    assert tiny_registers().problems() == []


CASES = {
    "missing column": (
        lambda: tiny_registers(persons=tiny_registers().persons.drop(columns="sex")),
        ["persons is missing the required column sex: sex (kön)"],
    ),
    "date column as text": (
        lambda: tiny_registers(
            offences=tiny_registers().offences.assign(
                offence_date=lambda t: t.offence_date.dt.strftime("%Y-%m-%d")
            )
        ),
        ["offences.offence_date has type object; expected dates (datetime64[ns])"],
    ),
    "dates in seconds, not nanoseconds": (
        lambda: tiny_registers(
            exits=tiny_registers().exits.assign(date=lambda t: t.date.astype("datetime64[s]"))
        ),
        ["exits.date has type datetime64[s]; expected dates (datetime64[ns])"],
    ),
    "numeric person ids": (
        lambda: tiny_registers(persons=tiny_registers().persons.assign(person_id=[1, 2, 3, 4])),
        ["persons.person_id has type int64; expected text (ids such as P000001)"],
    ),
    "a number among categories": (
        lambda: edit("offences", 2, category=7),
        [
            "offences.category holds values that are not text in 1 row (offence_id O0000003); "
            "expected text (categories as text)"
        ],
    ),
    "empty required date": (
        lambda: edit("persons", 3, birth_date=pd.NaT),
        ["persons.birth_date is empty in 1 row (person_id P000004)"],
    ),
    "empty id": (
        lambda: edit("offences", 5, offence_id=None),
        ["offences.offence_id is empty in 1 row (row 6)"],
    ),
    "duplicate person": (
        lambda: edit("persons", 3, person_id="P000003"),
        [
            "persons.person_id is duplicated (a key): 1 id occurs more than once, in 2 rows "
            "(person_id P000003)",
            "offences.person_id is not in persons in 1 row (offence_id O0000005)",
        ],
    ),
    "duplicate episode": (
        lambda: edit("programme", 2, episode_id="E000001"),
        [
            "programme.episode_id is duplicated (a key): 1 id occurs more than once, in 2 rows "
            "(episode_id E000001)"
        ],
    ),
    "duplicate offences": (
        lambda: tiny_registers(
            offences=tiny_registers().offences.assign(
                offence_id=["O1", "O1", "O2", "O2", "O2", "O3"]
            )
        ),
        [
            "offences.offence_id is duplicated (a key): 2 ids occur more than once, in 5 rows "
            "(offence_id O1, O2, O2)"
        ],
    ),
    "two exits of one person": (
        lambda: tiny_registers(exits=pd.concat([tiny_registers().exits] * 2, ignore_index=True)),
        [
            "exits.person_id is duplicated (a person leaves the population once): 1 id occurs "
            "more than once, in 2 rows (person_id P000002)"
        ],
    ),
    "unknown person in offences": (
        lambda: edit("offences", 4, person_id="P000099"),
        ["offences.person_id is not in persons in 1 row (offence_id O0000005)"],
    ),
    "unknown persons in custody and exits": (
        lambda: tiny_registers(
            custody=tiny_registers().custody.assign(person_id="P9"),
            exits=tiny_registers().exits.assign(person_id="P8"),
        ),
        [
            "custody.person_id is not in persons in 4 rows (person_id P9, P9, P9, P9)",
            "exits.person_id is not in persons in 1 row (person_id P8)",
        ],
    ),
    "born before 1900": (
        # 1815 for 2015: without the rule this person is 200 years old and enters "60+".
        lambda: edit("persons", 1, birth_date=day("1815-07-15")),
        [
            "persons.birth_date is before 1900-01-01 (not a plausible birth date) in 1 row "
            "(person_id P000002)"
        ],
    ),
    "programme ends before it starts": (
        lambda: edit("programme", 0, end_date=day("2016-01-15")),
        ["programme.end_date is before start_date in 1 row (episode_id E000001)"],
    ),
    "contact after start": (
        lambda: edit("programme", 1, contact_date=day("2017-04-01")),
        ["programme.contact_date is after start_date in 1 row (episode_id E000002)"],
    ),
    "custody ends before it starts": (
        lambda: edit("custody", 2, end_date=day("2020-01-01")),
        ["custody.end_date is before start_date in 1 row (person_id P000003)"],
    ),
    "decision before offence": (
        lambda: edit("offences", 3, decision_date=day("2019-08-01")),
        ["offences.decision_date is before offence_date in 1 row (offence_id O0000004)"],
    ),
    "ongoing with an end date": (
        lambda: edit("programme", 0, exit_reason="ongoing"),
        ["programme.exit_reason is 'ongoing' but end_date is set in 1 row (episode_id E000001)"],
    ),
    "no end date but not ongoing": (
        lambda: edit("programme", 3, exit_reason="completed"),
        [
            "programme.end_date is empty (ongoing) but exit_reason is not 'ongoing' in 1 row "
            "(episode_id E000004)"
        ],
    ),
    "overlapping episodes": (
        lambda: edit("programme", 2, contact_date=day("2016-05-01"), start_date=day("2016-06-01")),
        ["programme has overlapping episodes of one person in 1 row (episode_id E000003)"],
    ),
    "episode after an ongoing one": (
        lambda: tiny_registers(
            programme=pd.concat(
                [
                    tiny_registers().programme,
                    tiny_registers()
                    .programme.iloc[[3]]
                    .assign(
                        episode_id="E000005",
                        contact_date=day("2024-01-01"),
                        start_date=day("2024-02-01"),
                    ),
                ],
                ignore_index=True,
            )
        ),
        ["programme has overlapping episodes of one person in 1 row (episode_id E000005)"],
    ),
    "overlapping custody": (
        lambda: edit("custody", 1, start_date=day("2012-10-01")),
        ["custody has overlapping periods of one person in 1 row (person_id P000001)"],
    ),
    "offence after death": (
        lambda: edit(
            "offences", 2, offence_date=day("2019-08-01"), decision_date=day("2019-09-01")
        ),
        [
            "offences.offence_date is after the person's death or emigration (exits.date) "
            "in 1 row (offence_id O0000003)"
        ],
    ),
    "episode after emigration": (
        lambda: tiny_registers(
            exits=pd.DataFrame(
                {
                    "person_id": ["P000002", "P000003"],
                    "date": dates("2019-06-30", "2021-06-01"),
                    "reason": ["death", "emigration"],
                }
            )
        ),
        [
            "programme.contact_date is after the person's death or emigration (exits.date) "
            "in 1 row (episode_id E000004)",
            "programme.start_date is after the person's death or emigration (exits.date) "
            "in 1 row (episode_id E000004)",
        ],
    ),
    "custody after death": (
        lambda: tiny_registers(
            custody=pd.concat(
                [
                    tiny_registers().custody,
                    pd.DataFrame(
                        {
                            "person_id": ["P000002"],
                            "start_date": dates("2019-07-01"),
                            "end_date": dates("2019-08-01"),
                            "kind": ["remand"],
                        }
                    ),
                ],
                ignore_index=True,
            )
        ),
        [
            "custody.start_date is after the person's death or emigration (exits.date) "
            "in 1 row (person_id P000002)",
            "custody.end_date is after the person's death or emigration (exits.date) "
            "in 1 row (person_id P000002)",
        ],
    ),
    "offence before birth": (
        # P000004's one offence (2013-02-02): before birth, not also before the 15th birthday.
        lambda: edit("persons", 3, birth_date=day("2013-06-01")),
        ["offences.offence_date is before the person's birth_date in 1 row (offence_id O0000005)"],
    ),
    "decision before the study window": (
        lambda: edit(
            "offences", 2, offence_date=day("2009-06-01"), decision_date=day("2009-12-31")
        ),
        [
            "offences.decision_date is before study_start (2010-01-01) in 1 row "
            "(offence_id O0000003)"
        ],
    ),
    "decision after extraction": (
        lambda: edit("offences", 5, decision_date=day("2026-01-15")),
        ["offences.decision_date is after study_end (2025-12-31) in 1 row (offence_id O0000006)"],
    ),
    "born after extraction": (
        lambda: edit("persons", 3, birth_date=day("2026-02-01")),
        [
            "offences.offence_date is before the person's birth_date in 1 row "
            "(offence_id O0000005)",
            "persons.birth_date is after study_end (2025-12-31) in 1 row (person_id P000004)",
        ],
    ),
    "exit before the window": (
        lambda: edit("exits", 0, date=day("2009-06-30")),
        [
            "offences.offence_date is after the person's death or emigration (exits.date) "
            "in 1 row (offence_id O0000003)",
            "programme.contact_date is after the person's death or emigration (exits.date) "
            "in 1 row (episode_id E000002)",
            "programme.start_date is after the person's death or emigration (exits.date) "
            "in 1 row (episode_id E000002)",
            "programme.end_date is after the person's death or emigration (exits.date) "
            "in 1 row (episode_id E000002)",
            "exits.date is before study_start (2010-01-01) in 1 row (person_id P000002)",
        ],
    ),
    "programme start after extraction": (
        lambda: edit("programme", 3, contact_date=day("2026-01-10"), start_date=day("2026-02-01")),
        [
            "programme.contact_date is after study_end (2025-12-31) in 1 row (episode_id E000004)",
            "programme.start_date is after study_end (2025-12-31) in 1 row (episode_id E000004)",
        ],
    ),
    "unknown sanction": (
        lambda: edit("offences", 1, sanction="jail"),
        [
            "offences.sanction has an unknown category in 1 row (offence_id O0000002): 'jail'; "
            "allowed: prison, probation, youth_care, fine, waiver, other"
        ],
    ),
    "municipality without diacritics": (
        lambda: edit("persons", 1, municipality="Malmo"),
        [
            "persons.municipality has an unknown category in 1 row (person_id P000002): "
            "'Malmo'; allowed: Botkyrka, Stockholm, Malmö, Göteborg, Uppsala, Landskrona, "
            "Örebro, Borlänge, Borås, other"
        ],
    ),
    "upper-case sex and unknown affiliation": (
        lambda: edit("persons", 0, sex="male", affiliation="Gang"),
        [
            "persons.sex has an unknown category in 1 row (person_id P000001): 'male'; "
            "allowed: F, M",
            "persons.affiliation has an unknown category in 1 row (person_id P000001): "
            "'Gang'; allowed: gang, network, peripheral",
        ],
    ),
    "study window reversed": (
        lambda: tiny_registers(study_start=day("2026-01-01")),
        ["meta.study_end (2025-12-31) is not after study_start (2026-01-01)"],
    ),
    "study window not a date": (
        lambda: tiny_registers(study_end="2025-12-31"),
        ["meta.study_end is not a date (pandas Timestamp without time zone)"],
    ),
    "a table that is not a DataFrame": (
        lambda: tiny_registers(exits=[("P000002", "2019-06-30", "death")]),
        ["exits is not a table (pandas DataFrame) but list"],
    ),
    "a column twice": (
        lambda: tiny_registers(
            exits=pd.concat([tiny_registers().exits, tiny_registers().exits[["reason"]]], axis=1)
        ),
        ["exits has the column reason more than once"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_problem_is_reported_exactly(case):
    build, expected = CASES[case]
    regs = build()
    assert sorted(regs.problems()) == sorted(expected)
    with pytest.raises(RegisterError) as info:
        regs.validate()
    assert sorted(info.value.problems) == sorted(expected)


def test_birth_dates_from_1900_are_plausible():
    assert edit("persons", 1, birth_date=day("1900-01-01")).problems() == []


UNDER_15 = (
    "offences.offence_date is before the person's 15th birthday (persons.birth_date) in 1 row "
    "(offence_id O0000005; row 5): nobody under 15 can be lagförd (the age of criminal "
    "responsibility); check birth_date and offence_date, or, for registers from a country "
    "where the age is lower, give it as min_age in meta.json or to validate(min_age=...)"
)


def test_offences_before_the_age_of_criminal_responsibility_are_refused():
    # P000004's offence on 2013-02-02: the day before the 15th birthday, then the birthday.
    young = edit("persons", 3, birth_date=day("1998-02-03"))
    assert young.problems() == [UNDER_15]
    with pytest.raises(RegisterError) as info:
        young.validate()
    assert info.value.problems == [UNDER_15]
    assert edit("persons", 3, birth_date=day("1998-02-02")).problems() == []
    # At 13, and several rows: ids and row numbers of each.
    thirteen = edit("persons", 2, birth_date=day("2007-01-01"))
    (message,) = thirteen.problems()
    assert "in 2 rows (offence_id O0000004, O0000006; rows 4, 6)" in message
    # A 29 February birthday is reached on 1 March, as cohorts count ages at entry.
    leap = edit("persons", 3, birth_date=day("1996-02-29"))
    for offence, n in (("2011-02-28", 1), ("2011-03-01", 0)):
        regs = dataclasses.replace(
            leap,
            offences=leap.offences.assign(
                offence_date=leap.offences["offence_date"].mask(
                    leap.offences["offence_id"] == "O0000005", day(offence)
                )
            ),
        )
        assert len(regs.problems()) == n, (offence, regs.problems())


def test_a_lower_age_of_criminal_responsibility_comes_from_the_caller_or_meta(tmp_path):
    young = edit("persons", 2, birth_date=day("2007-01-01"))  # offences at 12 and 13
    assert young.problems(min_age=10) == []
    assert young.validate(min_age=10) is young
    assert len(young.problems(min_age=14)) == 1
    uk = dataclasses.replace(young, meta={"min_age": 10})
    assert uk.problems() == [] and len(uk.problems(min_age=15)) == 1
    # meta.json carries it through write and read.
    assert Registers.read(uk.write(tmp_path / "uk")).meta["min_age"] == 10
    with pytest.raises(RegisterError, match="15th birthday"):
        Registers.read(young.write(tmp_path / "se"))
    assert Registers.read(tmp_path / "se", min_age=10).problems(min_age=10) == []
    bad = dataclasses.replace(young, meta={"min_age": "ten"})
    assert any("meta.json min_age is not a whole number" in p for p in bad.problems())


def test_offences_before_the_window_are_allowed_when_decided_in_it():
    # An offence committed in 2009 and decided (lagförd) in 2010 is in the register.
    regs = edit("offences", 2, offence_date=day("2009-06-01"), decision_date=day("2010-02-01"))
    assert regs.problems() == []


def test_custody_reaching_into_the_window_is_allowed():
    regs = edit("custody", 0, start_date=day("2009-11-01"))
    assert regs.problems() == []
    late = edit("custody", 0, start_date=day("2009-01-01"), end_date=day("2009-12-01"))
    assert late.problems() == [
        "custody.end_date is before study_start (2010-01-01) in 1 row (person_id P000001)"
    ]


def test_categorical_and_string_dtypes_are_accepted():
    regs = tiny_registers()
    offences = regs.offences.astype({"category": "category", "offence_id": "string"})
    assert tiny_registers(offences=offences).problems() == []
    bad = offences.assign(category=offences.category.cat.add_categories(["jail"]))
    bad.loc[0, "category"] = "jail"
    assert tiny_registers(offences=bad).problems() == [
        "offences.category has an unknown category in 1 row (offence_id O0000001): 'jail'; "
        "allowed: violence, weapons, drugs, property, other"
    ]


def test_unknown_columns_are_kept_and_not_checked():
    persons = tiny_registers().persons.assign(prior_custody=[True, False, None, 3.5])
    regs = tiny_registers(persons=persons)
    assert regs.problems() == []
    assert "prior_custody" in regs.persons.columns


def test_the_index_of_a_table_does_not_matter():
    offences = tiny_registers().offences.set_axis([10, 3, 7, 7, 1, 0])
    offences.iloc[3, offences.columns.get_loc("decision_date")] = day("2019-08-01")
    assert tiny_registers(offences=offences).problems() == [
        "offences.decision_date is before offence_date in 1 row (offence_id O0000004)"
    ]


def test_many_problems_are_reported_together():
    base = tiny_registers()
    persons = base.persons.drop(columns="municipality")
    offences = base.offences.copy()
    offences.loc[[1, 3, 4], "decision_date"] = offences.loc[
        [1, 3, 4], "offence_date"
    ] - pd.Timedelta(days=3)
    offences.loc[0, "sanction"] = "jail"
    custody = base.custody.assign(kind=["remand", "prison", "youth care", "remand"])
    regs = tiny_registers(persons=persons, offences=offences, custody=custody)
    expected = [
        "persons is missing the required column municipality: municipality of residence (kommun)",
        "offences.sanction has an unknown category in 1 row (offence_id O0000001): 'jail'; "
        "allowed: prison, probation, youth_care, fine, waiver, other",
        "custody.kind has an unknown category in 1 row (person_id P000003): 'youth care'; "
        "allowed: remand, prison, youth_care",
        "offences.decision_date is before offence_date in 3 rows "
        "(offence_id O0000002, O0000004, O0000005)",
    ]
    with pytest.raises(RegisterError) as info:
        regs.validate()
    assert info.value.problems == expected
    message = str(info.value)
    assert message.startswith("the registers have 4 problems:\n- persons is missing")
    assert all(f"- {p}" in message for p in expected)


def test_first_ids_are_listed_up_to_five():
    offences = tiny_registers().offences
    regs = tiny_registers(offences=offences.assign(sanction="jail"))
    (problem,) = regs.problems()
    assert problem == (
        "offences.sanction has an unknown category in 6 rows (offence_id O0000001, O0000002, "
        "O0000003, O0000004, O0000005, ...): 'jail'; allowed: prison, probation, youth_care, "
        "fine, waiver, other"
    )


# -- personal identity numbers ------------------------------------------------------------

# 811218-9876 is the Swedish Tax Agency's textbook example of a valid personnummer.
VALID = ["811218-9876", "8112189876", "19811218-9876", "198112189876", "811218+9876"]
# The same number as people and programs also write it: spaces, dashes of every kind,
# full-width digits (East Asian input), a label before it, ':' or '.' between the digits,
# a hyphen in the wrong place; and a coordination number (samordningsnummer, day + 60).
FORMS = [
    "811218 9876",
    "811218\u20139876",  # en dash
    "811218\u20149876",  # em dash
    "811218\u20109876",  # hyphen
    "811218\u22129876",  # minus sign
    "\uff18\uff11\uff11\uff12\uff11\uff18\uff0d\uff19\uff18\uff17\uff16",  # full width
    "PNR 811218-9876",
    "pnr:8112189876",
    "PNR8112189876",
    "Pers.nr. 19811218-9876",
    "P-811218-9876",
    " 811218-9876 ",
    "811218:9876",
    "8112.18.9876",
    "19811218 - 9876",
    "81121-89876",
    "811278-9873",
    "pnr\uff1a811218\uff0b9876",  # full-width colon and plus
]
# Not personal identity numbers: a wrong check digit, pseudonyms (one letter directly before
# the digits), 13 digits, no date in the number (month 13, all zeros), a wrong century.
NOT_PNR = [
    "811218-9875",
    "8112189875",
    "P811218-9876",
    "1981121898760",
    "P000001",
    "P-000123",
    "811318-9875",
    "0000000000",
    "218112189876",
]


def test_luhn_check_digit():
    digits = np.array([list(map(int, "8112189876")), list(map(int, "8112189875"))])
    assert luhn_valid(digits).tolist() == [True, False]


def test_what_looks_like_a_personnummer():
    flags = looks_like_personnummer(pd.Series(VALID + FORMS + NOT_PNR + [None, 7]))
    expected = [True] * len(VALID + FORMS) + [False] * (len(NOT_PNR) + 2)
    assert dict(zip(VALID + FORMS + NOT_PNR, flags.tolist(), strict=False)) == dict(
        zip(VALID + FORMS + NOT_PNR, expected, strict=False)
    )


def test_personal_identity_numbers_as_whole_numbers_and_categories():
    numbers = pd.Series([8112189876, 198112189876, 8112189875, 7], dtype="int64")
    assert looks_like_personnummer(numbers).tolist() == [True, True, False, False]
    nullable = pd.Series([8112189876, None], dtype="Int64")
    assert looks_like_personnummer(nullable).tolist() == [True, False]
    codes = pd.Series(pd.Categorical(["PNR 811218-9876", "x", None, "x"]))
    assert looks_like_personnummer(codes).tolist() == [True, False, False, False]


def _digits_of(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text) if c.isdigit())


@pytest.mark.parametrize("pnr", FORMS)
def test_any_form_in_any_column_is_refused_by_row_and_never_echoed(pnr):
    base = tiny_registers()
    persons = base.persons.assign(note=["a", pnr, None, "b"], id_number=[1, 2, 3, 8112189876])
    offences = base.offences.copy()
    offences.loc[2, "offence_id"] = pnr
    programme = base.programme.copy()
    programme.loc[3, "episode_id"] = pnr
    custody = base.custody.copy()
    custody.loc[1, "person_id"] = pnr
    problems = tiny_registers(
        persons=persons, offences=offences, programme=programme, custody=custody
    ).problems()
    advice = (
        "; this package only handles pseudonymised data: replace the ids by pseudonyms "
        "(such as P000001) before analysis"
    )
    flagged = [
        "persons.note looks like a Swedish personal identity number (personnummer) in 1 row "
        "(row 2)" + advice,
        "persons.id_number looks like a Swedish personal identity number (personnummer) in "
        "1 row (row 4)" + advice,
        "programme.episode_id looks like a Swedish personal identity number (personnummer) "
        "in 1 row (row 4)" + advice,
        "offences.offence_id looks like a Swedish personal identity number (personnummer) "
        "in 1 row (row 3)" + advice,
        "custody.person_id looks like a Swedish personal identity number (personnummer) in "
        "1 row (row 2)" + advice,
    ]
    assert all(message in problems for message in flagged), problems
    # The custody row's person is unknown: reported by row number, not by the number.
    assert "custody.person_id is not in persons in 1 row (row 2)" in problems
    assert len(problems) == len(flagged) + 1
    assert not any("9876" in _digits_of(p) or "811218" in _digits_of(p) for p in problems)


@pytest.mark.parametrize("pnr", VALID)
def test_personal_identity_numbers_are_refused_and_never_echoed(pnr):
    base = tiny_registers()
    persons = base.persons.copy()
    persons.loc[3, "person_id"] = pnr
    offences = base.offences.copy()
    offences.loc[4, "person_id"] = pnr
    problems = tiny_registers(persons=persons, offences=offences).problems()
    advice = (
        "; this package only handles pseudonymised data: replace the ids by pseudonyms "
        "(such as P000001) before analysis"
    )
    assert problems == [
        "persons.person_id looks like a Swedish personal identity number (personnummer) "
        "in 1 row (row 4)" + advice,
        "offences.person_id looks like a Swedish personal identity number (personnummer) "
        "in 1 row (row 5)" + advice,
    ]


def test_a_personnummer_is_not_echoed_by_other_messages():
    pnr = "19811218-9876"
    offences = tiny_registers().offences.copy()
    offences.loc[4, "person_id"] = pnr
    exits = tiny_registers().exits.assign(person_id=pnr)
    problems = tiny_registers(offences=offences, exits=exits).problems()
    assert "offences.person_id is not in persons in 1 row (offence_id O0000005)" in problems
    assert "exits.person_id is not in persons in 1 row (row 1)" in problems
    assert not any("9876" in p or "811218" in p for p in problems)


def test_numeric_pseudonyms_with_a_wrong_check_digit_are_accepted():
    base = tiny_registers()
    mapping = dict(
        zip(base.persons.person_id, NOT_PNR[:2] + ["0000000001", "0000000002"], strict=True)
    )
    renamed = {
        name: base.table(name).assign(person_id=lambda t: t.person_id.map(mapping))
        for name in ("persons", "programme", "offences", "custody", "exits")
    }
    assert tiny_registers(**renamed).problems() == []


def test_registers_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny_registers().persons = pd.DataFrame()  # type: ignore[misc]


def test_an_empty_persons_table_makes_every_other_id_unknown():
    regs = tiny_registers(persons=tiny_registers().persons.iloc[:0])
    assert regs.problems() == [
        "programme.person_id is not in persons in 4 rows (episode_id E000001, E000002, "
        "E000003, E000004)",
        "offences.person_id is not in persons in 6 rows (offence_id O0000001, O0000002, "
        "O0000003, O0000004, O0000005, ...)",
        "custody.person_id is not in persons in 4 rows (person_id P000001, P000001, P000003, "
        "P000001)",
        "exits.person_id is not in persons in 1 row (person_id P000002)",
    ]


def test_empty_tables_are_valid():
    regs = tiny_registers()
    empty = {name: regs.table(name).iloc[:0] for name in ("programme", "offences", "custody")}
    assert tiny_registers(**empty, exits=regs.exits.iloc[:0]).problems() == []


def test_a_personnummer_among_categories_is_refused_and_hidden():
    regs = edit("offences", 3, sanction="811218\u20139876")
    assert sorted(regs.problems()) == [
        "offences.sanction has an unknown category in 1 row (offence_id O0000004): "
        "<a personal identity number>; allowed: prison, probation, youth_care, fine, waiver, "
        "other",
        "offences.sanction looks like a Swedish personal identity number (personnummer) in 1 "
        "row (row 4); this package only handles pseudonymised data: replace the ids by "
        "pseudonyms (such as P000001) before analysis",
    ]


def test_long_values_are_cut_in_messages():
    # A broken quote may put the rest of a file into one cell; the message shows its start.
    (problem,) = edit("persons", 0, affiliation="g" * 100_000).problems()
    assert problem == (
        "persons.affiliation has an unknown category in 1 row (person_id P000001): "
        f"'{'g' * 39}…'; allowed: gang, network, peripheral"
    )
