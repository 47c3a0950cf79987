"""Text columns as Arrow strings, converted once per validation and shared by its checks.

Validation looks at every text column several times: emptiness, unique keys and categories
(the pandera schema), the personnummer pattern, the person look-ups. pandas does each of
these over Python string objects, one object at a time; Arrow does them in C++ over the
bytes. A column is converted to Arrow once (about a tenth of a second per 10 million ids)
and every check that can use Arrow reads it from here.

Only columns of Python objects that are all ``str`` or missing (``None``, NaN, ``pd.NA``)
are converted; for anything else :meth:`TextColumns.get` answers None and the checks fall
back to pandas, so the answers never depend on whether a column could be converted.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["TextColumns", "arrow_all_in", "arrow_is_unique", "as_arrow_text"]


def as_arrow_text(series: pd.Series) -> pa.Array | None:
    """The column as an Arrow string array (missing values as nulls), or None.

    None unless the column holds Python objects that are all text or missing.
    """
    if series.dtype != object:
        return None
    try:
        return pa.array(series.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers, dates, bytes ... among the text
        return None


class TextColumns:
    """Arrow strings of the text columns of some tables, converted on first use."""

    def __init__(
        self,
        frames: Mapping[str, pd.DataFrame],
        given: Mapping[tuple[str, str], pa.Array] | None = None,
    ) -> None:
        """``given``: Arrow strings the columns were made from (by reading), by (table, column).

        A given array must hold the column's values exactly (``None`` as null).
        """
        self._frames = frames
        self._given = given or {}
        self._arrays: dict[tuple[str, str], pa.Array | None] = {}

    def as_read(self, table: str, column: str) -> bool:
        """True when reading made the column from Arrow strings (so it holds text only)."""
        return (table, column) in self._given

    def get(self, table: str, column: str) -> pa.Array | None:
        """The column as Arrow strings, or None (absent, doubled, or not all text)."""
        key = (table, column)
        if key not in self._arrays:
            frame = self._frames.get(table)
            found = None
            if frame is not None and list(frame.columns).count(column) == 1:
                given = self._given.get(key)
                found = given if given is not None else as_arrow_text(frame[column])
            self._arrays[key] = found
        return self._arrays[key]


def arrow_is_unique(values: pa.Array) -> bool:
    """Whether no value occurs twice, as pandas counts it (two missing values are equal)."""
    if values.null_count > 1:
        return False
    present = values.drop_null() if values.null_count else values
    n = len(present)
    if n < 2:
        return True
    # Keys are often written in order: strictly increasing values are unique, and checking
    # that is a comparison of neighbours; otherwise count the distinct values by hashing.
    if pc.all(pc.less(present.slice(0, n - 1), present.slice(1))).as_py():
        return True
    return len(pc.unique(present)) == n


def arrow_all_in(values: pa.Array, allowed: object) -> bool:
    """Whether every value that is not missing is one of ``allowed``."""
    distinct = pc.unique(values).drop_null().to_pylist()
    return set(distinct) <= set(allowed)  # type: ignore[call-overload]
