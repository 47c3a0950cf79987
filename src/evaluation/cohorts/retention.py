"""Retention: how long programme episodes last and how they end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from evaluation._errors import DefinitionError, EstimationError
from evaluation._keyed import n_distinct, plus_years, to_days
from evaluation.cohorts._cohort import FLOW_COLUMNS, Cohort, person_flow
from evaluation.cohorts.covariates import covariates_at, require_columns, table_codes
from evaluation.cohorts.entry import study_days

if TYPE_CHECKING:
    from evaluation.registers import Registers

__all__ = ["RETENTION_CODES", "retention_cohort"]

RETENTION_CODES: dict[str, int] = {
    "ongoing": 0,
    "completed": 1,
    "dropped_out": 2,
    "moved": 3,
    "died": 4,
}
"""Event codes of retention cohorts (COMMON contract)."""
DAYS_PER_MONTH = 365.25 / 12
RETENTION_REASONS = [
    "no programme episode",
    "episodes only before the look-back is complete",
]


def retention_cohort(
    registers: Registers,
    *,
    time_zero: Literal["start", "contact"] = "start",
    lookback_years: float = 5.0,
) -> Cohort:
    """One row per programme episode: time from start (or first contact) to its end.

    Parameters
    ----------
    registers
        Validated registers.
    time_zero
        ``"start"`` (the programme start) or ``"contact"`` (the first contact, so that the
        assessment phase counts as time in the programme).
    lookback_years
        Episodes whose time zero comes before ``study_start + lookback_years`` are
        excluded (their prior decisions are not fully observed); counted in the flow.

    Returns
    -------
    Cohort
        ``data``: ``person_id``, ``episode_id``, ``group`` (``"participant"``),
        ``entry_date`` (time zero), ``contact_date``, ``start_date``, ``end_date``,
        ``duration_days`` (to the end, or to ``study_end`` while ongoing), ``event``
        (0 ongoing, 1 completed, 2 dropped out, 3 moved, 4 died), ``exit_reason``,
        ``referral``, ``municipality`` (the programme's), ``home_municipality`` and the
        covariates of :func:`covariates_at` at time zero. ``flow`` accounts for every
        person (``"persons"`` rows) and every episode (``"episodes"`` rows).

    Examples
    --------
    >>> from evaluation.registers import Registers
    >>> e = pd.Series([], dtype=str)
    >>> reg = Registers(
    ...     persons=pd.DataFrame({"person_id": ["P1", "P2"], "sex": ["M", "F"],
    ...         "birth_date": pd.to_datetime(["1990-06-01", "1995-01-01"]),
    ...         "municipality": ["Botkyrka", "Malmö"]}),
    ...     programme=pd.DataFrame({"episode_id": ["E1"], "person_id": ["P1"],
    ...         "municipality": ["Botkyrka"], "referral": ["police"],
    ...         "contact_date": pd.to_datetime(["2016-01-01"]),
    ...         "start_date": pd.to_datetime(["2016-02-01"]),
    ...         "end_date": pd.to_datetime(["2016-05-01"]), "exit_reason": ["dropped_out"]}),
    ...     offences=pd.DataFrame({"offence_id": e, "person_id": e,
    ...         "offence_date": pd.to_datetime([]), "decision_date": pd.to_datetime([]),
    ...         "category": e, "sanction": e}),
    ...     custody=pd.DataFrame({"person_id": e, "start_date": pd.to_datetime([]),
    ...         "end_date": pd.to_datetime([]), "kind": e}),
    ...     exits=pd.DataFrame({"person_id": e, "date": pd.to_datetime([]), "reason": e}),
    ...     study_start=pd.Timestamp("2010-01-01"), study_end=pd.Timestamp("2025-12-31"))
    >>> c = retention_cohort(reg)
    >>> c.data[["duration_days", "event"]].values.tolist()
    [[90, 2]]
    >>> int(retention_cohort(reg, time_zero="contact").data["duration_days"].iloc[0])
    121
    """
    if time_zero not in ("start", "contact"):
        raise DefinitionError(f"time_zero must be 'start' or 'contact', not {time_zero!r}")
    require_columns(registers)
    prog = registers.programme
    persons = registers.persons
    s_day, e_day = study_days(registers)
    first_usable = int(plus_years(np.array([s_day]), lookback_years)[0])
    codes = table_codes(registers, "programme")
    t0_col = "start_date" if time_zero == "start" else "contact_date"
    t0 = to_days(prog[t0_col])
    bad = np.flatnonzero(t0 < 0)
    if len(bad):
        ids = ", ".join(prog["episode_id"].astype(str).to_numpy()[bad[:5]])
        raise EstimationError(f"programme.{t0_col} is missing in {len(bad)} episodes ({ids})")
    end = to_days(prog["end_date"], nat=e_day)
    reason = prog["exit_reason"].astype(str).to_numpy()
    unknown = ~np.isin(reason, list(RETENTION_CODES))
    if unknown.any():
        raise EstimationError(
            f"programme.exit_reason has {int(unknown.sum())} unknown values "
            f"({', '.join(sorted(set(reason[unknown]))[:5])})"
        )
    event = (
        np.vectorize(RETENTION_CODES.get, otypes=[np.int64])(reason)
        if len(reason)
        else (np.zeros(0, dtype=np.int64))
    )
    event = np.where(prog["end_date"].isna().to_numpy(), 0, event)
    keep = t0 >= first_usable

    stage = np.zeros(len(persons), dtype=np.int64)
    np.maximum.at(stage, codes, 1 + keep.astype(np.int64))
    flow = person_flow(len(persons), stage, RETENTION_REASONS, int(keep.sum()))
    flow = pd.concat(
        [
            flow,
            pd.DataFrame(
                [
                    {
                        "stage": "episodes",
                        "window": "",
                        "reason": "episodes in registers",
                        "n_persons": n_distinct(codes),
                        "n_entries": len(prog),
                    },
                    {
                        "stage": "episodes",
                        "window": "",
                        "reason": "excluded: episode before the look-back is complete",
                        "n_persons": n_distinct(codes[~keep]),
                        "n_entries": int((~keep).sum()),
                    },
                    {
                        "stage": "episodes",
                        "window": "",
                        "reason": "included",
                        "n_persons": n_distinct(codes[keep]),
                        "n_entries": int(keep.sum()),
                    },
                ],
                columns=FLOW_COLUMNS,
            ),
        ],
        ignore_index=True,
    )

    p = prog[keep].reset_index(drop=True)
    data = pd.DataFrame(
        {
            "person_id": p["person_id"].astype(str).to_numpy(),
            "episode_id": p["episode_id"].astype(str).to_numpy(),
            "group": "participant",
            "entry_date": p[t0_col].to_numpy(),
            "contact_date": p["contact_date"].to_numpy(),
            "start_date": p["start_date"].to_numpy(),
            "end_date": p["end_date"].to_numpy(),
            "duration_days": (end - t0)[keep].astype(np.int64),
            "event": event[keep],
            "exit_reason": p["exit_reason"].astype(str).to_numpy(),
            "referral": p["referral"].astype(str).to_numpy(),
        }
    )
    cov = covariates_at(registers, data[["person_id", "entry_date"]])
    cov = cov.rename(columns={"municipality": "home_municipality"})
    cov.insert(0, "municipality", p["municipality"].astype(str).to_numpy())
    data = pd.concat([data, cov], axis=1)
    meta = {
        "study_start": str(pd.Timestamp(registers.study_start).date()),
        "study_end": str(pd.Timestamp(registers.study_end).date()),
        "population": "programme",
        "source": registers.meta.get("source", ""),
    }
    definition = {"name": "retention", "time_zero": time_zero, "lookback_years": lookback_years}
    return Cohort(data=data, flow=flow, definition=definition, meta=meta)
