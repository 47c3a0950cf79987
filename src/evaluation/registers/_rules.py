"""Row rules within and across tables: pseudonyms (in every column), known persons, order of
dates, overlaps, plausible birth dates, events after leaving the population and dates outside
the study window.

Every rule is vectorised (sorting, hashing, comparisons of whole columns), so that 10 million
offence rows are checked in seconds. A rule runs only when every column it needs is present
with the right type; the missing ones were reported before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import is_integer_dtype, is_object_dtype, is_string_dtype

from evaluation._keyed import completed_years
from evaluation.registers._messages import describe_rows, looks_like_personnummer, rows_word
from evaluation.registers._schema import ROW_LABEL, TABLES, spec
from evaluation.registers._text import TextColumns, arrow_is_unique

# (table, column, earlier column, message): the column must not be before the earlier one.
_ORDER: tuple[tuple[str, str, str, str], ...] = (
    ("programme", "start_date", "contact_date", "programme.contact_date is after start_date"),
    ("programme", "end_date", "start_date", "programme.end_date is before start_date"),
    ("offences", "decision_date", "offence_date", "offences.decision_date is before offence_date"),
    ("custody", "end_date", "start_date", "custody.end_date is before start_date"),
)

# Date columns and whether they are bounded below by study_start and above by study_end.
# Birth dates are naturally before the window; an offence decided in the window may have
# been committed before it; a custody period may have begun before the window as long as it
# reaches into it (its end is bounded below).
_WINDOW: dict[str, tuple[tuple[str, bool, bool], ...]] = {
    "persons": (("birth_date", False, True),),
    "programme": (
        ("contact_date", True, True),
        ("start_date", True, True),
        ("end_date", True, True),
    ),
    "offences": (("offence_date", False, True), ("decision_date", True, True)),
    "custody": (("start_date", False, True), ("end_date", True, True)),
    "exits": (("date", True, True),),
}

# Events that cannot happen after the person left the population (death or emigration).
_AFTER_EXIT: dict[str, tuple[str, ...]] = {
    "programme": ("contact_date", "start_date", "end_date"),
    "offences": ("offence_date",),
    "custody": ("start_date", "end_date"),
}

# Events that cannot happen before the person was born.
_BEFORE_BIRTH: dict[str, tuple[str, ...]] = {
    "programme": ("contact_date",),
    "offences": ("offence_date",),
    "custody": ("start_date",),
    "exits": ("date",),
}

# Nobody born before 1900 is alive in registers of the 2000s; such a date is an error of
# entry (1815 for 2015) that would put a 200-year-old into the oldest age group.
_EARLIEST_BIRTH = pd.Timestamp("1900-01-01")
_EARLIEST_BIRTH_TEXT = "persons.birth_date is before 1900-01-01 (not a plausible birth date)"

_PNR_ADVICE = (
    "this package only handles pseudonymised data: replace the ids by pseudonyms "
    "(such as P000001) before analysis"
)


class _People:
    """The persons table as an index: each row of another table gets its person's position.

    One hash lookup per table replaces separate joins for unknown ids, birth dates, exit
    dates and overlaps; ``code`` is -1 where the person is not in ``persons``.
    """

    def __init__(
        self, persons: pd.DataFrame, birth_ok: bool, arrow: pa.Array | None = None
    ) -> None:
        ids = persons["person_id"]
        if arrow is not None and arrow.null_count == 0 and arrow_is_unique(arrow):
            # The usual case, ids present and unique: every row is its person's first.
            first = np.ones(len(ids), dtype=bool)
            self.index = arrow
            self.as_read = True  # positions in the index are the rows of persons
            self.pnr_rows = looks_like_personnummer(ids, arrow=arrow)
            self.pnr = self.pnr_rows
            self.birth = persons["birth_date"].to_numpy() if birth_ok else None
            return
        first = (ids.notna() & ~ids.duplicated()).to_numpy()
        self.index = _arrow_text(ids[first])
        self.as_read = False
        self.pnr_rows = looks_like_personnummer(ids, arrow=arrow)
        self.pnr = self.pnr_rows[first]
        self.birth = persons["birth_date"].to_numpy()[first] if birth_ok else None

    def codes(self, ids: pd.Series, arrow: pa.Array | None = None) -> np.ndarray:
        # Arrow hashes the id bytes in C++, about three times faster than a pandas Index of
        # Python strings on 10 million offence rows.
        found = pc.index_in(_arrow_text(ids) if arrow is None else arrow, value_set=self.index)
        return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)

    def lookup(self, values: np.ndarray | None, codes: np.ndarray) -> np.ndarray | None:
        """The person's value for each row; NaT where the person is unknown."""
        if values is None:
            return None
        if len(values) == 0:  # no persons: every row is unknown
            return np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[ns]")
        out = values[np.maximum(codes, 0)]
        out[codes < 0] = np.datetime64("NaT")
        return out


#: Sweden's age of criminal responsibility (straffmyndighetsålder, brottsbalken 1:6):
#: nobody can be lagförd for an offence committed before the 15th birthday.
MIN_AGE = 15


def ordinal(n: int) -> str:
    """'1st', '2nd', '3rd', '15th' (English ordinals for messages)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def before_birthday(birth: np.ndarray, at: np.ndarray, years: int) -> np.ndarray:
    """Whether each date ``at`` is before the person's ``years``-th birthday.

    Ages are completed years with the birthday counted on the day itself; a 29 February
    birthday is reached on 1 March in other years, as ``evaluation.cohorts`` counts ages
    at entry. Missing dates (NaT) are never before.

    Examples
    --------
    >>> b = pd.to_datetime(["2000-02-29", "2000-02-29", "2001-06-15"]).to_numpy()
    >>> t = pd.to_datetime(["2015-02-28", "2015-03-01", "2016-06-15"]).to_numpy()
    >>> before_birthday(b, t, 15).tolist()
    [True, False, False]
    """
    b, b_nat = _epoch_days(birth)
    t, t_nat = _epoch_days(at)
    # ``years`` calendar years last at most 366 days each, so a date that many days after
    # the birth is past the birthday: only the dates nearer the birth need the calendar.
    near = np.flatnonzero(~(b_nat | t_nat) & (t - b < 366 * years))
    before = np.zeros(len(t), dtype=bool)
    before[near] = completed_years(b[near], t[near]) < years
    return before


def _epoch_days(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days from 1970-01-01 (rounded down, as ``astype("datetime64[D]")``) and the NaT mask."""
    values = np.asarray(dates)
    if values.dtype == np.dtype("datetime64[ns]"):  # integer division: no calendar needed
        ns = values.view(np.int64)
        return np.floor_divide(ns, 86_400 * 10**9), ns == np.iinfo(np.int64).min
    days = np.asarray(values, dtype="datetime64[D]")
    return days.view(np.int64), np.isnat(days)


def offences_before_age(offences: pd.DataFrame, birth: np.ndarray, min_age: int) -> np.ndarray:
    """Offences committed after the person's birth but before the ``min_age``-th birthday.

    ``birth`` is the person's birth date of each offence row (NaT where unknown). Offences
    before birth itself are a problem of their own and are not repeated here.
    """
    when = offences["offence_date"].to_numpy()
    born = ~np.isnat(np.asarray(birth, dtype="datetime64[ns]")) & (when >= birth)
    return born & before_birthday(birth, when, min_age)


def under_age_message(offences: pd.DataFrame, mask: np.ndarray, min_age: int, advice: str) -> str:
    """The message for offences before the age of criminal responsibility.

    Names the offence ids and the row numbers (counted from 1 as data rows of the table).
    """
    label = ROW_LABEL["offences"] if ROW_LABEL["offences"] in offences.columns else None
    ids = describe_rows(offences, mask, label)
    rows = describe_rows(offences, mask, None)
    where = ids if ids == rows else f"{ids[:-1]}; {rows[1:]}"
    return (
        f"offences.offence_date is before the person's {ordinal(min_age)} birthday "
        f"(persons.birth_date) in {rows_word(int(mask.sum()))} {where}: nobody under "
        f"{min_age} can be lagförd (the age of criminal responsibility); {advice}"
    )


_AGE_ADVICE = (
    "check birth_date and offence_date, or, for registers from a country where the age "
    "is lower, give it as min_age in meta.json or to validate(min_age=...)"
)


def check_rules(
    frames: Mapping[str, pd.DataFrame],
    usable: Mapping[str, set[str]],
    window: tuple[pd.Timestamp, pd.Timestamp] | None,
    *,
    min_age: int = MIN_AGE,
    text: TextColumns | None = None,
    found: Mapping[str, np.ndarray] | None = None,
) -> list[str]:
    """Every row-rule problem of the tables, given which columns are usable.

    ``min_age`` is the age of criminal responsibility: offences committed before it are
    refused (0 turns the check off). ``text`` holds the text columns as Arrow strings,
    converted once for all checks (converted here when not given). ``found`` holds, by
    table, each row's position among the persons' rows as reading found it (every id
    known; the codes ``read_folder`` keeps, ``ReadResult.codes``): used instead of a
    look-up of every row's id when the persons' ids are unique and present, which is when
    reading keeps them.
    """
    problems: list[str] = []
    text = text if text is not None else TextColumns(frames)

    def has(name: str, *columns: str) -> bool:
        return name in frames and all(c in usable[name] for c in columns)

    def report(name: str, mask: np.ndarray, text: str) -> None:
        if mask.any():
            label = ROW_LABEL[name] if has(name, ROW_LABEL[name]) else None
            problems.append(
                f"{text} in {rows_word(int(mask.sum()))} {describe_rows(frames[name], mask, label)}"
            )

    people = (
        _People(frames["persons"], has("persons", "birth_date"), text.get("persons", "person_id"))
        if has("persons", "person_id")
        else None
    )
    codes: dict[str, np.ndarray] = {}
    for name in TABLES:
        if not has(name, "person_id"):
            continue
        ids = frames[name]["person_id"]
        arrow = text.get(name, "person_id")
        if people is None:
            pnr = looks_like_personnummer(ids, arrow=arrow)
        elif name == "persons":
            pnr = people.pnr_rows
        else:
            read = (found or {}).get(name) if people.as_read else None
            # Reading found every row's person (10M offences: a hash probe per row saved).
            code = codes[name] = people.codes(ids, arrow) if read is None else read
            unknown = code < 0
            unknown[unknown] = ids[unknown].notna().to_numpy()  # an empty id is reported as such
            # Known ids were tested in persons; only the unknown ones need the pattern.
            pnr = np.zeros(len(ids), dtype=bool)
            if len(people.pnr):
                pnr = np.where(code >= 0, people.pnr[np.maximum(code, 0)], False)
            if unknown.any():
                pnr[unknown] = looks_like_personnummer(ids[unknown])
            report(name, unknown, f"{name}.person_id is not in persons")
        if pnr.any():
            problems.append(_pnr_problem(frames[name], name, "person_id", pnr))
    # Every other column that can hold text or whole numbers: other ids, categories and the
    # user's own columns (a personnummer kept as a covariate is as identifying as an id).
    for name, frame in frames.items():
        for position, column in enumerate(frame.columns):
            if column == "person_id" and has(name, "person_id"):
                continue  # tested above, person by person
            series = frame.iloc[:, position]
            if not _may_hold_numbers(series):
                continue
            known = spec(name, str(column))
            pnr = looks_like_personnummer(
                series,
                few=known is not None and known.kind == "category",
                arrow=text.get(name, column) if isinstance(column, str) else None,
            )
            if pnr.any():
                problems.append(_pnr_problem(frame, name, str(column), pnr))

    if has("persons", "birth_date"):
        born = frames["persons"]["birth_date"]
        report("persons", (born < _EARLIEST_BIRTH).to_numpy(), _EARLIEST_BIRTH_TEXT)

    for name, later, earlier, message in _ORDER:
        if has(name, later, earlier):
            table = frames[name]
            report(name, (table[later] < table[earlier]).to_numpy(), message)

    if has("programme", "end_date", "exit_reason"):
        programme = frames["programme"]
        ongoing = (programme["exit_reason"] == "ongoing").to_numpy()
        open_ended = programme["end_date"].isna().to_numpy()
        report(
            "programme",
            ongoing & ~open_ended,
            "programme.exit_reason is 'ongoing' but end_date is set",
        )
        report(
            "programme",
            ~ongoing & open_ended & programme["exit_reason"].notna().to_numpy(),
            "programme.end_date is empty (ongoing) but exit_reason is not 'ongoing'",
        )

    for name, what in (("programme", "episodes"), ("custody", "periods")):
        if has(name, "person_id", "start_date", "end_date"):
            mask = _overlaps(frames[name], codes.get(name), "start_date", "end_date")
            report(name, mask, f"{name} has overlapping {what} of one person")

    if people is not None:
        _person_dates(frames, people, codes, has, report)
        if (
            min_age > 0
            and people.birth is not None
            and "offences" in codes
            and has("offences", "offence_date")
        ):
            birth = people.lookup(people.birth, codes["offences"])
            assert birth is not None
            young = offences_before_age(frames["offences"], birth, min_age)
            if young.any():
                problems.append(under_age_message(frames["offences"], young, min_age, _AGE_ADVICE))

    if window is not None:
        start, end = window
        for name, rules in _WINDOW.items():
            for column, lower, upper in rules:
                if not has(name, column):
                    continue
                values = frames[name][column]
                if lower:
                    report(
                        name,
                        (values < start).to_numpy(),
                        f"{name}.{column} is before study_start ({start.date()})",
                    )
                if upper:
                    report(
                        name,
                        (values > end).to_numpy(),
                        f"{name}.{column} is after study_end ({end.date()})",
                    )
    return problems


def _pnr_problem(frame: pd.DataFrame, name: str, column: str, mask: np.ndarray) -> str:
    # Row numbers only: the value itself must not be repeated anywhere.
    return (
        f"{name}.{column} looks like a Swedish personal identity number (personnummer) in "
        f"{rows_word(int(mask.sum()))} {describe_rows(frame, mask, None)}; {_PNR_ADVICE}"
    )


def _may_hold_numbers(series: pd.Series) -> bool:
    """True for columns of text (object, string, categorical) or of whole numbers."""
    dtype = series.dtype
    return (
        is_object_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
        or is_string_dtype(dtype)
        or is_integer_dtype(dtype)
    )


def _arrow_text(ids: pd.Series) -> pa.Array:
    """A text column as an Arrow string array (missing values become nulls)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        ids = ids.astype(object)
    return pa.array(ids.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _person_dates(
    frames: Mapping[str, pd.DataFrame],
    people: _People,
    codes: Mapping[str, np.ndarray],
    has: Callable[..., bool],
    report: Callable[[str, np.ndarray, str], None],
) -> None:
    """Events after the person's exit or before the person's birth."""
    exit_date = None
    if has("exits", "person_id", "date") and "exits" in codes:
        exit_date = np.full(len(people.index), np.datetime64("NaT"), dtype="datetime64[ns]")
        code = codes["exits"]
        known = np.flatnonzero(code >= 0)[::-1]  # reversed: the first exit of a person wins
        exit_date[code[known]] = frames["exits"]["date"].to_numpy()[known]
    checks = (
        (exit_date, _AFTER_EXIT, "after the person's death or emigration (exits.date)", True),
        (people.birth, _BEFORE_BIRTH, "before the person's birth_date", False),
    )
    for dates, columns_of, phrase, after in checks:
        if dates is None:
            continue
        for name, columns in columns_of.items():
            if name not in codes or not has(name, *columns):
                continue
            bound = people.lookup(dates, codes[name])
            assert bound is not None
            for column in columns:
                values = frames[name][column].to_numpy()
                mask = (values > bound) if after else (values < bound)
                report(name, mask, f"{name}.{column} is {phrase}")


def _overlaps(
    table: pd.DataFrame, person_codes: np.ndarray | None, start: str, end: str
) -> np.ndarray:
    """Rows whose period starts before an earlier period of the same person has ended.

    Periods are sorted by person and start; an empty end means the period is still open
    and overlaps everything after it. Touching periods (one ends the day the next starts,
    as remand turns into prison) do not overlap.
    """
    mask = np.zeros(len(table), dtype=bool)
    valid = (table["person_id"].notna() & table[start].notna()).to_numpy()
    if valid.sum() < 2:
        return mask
    rows = np.flatnonzero(valid)
    if person_codes is None or (person_codes[rows] < 0).any():
        person = pd.factorize(table["person_id"].to_numpy()[rows])[0]
    else:
        person = person_codes[rows]
    begin = table[start].to_numpy()[rows].astype(np.int64)
    finish = table[end].to_numpy()[rows]
    finish = np.where(pd.isna(finish), np.iinfo(np.int64).max, finish.astype(np.int64))
    order = np.lexsort((begin, person))
    person, begin, finish = person[order], begin[order], finish[order]
    latest_end = pd.Series(finish).groupby(person).cummax().to_numpy()
    same = np.r_[False, person[1:] == person[:-1]]
    previous_end = np.r_[np.iinfo(np.int64).min, latest_end[:-1]]
    overlapping = same & (begin < previous_end)
    mask[rows[order[overlapping]]] = True
    return mask
