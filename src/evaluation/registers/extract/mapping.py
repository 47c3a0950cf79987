"""The mapping file: how the tables of an extract become the five register tables.

A mapping is a TOML file (read with the standard library's ``tomllib``) with five parts:

``[study]``
    ``start`` and ``end`` of the study window (ISO dates; ``end`` is the extraction date).
``[meta]``
    Any other keys for the registers' ``meta.json`` (optional).
``[sources.NAME]``
    One source table: ``file`` (a file name with its extension, or a name without one: the
    one file of that name in the sources folder, whatever its format), and where needed
    ``sheet`` (Excel), ``catalog`` (a SAS format catalogue with the value labels),
    ``separator`` and ``encoding`` (CSV), ``identity`` (the columns that hold personal
    identity numbers, for ``evaluation pseudonymise --mapping``).
``[codes.NAME]``
    One code list: ``values = { "1" = "M", ... }``, ``file = "codes.csv"`` (columns ``code``
    and ``category``) or ``builtin = "offences"`` (the package's offence-code list,
    :func:`evaluation.registers.extract.codes.offence_codes`); ``match = "exact"`` (the
    default) or ``"prefix"`` (the longest listed code that the value starts with, followed
    by the end or a non-alphanumeric character: ``BrB 3`` matches ``BrB 3:5`` but not
    ``BrB 30``); ``default`` (the category of every value not listed, optionally only of
    values matching the regular expression ``default_pattern``; every value that gets it
    is counted in the import report).
``[feeds.NAME]``
    One feed of a register table from one source: ``table``, ``source``, optionally
    ``where`` (source columns that must have a value for a row to belong to this table:
    the rows without are counted as not selected), and ``[feeds.NAME.columns]`` with one
    rule per register column: ``"SourceColumn"`` (taken as it is), or a table with
    ``column`` (a name, or a list of names of which the first the source has is used) or
    ``value`` (a constant), and ``codes`` (a code list; ``by = "label"`` matches the value
    labels of SAS, Stata and SPSS files instead of the codes), ``date`` (the ``strptime``
    format of dates written as text or numbers; dates stored as dates are taken as they
    are), ``prefix`` and ``width`` (ids: a running number such as ``LopNr`` 17 becomes
    ``P000017`` with ``prefix = "P", width = 6``; ids written with letters are kept).

Several feeds may fill one table (custody from the Prison and Probation Service and from
the youth care institutions) and one source may feed several tables (the population
register gives the persons and their exits). Every problem of a mapping is reported at
once, each naming the file, the table of the file and the key.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from evaluation._errors import ExtractError
from evaluation.registers._schema import SPECS, TABLES, spec

__all__ = ["CodeList", "ColumnRule", "Feed", "Mapping", "Source", "read_mapping"]

_ISO = "%Y-%m-%d"
_FOLDER = Path(__file__).resolve().parent
BUILTIN_CODES: dict[str, Path] = {"offences": _FOLDER / "offence_codes.csv"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One source table of the extract."""

    name: str
    file: str
    sheet: str | None = None
    catalog: str | None = None
    separator: str = ","
    encoding: str = "utf-8"
    identity: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeList:
    """Source codes and the register category each stands for."""

    name: str
    values: dict[str, str]
    match: Literal["exact", "prefix"] = "exact"
    default: str | None = None
    default_pattern: str | None = None

    def lookup(self, code: str) -> tuple[str | None, bool]:
        """The category of one code and whether it came from ``default`` (None: unmapped)."""
        if code in self.values:
            return self.values[code], False
        if self.match == "prefix":
            best = ""
            for listed in self.values:
                if len(listed) > len(best) and code.startswith(listed):
                    rest = code[len(listed) :]
                    if not rest or not rest[0].isalnum():
                        best = listed
            if best:
                return self.values[best], False
        if self.default is not None and (
            self.default_pattern is None or re.fullmatch(self.default_pattern, code)
        ):
            return self.default, True
        return None, False


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnRule:
    """How one register column is made from a source row."""

    target: str
    columns: tuple[str, ...] = ()
    value: str | None = None
    codes: str | None = None
    by_label: bool = False
    date: str | None = None
    prefix: str = ""
    width: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Feed:
    """One source feeding one register table."""

    name: str
    table: str
    source: str
    where: tuple[str, ...] = ()
    rules: tuple[ColumnRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Mapping:
    """A parsed and checked mapping file (see the module's description)."""

    path: Path
    study_start: pd.Timestamp
    study_end: pd.Timestamp
    meta: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    codes: dict[str, CodeList] = field(default_factory=dict)
    feeds: tuple[Feed, ...] = ()

    def identity_columns(self) -> dict[str, tuple[str, ...]]:
        """The columns holding personal identity numbers, by source file."""
        return {s.file: s.identity for s in self.sources.values() if s.identity}


def read_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file.

    Parameters
    ----------
    path
        The TOML file.

    Returns
    -------
    Mapping

    Raises
    ------
    ExtractError
        With ``.problems`` listing every problem of the file, each naming the file, the
        table (``[feeds.persons.columns]``) and the key.

    Examples
    --------
    >>> from evaluation.registers.extract import example_mapping_path
    >>> mapping = read_mapping(example_mapping_path())
    >>> [feed.name for feed in mapping.feeds][:3]
    ['persons', 'deaths', 'emigrations']
    """
    file = Path(path)
    try:
        content = tomllib.loads(file.read_bytes().decode("utf-8"))
    except OSError as err:
        raise ExtractError(f"the mapping {file} cannot be read: {err.strerror or err}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ExtractError(f"the mapping {file} is not valid TOML: {err}") from None
    return _Checker(file).mapping(content)


class _Checker:
    """Builds a Mapping from parsed TOML, collecting every problem with its place."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.problems: list[str] = []

    def say(self, where: str, text: str) -> None:
        self.problems.append(f"{self.file.name} [{where}] {text}")

    def mapping(self, content: dict[str, Any]) -> Mapping:
        for key in content:
            if key not in ("study", "meta", "sources", "codes", "feeds"):
                self.say(key, "is not a part of a mapping (study, meta, sources, codes, feeds)")
        study = self.table(content, "study")
        start = self.date(study, "study", "start")
        end = self.date(study, "study", "end")
        if start is not None and end is not None and end <= start:
            self.say("study", f"end ({end.date()}) is not after start ({start.date()})")
        meta = self.table(content, "meta", required=False)
        sources = {
            name: self.source(name, value) for name, value in self.table(content, "sources").items()
        }
        codes = {
            name: self.code_list(name, value)
            for name, value in self.table(content, "codes", required=False).items()
        }
        feeds = tuple(
            self.feed(name, value, sources, codes)
            for name, value in self.table(content, "feeds").items()
        )
        for table in TABLES:
            if not any(feed.table == table for feed in feeds):
                self.say("feeds", f"has no feed of the register table {table}")
        if self.problems:
            n = len(self.problems)
            raise ExtractError(
                f"the mapping {self.file} has {n} problem{'s' if n != 1 else ''}:\n"
                + "\n".join(f"- {p}" for p in self.problems),
                self.problems,
            )
        assert start is not None and end is not None
        return Mapping(
            path=self.file,
            study_start=start,
            study_end=end,
            meta=dict(meta),
            sources={k: v for k, v in sources.items() if v is not None},
            codes={k: v for k, v in codes.items() if v is not None},
            feeds=feeds,
        )

    def table(self, parent: dict[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
        value = parent.get(key)
        if value is None:
            if required:
                self.say(key, "is missing")
            return {}
        if not isinstance(value, dict):
            self.say(key, "must be a table")
            return {}
        return value

    def date(self, parent: dict[str, Any], where: str, key: str) -> pd.Timestamp | None:
        value = parent.get(key)
        if isinstance(value, str):
            parsed = pd.to_datetime(value, format=_ISO, errors="coerce")
            if not pd.isna(parsed) and parsed.strftime(_ISO) == value:
                return pd.Timestamp(parsed)
        elif isinstance(value, dt.date):  # a TOML date (or date-time: its day)
            return pd.Timestamp(value.isoformat()[:10])
        self.say(where, f"{key} must be an ISO date (YYYY-MM-DD), not {value!r}")
        return None

    def text(self, value: dict[str, Any], where: str, key: str) -> str | None:
        item = value.get(key)
        if item is None or isinstance(item, str):
            return item
        self.say(where, f"{key} must be text, not {item!r}")
        return None

    def names(self, value: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        item = value.get(key, [])
        if isinstance(item, str):
            return (item,)
        if isinstance(item, list) and all(isinstance(v, str) for v in item) and item:
            return tuple(item)
        if item == []:
            return ()
        self.say(where, f"{key} must be a column name or a list of column names")
        return ()

    def unknown(self, value: dict[str, Any], where: str, allowed: tuple[str, ...]) -> None:
        for key in value:
            if key not in allowed:
                self.say(where, f"has the unknown key {key!r} (allowed: {', '.join(allowed)})")

    def source(self, name: str, value: Any) -> Source | None:
        where = f"sources.{name}"
        if not isinstance(value, dict):
            self.say(where, "must be a table with file = ...")
            return None
        self.unknown(
            value, where, ("file", "sheet", "catalog", "separator", "encoding", "identity")
        )
        file = self.text(value, where, "file")
        if not file:
            self.say(where, "needs file = the source file's name")
            return None
        return Source(
            name=name,
            file=file,
            sheet=self.text(value, where, "sheet"),
            catalog=self.text(value, where, "catalog"),
            separator=self.text(value, where, "separator") or ",",
            encoding=self.text(value, where, "encoding") or "utf-8",
            identity=self.names(value, where, "identity"),
        )

    def code_list(self, name: str, value: Any) -> CodeList | None:
        where = f"codes.{name}"
        if not isinstance(value, dict):
            self.say(where, "must be a table with values, file or builtin")
            return None
        self.unknown(
            value, where, ("values", "file", "builtin", "match", "default", "default_pattern")
        )
        given = [k for k in ("values", "file", "builtin") if k in value]
        if len(given) != 1:
            self.say(where, "needs exactly one of values, file or builtin")
            return None
        values: dict[str, str] = {}
        if "values" in value:
            items = value["values"]
            if not isinstance(items, dict) or not all(isinstance(v, str) for v in items.values()):
                self.say(where, 'values must be a table of code = "category"')
            else:
                values = {str(k).strip(): v for k, v in items.items()}
        else:
            key = given[0]
            if key == "builtin" and value["builtin"] not in BUILTIN_CODES:
                known = ", ".join(BUILTIN_CODES)
                self.say(where, f"builtin {value['builtin']!r} is not a code list (known: {known})")
                return None
            path = (
                BUILTIN_CODES[value["builtin"]]
                if key == "builtin"
                else self.file.parent / str(value["file"])
            )
            values = self.code_file(path, where)
        match = value.get("match", "exact")
        if match not in ("exact", "prefix"):
            self.say(where, f"match must be 'exact' or 'prefix', not {match!r}")
            match = "exact"
        pattern = self.text(value, where, "default_pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as err:
                self.say(where, f"default_pattern is not a regular expression: {err}")
                pattern = None
        return CodeList(
            name=name,
            values=values,
            match=match,
            default=self.text(value, where, "default"),
            default_pattern=pattern,
        )

    def code_file(self, path: Path, where: str) -> dict[str, str]:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as err:
            self.say(where, f"the code file {path.name} cannot be read: {err.strerror or err}")
            return {}
        if not rows or not {"code", "category"} <= set(rows[0]):
            self.say(where, f"the code file {path.name} needs the columns code and category")
            return {}
        values: dict[str, str] = {}
        for i, row in enumerate(rows, start=1):
            code = (row["code"] or "").strip()
            if code in values:
                self.say(where, f"the code file {path.name} lists {code!r} twice (row {i})")
            values[code] = (row["category"] or "").strip()
        return values

    def feed(
        self,
        name: str,
        value: Any,
        sources: dict[str, Source | None],
        codes: dict[str, CodeList | None],
    ) -> Feed:
        where = f"feeds.{name}"
        if not isinstance(value, dict):
            self.say(where, "must be a table with table, source and columns")
            return Feed(name=name, table="", source="")
        self.unknown(value, where, ("table", "source", "where", "columns"))
        table = self.text(value, where, "table") or ""
        if table not in TABLES:
            self.say(where, f"table must be one of {', '.join(TABLES)}, not {table!r}")
        source = self.text(value, where, "source") or ""
        if source not in sources:
            self.say(where, f"source {source!r} is not defined in [sources]")
        columns = self.table(value, "columns", required=False)
        if "columns" not in value:
            self.say(where, "has no [columns]")
        rules = tuple(
            rule
            for target, item in columns.items()
            if (rule := self.rule(f"{where}.columns", table, target, item, codes)) is not None
        )
        if table in TABLES:
            have = {rule.target for rule in rules} | set(columns)
            for col in SPECS[table]:
                if col.required and col.name not in have:
                    self.say(f"{where}.columns", f"has no rule for the required column {col.name}")
        return Feed(
            name=name,
            table=table,
            source=source,
            where=self.names(value, where, "where"),
            rules=rules,
        )

    def rule(
        self,
        where: str,
        table: str,
        target: str,
        item: Any,
        codes: dict[str, CodeList | None],
    ) -> ColumnRule | None:
        place = f"{where}.{target}"  # the TOML key: [feeds.persons.columns.sex]
        if isinstance(item, str):
            item = {"column": item}
        if not isinstance(item, dict):
            self.say(place, "must be a source column's name or a table")
            return None
        self.unknown(item, place, ("column", "value", "codes", "by", "date", "prefix", "width"))
        col = spec(table, target) if table in TABLES else None
        kind = col.kind if col is not None else None
        columns = self.names(item, place, "column")
        constant = item.get("value")
        if (not columns) == (constant is None):
            self.say(place, "needs exactly one of column or value")
        if constant is not None and not isinstance(constant, str):
            self.say(place, f"value must be text, not {constant!r}")
            constant = None
        code_name = self.text(item, place, "codes")
        by = item.get("by", "code")
        if by not in ("code", "label"):
            self.say(place, f"by must be 'code' or 'label', not {by!r}")
        date = self.text(item, place, "date")
        prefix = self.text(item, place, "prefix") or ""
        width = item.get("width", 0)
        if not isinstance(width, int) or isinstance(width, bool) or width < 0:
            self.say(place, f"width must be a whole number >= 0, not {width!r}")
            width = 0
        if code_name is not None:
            if kind != "category":
                self.say(place, "codes are for category columns only")
            elif code_name not in codes:
                self.say(place, f"the code list {code_name!r} is not defined in [codes]")
            elif (listed := codes[code_name]) is not None and col is not None:
                self.targets(listed, table, col.name, col.categories)
        if date is not None and kind != "date":
            self.say(place, "date formats are for date columns only")
        if (prefix or width) and kind != "id":
            self.say(place, "prefix and width are for id columns only")
        if constant is not None and col is not None:
            if kind == "category" and constant not in col.categories:
                allowed = ", ".join(col.categories)
                self.say(place, f"value {constant!r} is not one of {allowed}")
            if kind == "date" and pd.isna(pd.to_datetime(constant, format=_ISO, errors="coerce")):
                self.say(place, f"value {constant!r} is not an ISO date (YYYY-MM-DD)")
        return ColumnRule(
            target=target,
            columns=columns,
            value=constant,
            codes=code_name,
            by_label=by == "label",
            date=date,
            prefix=prefix,
            width=width,
        )

    def targets(self, codes: CodeList, table: str, column: str, allowed: tuple[str, ...]) -> None:
        """Every category a code list gives must be one of the register column's."""
        given = set(codes.values.values()) | ({codes.default} if codes.default else set())
        wrong = sorted(v for v in given if v not in allowed)
        if wrong:
            self.say(
                f"codes.{codes.name}",
                f"maps to {', '.join(map(repr, wrong))}, which {table}.{column} does not "
                f"have (allowed: {', '.join(allowed)})",
            )
