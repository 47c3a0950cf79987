"""The register schema: tables, columns, kinds, categories and keys (ARCHITECTURE.md).

One declaration drives reading (how each column is parsed), writing (how it is formatted),
the pandera schemas (presence, emptiness, categories, unique keys) and the hand-written
checks (dates, order, cross-table rules).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pandera.pandas as pa

TABLES: tuple[str, ...] = ("persons", "programme", "offences", "custody", "exits")

Kind = Literal["id", "date", "category"]

MUNICIPALITIES: tuple[str, ...] = (
    "Botkyrka",
    "Stockholm",
    "Malmö",
    "Göteborg",
    "Uppsala",
    "Landskrona",
    "Örebro",
    "Borlänge",
    "Borås",
    "other",
)
SEXES: tuple[str, ...] = ("F", "M")
AFFILIATIONS: tuple[str, ...] = ("gang", "network", "peripheral")
REFERRALS: tuple[str, ...] = ("police", "social_services", "prison_service", "self", "other")
EXIT_REASONS: tuple[str, ...] = ("completed", "dropped_out", "moved", "died", "ongoing")
OFFENCE_CATEGORIES: tuple[str, ...] = ("violence", "weapons", "drugs", "property", "other")
SANCTIONS: tuple[str, ...] = ("prison", "probation", "youth_care", "fine", "waiver", "other")
CUSTODY_KINDS: tuple[str, ...] = ("remand", "prison", "youth_care")
EXIT_KINDS: tuple[str, ...] = ("death", "emigration")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One known column: its name, kind, whether it must exist and whether it may be empty."""

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    categories: tuple[str, ...] = ()
    meaning: str = ""


def _id(name: str, meaning: str) -> ColumnSpec:
    return ColumnSpec(name, "id", meaning=meaning)


def _date(name: str, meaning: str, *, nullable: bool = False) -> ColumnSpec:
    return ColumnSpec(name, "date", nullable=nullable, meaning=meaning)


def _cat(
    name: str, categories: tuple[str, ...], meaning: str, *, required: bool = True
) -> ColumnSpec:
    return ColumnSpec(
        name,
        "category",
        required=required,
        nullable=not required,
        categories=categories,
        meaning=meaning,
    )


#: The known columns of each table, required ones first, in the order of ARCHITECTURE.md.
SPECS: dict[str, tuple[ColumnSpec, ...]] = {
    "persons": (
        _id("person_id", "pseudonymised person id"),
        _cat("sex", SEXES, "sex (kön)"),
        _date("birth_date", "date of birth"),
        _cat("municipality", MUNICIPALITIES, "municipality of residence (kommun)"),
        _cat("affiliation", AFFILIATIONS, "gang affiliation", required=False),
    ),
    "programme": (
        _id("episode_id", "programme episode id"),
        _id("person_id", "pseudonymised person id"),
        _cat("municipality", MUNICIPALITIES, "municipality running the programme"),
        _cat("referral", REFERRALS, "who referred the person"),
        _date("contact_date", "first contact"),
        _date("start_date", "programme start"),
        _date("end_date", "programme end (empty = ongoing)", nullable=True),
        _cat("exit_reason", EXIT_REASONS, "how the episode ended"),
    ),
    "offences": (
        _id("offence_id", "offence id"),
        _id("person_id", "pseudonymised person id"),
        _date("offence_date", "date of the offence (brottsdatum)"),
        _date("decision_date", "date of the legal decision (lagföring)"),
        _cat("category", OFFENCE_CATEGORIES, "offence category"),
        _cat("sanction", SANCTIONS, "sanction (påföljd)"),
    ),
    "custody": (
        _id("person_id", "pseudonymised person id"),
        _date("start_date", "start of custody"),
        _date("end_date", "end of custody (empty = still in custody)", nullable=True),
        _cat("kind", CUSTODY_KINDS, "kind of custody"),
    ),
    "exits": (
        _id("person_id", "pseudonymised person id"),
        _date("date", "date of leaving the population"),
        _cat("reason", EXIT_KINDS, "death or emigration"),
    ),
}

#: Columns whose values must be unique within their table.
KEYS: dict[str, str] = {
    "persons": "person_id",
    "programme": "episode_id",
    "offences": "offence_id",
    # A person leaves the population once; cohort code joins on it.
    "exits": "person_id",
}

#: The column that names a row in messages (custody has no key of its own).
ROW_LABEL: dict[str, str] = {
    "persons": "person_id",
    "programme": "episode_id",
    "offences": "offence_id",
    "custody": "person_id",
    "exits": "person_id",
}

DATE_DTYPE = "datetime64[ns]"


def spec(table: str, column: str) -> ColumnSpec | None:
    """Return the spec of a known column, or None for a column the schema does not know."""
    for col in SPECS[table]:
        if col.name == column:
            return col
    return None


def known_columns(table: str) -> list[str]:
    """Names of the known columns of one table, required first."""
    return [col.name for col in SPECS[table]]


@functools.lru_cache(maxsize=64)
def value_schema(table: str, usable: frozenset[str]) -> pa.DataFrameSchema:
    """The pandera schema of one table's values, restricted to columns of the right type.

    Column presence and dtypes are checked before (so that a mistyped column gives one
    message instead of one failure per row); this schema checks emptiness, categories and
    unique keys, collecting every failure with lazy validation.
    """
    columns: dict[str, pa.Column] = {}
    for col in SPECS[table]:
        if col.name not in usable:
            continue
        checks = []
        if col.kind == "category":
            checks.append(pa.Check.isin(list(col.categories)))
        columns[col.name] = pa.Column(
            checks=checks,
            nullable=col.nullable,
            unique=KEYS.get(table) == col.name,
            required=False,
        )
    # strict=False keeps unknown columns; they are the user's covariates.
    return pa.DataFrameSchema(columns, strict=False, name=table)


def is_date_dtype(series: pd.Series) -> bool:
    """True when a column holds timezone-free nanosecond dates (the package's date type)."""
    return str(series.dtype) == DATE_DTYPE
