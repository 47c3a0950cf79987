"""Registers partitioned by person: K parts, each a complete small register of its persons.

A person's rows in every table go to part ``partition_of(person_id, K)``: SipHash of the id
under a fixed key (pandas' ``hash_array``, the same in every process and on every machine,
unlike Python's salted ``hash``) modulo K. The folder is the register folder of
:meth:`Registers.write` with each table a folder of K Parquet files::

    meta.json                     study_start, study_end (as unpartitioned)
    partitions.json               {"partitions": K, "key": ...}
    persons.parquet/part-00000.parquet ... part-0000{K-1}.parquet
    programme.parquet/...         (the same for every table)

Reading the folder whole (``Registers.read``) reads every part; ``Registers.read(folder,
lazy=True)`` opens it as :class:`PartitionedRegisters`, which reads meta and the list of
parts only, and one part on request. Since every row of a person is in one part, the
per-person rules of validation and every cohort step hold part by part; what crosses parts
is checked across them: ids unique over all parts, and each person in the part its id
hashes to (ARCHITECTURE.md, "Studies and partitioned registers").
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation._dask import dask_client, load_result, result_folder, runs_here, store_result
from evaluation._errors import RegisterError
from evaluation.registers._codes import remember_codes
from evaluation.registers._io import ReadResult, _read_arrow, _read_meta, _to_arrow, _to_frame
from evaluation.registers._messages import show_values
from evaluation.registers._schema import TABLES
from evaluation.registers._validate import collect_problems, resolve_min_age

if TYPE_CHECKING:
    from distributed import Client

    from evaluation.registers._model import Registers

__all__ = [
    "PARTITION_KEY",
    "PartitionedRegisters",
    "is_partitioned",
    "partition_of",
    "write_partitioned",
]

T = TypeVar("T")

#: SipHash key of the partitioning (16 bytes); changing it moves every person.
PARTITION_KEY = "exit-eval-parts1"
_INFO = "partitions.json"
#: Keys unique over the whole registers (persons.person_id is checked by its placement).
_UNIQUE = (("programme", "episode_id"), ("offences", "offence_id"))


def partition_of(person_ids: Sequence[Any] | np.ndarray | pd.Series, k: int) -> np.ndarray:
    """The part (0 .. k-1) of each person id: a stable hash of the id modulo ``k``.

    Examples
    --------
    >>> partition_of(["P000001", "P000002", "P000003"], 4).tolist()
    [2, 2, 1]
    """
    ids = np.asarray(person_ids, dtype=object)
    h = pd.util.hash_array(ids, hash_key=PARTITION_KEY, categorize=True)
    return (h % np.uint64(k)).astype(np.int64)


def _part_file(folder: Path, table: str, index: int, chunk: int | None = None) -> Path:
    tail = "" if chunk is None else f"-{chunk:04d}"
    return folder / f"{table}.parquet" / f"part-{index:05d}{tail}.parquet"


def _part_files(folder: Path, table: str, index: int) -> list[Path]:
    """The files of one part of a table: one, or one per chunk written (sorted)."""
    where = folder / f"{table}.parquet"
    return sorted(
        [*where.glob(f"part-{index:05d}.parquet"), *where.glob(f"part-{index:05d}-*.parquet")]
    )


def is_partitioned(folder: Path) -> bool:
    """True when the folder holds registers written with ``partitions=K``."""
    return (folder / _INFO).is_file()


def write_partitioned(
    registers: Registers, folder: Path, k: int, *, chunk: int | None = None
) -> Path:
    """Write the registers as K parts by person (see the module docstring).

    With ``chunk``, the registers are one chunk of a population generated chunk by chunk
    (persons with ids of their own): its rows are added to the parts as files
    ``part-<i>-<chunk>.parquet`` beside those of earlier chunks, so that a population
    larger than memory is written one chunk at a time.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"partitions must be a positive whole number, not {k!r}")
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = registers.table(name)
        part = partition_of(table["person_id"].to_numpy(), k) if len(table) else np.zeros(0, int)
        target = folder / f"{name}.parquet"
        for stale in (folder / f"{name}.csv", target) if chunk is None else ():
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink(missing_ok=True)
        target.mkdir(exist_ok=True)
        # One stable sort by part keeps each part's rows in the table's own order; the
        # table is converted to Arrow once and each part taken from it (one schema for all).
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(k + 1))
        arrow = _to_arrow(table)
        for i in range(k):
            rows = arrow.take(pa.array(order[bounds[i] : bounds[i + 1]]))
            pq.write_table(rows, _part_file(folder, name, i, chunk))
    content = {
        "study_start": registers.study_start.strftime("%Y-%m-%d"),
        "study_end": registers.study_end.strftime("%Y-%m-%d"),
        **registers.meta,
    }
    (folder / "meta.json").write_text(
        json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    info = {"partitions": k, "key": f"pandas.util.hash_array(person_id, '{PARTITION_KEY}') % K"}
    (folder / _INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return folder


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionedRegisters:
    """Registers partitioned by person, opened lazily: one part is read when asked for.

    Attributes
    ----------
    path
        The folder.
    partitions
        The number of parts K.
    study_start, study_end, meta
        As in :class:`Registers` (from ``meta.json``).

    Examples
    --------
    >>> import tempfile
    >>> from evaluation.registers import Registers
    >>> from evaluation.registers._examples import tiny_registers
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = tiny_registers().write(folder, format="parquet", partitions=3)
    ...     parts = Registers.read(folder, lazy=True)
    ...     sizes = [len(parts.partition(i).persons) for i in range(parts.partitions)]
    ...     whole = Registers.read(folder)
    >>> parts.partitions, sum(sizes) == len(whole.persons) == len(tiny_registers().persons)
    (3, True)
    """

    path: Path
    partitions: int
    study_start: pd.Timestamp
    study_end: pd.Timestamp
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | Path) -> PartitionedRegisters:
        """Open a partitioned register folder: meta.json and the list of parts only."""
        folder = Path(path)
        if not is_partitioned(folder):
            raise RegisterError(
                f"{folder} holds no partitioned registers (no {_INFO}); write them with "
                "Registers.write(path, format='parquet', partitions=K)"
            )
        k = int(json.loads((folder / _INFO).read_text(encoding="utf-8"))["partitions"])
        result = ReadResult()
        _read_meta(folder, result)
        missing = [
            f"{name}: part {i} is missing ({_part_file(folder, name, i).name})"
            for name in TABLES
            for i in range(k)
            if not _part_files(folder, name, i)
        ]
        problems = result.problems + missing
        if problems:
            raise RegisterError(_summary(f"the partitioned registers in {folder}", problems))
        assert result.study_start is not None and result.study_end is not None
        return cls(
            path=folder,
            partitions=k,
            study_start=result.study_start,
            study_end=result.study_end,
            meta=result.meta,
        )

    def __repr__(self) -> str:
        return f"PartitionedRegisters({self.path}, partitions={self.partitions})"

    def rows(self) -> dict[str, int]:
        """Rows per table over all parts (from the Parquet footers, no data read)."""
        return {
            name: sum(
                pq.read_metadata(file).num_rows
                for i in range(self.partitions)
                for file in _part_files(self.path, name, i)
            )
            for name in TABLES
        }

    def person_ids(self, index: int) -> pa.Array:
        """``persons.person_id`` of part ``index`` as Arrow strings, in the part's order."""
        pieces = [
            pq.read_table(file, columns=["person_id"]).column(0).combine_chunks()
            for file in _part_files(self.path, "persons", index)
        ]
        return pa.concat_arrays(pieces) if pieces else pa.array([], pa.string())

    def partition(self, index: int, *, validate: bool = False) -> Registers:
        """Read part ``index`` as :class:`Registers` (validated when asked)."""
        regs = self._registers(self._read_part(index))
        return regs.validate() if validate else regs

    def _read_part(
        self,
        index: int,
        *,
        keep_text: bool = False,
        as_arrow: frozenset[tuple[str, str]] = frozenset(),
    ) -> ReadResult:
        """Part ``index`` as read (tables, problems of reading raised; see ``read_folder``).

        ``as_arrow``: text columns left as Arrow strings (``ReadResult.as_arrow``).
        """
        if not 0 <= index < self.partitions:
            raise IndexError(f"part {index} of {self.partitions}")
        result = ReadResult(keep_text=keep_text, as_arrow=as_arrow)
        for name in TABLES:
            files = _part_files(self.path, name, index)
            pieces = [_read_arrow(file, result.problems, name) for file in files]
            if files and all(p is not None for p in pieces):
                table = pa.concat_tables(pieces, promote_options="default")
                result.tables[name] = _to_frame(name, files[0], table, result)
            elif not files:
                result.problems.append(f"{name}: part {index} is missing")
        if result.problems:
            raise RegisterError(
                _summary(f"part {index} of the registers in {self.path}", result.problems)
            )
        return result

    def _registers(self, result: ReadResult) -> Registers:
        from evaluation.registers._model import Registers

        registers = Registers(
            **result.tables,
            study_start=self.study_start,
            study_end=self.study_end,
            meta=dict(self.meta),
        )
        return remember_codes(registers, result.codes)

    def map(
        self,
        fn: Callable[..., T],
        *args: Any,
        client: Client | str | None = None,
        workers: int | None = None,
    ) -> list[T]:
        """``[fn(self, i, *args) for i in range(partitions)]``, on Dask when asked.

        ``fn`` is a top-level function that reads its part itself (``regs.partition(i)``),
        so that a worker holds one part at a time and only results travel. ``client`` and
        ``workers`` as in :func:`evaluation.studies.run_study` (None and no ``workers``:
        in this process, one part after the other).
        """
        if runs_here(client, workers):
            return [fn(self, i, *args) for i in range(self.partitions)]
        from uuid import uuid4

        from distributed import as_completed

        run = uuid4().hex[:8]
        with dask_client(client, workers) as c, result_folder() as folder:
            # Workers on this machine write their results into `folder` (shared memory)
            # rather than sending them over TCP (evaluation._dask, "Results through
            # shared memory"); others send them as usual.
            futures = {
                c.submit(
                    store_result,
                    folder,
                    fn,
                    self,
                    i,
                    *args,
                    pure=False,
                    key=f"{fn.__name__}-{i}-{run}",
                ): i
                for i in range(self.partitions)
            }
            results: dict[int, T] = {}
            try:
                # Each result is fetched as it is ready and released on the worker, which
                # then holds only the part it works on.
                for future in as_completed(futures):
                    results[futures[future]] = load_result(future.result())
                    future.release()
            finally:
                c.cancel(list(futures))
            return [results[i] for i in range(self.partitions)]

    def problems(
        self, *, min_age: int | None = None, client: Client | str | None = None
    ) -> list[str]:
        """Every problem, part by part (prefixed ``part i:``) and across parts.

        Each part is validated as registers of its own (:meth:`Registers.problems`: all
        rules hold per person, and a person's rows are all in one part); then across
        parts: each person lies in the part its id hashes to (so ``persons.person_id`` is
        unique overall), and ``programme.episode_id`` and ``offences.offence_id`` are
        unique over all parts.
        """
        found = self.map(_part_problems, min_age, client=client)
        problems = [f"part {i}: {p}" for i, (probs, _) in enumerate(found) for p in probs]
        for t, (table, column) in enumerate(_UNIQUE):
            problems += _cross_duplicates(self, table, column, [hs[t] for _, hs in found])
        return problems

    def validate(
        self, *, min_age: int | None = None, client: Client | str | None = None
    ) -> PartitionedRegisters:
        """Check every part and the keys across parts; return self when valid."""
        problems = self.problems(min_age=min_age, client=client)
        if problems:
            raise RegisterError(_summary(f"the registers in {self.path}", problems), problems)
        return self

    def to_registers(self) -> Registers:
        """All parts read into one :class:`Registers` (the whole population in memory)."""
        from evaluation.registers._model import Registers

        return Registers.read(self.path, validate=False)


def _part_problems(
    regs: PartitionedRegisters, index: int, min_age: int | None
) -> tuple[list[str], list[np.ndarray]]:
    """One part's problems and the hashes of its keys (for the checks across parts)."""
    read = regs._read_part(index, keep_text=True)
    part = regs._registers(read)
    # As part.problems(min_age), with the Arrow strings reading made the text columns from.
    age, problems = resolve_min_age(min_age, part.meta)
    problems += collect_problems(
        {name: part.table(name) for name in TABLES},
        part.study_start,
        part.study_end,
        min_age=age,
        text=read.text,
        found=read.codes,
    )
    # Sorted and distinct here, on the worker: the calling process only merges them.
    hashes = [
        _sorted_distinct(_key_hash(part.table(t)[c], read.text.get((t, c)))) for t, c in _UNIQUE
    ]
    del read
    ids = part.persons["person_id"]
    if len(ids) and ids.notna().all():
        wrong = partition_of(ids.to_numpy(), regs.partitions) != index
        if wrong.any():
            problems.append(
                f"persons.person_id is in the wrong part in {int(wrong.sum())} rows "
                f"({show_values(ids[wrong])}): the registers were not partitioned by "
                f"{_INFO}'s key; write them again with Registers.write(partitions=K)"
            )
    return problems, hashes


def _key_hash(values: pd.Series, text: pa.Array | None = None) -> np.ndarray:
    """SipHash of each id that is not missing (``text``: the ids as read, if known)."""
    whole = text is not None and text.null_count == 0  # nothing to drop: no scan for it
    present = values.to_numpy(dtype=object) if whole else values.dropna().to_numpy(dtype=object)
    return pd.util.hash_array(present, hash_key=PARTITION_KEY, categorize=False)


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """Distinct values in ascending order, by a sort and a look at the neighbours.

    ``np.unique`` of numpy 2 hashes 64-bit values first, several times slower on the
    millions of key hashes of a register.
    """
    ordered = np.sort(values, kind="stable")  # timsort: sorted runs (parts) merge in O(n)
    if len(ordered) < 2:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _repeated(values: np.ndarray) -> np.ndarray:
    """The values that occur more than once, distinct and in ascending order."""
    ordered = np.sort(values, kind="stable")  # timsort: sorted runs (parts) merge in O(n)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    return _sorted_distinct(twice)


def _ids_with_hash(
    regs: PartitionedRegisters, index: int, table: str, column: str, wanted: np.ndarray
) -> list[str]:
    values = regs.partition(index).table(table)[column].dropna()
    hit = np.isin(_key_hash(values), wanted)
    return [str(v) for v in values[hit]]


def _cross_duplicates(
    regs: PartitionedRegisters,
    table: str,
    column: str,
    hashes: list[np.ndarray],
) -> list[str]:
    """Ids of ``table.column`` that occur in more than one part (by hash, then by value)."""
    # Duplicates within a part are reported by the part itself; here one hash per part
    # (each part's hashes come sorted and distinct: _part_problems).
    per_part = hashes
    shared = _repeated(np.concatenate(per_part))
    if not shared.size:
        return []
    parts = [i for i, h in enumerate(per_part) if np.isin(h, shared).any()]
    ids: dict[str, set[int]] = {}
    for i in parts:  # few parts, few ids: read here, not on the cluster
        for value in _ids_with_hash(regs, i, table, column, shared):
            ids.setdefault(value, set()).add(i)
    dup = sorted(v for v, where in ids.items() if len(where) > 1)
    if not dup:
        return []  # a collision of hashes, not of ids
    n = len(dup)
    return [
        f"{table}.{column} is duplicated (a key) across parts: {n} "
        f"{'id occurs' if n == 1 else 'ids occur'} in more than one part "
        f"({column} {show_values(pd.Series(dup))})"
    ]


def _summary(subject: str, problems: list[str]) -> str:
    count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
    return f"{subject} have {count}:\n" + "\n".join(f"- {p}" for p in problems)
