"""What a study is: a replication function, its parameters, and how to summarise them.

A design names everything a worker needs to run one replication, and nothing about where it
runs: ``replicate`` is a top-level function (so that it pickles by reference to another
process or machine), ``params`` are plain values. Designs of higher layers are registered
here by import path (``"module:function"``) and imported only when named, so this package
never imports the estimators that use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from evaluation._errors import StudyError

__all__ = ["DESIGNS", "StudyDesign", "resolve_design", "rows_of"]

#: A replication's numbers: one row (a mapping of names to values), several rows, or a frame.
Rows: TypeAlias = Mapping[str, Any] | Sequence[Mapping[str, Any]] | pd.DataFrame

#: Registered designs: name -> ``"module:factory"``, where ``factory(**params)`` returns a
#: :class:`StudyDesign`. Imported on use, so that a design of a higher layer (the programme
#: effect, power by simulation) is registered without this package importing it.
DESIGNS: dict[str, str] = {
    "programme-effect": "evaluation.effects.coverage:programme_effect_study",
    "power": "evaluation.design.simulation:power_study",
    "recurrence-mortality": "evaluation.effects.coverage:recurrence_mortality_study",
    "site-coverage": "evaluation.sites.coverage:site_coverage_study",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyDesign:
    """A simulation study's design: what one replication does and what it keeps.

    Parameters
    ----------
    name
        A short name, written beside the results (a restarted study must have the same).
    replicate
        A top-level function ``replicate(seed, **params)``: ``seed`` is the replication's
        own :class:`numpy.random.SeedSequence` (``np.random.default_rng(seed)`` makes its
        generator), and it returns the numbers to keep: a mapping of names to numbers or
        text (one row), a list of such mappings, or a DataFrame (several rows, for
        example one per estimator and measure).
    params
        Keyword arguments of ``replicate``: plain values (numbers, text, tuples), so that
        they pickle and are written beside the results.
    summarise
        A top-level function from the replications frame to a summary frame; None gives
        the mean, standard deviation and standard error of every numeric column, by the
        text columns.
    description
        One sentence for the summary's header.

    Examples
    --------
    A design defined in any module (here a toy: the mean of ten normal draws)::

        def replicate(seed, *, n=10):
            rng = np.random.default_rng(seed)
            return {"mean": float(rng.normal(size=n).mean())}

        design = StudyDesign(name="toy", replicate=replicate, params={"n": 10})
    """

    name: str
    replicate: Callable[..., Rows]
    params: Mapping[str, Any] = field(default_factory=dict)
    summarise: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not callable(self.replicate):
            raise StudyError(f"study {self.name!r}: replicate must be a function")
        if getattr(self.replicate, "__name__", "") == "<lambda>":
            raise StudyError(
                f"study {self.name!r}: replicate must be a top-level function (a lambda "
                "cannot be sent to other processes)"
            )

    def run_one(self, seed: np.random.SeedSequence) -> pd.DataFrame:
        """Run one replication and return its rows as a frame (without ``replication``)."""
        return rows_of(self.replicate(seed, **dict(self.params)), self.name)


def rows_of(result: Rows, name: str = "") -> pd.DataFrame:
    """A replication's result as a frame with a fresh index."""
    if isinstance(result, pd.DataFrame):
        frame = result.reset_index(drop=True)
    elif isinstance(result, Mapping):
        frame = pd.DataFrame([dict(result)])
    elif isinstance(result, Sequence) and all(isinstance(r, Mapping) for r in result):
        frame = pd.DataFrame([dict(r) for r in result])
    else:
        raise StudyError(
            f"study {name!r}: replicate returned {type(result).__name__}; it must return a "
            "mapping of names to numbers (one row), a list of mappings or a DataFrame"
        )
    if "replication" in frame.columns:
        raise StudyError(f"study {name!r}: the column name 'replication' is the runner's own")
    return frame


def resolve_design(name: str, **params: Any) -> StudyDesign:
    """The design a name stands for: a registered name or ``"module:function"``.

    A registered name (:data:`DESIGNS`) calls its factory with ``params``. For
    ``"module:attribute"`` the attribute may be a :class:`StudyDesign` (used as it is,
    ``params`` update its own), a factory returning one, or a replication function itself
    (wrapped in a design named after it, with ``params`` as its keyword arguments). A
    function is taken as a factory when it is marked ``study_factory = True``.

    Examples
    --------
    >>> resolve_design("no-such-study")
    Traceback (most recent call last):
    ...
    evaluation._errors.StudyError: unknown study design 'no-such-study'; registered: ...
    """
    target = DESIGNS.get(name, name)
    if ":" not in target:
        raise StudyError(
            f"unknown study design {name!r}; registered: {', '.join(sorted(DESIGNS))}, "
            "or give a replication function as module:function"
        )
    module_name, _, attr = target.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise StudyError(f"study design {name!r}: cannot import {target} ({err})") from err
    if isinstance(obj, StudyDesign):
        merged = {**obj.params, **params}
        return StudyDesign(
            name=obj.name,
            replicate=obj.replicate,
            params=merged,
            summarise=obj.summarise,
            description=obj.description,
        )
    if name in DESIGNS or getattr(obj, "study_factory", False):
        design = obj(**params)
        if not isinstance(design, StudyDesign):
            raise StudyError(f"study design {name!r}: {target} did not return a StudyDesign")
        return design
    if not callable(obj):
        raise StudyError(f"study design {name!r}: {target} is not a function")
    return StudyDesign(name=target, replicate=obj, params=params)
