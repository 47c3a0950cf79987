"""Cause-specific Cox models: ``cause_specific_cox``, one Cox model per cause in one call.

A cause-specific hazard ratio says how a covariate changes the rate of leaving by that
cause among those still in follow-up (the other causes censor). Together with the
Fine–Gray model (effect on the cumulative incidence) it is the usual pair of analyses of
competing risks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaluation._errors import EstimationError
from evaluation._input import prepare
from evaluation._results import html_repr
from evaluation.survival.cox import CoxResult, cox

__all__ = ["CauseSpecificCoxResult", "cause_specific_cox"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CauseSpecificCoxResult:
    """One :class:`~evaluation.survival.cox.CoxResult` per cause (``models[cause]``)."""

    n: int
    events: dict[int, int]
    alpha: float
    method: str
    formula: str
    causes: tuple[int, ...]
    models: dict[int, CoxResult]

    def summary(self) -> pd.DataFrame:
        """The models' summaries stacked, with a leading ``cause`` column."""
        frames = [self.models[c].summary().assign(cause=c) for c in self.causes]
        table = pd.concat(frames, ignore_index=True)
        return table[["cause", *[col for col in table.columns if col != "cause"]]]

    def __getitem__(self, cause: int) -> CoxResult:
        return self.models[cause]

    def _repr_html_(self) -> str:
        notes = [f"One Cox model per cause ({', '.join(map(str, self.causes))}); n = {self.n}"]
        return html_repr("Cause-specific Cox models", self.summary(), notes=notes)


def cause_specific_cox(
    data: pd.DataFrame,
    formula: str,
    *,
    duration: str,
    event: str,
    causes: Sequence[int] | int | None = None,
    **cox_options: Any,
) -> CauseSpecificCoxResult:
    """Fit one Cox model per cause, the other causes (and 0) censoring.

    Parameters
    ----------
    data : DataFrame
        One row per person (or per counting-process interval with ``entry``).
    formula : str
        Right-hand side in patsy syntax, the same for every cause.
    duration, event : str
        Columns of exit times and integer event codes (0 censored, 1, 2, ... causes).
    causes : int or sequence of int, optional
        Causes to model; every cause present when None.
    **cox_options
        Passed to :func:`evaluation.survival.cox.cox` for every cause: ``entry``,
        ``strata``, ``cluster``, ``weights``, ``ties``, ``robust``, ``alpha``.

    Returns
    -------
    CauseSpecificCoxResult
        ``models[cause]`` is each cause's ``CoxResult``; ``summary()`` stacks their tables
        with a ``cause`` column.

    Raises
    ------
    EstimationError
        Bad columns, a cause that does not occur, or ``event_codes`` given (the causes
        define them).

    References
    ----------
    Putter, H., Fiocco, M. and Geskus, R. B. (2007). Tutorial in biostatistics: competing
    risks and multi-state models. *Statistics in Medicine*, 26(11), 2389–2430.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> d = pd.DataFrame({"t": rng.integers(1, 60, 150), "e": rng.integers(0, 3, 150),
    ...                   "x": rng.normal(size=150)})
    >>> fit = cause_specific_cox(d, "x", duration="t", event="e")
    >>> fit.summary()["cause"].tolist()
    [1, 2]
    """
    if "event_codes" in cox_options:
        raise EstimationError("cause_specific_cox sets event_codes itself; use causes=")
    prep = prepare(
        data, duration=duration, event=event, entry=cox_options.get("entry"), event_codes=None
    )
    chosen = prep.chosen_causes(causes, event)
    models = {
        c: cox(data, formula, duration=duration, event=event, event_codes=(c,), **cox_options)
        for c in chosen
    }
    first = models[chosen[0]]
    return CauseSpecificCoxResult(
        n=first.n,
        events={c: int(models[c].events) for c in chosen},
        alpha=first.alpha,
        method="cause-specific Cox",
        formula=formula,
        causes=chosen,
        models=models,
    )
