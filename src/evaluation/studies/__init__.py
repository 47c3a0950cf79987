"""Simulation studies: R replications of a design, in-process, on local processes or on Dask.

A study is a design (:class:`StudyDesign`: a replication function, its parameters and how to
summarise them), a number of replications and a seed; :func:`run_study` runs it with the
same call in this process, on a local Dask cluster (``workers=2``) or on a cluster
(``client="tcp://scheduler:8786"`` or a ``distributed.Client``), and returns a
:class:`StudyResult`. Replication ``i`` is seeded with ``SeedSequence(seed).spawn(R)[i]``,
so the numbers are identical whatever runs them. With ``out=FOLDER`` each replication is
written as it finishes (a Parquet dataset), and a restarted study skips what is there.

Another module defines a design with a top-level function (so that it pickles to other
processes)::

    def replicate(seed, *, n_persons=6000):          # seed: a numpy SeedSequence
        rng = np.random.default_rng(seed)
        ...
        return {"estimate": ..., "ci_lower": ..., "ci_upper": ...}   # or a list of rows

    design = StudyDesign(name="my-study", replicate=replicate, params={"n_persons": 2000})
    run_study(design, replications=200, seed=1, out="results/my-study", workers=2)

and may register a factory of it by name in :data:`DESIGNS` (``"module:function"``, imported
only when named) for ``evaluation study NAME`` on the command line. Nothing in a design
knows where it runs (ARCHITECTURE.md, "Studies and partitioned registers").
"""

from evaluation.studies._design import DESIGNS, StudyDesign, resolve_design
from evaluation.studies._run import StudyResult, replication_seed, run_study, summarise_numbers

__all__ = [
    "DESIGNS",
    "StudyDesign",
    "StudyResult",
    "replication_seed",
    "resolve_design",
    "run_study",
    "summarise_numbers",
]
