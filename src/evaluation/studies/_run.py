"""`run_study`: R replications of a design, in-process, on local processes or on Dask.

Replication ``i`` draws its random numbers from ``SeedSequence(seed, spawn_key=(i,))``, the
``i``-th child of ``SeedSequence(seed).spawn(R)``: its numbers depend on ``seed`` and ``i``
only, so the results are the same whatever runs them, in whichever order, and a study of
more replications extends a smaller one with the same seed. Workers only compute; the
calling process writes each result as it arrives (so a cluster needs no shared disk).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evaluation._dask import dask_client, runs_here
from evaluation._errors import StudyError
from evaluation._results import html_repr
from evaluation.studies._design import StudyDesign, resolve_design
from evaluation.studies._store import StudyStore

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["StudyResult", "run_study", "replication_seed", "summarise_numbers"]


def replication_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The seed of replication ``index``: ``SeedSequence(seed).spawn(index + 1)[index]``.

    Examples
    --------
    >>> s = replication_seed(7, 3)
    >>> s.generate_state(2).tolist() == np.random.SeedSequence(7).spawn(4)[3].generate_state(
    ...     2).tolist()
    True
    """
    return np.random.SeedSequence(seed, spawn_key=(index,))


def _run_replication(design: StudyDesign, seed: int, index: int) -> pd.DataFrame:
    """One replication (on whichever process runs it)."""
    return design.run_one(replication_seed(seed, index))


def summarise_numbers(replications: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and standard error of each numeric column, by the text ones.

    Returns one row per group and quantity: the text (and boolean-free object) columns,
    ``quantity``, ``n``, ``mean``, ``sd``, ``se`` (``sd / sqrt(n)``, the Monte Carlo
    standard error of the mean).
    """
    frame = replications.drop(columns="replication")
    keys = [c for c in frame.columns if frame[c].dtype == object or frame[c].dtype == "string"]
    values = [c for c in frame.columns if c not in keys]
    long = frame.melt(id_vars=keys, value_vars=values, var_name="quantity")
    long["value"] = long["value"].astype(float)
    grouped = long.groupby([*keys, "quantity"], sort=False)["value"]
    out = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    out["se"] = out["sd"] / np.sqrt(out["n"])
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyResult:
    """The replications of a study and how they were run.

    Attributes
    ----------
    design
        The design's name.
    params
        Its parameters.
    seed
        The study's seed (replication ``i`` uses ``SeedSequence(seed, spawn_key=(i,))``).
    replications
        All replications' rows: ``replication`` first, then the design's columns, in
        replication order.
    n_replications
        Number of replications.
    n_run
        How many of them this call computed (the others were read from ``out``).
    workers
        Worker processes used (1 in-process).
    seconds
        Wall time of this call.
    """

    design: str
    params: Mapping[str, Any]
    seed: int
    replications: pd.DataFrame = field(repr=False)
    n_replications: int
    n_run: int
    workers: int
    seconds: float
    summariser: Callable[[pd.DataFrame], pd.DataFrame] | None = field(default=None, repr=False)

    @property
    def seconds_per_replication(self) -> float:
        """Wall time per replication computed in this call, times the workers (CPU-like)."""
        return self.seconds * self.workers / self.n_run if self.n_run else float("nan")

    def summary(self) -> pd.DataFrame:
        """The design's summary of the replications (default: :func:`summarise_numbers`)."""
        fn = self.summariser or summarise_numbers
        return fn(self.replications)

    def _repr_html_(self) -> str:
        return html_repr(
            f"Study {self.design}: {self.n_replications} replications, seed {self.seed}",
            self.summary(),
            notes=[f"{self.n_run} run now on {self.workers} worker(s) in {self.seconds:.1f} s"],
        )


def run_study(
    design: StudyDesign | str,
    *,
    replications: int,
    seed: int,
    out: str | Path | None = None,
    client: Client | str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> StudyResult:
    """Run ``replications`` replications of a design and collect their numbers.

    Parameters
    ----------
    design
        A :class:`StudyDesign`, a registered name (``"programme-effect"``) or
        ``"module:function"`` naming a replication function (see
        :func:`resolve_design`).
    replications
        Number of replications R.
    seed
        The study's seed: replication ``i`` draws from ``SeedSequence(seed).spawn(R)[i]``,
        so the numbers do not depend on the workers or their order.
    out
        A results folder: each finished replication is written there at once (one
        Parquet file, atomically), and replications already there are not run again,
        so an interrupted study resumes where it stopped. A folder of another design,
        parameters or seed is refused.
    client
        Where to run: None (in this process, or on ``workers`` local processes when
        ``workers > 1``), ``"processes"`` (a local Dask cluster of ``workers`` processes,
        default 2), a scheduler address (``"tcp://host:8786"``) or a
        ``distributed.Client``. Clusters made here are closed before returning.
    workers
        Worker processes for a local cluster (one thread each).
    progress
        Show a progress bar (tqdm) on stderr.

    Returns
    -------
    StudyResult

    Raises
    ------
    StudyError
        Unknown design, or ``out`` holds another study. An exception in a replication
        is raised as it is, after the finished replications have been written.

    Examples
    --------
    >>> from evaluation.studies.examples import mean_interval_study
    >>> result = run_study(mean_interval_study(n=20), replications=400, seed=1, progress=False)
    >>> result.replications.columns.tolist()
    ['replication', 'estimate', 'ci_lower', 'ci_upper', 'covered']
    >>> float(result.summary().set_index("quantity").loc["covered", "mean"])
    0.9675
    """
    if isinstance(design, str):
        design = resolve_design(design)
    if not isinstance(replications, int | np.integer) or replications < 1:
        raise StudyError(f"replications must be a positive whole number, got {replications!r}")
    if not isinstance(seed, int | np.integer):
        raise StudyError(f"seed must be a whole number (the study's seed), got {seed!r}")
    seed = int(seed)
    store = None
    if out is not None:
        identity = {"design": design.name, "params": dict(design.params), "seed": seed}
        store = StudyStore(Path(out), identity)
    done = store.done() & set(range(replications)) if store is not None else set()
    todo = [i for i in range(replications) if i not in done]
    frames: dict[int, pd.DataFrame] = {}

    def keep(index: int, frame: pd.DataFrame) -> None:
        if store is not None:
            store.write(index, frame)
        else:
            frames[index] = frame

    t0 = time.perf_counter()
    n_workers = 1
    with _progress(replications, len(done), progress, design.name) as bar:
        if todo and runs_here(client, workers):
            for i in todo:
                keep(i, _run_replication(design, seed, i))
                bar.update(1)
        elif todo:
            with dask_client(client, workers) as c:
                n_workers = max(1, len(c.scheduler_info()["workers"]))
                _run_on_dask(c, design, seed, todo, keep, bar)
    seconds = time.perf_counter() - t0
    if store is not None:
        frames = {i: store.read(i) for i in range(replications)}
    table = _assemble(frames, replications)
    return StudyResult(
        design=design.name,
        params=dict(design.params),
        seed=seed,
        replications=table,
        n_replications=replications,
        n_run=len(todo),
        workers=n_workers,
        seconds=seconds,
        summariser=design.summarise,
    )


def _run_on_dask(
    client: Client,
    design: StudyDesign,
    seed: int,
    todo: list[int],
    keep: Callable[[int, pd.DataFrame], None],
    bar: Any,
) -> None:
    from uuid import uuid4

    from distributed import as_completed

    run = uuid4().hex[:8]  # keys of this run only: the same client may run the study again
    futures = {
        client.submit(
            _run_replication, design, seed, i, pure=False, key=f"{design.name}-{i}-{run}"
        ): i
        for i in todo
    }
    try:
        for future in as_completed(futures):
            keep(futures[future], future.result())
            bar.update(1)
    finally:
        # On an error (or an interrupt) the rest is not left running on the cluster.
        client.cancel(list(futures))


@contextmanager
def _progress(total: int, initial: int, show: bool, name: str) -> Iterator[Any]:
    from tqdm import tqdm

    with tqdm(
        total=total, initial=initial, disable=not show, desc=name, unit="rep", file=sys.stderr
    ) as bar:
        yield bar


def _assemble(frames: dict[int, pd.DataFrame], replications: int) -> pd.DataFrame:
    """All replications' rows in replication order, ``replication`` first."""
    parts = []
    for i in range(replications):
        frame = frames[i].copy()
        frame.insert(0, "replication", np.full(len(frame), i, dtype=np.int64))
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)
