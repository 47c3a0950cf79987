"""Swedish personal identity numbers (personnummer) in any written form, to refuse them.

The package only handles pseudonymised data, so a value that looks like a real personal
identity number (or a coordination number, samordningsnummer) is refused wherever it
appears, and never repeated in a message. People and programs write these numbers in
many ways: ``811218-9876``, ``19811218 9876``, ``811218–9876`` (en dash), full-width digits
from East Asian input methods, ``PNR 811218-9876``, ``pnr:8112189876``, ``8112.18.9876``,
with spaces around. A value is therefore normalised before it is tested:

1. Unicode NFKC (full-width digits become ASCII digits), every dash or hyphen (Unicode
   category Pd, and the minus sign) becomes ``-``, surrounding spaces are removed;
2. an optional label before the digits is removed: letters followed by a separator
   (``PNR 81...``, ``P-81...``, ``nr: 81...``) or two or more letters directly before them
   (``PNR8112189876``). A single letter directly before the digits (``P000001``,
   ``P811218-9876``) is how pseudonyms are written and is kept, so such a value is not taken
   for a personnummer;
3. what is left must be digits with spaces, ``-``, ``+``, ``:`` or ``.`` between them, 10
   or 12 digits in all.

The 10 digits ``YYMMDDNNNC`` must then form a date (the day may be raised by 60, as in a
coordination number; 29 February is allowed in any year, since the century is unknown),
12 digits must start with the century 18, 19 or 20 and form a real date, and the last
digit must be the Luhn check digit of the other nine. The date test keeps counters and
sequential pseudonyms (``0000000001``) from being taken for personal identity numbers: one
random 10-digit number in about 140 passes both tests, against one in 10 for the check
digit alone.
"""

from __future__ import annotations

import calendar
import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import is_integer_dtype

__all__ = [
    "hide_numbers",
    "looks_like_personnummer",
    "luhn_valid",
    "personnummer_digits",
    "personnummer_problem",
    "split_personnummer",
]

# A cheap first filter, run by Arrow over every distinct value: at least ten decimal digits
# (any script; full-width digits are decimal digits too). Only those values are normalised.
_TEN_DIGITS = r"(?:\p{Nd}[^\p{Nd}]*){10}"

# After normalisation: an optional label, optional separators, then the number itself.
_FORM = re.compile(
    r"(?P<label>[^\W\d_]+(?:\.[^\W\d_]+)*)?"  # PNR, pnr, Pers.nr, P
    r"(?P<sep>[\s:#.\-]*)"
    r"(?P<number>\d(?:[\s:.+\-]*\d)*)"
)

# Runs of digits and separators in free text (library messages): hidden when 10+ digits.
_RUN = re.compile(r"\d(?:[\s:.+\-\u2010-\u2015\u2212]*\d)+")


def luhn_valid(digits: np.ndarray) -> np.ndarray:
    """Luhn check of each row of a (n, 10) array of digits, as for the personnummer.

    Digits in even positions (0, 2, ...) are doubled, the digit sums of the products and
    the other digits are added, and the number is valid when the total is divisible by 10.

    Examples
    --------
    >>> luhn_valid(np.array([[8, 1, 1, 2, 1, 8, 9, 8, 7, 6], [8, 1, 1, 2, 1, 8, 9, 8, 7, 5]]))
    array([ True, False])
    """
    weights = np.array([2, 1] * 5)
    products = digits * weights
    total = (products // 10 + products % 10).sum(axis=1)
    return total % 10 == 0


def _normalise(value: str) -> str:
    value = unicodedata.normalize("NFKC", value)
    dashed = "".join("-" if c == "\u2212" or unicodedata.category(c) == "Pd" else c for c in value)
    return dashed.strip()


def personnummer_digits(value: str) -> str | None:
    """The 10 or 12 digits of a value written like a personal identity number, else None.

    Only the form is tested here (label, separators, number of digits); see
    :func:`looks_like_personnummer` for the date and the check digit.

    Examples
    --------
    >>> personnummer_digits(" PNR: 19811218–9876 ")
    '198112189876'
    >>> personnummer_digits("P811218-9876") is None  # a pseudonym's one-letter prefix
    True
    """
    split = split_personnummer(value)
    return None if split is None else split[0]


def split_personnummer(value: str) -> tuple[str, bool] | None:
    """The digits of a value written like a personal identity number, and whether a ``+``
    stands between them (the person is 100 or older); None when it is not written so.

    The forms are those of :func:`personnummer_digits`.

    Examples
    --------
    >>> split_personnummer("181218+9874")
    ('1812189874', True)
    >>> split_personnummer("P811218-9876") is None
    True
    """
    match = _FORM.fullmatch(_normalise(value))
    if match is None:
        return None
    label = match.group("label")
    if label is not None and not match.group("sep") and len(label) == 1:
        return None
    number = match.group("number")
    digits = "".join(str(unicodedata.decimal(c)) for c in number if c.isdecimal())
    return (digits, "+" in number) if len(digits) in (10, 12) else None


def _is_date(year: int | None, month: int, day: int) -> bool:
    if day > 60:  # a coordination number (samordningsnummer): the day plus 60
        day -= 60
    if not 1 <= month <= 12 or day < 1:
        return False
    if year is None:  # two-digit year: any century, so 29 February is allowed
        return day <= (29 if month == 2 else calendar.monthrange(2001, month)[1])
    return day <= calendar.monthrange(year, month)[1]


def personnummer_problem(digits: str) -> str | None:
    """Why 10 or 12 digits are not a personal identity number, or None when they are one.

    12 digits must start with the century 18, 19 or 20; the date must exist (the day may be
    raised by 60, a coordination number; 29 February in any year when the century is not
    written); the last digit must be the Luhn check digit of the nine before it.

    Examples
    --------
    >>> personnummer_problem("8112189876") is None
    True
    >>> personnummer_problem("8113189876"), personnummer_problem("8112189875")
    ('not a date', 'wrong check digit')
    """
    if len(digits) == 12:
        if digits[:2] not in ("18", "19", "20"):
            return "a century other than 18, 19 or 20"
        year: int | None = int(digits[:4])
        digits = digits[2:]
    else:
        year = None
    if not _is_date(year, int(digits[2:4]), int(digits[4:6])):
        return "not a date"
    if not luhn_valid(np.array([[int(d) for d in digits]]))[0]:
        return "wrong check digit"
    return None


def _valid(digits: str) -> bool:
    return personnummer_problem(digits) is None


def looks_like_personnummer(
    values: pd.Series, *, few: bool = False, arrow: pa.Array | None = None
) -> np.ndarray:
    """Boolean mask of values that look like real Swedish personal identity numbers.

    A value looks like one when, written in any of the forms of this module's description
    (separators, dashes, full-width digits, a label such as ``PNR``), it holds 10 or 12
    digits that form a date and end with a valid Luhn check digit. Coordination numbers
    (samordningsnummer, day plus 60) are caught too. Text and integer columns are tested;
    other values are not.

    Arrow's regex engine first keeps the values with at least ten digits (a 10-million-row
    id column in about a second); only those are normalised and tested in Python. With
    ``few`` (categories), the distinct values are found first, which is faster when there
    are few of them. ``arrow``, when given, is the same column already converted to Arrow
    strings (validation converts each text column once for all its checks).

    Examples
    --------
    >>> looks_like_personnummer(
    ...     pd.Series(["P000001", "811218-9876", "PNR 19811218 9876", "8112189875", "P-000123"])
    ... )
    array([False,  True,  True, False, False])
    """
    none = np.zeros(len(values), dtype=bool)
    if isinstance(values.dtype, pd.CategoricalDtype):
        flagged = looks_like_personnummer(pd.Series(values.cat.categories))
        if not flagged.any():
            return none
        return np.asarray(values.isin(values.cat.categories[flagged]), dtype=bool)
    if is_integer_dtype(values.dtype):
        numbers = values.dropna().astype("int64")
        size = numbers.abs()
        big = numbers[(size >= 10**9) & (size < 10**12)]
        hits = [int(v) for v in pd.unique(big) if _is_personnummer(str(v))]
        return np.asarray(values.isin(hits), dtype=bool) if hits else none
    if few:
        if arrow is not None:
            distinct = pd.Series(pc.unique(arrow).drop_null().to_pylist(), dtype=object)
        else:
            distinct = pd.Series(pd.unique(values.dropna()), dtype=object)
        flagged = looks_like_personnummer(distinct)
        hits = distinct[flagged].tolist()
        return np.asarray(values.isin(hits), dtype=bool) if hits else none
    text = _arrow_text(values) if arrow is None else arrow
    many = pc.fill_null(pc.match_substring_regex(text, _TEN_DIGITS), False)
    candidates = np.asarray(many.to_numpy(zero_copy_only=False), dtype=bool)
    if not candidates.any():
        return none
    hits = [v for v in pd.unique(values[candidates]) if _is_personnummer(v)]
    return candidates & np.asarray(values.isin(hits), dtype=bool) if hits else none


def _is_personnummer(value: str) -> bool:
    digits = personnummer_digits(value)
    return digits is not None and _valid(digits)


def _arrow_text(values: pd.Series) -> pa.Array:
    """The text values of a column as Arrow strings; anything else (numbers, dates) is null."""
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # a column mixing text and other values
        objects = values.to_numpy(dtype=object)
        text = np.array([isinstance(v, str) for v in objects], dtype=bool)
        return pa.array(np.where(text, objects, None), type=pa.string(), from_pandas=True)


def hide_numbers(text: str) -> str:
    """Text with every run of ten or more digits (with separators between) as ``<number>``.

    For messages of other libraries, which may quote a cell; a number that long may be a
    personal identity number in any form. Numbers written next to it (``12: 811218 - 9876``)
    are hidden with it: better one number too many than a personnummer repeated.

    Examples
    --------
    >>> hide_numbers("in line 3 'PNR 811218 - 9876,M', field limit (131072)")
    "in line 3 'PNR <number>,M', field limit (131072)"
    """
    text = unicodedata.normalize("NFKC", text)

    def hide(match: re.Match[str]) -> str:
        run = match.group(0)
        return "<number>" if sum(c.isdecimal() for c in run) >= 10 else run

    return _RUN.sub(hide, text)
