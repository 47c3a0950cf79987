"""Death as an outcome: follow-up past relapse, the outcome codes, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import EstimationError
from evaluation.cohorts import Cohort, death_follow_up
from evaluation.effects import estimate_mortality_effect
from evaluation.effects.mortality import mortality_outcome_data
from test_cohorts import fine, tiny


def _registers():
    persons = [
        ("P1", "M", "1990-01-01", "Malmö"),
        ("P2", "M", "1991-01-01", "Malmö"),
        ("P3", "F", "1992-01-01", "Malmö"),
        ("P4", "M", "1993-01-01", "Malmö"),
    ]
    return tiny(
        persons=persons,
        offences=[fine("P1", "2018-06-01", "2018-09-01")],
        programme=[
            ("P1", "2017-12-01", "2018-01-01", "2018-03-01", "dropped_out"),
            ("P2", "2019-02-01", "2019-03-01", None, "ongoing"),
        ],
        exits=[
            ("P1", "2019-01-01", "death"),
            ("P2", "2020-01-01", "death"),
            ("P3", "2018-07-01", "emigration"),
        ],
    )


def _cohort(censor: bool = True) -> Cohort:
    """A hand-made comparison cohort: P1 started on 2018-01-01, the rest are comparisons."""
    data = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4"],
            "treated": [1, 0, 0, 0],
            "group": ["participant", "comparison", "comparison", "comparison"],
            "entry_date": pd.to_datetime(["2018-01-01"] * 4),
            # The relapse follow-up: P1 relapsed on 2018-06-01 (day 151).
            "duration_days": [151, 424, 181, 1000],
            "event": [1, 0, 3, 0],
        }
    )
    meta = {"design": "sequential-trials", "censor_at_programme_start": censor}
    return Cohort(data=data, flow=pd.DataFrame(), definition={"name": "test"}, meta=meta)


def test_death_follow_up_runs_past_relapse_and_censors_like_relapse():
    out = death_follow_up(_cohort(), _registers()).data.set_index("person_id")
    # P1 relapsed on day 151 and died on 2019-01-01: day 365, a death.
    assert out.loc["P1", ["death_days", "death_event"]].tolist() == [365, 2]
    # P2 is a comparison until its own start on 2019-03-01 (day 424): censored there, so
    # its death in 2020 is not counted under "never start".
    assert out.loc["P2", ["death_days", "death_event"]].tolist() == [424, 0]
    # P3 emigrated on 2018-07-01: competing, day 181.
    assert out.loc["P3", ["death_days", "death_event"]].tolist() == [181, 3]
    # P4: followed to study_end (2025-12-31), 2,921 days after 2018-01-01.
    end = (pd.Timestamp("2025-12-31") - pd.Timestamp("2018-01-01")).days
    assert out.loc["P4", ["death_days", "death_event"]].tolist() == [end, 0]
    # The relapse follow-up is untouched.
    assert out["duration_days"].tolist() == [151, 424, 181, 1000]


def test_death_follow_up_of_a_not_now_cohort_keeps_later_starters():
    out = death_follow_up(_cohort(censor=False), _registers()).data.set_index("person_id")
    days = (pd.Timestamp("2020-01-01") - pd.Timestamp("2018-01-01")).days
    assert out.loc["P2", ["death_days", "death_event"]].tolist() == [days, 2]


def test_outcome_codes_death_and_relapse_or_death():
    registers, cohort = _registers(), _cohort()
    death = mortality_outcome_data(cohort, registers, "death")
    assert death["outcome_event"].tolist() == [1, 0, 3, 0]
    either = mortality_outcome_data(cohort, registers, "relapse_or_death")
    # P1's relapse comes first; emigration competes; the rest are censored.
    assert either["outcome_event"].tolist() == [1, 0, 3, 0]
    cohort2 = Cohort(
        data=cohort.data.assign(event=[2, 0, 3, 0]),
        flow=cohort.flow,
        definition=cohort.definition,
        meta=cohort.meta,
    )
    assert mortality_outcome_data(cohort2, registers, "relapse_or_death")[
        "outcome_event"
    ].tolist() == [1, 0, 3, 0]


def test_refusals_in_words():
    registers = _registers()
    with pytest.raises(EstimationError, match="outcome must be one of death, relapse_or_death"):
        mortality_outcome_data(_cohort(), registers, "homicide")
    with pytest.raises(EstimationError, match="no column entry_date"):
        death_follow_up(
            Cohort(data=_cohort().data.drop(columns="entry_date"), flow=pd.DataFrame(),
                   definition={}, meta={}),
            registers,
        )  # fmt: skip
    alive = _cohort().data.assign(person_id=["P4", "P2", "P3", "P1"], treated=[1, 0, 0, 0])
    cohort = Cohort(data=alive, flow=pd.DataFrame(), definition={}, meta={})
    with pytest.raises(EstimationError, match="no death among the participants"):
        estimate_mortality_effect(cohort, registers, n_boot=20)


def test_effect_on_death_is_labelled_and_refuses_the_relapse_sentence():
    rng = np.random.default_rng(3)
    n = 400
    persons = [(f"P{i}", "M", "1990-01-01", "Malmö") for i in range(n)]
    died = rng.random(n) < 0.2
    day = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(10, 1500, n), "D")
    registers = tiny(
        persons=persons,
        exits=[(f"P{i}", str(day[i].date()), "death") for i in range(n) if died[i]],
    )
    data = pd.DataFrame(
        {
            "person_id": [p[0] for p in persons],
            "treated": rng.integers(0, 2, n),
            "entry_date": pd.Timestamp("2018-01-01"),
            "duration_days": 1500,
            "event": 0,
            "age": rng.normal(30, 5, n),
        }
    )
    cohort = Cohort(data=data, flow=pd.DataFrame(), definition={}, meta={})
    eff = estimate_mortality_effect(
        cohort, registers, n_boot=20, per_protocol=False, formula="age", covariates=("age",), rng=1
    )
    assert eff.outcome == "death"
    assert eff.events == int(died.sum())
    # The participants' adjusted 3-year risk of death is near the share that died by then.
    within = died & (day < pd.Timestamp("2018-01-01") + pd.Timedelta(days=1095))
    share = within[data["treated"].to_numpy() == 1].mean()
    est = eff.measure("risk_participants_3y")
    # Tolerance: 3 binomial standard errors of a share of about 0.15 among about 200.
    assert abs(est.estimate - share) < 3 * np.sqrt(share * (1 - share) / 200)
    with pytest.raises(EstimationError, match="outcome is 'death'"):
        eff.sentence("en")


@pytest.mark.slow
def test_report_section_withholds_a_handful_of_deaths_and_claims_nothing(tmp_path):
    from evaluation.report._mortality_section import mortality_section
    from evaluation.report._sections import Cohorts
    from evaluation.report.build import ReportBuilder
    from evaluation.synthetic import SimulationConfig, simulate_registers

    # Enough participants for an effect section, but only two die within 3 years.
    config = SimulationConfig(
        n_persons=1500, entry_rate=0.05, death_rate=0.001, bra_monte_carlo_persons=0
    )
    sim = simulate_registers(config, rng=11)
    report = ReportBuilder(out_dir=tmp_path, lang="en", min_cell=5, synthetic=True)
    mortality_section(report, Cohorts.build(sim.registers), sim.truth)
    assert report.ledger.value("mortality/participant/death") == 2
    blocks = report.sections[0]["blocks"]
    assert [b["kind"] for b in blocks] == ["text", "text"]  # no figure, no table
    assert blocks[1]["text"].startswith("Fewer than 5 of ")
    assert "cannot show anything" in blocks[1]["text"]
    assert " 2 " not in blocks[1]["text"]
    assert report.figures == [] and report.tables == []
