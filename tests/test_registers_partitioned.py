"""Registers partitioned by person: writing, lazy reading, validation across parts, cohorts.

A cohort built part by part must be the in-memory cohort row for row, whatever the number
of parts: the random one-entry-per-year draw is seeded per person, not per position.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError, RegisterError, Registers
from evaluation.cohorts import relapse_cohort
from evaluation.cohorts.partitioned import relapse_cohort_partitioned
from evaluation.registers import PartitionedRegisters, partition_of
from evaluation.synthetic import SimulationConfig, simulate_registers
from registers_helpers import tiny_registers

SEED = 4041

_KEYS = {
    "persons": ["person_id"],
    "programme": ["episode_id"],
    "offences": ["offence_id"],
    "custody": ["person_id", "start_date"],
    "exits": ["person_id"],
}


@pytest.fixture(scope="module")
def small() -> Registers:
    config = SimulationConfig(n_persons=1500, bra_monte_carlo_persons=0)
    return simulate_registers(config, rng=SEED).registers


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _assert_same_cohort(a, b) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.flow, b.flow)
    pd.testing.assert_frame_equal(a.window_status, b.window_status)
    pd.testing.assert_series_equal(a.person_reasons, b.person_reasons)


def test_parts_hold_every_row_once_and_each_person_whole(small, tmp_path):
    small.write(tmp_path, format="parquet", partitions=4)
    parts = Registers.read(tmp_path, lazy=True)
    assert isinstance(parts, PartitionedRegisters) and parts.partitions == 4
    assert parts.rows() == {name: len(small.table(name)) for name in _KEYS}
    for i in range(4):
        part = parts.partition(i)
        ids = set(part.persons["person_id"])
        # Every table's rows of the part belong to the part's persons.
        for name in ("programme", "offences", "custody", "exits"):
            assert set(part.table(name)["person_id"]) <= ids
        assert (partition_of(part.persons["person_id"], 4) == i).all()
    # Read whole, the registers are the same rows (in part order).
    whole = Registers.read(tmp_path)
    for name, keys in _KEYS.items():
        pd.testing.assert_frame_equal(
            _sorted(whole.table(name), keys), _sorted(small.table(name), keys)
        )


def test_the_part_of_a_person_is_the_same_in_every_process():
    ids = [f"P{i:06d}" for i in range(1, 200)]
    here = partition_of(ids, 7).tolist()
    code = f"from evaluation.registers import partition_of;print(partition_of({ids!r}, 7).tolist())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # Python's own hash would change
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == str(here)
    assert len(set(here)) == 7  # every part is used


def test_opening_reads_nothing_until_a_part_is_asked_for(tmp_path):
    tiny_registers().write(tmp_path, format="parquet", partitions=2)
    broken = tmp_path / "offences.parquet" / "part-00001.parquet"
    broken.write_bytes(b"not parquet")
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    parts.partition(0)
    with pytest.raises(RegisterError, match="part 1 of the registers"):
        parts.partition(1)
    with pytest.raises(RegisterError, match="no partitioned registers"):
        Registers.read(tmp_path / "offences.parquet", lazy=True)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_a_cohort_built_part_by_part_is_the_in_memory_cohort_whatever_k(small, tmp_path, k):
    assert small.persons["person_id"].is_monotonic_increasing
    small.write(tmp_path, format="parquet", partitions=k)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    for definition, population in (("bra-final", "all"), ("bra-preliminary", "programme")):
        whole = relapse_cohort(small, definition=definition, population=population, rng=SEED)
        built = relapse_cohort(parts, definition=definition, population=population, rng=SEED)
        _assert_same_cohort(whole, built)
    # The same generator state draws the same entries too.
    whole = relapse_cohort(small, rng=np.random.default_rng(3))
    _assert_same_cohort(whole, relapse_cohort(parts, rng=np.random.default_rng(3)))


def test_the_random_entry_of_a_person_does_not_depend_on_the_others(small):
    full = relapse_cohort(small, rng=SEED).data
    keep = small.persons["person_id"].iloc[::3]
    few = Registers(
        **{
            name: small.table(name)[small.table(name)["person_id"].isin(keep)].reset_index(
                drop=True
            )
            for name in _KEYS
        },
        study_start=small.study_start,
        study_end=small.study_end,
        meta=small.meta,
    )
    part = relapse_cohort(few, rng=SEED).data
    mine = full[full["person_id"].isin(keep)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        part[["person_id", "entry_date"]], mine[["person_id", "entry_date"]]
    )
    # And another seed draws other entries for some persons.
    other = relapse_cohort(small, rng=SEED + 1).data
    assert not other["entry_date"].equals(full["entry_date"])


def test_validation_checks_each_part_and_the_ids_across_parts(tmp_path):
    regs = tiny_registers()
    parts = partition_of(regs.persons["person_id"], 2)
    assert len(set(parts)) == 2  # the four persons fall into both parts
    off = regs.offences.copy()
    # Two offences of persons in different parts share an id: each part alone is valid.
    a = off.index[partition_of(off["person_id"], 2) == 0][0]
    b = off.index[partition_of(off["person_id"], 2) == 1][0]
    off.loc[b, "offence_id"] = off.loc[a, "offence_id"]
    Registers.write(tiny_registers(offences=off), tmp_path, format="parquet", partitions=2)
    with pytest.raises(RegisterError) as err:
        Registers.read(tmp_path, lazy=True)
    dup = off.loc[a, "offence_id"]
    assert err.value.problems == [
        "offences.offence_id is duplicated (a key) across parts: 1 id occurs in more than "
        f"one part (offence_id '{dup}')"
    ]
    # The in-memory validation finds the same duplicate.
    assert any("offence_id" in p for p in tiny_registers(offences=off).problems())


def test_a_person_in_the_wrong_part_is_reported(tmp_path):
    tiny_registers().write(tmp_path, format="parquet", partitions=2)
    a, b = (tmp_path / "persons.parquet" / f"part-0000{i}.parquet" for i in (0, 1))
    tmp = a.with_suffix(".tmp")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    problems = PartitionedRegisters.open(tmp_path).problems()
    assert any(p.startswith("part 0: persons.person_id is in the wrong part") for p in problems)
    assert any(p.startswith("part 1: persons.person_id is in the wrong part") for p in problems)


@pytest.mark.slow
def test_two_workers_build_the_cohort_of_one_process(small, tmp_path):
    # About 8 s, most of it starting two worker processes.
    from distributed import Client, LocalCluster

    small.write(tmp_path, format="parquet", partitions=4)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        assert parts.problems(client=client) == []
        built = relapse_cohort_partitioned(parts, rng=SEED, client=client)
    _assert_same_cohort(relapse_cohort(small, rng=SEED), built)


_MALLOC_VARIABLES = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**32)}


@pytest.mark.slow
def test_workers_on_this_machine_send_their_parts_through_shared_memory(
    small, tmp_path, monkeypatch
):
    # About 5 s. The caller's side of the transfer is watched: every part's cohort must
    # arrive as a stored result (written by the worker into the caller's folder), not over
    # TCP, and the folder must be gone afterwards.
    from evaluation import _dask
    from evaluation.registers import _partitioned

    arrived, folders = [], []
    load, folder = _partitioned.load_result, _partitioned.result_folder

    def watched_load(result):
        arrived.append(type(result).__name__)
        return load(result)

    @contextmanager
    def watched_folder():
        with folder() as name:
            folders.append(name)
            yield name

    monkeypatch.setattr(_partitioned, "load_result", watched_load)
    monkeypatch.setattr(_partitioned, "result_folder", watched_folder)
    # As an earlier Dask cluster of the user's leaves it (its nanny writes its default into
    # the environment of the process that started it).
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    small.write(tmp_path, format="parquet", partitions=3)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    with _dask.dask_client(None, 2) as client:
        built = relapse_cohort_partitioned(parts, rng=SEED, client=client)
        # The workers keep freed memory for their next part (evaluation._dask.WORKER_MALLOC):
        # glibc reads these when the worker process starts.
        malloc = client.run(lambda: {k: os.environ.get(k) for k in _MALLOC_VARIABLES})
        assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"  # the caller's, restored
        assert "MALLOC_MMAP_THRESHOLD_" not in os.environ
        # Restarted workers keep them (the nannies' configuration). Dask's nanny writes
        # them into this process's environment again as it restarts a worker.
        client.restart()
        malloc |= client.run(lambda: {k: os.environ.get(k) for k in _MALLOC_VARIABLES})
    assert list(malloc.values()) == [_MALLOC_VARIABLES] * len(malloc) and len(malloc) >= 2
    assert arrived == ["Stored"] * 3
    assert len(folders) == 1 and not os.path.exists(folders[0])
    _assert_same_cohort(relapse_cohort(small, rng=SEED), built)


def test_the_tables_person_ids_are_the_persons_id_objects(small, tmp_path):
    # Reading shares the persons' id strings with the other tables (one object per person,
    # not one per row); an id unknown to persons keeps its value for validation to report.
    small.write(tmp_path / "p", format="parquet")
    read = Registers.read(tmp_path / "p", validate=False)
    first = {id(x) for x in read.persons["person_id"]}
    for name in ("programme", "offences", "custody", "exits"):
        ids = read.table(name)["person_id"]
        assert ids.tolist() == small.table(name)["person_id"].tolist()
        assert {id(x) for x in ids} <= first, name
    offences = small.offences.copy()
    offences.loc[3, "person_id"] = "NOT-A-PERSON"
    broken = replace(small, offences=offences)
    broken.write(tmp_path / "b", format="parquet")
    back = Registers.read(tmp_path / "b", validate=False)
    assert back.offences["person_id"].tolist() == offences["person_id"].tolist()
    row = rf"offences.person_id is not in persons in 1 row \(offence_id {offences.offence_id[3]}\)"
    with pytest.raises(RegisterError, match=row):
        Registers.read(tmp_path / "b")


def test_a_cohort_written_part_by_part_holds_the_rows_and_flow(small, tmp_path):
    from evaluation.cohorts.partitioned import write_relapse_cohort

    small.write(tmp_path / "regs", format="parquet", partitions=3)
    parts = Registers.read(tmp_path / "regs", lazy=True, validate=False)
    flow = write_relapse_cohort(parts, tmp_path / "cohort", rng=SEED)
    whole = relapse_cohort(small, rng=SEED)
    pd.testing.assert_frame_equal(flow, whole.flow)
    rows = pd.read_parquet(tmp_path / "cohort")
    rows = rows.iloc[np.argsort(rows["person_id"].to_numpy(), kind="stable")]
    data = rows[list(whole.data.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(data, whole.data, check_dtype=False)
    assert (rows["window_status_1y"].to_numpy() == whole.window_status["1y"].to_numpy()).all()


def test_a_population_written_chunk_by_chunk_reads_as_one(small, tmp_path):
    from evaluation.registers._partitioned import write_partitioned

    half = small.persons["person_id"].iloc[: len(small.persons) // 2]
    for chunk, mine in enumerate((True, False)):
        tables = {
            name: small.table(name)[small.table(name)["person_id"].isin(half) == mine]
            for name in _KEYS
        }
        piece = Registers(
            **{n: t.reset_index(drop=True) for n, t in tables.items()},
            study_start=small.study_start,
            study_end=small.study_end,
            meta=small.meta,
        )
        write_partitioned(piece, tmp_path, 3, chunk=chunk)
    parts = Registers.read(tmp_path, lazy=True)  # validated part by part
    assert parts.rows() == {name: len(small.table(name)) for name in _KEYS}
    _assert_same_cohort(relapse_cohort(small, rng=SEED), relapse_cohort(parts, rng=SEED))


def test_reading_finds_the_person_codes_the_cohorts_would_hash(small, tmp_path, monkeypatch):
    # The codes reading found (one Arrow look-up per table) are the codes the cohorts
    # compute by hashing the ids; a table with an id unknown to persons, or persons with a
    # duplicate id, gets none, so the cohorts' own look-up reports the problem as before.
    from evaluation.cohorts.covariates import person_codes, table_codes
    from evaluation.registers import _io, codes_read

    small.write(tmp_path / "p", format="parquet", partitions=2)
    parts = Registers.read(tmp_path / "p", lazy=True, validate=False)
    for regs in (parts.partition(0), Registers.read(tmp_path / "p", validate=False)):
        for name in ("programme", "offences", "custody", "exits"):
            hashed = person_codes(regs.persons, regs.table(name)["person_id"], table=name)
            assert np.array_equal(codes_read(regs, name), hashed), name
            assert table_codes(regs, name) is codes_read(regs, name)
    assert codes_read(small, "offences") is None  # built in memory: nothing read

    # Rows in no order of person: each id is looked up; above _GATHER_AT_RANDOM rows new
    # strings are made instead (a gather at random costs more), no codes are kept, and the
    # cohorts hash the ids themselves.
    shuffled = small.offences.sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    replace(small, offences=shuffled).write(tmp_path / "s", format="parquet")
    hashed = None
    for limit, kept in ((2**20, True), (100, False)):
        monkeypatch.setattr(_io, "_GATHER_AT_RANDOM", limit)
        back = Registers.read(tmp_path / "s", validate=False)
        assert back.offences["person_id"].tolist() == shuffled["person_id"].tolist()
        hashed = person_codes(back.persons, shuffled["person_id"], table="offences")
        assert np.array_equal(table_codes(back, "offences"), hashed)
        assert (codes_read(back, "offences") is not None) == kept
        persons = {id(x) for x in back.persons["person_id"]}
        assert ({id(x) for x in back.offences["person_id"]} <= persons) == kept

    # A missing id inside a person's run of rows stays missing (it is not the neighbour's).
    holed = small.offences.copy()
    same = np.flatnonzero(holed.person_id.to_numpy()[1:] == holed.person_id.to_numpy()[:-1])
    holed.loc[same[0] + 1, "person_id"] = None
    replace(small, offences=holed).write(tmp_path / "h", format="parquet")
    back = Registers.read(tmp_path / "h", validate=False)
    assert back.offences["person_id"].tolist() == holed["person_id"].tolist()
    assert codes_read(back, "offences") is None

    offences = small.offences.copy()
    offences.loc[3, "person_id"] = "NOT-A-PERSON"
    persons = small.persons.copy()
    persons.loc[1, "person_id"] = persons.loc[0, "person_id"]
    for changed, table in (({"offences": offences}, "offences"), ({"persons": persons}, "exits")):
        bad = replace(small, **changed)
        bad.write(tmp_path / table, format="parquet")
        back = Registers.read(tmp_path / table, validate=False)
        assert codes_read(back, table) is None
        with pytest.raises(EstimationError, match="unknown to persons|duplicate ids"):
            table_codes(back, table)


def test_validation_takes_the_person_codes_reading_found(small, tmp_path, monkeypatch):
    # Reading with validation looks each row's person up once: the row rules take the
    # codes reading found instead of hashing every id again (10M offences). A table with an
    # unknown id has none kept, and validation looks it up and reports the id.
    from evaluation.registers import _rules

    looked_up = []
    codes = _rules._People.codes

    def watched(self, ids, arrow=None):
        looked_up.append(len(ids))
        return codes(self, ids, arrow)

    monkeypatch.setattr(_rules._People, "codes", watched)
    small.write(tmp_path / "p", format="parquet")
    small.write(tmp_path / "k", format="parquet", partitions=2)
    Registers.read(tmp_path / "p")
    Registers.read(tmp_path / "k", lazy=True)  # each part validated in this process
    assert looked_up == []
    exits = small.exits.copy()
    exits.loc[0, "person_id"] = "P_UNKNOWN"
    replace(small, exits=exits).write(tmp_path / "u", format="parquet")
    with pytest.raises(RegisterError, match="exits.person_id is not in persons"):
        Registers.read(tmp_path / "u")
    assert looked_up == [len(exits)]


def test_codes_from_reading_are_not_taken_when_the_persons_ids_repeat(small):
    # Positions among persons mean nothing when an id repeats (validation then indexes the
    # first of each id): codes offered anyway are ignored, and the problems are the same.
    from evaluation.registers._validate import collect_problems

    persons = pd.concat([small.persons, small.persons.iloc[[0]]], ignore_index=True)
    tables = {name: small.table(name) for name in _KEYS} | {"persons": persons}
    wrong = {"offences": np.zeros(len(small.offences), dtype=np.int64)}
    plain = collect_problems(tables, small.study_start, small.study_end)
    assert any("duplicate" in p or "unique" in p for p in plain), plain
    assert collect_problems(tables, small.study_start, small.study_end, found=wrong) == plain


def test_parts_put_in_person_order_by_ranks_equal_the_order_of_the_id_strings(small, tmp_path):
    # The calling process ranks the persons' ids from the parts' files (Arrow's byte order
    # of UTF-8) and sorts integers; the rows must come in the order a sort of the Python
    # strings gives, with ids of different lengths and letters beyond ASCII.
    from evaluation.cohorts.definitions import resolve_definition
    from evaluation.cohorts.partitioned import _part_cohort, combine_cohorts
    from evaluation.cohorts.relapse import SelectionKey

    g = np.random.default_rng(SEED)
    stems = np.array(["P", "Ö", "p", "Z", "Å", "ÿ", "P0"], dtype=object)
    old = small.persons["person_id"].to_numpy()
    new = {
        o: f"{stems[g.integers(len(stems))]}{int(n)}"
        for o, n in zip(old, g.permutation(len(old)) * 7 + 3, strict=True)
    }
    tables = {
        name: small.table(name).assign(person_id=small.table(name)["person_id"].map(new))
        for name in _KEYS
    }
    replace(small, **tables).write(tmp_path, format="parquet", partitions=3)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    built = relapse_cohort_partitioned(parts, rng=SEED)
    key = SelectionKey(int(np.random.default_rng(SEED).integers(2**63)))
    options = {
        "definition": resolve_definition("bra-final"),
        "population": "all",
        "rng": key,
        "entry_from": None,
        "entry_to": None,
    }
    by_strings = combine_cohorts([_part_cohort(parts, i, options) for i in range(3)])
    _assert_same_cohort(by_strings, built)
    ids = built.data["person_id"].tolist()
    assert ids == sorted(ids) and len(set(ids)) > 100
    assert built.person_reasons.index.tolist() == sorted(built.person_reasons.index)


def _options() -> dict:
    from evaluation.cohorts.definitions import resolve_definition
    from evaluation.cohorts.relapse import SelectionKey

    return {
        "definition": resolve_definition("bra-final"),
        "population": "all",
        "rng": SelectionKey(int(np.random.default_rng(SEED).integers(2**63))),
        "entry_from": None,
        "entry_to": None,
    }


def test_a_part_travels_as_integers_and_unpacks_to_its_cohort(small, tmp_path):
    # Private imports (kernel test): what a worker sends back. No text and no ids travel
    # as Python objects; the calling process's ids (from the parts' files) give them back.
    from evaluation.cohorts import partitioned
    from evaluation.cohorts.partitioned import _part_cohort, _part_cohort_coded, _unpacked

    small.write(tmp_path, format="parquet", partitions=2)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    seen = []
    build = partitioned.relapse_cohort

    def watched(registers, **options):
        seen.append(registers.offences["offence_id"].dtype)
        return build(registers, **options)

    for i in range(2):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(partitioned, "relapse_cohort", watched)
            packed = _part_cohort_coded(parts, i, _options())
        # The offence ids, which no cohort reads, stay Arrow strings on the worker.
        assert isinstance(seen[-1], pd.ArrowDtype)
        assert packed.ids and packed.reasons is not None
        assert "person_id" not in packed.cohort.data and packed.cohort.person_reasons is None
        for frame in (packed.cohort.data, packed.cohort.window_status):
            assert object not in frame.dtypes.tolist(), frame.dtypes
        assert {c for _, c in packed.texts} >= {"group", "sex", "municipality", "1y"}
        ids = parts.person_ids(i).to_numpy(zero_copy_only=False)
        _assert_same_cohort(_part_cohort(parts, i, _options()), _unpacked(packed, ids))


def test_text_with_missing_values_in_one_part_travels_as_it_is(small, tmp_path):
    # A text column with a missing value is not coded in that part (None and NaN stay as
    # they were) while the other parts' codes are: the combined column must hold both.
    from evaluation.cohorts.covariates import person_codes
    from evaluation.cohorts.partitioned import (
        _combine_packed,
        _packed,
        _part_cohort,
        _person_ranks,
        combine_cohorts,
    )

    small.write(tmp_path, format="parquet", partitions=3)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    cohorts = [_part_cohort(parts, i, _options()) for i in range(3)]
    cohorts[0].data.loc[[0, 3], "affiliation"] = [None, np.nan]
    packed = [
        _packed(c, person_codes(parts.partition(i).persons, c.data["person_id"], table="c"))
        for i, c in enumerate(cohorts)
    ]
    assert ("data", "affiliation") not in packed[0].texts
    assert ("data", "affiliation") in packed[1].texts
    built = _combine_packed(packed, *_person_ranks(parts))
    _assert_same_cohort(combine_cohorts(cohorts), built)
    missing = built.data.loc[built.data["affiliation"].isna(), "affiliation"].tolist()
    assert missing[0] is None and np.isnan(missing[1])


def test_parts_whose_ids_cannot_be_ranked_are_combined_by_their_ids(small, tmp_path, monkeypatch):
    # Ids the calling process cannot rank in Arrow (not all strings, or missing) send the
    # parts through the sort of the ids themselves, unpacked with the ids read from files.
    from evaluation.cohorts import partitioned

    monkeypatch.setattr(partitioned, "_person_ranks", lambda registers: None)
    small.write(tmp_path, format="parquet", partitions=3)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    built = relapse_cohort_partitioned(parts, rng=SEED)
    _assert_same_cohort(relapse_cohort(small, rng=SEED), built)


def test_only_text_of_strings_is_coded():
    # Factorizing merges values that compare equal (1, True and 1.0) and missing values of
    # different kinds: such columns travel as they are.
    from evaluation.cohorts.partitioned import _coded

    assert _coded(np.array([1, True, 1.0], dtype=object)) is None
    assert _coded(np.array(["a", None, np.nan], dtype=object)) is None
    coded = _coded(np.array(["b", "a", "b"], dtype=object))
    assert coded.codes.tolist() == [0, 1, 0] and coded.values.tolist() == ["b", "a"]


def test_a_part_without_entries_and_changed_persons(small, tmp_path, monkeypatch):
    # A part whose cohort has no rows combines like the others; a part whose persons
    # differ from those ranked (its files changed meanwhile) is an error, not a mix-up.
    from evaluation.cohorts import partitioned
    from evaluation.cohorts.covariates import person_codes

    small.write(tmp_path, format="parquet", partitions=3)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    cohorts = [partitioned._part_cohort(parts, i, _options()) for i in range(3)]
    empty = cohorts[1]
    cohorts[1] = replace(
        empty, data=empty.data.iloc[:0], window_status=empty.window_status.iloc[:0]
    )
    packed = [
        partitioned._packed(
            c, person_codes(parts.partition(i).persons, c.data["person_id"], table="c")
        )
        for i, c in enumerate(cohorts)
    ]
    built = partitioned._combine_packed(packed, *partitioned._person_ranks(parts))
    _assert_same_cohort(partitioned.combine_cohorts(cohorts), built)
    assert len(built.data) == len(cohorts[0].data) + len(cohorts[2].data)

    ranks = partitioned._person_ranks

    def one_short(registers):
        by_part, ids = ranks(registers)
        return [by_part[0][:-1], *by_part[1:]], ids

    monkeypatch.setattr(partitioned, "_person_ranks", one_short)
    with pytest.raises(ValueError, match="persons of part 0 changed"):
        relapse_cohort_partitioned(parts, rng=SEED)


def test_ids_that_are_not_all_strings_travel_as_they_are():
    from evaluation.cohorts import Cohort
    from evaluation.cohorts.partitioned import _packed, _unpacked

    data = pd.DataFrame({"person_id": [1, 2, 2], "sex": ["man", "woman", "woman"]})
    reasons = pd.Series(["included"] * 2, index=[1, 2], name="reason", dtype=object)
    cohort = Cohort(data=data, flow=pd.DataFrame(), definition=None, person_reasons=reasons)
    packed = _packed(cohort, np.array([0, 1, 1]))
    assert not packed.ids and packed.reasons is None
    assert packed.cohort.data["person_id"].tolist() == [1, 2, 2]
    back = _unpacked(packed, np.array(["not", "used"], dtype=object))
    pd.testing.assert_frame_equal(back.data, data)
    pd.testing.assert_series_equal(back.person_reasons, reasons)


def test_the_combined_columns_are_made_without_huge_pages(small, tmp_path, monkeypatch):
    # NumPy's madvise for huge pages is off while the parts are combined (slow and erratic
    # where the kernel compacts memory on the first write), and as it was afterwards.
    from numpy._core.multiarray import _set_madvise_hugepage

    from evaluation.cohorts import partitioned

    seen = []
    concat_take = partitioned._concat_take

    def watched(*args):
        seen.append(_set_madvise_hugepage(False))
        _set_madvise_hugepage(seen[-1])
        return concat_take(*args)

    monkeypatch.setattr(partitioned, "_concat_take", watched)
    small.write(tmp_path, format="parquet", partitions=2)
    parts = Registers.read(tmp_path, lazy=True, validate=False)
    before = _set_madvise_hugepage(True)
    try:
        relapse_cohort_partitioned(parts, rng=SEED)
        assert seen == [False, False]
        assert _set_madvise_hugepage(True) is True
    finally:
        _set_madvise_hugepage(before)
