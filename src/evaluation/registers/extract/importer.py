"""Applying a mapping: source rows become register rows, or are refused with their reason.

Every source row of every feed ends in exactly one place: not selected (a ``where`` column
is empty: the row belongs to another table), refused (listed with its source row number and
every reason), or written. A row is refused when a value the register needs is empty, a
date does not parse, a code is not in its code list (every such code is listed with its
count and, where the file has one, its value label), an id looks like a personal identity
number, its key occurs more than once (every row of a duplicated key is refused: which one
is right cannot be told), or its person is not among the persons written. Nothing is
dropped or coerced silently. The registers that result are then validated as a whole
(:meth:`evaluation.registers.Registers.problems`); problems there (overlapping custody,
dates out of order) are reported, not repaired.

Row numbers count a source's data rows from 1, the header not included (in an Excel sheet,
data row 1 is the sheet's row 2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation._errors import ExtractError
from evaluation.registers._model import Registers
from evaluation.registers._pnr import looks_like_personnummer
from evaluation.registers._schema import KEYS, SPECS, TABLES, spec
from evaluation.registers.extract.mapping import ColumnRule, Feed, Mapping, read_mapping
from evaluation.registers.extract.sources import (
    SourceTable,
    code_text,
    find_file,
    missing,
    read_source,
    text_of,
)

__all__ = ["ImportResult", "import_extract"]

#: How the rows of each table are ordered when written (the synthetic registers' order).
SORT: dict[str, tuple[str, ...]] = {
    "persons": ("person_id",),
    "programme": ("episode_id",),
    "offences": ("offence_id",),
    "custody": ("person_id", "start_date"),
    "exits": ("person_id",),
}
_HIDDEN = "<a personal identity number>"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """What importing an extract gave.

    Attributes
    ----------
    registers
        The imported registers, or None when they have validation ``problems``.
    flow
        One row per feed: ``feed``, ``table``, ``source``, ``file``, ``rows`` (source rows),
        ``not_selected``, ``refused``, ``written``; ``rows`` = the other three.
    refused
        One row per reason a source row was refused: ``feed``, ``table``, ``source``,
        ``row`` (the source's data row, from 1), ``column`` (the register column),
        ``reason``. A row refused for two reasons has two lines and counts once in ``flow``.
    unmapped
        Every code value that its code list does not cover: ``feed``, ``column``,
        ``source_column``, ``codes``, ``value``, ``label`` (the file's value label, if
        any), ``rows``.
    defaulted
        Every code value that got its code list's ``default``, with its count.
    sources
        One row per source read: ``source``, ``file``, ``rows``, ``columns``,
        ``not_imported`` (its columns that no rule reads).
    problems
        Validation problems of the imported registers (empty when they are valid).
    """

    mapping: Mapping
    registers: Registers | None
    flow: pd.DataFrame
    refused: pd.DataFrame
    unmapped: pd.DataFrame
    defaulted: pd.DataFrame
    sources: pd.DataFrame
    problems: tuple[str, ...] = ()

    @property
    def n_refused(self) -> int:
        """Number of source rows refused (each counted once)."""
        return int(self.flow["refused"].sum())

    def summary(self) -> pd.DataFrame:
        """The flow by register table: ``rows``, ``not_selected``, ``refused``, ``written``."""
        columns = ["rows", "not_selected", "refused", "written"]
        table = self.flow.groupby("table", sort=False)[columns].sum()
        return table.reindex([t for t in TABLES if t in table.index]).reset_index()


@dataclass
class _Rows:
    """The accepted rows of one feed, with their source row numbers."""

    feed: Feed
    file: str
    n: int
    not_selected: int
    values: pd.DataFrame
    rows: np.ndarray  # source row numbers (from 1) of ``values``
    refusals: list[tuple[int, str, str]] = field(default_factory=list)
    codes: list[dict[str, object]] = field(default_factory=list)


def import_extract(
    mapping: Mapping | str | Path, sources: str | Path | None = None
) -> ImportResult:
    """Import an extract: read its sources and apply the mapping's feeds.

    Parameters
    ----------
    mapping
        A :class:`~evaluation.registers.extract.mapping.Mapping` or the path of its TOML
        file.
    sources
        The folder holding the source files; None for the mapping file's folder.

    Returns
    -------
    ImportResult

    Raises
    ------
    ExtractError
        When the mapping is not valid, a source file cannot be found or read, or a source
        lacks a column the mapping reads (every such problem at once).

    Examples
    --------
    >>> import tempfile
    >>> from evaluation.registers._examples import tiny_registers
    >>> from evaluation.registers.extract import example_mapping_path
    >>> from evaluation.synthetic import write_source_extract
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_source_extract(tiny_registers(), folder, format="csv")
    ...     result = import_extract(example_mapping_path(), folder)
    >>> result.summary()[["table", "rows", "not_selected", "written"]]
           table  rows  not_selected  written
    0    persons     4             0        4
    1  programme     4             0        4
    2   offences     6             0        6
    3    custody     4             0        4
    4      exits     8             7        1
    """
    if not isinstance(mapping, Mapping):
        mapping = read_mapping(mapping)
    folder = Path(sources) if sources is not None else mapping.path.parent
    tables = _read_sources(mapping, folder)
    problems: list[str] = []
    feeds = []
    for feed in mapping.feeds:
        feeds.append(_apply_feed(feed, tables[feed.source], mapping, problems))
    if problems:
        raise ExtractError(
            "the extract does not fit the mapping:\n" + "\n".join(f"- {p}" for p in problems),
            problems,
        )
    unmapped, defaulted = _code_tables(feeds)
    frames = _assemble(feeds)
    flow = pd.DataFrame(
        [
            {
                "feed": rows.feed.name,
                "table": rows.feed.table,
                "source": rows.feed.source,
                "file": rows.file,
                "rows": rows.n,
                "not_selected": rows.not_selected,
                "refused": len({r for r, _, _ in rows.refusals}),
                "written": rows.n - rows.not_selected - len({r for r, _, _ in rows.refusals}),
            }
            for rows in feeds
        ]
    )
    refused = pd.DataFrame(
        [
            {
                "feed": rows.feed.name,
                "table": rows.feed.table,
                "source": rows.feed.source,
                "row": row,
                "column": column,
                "reason": reason,
            }
            for rows in feeds
            for row, column, reason in sorted(rows.refusals)
        ],
        columns=["feed", "table", "source", "row", "column", "reason"],
    )
    registers = Registers(
        **frames,
        study_start=mapping.study_start,
        study_end=mapping.study_end,
        meta=dict(mapping.meta),
    )
    found = registers.problems()
    return ImportResult(
        mapping=mapping,
        registers=None if found else registers,
        flow=flow,
        refused=refused,
        unmapped=unmapped,
        defaulted=defaulted,
        sources=_source_table(mapping, tables),
        problems=tuple(found),
    )


def _read_sources(mapping: Mapping, folder: Path) -> dict[str, SourceTable]:
    used = {feed.source for feed in mapping.feeds}
    tables: dict[str, SourceTable] = {}
    problems: list[str] = []
    for name in sorted(used):
        source = mapping.sources[name]
        try:
            path = find_file(folder, source.file)
            catalog = folder / source.catalog if source.catalog else None
            tables[name] = read_source(
                path,
                sheet=source.sheet,
                catalog=catalog,
                separator=source.separator,
                encoding=source.encoding,
            )
        except ExtractError as err:
            problems.append(f"[sources.{name}] {err}")
    if problems:
        raise ExtractError(
            "the sources cannot be read:\n" + "\n".join(f"- {p}" for p in problems), problems
        )
    return tables


def _source_table(mapping: Mapping, tables: dict[str, SourceTable]) -> pd.DataFrame:
    rows = []
    for name, table in tables.items():
        read: set[str] = set()
        for feed in mapping.feeds:
            if feed.source == name:
                read.update(feed.where)
                read.update(c for rule in feed.rules for c in rule.columns)
        columns = [str(c) for c in table.frame.columns]
        rows.append(
            {
                "source": name,
                "file": table.path.name,
                "rows": len(table.frame),
                "columns": len(columns),
                "not_imported": ", ".join(c for c in columns if c not in read),
            }
        )
    return pd.DataFrame(rows, columns=["source", "file", "rows", "columns", "not_imported"])


# -- one feed ------------------------------------------------------------------------------


def _apply_feed(feed: Feed, source: SourceTable, mapping: Mapping, problems: list[str]) -> _Rows:
    frame = source.frame
    n = len(frame)
    where = f"[feeds.{feed.name}] ({source.path.name})"
    selected = np.ones(n, dtype=bool)
    for column in feed.where:
        if column not in frame.columns:
            problems.append(f"{where}: where names the column {column}, which the source lacks")
            continue
        selected &= ~missing(frame[column])
    chosen = frame.loc[selected].reset_index(drop=True)
    rows = np.flatnonzero(selected) + 1
    out = _Rows(
        feed=feed,
        file=source.path.name,
        n=n,
        not_selected=int(n - selected.sum()),
        values=pd.DataFrame(index=pd.RangeIndex(len(chosen))),
        rows=rows,
    )
    for rule in feed.rules:
        if rule.value is not None:
            out.values[rule.target] = _constant(feed.table, rule, len(chosen))
            continue
        found = next((c for c in rule.columns if c in chosen.columns), None)
        if found is None:
            problems.append(
                f"{where}: the source has no column {' or '.join(rule.columns)} "
                f"(for {feed.table}.{rule.target})"
            )
            continue
        column = found
        values, bad = _convert(feed, rule, column, chosen[column], source, mapping, out.codes)
        out.values[rule.target] = values
        for mask, reason in bad:
            out.refusals.extend((int(r), rule.target, reason) for r in rows[mask])
    return out


def _constant(table: str, rule: ColumnRule, n: int) -> pd.Series:
    col = spec(table, rule.target)
    if col is not None and col.kind == "date":
        return pd.Series(pd.Timestamp(str(rule.value)), index=range(n), dtype="datetime64[ns]")
    return pd.Series([rule.value] * n, dtype=object)


def _convert(
    feed: Feed,
    rule: ColumnRule,
    column: str,
    raw: pd.Series,
    source: SourceTable,
    mapping: Mapping,
    codes_seen: list[dict[str, object]],
) -> tuple[pd.Series, list[tuple[np.ndarray, str]]]:
    """One register column from one source column, and the masks of refused rows."""
    col = spec(feed.table, rule.target)
    empty = missing(raw)
    bad: list[tuple[np.ndarray, str]] = []
    if col is not None and not col.nullable and empty.any():
        bad.append((empty, f"{column} is empty"))
    if col is None:  # a column the schema does not know: the user's covariate, as it is
        return raw.where(~empty, None).astype(object), bad
    if col.kind == "date":
        values, unparsed = _dates(raw, rule.date)
        shown = rule.date or "%Y-%m-%d"
        if unparsed.any():
            bad.append((unparsed, f"{column} is not a date (expected {shown})"))
        return values, bad
    text = code_text(raw)
    if col.kind == "id":
        numbers = looks_like_personnummer(text.fillna(""))
        if numbers.any():
            bad.append(
                (
                    numbers,
                    f"{column} looks like a personal identity number "
                    "(pseudonymise the extract first: evaluation pseudonymise)",
                )
            )
        values = text.map(lambda v: _id(v, rule), na_action="ignore")
        return values.where(~numbers, None).astype(object), bad
    # A category: through a code list, or the register's own categories as they are.
    labels = source.label_text(column)
    distinct = pd.unique(text.dropna().to_numpy(dtype=object))
    looked: dict[object, tuple[str | None, bool]] = {}
    for code in distinct:
        key = labels.get(code) if rule.by_label else code
        if key is None:
            looked[code] = (None, False)
        elif rule.codes is not None:
            looked[code] = mapping.codes[rule.codes].lookup(str(key))
        else:
            looked[code] = (str(key) if key in col.categories else None, False)
    category = text.map(lambda code: looked[code][0], na_action="ignore")
    unmapped = np.asarray(category.isna().to_numpy() & ~empty, dtype=bool)
    if unmapped.any():
        list_name = f"[codes.{rule.codes}]" if rule.codes else "the register's categories"
        what = "a value label" if rule.by_label else "a code"
        bad.append((unmapped, f"{column}: {what} not in {list_name}"))
    counts = text.value_counts()
    hidden = looks_like_personnummer(pd.Series(distinct, dtype=object))
    for code, hide in zip(distinct, hidden, strict=True):
        found, by_default = looked[code]
        if found is not None and not by_default:
            continue
        codes_seen.append(
            {
                "feed": feed.name,
                "column": f"{feed.table}.{rule.target}",
                "source_column": column,
                "codes": rule.codes or "",
                "value": _HIDDEN if hide else str(code),
                "label": labels.get(code, ""),
                "category": found or "",
                "defaulted": by_default,
                "rows": int(counts.get(code, 0)),
            }
        )
    return category.astype(object), bad


def _id(value: str, rule: ColumnRule) -> str:
    """An id from its text: a running number gets the rule's prefix and width."""
    if value.isdigit() and (rule.prefix or rule.width):
        return f"{rule.prefix}{value.zfill(rule.width)}"
    return value


def _dates(raw: pd.Series, fmt: str | None) -> tuple[pd.Series, np.ndarray]:
    """Dates of a column: stored dates as they are (their day), text and numbers by format."""
    empty = missing(raw)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = raw.dt.tz_localize(None) if raw.dt.tz is not None else raw
        return values.dt.floor("D").astype("datetime64[ns]").reset_index(drop=True), np.zeros(
            len(raw), dtype=bool
        )
    present = raw[~empty]
    distinct = pd.unique(present.to_numpy(dtype=object))
    parsed = {v: _one_date(v, fmt or "%Y-%m-%d") for v in distinct}
    values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    mapped = present.map(parsed)
    values[~empty] = pd.to_datetime(mapped.to_numpy(dtype=object))
    bad = np.zeros(len(raw), dtype=bool)
    bad[np.flatnonzero(~empty)] = mapped.isna().to_numpy()
    return values.reset_index(drop=True), bad


def _one_date(value: object, fmt: str) -> pd.Timestamp | None:
    try:
        if isinstance(value, dt.datetime | pd.Timestamp):
            return pd.Timestamp(value).tz_localize(None).normalize()
        if isinstance(value, dt.date):
            return pd.Timestamp(value)
        text = text_of(value)
        if text is None:
            return None
        parsed = dt.datetime.strptime(text, fmt)
        if parsed.strftime(fmt) != text:  # strptime accepts 2015-1-1 and 2015011
            return None
        return pd.Timestamp(parsed)
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None


def _code_tables(feeds: list[_Rows]) -> tuple[pd.DataFrame, pd.DataFrame]:
    seen = [entry for rows in feeds for entry in rows.codes]
    columns = ["feed", "column", "source_column", "codes", "value", "label", "rows"]
    unmapped = pd.DataFrame(
        [{k: e[k] for k in columns} for e in seen if not e["category"]], columns=columns
    )
    kept = ["feed", "column", "source_column", "codes", "value", "category", "rows"]
    defaulted = pd.DataFrame(
        [{k: e[k] for k in kept} for e in seen if e["defaulted"]], columns=kept
    )
    return unmapped, defaulted


# -- the tables ----------------------------------------------------------------------------


def _assemble(feeds: list[_Rows]) -> dict[str, pd.DataFrame]:
    """Concatenate each table's feeds, refuse duplicate keys and unknown persons, sort."""
    frames: dict[str, pd.DataFrame] = {}
    persons: set[str] = set()
    for table in TABLES:  # persons first: the other tables refer to them
        mine = [rows for rows in feeds if rows.feed.table == table]
        parts = []
        for i, rows in enumerate(mine):
            refused = np.isin(rows.rows, [r for r, _, _ in rows.refusals])
            part = rows.values.loc[~refused].copy()
            part["__feed"] = i
            part["__row"] = rows.rows[~refused]
            parts.append(part)
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        drop = np.zeros(len(frame), dtype=bool)
        key = KEYS.get(table)
        if key is not None and key in frame.columns:
            doubled = frame[key].duplicated(keep=False).to_numpy()
            times = frame[key].map(frame[key].value_counts())
            for i, row, n in zip(
                frame["__feed"][doubled], frame["__row"][doubled], times[doubled], strict=True
            ):
                mine[i].refusals.append((int(row), key, f"{key} occurs in {n} rows (a key)"))
            drop |= doubled
        if table != "persons" and "person_id" in frame.columns:
            unknown = ~frame["person_id"].isin(persons).to_numpy() & ~drop
            for i, row in frame.loc[unknown, ["__feed", "__row"]].itertuples(index=False):
                mine[i].refusals.append(
                    (int(row), "person_id", "person_id is not among the persons written")
                )
            drop |= unknown
        frame = frame.loc[~drop].drop(columns=["__feed", "__row"], errors="ignore")
        frame = _order(table, frame)
        if table == "persons":
            persons = set(frame["person_id"])
        frames[table] = frame
    return frames


def _order(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The schema's columns in its order, then the user's; rows sorted; package dtypes."""
    known = [c.name for c in SPECS[table] if c.name in frame.columns]
    extra = [c for c in frame.columns if c not in known]
    for col in SPECS[table]:
        if col.required and col.name not in frame.columns:
            frame[col.name] = pd.Series(dtype="datetime64[ns]" if col.kind == "date" else object)
            known.append(col.name)
    frame = frame[known + extra]
    by = [c for c in SORT[table] if c in frame.columns]
    frame = frame.sort_values(by, kind="stable").reset_index(drop=True) if len(frame) else frame
    for col in SPECS[table]:
        if col.name in frame.columns and col.kind != "date":
            frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), None)
        elif col.name in frame.columns:
            frame[col.name] = frame[col.name].astype("datetime64[ns]")
    return frame.reset_index(drop=True)
