"""Relapse cohorts of partitioned registers: each part's cohort on Dask, then one cohort.

The registers are partitioned by person (``Registers.write(path, format="parquet",
partitions=K)``), and every step of :func:`relapse_cohort` looks at one person's rows only,
so a part's cohort is the cohort of its persons. The one random entry per person and year
is drawn from a hash of the study's key, the person's id and the day (one key for all
parts), so the rows are the same whatever K is. A worker holds one part at a time; the
calling process holds the concatenated cohort (ARCHITECTURE.md, "Studies and partitioned
registers").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evaluation.cohorts._cohort import Cohort
from evaluation.cohorts.covariates import person_codes
from evaluation.cohorts.definitions import RelapseDefinition, resolve_definition
from evaluation.cohorts.relapse import SelectionKey, relapse_cohort

if TYPE_CHECKING:
    from distributed import Client

    from evaluation.registers import PartitionedRegisters

__all__ = ["combine_cohorts", "relapse_cohort_partitioned", "write_relapse_cohort"]


def _part_cohort(registers: PartitionedRegisters, index: int, options: dict[str, Any]) -> Cohort:
    """One part's cohort (runs on a worker: reads its part itself)."""
    return relapse_cohort(registers.partition(index), **options)


class _Coded(NamedTuple):
    """A text column of a part as codes into its distinct values (see :func:`_packed`)."""

    codes: np.ndarray
    values: np.ndarray  # object: the distinct values, each one ``str``


class _Packed(NamedTuple):
    """A part's cohort as a worker sends it back: ids as positions, text as codes.

    The calling process would otherwise unpickle a new ``str`` for every row's id and
    gather 2.5M Python objects per text column under the GIL; as integers, a part of the
    1M cohort pickles in a quarter of the time and loads in a tenth (0.6 -> 0.07 s for the
    eight parts), and its columns gather on every core.
    """

    cohort: Cohort  # without the coded columns; person_reasons only when not coded
    persons: np.ndarray  # each row's position among the part's persons
    columns: dict[str, list[str]]  # "data", "window_status": the columns in their order
    texts: dict[tuple[str, str], _Coded]  # (frame, column): the coded columns
    reasons: _Coded | None  # person_reasons' values, one per person of the part
    ids: bool  # True when data has no person_id (all str: the persons' ids give them)


def _coded(values: np.ndarray) -> _Coded | None:
    """Text ``values`` as codes, or None when not all are ``str`` (kept exactly as they are).

    Only strings: factorizing merges values that compare equal (``1``, ``True`` and ``1.0``),
    and a missing value (None or NaN) must stay what it was.
    """
    codes, distinct = pd.factorize(values)
    # A str equals only a str: when every distinct value is one, so was every value.
    if (len(codes) and codes.min() < 0) or not all(type(v) is str for v in distinct):
        return None
    return _Coded(codes.astype(np.int32), np.asarray(distinct, dtype=object))


def _packed(cohort: Cohort, persons: np.ndarray) -> _Packed:
    """:class:`_Packed` of a part's cohort; ``persons`` are its rows' person positions."""
    frames = {"data": cohort.data, "window_status": cohort.window_status}
    columns: dict[str, list[str]] = {}
    texts: dict[tuple[str, str], _Coded] = {}
    kept: dict[str, pd.DataFrame | None] = {}
    ids = pd.api.types.infer_dtype(cohort.data["person_id"], skipna=False) in ("string", "empty")
    for name, frame in frames.items():
        if frame is None:
            kept[name] = None
            continue
        columns[name] = list(frame.columns)
        for column in frame.columns:
            if (name, column) == ("data", "person_id"):
                continue
            if frame[column].dtype == object:
                coded = _coded(frame[column].to_numpy())
                if coded is not None:
                    texts[(name, column)] = coded
        dropped = {c for n, c in texts if n == name} | (
            {"person_id"} if name == "data" and ids else set()
        )
        # The other columns as they are (views: ``drop`` would copy them all).
        kept[name] = pd.DataFrame(
            {c: frame[c] for c in frame.columns if c not in dropped}, index=frame.index, copy=False
        )
    reasons = None
    if cohort.person_reasons is not None and ids:
        # The index (the persons' ids) is not sent either: the calling process has them.
        reasons = _coded(cohort.person_reasons.to_numpy())
    return _Packed(
        cohort=Cohort(
            data=kept["data"],
            flow=cohort.flow,
            definition=cohort.definition,
            meta=cohort.meta,
            person_reasons=cohort.person_reasons if reasons is None else None,
            window_status=kept["window_status"],
        ),
        persons=persons,
        columns=columns,
        texts=texts,
        reasons=reasons,
        ids=ids,
    )


#: Columns of the registers no cohort reads (see :func:`_part_cohort_coded`).
_UNREAD = frozenset({("offences", "offence_id")})


def _part_cohort_coded(
    registers: PartitionedRegisters, index: int, options: dict[str, Any]
) -> _Packed:
    """One part's cohort, packed to travel (on a worker: reads its part itself).

    The offence ids, which no cohort reads, stay Arrow strings: 870,000 ``str`` objects a
    part of the 1M registers not made (and not faulted into memory).
    """
    part = registers._registers(registers._read_part(index, as_arrow=_UNREAD))
    cohort = relapse_cohort(part, **options)
    return _packed(cohort, person_codes(part.persons, cohort.data["person_id"], table="cohort"))


def _unpacked(part: _Packed, ids: np.ndarray) -> Cohort:
    """The cohort ``part`` was packed from; ``ids`` are the part's persons' ids."""
    frames = {}
    for name, columns in part.columns.items():
        frame = _frame(part, name)
        values = {c: frame[c] for c in frame.columns}
        for (n, column), coded in part.texts.items():
            if n == name:
                values[column] = pd.Series(
                    coded.values[coded.codes], index=frame.index, dtype=object
                )
        if name == "data" and part.ids:
            values["person_id"] = pd.Series(ids[part.persons], index=frame.index, dtype=object)
        frames[name] = pd.DataFrame({c: values[c] for c in columns}, index=frame.index)
    reasons = part.cohort.person_reasons
    if part.reasons is not None:
        reasons = pd.Series(
            part.reasons.values[part.reasons.codes],
            index=pd.Index(ids, dtype=object),
            name="reason",
        )
    return Cohort(
        data=frames["data"],
        flow=part.cohort.flow,
        definition=part.cohort.definition,
        meta=part.cohort.meta,
        person_reasons=reasons,
        window_status=frames.get("window_status"),
    )


def _person_ranks(registers: PartitionedRegisters) -> tuple[list[np.ndarray], np.ndarray] | None:
    """Each part's persons' ranks in ``person_id`` order over all parts, and the ids so ordered.

    From the parts' files, while the workers build the cohorts (or None when some id is
    missing or the ids are not Arrow strings): the rows are then put in person order by
    sorting integers, not 2.5M Python strings (0.3-0.45 s of the calling process after the
    last part, on the 1M cohort), and the ids' ``str`` objects are made here rather than
    sent by the workers. Arrow orders strings by their UTF-8 bytes, which is Python's order
    of code points.
    """
    ids = [registers.person_ids(i) for i in range(registers.partitions)]
    if any(a.null_count or not pa.types.is_string(a.type) for a in ids):
        return None
    every = pa.chunked_array(ids, type=pa.string())
    order = pc.sort_indices(every)
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order.to_numpy()] = np.arange(len(order))
    ordered = pc.take(every, order).combine_chunks().to_numpy(zero_copy_only=False)
    return np.split(ranks, np.cumsum([len(a) for a in ids])[:-1]), ordered


def relapse_cohort_partitioned(
    registers: PartitionedRegisters,
    *,
    definition: str | RelapseDefinition = "bra-final",
    population: Literal["all", "programme"] = "all",
    rng: np.random.Generator | int | None = None,
    entry_from: str | pd.Timestamp | None = None,
    entry_to: str | pd.Timestamp | None = None,
    client: Client | str | None = None,
    workers: int | None = None,
) -> Cohort:
    """:func:`relapse_cohort` of partitioned registers, part by part (on Dask when asked).

    Parameters
    ----------
    registers
        Partitioned registers (``Registers.read(path, lazy=True)``).
    definition, population, rng, entry_from, entry_to
        As in :func:`relapse_cohort`; the same ``rng`` gives the same entries as
        ``relapse_cohort`` of the whole registers.
    client, workers
        Where the parts run: None (in this process, one part after the other),
        ``"processes"`` or ``workers=N`` (a local Dask cluster), a scheduler address or a
        ``distributed.Client``.

    Returns
    -------
    Cohort
        The parts' cohorts concatenated, rows in ``person_id`` order (within a person, as
        :func:`relapse_cohort` orders them), the flow tables summed. Equal row for row to
        ``relapse_cohort`` of the whole registers when their persons are in ``person_id``
        order (as the synthetic registers are).
    """
    key = SelectionKey(int(np.random.default_rng(rng).integers(2**63)))
    options = {
        "definition": resolve_definition(definition),
        "population": population,
        "rng": key,
        "entry_from": entry_from,
        "entry_to": entry_to,
    }
    with ThreadPoolExecutor(1) as pool:
        ranks = pool.submit(_person_ranks, registers)
        packed = registers.map(_part_cohort_coded, options, client=client, workers=workers)
        ranked = ranks.result()
    if ranked is not None:
        for i, (p, r) in enumerate(zip(packed, ranked[0], strict=True)):
            if p.reasons is not None and len(r) != len(p.reasons.codes):
                raise ValueError(f"the persons of part {i} changed while its cohort was built")
    if ranked is None or any(not p.ids or p.reasons is None for p in packed):
        parts = [
            _unpacked(p, registers.person_ids(i).to_numpy(zero_copy_only=False))
            for i, p in enumerate(packed)
        ]
        return combine_cohorts(parts)
    return _combine_packed(packed, *ranked)


def _part_cohort_written(
    registers: PartitionedRegisters, index: int, options: dict[str, Any], out: str
) -> Cohort:
    """One part's cohort written to ``out`` (on a worker); returns it without its rows."""
    cohort = _part_cohort(registers, index, options)
    frame = cohort.data.copy()
    if cohort.window_status is not None:
        for label in cohort.window_status.columns:
            frame[f"window_status_{label}"] = cohort.window_status[label].to_numpy()
    target = Path(out) / f"part-{index:05d}.parquet"
    tmp = target.with_name(f".{target.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(target)
    return Cohort(
        data=cohort.data.iloc[:0],
        flow=cohort.flow,
        definition=cohort.definition,
        meta=cohort.meta,
    )


def write_relapse_cohort(
    registers: PartitionedRegisters,
    out: str | Path,
    *,
    definition: str | RelapseDefinition = "bra-final",
    population: Literal["all", "programme"] = "all",
    rng: np.random.Generator | int | None = None,
    entry_from: str | pd.Timestamp | None = None,
    entry_to: str | pd.Timestamp | None = None,
    client: Client | str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Build the cohort part by part and write it as a Parquet dataset; return its flow.

    For populations whose cohort does not fit in one process's memory: each worker writes
    its part's rows (``data`` plus ``window_status_<window>`` columns) to
    ``out/part-<i>.parquet`` and sends back only its flow. The rows are those of
    :func:`relapse_cohort_partitioned` with the same arguments (``pandas.read_parquet(out)``
    reads them in part order). Workers must see ``out`` (a local cluster, or a shared disk).

    Returns
    -------
    DataFrame
        The flow table (summed over the parts), also written as ``out/_flow.csv``.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    key = SelectionKey(int(np.random.default_rng(rng).integers(2**63)))
    options = {
        "definition": resolve_definition(definition),
        "population": population,
        "rng": key,
        "entry_from": entry_from,
        "entry_to": entry_to,
    }
    parts = registers.map(
        _part_cohort_written, options, str(folder.resolve()), client=client, workers=workers
    )
    flow = combine_cohorts(parts).flow
    flow.to_csv(folder / "_flow.csv", index=False)  # "_": not part of the dataset
    return flow


def _person_order(ids: np.ndarray) -> np.ndarray:
    """Positions that put the ids in order, keeping the order of equal ids (stable).

    The ids are the parts' ids one part after the other, each part in order: NumPy's stable
    sort (a timsort) finds those runs and merges them, faster than Arrow's sort, which does
    not look for runs.
    """
    return np.argsort(np.asarray(ids, dtype=object), kind="stable")


@contextmanager
def _small_pages() -> Iterator[None]:
    """NumPy's request for transparent huge pages turned off while the columns are made.

    NumPy asks the kernel for huge pages for every array of 4 MB or more
    (``madvise(MADV_HUGEPAGE)``); where the kernel then compacts memory to find 2 MB pages
    when they are first written (THP ``defrag`` set to ``madvise``, as on the benchmark
    machine), giving a combined cohort its new memory was slow and erratic: 0.87-1.55 s for
    the 1M cohort's columns, 0.77-0.79 s with small pages. The setting is NumPy's own
    (``NUMPY_MADVISE_HUGEPAGE``), changed for this process while the cohort is combined
    (another thread allocating meanwhile gets small pages too; two combines at once may
    leave it off).
    """
    try:
        from numpy._core.multiarray import (  # type: ignore[attr-defined]
            _set_madvise_hugepage,
        )
    except ImportError:  # a NumPy without it: nothing to turn off
        yield
        return
    previous = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)


def _concat_take(
    columns: dict[str, list[pd.Series | _Coded]], order: np.ndarray, pool: ThreadPoolExecutor
) -> pd.DataFrame:
    """Each column's pieces one after the other, rows then taken in ``order``.

    Each column is concatenated and taken on its own arrays (NumPy's for NumPy columns, the
    extension array's own for the others, the codes for coded text) and becomes a block of
    its own. ``pd.concat`` of the frames followed by a take was 2.5x slower on the 1M
    cohort (8 parts, 2.5M rows, 34 columns): it aligns and consolidates blocks first, and
    pandas' take looks for missing values in object columns, which NumPy's does not need
    to. The columns are gathered on ``pool``'s threads: NumPy releases the GIL for numeric
    columns, and most of the time is the kernel's, giving the new columns their memory
    (2.0 -> 0.75-1.0 s on 2 cores).
    """
    index = pd.RangeIndex(len(order))
    gathered = pool.map(lambda pieces: _gathered(pieces, order), columns.values())
    out = pd.DataFrame(
        # The dtype given, so that object columns are not inspected for dates.
        {
            j: pd.Series(values, index=index, dtype=dtype, copy=False)
            for j, (values, dtype) in enumerate(gathered)
        },
        copy=False,
    )
    out.columns = pd.Index(list(columns))
    return out


def _gathered(pieces: list[pd.Series | _Coded], order: np.ndarray) -> tuple[Any, Any]:
    """One column's pieces concatenated and taken in ``order``; and the column's dtype."""
    if all(isinstance(p, _Coded) for p in pieces):
        coded = cast(list[_Coded], pieces)
        values = pd.unique(np.concatenate([p.values for p in coded]))
        known = pd.Index(values)
        codes = np.concatenate([known.get_indexer(p.values)[p.codes] for p in coded])
        return values.take(codes.take(order)), np.dtype(object)
    series = [
        p if isinstance(p, pd.Series) else pd.Series(p.values[p.codes], dtype=object)
        for p in pieces
    ]
    dtype = series[0].dtype
    if isinstance(dtype, np.dtype):
        return np.concatenate([p.to_numpy() for p in series]).take(order), dtype
    arrays = [p.array for p in series]
    return type(arrays[0])._concat_same_type(arrays).take(order), dtype


def _combined_reasons(parts: list[pd.Series]) -> pd.Series:
    """The persons' reasons of every part, in the order of their ids."""
    reasons = pd.concat(parts)
    return reasons.iloc[_person_order(reasons.index.to_numpy())]


def combine_cohorts(parts: list[Cohort]) -> Cohort:
    """Cohorts of disjoint sets of persons as one: rows in person order, flows summed.

    Counts of persons add up because no person is in two parts; the flow's ``n_entries``
    stays missing where it is missing (the persons' exclusion rows). The rows are ordered
    by a stable sort of their ids.
    """
    first = parts[0]
    with _small_pages(), ThreadPoolExecutor(min(os.cpu_count() or 1, 8)) as pool:
        person_reasons = None
        if first.person_reasons is not None:
            reasons = pool.submit(_combined_reasons, [p.person_reasons for p in parts])
        ids = np.concatenate([p.data["person_id"].to_numpy() for p in parts])
        order = _person_order(ids)
        data = _concat_take({c: [p.data[c] for p in parts] for c in first.data}, order, pool)
        window_status = None
        if first.window_status is not None:
            statuses = [cast(pd.DataFrame, p.window_status) for p in parts]
            window_status = _concat_take(
                {c: [s[c] for s in statuses] for c in first.window_status}, order, pool
            )
        if first.person_reasons is not None:
            person_reasons = reasons.result()
    return _with_flows(parts, data, person_reasons, window_status)


def _combine_packed(
    parts: list[_Packed], person_ranks: list[np.ndarray], ids: np.ndarray
) -> Cohort:
    """Packed parts as one cohort, rows in person order (``_person_ranks``' ranks and ids).

    A stable sort of the rows' persons' ranks is the stable sort of their ids; the rows'
    ids are the ordered ids at the sorted ranks, and every person's reason is at its rank.
    """
    ranks = np.concatenate([r[p.persons] for r, p in zip(person_ranks, parts, strict=True)])
    order = np.argsort(ranks, kind="stable")
    frames: dict[str, pd.DataFrame] = {}
    with _small_pages(), ThreadPoolExecutor(min(os.cpu_count() or 1, 8)) as pool:
        for name, columns in parts[0].columns.items():
            pieces: dict[str, list[pd.Series | _Coded]] = {}
            for column in columns:
                if (name, column) == ("data", "person_id"):
                    continue
                pieces[column] = [_piece(p, name, column) for p in parts]
            frame = _concat_take(pieces, order, pool)
            if name == "data":
                frame.insert(
                    columns.index("person_id"),
                    "person_id",
                    pd.Series(ids.take(ranks.take(order)), index=frame.index, dtype=object),
                )
            frames[name] = frame
    # The ranks of all persons are 0, 1, ... (each once): at the persons' order, the ids
    # are ``ids`` themselves.
    at = np.argsort(np.concatenate(person_ranks), kind="stable")
    reasons = _gathered([cast(_Coded, p.reasons) for p in parts], at)[0]
    person_reasons = pd.Series(reasons, index=pd.Index(ids, dtype=object), name="reason")
    return _with_flows(
        [p.cohort for p in parts], frames["data"], person_reasons, frames.get("window_status")
    )


def _piece(part: _Packed, name: str, column: str) -> pd.Series | _Coded:
    """Column ``column`` of frame ``name`` of a packed part: as codes when it was coded."""
    coded = part.texts.get((name, column))
    return _frame(part, name)[column] if coded is None else coded


def _frame(part: _Packed, name: str) -> pd.DataFrame:
    """Frame ``name`` (``data`` or ``window_status``) of a packed part, as it was sent."""
    frame = part.cohort.data if name == "data" else part.cohort.window_status
    assert frame is not None
    return frame


def _with_flows(
    parts: list[Cohort],
    data: pd.DataFrame,
    person_reasons: pd.Series | None,
    window_status: pd.DataFrame | None,
) -> Cohort:
    """The combined cohort: its rows given, the parts' flow tables summed."""
    first = parts[0]
    flow = first.flow.copy()
    for p in parts[1:]:
        if not p.flow[["stage", "window", "reason"]].equals(flow[["stage", "window", "reason"]]):
            raise ValueError("the parts' flow tables list different reasons")
    missing = first.flow["n_entries"].isna().to_numpy()
    for column in ("n_persons", "n_entries"):
        blank = missing if column == "n_entries" else np.zeros(len(flow), dtype=bool)
        total = sum(p.flow[column].where(~blank, 0).to_numpy().astype(np.int64) for p in parts)
        values = pd.Series(total, index=flow.index).astype(first.flow[column].dtype)
        flow[column] = values.where(~blank, pd.NA) if blank.any() else values
    return Cohort(
        data=data,
        flow=flow,
        definition=first.definition,
        meta=dict(first.meta),
        person_reasons=person_reasons,
        window_status=window_status,
    )
