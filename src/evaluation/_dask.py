"""Where parallel work runs: one Dask client for studies and partitioned registers.

None and no ``workers`` means in this process (callers loop themselves); ``"processes"`` or
``workers=N`` a local cluster of N worker processes with one thread each (made here and
closed on leaving); a string an address of a running scheduler (``dask scheduler``); a
``distributed.Client`` is used as it is and left open. ``distributed`` is imported only
when a cluster is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["NO_MALLOC_TRIM", "dask_client", "runs_here"]

#: Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting it turns off
#: glibc's dynamic mmap threshold, so every array above 128 kB is a fresh mmap with its page
#: faults: the cohort steps (many short-lived arrays) ran 1.8x slower in a worker than in
#: a plain process. None unsets it (distributed's documented way); for workers started with
#: ``dask worker``, the environment variable
#: ``DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None`` does the same.
NO_MALLOC_TRIM = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def runs_here(client: Client | str | None, workers: int | None) -> bool:
    """True when the work runs in this process (no client, at most one worker)."""
    return client is None and (workers is None or workers <= 1)


@contextmanager
def dask_client(client: Client | str | None, workers: int | None) -> Iterator[Client]:
    """A Dask client: the one given, one to a scheduler address, or a local cluster."""
    import dask
    from distributed import Client, LocalCluster

    if client is None or client == "processes":
        with (
            dask.config.set(NO_MALLOC_TRIM),
            LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as local,
        ):
            yield local
    elif isinstance(client, str):
        with Client(client) as remote:
            yield remote
    else:
        yield client
