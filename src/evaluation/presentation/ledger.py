"""One ledger of published numbers per report, and the attack that audits it.

Every count a report publishes is a number of *units* (persons, entry events, programme
episodes, relapse offences) of one *universe* that satisfy a condition. The ledger records
each such count as a :class:`Cell` (its universe and its condition, never its value) and
every place the count leaves the package as a :class:`Publication`:

``exact``
    the count as it is (a table cell, a number in a sentence);
``rounded``
    the count rounded to a base (the curves: cumulative counts rounded to ``min_cell``,
    midpoint rounding, see :func:`round_midpoint`);
``share``
    the count as a share of another count, rounded to the decimals shown (whole per cent in
    the tables, three decimals in the figure data);
``hidden``
    registered but not published (``..``): complements such as "followed but not
    relapsed", and cells suppressed to protect others.

The attacker
------------
The audit attacks the ledger as someone holding every published number and knowing the
data's fine structure: the units of a universe fall into *atoms*, the classes of units
that belong to exactly the same cells, and the attacker is assumed to know which atoms
exist (an insider; a reader of the report knows less, so a report safe against this
attacker is safe against the reader). The unknowns are the atoms' sizes, whole numbers
``>= 0``; every publication is a linear constraint on them (an equality for an exact
count, two inequalities for a rounded count or a share over its denominator). Relations
between the published numbers (totals, complements, nested windows, recidivists <=
followed, at-risk differences, the same count in two files) are then not declared by hand:
they follow from the atoms.

What must hold (:func:`audit`):

1. no atom whose size is ``1 .. min_cell - 1``, and no cell of point 2, is determined by
   the exact publications (linear algebra: its vector lies in their row space); this
   catches every subtraction, of any length;
2. for every cell with a true value of ``1 .. min_cell - 1`` that is published in any form
   but rounding (exactly, as a share, or withheld), the tightest bounds an attacker gets by
   integer programming over all publications (equalities, rounding and share intervals,
   non-negativity) are at least ``min_cell`` apart (the *protection width*: the attacker
   cannot tell the count from 0 and from ``min_cell``); a small count printed as it is
   fails outright;
3. for every rounded publication whose block holds small counts (``1 .. min_cell - 1``),
   the attainable values of the true count still cover the whole block (no other
   publication narrows it).

Suppression (:meth:`Ledger.protect`) is built on the same attack: a batch of new
publications (one table or figure) is checked together with everything already published;
counts in ``1 .. min_cell - 1`` are hidden first, then, while the audit finds a violation,
a new cell the exposing subtraction uses (else one that shares units with the exposed
quantity) is hidden as well: a positive count before a zero, a detailed cell before a
total, the smallest first, never a count an earlier file shows exactly. Hiding a
publication only removes constraints, so bounds only widen and cells that
passed stay safe: each violation is repaired on its own. A cell hidden once is hidden in
every later publication of the same set of units, and a later batch cannot reveal what
an earlier one hid.

References
----------
Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, ch. 4–5 (linked
tables, secondary suppression, protection intervals, audits by linear programming).
Griffiths, E. et al. (2019). *Handbook on Statistical Disclosure Control for Outputs*
(SDAP), sections on differencing, shares and survival tables.
de Wolf, P.-P. and Giessing, S. (2009). Adjusting the τ-ARGUS modular approach to deal
with linked tables. *Data & Knowledge Engineering* 68, 1160–1174.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import DisclosureError

__all__ = [
    "AuditFinding",
    "AuditResult",
    "Cell",
    "Ledger",
    "Publication",
    "audit",
    "round_midpoint",
    "rounding_interval",
]

Op = Literal["==", "!=", "<=", "<", ">=", ">", "in", "notna", "isna"]
Kind = Literal["exact", "rounded", "share", "hidden"]


def round_midpoint(count: int | np.ndarray, base: int) -> np.ndarray:
    """Round counts to the midpoint of their block of ``base`` values (0 stays 0).

    ``1 .. base`` becomes ``base - base // 2``, ``base + 1 .. 2 base`` becomes
    ``2 base - base // 2`` and so on: for ``base = 5`` the published values are 0, 3, 8,
    13, ... and each stands for five possible counts (OpenSAFELY's midpoint rounding).
    Rounding is monotone, so rounded cumulative counts never decrease.

    Examples
    --------
    >>> round_midpoint(np.array([0, 1, 5, 6, 10, 11]), 5).tolist()
    [0, 3, 3, 8, 8, 13]
    """
    c = np.asarray(count, dtype=np.int64)
    if base <= 1:
        return c.copy()
    return np.where(c > 0, base * -(-c // base) - base // 2, 0)


def rounding_interval(published: float, base: int) -> tuple[int, int]:
    """The counts that :func:`round_midpoint` maps to ``published``.

    Examples
    --------
    >>> rounding_interval(3, 5), rounding_interval(8, 5), rounding_interval(0, 5)
    ((1, 5), (6, 10), (0, 0))
    """
    r = int(round(published))
    if r == 0 or base <= 1:
        return r, r
    hi = r + base // 2
    return hi - base + 1, hi


@dataclass(frozen=True, slots=True)
class Cell:
    """A count of the units of ``universe`` that meet every condition in ``where``.

    ``where`` is a tuple of ``(column, op, value)`` on the universe's frame; ``op`` is one
    of ``== != <= < >= > in notna isna``. The definition holds no value, so the ledger can
    be written beside a report.
    """

    key: str
    universe: str
    where: tuple[tuple[str, str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "universe": self.universe,
            "where": [[c, o, _json_value(v)] for c, o, v in self.where],
        }


@dataclass(frozen=True, slots=True)
class Publication:
    """One place a cell leaves the package, and in what form.

    ``file`` and ``location`` say where (``location`` is ``{"row": i, "column": name}`` in
    a CSV, ``{"text": ...}`` for a number in a sentence). ``kind`` is ``exact``,
    ``rounded`` (``base``), ``share`` (of ``denominator``, a cell key, rounded to
    ``decimals`` decimals of the fraction) or ``hidden``. ``value`` is what was written.
    """

    cell: str
    kind: Kind
    file: str = ""
    location: Mapping[str, Any] = field(default_factory=dict)
    value: float | None = None
    base: int = 1
    denominator: str | None = None
    decimals: int = 2

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cell": self.cell,
            "kind": self.kind,
            "file": self.file,
            "location": {k: _json_value(v) for k, v in self.location.items()},
        }
        if self.value is not None and self.kind != "hidden":
            out["value"] = _json_value(self.value)
        if self.kind == "rounded":
            out["base"] = self.base
        if self.kind == "share":
            out["denominator"] = self.denominator
            out["decimals"] = self.decimals
        return out


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """A quantity the attacker pins down too closely."""

    what: str  # "cell" or "atom"
    key: str
    universe: str
    true_value: int
    lower: float
    upper: float
    reason: str
    involved: tuple[str, ...] = ()

    def __str__(self) -> str:
        return (
            f"{self.what} {self.key} ({self.universe}): {self.reason}; the attacker's bounds "
            f"are [{_fmt(self.lower)}, {_fmt(self.upper)}]"
        )


@dataclass(frozen=True, slots=True)
class AuditResult:
    """The audit's verdict: passed when ``findings`` is empty."""

    findings: tuple[AuditFinding, ...]
    min_cell: int
    n_cells: int
    n_publications: int
    n_atoms: int
    n_checked: int

    @property
    def passed(self) -> bool:
        return not self.findings

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "what": f.what,
                    "key": f.key,
                    "universe": f.universe,
                    "lower": f.lower,
                    "upper": f.upper,
                    "reason": f.reason,
                }
                for f in self.findings
            ],
            columns=["what", "key", "universe", "lower", "upper", "reason"],
        )

    def __str__(self) -> str:
        head = (
            f"disclosure audit: {'passed' if self.passed else 'FAILED'} "
            f"({self.n_publications} published numbers of {self.n_cells} counts over "
            f"{self.n_atoms} atoms; {self.n_checked} protected quantities attacked; "
            f"min_cell {self.min_cell})"
        )
        return "\n".join([head, *(f"  {f}" for f in self.findings)])


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple | list | set | frozenset):
        return [_json_value(x) for x in v]
    return v


def _mask(frame: pd.DataFrame, where: Iterable[tuple[str, str, Any]]) -> np.ndarray:
    out = np.ones(len(frame), dtype=bool)
    for column, op, value in where:
        if column not in frame.columns:
            raise KeyError(f"the universe has no column {column!r}")
        col = frame[column]
        if op == "notna":
            m = col.notna().to_numpy()
        elif op == "isna":
            m = col.isna().to_numpy()
        elif op == "in":
            m = col.isin(list(value)).to_numpy()
        else:
            values = col.to_numpy()
            with np.errstate(invalid="ignore"):
                if op == "==":
                    m = values == value
                elif op == "!=":
                    m = values != value
                elif op == "<=":
                    m = values <= value
                elif op == "<":
                    m = values < value
                elif op == ">=":
                    m = values >= value
                elif op == ">":
                    m = values > value
                else:
                    raise ValueError(f"unknown operator {op!r}")
            m = np.asarray(pd.array(m, dtype="boolean").fillna(False), dtype=bool)
        out &= m
    return out


class Ledger:
    """The published numbers of one report, their cells, and the suppression decisions.

    Parameters
    ----------
    min_cell : int
        Counts from 1 to ``min_cell - 1`` are protected.

    Examples
    --------
    Three women and forty men, published by sex and in total: the 3 is hidden, and so is
    the 40, since 43 - 40 would give it back.

    >>> ledger = Ledger(min_cell=5)
    >>> ledger.add_universe("persons", pd.DataFrame({"sex": ["F"] * 3 + ["M"] * 40}))
    >>> cells = [ledger.cell("all", "persons"),
    ...          ledger.cell("women", "persons", [("sex", "==", "F")]),
    ...          ledger.cell("men", "persons", [("sex", "==", "M")])]
    >>> shown = ledger.protect([Publication(c.key, "exact") for c in cells])
    >>> [ledger.value(c.key) if s else ".." for c, s in zip(cells, shown)]
    [43, '..', '..']
    >>> audit(ledger).passed
    True
    """

    def __init__(self, min_cell: int = DEFAULT_MIN_CELL) -> None:
        if not isinstance(min_cell, int | np.integer) or min_cell < 1:
            raise ValueError(f"min_cell must be a positive whole number, not {min_cell!r}")
        self.min_cell = int(min_cell)
        self.universes: dict[str, pd.DataFrame] = {}
        self.cells: dict[str, Cell] = {}
        self.publications: list[Publication] = []
        self._masks: dict[str, np.ndarray] = {}
        self._by_set: dict[tuple[str, bytes], str] = {}
        self._hidden_sets: set[tuple[str, bytes]] = set()
        # State of one protect() call: quantities that passed, sets shown exactly before,
        # and the units of the atoms the last attack exposed (for choosing what to hide).
        self._passed: set[str] = set()
        self._fixed: set[tuple[str, bytes]] = set()
        self._atom_masks: dict[str, np.ndarray] = {}

    # -- registration -------------------------------------------------------------------
    def add_universe(self, name: str, frame: pd.DataFrame) -> None:
        """Register the units of a universe (one row per unit) with the columns cells use."""
        if name in self.universes:
            raise ValueError(f"universe {name!r} is registered already")
        self.universes[name] = frame.reset_index(drop=True)

    def extend_universe(self, name: str, columns: pd.DataFrame) -> None:
        """Add columns (one value per unit, in the universe's order) to a universe."""
        frame = self.universes[name]
        if len(columns) != len(frame):
            raise ValueError(f"universe {name!r} has {len(frame)} units, not {len(columns)}")
        clash = set(columns.columns) & set(frame.columns)
        if clash:
            raise ValueError(f"universe {name!r} already has the columns {sorted(clash)}")
        self.universes[name] = pd.concat([frame, columns.reset_index(drop=True)], axis=1)

    def cell(self, key: str, universe: str, where: Sequence[tuple[str, str, Any]] = ()) -> Cell:
        """Register (or return) the count ``key``: units of ``universe`` meeting ``where``."""
        if universe not in self.universes:
            raise KeyError(f"no universe {universe!r} in the ledger")
        cell = Cell(key, universe, tuple((c, o, _freeze(v)) for c, o, v in where))
        old = self.cells.get(key)
        if old is not None:
            if old != cell:
                raise ValueError(f"cell {key!r} is registered with another definition")
            return old
        self.cells[key] = cell
        mask = _mask(self.universes[universe], cell.where)
        self._masks[key] = mask
        self._by_set.setdefault((universe, np.packbits(mask).tobytes()), key)
        return cell

    def mask(self, key: str) -> np.ndarray:
        return self._masks[key]

    def value(self, key: str) -> int:
        """The true count of a cell (never publish it without :meth:`protect`)."""
        return int(self._masks[key].sum())

    def is_hidden(self, key: str) -> bool:
        """True when the cell's set of units was hidden in an earlier publication."""
        return self._set_key(key) in self._hidden_sets

    def _set_key(self, key: str) -> tuple[str, bytes]:
        return (self.cells[key].universe, np.packbits(self._masks[key]).tobytes())

    # -- suppression --------------------------------------------------------------------
    def protect(
        self,
        batch: Sequence[Publication],
        *,
        hide: Iterable[int] = (),
        whole: bool = False,
    ) -> list[bool]:
        """Decide which publications of a new batch are shown; record the batch.

        Parameters
        ----------
        batch : sequence of Publication
            The numbers one table or figure wants to publish (``exact``, ``rounded``,
            ``share`` or ``hidden``). ``value`` is filled in here.
        hide : iterable of int
            Positions in ``batch`` the caller hides anyway (derived rules such as a median
            with too few persons on one side).
        whole : bool
            The batch is published whole or not at all (a curve: every step is needed).
            When some number would have to be hidden, nothing is recorded and
            :class:`DisclosureError` is raised.

        Returns
        -------
        list of bool
            True where the publication is shown (rounded ones are always shown).

        Raises
        ------
        DisclosureError
            When no choice of new cells to hide protects every quantity (the caller then
            leaves the table or figure out).
        """
        # The attack solves many small linear systems: one BLAS thread each is an order of
        # magnitude faster than threads that wait for each other (and for other work).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._protect(batch, hide=hide, whole=whole)

    def _protect(
        self, batch: Sequence[Publication], *, hide: Iterable[int], whole: bool
    ) -> list[bool]:
        m = self.min_cell
        # Quantities that passed stay safe while this batch only hides more (bounds widen).
        self._passed = set()
        # Hiding a count that an earlier publication shows exactly protects nothing.
        self._fixed = {self._set_key(p.cell) for p in self.publications if p.kind == "exact"}
        shown = [p.kind != "hidden" for p in batch]
        for i in hide:
            shown[i] = False
        for p in batch:
            if p.cell not in self.cells:
                raise KeyError(f"publication of unregistered cell {p.cell!r}")
            if p.kind == "share":
                if p.denominator is None or p.denominator not in self.cells:
                    raise KeyError(f"share {p.cell!r} needs a registered denominator")
        # Primary rules.
        for i, p in enumerate(batch):
            if not shown[i] or p.kind == "rounded":
                continue
            v = self.value(p.cell)
            if self.is_hidden(p.cell):
                shown[i] = False
            elif p.kind == "exact" and 0 < v < m:
                shown[i] = False
            elif p.kind == "share":
                den = self.value(p.denominator or "")
                rest = den - v
                if den < m or 0 < v < m or 0 < rest < m or self.is_hidden(p.denominator or ""):
                    shown[i] = False
        # A share is shown only with its count: hide the share where the count is hidden.
        hidden_cells = {p.cell for p, s in zip(batch, shown, strict=True) if not s}
        for i, p in enumerate(batch):
            if p.kind == "share" and shown[i] and p.cell in hidden_cells:
                shown[i] = False
        while True:
            trial = self._with(batch, shown)
            problem = self._first_violation(trial, focus=batch)
            if problem is None:
                break
            pick = self._candidate(batch, shown, problem)
            if pick is None:
                raise DisclosureError(
                    f"cannot protect {problem.what} {problem.key} ({problem.reason}): no new "
                    "number left to hide"
                )
            shown[pick] = False
            # Shares of a hidden count go with it.
            for i, p in enumerate(batch):
                if p.kind == "share" and shown[i] and p.cell == batch[pick].cell:
                    shown[i] = False
        if whole and not all(s or p.kind == "hidden" for p, s in zip(batch, shown, strict=True)):
            hidden = [p.cell for p, s in zip(batch, shown, strict=True) if not s]
            raise DisclosureError(
                "cannot be published whole: " + ", ".join(hidden[:3]) + " would need hiding"
            )
        final = []
        for p, s in zip(batch, shown, strict=True):
            kind: Kind = p.kind if s else "hidden"
            value = None
            if s:
                value = self._published_value(p)
            final.append(
                Publication(
                    cell=p.cell,
                    kind=kind,
                    file=p.file,
                    location=p.location,
                    value=value,
                    base=p.base,
                    denominator=p.denominator,
                    decimals=p.decimals,
                )
            )
            if kind == "hidden":
                self._hidden_sets.add(self._set_key(p.cell))
        self.publications.extend(final)
        return shown

    def _published_value(self, p: Publication) -> float:
        v = self.value(p.cell)
        if p.kind == "rounded":
            return float(round_midpoint(v, p.base))
        if p.kind == "share":
            den = self.value(p.denominator or "")
            return round(v / den, p.decimals) if den else float("nan")
        return float(v)

    def record(self, publications: Iterable[Publication]) -> None:
        """Record publications decided elsewhere (for example re-publication of shown cells)."""
        self.publications.extend(publications)

    def mirror(
        self,
        source: str,
        target: str,
        where: Sequence[tuple[str, str, Any]],
        *,
        prefix: str,
    ) -> int:
        """Repeat every publication of ``source``'s cells on the same units inside ``target``.

        A report may count the same units in two universes: a municipality's entries in its
        own report (``source``) and, for the municipal comparison, among the entries of
        every municipality (``target``, where ``where`` picks the municipality's units).
        The attack works within one universe, so without this the attacker could subtract
        a count printed in the comparison from the same units' count printed elsewhere.
        Each cell ``c`` of ``source`` becomes ``prefix + c.key`` on ``target`` with the
        condition ``c.where + where``, and each of its publications is recorded again on
        it (values, files and places unchanged; a hidden one stays hidden, so that the same
        set of units is hidden in the comparison too).

        Parameters
        ----------
        source, target : str
            Registered universes; ``target`` has every column of ``source``.
        where : sequence of (column, op, value)
            The units of ``target`` that are ``source``'s units.
        prefix : str
            Prepended to the mirrored cells' keys.

        Returns
        -------
        int
            The number of publications mirrored.

        Raises
        ------
        ValueError
            If the units of ``target`` meeting ``where`` are not ``source``'s units (the
            same rows, column by column, in any order): the mirror would be a false
            statement to the attack.
        """
        src, tgt = self.universes[source], self.universes[target]
        missing = sorted(set(src.columns) - set(tgt.columns))
        if missing:
            raise ValueError(f"universe {target!r} lacks the columns {missing} of {source!r}")
        cols = list(src.columns)
        inside = tgt.loc[_mask(tgt, tuple((c, o, _freeze(v)) for c, o, v in where)), cols]

        def rows(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.astype(str).sort_values(cols).reset_index(drop=True)

        if len(inside) != len(src) or (len(cols) and not rows(inside).equals(rows(src))):
            raise ValueError(
                f"the units of {target!r} where {list(where)} are not the units of {source!r} "
                f"({len(inside)} against {len(src)} rows): they cannot be linked"
            )
        keys = {}
        for key, c in list(self.cells.items()):
            if c.universe == source:
                keys[key] = self.cell(prefix + key, target, [*c.where, *where]).key
        mirrored = [
            dataclasses.replace(
                p,
                cell=keys[p.cell],
                denominator=keys.get(p.denominator or "", p.denominator),
            )
            for p in self.publications
            if p.cell in keys
        ]
        for p in mirrored:
            if p.kind == "hidden":
                self._hidden_sets.add(self._set_key(p.cell))
        self.publications.extend(mirrored)
        return len(mirrored)

    def _with(self, batch: Sequence[Publication], shown: Sequence[bool]) -> list[Publication]:
        out = list(self.publications)
        for p, s in zip(batch, shown, strict=True):
            if s:
                out.append(
                    Publication(
                        cell=p.cell,
                        kind=p.kind,
                        value=self._published_value(p),
                        base=p.base,
                        denominator=p.denominator,
                        decimals=p.decimals,
                    )
                )
            else:
                out.append(Publication(cell=p.cell, kind="hidden"))
        return out

    def _first_violation(
        self,
        publications: Sequence[Publication],
        *,
        focus: Sequence[Publication],
    ) -> AuditFinding | None:
        universes = {self.cells[p.cell].universe for p in focus}
        for u in sorted(universes):
            system = _System.build(self, publications, u)
            found = system.violations(first_only=True, skip=self._passed)
            if found:
                return found[0]
        return None

    def _candidate(
        self, batch: Sequence[Publication], shown: Sequence[bool], problem: AuditFinding
    ) -> int | None:
        """The smallest positive shown exact count of the batch sharing units with the problem."""
        found = (
            self._masks.get(problem.key)
            if problem.what == "cell"
            else self._atom_masks.get(problem.key)
        )
        if found is None:
            return None
        target: np.ndarray = found
        best: tuple[Any, ...] | None = None
        pick = None
        if problem.involved:
            involved = set(problem.involved)
            for i, p in enumerate(batch):
                if shown[i] and p.kind == "exact" and p.cell in involved and self._hideable(p):
                    key = self._cost(p, i)
                    if best is None or key < best:
                        best, pick = key, i
            if pick is not None:
                return pick
        for i, p in enumerate(batch):
            if not shown[i] or not self._hideable(p):
                continue
            cell = self.cells[p.cell]
            if cell.universe != problem.universe:
                continue
            mask = self._masks[p.cell]
            overlap = bool((mask & target).any())
            if not overlap:
                continue
            key = self._cost(p, i)
            if best is None or key < best:
                best, pick = key, i
        if pick is None:
            # No new cell shares units with it: hide any new shown count of the universe.
            for i, p in enumerate(batch):
                if shown[i] and self._hideable(p):
                    if self.cells[p.cell].universe == problem.universe:
                        key = self._cost(p, i)
                        if best is None or key < best:
                            best, pick = key, i
        return pick

    def _hideable(self, p: Publication) -> bool:
        return p.kind != "rounded" and self._set_key(p.cell) not in self._fixed

    def _cost(self, p: Publication, i: int) -> tuple[Any, ...]:
        """Which number to hide first: a positive count over a zero (an empty cell tells
        nothing), an exact count over a share, a detailed cell (more conditions) over a
        total, and the smallest value, as the classical hand rule does."""
        v = self.value(p.cell)
        return (v == 0, p.kind != "exact", -len(self.cells[p.cell].where), v, i)

    # -- manifest -----------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        """The ledger without values: cells, publications (where and how), min_cell."""
        return {
            "min_cell": self.min_cell,
            "cells": [c.to_json() for c in self.cells.values()],
            "publications": [p.to_json() for p in self.publications],
        }

    def write_manifest(self, path: Any) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.manifest(), f, ensure_ascii=False, indent=1)


def _freeze(v: Any) -> Any:
    if isinstance(v, list | set):
        return tuple(v)
    return v


# -- the attack ------------------------------------------------------------------------------


@dataclass
class _System:
    """The linear system of one universe: atoms, constraints, quantities to attack."""

    ledger: Ledger
    universe: str
    atom_of: np.ndarray  # unit -> atom index
    sizes: np.ndarray  # true atom sizes
    incidence: np.ndarray  # cells x atoms (0/1)
    cell_keys: list[str]
    eq_rows: list[tuple[np.ndarray, float]]
    eq_cells: list[str]
    ub_rows: list[tuple[np.ndarray, float]]  # a @ x <= b
    checked_cells: list[tuple[str, str]]  # (cell key, rule) to attack
    rounded: list[tuple[str, int, int]]  # cell, lo, hi
    min_cell: int

    @classmethod
    def build(cls, ledger: Ledger, publications: Sequence[Publication], universe: str) -> _System:
        keys = [k for k, c in ledger.cells.items() if c.universe == universe]
        index = {k: j for j, k in enumerate(keys)}
        n_units = len(ledger.universes[universe])
        if keys:
            bits = np.column_stack([ledger.mask(k) for k in keys])
            packed = np.packbits(bits, axis=1)
            _, atom_of, sizes = np.unique(
                packed.view(np.dtype((np.void, packed.shape[1]))).ravel(),
                return_inverse=True,
                return_counts=True,
            )
            # Every unit of an atom has the same memberships: one unit stands for its atom.
            first = np.zeros(len(sizes), dtype=np.int64)
            first[atom_of[::-1]] = np.arange(len(atom_of))[::-1]
            incidence = bits[first].T.astype(np.float64)
        else:
            atom_of = np.zeros(n_units, dtype=np.int64)
            sizes = np.array([n_units])
            incidence = np.zeros((0, 1))
        eq: list[tuple[np.ndarray, float]] = []
        eq_cells: list[str] = []
        ub: list[tuple[np.ndarray, float]] = []
        rounded: list[tuple[str, int, int]] = []
        hidden: dict[str, None] = {}
        published_exact: set[str] = set()
        for p in publications:
            cell = ledger.cells[p.cell]
            if cell.universe != universe:
                continue
            row = incidence[index[p.cell]]
            if p.kind == "exact":
                eq.append((row, float(p.value if p.value is not None else ledger.value(p.cell))))
                eq_cells.append(p.cell)
                published_exact.add(p.cell)
                hidden[p.cell] = None
            elif p.kind == "rounded":
                value = p.value if p.value is not None else ledger.value(p.cell)
                lo, hi = rounding_interval(float(value), p.base)
                if lo == hi:
                    eq.append((row, float(lo)))
                    eq_cells.append(p.cell)
                else:
                    ub.append((row, float(hi)))
                    ub.append((-row, -float(lo)))
                rounded.append((p.cell, lo, hi))
            elif p.kind == "share":
                den = incidence[index[p.denominator or ""]]
                s = float(p.value) if p.value is not None else float("nan")
                if math.isnan(s):
                    continue
                h = 0.5 * 10.0 ** (-p.decimals)
                # num <= (s + h) den and num >= (s - h) den
                ub.append((row - (s + h) * den, 0.0))
                ub.append(((s - h) * den - row, 0.0))
                hidden[p.cell] = None
            else:
                hidden[p.cell] = None
        m = ledger.min_cell
        checked = []
        # Every small count that is published in any form but rounding (exactly, as a
        # share, or withheld) is attacked: a count of 1 .. min_cell - 1 printed as it is
        # or as a share over its denominator is a disclosure even when it spans several
        # atoms, and so is one withheld here and printed elsewhere.
        for k in hidden:
            v = ledger.value(k)
            if 0 < v < m:
                checked.append((k, "published" if k in published_exact else "suppressed"))
        ledger._atom_masks = {}
        return cls(
            ledger=ledger,
            universe=universe,
            atom_of=atom_of,
            sizes=sizes,
            incidence=incidence,
            cell_keys=keys,
            eq_rows=eq,
            eq_cells=eq_cells,
            ub_rows=ub,
            checked_cells=checked,
            rounded=rounded,
            min_cell=m,
        )

    # -- attacks -------------------------------------------------------------------------
    def violations(
        self, *, first_only: bool = False, skip: set[str] | None = None
    ) -> list[AuditFinding]:
        found: list[AuditFinding] = []
        found += self._determined(first_only)
        if found and first_only:
            return found
        found += self._bounds(first_only, skip)
        return found

    def _row(self, key: str) -> np.ndarray:
        j = self.cell_keys.index(key)
        return self.incidence[j]

    def _determined(self, first_only: bool) -> list[AuditFinding]:
        """Atoms and hidden cells with a small true value that exact publications pin."""
        if not self.eq_rows:
            return []
        m = self.min_cell
        # The same count published twice is one equation.
        a, first = np.unique(np.vstack([r for r, _ in self.eq_rows]), axis=0, return_index=True)
        self._eq_keys = [self.eq_cells[i] for i in first]
        # Orthonormal basis of the row space.
        q, r, _ = scipy.linalg.qr(a.T, mode="economic", pivoting=True)
        diag = np.abs(np.diag(r)) if r.size else np.zeros(0)
        rank = int((diag > 1e-9 * max(1.0, diag.max(initial=0.0))).sum())
        q = q[:, :rank]
        found = []
        small_atoms = np.flatnonzero((self.sizes > 0) & (self.sizes < m))
        if rank and len(small_atoms):
            norms = (q[small_atoms] ** 2).sum(axis=1)
            for atom in small_atoms[norms > 1 - 1e-8]:
                key = f"{self.universe}:atom{int(atom)}"
                self.ledger._atom_masks[key] = self.atom_of == atom
                target = np.zeros(a.shape[1])
                target[atom] = 1.0
                found.append(
                    AuditFinding(
                        "atom",
                        key,
                        self.universe,
                        int(self.sizes[atom]),
                        float(self.sizes[atom]),
                        float(self.sizes[atom]),
                        "a group of units is given back exactly by subtraction",
                        self._involved(a, target),
                    )
                )
                if first_only:
                    return found
        for key, rule in self.checked_cells:
            v = self._row(key)
            proj = q.T @ v
            if rank and abs(float(proj @ proj) - float(v @ v)) < 1e-8 * max(1.0, float(v @ v)):
                true = self.ledger.value(key)
                found.append(
                    AuditFinding(
                        "cell",
                        key,
                        self.universe,
                        true,
                        true,
                        true,
                        "count below min_cell published"
                        if rule == "published"
                        else "hidden count given back",
                        self._involved(a, v),
                    )
                )
                if first_only:
                    return found
        return found

    def _involved(self, a: np.ndarray, target: np.ndarray) -> tuple[str, ...]:
        """The published cells a subtraction giving ``target`` back uses."""
        y, *_ = scipy.linalg.lstsq(a.T, target, lapack_driver="gelsy")
        keys = self._eq_keys
        return tuple(dict.fromkeys(c for c, w in zip(keys, y, strict=True) if abs(w) > 1e-7))

    def _bounds(self, first_only: bool, skip: set[str] | None = None) -> list[AuditFinding]:
        m = self.min_cell
        found = []
        targets = [(k, "suppressed", m) for k, _ in self.checked_cells]
        # A rounded count is attacked where its block holds small counts (1 .. min_cell - 1):
        # there the block is the protection, and nothing else may narrow it.
        targets += [(k, "rounded", hi - lo) for k, lo, hi in self.rounded if hi > lo and lo < m]
        if skip:
            targets = [t for t in targets if t[0] not in skip]
        if not targets:
            return []
        solver = _Bounds(self)
        for key, rule, need in targets:
            lo, hi = solver.bounds(self._row(key), need)
            if skip is not None and hi - lo >= need - 1e-9:
                skip.add(key)
            if hi - lo < need - 1e-9:
                true = self.ledger.value(key)
                reason = (
                    f"hidden count pinned to an interval narrower than {m}"
                    if rule == "suppressed"
                    else "rounded count narrowed below its rounding interval"
                )
                found.append(AuditFinding("cell", key, self.universe, true, lo, hi, reason))
                if first_only:
                    return found
        return found


class _Bounds:
    """Tightest integer bounds of linear forms of the atoms.

    The linear-programming relaxation comes first: integer bounds lie inside it, so a
    relaxation narrower than required is already a violation. Otherwise the bounds are
    *certified* by integer solutions: the relaxation's optimal vertex when it is integral
    (the usual case for these 0/1 systems), else the best solution a mixed-integer search
    finds within a time limit. Only values some integer solution attains count, so a
    timed-out search errs towards reporting a violation, never towards passing one.
    """

    def __init__(self, system: _System) -> None:
        n = len(system.sizes)
        self.n = n
        self.sizes = system.sizes.astype(np.float64)
        self.a_eq = (
            sp.csr_matrix(np.vstack([r for r, _ in system.eq_rows])) if system.eq_rows else None
        )
        self.b_eq = np.array([v for _, v in system.eq_rows]) if system.eq_rows else None
        self.a_ub = (
            sp.csr_matrix(np.vstack([r for r, _ in system.ub_rows])) if system.ub_rows else None
        )
        self.b_ub = np.array([v for _, v in system.ub_rows]) if system.ub_rows else None
        used = np.zeros(n, dtype=bool)
        for r, _ in [*system.eq_rows, *system.ub_rows]:
            used |= r != 0
        self.free = ~used

    def _lp(self, c: np.ndarray) -> tuple[float, np.ndarray | None]:
        if self.a_eq is None and self.a_ub is None:
            return (0.0 if (c >= 0).all() else -math.inf), None
        res = scipy.optimize.linprog(
            c,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq,
            b_eq=self.b_eq,
            bounds=(0, None),
            method="highs",
        )
        if res.status == 3:
            return -math.inf, None
        if res.status != 0:
            return float(c @ self.sizes), self.sizes
        return float(res.fun), res.x

    def _milp(self, c: np.ndarray) -> float | None:
        cons = []
        if self.a_eq is not None:
            cons.append(scipy.optimize.LinearConstraint(self.a_eq, self.b_eq, self.b_eq))
        if self.a_ub is not None:
            cons.append(scipy.optimize.LinearConstraint(self.a_ub, -np.inf, self.b_ub))
        res = scipy.optimize.milp(
            c,
            constraints=cons,
            integrality=np.ones(self.n),
            bounds=scipy.optimize.Bounds(0, np.inf),
            # A node limit, not a time limit: the search must not depend on how busy the
            # machine is, or the same data would give different reports. Stopped early,
            # the best integer point found is still a true bound for the attacker, only a
            # tighter one than the optimum, so an early stop can hide more, never less.
            # The time limit is a guard against a runaway search only.
            options={"node_limit": MILP_NODES, "time_limit": 600.0},
        )
        if res.x is None:
            return None
        return float(c @ np.round(res.x))

    def bounds(self, c: np.ndarray, need: float) -> tuple[float, float]:
        true = float(c @ self.sizes)
        if (c[self.free] > 0).any():
            hi_lp, x_hi = math.inf, None
        else:
            f, x_hi = self._lp(-c)
            hi_lp = -f
        lo_lp, x_lo = self._lp(c)
        lo_i = math.ceil(lo_lp - 1e-7) if math.isfinite(lo_lp) else lo_lp
        hi_i = math.floor(hi_lp + 1e-7) if math.isfinite(hi_lp) else hi_lp
        if hi_i - lo_i < need:
            return float(lo_i), float(hi_i)
        lo, hi = lo_i, hi_i
        if x_lo is not None and not _integral(x_lo):
            found = self._milp(c)
            lo = min(true, found) if found is not None else true
        if x_hi is not None and not _integral(x_hi):
            found = self._milp(-c)
            hi = max(true, -found) if found is not None else true
        return float(lo), float(hi)


#: Branch-and-bound nodes of one integer bound (see ``_Bounds._milp``).
MILP_NODES = 2000


def _integral(x: np.ndarray) -> bool:
    return bool(np.all(np.abs(x - np.round(x)) < 1e-6))


def audit(ledger: Ledger) -> AuditResult:
    """Attack every publication in the ledger together; see the module docstring."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _audit(ledger)


def _audit(ledger: Ledger) -> AuditResult:
    findings: list[AuditFinding] = []
    n_atoms = 0
    n_checked = 0
    for u in sorted(ledger.universes):
        system = _System.build(ledger, ledger.publications, u)
        n_atoms += len(system.sizes)
        n_checked += len(system.checked_cells) + len(system.rounded)
        findings += system.violations()
    return AuditResult(
        findings=tuple(findings),
        min_cell=ledger.min_cell,
        n_cells=len(ledger.cells),
        n_publications=sum(p.kind != "hidden" for p in ledger.publications),
        n_atoms=n_atoms,
        n_checked=n_checked,
    )
