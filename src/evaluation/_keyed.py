"""Pure numpy helpers: per-person event times searched for many query times at once.

Every cohort rule is "how many of this person's dates fall in [a, b)" or "the first of this
person's dates at or after t". With person codes ``0..n-1`` and dates as whole days, one
int64 key ``code * SPAN + day`` orders all persons' dates in one sorted array, so a single
``np.searchsorted`` answers the question for millions of query rows without a Python loop
over persons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Days are counted from 1800-01-01 so that every plausible date is a positive day number
# below SPAN (1800 + 2 * 10**5 / 365 years is far beyond any register date).
_ORIGIN = np.datetime64("1800-01-01", "D")
SPAN = np.int64(200_000)
# Stands in for "never" (NaT end of custody, no event): larger than any real day number.
NEVER = np.int64(SPAN - 1)


def to_days(
    values: pd.Series | pd.DatetimeIndex | np.ndarray, *, nat: int | None = None
) -> np.ndarray:
    """Return dates as int64 day numbers since 1800-01-01; NaT becomes ``nat`` (or -1)."""
    arr = np.asarray(values, dtype="datetime64[ns]")
    isnat = np.isnat(arr)
    days = arr.astype("datetime64[D]")
    out = (days - _ORIGIN).astype(np.int64)
    out[isnat] = -1 if nat is None else nat
    return out


def civil_from_days(epoch_days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day of month of days counted from 1970-01-01 (int64).

    The proleptic Gregorian calendar of ``datetime64`` by integer arithmetic (H. Hinnant's
    ``civil_from_days``): the same dates as ``astype("datetime64[Y]")`` and ``[M]``,
    several times faster on millions of rows, since numpy converts those one by one.

    Examples
    --------
    >>> days = np.array(["1969-12-31", "2000-02-29", "2100-03-01"], dtype="datetime64[D]")
    >>> [a.tolist() for a in civil_from_days(days.astype(np.int64))]
    [[1969, 2000, 2100], [12, 2, 3], [31, 29, 1]]
    """
    z = np.asarray(epoch_days, dtype=np.int64) + 719_468  # days from 0000-03-01
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097  # day of the 400-year era, 0 .. 146096
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)  # day of the year from 1 March
    mp = (5 * doy + 2) // 153  # month from March, 0 .. 11
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def year_and_day_of_year(epoch_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and ``month * 32 + day`` of days counted from 1970-01-01.

    The second number orders the days of a year as (month, day) does, so that a birthday
    is reached when ``month * 32 + day`` of the date is at least the birth's; 29 February
    counts as a day of its own (reached on 1 March in other years). Many rows share few
    distinct days, so both are computed once per day in the range and gathered.
    """
    days = np.asarray(epoch_days, dtype=np.int64)
    if days.size > 64:
        lo, hi = int(days.min()), int(days.max())
        if hi - lo < days.size:
            year, month, day = civil_from_days(np.arange(lo, hi + 1, dtype=np.int64))
            at = days - lo
            return year[at], (month * 32 + day)[at]
    year, month, day = civil_from_days(days)
    return year, month * 32 + day


def from_days(days: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_days` (day numbers to ``datetime64[ns]``)."""
    return (_ORIGIN + days.astype("timedelta64[D]")).astype("datetime64[ns]")


def minus_years(days: np.ndarray, years: float) -> np.ndarray:
    """Shift day numbers back by calendar ``years`` (whole years exactly, 29 Feb -> 28 Feb)."""
    return plus_years(days, -years)


def plus_years(days: np.ndarray, years: float) -> np.ndarray:
    """Shift day numbers by calendar ``years``; fractional years are taken as months.

    Calendar arithmetic (not 365.25 days) so that "within 1 year" of 2016-03-01 ends on
    2017-03-01 as Brå's windows do; the last day of a shorter month stands in for a day it
    does not have (2016-02-29 + 1 year = 2017-02-28). Many rows share few distinct days,
    so the shift is computed once per day in the range and gathered.
    """
    days = np.asarray(days, dtype=np.int64)
    months = int(round(years * 12))
    if days.size == 0:
        return days.copy()
    lo, hi = int(days.min()), int(days.max())
    if days.size > 64 and hi - lo < days.size:
        table = _shift_months(np.arange(lo, hi + 1, dtype=np.int64), months)
        return table[days - lo]
    return _shift_months(days, months)


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of day numbers (through a per-day table when rows share days)."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return days.copy()

    def direct(d: np.ndarray) -> np.ndarray:
        return (_ORIGIN + d.astype("timedelta64[D]")).astype("datetime64[Y]").astype(
            np.int64
        ) + 1970

    lo, hi = int(days.min()), int(days.max())
    if days.size > 64 and hi - lo < days.size:
        return direct(np.arange(lo, hi + 1, dtype=np.int64))[days - lo]
    return direct(days)


def _shift_months(days: np.ndarray, months: int) -> np.ndarray:
    d = _ORIGIN + days.astype("timedelta64[D]")
    month_start = d.astype("datetime64[M]")
    day_of_month = (d - month_start.astype("datetime64[D]")).astype(np.int64)
    target_month = month_start + np.timedelta64(months, "M")
    next_month = target_month + np.timedelta64(1, "M")
    month_len = (next_month.astype("datetime64[D]") - target_month.astype("datetime64[D]")).astype(
        np.int64
    )
    dom = np.minimum(day_of_month, month_len - 1)
    shifted = target_month.astype("datetime64[D]") + dom.astype("timedelta64[D]")
    return (shifted - _ORIGIN).astype(np.int64)


def n_distinct(values: np.ndarray) -> int:
    """Number of distinct non-negative integers (a bincount: faster than np.unique here)."""
    if len(values) == 0:
        return 0
    return int(np.count_nonzero(np.bincount(values)))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values of an int64 array, sorted (sort + diff)."""
    v = np.sort(values, kind="stable")
    if len(v) == 0:
        return v
    keep = np.ones(len(v), dtype=bool)
    keep[1:] = v[1:] != v[:-1]
    return v[keep]


def make_keys(codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Combine person codes and day numbers into one sortable int64 key."""
    return codes.astype(np.int64) * SPAN + days.astype(np.int64)


class KeyedDates:
    """Sorted per-person dates (optionally with values) for vectorised look-ups.

    Parameters
    ----------
    codes, days
        Person code and day number of each event; any order.
    values
        Optional per-event numbers summed by :meth:`sum_in`.
    """

    def __init__(self, codes: np.ndarray, days: np.ndarray, values: np.ndarray | None = None):
        keys = make_keys(codes, days)
        order = np.argsort(keys, kind="stable")
        self.order = order
        self.keys = keys[order]
        self.codes = codes[order].astype(np.int64)
        self.days = days[order].astype(np.int64)
        self.cum: np.ndarray | None = None
        if values is not None:
            v = np.asarray(values, dtype=np.float64)[order]
            self.cum = np.concatenate([[0.0], np.cumsum(v)])

    @classmethod
    def from_sorted_keys(cls, keys: np.ndarray) -> KeyedDates:
        """From keys of :func:`make_keys` already in ascending order (no sort)."""
        self = cls.__new__(cls)
        self.keys = np.asarray(keys, dtype=np.int64)
        self.order = np.arange(len(self.keys))
        self.codes = self.keys // SPAN
        self.days = self.keys % SPAN
        self.cum = None
        return self

    def position(self, codes: np.ndarray, days: np.ndarray, *, side: str = "left") -> np.ndarray:
        """Index of the first event of the person at day >= ``days`` ('left') or > ('right')."""
        return np.searchsorted(self.keys, make_keys(codes, days), side=side)  # type: ignore[call-overload]

    def count_in(self, codes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Number of the person's events with ``lo <= day < hi``."""
        return (self.position(codes, hi) - self.position(codes, lo)).astype(np.int64)

    def sum_in(self, codes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Sum of values of the person's events with ``lo <= day < hi``."""
        assert self.cum is not None
        return self.cum[self.position(codes, hi)] - self.cum[self.position(codes, lo)]

    def last_before(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Day of the person's last event strictly before ``days``; -1 if none."""
        pos = self.position(codes, days) - 1
        ok = pos >= 0
        safe = np.where(ok, pos, 0)
        ok &= self.codes[safe] == codes if len(self.codes) else np.zeros_like(ok)
        return np.where(ok, self.days[safe] if len(self.days) else -1, -1)

    def first_at_or_after(
        self, codes: np.ndarray, days: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Day and sorted index of the person's first event at or after ``days``.

        Returns ``(day, index)``; where there is none the day is ``NEVER`` and the index -1.
        """
        pos = self.position(codes, days)
        n = len(self.keys)
        ok = pos < n
        safe = np.where(ok, pos, 0)
        if n:
            ok &= self.codes[safe] == codes
            day = np.where(ok, self.days[safe], NEVER)
        else:
            day = np.full(len(days), NEVER, dtype=np.int64)
        return day, np.where(ok, pos, -1)


class KeyedIntervals:
    """Non-overlapping per-person intervals [start, end) for time-in-interval look-ups.

    Custody periods of one person do not overlap (the registers are validated for it), so
    the time spent inside intervals before day t is a cumulative sum over the sorted
    starts, minus the unfinished part of the interval that contains t.
    """

    def __init__(self, codes: np.ndarray, start: np.ndarray, end: np.ndarray):
        keys = make_keys(codes, start)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.codes = codes[order].astype(np.int64)
        self.start = start[order].astype(np.int64)
        self.end = np.maximum(end[order].astype(np.int64), self.start)
        self.cum = np.concatenate([[0], np.cumsum(self.end - self.start)])

    def time_before(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Days the person spent inside intervals before ``days`` (from the first interval)."""
        # k = index after the last interval of this person starting strictly before `days`
        k = np.searchsorted(self.keys, make_keys(codes, days), side="left")
        first = np.searchsorted(self.keys, make_keys(codes, np.zeros_like(days)), side="left")
        total = self.cum[k] - self.cum[first]
        has = k > first
        last = np.where(has, k - 1, 0)
        if len(self.end):
            overhang = np.where(has, np.maximum(self.end[last] - days, 0), 0)
        else:
            overhang = np.zeros_like(days)
        return (total - overhang).astype(np.int64)

    def time_in(self, codes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Days inside intervals within [lo, hi)."""
        return self.time_before(codes, hi) - self.time_before(codes, lo)

    def containing(self, codes: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether ``days`` falls inside an interval [start, end) of the person, and its end."""
        k = np.searchsorted(self.keys, make_keys(codes, days), side="right") - 1
        ok = k >= 0
        safe = np.where(ok, k, 0)
        if len(self.keys):
            ok &= (self.codes[safe] == codes) & (self.end[safe] > days)
            end = np.where(ok, self.end[safe], -1)
        else:
            end = np.full(len(days), -1, dtype=np.int64)
        return ok, end

    def next_start(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Start of the person's first interval starting after ``days``; NEVER if none."""
        pos = np.searchsorted(self.keys, make_keys(codes, days), side="right")
        n = len(self.keys)
        ok = pos < n
        safe = np.where(ok, pos, 0)
        if n:
            ok &= self.codes[safe] == codes
            return np.where(ok, self.start[safe], NEVER)
        return np.full(len(days), NEVER, dtype=np.int64)


def completed_years(birth_epoch_days: np.ndarray, at_epoch_days: np.ndarray) -> np.ndarray:
    """Completed years of age at ``at_epoch_days``, both counted from 1970-01-01 (the
    birthday counts on the day itself; 29 February is reached on 1 March in other years).

    The one age rule: the registers' age checks, the cohorts' age at entry and the
    synthetic truth's design population all count with it.
    """
    by, bmd = year_and_day_of_year(np.asarray(birth_epoch_days, dtype=np.int64))
    ty, tmd = year_and_day_of_year(np.asarray(at_epoch_days, dtype=np.int64))
    # (month, day) compared lexicographically as month * 32 + day.
    return ty - by - (tmd < bmd).astype(np.int64)


def whole_years(birth_days: np.ndarray, at_days: np.ndarray) -> np.ndarray:
    """Completed years of age at ``at_days`` (day numbers from 1800-01-01)."""
    shift = (np.datetime64("1800-01-01", "D") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    return completed_years(
        np.asarray(birth_days, dtype=np.int64) + shift, np.asarray(at_days, dtype=np.int64) + shift
    )
