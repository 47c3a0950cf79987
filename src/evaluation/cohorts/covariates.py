"""Covariates at a time zero: who the person was on the entry date, from the registers only.

Everything is measured strictly before the entry date (a decision on the entry date itself
is the entry event, not a prior decision), over the five years Brå uses for "tidigare
lagföringar". The function is vectorised so that sequential-trial designs can pass millions
of person-months through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError, RegisterError
from evaluation._keyed import (
    SPAN,
    KeyedIntervals,
    make_keys,
    minus_years,
    to_days,
    whole_years,  # the one age rule: the synthetic truth's design population uses it too
    year_of,
)
from evaluation.registers import codes_read

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = [
    "AGE_GROUPS",
    "OFFENCE_CATEGORIES",
    "PRIOR_GROUPS",
    "age_group",
    "covariates_at",
    "person_codes",
    "table_codes",
    "prior_group",
]

AGE_GROUPS: tuple[str, ...] = ("15-17", "18-20", "21-29", "30-39", "40-59", "60+")
"""Brå's age bands at entry. Ages under 15 (below the age of criminal responsibility) get NA."""
_AGE_EDGES = np.array([15, 18, 21, 30, 40, 60])

PRIOR_GROUPS: tuple[str, ...] = ("0", "1", "2-3", "4-9", "10+")
"""Brå's bands of prior lagföringar in the five years before entry."""
_PRIOR_EDGES = np.array([0, 1, 2, 4, 10])

OFFENCE_CATEGORIES: tuple[str, ...] = ("violence", "weapons", "drugs", "property", "other")

LOOKBACK_YEARS = 5


def age_group(age: np.ndarray | pd.Series, *, min_age: int = 15) -> pd.Categorical:
    """Brå age bands of whole-year ages (NA below 15).

    A definition whose age of criminal responsibility is below 15 (``uk-proven``: 10)
    passes it as ``min_age``: ages from it to 14 get a band of their own, first.

    Examples
    --------
    >>> list(age_group(np.array([14, 15, 20, 21, 59, 60])))
    [nan, '15-17', '18-20', '21-29', '40-59', '60+']
    >>> list(age_group(np.array([9, 10, 14, 15]), min_age=10))
    [nan, '10-14', '10-14', '15-17']
    """
    a = np.asarray(age, dtype=np.float64)
    edges, groups = _AGE_EDGES, list(AGE_GROUPS)
    if min_age < 15:
        edges = np.r_[min_age, _AGE_EDGES]
        groups = [f"{min_age}-14", *groups]
    idx = np.searchsorted(edges, a, side="right") - 1
    idx = np.where(np.isnan(a), -1, idx)
    return pd.Categorical.from_codes(idx, categories=groups)


def prior_group(n_prior: np.ndarray | pd.Series) -> pd.Categorical:
    """Brå bands of prior decisions: 0, 1, 2-3, 4-9, 10+.

    Examples
    --------
    >>> list(prior_group(np.array([0, 1, 3, 4, 10, 25])))
    ['0', '1', '2-3', '4-9', '10+', '10+']
    """
    n = np.asarray(n_prior, dtype=np.int64)
    idx = np.searchsorted(_PRIOR_EDGES, n, side="right") - 1
    return pd.Categorical.from_codes(idx, categories=list(PRIOR_GROUPS))


def person_codes(
    persons: pd.DataFrame,
    ids: pd.Series | np.ndarray,
    *,
    table: str,
    index: pd.Index | None = None,
) -> np.ndarray:
    """Integer codes of ``ids`` in the order of ``persons.person_id``; unknown ids are an error.

    ``index`` is ``pd.Index(persons["person_id"])`` when the caller keeps one: its hash
    table is then built once for all the tables looked up.
    """
    if index is None:
        index = pd.Index(persons["person_id"])
    if not index.is_unique:
        raise EstimationError("persons.person_id has duplicate ids")
    # Ids are strings in the registers; an object-to-str copy of millions of ids costs more
    # than the hash look-up itself, so the values are looked up as they are. Register tables
    # usually list a person's rows together: then only the first id of each run is hashed.
    values = np.asarray(ids)
    if len(values) > 1:
        head = np.empty(len(values), dtype=bool)
        head[0] = True
        np.not_equal(values[1:], values[:-1], out=head[1:])
        starts = np.flatnonzero(head)
    else:
        starts = np.arange(len(values))
    if len(starts) < 0.5 * len(values):
        lengths = np.diff(np.append(starts, len(values)))
        codes = np.repeat(index.get_indexer(pd.Index(values[starts])), lengths).astype(np.int64)
    else:
        codes = index.get_indexer(pd.Index(values)).astype(np.int64)
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        first = ", ".join(map(str, np.asarray(ids)[bad[:5]]))
        raise EstimationError(
            f"{table}.person_id has {len(bad)} ids unknown to persons (first: {first})"
        )
    return codes


# Codes of each register table's person_id, for the last few registers objects. Hashing
# millions of id strings is the slowest step of cohort building, and every step needs the
# same codes. The cache holds the registers themselves, so an id() cannot be reused while
# its entry lives; registers are immutable (frozen, and their tables are not to be edited).
# The entry also keeps the persons' index (made when first needed), whose hash table all
# the tables' look-ups share. Registers just read come with their codes (registers._codes).
_CODES: dict[int, tuple[Registers, dict[str, np.ndarray], list[pd.Index]]] = {}
_CODES_KEEP = 2


_REQUIRED: dict[str, tuple[str, ...]] = {
    "persons": ("person_id", "sex", "birth_date", "municipality"),
    "programme": (
        "episode_id",
        "person_id",
        "municipality",
        "referral",
        "contact_date",
        "start_date",
        "end_date",
        "exit_reason",
    ),
    "offences": ("person_id", "offence_date", "decision_date", "category", "sanction"),
    "custody": ("person_id", "start_date", "end_date", "kind"),
    "exits": ("person_id", "date", "reason"),
}


def require_columns(registers: Registers, tables: tuple[str, ...] = tuple(_REQUIRED)) -> None:
    """Raise a RegisterError naming every missing column the cohort functions read."""
    problems = [
        f"{t}.{c} is missing"
        for t in tables
        for c in _REQUIRED[t]
        if c not in registers.table(t).columns
    ]
    if problems:
        raise RegisterError(
            f"the registers lack {len(problems)} columns needed for cohorts: "
            + "; ".join(problems),
            problems,
        )


def table_codes(registers: Registers, table: str) -> np.ndarray:
    """Person codes of ``registers.<table>.person_id`` (cached per registers object)."""
    entry = _CODES.get(id(registers))
    if entry is None or entry[0] is not registers:
        while len(_CODES) >= _CODES_KEEP:
            _CODES.pop(next(iter(_CODES)))
        entry = (registers, {}, [])
        _CODES[id(registers)] = entry
    cache, index = entry[1], entry[2]
    if table not in cache:
        found = codes_read(registers, table)
        if found is None:
            if not index:
                index.append(pd.Index(registers.persons["person_id"]))
            frame = registers.table(table)
            found = person_codes(registers.persons, frame["person_id"], table=table, index=index[0])
        cache[table] = found
    return cache[table]


def covariates_at(registers: Registers, index: pd.DataFrame) -> pd.DataFrame:
    """Covariates of each person at each time zero, from information before that date.

    Parameters
    ----------
    registers
        The registers (persons, offences, custody are read).
    index
        One row per person-time zero with columns ``person_id`` and ``entry_date``; any
        number of rows per person, any order.

    Returns
    -------
    DataFrame
        Aligned to ``index`` (same index, same order) with ``sex``, ``age`` (completed
        years at entry), ``age_group`` (Brå bands, NA under 15), ``prior_decisions_5y``
        (lagföringar, that is distinct decision dates, in the five years before entry),
        ``prior_group``, ``prior_custody_5y`` and ``prior_custody_days_5y`` (days in
        custody of any kind in the five years before entry), ``prior_<category>_5y``
        (offences of each category decided in those years), ``days_since_last_decision``
        (NaN if none ever), ``municipality`` (home municipality in ``persons``),
        ``entry_year`` and ``affiliation`` when ``persons`` has it.

    Raises
    ------
    EstimationError
        If ``index`` lacks a column, has missing entry dates or unknown persons.

    Notes
    -----
    The look-back is ``[entry - 5 years, entry)`` in calendar years. Only decided offences
    are known at entry, so prior offences are counted by decision date, as Brå does. A
    person's decisions on one date count as one lagföring.

    Examples
    --------
    >>> from evaluation.registers import Registers
    >>> reg = Registers(
    ...     persons=pd.DataFrame({"person_id": ["P1"], "sex": ["M"],
    ...         "birth_date": pd.to_datetime(["1990-06-01"]), "municipality": ["Botkyrka"]}),
    ...     programme=pd.DataFrame(columns=["episode_id", "person_id"]),
    ...     offences=pd.DataFrame({"offence_id": ["O1", "O2", "O3"], "person_id": ["P1"] * 3,
    ...         "offence_date": pd.to_datetime(["2014-01-01", "2014-01-02", "2016-01-01"]),
    ...         "decision_date": pd.to_datetime(["2014-05-01", "2014-05-01", "2016-06-01"]),
    ...         "category": ["violence", "drugs", "drugs"], "sanction": ["fine"] * 3}),
    ...     custody=pd.DataFrame({"person_id": ["P1"], "start_date": pd.to_datetime(["2015-01-01"]),
    ...         "end_date": pd.to_datetime(["2015-01-31"]), "kind": ["prison"]}),
    ...     exits=pd.DataFrame(columns=["person_id", "date", "reason"]),
    ...     study_start=pd.Timestamp("2010-01-01"), study_end=pd.Timestamp("2025-12-31"))
    >>> idx = pd.DataFrame({"person_id": ["P1"], "entry_date": pd.to_datetime(["2016-06-01"])})
    >>> row = covariates_at(reg, idx).iloc[0]
    >>> int(row.age), row.age_group, int(row.prior_decisions_5y), int(row.prior_custody_days_5y)
    (26, '21-29', 1, 30)
    """
    for col in ("person_id", "entry_date"):
        if col not in index.columns:
            raise EstimationError(f"index has no column {col!r}; it needs person_id and entry_date")
    entry = pd.to_datetime(index["entry_date"])
    missing = np.flatnonzero(entry.isna().to_numpy())
    if len(missing):
        rows = ", ".join(map(str, index.index[missing[:5]]))
        raise EstimationError(f"index.entry_date has {len(missing)} missing values (rows {rows})")
    require_columns(registers, ("persons", "offences", "custody"))
    codes = person_codes(registers.persons, index["person_id"], table="index")
    return covariates_from_codes(registers, codes, to_days(entry), index=index.index)


def covariates_from_codes(
    registers: Registers, codes: np.ndarray, t: np.ndarray, *, index: pd.Index | None = None
) -> pd.DataFrame:
    """:func:`covariates_at` for person codes and entry day numbers (no id hashing)."""
    out = covariate_columns(registers, codes, t)
    return pd.DataFrame(out, index=index if index is not None else pd.RangeIndex(len(codes)))


def covariate_columns(
    registers: Registers, codes: np.ndarray, t: np.ndarray, *, min_age: int = 15
) -> dict[str, Any]:
    """The covariate columns as a dict of arrays (one DataFrame is built by the caller).

    ``min_age`` is the definition's age of criminal responsibility (see :func:`age_group`).
    """
    persons = registers.persons
    lo = minus_years(t, LOOKBACK_YEARS)
    out: dict[str, Any] = {}
    out["sex"] = persons["sex"].to_numpy()[codes]
    birth = to_days(persons["birth_date"])[codes]
    age = whole_years(birth, t)
    out["age"] = age
    out["age_group"] = age_group(age, min_age=min_age)

    off = registers.offences
    off_codes = table_codes(registers, "offences")
    off_days = to_days(off["decision_date"])
    # One sort of the offences by person and decision date, and two binary searches of the
    # look-back's ends, serve every count below: the offences with keys in [lo, t) are the
    # sorted positions [a, b), so a count of those with some mark is a difference of the
    # mark's cumulative sum (a subset of sorted keys stays sorted: the same counts as
    # searching each subset, with 2 searches instead of 13).
    dkey = make_keys(off_codes, off_days)
    order = np.argsort(dkey, kind="stable")
    sorted_keys = dkey[order]
    a = np.searchsorted(sorted_keys, make_keys(codes, lo))
    b = np.searchsorted(sorted_keys, make_keys(codes, t))

    def marked_in_window(mark: np.ndarray) -> np.ndarray:
        cum = np.zeros(len(mark) + 1, dtype=np.int64)
        np.cumsum(mark, out=cum[1:])
        return cum[b] - cum[a]

    # One lagföring per person and decision date: the first offence of each run of keys.
    first = np.ones(len(sorted_keys), dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    n_prior = marked_in_window(first)
    out["prior_decisions_5y"] = n_prior
    out["prior_group"] = prior_group(n_prior)

    cus = registers.custody
    cus_codes = table_codes(registers, "custody")
    # Still in custody at extraction: the period runs past study_end.
    end_default = int(to_days(np.array([registers.study_end], dtype="datetime64[ns]"))[0]) + 1
    intervals = KeyedIntervals(
        cus_codes, to_days(cus["start_date"]), to_days(cus["end_date"], nat=end_default)
    )
    cdays = intervals.time_in(codes, lo, t)
    out["prior_custody_5y"] = cdays > 0
    out["prior_custody_days_5y"] = cdays

    cat_codes = pd.Categorical(off["category"], categories=list(OFFENCE_CATEGORIES)).codes
    sorted_cats = cat_codes[order]
    for i, cat in enumerate(OFFENCE_CATEGORIES):
        out[f"prior_{cat}_5y"] = marked_in_window(sorted_cats == i)

    # The last decision before t: the offence just before position b, if it is the person's.
    before = b - 1
    has = before >= 0
    safe = np.where(has, before, 0)
    if len(sorted_keys):
        has &= sorted_keys[safe] // SPAN == codes
        last = np.where(has, sorted_keys[safe] % SPAN, -1)
    else:
        last = np.full(len(codes), -1, dtype=np.int64)
    out["days_since_last_decision"] = np.where(last >= 0, t - last, np.nan)
    out["municipality"] = persons["municipality"].to_numpy()[codes]
    out["entry_year"] = year_of(t)
    if "affiliation" in persons.columns:
        out["affiliation"] = persons["affiliation"].to_numpy()[codes]
    return out
