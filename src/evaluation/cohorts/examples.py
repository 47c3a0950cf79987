"""Small synthetic registers that isolate one design problem, for tests and notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.registers import Registers

__all__ = ["immortal_time_example"]


def immortal_time_example(
    n: int = 3000,
    *,
    rng: np.random.Generator | int | None = None,
    relapse_mean_days: float = 700.0,
    dropout_mean_days: float = 400.0,
) -> Registers:
    """Programme participants whose relapse does not depend on the programme at all.

    Each participant has a planned completion time (uniform 120–540 days), an independent
    dropout time (exponential) and a relapse time from one exponential distribution for
    everyone. A relapse before the episode would otherwise end breaks the plan: the episode
    ends as a dropout two weeks later, as exit programmes end them after a new crime. So
    completing has no effect on relapse (the true risk difference between completers and
    dropouts is 0 from any landmark), yet completers are those who did not relapse early:
    the naive comparison from the start is biased by immortal time.

    Parameters
    ----------
    n
        Participants (one episode each, starting 2015-03-01 to 2018-02-28).
    rng
        Generator or seed.
    relapse_mean_days, dropout_mean_days
        Means of the exponential relapse and dropout times.

    Returns
    -------
    Registers
        Study window 2010-01-01 to 2025-12-31, no custody and no exits; the relapse
        offence is decided 60 days after it is committed.

    Examples
    --------
    >>> reg = immortal_time_example(50, rng=1)
    >>> len(reg.persons), sorted(set(reg.programme["exit_reason"]))
    (50, ['completed', 'dropped_out'])
    """
    g = np.random.default_rng(rng)
    ids = np.array([f"P{i:06d}" for i in range(n)])
    start = pd.Timestamp("2015-03-01") + pd.to_timedelta(g.integers(0, 3 * 365, n), "D")
    complete = g.uniform(120, 540, n)
    dropout = g.exponential(dropout_mean_days, n)
    relapse = g.exponential(relapse_mean_days, n)
    broke = relapse + 14 < np.minimum(complete, dropout)
    end = np.where(broke, relapse + 14, np.minimum(complete, dropout))
    reason = np.where(broke | (dropout < complete), "dropped_out", "completed")

    def days(x: np.ndarray) -> pd.TimedeltaIndex:
        return pd.to_timedelta(np.floor(x).astype(np.int64), "D")

    study_end = pd.Timestamp("2025-12-31")
    persons = pd.DataFrame(
        {
            "person_id": ids,
            "sex": "M",
            "birth_date": pd.Timestamp("1995-01-01"),
            "municipality": "Malmö",
        }
    )
    programme = pd.DataFrame(
        {
            "episode_id": [f"E{i:06d}" for i in range(n)],
            "person_id": ids,
            "municipality": "Malmö",
            "referral": "police",
            "contact_date": start,
            "start_date": start,
            "end_date": start + days(end),
            "exit_reason": reason,
        }
    )
    offences = pd.DataFrame(
        {
            "offence_id": [f"O{i:07d}" for i in range(n)],
            "person_id": ids,
            "offence_date": start + days(relapse),
            "decision_date": start + days(relapse + 60),
            "category": "violence",
            "sanction": "fine",
        }
    )
    offences = offences[offences["decision_date"] <= study_end].reset_index(drop=True)
    empty = pd.Series([], dtype=str)
    return Registers(
        persons=persons,
        programme=programme,
        offences=offences,
        custody=pd.DataFrame(
            {
                "person_id": empty,
                "start_date": pd.to_datetime([]),
                "end_date": pd.to_datetime([]),
                "kind": empty,
            }
        ),
        exits=pd.DataFrame({"person_id": empty, "date": pd.to_datetime([]), "reason": empty}),
        study_start=pd.Timestamp("2010-01-01"),
        study_end=study_end,
    )
