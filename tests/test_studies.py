"""Simulation studies: seeding per replication, resuming, workers, the command line."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import StudyError
from evaluation.cli import main
from evaluation.studies import StudyDesign, resolve_design, run_study
from evaluation.studies.examples import mean_interval, mean_interval_study

SEED = 20260


def flaky(seed: np.random.SeedSequence, *, marker: str, fail_at: int) -> dict[str, float]:
    """mean_interval, but replication ``fail_at`` fails the first time (a killed study)."""
    if seed.spawn_key[-1] == fail_at and not Path(marker).exists():
        Path(marker).touch()
        raise RuntimeError("stopped halfway")
    return mean_interval(seed, n=5)


def test_replication_i_draws_from_the_ith_child_of_the_seed():
    result = run_study(mean_interval_study(n=8), replications=6, seed=SEED, progress=False)
    children = np.random.SeedSequence(SEED).spawn(6)
    for i in (0, 3, 5):
        row = result.replications[result.replications.replication == i].iloc[0]
        assert row["estimate"] == mean_interval(children[i], n=8)["estimate"]
    # Distinct replications have distinct numbers.
    assert result.replications["estimate"].nunique() == 6
    assert result.replications["replication"].tolist() == list(range(6))


def test_a_study_stopped_halfway_resumes_and_equals_an_uninterrupted_one(tmp_path):
    whole = run_study(
        StudyDesign(name="flaky", replicate=flaky, params={"marker": "m", "fail_at": 99}),
        replications=10,
        seed=SEED,
        out=tmp_path / "whole",
        progress=False,
    )
    design = StudyDesign(
        name="flaky", replicate=flaky, params={"marker": str(tmp_path / "m"), "fail_at": 5}
    )
    with pytest.raises(RuntimeError, match="stopped halfway"):
        run_study(design, replications=10, seed=SEED, out=tmp_path / "cut", progress=False)
    written = sorted(p.name for p in (tmp_path / "cut").glob("rep-*.parquet"))
    assert written == [f"rep-{i:06d}.parquet" for i in range(5)]
    # A file cut short by a kill during writing never has the final name; leftovers of the
    # temporary name are not read.
    (tmp_path / "cut" / ".rep-000005.parquet.tmp-1").write_bytes(b"PAR1 cut")
    resumed = run_study(design, replications=10, seed=SEED, out=tmp_path / "cut", progress=False)
    assert resumed.n_run == 5 and whole.n_run == 10
    pd.testing.assert_frame_equal(resumed.replications, whole.replications)
    # The folder is a Parquet dataset of all replications.
    assert len(pd.read_parquet(tmp_path / "cut")) == 10
    # Run again: nothing left to do, the same numbers.
    again = run_study(design, replications=10, seed=SEED, out=tmp_path / "cut", progress=False)
    assert again.n_run == 0
    pd.testing.assert_frame_equal(again.replications, whole.replications)


def test_a_results_folder_of_another_study_is_refused(tmp_path):
    run_study(mean_interval_study(n=5), replications=2, seed=1, out=tmp_path, progress=False)
    with pytest.raises(StudyError, match=r"seed: written 1, asked 2"):
        run_study(mean_interval_study(n=5), replications=2, seed=2, out=tmp_path, progress=False)
    with pytest.raises(StudyError, match=r"params: written .*'n': 5"):
        run_study(mean_interval_study(n=6), replications=2, seed=1, out=tmp_path, progress=False)


@pytest.mark.slow
def test_two_worker_processes_give_the_numbers_of_one_process():
    # About 6 s, most of it starting the two worker processes.
    from distributed import Client, LocalCluster

    design = mean_interval_study(n=12)
    here = run_study(design, replications=16, seed=SEED, progress=False)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        there = run_study(design, replications=16, seed=SEED, client=client, progress=False)
        assert there.workers == 2 and there.n_run == 16
    pd.testing.assert_frame_equal(here.replications, there.replications)


def test_designs_are_named_by_registry_or_import_path():
    study = resolve_design("programme-effect", n_boot=30)
    assert study.name == "programme-effect" and study.params["n_boot"] == 30
    toy = resolve_design("evaluation.studies.examples:mean_interval", n=4)
    assert toy.replicate is mean_interval and toy.params == {"n": 4}
    with pytest.raises(StudyError, match="unknown study design 'nope'"):
        resolve_design("nope")
    with pytest.raises(StudyError, match="cannot import"):
        resolve_design("evaluation.studies.examples:missing")
    with pytest.raises(StudyError, match="top-level function"):
        StudyDesign(name="x", replicate=lambda seed: {"a": 1.0})


def test_a_replication_must_return_rows():
    def bad(seed):
        return 3.0

    with pytest.raises(StudyError, match="replicate returned float"):
        run_study(StudyDesign(name="bad", replicate=bad), replications=1, seed=1, progress=False)


def test_the_command_runs_resumes_and_refuses(tmp_path, capsys):
    args = ["study", "evaluation.studies.examples:mean_interval_study", "--seed", "5"]
    out = ["--out", str(tmp_path), "--param", "n=6"]
    assert main([*args, "--replications", "3", *out]) == 0
    assert "3 run now on 1 worker(s)" in capsys.readouterr().out
    assert main([*args, "--replications", "5", *out]) == 0
    text = capsys.readouterr().out
    assert "5 replications of mean-interval" in text and "2 run now" in text
    assert main([*args, "--replications", "5", "--out", str(tmp_path), "--param", "n=7"]) == 1
    assert "holds another study" in capsys.readouterr().err
    assert main(["study", "nope", "--replications", "1", "--seed", "1", *out]) == 1


def test_programme_effect_replication_compares_with_its_own_truth():
    # About 2 s: 1,500 persons, 20 bootstrap replicates.
    from evaluation.effects.coverage import programme_effect_study

    study = programme_effect_study(n_persons=1500, n_boot=20)
    result = run_study(study, replications=1, seed=SEED, progress=False)
    rows = result.replications
    assert set(rows["analysis"]) == {"adjusted", "naive"} and len(rows) == 8
    np.testing.assert_allclose(rows["bias"], rows["estimate"] - rows["truth"], atol=1e-12)
    inside = (rows["ci_lower"] <= rows["truth"]) & (rows["truth"] <= rows["ci_upper"])
    assert (rows["covered"] == inside).all()
    # One truth per measure, shared by both analyses of the same data.
    assert rows.groupby("measure")["truth"].nunique().eq(1).all()
    summary = result.summary()
    assert summary["replications"].eq(1).all() and len(summary) == 8


def test_every_registered_design_resolves():
    from evaluation.studies import DESIGNS

    for name in DESIGNS:
        assert resolve_design(name).name == name


@pytest.mark.slow
def test_two_local_clusters_can_run_at_once():
    # Private import (kernel test): the local cluster the package starts. Two at once (two
    # pytest-xdist workers, or a study beside a partitioned cohort) must not fight over the
    # dashboard's default port 8787: a warning there stops the second cluster.
    from evaluation._dask import dask_client

    with dask_client(None, 1) as first, dask_client(None, 1) as second:
        assert first.scheduler.address != second.scheduler.address
        assert first.submit(sum, [1, 2]).result() == second.submit(sum, [1, 2]).result() == 3


def test_a_result_stored_by_a_worker_loads_as_it_was_and_leaves_no_file(tmp_path):
    # Private import (kernel test): how workers on the caller's machine send results back.
    from evaluation._dask import Stored, load_result, store_result

    frame = pd.DataFrame(
        {
            "x": np.arange(100_001, dtype=np.int64),
            "y": np.linspace(0, 1, 100_001),
            "s": np.array(["a", "b"], dtype=object)[np.arange(100_001) % 2],
            "b": pd.array([True, None] * 50_000 + [False], dtype="boolean"),
        }
    )
    stored = store_result(str(tmp_path), lambda f: f, frame)
    assert isinstance(stored, Stored)
    assert len(stored.header) < frame["x"].nbytes  # the arrays travel in the file
    assert all(a % 64 == 0 for a, _ in stored.spans)  # each buffer aligned
    loaded = load_result(stored)
    pd.testing.assert_frame_equal(loaded, frame)
    assert list(tmp_path.iterdir()) == []  # unlinked at once; the mapping keeps the pages
    loaded.loc[0, "x"] = -1  # writable: the mapping is private (copy-on-write)
    assert loaded.loc[0, "x"] == -1 and frame.loc[0, "x"] == 0


def test_a_worker_that_cannot_store_a_result_returns_it(tmp_path, monkeypatch):
    from evaluation import _dask

    # The caller's folder is not there (a worker on another machine): returned as it is.
    assert _dask.store_result(str(tmp_path / "elsewhere"), lambda: 7) == 7
    assert _dask.store_result(None, lambda: 7) == 7

    # Writing fails (a full /dev/shm): the partial file is removed, the result returned.
    def full(fd, mode):
        os.close(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_dask.os, "fdopen", full)
    assert _dask.store_result(str(tmp_path), lambda: np.arange(10)).tolist() == list(range(10))
    assert list(tmp_path.iterdir()) == []
