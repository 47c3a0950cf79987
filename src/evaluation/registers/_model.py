"""The registers as one immutable object: five tables and the study window."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import pandas as pd
import pyarrow as pa

from evaluation._errors import RegisterError
from evaluation.registers._codes import remember_codes
from evaluation.registers._io import FORMATS, folder_problem, read_folder, write_folder
from evaluation.registers._schema import TABLES
from evaluation.registers._validate import collect_problems, resolve_min_age

if TYPE_CHECKING:
    from evaluation.registers._partitioned import PartitionedRegisters

__all__ = ["TABLES", "Registers"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Registers:
    """The five register tables (persons, programme, offences, custody, exits) and study window.

    Date columns are ``datetime64[ns]``; an empty ``programme.end_date`` is ``NaT``
    (ongoing). ``study_start`` and ``study_end`` (the extraction date) come from
    ``meta.json``; ``meta`` keeps every other key of that file.

    The schema (one row per table; columns in this order, optional ones in brackets):

    ========= ==================================================================
    persons   person_id, sex (F, M), birth_date, municipality, [affiliation]
    programme episode_id, person_id, municipality, referral, contact_date,
              start_date, end_date (NaT = ongoing), exit_reason
    offences  offence_id, person_id, offence_date, decision_date (lagföring),
              category, sanction
    custody   person_id, start_date, end_date (NaT = still in custody), kind
    exits     person_id, date, reason (death, emigration)
    ========= ==================================================================

    Columns the schema does not know are kept (they are the user's covariates).
    :meth:`problems` lists what :meth:`validate` checks; see its docstring.

    Examples
    --------
    >>> from evaluation.registers._examples import tiny_registers
    >>> regs = tiny_registers()
    >>> offences = regs.offences.copy()
    >>> offences.loc[0, "decision_date"] = pd.Timestamp("2011-12-24")
    >>> for problem in tiny_registers(offences=offences).problems():
    ...     print(problem)
    offences.decision_date is before offence_date in 1 row (offence_id O0000001)
    """

    persons: pd.DataFrame
    programme: pd.DataFrame
    offences: pd.DataFrame
    custody: pd.DataFrame
    exits: pd.DataFrame
    study_start: pd.Timestamp
    study_end: pd.Timestamp
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(self.table(name)):,}" for name in TABLES)
        window = f"{_day(self.study_start)} to {_day(self.study_end)}"
        return f"Registers({sizes}; {window})"

    def table(self, name: str) -> pd.DataFrame:
        """Return one table by name."""
        if name not in TABLES:
            raise KeyError(f"unknown register table {name!r}; the tables are {', '.join(TABLES)}")
        return getattr(self, name)

    # -- reading and writing -------------------------------------------------------------

    @overload
    @classmethod
    def read(
        cls,
        path: str | Path,
        *,
        validate: bool = ...,
        min_age: int | None = ...,
        lazy: Literal[False] = ...,
    ) -> Registers: ...

    @overload
    @classmethod
    def read(
        cls,
        path: str | Path,
        *,
        validate: bool = ...,
        min_age: int | None = ...,
        lazy: Literal[True],
    ) -> PartitionedRegisters: ...

    @classmethod
    def read(
        cls,
        path: str | Path,
        *,
        validate: bool = True,
        min_age: int | None = None,
        lazy: bool = False,
    ) -> Registers | PartitionedRegisters:
        """Read a register folder: five tables (``.csv`` or ``.parquet``) and ``meta.json``.

        Parameters
        ----------
        path
            The folder holding ``persons``, ``programme``, ``offences``, ``custody`` and
            ``exits`` (one file each, CSV or Parquet) and ``meta.json`` with
            ``study_start`` and ``study_end`` as ISO dates; other keys go to ``meta``.
        validate
            Check the registers (see :meth:`problems`) and raise on any problem. With
            False, only problems of reading itself (missing files or columns that cannot
            be read, unparseable dates) raise.
        min_age
            The age of criminal responsibility to check offences against (see
            :meth:`problems`); None takes ``meta.json``'s ``min_age``, else 15.
        lazy
            For registers written with ``partitions=K``: open them as
            :class:`~evaluation.registers.PartitionedRegisters`, reading only ``meta.json``
            and the list of parts (each part is read when asked for; with ``validate``,
            every part is checked one after the other, and the ids across parts). A
            partitioned folder read with ``lazy=False`` is read whole, part after part.

        Returns
        -------
        Registers
            Or :class:`~evaluation.registers.PartitionedRegisters` with ``lazy=True``.

        Raises
        ------
        RegisterError
            With ``.problems`` listing every problem found, each naming the table,
            column, the number of rows and the first offending ids. Reading never drops
            rows or turns unparseable values into missing ones silently. Files that
            cannot be read as tables are named too (no access, a folder instead of a
            file, a separator other than ``,``, rows with too few or too many fields or
            a quote never closed, by row number; Parquet dates beyond 1677-2262).

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     Registers.read(folder)
        Traceback (most recent call last):
        ...
        evaluation._errors.RegisterError: the registers in ... have 6 problems:
        - meta.json is missing in ... (it holds study_start and study_end)
        - persons: there is no persons.csv or persons.parquet in ...
        ...
        """
        folder = Path(path)
        unreadable = folder_problem(folder)
        if unreadable is not None:
            raise RegisterError(unreadable)
        if lazy:
            from evaluation.registers._partitioned import PartitionedRegisters

            parts = PartitionedRegisters.open(folder)
            return parts.validate(min_age=min_age) if validate else parts
        result = read_folder(folder, keep_text=validate)
        problems = list(result.problems)
        complete = len(result.tables) == len(TABLES) and result.study_start is not None
        if validate or not complete:
            age, age_problems = resolve_min_age(min_age, result.meta)
            problems += age_problems
            problems += collect_problems(
                result.tables,
                result.study_start,
                result.study_end,
                reported=result.reported,
                min_age=age,
                text=result.text,
                found=result.codes,
            )
        if problems:
            raise RegisterError(_summary(f"the registers in {folder}", problems), problems)
        assert result.study_start is not None and result.study_end is not None
        registers = cls(
            **result.tables,
            study_start=result.study_start,
            study_end=result.study_end,
            meta=result.meta,
        )
        return remember_codes(registers, result.codes)

    def write(
        self,
        path: str | Path,
        format: str = "csv",  # noqa: A002 (the contract)
        *,
        partitions: int | None = None,
    ) -> Path:
        """Write the five tables and ``meta.json`` into a folder, byte-reproducibly.

        Parameters
        ----------
        path
            The folder; created if needed. Files of the same tables in the other format are
            removed, so that the folder reads back unambiguously.
        format
            ``"csv"`` (UTF-8, dates as ``YYYY-MM-DD``, empty cells for missing values) or
            ``"parquet"`` (dates stored as dates).
        partitions
            Write K parts by person (Parquet only): each table becomes a folder of K files,
            a person's rows of every table in part ``partition_of(person_id, K)`` (a
            stable hash), with ``partitions.json`` beside ``meta.json``. Read back whole
            with :meth:`read`, or part by part with ``read(path, lazy=True)``.

        Returns
        -------
        Path
            The folder.

        Raises
        ------
        RegisterError
            When a table cannot be written because a column mixes types; the problems
            of :meth:`problems` say which.

        Notes
        -----
        Rows and columns are written in the tables' own order, so the same registers give
        the same bytes. Reading back gives equal tables, except that unknown columns come
        back from CSV as text.

        Examples
        --------
        >>> import tempfile
        >>> from evaluation.registers._examples import tiny_registers
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     regs = Registers.read(tiny_registers().write(folder))
        >>> len(regs.offences)
        6
        """
        if format not in FORMATS:
            raise ValueError(f"format must be 'csv' or 'parquet', not {format!r}")
        folder = Path(path)
        if partitions is not None:
            if format != "parquet":
                raise ValueError("partitioned registers are written as Parquet only")
            from evaluation.registers._partitioned import write_partitioned

            return write_partitioned(self, folder, partitions)
        tables = {name: self.table(name) for name in TABLES}
        try:
            write_folder(tables, self.study_start, self.study_end, self.meta, folder, format)
        except (pa.ArrowException, AttributeError) as err:
            problems = self.problems() or [f"a table could not be converted: {err}"]
            raise RegisterError(
                _summary("the registers cannot be written and", problems), problems
            ) from err
        return folder

    # -- validation ----------------------------------------------------------------------

    def problems(self, *, min_age: int | None = None) -> list[str]:
        """Every problem of the registers, one message each; empty when they are valid.

        Parameters
        ----------
        min_age
            The age of criminal responsibility: offences committed before the person's
            ``min_age``-th birthday are refused, since nobody can be lagförd for them.
            None takes ``meta["min_age"]`` when the registers carry one (``meta.json``),
            else Sweden's 15. Registers from a country where the age is lower (England
            and Wales: 10) say so in their meta or here; 0 turns the check off.

        Checked, each with table, column, count and the first offending ids:

        - missing or mistyped columns (dates must be ``datetime64[ns]``, ids and
          categories text), empty required values, unknown categories;
        - duplicate keys (``persons.person_id``, ``programme.episode_id``,
          ``offences.offence_id``; ``exits.person_id``: one exit per person);
        - values that look like real Swedish personal identity numbers, in any column
          (ids, categories and the user's own columns, text or whole numbers) and in any
          written form (spaces, any dash, full-width digits, a label such as ``PNR``;
          10 or 12 digits forming a date, with a valid check digit): refused by row
          number, since the package only handles pseudonymised data; never echoed;
        - ids unknown to ``persons``;
        - end before start (programme, custody), contact after start, decision before
          offence, ``exit_reason`` 'ongoing' exactly when ``end_date`` is empty;
        - overlapping programme episodes or custody periods of one person (periods that
          touch, one ending the day the next starts, do not overlap);
        - offences, episodes and custody after the person's death or emigration, and
          before the person's birth; birth dates before 1900; offences before the age of
          criminal responsibility (``min_age``; with the offence ids and row numbers);
        - dates outside the study window: every date up to ``study_end``; decisions,
          programme dates, custody ends and exits from ``study_start`` on (birth dates,
          offence dates and custody starts may be earlier).

        Examples
        --------
        >>> from evaluation.registers._examples import tiny_registers
        >>> tiny_registers().problems()
        []
        """
        tables = {name: self.table(name) for name in TABLES}
        age, problems = resolve_min_age(min_age, self.meta)
        return problems + collect_problems(tables, self.study_start, self.study_end, min_age=age)

    def validate(self, *, min_age: int | None = None) -> Registers:
        """Check the registers; return them unchanged when valid.

        ``min_age`` is the age of criminal responsibility (see :meth:`problems`).

        Raises
        ------
        RegisterError
            With ``.problems`` listing every problem (see :meth:`problems`).

        Examples
        --------
        >>> from evaluation.registers._examples import tiny_registers
        >>> regs = tiny_registers()
        >>> regs.validate() is regs
        True
        """
        problems = self.problems(min_age=min_age)
        if problems:
            raise RegisterError(_summary("the registers", problems), problems)
        return self

    def equals(self, other: Registers) -> bool:
        """True when both hold equal tables (values, dtypes, order), window and meta."""
        return (
            isinstance(other, Registers)
            and all(self.table(n).equals(other.table(n)) for n in TABLES)
            and all(list(self.table(n).columns) == list(other.table(n).columns) for n in TABLES)
            and all(list(self.table(n).dtypes) == list(other.table(n).dtypes) for n in TABLES)
            and self.study_start == other.study_start
            and self.study_end == other.study_end
            and self.meta == other.meta
        )


def _day(value: object) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, pd.Timestamp) else repr(value)


def _summary(subject: str, problems: list[str]) -> str:
    count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
    return f"{subject} have {count}:\n" + "\n".join(f"- {p}" for p in problems)
