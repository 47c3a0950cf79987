"""Disclosure control of tables: primary and secondary suppression of small counts.

Register data on crime are confidential; everything the package writes is aggregated and
checked so that no count of fewer than ``min_cell`` persons can be read, or worked out, from
the output.

The algorithm (:func:`suppress_small_cells`)
-------------------------------------------
1. **Primary suppression.** Every count in ``1 .. min_cell - 1`` is suppressed. Zero is not
   suppressed: an empty cell says nothing about an individual (Hundepool et al. 2012, §5.2
   treat zeros as non-sensitive unless the zero itself discloses a group attribute).
2. **Secondary (complementary) suppression by lines.** A table with totals is a set of linear
   relations ("lines"): the cells of a row add up to the row total, the cells of a column
   (or of one block of rows, such as the sexes or the age groups of a Brå table) add up to the
   column total. A line with exactly one suppressed cell gives that cell back by subtraction.
   So, in every line with exactly one suppressed cell, the next-smallest cell of that line is
   suppressed too (the smallest *positive* visible cell, a zero only when no positive cell is
   left; totals are members of their lines and may be chosen). This is repeated until no line
   has exactly one suppressed cell (a fixed point). This is the classical hand rule for
   frequency tables (Hundepool et al. 2012, §4.2 and §5.3; Eurostat/ESSnet *Handbook on
   Statistical Disclosure Control*, "secondary cell suppression"; Statistics Sweden's practice
   for published tables, where suppressed cells are shown as "..").
3. **Audit by linear algebra.** The line rule is not enough for every pattern (several lines
   with two suppressed cells each can still pin a cell down jointly). So the suppressed cells
   are then treated as the unknowns of the whole system of table relations: a cell is
   *recoverable* exactly when its unit vector lies in the row space of the relations
   restricted to the unknowns, that is when the null space of that matrix has a zero in the
   cell's coordinate. While some suppressed cell is recoverable, the smallest visible cell of a
   line through it is suppressed as well. The loop ends because every round suppresses one
   more cell; a :class:`~evaluation.DisclosureError` is raised if no cell is left to suppress.

What this guarantees: no suppressed count can be computed exactly from the published counts
and totals by the table's own additive relations. It does not give interval (bounds)
protection in the sense of linear-programming audits (tau-Argus), and relations that are not
equalities (for example ``relapsed_1y <= relapsed_2y <= n``) are not used.

Shares are shown only where the denominator is at least ``min_cell`` and both the numerator
and the denominator are shown (a share times a visible denominator would give a suppressed
numerator back).

Display: suppressed cells are written as ``..`` (Statistics Sweden's and Brå's symbol for a
value that is not shown), with a footnote from the label table (``suppressed_footnote``).

References
----------
Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt, E.,
Spicer, K. and de Wolf, P.-P. (2012). *Statistical Disclosure Control*. Wiley.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg

from evaluation._errors import DisclosureError
from evaluation.presentation._cells import DEFAULT_MIN_CELL
from evaluation.presentation.formatting import format_number, format_percent
from evaluation.presentation.labels import check_lang, label

#: Symbol written in place of a suppressed value (Statistics Sweden, Brå).
SUPPRESSED = ".."

__all__ = ["SUPPRESSED", "SuppressedTable", "suppress_small_cells"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressedTable:
    """A table after disclosure control.

    Attributes
    ----------
    table : DataFrame
        The input values with every suppressed count and share set to NaN.
    mask : DataFrame of bool
        True where a value is suppressed (primary or secondary), same shape as ``table``.
    primary : DataFrame of bool
        True where a count was suppressed because it is in ``1 .. min_cell - 1``.
    min_cell : int
        The threshold used.
    counts, shares : tuple of str
        The count columns and the share columns.
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    min_cell: int
    counts: tuple[str, ...]
    shares: tuple[str, ...]

    @property
    def n_suppressed(self) -> int:
        """Number of suppressed values (counts and shares)."""
        return int(self.mask.to_numpy().sum())

    @property
    def secondary(self) -> pd.DataFrame:
        """True where a count was suppressed only to protect another cell."""
        count_mask = self.mask.copy()
        count_mask.loc[:, list(self.shares)] = False
        return count_mask & ~self.primary

    def display(self, lang: str = "sv", *, share_decimals: int = 0) -> pd.DataFrame:
        """The table as text for publication: ``..`` where suppressed, local number format.

        Counts are whole numbers with the language's thousands separator, shares are
        whole-number percentages (as Brå prints them) unless ``share_decimals`` says otherwise,
        missing values are an en dash, and other columns are left as they are.

        Examples
        --------
        >>> t = pd.DataFrame({"n": [12, 3]}, index=["a", "b"])
        >>> suppress_small_cells(t).display()["n"].tolist()
        ['12', '..']
        """
        check_lang(lang)
        out = self.table.astype(object).copy()
        for col in self.table.columns:
            if col in self.counts:
                values = [format_number(v, lang) for v in self.table[col]]
            elif col in self.shares:
                values = [format_percent(v, lang, decimals=share_decimals) for v in self.table[col]]
            else:
                continue
            out[col] = values
            out.loc[self.mask[col], col] = SUPPRESSED
        return out

    def footnote(self, lang: str = "sv") -> str:
        """The footnote explaining the ``..`` symbol, in ``lang``."""
        return label("suppressed_footnote", lang, min_cell=self.min_cell)


def suppress_small_cells(
    table: pd.DataFrame,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
    counts: Sequence[str] | None = None,
    total_row: Hashable | None = None,
    row_groups: Sequence[Sequence[Hashable]] | Mapping[str, Sequence[Hashable]] | None = None,
    total_column: str | None = None,
    shares: Mapping[str, tuple[str, str]] | None = None,
) -> SuppressedTable:
    """Suppress small counts, and enough other cells that totals cannot give them back.

    See the module docstring for the algorithm and its sources.

    Parameters
    ----------
    table : DataFrame
        Counts (and optionally shares) with a unique row index.
    min_cell : int, default 5
        Counts in ``1 .. min_cell - 1`` are suppressed; shares need a denominator of at least
        ``min_cell``.
    counts : sequence of str, optional
        The count columns. Default: every numeric column that is not a share and whose values
        are all whole numbers.
    total_row : hashable, optional
        Index label of the row that holds the column totals. Without ``row_groups`` every
        other row adds up to it.
    row_groups : sequence of sequences of row labels, or mapping of name to row labels
        Blocks of rows that each add up to ``total_row`` (a Brå table: the sexes, the age
        groups, the prior-decision groups, each block summing to "Samtliga"). Rows in no
        block take part in no column relation.
    total_column : str, optional
        The count column that holds each row's total over the other count columns.
    shares : mapping of share column to (count column, denominator column), optional
        Shares to show only where allowed. A missing share column is computed as
        count / denominator.

    Returns
    -------
    SuppressedTable
        ``.table`` (suppressed values NaN), ``.mask``, ``.primary`` and ``.display(lang)``.

    Raises
    ------
    DisclosureError
        If the table cannot be protected (a recoverable cell with nothing left to suppress).
    ValueError
        If the index is not unique, a named row or column is missing, or counts are negative.

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 4–5.

    Examples
    --------
    Two age groups adding up to "all"; the 3 is suppressed (primary) and so is the 40, the
    next-smallest cell of its column, since 43 - 40 would give the 3 back:

    >>> t = pd.DataFrame({"n": [43, 3, 40]}, index=["all", "15-17", "18-20"])
    >>> s = suppress_small_cells(t, total_row="all")
    >>> s.display()["n"].tolist()
    ['43', '..', '..']
    >>> s.primary["n"].tolist(), s.secondary["n"].tolist()
    ([False, True, False], [False, False, True])
    """
    if not isinstance(min_cell, int | np.integer) or min_cell < 1:
        raise ValueError(f"min_cell must be a positive whole number, not {min_cell!r}")
    if not table.index.is_unique:
        raise ValueError("suppress_small_cells needs a table with a unique row index")
    shares = dict(shares or {})
    table = table.copy()
    for share, (num, den) in shares.items():
        for col in (num, den):
            if col not in table.columns:
                raise ValueError(f"share {share!r} refers to column {col!r}, which the table lacks")
        if share not in table.columns:
            den_values = table[den].astype("float64")
            table[share] = table[num].astype("float64") / den_values.where(den_values > 0)
    count_cols = _count_columns(table, counts, exclude=set(shares))
    if total_column is not None and total_column not in count_cols:
        raise ValueError(f"total_column {total_column!r} is not one of the count columns")
    values = table[count_cols].to_numpy(dtype="float64")
    if np.any(values < 0):
        bad = table.index[(values < 0).any(axis=1)].tolist()[:5]
        raise ValueError(f"counts must not be negative (rows {', '.join(map(str, bad))})")

    lines = _lines(table.index, count_cols, total_row, row_groups, total_column)
    primary = (values >= 1) & (values < min_cell)
    suppressed = _secondary(values, primary.copy(), lines)

    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    mask.loc[:, count_cols] = suppressed
    for share, (num, den) in shares.items():
        den_values = table[den].to_numpy(dtype="float64")
        hide = mask[num].to_numpy() | mask[den].to_numpy() | ~(den_values >= min_cell)
        mask[share] = hide & table[share].notna().to_numpy()
    primary_frame = pd.DataFrame(False, index=table.index, columns=table.columns)
    primary_frame.loc[:, count_cols] = primary
    out = table.astype({c: "float64" for c in [*count_cols, *shares]}).mask(mask)
    return SuppressedTable(
        table=out,
        mask=mask,
        primary=primary_frame,
        min_cell=int(min_cell),
        counts=tuple(count_cols),
        shares=tuple(shares),
    )


def _count_columns(
    table: pd.DataFrame, counts: Sequence[str] | None, *, exclude: set[str]
) -> list[str]:
    if counts is not None:
        missing = [c for c in counts if c not in table.columns]
        if missing:
            raise ValueError(f"count columns not in the table: {', '.join(missing)}")
        return list(counts)
    found = []
    for col in table.columns:
        if col in exclude or not pd.api.types.is_numeric_dtype(table[col]):
            continue
        if pd.api.types.is_bool_dtype(table[col]):
            continue
        col_values = table[col].dropna().to_numpy(dtype="float64")
        if np.all(col_values == np.round(col_values)):
            found.append(col)
    return found


def _lines(
    index: pd.Index,
    count_cols: list[str],
    total_row: Hashable | None,
    row_groups: Sequence[Sequence[Hashable]] | Mapping[str, Sequence[Hashable]] | None,
    total_column: str | None,
) -> list[list[tuple[int, int]]]:
    """Every additive relation of the table as a list of cells; the total is the last cell."""
    n_cols = len(count_cols)
    lines: list[list[tuple[int, int]]] = []
    if total_row is not None:
        if total_row not in index:
            raise ValueError(f"total_row {total_row!r} is not a row of the table")
        t = index.get_loc(total_row)
        if row_groups is None:
            blocks = [[i for i in range(len(index)) if i != t]]
        else:
            groups = row_groups.values() if isinstance(row_groups, Mapping) else row_groups
            blocks = []
            for group in groups:
                missing = [r for r in group if r not in index]
                if missing:
                    raise ValueError(f"row_groups names rows not in the table: {missing}")
                blocks.append([int(index.get_loc(r)) for r in group])
        for block in blocks:
            for j in range(n_cols):
                lines.append([(i, j) for i in block] + [(int(t), j)])
    elif row_groups is not None:
        raise ValueError("row_groups needs total_row: the row the groups add up to")
    if total_column is not None:
        jt = count_cols.index(total_column)
        members = [j for j in range(n_cols) if j != jt]
        for i in range(len(index)):
            lines.append([(i, j) for j in members] + [(i, jt)])
    return lines


def _secondary(
    values: np.ndarray, suppressed: np.ndarray, lines: list[list[tuple[int, int]]]
) -> np.ndarray:
    """Add complementary suppressions until no suppressed cell can be recovered."""
    unknown_data = np.isnan(values)  # missing values are unknown to a reader too
    while True:
        # Step 2: the line rule, to a fixed point.
        changed = True
        while changed:
            changed = False
            for line in lines:
                hidden = [c for c in line if suppressed[c] or unknown_data[c]]
                if len(hidden) == 1 and suppressed[hidden[0]]:
                    pick = _smallest_visible(values, suppressed, unknown_data, line)
                    if pick is None:
                        raise DisclosureError(
                            f"cannot protect the suppressed cell at row {hidden[0][0]}, "
                            f"column {hidden[0][1]}: no other cell in its line to suppress"
                        )
                    suppressed[pick] = True
                    changed = True
        # Step 3: the audit on the whole system of relations.
        exposed = _recoverable(values.shape, suppressed, unknown_data, lines)
        if not exposed:
            return suppressed
        cell = exposed[0]
        candidates = [
            c
            for line in lines
            if cell in line
            for c in line
            if not (suppressed[c] or unknown_data[c])
        ]
        if not candidates:
            raise DisclosureError(
                f"cannot protect the suppressed cell at row {cell[0]}, column {cell[1]}"
            )
        suppressed[_smallest(values, candidates)] = True


def _smallest_visible(
    values: np.ndarray, suppressed: np.ndarray, unknown: np.ndarray, line: list[tuple[int, int]]
) -> tuple[int, int] | None:
    candidates = [c for c in line if not (suppressed[c] or unknown[c])]
    return _smallest(values, candidates) if candidates else None


def _smallest(values: np.ndarray, candidates: list[tuple[int, int]]) -> tuple[int, int]:
    """The smallest positive cell, or a zero when no positive one is left (first on ties)."""
    positive = [c for c in candidates if values[c] > 0]
    pool = positive or candidates
    return min(pool, key=lambda c: (values[c], c))


def _recoverable(
    shape: tuple[int, ...],
    suppressed: np.ndarray,
    unknown_data: np.ndarray,
    lines: list[list[tuple[int, int]]],
) -> list[tuple[int, int]]:
    """Suppressed cells whose value the table's relations determine exactly."""
    unknown = suppressed | unknown_data
    cells = [tuple(int(x) for x in c) for c in np.argwhere(unknown)]
    if not cells or not lines:
        return []
    position = {c: k for k, c in enumerate(cells)}
    rows = []
    for line in lines:
        row = np.zeros(len(cells))
        for c in line[:-1]:
            if c in position:
                row[position[c]] += 1.0
        if line[-1] in position:
            row[position[line[-1]]] -= 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return []
    null = scipy.linalg.null_space(np.vstack(rows))
    # A unit vector e_k is in the row space iff coordinate k vanishes on the null space.
    determined = np.linalg.norm(null, axis=1) < 1e-9 if null.size else np.ones(len(cells), bool)
    return [c for c, d in zip(cells, determined, strict=True) if d and suppressed[c]]  # type: ignore[misc]
