"""Where parallel work runs: one Dask client for studies and partitioned registers.

None and no ``workers`` means in this process (callers loop themselves); ``"processes"`` or
``workers=N`` a local cluster of N worker processes with one thread each (made here and
closed on leaving); a string an address of a running scheduler (``dask scheduler``); a
``distributed.Client`` is used as it is and left open. ``distributed`` is imported only
when a cluster is asked for.
"""

from __future__ import annotations

import mmap
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "WORKER_MALLOC",
    "Stored",
    "dask_client",
    "load_result",
    "result_folder",
    "runs_here",
    "store_result",
    "worker_malloc",
]

#: How the package's local clusters configure glibc's allocator in their workers: glibc
#: reads these variables when a process starts, so they are in the environment when the
#: nannies spawn the workers (:func:`worker_malloc`).
#:
#: - Dask's own default, ``MALLOC_TRIM_THRESHOLD_=65536``, turns off glibc's dynamic mmap
#:   threshold: every array above 128 kB is a fresh mmap with its page faults, and the
#:   cohort steps (many short-lived arrays) ran 1.8x slower in a worker than in a plain
#:   process.
#: - Unsetting it was not enough for partitioned cohorts: a worker builds one part after
#:   the other, and each part's arrays (tens of MB) were mapped afresh, 40,000-100,000 page
#:   faults a part, which are expensive on virtual machines. With arrays up to 1 GiB taken
#:   from the heap (``MALLOC_MMAP_THRESHOLD_``) and the heap never given back below 4 GiB
#:   (``MALLOC_TRIM_THRESHOLD_``), the next part reuses the pages of the last: faults
#:   dropped to about 20,000 a part and the 1M-person cohort on 2 workers from 9.7-11.2 s to
#:   8.3-10.2 s (benchmarks/README.md, ## cohorts). A worker then keeps the memory of its
#:   largest part, which is what bounds it anyway.
#:
#: For workers started with ``dask worker``, the README ("On a cluster") exports them as
#: Dask configuration (``DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_..._``), which
#: the nanny sets for its workers only.
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**32)}


@contextmanager
def worker_malloc() -> Iterator[None]:
    """:data:`WORKER_MALLOC` in this process's environment while a local cluster starts.

    Dask's nanny takes each of its ``pre-spawn-environ`` variables from the environment
    when set there, else from its configuration (``MALLOC_TRIM_THRESHOLD_=65536``), and
    writes them into the environment of the process that started it, where they stay: a
    configuration set by the package would lose to the environment any earlier cluster of
    the user's left behind. The environment is therefore set here, and restored after
    (these two variables; the nanny's others stay as Dask leaves them). They are also in
    the nannies' configuration, which a nanny keeps for the workers it restarts. Not for
    two threads starting clusters at once: they may leave the variables set.
    """
    import dask

    saved = {name: os.environ.get(name) for name in WORKER_MALLOC}
    os.environ.update(WORKER_MALLOC)
    nanny = "distributed.nanny.pre-spawn-environ"
    try:
        with dask.config.set({f"{nanny}.{k}": v for k, v in WORKER_MALLOC.items()}):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def runs_here(client: Client | str | None, workers: int | None) -> bool:
    """True when the work runs in this process (no client, at most one worker)."""
    return client is None and (workers is None or workers <= 1)


@contextmanager
def dask_client(client: Client | str | None, workers: int | None) -> Iterator[Client]:
    """A Dask client: the one given, one to a scheduler address, or a local cluster."""
    from distributed import Client, LocalCluster

    if client is None or client == "processes":
        with worker_malloc():
            cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            )
        with cluster, Client(cluster) as local:
            yield local
    elif isinstance(client, str):
        with Client(client) as remote:
            yield remote
    else:
        yield client


# --- Results through shared memory ---------------------------------------------------------
#
# A result sent back over Dask's TCP comm is copied through the loopback socket even when the
# worker runs on the caller's machine; on the 2-core benchmark machine loopback moves about
# 0.7 GB/s, and receiving the eight parts of a 1M-person cohort (570 MB) cost the calling
# process 2-4 s of CPU while the workers needed the same cores. Workers that see the caller's
# folder write the result's buffers to a file there instead (pickle protocol 5, buffers out
# of band) and send only the pickled header; the caller maps the file, so its arrays are
# read from the pages the worker wrote, with no copy.


class Stored(NamedTuple):
    """A result written by a worker into the caller's folder (see :func:`store_result`)."""

    path: str
    header: bytes
    spans: tuple[tuple[int, int], ...]  # (offset, length) of each out-of-band buffer


_ALIGN = 64  # buffers start at multiples of 64 bytes: arrays on them are aligned


def store_result(folder: str | None, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, written into ``folder`` when this process sees it (else returned).

    Runs on a worker. ``folder`` is a fresh directory of the caller's (its name unique), so a
    worker that finds it shares the caller's file system; one that does not, or cannot
    write there (a full ``/dev/shm``), returns the result itself for Dask to send.
    """
    result = fn(*args)
    if folder is None or not os.path.isdir(folder):
        return result
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    fd, path = tempfile.mkstemp(dir=folder, suffix=".result")
    spans = []
    try:
        with os.fdopen(fd, "wb") as f:
            at = 0
            for buffer in buffers:
                raw = buffer.raw()
                pad = -at % _ALIGN
                f.write(b"\0" * pad)
                at += pad
                f.write(raw)
                spans.append((at, raw.nbytes))
                at += raw.nbytes
    except OSError:
        Path(path).unlink(missing_ok=True)
        return result
    return Stored(path, header, tuple(spans))


def load_result(result: Any) -> Any:
    """The result itself, read from its file when a worker stored it (in the caller).

    The file is mapped copy-on-write (arrays on it are writable, writes stay private) and
    unlinked at once: its pages are freed when the last array on them is.
    """
    if not isinstance(result, Stored):
        return result
    try:
        size = os.path.getsize(result.path)
        with open(result.path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY) if size else None
    finally:
        Path(result.path).unlink(missing_ok=True)
    view = memoryview(mapped) if mapped is not None else memoryview(b"")
    return pickle.loads(result.header, buffers=[view[a : a + n] for a, n in result.spans])


@contextmanager
def result_folder() -> Iterator[str]:
    """A fresh directory for workers' results: in ``/dev/shm`` (memory) where there is one."""
    shm = Path("/dev/shm")
    base = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    folder = tempfile.mkdtemp(prefix="evaluation-results-", dir=base)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
