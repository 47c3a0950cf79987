"""Wording of register problems, and the test for ids that look like personal identity numbers.

Every message names the table and column, counts the rows and lists the first offending ids
(or row numbers, counted from 1 as data rows of the table, when the id itself cannot be shown).
An id that looks like a Swedish personal identity number (personnummer) is never echoed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype

#: How many offending ids a message lists before it writes "...".
MAX_SHOWN = 5

# YYMMDD or YYYYMMDD, an optional separator (- below 100 years of age, + from 100), four digits.
_PNR_PATTERN = r"^(?:\d{6}|\d{8})[-+]?\d{4}$"


def rows_word(n: int) -> str:
    """'1 row' or 'n rows'."""
    return f"{n} row" if n == 1 else f"{n} rows"


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


def looks_like_personnummer(values: pd.Series) -> np.ndarray:
    """Boolean mask of values that look like real Swedish personal identity numbers.

    A value looks like one when it is 10 or 12 digits, optionally with ``-`` or ``+``
    before the last four, and the last 10 digits pass the Luhn check. Dates inside the
    number are not checked, so coordination numbers (samordningsnummer) are caught too.
    Only the distinct values are tested, which keeps a 10-million-row column fast.

    Examples
    --------
    >>> looks_like_personnummer(pd.Series(["P000001", "811218-9876", "198112189876", "8112189875"]))
    array([False,  True,  True, False])
    """
    none = np.zeros(len(values), dtype=bool)
    distinct = np.asarray(pd.unique(values.dropna()), dtype=object)
    if infer_dtype(distinct, skipna=False) != "string":
        distinct = distinct[[isinstance(v, str) for v in distinct]]
    if len(distinct) == 0:
        return none
    # Arrow's regex engine runs over a million distinct ids in well under a second.
    hit = pc.match_substring_regex(pa.array(distinct, type=pa.string()), _PNR_PATTERN)
    candidates = distinct[np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)]
    if len(candidates) == 0:
        return none
    digits_only = [c.replace("-", "").replace("+", "")[-10:] for c in candidates]
    digits = np.array([list(map(int, d)) for d in digits_only], dtype=np.int64).reshape(-1, 10)
    flagged = candidates[luhn_valid(digits)]
    return np.asarray(values.isin(flagged.tolist()), dtype=bool)


def describe_rows(table: pd.DataFrame, mask: np.ndarray, label: str | None) -> str:
    """'(offence_id O1, O2, O3)' for the first offending rows, or '(rows 4, 17)'.

    Row numbers are used when the label column is missing, when a listed id is empty, or
    when a listed id looks like a personal identity number, which must never be echoed.
    """
    positions = np.flatnonzero(mask)[:MAX_SHOWN]
    more = ", ..." if int(np.count_nonzero(mask)) > MAX_SHOWN else ""
    if label is not None and label in table.columns:
        ids = table[label].iloc[positions]
        if not ids.isna().any() and not looks_like_personnummer(ids).any():
            return f"({label} " + ", ".join(str(v) for v in ids) + more + ")"
    word = "row" if len(positions) == 1 and not more else "rows"
    return f"({word} " + ", ".join(str(p + 1) for p in positions) + more + ")"


def show_values(values: pd.Series) -> str:
    """The first distinct offending values, quoted; personal identity numbers are hidden."""
    distinct = pd.Series(pd.unique(values.astype(str)), dtype=object)
    hidden = looks_like_personnummer(distinct)
    shown = [
        "<a personal identity number>" if h else repr(v)
        for v, h in zip(distinct.iloc[:MAX_SHOWN], hidden[:MAX_SHOWN], strict=True)
    ]
    return ", ".join(shown) + (", ..." if len(distinct) > MAX_SHOWN else "")
