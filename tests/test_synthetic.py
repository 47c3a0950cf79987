"""The synthetic registers: determinism, schema invariants and the committed default data.

The committed ``data/synthetic/`` files must be byte-identical to what ``make data``
writes; that test is the proof that the folder is reproducible from its seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import DefinitionError
from evaluation.registers import Registers
from evaluation.synthetic import (
    MUNICIPALITIES,
    SimulatedRegisters,
    SimulationConfig,
    simulate_registers,
    truth_json,
    write_synthetic,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"
SEED = 20151  # the seed of `make data`
# Small and fast: few persons, a small Monte Carlo population for truth["bra"].
SMALL = SimulationConfig(n_persons=800, bra_monte_carlo_persons=400, entry_rate=0.04)


@pytest.fixture(scope="module")
def small() -> SimulatedRegisters:
    return simulate_registers(SMALL, rng=5)


def test_committed_data_are_what_make_data_writes(tmp_path: Path) -> None:
    sim = simulate_registers(SimulationConfig(), rng=SEED)
    written = write_synthetic(sim, tmp_path, format="csv")
    names = sorted(p.name for p in written.iterdir())
    assert names == [
        "custody.csv",
        "exits.csv",
        "meta.json",
        "offences.csv",
        "persons.csv",
        "programme.csv",
        "truth.json",
    ]
    for name in names:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_same_seed_same_registers_and_truth(small: SimulatedRegisters) -> None:
    # A second run from a Generator seeded alike gives identical tables and truth.
    again = simulate_registers(SMALL, rng=np.random.default_rng(5))
    assert again.registers.equals(small.registers)
    assert truth_json(again) == truth_json(small)


def test_different_seed_different_registers(small: SimulatedRegisters) -> None:
    other = simulate_registers(SMALL, rng=6)
    assert not other.registers.persons.equals(small.registers.persons)
    assert not other.registers.offences.equals(small.registers.offences)
    assert truth_json(other) != truth_json(small)


def test_simulated_registers_validate(small: SimulatedRegisters) -> None:
    regs = small.registers
    assert regs.problems() == []
    assert regs.validate() is regs
    assert regs.study_start == pd.Timestamp("2010-01-01")
    assert regs.study_end == pd.Timestamp("2025-12-31")


def test_schema_and_hidden_traits(small: SimulatedRegisters) -> None:
    regs = small.registers
    assert list(regs.persons.columns) == [
        "person_id",
        "sex",
        "birth_date",
        "municipality",
        "affiliation",
    ]
    assert list(regs.programme.columns) == [
        "episode_id",
        "person_id",
        "municipality",
        "referral",
        "contact_date",
        "start_date",
        "end_date",
        "exit_reason",
    ]
    assert list(regs.offences.columns) == [
        "offence_id",
        "person_id",
        "offence_date",
        "decision_date",
        "category",
        "sanction",
    ]
    assert list(regs.custody.columns) == ["person_id", "start_date", "end_date", "kind"]
    assert list(regs.exits.columns) == ["person_id", "date", "reason"]
    for name in ("persons", "programme", "offences", "custody", "exits"):
        frame = regs.table(name)
        assert not {"motivation", "frailty"} & set(frame.columns)
        for col in frame.columns:
            if "date" in col:
                assert frame[col].dtype == "datetime64[ns]", (name, col)
    assert regs.persons["person_id"].str.fullmatch(r"P\d{6}").all()
    assert set(regs.persons["municipality"]) <= set(MUNICIPALITIES)


def test_population_and_programme_rules(small: SimulatedRegisters) -> None:
    regs = small.registers
    persons = regs.persons.set_index("person_id")
    age_2015 = (pd.Timestamp("2015-01-01") - persons["birth_date"]).dt.days / 365.25
    assert age_2015.between(15, 45.01).all()
    assert (persons["sex"] == "M").mean() > 0.8
    prog = regs.programme
    assert (prog["start_date"] >= pd.Timestamp("2015-01-01")).all()
    assert (prog["contact_date"] <= prog["start_date"]).all()
    age_start = prog["start_date"] - persons.loc[prog["person_id"], "birth_date"].to_numpy()
    assert (age_start.dt.days / 365.25 >= 18).all()
    assert (prog["end_date"].isna() == (prog["exit_reason"] == "ongoing")).all()
    # Offences are decided at least two time steps after they happen.
    lag = (regs.offences["decision_date"] - regs.offences["offence_date"]).dt.days
    assert (lag >= 2 * SMALL.step_days - 1).all()
    # The truth counts participants as the distinct persons of the programme table.
    assert small.truth["counts"]["participants"] == prog["person_id"].nunique()


def test_nobody_offends_in_custody(small: SimulatedRegisters) -> None:
    regs = small.registers
    cus = regs.custody.assign(end_date=regs.custody["end_date"].fillna(regs.study_end))
    pairs = regs.offences.merge(cus, on="person_id")
    inside = (pairs["offence_date"] > pairs["start_date"]) & (
        pairs["offence_date"] < pairs["end_date"]
    )
    assert not inside.any()


def test_truth_json_is_sorted_rounded_and_complete(small: SimulatedRegisters) -> None:
    text = truth_json(small)
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert set(data) == {
        "bra",
        "counts",
        "effect",
        "landmark",
        "mortality",
        "parameters",
        "recurrence",
        "retention",
    }
    assert data["parameters"]["n_persons"] == SMALL.n_persons
    eff = data["effect"]
    for year in ("1", "2", "3"):
        assert eff["risk_difference"][year] == pytest.approx(
            eff["risk_with"][year] - eff["risk_without"][year], abs=2e-6
        )
    assert 0 < eff["rmst_with_days"] <= eff["tau_days"]
    assert eff["hazard_ratio"] > 0
    ret = data["retention"]
    for month in ("3", "6", "12", "24"):
        total = sum(ret[k][month] for k in ("completed", "dropped_out", "moved", "died"))
        assert 0 <= total <= 1 + 1e-9
    assert 0 < data["bra"]["relapse_1y_nonparticipants"] < 1
    rec, mort = data["recurrence"], data["mortality"]
    assert rec["n_participants"] == mort["n_participants"] == eff["n_participants"]
    for arm in ("with", "without"):
        means = [rec[f"mean_relapses_{arm}"][y] for y in ("1", "2", "3")]
        assert 0 <= means[0] <= means[1] <= means[2]
        # At least one relapse offence per person who relapses: the mean count is at
        # least the risk of a first relapse, and relapse or death at least each of them.
        for year in ("1", "2", "3"):
            assert rec[f"mean_relapses_{arm}"][year] >= eff[f"risk_{arm}"][year] - 1e-6
            both = mort[f"risk_relapse_or_death_{arm}"][year]
            assert both >= max(eff[f"risk_{arm}"][year], mort[f"risk_death_{arm}"][year])
    for year in ("1", "2", "3"):
        assert rec["mean_relapses_difference"][year] == pytest.approx(
            rec["mean_relapses_with"][year] - rec["mean_relapses_without"][year], abs=2e-6
        )
        assert rec["rate_ratio"][year] == pytest.approx(
            rec["mean_relapses_with"][year] / rec["mean_relapses_without"][year], rel=1e-4
        )
        assert mort["risk_death_difference"][year] == pytest.approx(
            mort["risk_death_with"][year] - mort["risk_death_without"][year], abs=2e-6
        )
    for months in ("3", "6"):
        lm = data["landmark"][months]
        assert lm["n_completed_or_in"] + lm["n_dropped_out"] == lm["n_episodes"]
        assert lm["difference"] == pytest.approx(
            lm["risk_1y_dropped_out"] - lm["risk_1y_completed_or_in"], abs=2e-6
        )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_registers_read_back_equal(
    small: SimulatedRegisters, tmp_path: Path, fmt: str
) -> None:
    folder = write_synthetic(small, tmp_path, format=fmt)
    back = Registers.read(folder)
    assert back.equals(small.registers)
    assert json.loads((folder / "truth.json").read_text()) == json.loads(truth_json(small))


def test_bad_config_is_refused_in_words() -> None:
    with pytest.raises(DefinitionError, match="n_persons must be at least 1"):
        SimulationConfig(n_persons=0)
    with pytest.raises(DefinitionError, match="municipality_weights needs 10 values"):
        SimulationConfig(municipality_weights=(1.0, 2.0))
    with pytest.raises(DefinitionError, match="effect_during must be positive"):
        SimulationConfig(effect_during=0.0)
    with pytest.raises(TypeError, match="SimulationConfig\\(n_persons=...\\)"):
        simulate_registers(6000)  # type: ignore[arg-type]


def test_extreme_settings_still_give_valid_registers() -> None:
    # Frequent offending, remand after every custodial offence, many deaths and
    # emigrations, a short step and frequent entry stress the no-overlap and
    # nothing-after-exit rules at once.
    config = SimulationConfig(
        n_persons=300,
        step_days=7,
        offence_rate=5.0,
        remand_probability=1.0,
        death_rate=0.1,
        emigration_rate=0.1,
        entry_rate=0.5,
        bra_monte_carlo_persons=0,
    )
    sim = simulate_registers(config, rng=9)
    assert sim.registers.problems() == []
    assert sim.truth["effect"]["n_participants"] > 20
    # The Monte Carlo population was switched off: the Brå truth is missing.
    assert np.isnan(sim.truth["bra"]["relapse_1y_nonparticipants"])
