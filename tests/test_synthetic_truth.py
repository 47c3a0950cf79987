"""Calibration of the default synthetic data and sanity of the truth.

Tolerances come from binomial (or person-clustered) standard errors; each is stated where
it is used. The calibration targets are those of `SimulationConfig`'s docstring.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.registers import Registers
from evaluation.synthetic import SimulationConfig, simulate_registers

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"


@pytest.fixture(scope="module")
def default() -> tuple[Registers, dict]:
    # The committed data are the default simulation (proved in test_synthetic.py).
    # Their validity is tested in test_synthetic.py; skipping it here saves seconds.
    return Registers.read(DATA, validate=False), json.loads((DATA / "truth.json").read_text())


def _bra_share(regs: Registers) -> tuple[float, float, int]:
    """Observed 1-year relapse of non-participants after Brå entries (truth's definition)."""
    off = regs.offences
    cus = regs.custody
    released = cus[cus["kind"].isin(["prison", "youth_care"]) & cus["end_date"].notna()]
    entries = pd.concat(
        [
            released[["person_id", "end_date"]].rename(columns={"end_date": "date"}),
            off.loc[
                ~off["sanction"].isin(["prison", "youth_care"]), ["person_id", "decision_date"]
            ].rename(columns={"decision_date": "date"}),
        ]
    ).drop_duplicates()
    last = regs.study_end - pd.DateOffset(years=2)
    entries = entries[
        (entries["date"] >= pd.Timestamp("2015-01-01"))
        & (entries["date"] <= last)
        & ~entries["person_id"].isin(regs.programme["person_id"])
    ].reset_index(drop=True)
    pairs = entries.reset_index().merge(off, on="person_id")
    days = (pairs["offence_date"] - pairs["date"]).dt.days
    decided = (pairs["decision_date"] - pairs["date"]).dt.days
    hit = pairs.loc[(days > 0) & (days <= 365) & (decided <= 730), "index"].unique()
    relapse = np.zeros(len(entries), dtype=bool)
    relapse[hit] = True
    p = relapse.mean()
    resid = pd.Series(relapse - p).groupby(entries["person_id"]).sum()
    return float(p), float(np.sqrt((resid**2).sum()) / len(entries)), len(entries)


def test_bra_relapse_calibration(default: tuple[Registers, dict]) -> None:
    regs, truth = default
    bra = truth["bra"]
    p, se = bra["relapse_1y_nonparticipants"], bra["relapse_1y_nonparticipants_se"]
    # Target 40-55 %: clearly above Brå's 25 %; the Monte Carlo value must be inside by
    # three of its standard errors.
    assert 0.40 + 3 * se < p < 0.55 - 3 * se
    observed, obs_se, n = _bra_share(regs)
    assert n > 5000
    # The observed share in the committed data estimates the truth: within 3 combined
    # (person-clustered) standard errors.
    assert abs(observed - p) < 3 * np.hypot(obs_se, se)


def test_dropout_calibration(default: tuple[Registers, dict]) -> None:
    _, truth = default
    ret = truth["retention"]
    n, dropped = ret["n_episodes"], ret["dropped_out_ever"]
    # About a third drop out: within 3 binomial standard errors of 1/3.
    assert abs(dropped - 1 / 3) < 3 * np.sqrt(dropped * (1 - dropped) / n)
    # Most dropouts are early: more than 70 % of them within 6 months.
    assert ret["dropped_out"]["6"] > 0.7 * dropped
    assert ret["completed"]["3"] < ret["dropped_out"]["3"]


def test_enough_participants(default: tuple[Registers, dict]) -> None:
    regs, truth = default
    assert truth["effect"]["n_participants"] >= 400
    assert regs.programme["person_id"].nunique() == truth["effect"]["n_participants"]
    observed = regs.programme["exit_reason"].value_counts(normalize=True)
    assert set(observed.index) <= {"completed", "dropped_out", "moved", "died", "ongoing"}


def test_default_effect_is_beneficial(default: tuple[Registers, dict]) -> None:
    _, truth = default
    eff = truth["effect"]
    # Hazard ratios 0.6 during and 0.8 after lower every participant's hazard, so with
    # common random numbers no relapse comes earlier with the programme than without.
    for year in ("1", "2", "3"):
        assert eff["risk_difference"][year] < 0
    assert eff["rmst_difference_days"] > 0
    assert eff["hazard_ratio"] < 1


# A small population with frequent entry, so that effects have many participants.
def _cfg(**kw: float) -> SimulationConfig:
    settings = {"n_persons": 1500, "entry_rate": 0.05, "bra_monte_carlo_persons": 300, **kw}
    return SimulationConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def by_effect() -> dict[float, dict]:
    return {
        hr: simulate_registers(_cfg(effect_during=hr), rng=11).truth["effect"]
        for hr in (0.4, 0.7, 1.0)
    }


def test_no_effect_gives_identical_potential_outcomes() -> None:
    full = simulate_registers(
        _cfg(effect_during=1.0, effect_after=1.0, effect_after_dropout=1.0, effect_tau=0.0),
        rng=11,
    ).truth
    truth = full["effect"]
    # Common random numbers: without any effect the two worlds coincide person by person,
    # so the differences are exactly zero (no Monte Carlo error at all).
    assert truth["n_participants"] > 200
    assert truth["risk_difference"] == {"1": 0.0, "2": 0.0, "3": 0.0}
    assert truth["rmst_difference_days"] == 0.0
    assert truth["hazard_ratio"] == pytest.approx(1.0, abs=1e-6)
    # So do every relapse offence and death (dropouts triggered by offending change the
    # programme's course, but without an effect not the offending).
    zero = {"1": 0.0, "2": 0.0, "3": 0.0}
    assert full["recurrence"]["mean_relapses_difference"] == zero
    assert full["recurrence"]["rate_ratio"] == {"1": 1.0, "2": 1.0, "3": 1.0}
    assert full["mortality"]["risk_death_difference"] == zero
    assert full["mortality"]["risk_relapse_or_death_difference"] == zero


def _dropout_after_offence(regs: Registers) -> tuple[float, float]:
    """Share of ended episodes with an offence during them that end in dropout, and its
    binomial standard error (one row per episode; re-entries are few)."""
    prog = regs.programme[regs.programme["exit_reason"] != "ongoing"]
    pairs = prog.merge(regs.offences[["person_id", "offence_date"]], on="person_id")
    during = (pairs["offence_date"] >= pairs["start_date"]) & (
        pairs["offence_date"] < pairs["end_date"]
    )
    hit = prog["episode_id"].isin(pairs.loc[during, "episode_id"])
    dropped = (prog.loc[hit, "exit_reason"] == "dropped_out").to_numpy()
    p = float(dropped.mean())
    return p, float(np.sqrt(p * (1 - p) / dropped.size))


def test_dropout_follows_offending() -> None:
    # The same population with and without the link between offending and dropout: an
    # offence during the episode (hazard ratio 5 by default) makes a dropout far likelier.
    linked = simulate_registers(_cfg(), rng=11).registers
    unlinked = simulate_registers(
        _cfg(dropout_offence_hr=1.0, dropout_custody_hr=1.0), rng=11
    ).registers
    p1, se1 = _dropout_after_offence(linked)
    p0, se0 = _dropout_after_offence(unlinked)
    # Tolerance: the difference must exceed 3 combined binomial standard errors.
    assert p1 - p0 > 3 * np.hypot(se1, se0)


def test_effect_knob_is_monotone(by_effect: dict[float, dict]) -> None:
    weak, mid, none = by_effect[0.4], by_effect[0.7], by_effect[1.0]
    # The world without the programme does not depend on the effect (same participants,
    # same random numbers).
    assert weak["risk_without"] == mid["risk_without"] == none["risk_without"]
    # A stronger effect delays every participant's relapse: risks fall monotonically.
    for year in ("1", "2", "3"):
        assert weak["risk_with"][year] <= mid["risk_with"][year] <= none["risk_with"][year]
    assert weak["risk_with"]["1"] < none["risk_with"]["1"]
    assert weak["hazard_ratio"] < mid["hazard_ratio"] < none["hazard_ratio"]
    assert weak["rmst_difference_days"] > mid["rmst_difference_days"]


def _naive_difference(regs: Registers) -> tuple[float, float]:
    """Participants' 1-year relapse from start minus non-participants' from a random date.

    The naive comparison a weak evaluation makes: no adjustment at all. Non-participants
    get a time zero drawn from the participants' start dates and must be adults, present
    and not in custody then. Returns the difference and its binomial standard error.
    """
    last = regs.study_end - pd.DateOffset(years=2)
    starts = regs.programme.groupby("person_id")["start_date"].min()
    starts = starts[starts <= last]
    rng = np.random.default_rng(0)
    others = regs.persons.loc[~regs.persons["person_id"].isin(regs.programme["person_id"])]
    zero = pd.Series(rng.choice(starts.to_numpy(), size=len(others)), index=others["person_id"])
    age = (zero - others.set_index("person_id")["birth_date"]).dt.days / 365.25
    gone = regs.exits.set_index("person_id")["date"].reindex(zero.index)
    cus = regs.custody.assign(end_date=regs.custody["end_date"].fillna(regs.study_end))
    inside = cus.merge(zero.rename("t0").reset_index(), on="person_id")
    locked = inside.loc[
        (inside["start_date"] <= inside["t0"]) & (inside["end_date"] >= inside["t0"]), "person_id"
    ]
    ok = (age >= 18) & ~(gone <= zero) & ~zero.index.isin(locked)
    zero = zero[ok]

    def share(t0: pd.Series) -> tuple[float, int]:
        pairs = t0.rename("t0").reset_index().merge(regs.offences, on="person_id")
        days = (pairs["offence_date"] - pairs["t0"]).dt.days
        hit = pairs.loc[(days > 0) & (days <= 365), "person_id"].nunique()
        return hit / len(t0), len(t0)

    p1, n1 = share(starts)
    p0, n0 = share(zero)
    return p1 - p0, float(np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0))


def test_unobserved_confounding_biases_the_naive_comparison() -> None:
    bias = {}
    for strength in (0.0, 2.5):
        sim = simulate_registers(_cfg(motivation_strength=strength, n_persons=3000), rng=3)
        naive, se = _naive_difference(sim.registers)
        bias[strength] = (naive - sim.truth["effect"]["risk_difference"]["1"], se)
    (b0, se0), (b1, se1) = bias[0.0], bias[2.5]
    # Motivated people join more and offend less, so with strong hidden motivation the
    # naive comparison flatters the programme: its bias against the truth falls by more
    # than 3 standard errors of the difference of the two naive estimates.
    assert b1 < b0 - 3 * np.hypot(se0, se1)
    assert b1 < -3 * se1  # and it is clearly biased in favour of the programme


def _design_participants(regs: Registers) -> tuple[np.ndarray, np.ndarray]:
    """Participants as positions in ``persons`` and their first start in days since
    ``study_start`` (the registers' view of the generator's ``who`` and ``start``)."""
    first = regs.programme.groupby("person_id")["start_date"].min()
    who = pd.Index(regs.persons["person_id"]).get_indexer(first.index)
    start = (first - pd.Timestamp(regs.study_start)).dt.days.to_numpy(dtype=float)
    return who.astype(np.int64), start


@pytest.mark.parametrize("data", ["default", "small"])
def test_eligible_truth_is_the_comparison_designs_population(
    default: tuple[Registers, dict], data: str
) -> None:
    from evaluation.effects import comparison_cohort
    from evaluation.synthetic._truth import design_eligible

    if data == "default":
        regs, truth = default
    else:  # frequent entry: many participants near the rule's edges (age, custody, dates)
        sim = simulate_registers(_cfg(bra_monte_carlo_persons=0), rng=12)
        regs, truth = sim.registers, sim.truth
    who, start = _design_participants(regs)
    cohort = comparison_cohort(regs, rng=1)
    followed = set(cohort.data.loc[cohort.data["treated"] == 1, "person_id"])
    mine = set(regs.persons["person_id"].to_numpy()[who[design_eligible(regs, who, start)]])
    # The truth's rule selects exactly the participants the cohort follows.
    assert mine == followed
    assert 0 < len(followed) < truth["effect"]["n_participants"]
    for block in ("recurrence", "mortality"):
        assert truth[block]["eligible"]["n_participants"] == len(followed)


@pytest.mark.slow
def test_programme_death_hazard_ratio_moves_the_true_death_risk() -> None:
    # Death 10 times the default rate, so that a few hundred participants hold enough
    # deaths; the same seed, so the worlds share their random numbers.
    cfg = {"death_rate": 0.03, "bra_monte_carlo_persons": 0}
    truths = {
        hr: simulate_registers(_cfg(programme_death_hr=hr, **cfg), rng=11).truth["mortality"]
        for hr in (0.3, 1.0, 3.0)
    }
    # Common random numbers: a hazard ratio below 1 only postpones deaths, above 1 only
    # brings them forward, so the order holds exactly, with no Monte Carlo error, and at
    # 3 years strictly (37 of the 311 participants die within 3 years without it).
    for year in ("1", "2", "3"):
        risks = [truths[hr]["risk_death_with"][year] for hr in (0.3, 1.0, 3.0)]
        assert risks == sorted(risks)
    d = {hr: t["risk_death_difference"]["3"] for hr, t in truths.items()}
    assert d[0.3] < d[1.0] < d[3.0]
    assert truths[0.3]["eligible"]["risk_death_difference"]["3"] < 0
    # The world without the programme does not depend on the programme's death effect.
    assert truths[0.3]["risk_death_without"] == truths[1.0]["risk_death_without"]


def test_design_eligibility_excludes_custody_and_minors(default: tuple[Registers, dict]) -> None:
    # On the generator's data only the entry period excludes participants (its entry rule
    # already keeps starters adult and out of custody), so the other two rules are checked
    # on persons and days in the entry period chosen to fail them (that the rule accepts
    # the right persons is the test above).
    from evaluation.synthetic._truth import design_eligible

    regs, _ = default
    ids = pd.Index(regs.persons["person_id"])
    origin = pd.Timestamp(regs.study_start)
    gone = regs.exits["person_id"]
    cus = regs.custody
    cus = cus[
        cus["start_date"].between("2016-01-01", "2022-06-30")
        & (cus["end_date"] - cus["start_date"] > pd.Timedelta(days=10))
        & ~cus["person_id"].isin(gone)
    ].head(50)
    who = ids.get_indexer(cus["person_id"]).astype(np.int64)
    inside = (cus["start_date"] - origin).dt.days.to_numpy(dtype=float) + 5
    assert who.size == 50
    assert not design_eligible(regs, who, inside).any()
    # Minors: the day before the 18th birthday.
    birth = regs.persons["birth_date"]
    b18 = birth + pd.DateOffset(years=18)
    young = regs.persons[
        b18.between("2016-01-02", "2022-06-30") & ~regs.persons["person_id"].isin(gone)
    ]
    who = ids.get_indexer(young["person_id"]).astype(np.int64)
    day = (b18[young.index] - origin).dt.days.to_numpy(dtype=float) - 1
    assert who.size > 10
    assert not design_eligible(regs, who, day).any()
