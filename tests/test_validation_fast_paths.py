"""The fast paths of validation and of ages give the answers of the slow ones they replace.

Validation screens each column of the pandera schema in Arrow before pandera runs (only
failing columns go to pandera), and ages are counted by integer calendar arithmetic instead
of numpy's ``datetime64[Y]``/``[M]`` conversions; both must agree with what they replace
on every input, including missing values and 29 February.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

# no public names: the helpers under test
from evaluation._keyed import civil_from_days, year_and_day_of_year
from evaluation.cohorts.covariates import whole_years
from evaluation.registers._rules import before_birthday
from evaluation.registers._text import arrow_all_in, arrow_is_unique


def _numpy_calendar(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, months.astype(np.int64) % 12 + 1, day


def _numpy_before_birthday(birth: np.ndarray, at: np.ndarray, years: int) -> np.ndarray:
    """The former implementation, through numpy's calendar conversions."""
    b, t = birth.astype("datetime64[D]"), at.astype("datetime64[D]")
    known = ~(np.isnat(b) | np.isnat(t))
    b, t = np.where(known, b, np.datetime64(0, "D")), np.where(known, t, np.datetime64(0, "D"))
    by, bm, bd = _numpy_calendar(b.astype(np.int64))
    ty, tm, td = _numpy_calendar(t.astype(np.int64))
    return known & (ty - by - (tm * 32 + td < bm * 32 + bd) < years)


def test_the_calendar_of_day_numbers_is_numpys():
    days = np.arange(-150_000, 150_000, 7, dtype=np.int64)  # 1559 to 2380, every 7th day
    leap = np.array(["1900-02-28", "1900-03-01", "2000-02-29", "2024-02-29"], "datetime64[D]")
    days = np.concatenate([days, leap.astype(np.int64)])
    expected = _numpy_calendar(days)
    for got, want in zip(civil_from_days(days), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    # the per-day table (many rows, few days) and the direct path (few rows)
    many = np.repeat(np.arange(10_950, 11_050, dtype=np.int64), 3)
    for sample in (many, days[:50]):
        year, month_day = year_and_day_of_year(sample)
        want_year, want_month, want_day = _numpy_calendar(sample)
        np.testing.assert_array_equal(year, want_year)
        np.testing.assert_array_equal(month_day, want_month * 32 + want_day)


def test_ages_are_those_of_numpys_calendar():
    rng = np.random.default_rng(20151)
    n = 20_000
    birth_days = rng.integers(-25_000, 15_000, n)  # 1901 to 2011
    birth_days[:200] = np.datetime64("2000-02-29", "D").astype(np.int64)
    at_days = birth_days + rng.integers(-400, 30_000, n)
    at_days[200:400] = np.datetime64("2015-02-28", "D").astype(np.int64) + rng.integers(0, 3, 200)
    birth = birth_days.astype("datetime64[D]").astype("datetime64[ns]")
    at = at_days.astype("datetime64[D]").astype("datetime64[ns]")
    birth[rng.random(n) < 0.02] = np.datetime64("NaT")
    at[rng.random(n) < 0.02] = np.datetime64("NaT")
    for years in (0, 10, 15, 18):
        for b, t in ((birth, at), (birth[:40], at[:40])):  # table and direct paths
            np.testing.assert_array_equal(
                before_birthday(b, t, years), _numpy_before_birthday(b, t, years)
            )
    origin = (np.datetime64("1800-01-01", "D") - np.datetime64("1970-01-01", "D")).astype(int)
    by, bm, bd = _numpy_calendar(birth_days)
    ty, tm, td = _numpy_calendar(at_days)
    np.testing.assert_array_equal(
        whole_years(birth_days - origin, at_days - origin),
        ty - by - (tm * 32 + td < bm * 32 + bd),
    )


_TEXT = st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "Malmö", ""])), max_size=8)


@settings(max_examples=200, deadline=None)
@given(values=_TEXT)
def test_the_arrow_screen_answers_as_pandas(values):
    series = pd.Series(values, dtype=object)
    arrow = pa.array(values, type=pa.string())
    assert arrow_is_unique(arrow) == series.is_unique
    allowed = ["a", "Malmö"]
    assert arrow_all_in(arrow, allowed) == bool((series.isin(allowed) | series.isna()).all())
