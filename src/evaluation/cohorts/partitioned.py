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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

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


def _part_cohort_coded(
    registers: PartitionedRegisters, index: int, options: dict[str, Any]
) -> tuple[Cohort, np.ndarray]:
    """One part's cohort and each row's position among the part's persons (on a worker)."""
    part = registers.partition(index)
    cohort = relapse_cohort(part, **options)
    return cohort, person_codes(part.persons, cohort.data["person_id"], table="cohort")


def _person_ranks(registers: PartitionedRegisters) -> list[np.ndarray] | None:
    """Each part's persons' ranks in ``person_id`` order over all parts (or None).

    From the parts' files, while the workers build the cohorts: the rows are then put in
    person order by sorting integers, not 2.5M Python strings (0.3-0.45 s of the calling
    process after the last part, on the 1M cohort). Arrow orders strings by their UTF-8
    bytes, which is Python's order of code points.
    """
    ids = [registers.person_ids(i) for i in range(registers.partitions)]
    if any(a.null_count or not pa.types.is_string(a.type) for a in ids):
        return None
    order = pc.sort_indices(pa.chunked_array(ids, type=pa.string())).to_numpy()
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order))
    return np.split(ranks, np.cumsum([len(a) for a in ids])[:-1])


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
        coded = registers.map(_part_cohort_coded, options, client=client, workers=workers)
        person_ranks = ranks.result()
    parts = [cohort for cohort, _ in coded]
    if person_ranks is None or any(
        p.person_reasons is None or len(r) != len(p.person_reasons)
        for p, r in zip(parts, person_ranks, strict=True)
    ):
        return combine_cohorts(parts)
    keys = [r[codes] for r, (_, codes) in zip(person_ranks, coded, strict=True)]
    return _combine(parts, keys, person_ranks)


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


def _concat_take(
    frames: list[pd.DataFrame], order: np.ndarray, pool: ThreadPoolExecutor
) -> pd.DataFrame:
    """The frames one after the other, rows then taken in ``order``, column by column.

    Each column is concatenated and taken on its own arrays (NumPy's for NumPy columns, the
    extension array's own for the others) and becomes a block of its own. ``pd.concat`` of
    the frames followed by a take was 2.5x slower on the 1M cohort (8 parts, 2.5M rows, 34
    columns): it aligns and consolidates blocks first, and pandas' take looks for missing
    values in object columns, which NumPy's does not need to. The columns are gathered on
    ``pool``'s threads: NumPy releases the GIL for numeric columns, and most of the time
    is the kernel's, giving the new columns their memory (2.0 -> 0.75-1.0 s on 2 cores).
    """
    first = frames[0]
    index = pd.RangeIndex(len(order))

    def gathered(j: int) -> Any:
        if isinstance(first.dtypes.iloc[j], np.dtype):
            return np.concatenate([f.iloc[:, j].to_numpy() for f in frames]).take(order)
        arrays = [f.iloc[:, j].array for f in frames]
        return type(arrays[0])._concat_same_type(arrays).take(order)

    columns = {
        # The dtype given, so that object columns are not inspected for dates.
        j: pd.Series(values, index=index, dtype=first.dtypes.iloc[j], copy=False)
        for j, values in enumerate(pool.map(gathered, range(first.shape[1])))
    }
    out = pd.DataFrame(columns, copy=False)
    out.columns = first.columns
    return out


def _combined_reasons(parts: list[pd.Series], order: np.ndarray | None = None) -> pd.Series:
    """The persons' reasons of every part, in person order (``order``, or by their ids)."""
    reasons = pd.concat(parts)
    return reasons.iloc[_person_order(reasons.index.to_numpy()) if order is None else order]


def combine_cohorts(parts: list[Cohort]) -> Cohort:
    """Cohorts of disjoint sets of persons as one: rows in person order, flows summed.

    Counts of persons add up because no person is in two parts; the flow's ``n_entries``
    stays missing where it is missing (the persons' exclusion rows).
    """
    return _combine(parts)


def _combine(
    parts: list[Cohort],
    row_ranks: list[np.ndarray] | None = None,
    person_ranks: list[np.ndarray] | None = None,
) -> Cohort:
    """:func:`combine_cohorts`, ordered by the persons' ranks when they are given.

    ``row_ranks[i]`` is the rank (in ``person_id`` order over all parts) of the person of
    each row of part ``i``, ``person_ranks[i]`` that of each person of part ``i``: a stable
    sort of the ranks is the stable sort of the ids.
    """
    first = parts[0]
    with ThreadPoolExecutor(min(os.cpu_count() or 1, 8)) as pool:
        person_reasons = None
        if first.person_reasons is not None:
            at = None
            if person_ranks is not None:
                at = np.argsort(np.concatenate(person_ranks), kind="stable")
            reasons = pool.submit(_combined_reasons, [p.person_reasons for p in parts], at)
        if row_ranks is None:
            ids = np.concatenate([p.data["person_id"].to_numpy() for p in parts])
            order = _person_order(ids)
        else:
            order = np.argsort(np.concatenate(row_ranks), kind="stable")
        data = _concat_take([p.data for p in parts], order, pool)
        window_status = None
        if first.window_status is not None:
            window_status = _concat_take([p.window_status for p in parts], order, pool)
        if first.person_reasons is not None:
            person_reasons = reasons.result()
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
