"""Random corruptions of a valid register are always caught, in memory and through files.

Hypothesis breaks the tiny register in one to three different ways (drop a required
column, garble a date, duplicate a key, swap start and end, insert an unknown category, a
valid-looking personnummer in any id column and written form, an unknown person id, an
empty required value, an event after death, overlapping custody, a decision after
extraction), writes it as CSV or Parquet and reads it back. Every run must end in a
RegisterError listing problems, never in another exception (a pandas or Arrow traceback),
and no message may repeat a personnummer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import RegisterError
from evaluation.registers import Registers

# no public name: the column specifications that drive validation, to draw tables from
from evaluation.registers._schema import SPECS
from registers_helpers import tiny_registers

Tables = dict[str, pd.DataFrame]
Draw = Callable[..., object]

REQUIRED = {name: [c.name for c in specs if c.required] for name, specs in SPECS.items()}
CATEGORIES = {
    (name, c.name): c.categories for name, specs in SPECS.items() for c in specs if c.categories
}
ID_COLUMNS = {name: [c.name for c in specs if c.kind == "id"] for name, specs in SPECS.items()}
NOT_NULL = {
    name: [c.name for c in specs if c.required and not c.nullable] for name, specs in SPECS.items()
}


def row(draw: Draw, table: pd.DataFrame) -> int:
    return int(draw(st.integers(0, len(table) - 1)))


def drop_column(tables: Tables, draw: Draw) -> str | None:
    name = draw(st.sampled_from(sorted(REQUIRED)))
    tables[name] = tables[name].drop(columns=draw(st.sampled_from(REQUIRED[name])))
    return None


def garble_date(tables: Tables, draw: Draw) -> str | None:
    name, column = draw(
        st.sampled_from(
            [
                ("persons", "birth_date"),
                ("programme", "start_date"),
                ("offences", "decision_date"),
                ("custody", "start_date"),
                ("exits", "date"),
            ]
        )
    )
    table = tables[name].copy()
    text = table[column].dt.strftime("%Y-%m-%d").astype(object)
    garbage = draw(
        st.sampled_from(["2015-13-01", "2015-02-30", "01/02/2015", "yesterday", "20150101"])
        | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1)
    )
    text.iloc[row(draw, table)] = garbage
    table[column] = text  # the column is now text: a mistyped column in memory
    tables[name] = table
    return None


def duplicate_key(tables: Tables, draw: Draw) -> str | None:
    name = draw(st.sampled_from(["persons", "programme", "offences", "exits"]))
    table = tables[name]
    tables[name] = pd.concat([table, table.iloc[[row(draw, table)]]], ignore_index=True)
    return None


def swap_start_end(tables: Tables, draw: Draw) -> str | None:
    name, start, end = draw(
        st.sampled_from(
            [
                ("programme", "start_date", "end_date"),
                ("custody", "start_date", "end_date"),
                ("offences", "offence_date", "decision_date"),
            ]
        )
    )
    table = tables[name].copy()
    closed = np.flatnonzero(table[end].notna().to_numpy())
    i = int(draw(st.sampled_from(closed.tolist())))
    if table[start].dtype != table[end].dtype:  # one was garbled into text: swap as text
        table[[start, end]] = table[[start, end]].astype(object)
    table.loc[i, [start, end]] = table.loc[i, [end, start]].to_numpy()
    tables[name] = table
    return None


def unknown_category(tables: Tables, draw: Draw) -> str | None:
    name, column = draw(st.sampled_from(sorted(CATEGORIES)))
    table = tables[name].copy()
    value = draw(
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1).filter(
            lambda v: v not in CATEGORIES[(name, column)]
        )
    )
    table.loc[row(draw, table), column] = value
    tables[name] = table
    return None


@st.composite
def personnummer(draw: Draw) -> str:
    """A birth date (or its day + 60, a coordination number), three digits and a valid check
    digit, in any of the written forms."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    day = born.day + draw(st.sampled_from([0, 60]))
    serial = draw(st.lists(st.integers(0, 9), min_size=3, max_size=3))
    digits = [int(d) for d in f"{born:%y%m}{day:02d}"] + [int(d) for d in serial]
    weights = [2, 1, 2, 1, 2, 1, 2, 1, 2]
    total = sum(p // 10 + p % 10 for p in (d * w for d, w in zip(digits, weights, strict=True)))
    number = "".join(map(str, digits)) + str((10 - total % 10) % 10)
    century = draw(st.sampled_from(["", f"{born.year // 100}"]))
    separator = draw(st.sampled_from(["", "-", "+", " ", "\u2013"]))
    label = draw(st.sampled_from(["", "", "PNR ", "pnr:"]))
    return label + century + number[:6] + separator + number[6:]


def insert_personnummer(tables: Tables, draw: Draw) -> str | None:
    pnr = draw(personnummer())
    name = draw(st.sampled_from(sorted(SPECS)))
    table = tables[name].copy()
    # Any id column: the person's, the episode's or the offence's.
    column = draw(st.sampled_from([c for c in ID_COLUMNS[name] if c in table.columns]))
    table.loc[row(draw, table), column] = pnr
    tables[name] = table
    return pnr


def unknown_person(tables: Tables, draw: Draw) -> str | None:
    name = draw(st.sampled_from(["programme", "offences", "custody", "exits"]))
    table = tables[name].copy()
    table.loc[row(draw, table), "person_id"] = "X" + str(draw(st.integers(0, 10**6)))
    tables[name] = table
    return None


def empty_value(tables: Tables, draw: Draw) -> str | None:
    name = draw(st.sampled_from(sorted(NOT_NULL)))
    table = tables[name].copy()
    column = draw(st.sampled_from(NOT_NULL[name]))
    table.loc[row(draw, table), column] = None
    tables[name] = table
    return None


def event_after_death(tables: Tables, draw: Draw) -> str | None:
    # P000002 died 2019-06-30; move their offence (O0000003, row 2) after that.
    offences = tables["offences"].copy()
    days = int(draw(st.integers(1, 2000)))
    offences.loc[2, "offence_date"] = pd.Timestamp("2019-06-30") + pd.Timedelta(days=days)
    offences.loc[2, "decision_date"] = offences.loc[2, "offence_date"] + pd.Timedelta(days=30)
    tables["offences"] = offences
    return None


def overlapping_custody(tables: Tables, draw: Draw) -> str | None:
    custody = tables["custody"].copy()
    days = int(draw(st.integers(1, 40)))
    custody.loc[1, "start_date"] = custody.loc[0, "end_date"] - pd.Timedelta(days=days)
    tables["custody"] = custody
    return None


def decision_after_extraction(tables: Tables, draw: Draw) -> str | None:
    offences = tables["offences"].copy()
    days = int(draw(st.integers(1, 3000)))
    offences.loc[row(draw, offences), "decision_date"] = pd.Timestamp("2025-12-31") + pd.Timedelta(
        days=days
    )
    tables["offences"] = offences
    return None


CORRUPTIONS = [
    drop_column,
    garble_date,
    duplicate_key,
    swap_start_end,
    unknown_category,
    insert_personnummer,
    unknown_person,
    empty_value,
    event_after_death,
    overlapping_custody,
    decision_after_extraction,
]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_corruptions_are_always_caught(data):
    kinds = data.draw(
        st.lists(st.sampled_from(CORRUPTIONS), min_size=1, max_size=3, unique=True), label="kinds"
    )
    regs = tiny_registers()
    tables = {name: regs.table(name) for name in SPECS}
    # Dropping a column last keeps the other corruptions from editing a column that is gone.
    kinds.sort(key=lambda kind: kind is drop_column)
    secrets = [kind(tables, data.draw) for kind in kinds]
    secrets = [s for s in secrets if s is not None]
    broken = tiny_registers(**tables)

    # Each example takes one path, to keep the test fast: the object in memory, or the
    # files written from it and read back.
    path = data.draw(st.sampled_from(["memory", "csv", "parquet"]), label="path")
    if path == "memory":
        problems = broken.problems()
    else:
        with tempfile.TemporaryDirectory() as folder:
            try:
                broken.write(folder, format=path)
            except RegisterError as err:  # a column mixing types cannot be written
                problems = err.problems
            else:
                with pytest.raises(RegisterError) as info:
                    Registers.read(folder)
                problems = info.value.problems
    assert problems
    for secret in secrets:
        digits = "".join(c for c in secret if c.isdigit())
        assert not any(secret in p or digits[-10:] in p for p in problems)
