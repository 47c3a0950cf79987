"""Landmark cohorts: relapse from a fixed time after the programme start, by status then.

"Completers relapse less than dropouts" compares groups defined by what happened after
time zero: to complete, a participant had to stay in the programme (and, where a new
crime ends the episode, stay out of crime) for months, time in which a completer cannot
fail by definition (immortal time). The landmark analysis fixes the status at a landmark
(3 or 6 months after the start), keeps only those still under observation and without a
relapse at the landmark, and follows everyone from the landmark on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError
from evaluation._keyed import NEVER, KeyedDates, n_distinct, plus_years, to_days
from evaluation.cohorts._cohort import FLOW_COLUMNS, Cohort, window_flow
from evaluation.cohorts._follow_up import (
    WINDOW_ENDED,
    WINDOW_INCOMPLETE,
    counted_offences,
    follow_up,
)
from evaluation.cohorts.covariates import person_codes
from evaluation.cohorts.definitions import RelapseDefinition, resolve_definition
from evaluation.cohorts.entry import custody_intervals, exit_days, study_days

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = ["LANDMARK_REASONS", "landmark_cohort"]

LANDMARK_REASONS = [
    "landmark after the last usable date",
    "died or emigrated before the landmark",
    "moved or died before the landmark (programme)",
    "relapse before the landmark",
]


def landmark_cohort(
    cohort: Cohort,
    registers: Registers,
    *,
    landmark_months: float = 6,
    definition: str | RelapseDefinition = "bra-final",
) -> Cohort:
    """Relapse from a landmark after the programme start, by programme status at it.

    Parameters
    ----------
    cohort
        A cohort with one row per programme episode and column ``episode_id``: a
        :func:`retention_cohort` or a ``relapse_cohort(population="programme")``.
    registers
        The registers the cohort came from.
    landmark_months
        Months after the programme start (3 or 6 are usual).
    definition
        Relapse definition for the follow-up from the landmark.

    Returns
    -------
    Cohort
        One row per episode still at risk at the landmark, with the relapse columns of
        :func:`relapse_cohort` measured from the landmark (``entry_date`` is the
        landmark, ``entry_kind`` ``"landmark"``), ``programme_start``, ``status`` at the
        landmark (``"completed"``, ``"in_programme"``, ``"dropped_out"``) and ``group``
        (``"completed_or_in"`` or ``"dropped_out"``). The flow has ``"episodes"`` rows
        (input episodes, each exclusion, included) and the window rows.

    Notes
    -----
    Excluded, in this order: landmarks on or after the last usable date; persons who died
    or emigrated by the landmark; episodes that ended by moving or death before it; and
    episodes with a relapse offence (by the definition's rule) between the start and the
    landmark, since the landmark analysis compares persons event-free at the landmark.

    References
    ----------
    Anderson, J. R., Cain, K. C. and Gelber, R. D. (1983). Analysis of survival by tumor
    response. *Journal of Clinical Oncology*, 1(11), 710–719.

    Dafni, U. (2011). Landmark analysis at the 25-year landmark point. *Circulation:
    Cardiovascular Quality and Outcomes*, 4(3), 363–371.
    """
    d = resolve_definition(definition)
    if "episode_id" not in cohort.data.columns:
        raise EstimationError(
            "landmark_cohort needs a cohort with one row per episode (episode_id)"
        )
    if landmark_months <= 0:
        raise EstimationError(f"landmark_months must be positive, not {landmark_months}")
    prog = registers.programme.assign(episode_id=registers.programme["episode_id"].astype(str))
    prog = prog.set_index("episode_id")
    eps = cohort.data["episode_id"].astype(str)
    unknown = ~eps.isin(prog.index)
    if unknown.any():
        raise EstimationError(
            f"cohort.episode_id has {int(unknown.sum())} episodes unknown to programme "
            f"(first: {', '.join(eps[unknown].head(5))})"
        )
    p = prog.loc[eps.to_numpy()]
    code = person_codes(registers.persons, p["person_id"], table="programme")
    start = to_days(p["start_date"])
    end = to_days(p["end_date"], nat=int(NEVER))
    reason = p["exit_reason"].astype(str).to_numpy()
    lm = plus_years(start, landmark_months / 12)
    _, e_day = study_days(registers)
    last_usable = int(plus_years(np.array([e_day + 1]), -d.buffer_years)[0])
    exit_day, exit_code = exit_days(registers)

    off = counted_offences(registers, d)
    ocode, oday, dday = (off[c].to_numpy() for c in ("code", "oday", "dday"))
    later = dday > oday
    a_day, _ = KeyedDates(ocode[later], oday[later]).first_at_or_after(code, start)
    b_day, _ = KeyedDates(ocode[~later], oday[~later]).first_at_or_after(code, start + 1)
    r_day = np.minimum(a_day, b_day)

    ended = end < lm
    passes = [
        lm < last_usable,
        exit_day[code] > lm,
        ~(ended & np.isin(reason, ("moved", "died"))),
        r_day >= lm,
    ]
    keep = np.ones(len(p), dtype=bool)
    rows = [
        {
            "stage": "episodes",
            "window": "",
            "reason": "episodes in cohort",
            "n_persons": n_distinct(code),
            "n_entries": len(p),
        }
    ]
    for why, ok in zip(LANDMARK_REASONS, passes, strict=True):
        out = keep & ~ok
        rows.append(
            {
                "stage": "episodes",
                "window": "",
                "reason": f"excluded: {why}",
                "n_persons": n_distinct(code[out]),
                "n_entries": int(out.sum()),
            }
        )
        keep &= ok
    rows.append(
        {
            "stage": "episodes",
            "window": "",
            "reason": "included",
            "n_persons": n_distinct(code[keep]),
            "n_entries": int(keep.sum()),
        }
    )
    flow = pd.DataFrame(rows, columns=FLOW_COLUMNS)

    status = np.where(ended, reason, "in_programme")[keep]
    inside, _ = custody_intervals(registers).containing(code[keep], lm[keep])
    cand = pd.DataFrame(
        {
            "code": code[keep],
            "day": lm[keep],
            "kind": "landmark",
            "in_custody_at_entry": inside,
            "episode_id": eps.to_numpy()[keep],
            "referral": p["referral"].astype(str).to_numpy()[keep],
            "programme_municipality": p["municipality"].astype(str).to_numpy()[keep],
            "exit_reason": reason[keep],
        }
    )
    data = follow_up(registers, cand, d, "programme", e_day, last_usable, exit_day, exit_code)
    wcodes = data.pop("_code").to_numpy()
    for label in d.window_labels:
        st = data.pop(f"_status_{label}").to_numpy()
        flow = pd.concat(
            [
                flow,
                window_flow(
                    label,
                    {"measured": st == 0, WINDOW_INCOMPLETE: st == 1, WINDOW_ENDED: st == 2},
                    wcodes,
                ),
            ],
            ignore_index=True,
        )
    data.insert(3, "programme_start", p["start_date"].to_numpy()[keep])
    data.insert(4, "status", status)
    data["group"] = np.where(status == "dropped_out", "dropped_out", "completed_or_in")
    meta = dict(cohort.meta)
    meta["landmark_months"] = landmark_months
    return Cohort(data=data, flow=flow, definition=d, meta=meta)
