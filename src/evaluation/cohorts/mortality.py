"""Death as an outcome: a comparison cohort's follow-up to death, not stopped at relapse.

Exit programmes say what they are for in the plainest terms: every person who leaves the
criminal milieu is a life saved. A relapse does not end that question, so the follow-up
for death runs past any relapse, from the same time zero and for the same rows as the
relapse outcome of :func:`~evaluation.cohorts.comparison_cohort`. Deaths are registered up
to the extraction date, so no buffer is needed: follow-up ends at death, emigration (which
competes: nobody is followed abroad), the comparison's own later programme start where the
cohort censors it, or ``study_end``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation._keyed import NEVER, to_days
from evaluation.cohorts.covariates import person_codes
from evaluation.cohorts.entry import exit_days, study_days

if TYPE_CHECKING:
    from evaluation.cohorts._cohort import Cohort
    from evaluation.registers import Registers

__all__ = ["death_follow_up"]


def death_follow_up(cohort: Cohort, registers: Registers) -> Cohort:
    """The cohort with follow-up to death (emigration competing), past any relapse.

    Parameters
    ----------
    cohort
        A :func:`~evaluation.cohorts.comparison_cohort` (or any cohort with
        ``person_id``, ``treated`` and ``entry_date``; ``meta["censor_at_programme_start"]``
        says whether comparisons are censored at their own later start, as for relapse).
    registers
        The registers the cohort came from.

    Returns
    -------
    Cohort
        The same rows, flow and meta, with two columns added: ``death_days`` (whole days
        from ``entry_date`` to death, emigration or censoring) and ``death_event`` (0
        censored, 2 death, 3 emigration: the cohorts' codes; there is no 1, a relapse does
        not end this follow-up). ``meta["death_follow_up_end"]`` is ``study_end``.

    Raises
    ------
    EstimationError
        When a column is missing or a person is unknown to the registers.

    Examples
    --------
    >>> from evaluation import comparison_cohort, load_synthetic
    >>> registers = load_synthetic()
    >>> deaths = death_follow_up(comparison_cohort(registers, rng=1), registers)
    >>> sorted(set(deaths.data["death_event"]))
    [0, 2, 3]
    >>> bool((deaths.data["death_days"] >= deaths.data["duration_days"]).all())
    True
    """
    data = cohort.data
    missing = [c for c in ("person_id", "treated", "entry_date") if c not in data.columns]
    if missing:
        raise EstimationError(
            f"death_follow_up needs a comparison cohort; cohort.data has no column "
            f"{', '.join(missing)}"
        )
    code = person_codes(registers.persons, data["person_id"], table="cohort")
    t0 = to_days(data["entry_date"])
    _, e_day = study_days(registers)
    x_day, x_code = exit_days(registers)
    c_day = np.full(len(data), e_day, dtype=np.int64)
    if cohort.meta.get("censor_at_programme_start", True):
        # As for relapse: a comparison is followed under "never start" until its own start.
        prog = registers.programme
        first = np.full(len(registers.persons), NEVER, dtype=np.int64)
        if len(prog):
            pc = person_codes(registers.persons, prog["person_id"], table="programme")
            np.minimum.at(first, pc, to_days(prog["start_date"]))
        later = (data["treated"].to_numpy() == 0) & (first[code] > t0)
        c_day = np.where(later, np.minimum(c_day, first[code]), c_day)
    end = np.minimum(x_day[code], c_day)
    event = np.where(x_day[code] <= c_day, x_code[code], 0)
    out = data.assign(
        death_days=(end - t0).astype(np.int64),
        death_event=pd.array(event, dtype="int64"),
    )
    meta = dict(cohort.meta)
    meta["death_follow_up_end"] = str(pd.Timestamp(registers.study_end).date())
    return replace(cohort, data=out, meta=meta)
