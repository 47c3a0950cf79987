"""Wording of register problems.

Every message names the table and column, counts the rows and lists the first offending ids
(or row numbers, counted from 1 as data rows of the table, when the id itself cannot be shown).
An id that looks like a Swedish personal identity number (personnummer, see ``_pnr``) is never
echoed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.registers._pnr import looks_like_personnummer, luhn_valid

__all__ = [
    "describe_rows",
    "looks_like_personnummer",
    "luhn_valid",
    "rows_word",
    "show_values",
]

#: How many offending ids a message lists before it writes "...".
MAX_SHOWN = 5
#: Longest value a message repeats; longer ones are cut (a whole file may sit in one cell).
MAX_CHARS = 40


def rows_word(n: int) -> str:
    """'1 row' or 'n rows'."""
    return f"{n} row" if n == 1 else f"{n} rows"


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
        "<a personal identity number>" if h else repr(_cut(v))
        for v, h in zip(distinct.iloc[:MAX_SHOWN], hidden[:MAX_SHOWN], strict=True)
    ]
    return ", ".join(shown) + (", ..." if len(distinct) > MAX_SHOWN else "")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
