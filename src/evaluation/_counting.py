"""Brå's counting rules in day numbers: the follow-up window, the buffer, the entry event.

The cohorts and the synthetic truth both count by these rules, so they live below both
layers (ARCHITECTURE.md, "Layers"): the generator must not import the cohorts.

Follow-up window and buffer: the one day arithmetic of "relapse within w years".

Every count of relapse within a window goes through these functions: the window flags of
:func:`~evaluation.cohorts.relapse_cohort` and the Brå share the synthetic generator writes
to ``truth.json`` (``evaluation.synthetic._truth``). Two implementations of the same rule
had drifted apart on four boundary days before (issue 10); one function cannot.

The rule (Brå, *Återfall i brott. Beskrivning av statistiken*): a relapse is a new offence
committed within the follow-up time after the entry event that leads to a new lagföring;
the lagföring must come within the buffer (eftersläpningstid) after the follow-up time has
ended, so that slow court cases are counted. In days, for an entry on day ``e``, a window
of ``w`` years and a buffer of ``b`` years:

- the window runs from the entry day itself to the day before its anniversary
  ``end = e + w years`` (calendar years, :func:`~evaluation._keyed.plus_years`):
  an offence counts when ``e <= offence_date < end``. Day 0 is inside: an offence on the
  entry day decided later is a relapse, while the offences decided at the entry itself
  belong to the entry (hence ``decision_date > e``). Day 364 after 2016-03-01
  (2017-02-28) is the last day; day 365 (2017-03-01) is outside. A window that holds a
  29 February has 366 days;
- the decision must come before ``deadline = end + b years``: the last buffer day is the
  day before that anniversary of the window's end;
- a 29 February has no anniversary in other years: the last day of February stands in for
  it (as in pandas' ``DateOffset`` and R's ``%m+%``), so a window from 2016-02-29 ends
  before 2017-02-28 and its last day is 2017-02-27;
- the window can be measured when every decision it needs is in the registers:
  ``deadline <= study_end + 1 day``.

Day numbers are whole days on any common origin; calendar shifts assume the origin of
:func:`~evaluation._keyed.to_days` (1800-01-01), so callers with days since another
date convert first (:func:`days_from`).

References
----------
Brå (2023). Återfall i brott. Beskrivning av statistiken. Brottsförebyggande rådet.
Ministry of Justice (2023). Proven reoffending statistics: definitions and measurement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation._keyed import NEVER, KeyedDates, KeyedIntervals, make_keys, plus_years, to_days

__all__ = [
    "custodial_without_release",
    "days_from",
    "in_window",
    "measurable",
    "window_deadline",
    "window_end",
]


def days_from(origin: str | pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Whole days since ``origin`` as day numbers of :func:`~evaluation._keyed.to_days`.

    Examples
    --------
    >>> int(days_from("1800-01-01", np.array([3]))[0])
    3
    """
    base = int(to_days(np.array([pd.Timestamp(origin)], dtype="datetime64[ns]"))[0])
    return np.asarray(days, dtype=np.int64) + base


def window_end(entry_days: np.ndarray, years: float) -> np.ndarray:
    """First day after a window of ``years`` from each entry day (its anniversary).

    Examples
    --------
    >>> from evaluation._keyed import from_days
    >>> e = to_days(pd.to_datetime(["2016-03-01", "2016-02-29"]))
    >>> [str(d)[:10] for d in from_days(window_end(e, 1))]
    ['2017-03-01', '2017-02-28']
    """
    return plus_years(np.asarray(entry_days, dtype=np.int64), years)


def window_deadline(end_days: np.ndarray, buffer_years: float) -> np.ndarray:
    """First day after the buffer that follows windows ending (exclusively) on ``end_days``.

    Examples
    --------
    >>> from evaluation._keyed import from_days
    >>> end = window_end(to_days(pd.to_datetime(["2016-03-01"])), 1)
    >>> str(from_days(window_deadline(end, 1))[0])[:10]
    '2018-03-01'
    """
    return plus_years(np.asarray(end_days, dtype=np.int64), buffer_years)


def in_window(
    entry_days: np.ndarray,
    offence_days: np.ndarray,
    decision_days: np.ndarray,
    end_days: np.ndarray,
    deadline_days: np.ndarray,
) -> np.ndarray:
    """Whether each (entry, offence) pair is a relapse of the window (element-wise).

    The offence is committed on or after the entry day and before the window's end, and
    decided after the entry day and before the deadline (see the module docstring).

    Examples
    --------
    >>> e = to_days(pd.to_datetime(["2016-03-01"] * 4))
    >>> o = to_days(pd.to_datetime(["2016-03-01", "2017-02-28", "2017-03-01", "2016-06-01"]))
    >>> d = to_days(pd.to_datetime(["2016-04-01", "2018-02-28", "2017-04-01", "2018-03-01"]))
    >>> end = window_end(e, 1)
    >>> in_window(e, o, d, end, window_deadline(end, 1)).tolist()
    [True, True, False, False]
    """
    return (
        (offence_days >= entry_days)
        & (decision_days > entry_days)
        & (offence_days < end_days)
        & (decision_days < deadline_days)
    )


def measurable(deadline_days: np.ndarray, study_end_day: int) -> np.ndarray:
    """Whether every decision a window needs is in registers extracted on ``study_end_day``."""
    return np.asarray(deadline_days) <= study_end_day + 1


def custodial_without_release(
    codes: np.ndarray,
    days: np.ndarray,
    release_codes: np.ndarray,
    release_start: np.ndarray,
    release_end: np.ndarray,
) -> np.ndarray:
    """Which custodial decisions have no prison or youth-care period that releases them.

    Registers do not link a sentence to the period in which it is served, so the link is
    read off the dates: a custodial decision of a person on day ``d`` is served in a
    period of kind prison or youth care that is in progress on ``d`` (``start <= d < end``;
    the person is already serving, or remand turned into prison) or that starts on or
    after ``d`` and before the person's next custodial decision. Without such a period
    the sentence was served entirely in remand (or not at all before death, emigration or
    extraction), and the decision itself is the entry event (Brå: the release replaces the
    decision only when there is a release).

    Parameters
    ----------
    codes, days
        Person code and day number of each custodial decision (one per person and day).
    release_codes, release_start, release_end
        The prison and youth-care periods (``NEVER`` as end where still open).

    Returns
    -------
    ndarray of bool
        True where the decision has no release.

    Examples
    --------
    >>> c = np.array([0, 0, 1])
    >>> d = np.array([10, 50, 10])
    >>> # person 0: prison from day 60 (after the second decision); person 1: from day 12
    >>> custodial_without_release(c, d, np.array([0, 1]), np.array([60, 12]), np.array([90, 40]))
    array([ True, False, False])
    """
    codes = np.asarray(codes, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    if len(codes) == 0:
        return np.zeros(0, dtype=bool)
    periods = KeyedIntervals(
        np.asarray(release_codes, dtype=np.int64),
        np.asarray(release_start, dtype=np.int64),
        np.asarray(release_end, dtype=np.int64),
    )
    serving, _ = periods.containing(codes, days)
    # The person's next custodial decision (NEVER for the last one).
    key = make_keys(codes, days)
    order = np.argsort(key, kind="stable")
    next_day = np.full(len(codes), NEVER, dtype=np.int64)
    same = codes[order][1:] == codes[order][:-1]
    next_day[order[:-1][same]] = days[order][1:][same]
    starts = KeyedDates(periods.codes, periods.start)
    first_start, _ = starts.first_at_or_after(codes, days)
    return ~serving & (first_start >= next_day)
