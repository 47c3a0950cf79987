"""One definition of Brå's window and buffer: the boundary days, in the cohorts and the truth.

`truth.json`'s Brå share and `relapse_cohort` once counted different days (offences on days
1-365 and decisions up to day 730 against [entry, entry + 1 year) and entry + 2 years), so
four boundary cases got opposite answers. Both now call `evaluation._counting`; these
tests build one hand-made simulated world per boundary case and check that the generator's
truth and the cohort built from that world's registers give the expected answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

# kernel test: Brå's window arithmetic and day numbers, shared by the cohorts and the truth
from evaluation._counting import in_window, measurable, window_deadline, window_end
from evaluation._keyed import from_days, to_days
from evaluation.cohorts import PRESETS, relapse_cohort
from evaluation.synthetic import SimulationConfig

# kernel test: a hand-made world through the generator's own steps (module docstring)
from evaluation.synthetic._build import build_registers
from evaluation.synthetic._engine import PRISON, World
from evaluation.synthetic._population import Population
from evaluation.synthetic._truth import bra_entry_relapse

CONFIG = SimulationConfig()
START = pd.Timestamp(CONFIG.study_start)
FINE, PRISON_SANCTION = 3, 0  # SANCTIONS codes


def days(date: str) -> float:
    """Days since study_start, at noon (the generator's continuous time)."""
    return float((pd.Timestamp(date) - START).days) + 0.5


def one_person_world(offences: list[tuple[str, str, int]], custody=()) -> World:
    """One person with offences (offence date, decision date, sanction) and custody."""
    n_off = len(offences)
    empty_f, empty_i = np.zeros(0), np.zeros(0, dtype=np.int64)
    return World(
        n=1,
        exit_time=np.array([np.inf]),
        exit_kind=np.zeros(1, dtype=np.int64),
        off_person=np.zeros(n_off, dtype=np.int64),
        off_time=np.array([days(o) for o, _, _ in offences]),
        off_decision=np.array([days(d) for _, d, _ in offences]),
        off_category=np.full(n_off, 3, dtype=np.int64),
        off_sanction=np.array([s for _, _, s in offences], dtype=np.int64),
        cus_person=np.zeros(len(custody), dtype=np.int64),
        cus_start=np.array([days(s) for s, _, _ in custody]),
        cus_end=np.array([days(e) for _, e, _ in custody]),
        cus_kind=np.array([k for _, _, k in custody], dtype=np.int64),
        ep_person=empty_i,
        ep_number=empty_i,
        ep_contact=empty_f,
        ep_start=empty_f,
        ep_latent_end=empty_f,
        ep_latent_reason=empty_i,
        ep_referral=empty_i,
    )


POP = Population(
    pid=np.zeros(1, dtype=np.int64),
    female=np.zeros(1, dtype=bool),
    birth_day=np.array([float((pd.Timestamp("1990-01-01") - START).days)]),
    municipality=np.zeros(1, dtype=np.int64),
    affiliation=np.zeros(1, dtype=np.int64),
    frailty=np.ones(1),
    motivation=np.zeros(1),
    death_time=np.array([np.inf]),
)

# (name, entry decision, relapse offence date, its decision date, relapse within 1 year?)
CASES = [
    ("day 0: an offence on the entry day, decided later", "2016-03-01", "2016-03-01",
     "2016-04-01", True),
    ("day 364: the last day of the window", "2016-03-01", "2017-02-28", "2017-04-01", True),
    ("day 365: the anniversary is outside", "2016-03-01", "2017-03-01", "2017-04-01", False),
    ("a window holding 29 February has 366 days", "2015-03-01", "2016-02-29", "2016-04-01",
     True),
    ("an entry on 29 February ends its window before 28 February", "2016-02-29",
     "2017-02-28", "2017-04-01", False),
    ("... and 27 February is its last day", "2016-02-29", "2017-02-27", "2017-04-01", True),
    ("decision on the last buffer day", "2016-03-01", "2016-06-01", "2018-02-28", True),
    ("decision on the day after the buffer", "2016-03-01", "2016-06-01", "2018-03-01", False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "entry", "offence", "decision", "relapse"), CASES)
def test_truth_and_cohort_agree_on_the_boundary_days(name, entry, offence, decision, relapse):
    world = one_person_world(
        [("2015-06-01", entry, FINE), (offence, decision, FINE)],
    )
    truth = bra_entry_relapse(world, CONFIG)
    # Two entry events: the first decision, and the relapse's own decision (never followed
    # by a relapse itself).
    assert truth["n_entries"] == 2
    assert truth["relapse_1y_nonparticipants"] == (0.5 if relapse else 0.0), name
    registers = build_registers(POP, world, CONFIG)
    d = PRESETS["bra-preliminary"].with_(selection="all", custody_at_entry="keep")
    cohort = relapse_cohort(registers, definition=d, entry_to=truth["entry_to"])
    flags = cohort.data.set_index("entry_date")["relapse_1y"]
    assert len(flags) == 2
    assert bool(flags[pd.Timestamp(entry)]) is relapse, name


def test_truth_and_cohort_agree_on_a_sentence_served_in_remand():
    # A prison sentence with no prison period (served in remand): the decision is the entry
    # of both; a second one served in prison enters at its release only.
    world = one_person_world(
        [
            ("2015-06-01", "2016-03-01", PRISON_SANCTION),
            ("2016-05-01", "2016-07-01", PRISON_SANCTION),
        ],
        custody=[("2016-07-01", "2016-12-01", PRISON)],
    )
    truth = bra_entry_relapse(world, CONFIG)
    assert truth["n_entries"] == 2 and truth["relapse_1y_nonparticipants"] == 0.5
    registers = build_registers(POP, world, CONFIG)
    cohort = relapse_cohort(
        registers,
        definition=PRESETS["bra-preliminary"].with_(selection="all", custody_at_entry="keep"),
    )
    assert cohort.data["entry_date"].tolist() == [
        pd.Timestamp("2016-03-01"),
        pd.Timestamp("2016-12-01"),
    ]
    assert cohort.data["entry_kind"].tolist() == ["decision", "release"]
    assert cohort.data["relapse_1y"].tolist() == [True, False]


def test_window_arithmetic_on_day_numbers():
    e = to_days(pd.to_datetime(["2016-03-01", "2016-02-29", "2015-12-31"]))
    end = window_end(e, 1)
    assert [str(x)[:10] for x in from_days(end)] == ["2017-03-01", "2017-02-28", "2016-12-31"]
    # A six-month buffer (uk-proven) from the window's end.
    deadline = window_deadline(end, 0.5)
    assert [str(x)[:10] for x in from_days(deadline)] == ["2017-09-01", "2017-08-28", "2017-06-30"]
    # Measurable when the deadline is at most the day after study_end.
    study_end = int(to_days(pd.to_datetime(["2017-08-30"]))[0])
    assert measurable(deadline, study_end).tolist() == [False, True, True]
    # Decided on the entry day: part of the entry, not a relapse.
    assert not in_window(e[:1], e[:1], e[:1], end[:1], deadline[:1])[0]


@pytest.mark.parametrize(
    ("offence", "flags"),
    [("2017-02-28", [True, True, True]), ("2017-03-01", [False, True, True])],
)
def test_each_window_of_a_cohort_ends_at_its_own_anniversary(offence, flags):
    # bra-final looks at 1, 2 and 3 years at once: the first anniversary is outside the
    # 1-year window and inside the wider ones.
    world = one_person_world([("2015-06-01", "2016-03-01", FINE), (offence, "2017-04-01", FINE)])
    registers = build_registers(POP, world, CONFIG)
    d = PRESETS["bra-final"].with_(selection="all")
    row = relapse_cohort(registers, definition=d).data.iloc[0]
    assert [bool(row[f"relapse_{w}"]) for w in ("1y", "2y", "3y")] == flags


def test_truth_equals_the_cohort_on_the_registers_of_the_same_world():
    """On one simulated world, the truth's share is exactly the cohort's (no Monte Carlo)."""
    # kernel test: the generator's own world, as above
    from evaluation.synthetic._engine import simulate_world
    from evaluation.synthetic._population import draw_population

    config = SimulationConfig(n_persons=1500, bra_monte_carlo_persons=1500)
    pop = draw_population(config, np.random.default_rng(5), config.n_persons)
    world = simulate_world(pop, config, 12345, beyond_study_end=False)
    truth = bra_entry_relapse(world, config)
    d = PRESETS["bra-preliminary"].with_(selection="all", custody_at_entry="keep")
    cohort = relapse_cohort(
        build_registers(pop, world, config), definition=d, entry_to=truth["entry_to"]
    )
    x = cohort.data[~cohort.data["ever_participant"]]
    assert len(x) == truth["n_entries"] > 3000
    assert x["person_id"].nunique() == truth["n_persons_with_entry"]
    share = x["relapse_1y"].astype(bool).mean()
    assert round(share, 6) == truth["relapse_1y_nonparticipants"]
