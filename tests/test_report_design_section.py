"""The design section of the report on all municipalities of the default synthetic data:
its counts are the design's, small ones are withheld with the effects they would give
back, and the ledger's attack finds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation import load_synthetic
from evaluation.design import minimum_detectable_hazard_ratio
from evaluation.effects import comparison_cohort
from evaluation.presentation.ledger import audit
from evaluation.report._analysis_sections import REPORT_SEED
from evaluation.report._design_section import _municipality_table, _weighting, design_section
from evaluation.report._sections import Cohorts
from evaluation.report.build import ReportBuilder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    registers = load_synthetic()
    design = comparison_cohort(registers, rng=REPORT_SEED)
    # A min_cell of 40 makes several municipalities' relapse counts small.
    report = ReportBuilder(
        out_dir=tmp_path_factory.mktemp("design"), lang="en", min_cell=40, synthetic=True
    )
    deffs = _weighting(design.data)
    table = _municipality_table(report, design, 0.45, deffs, "1.5")
    return report, design, deffs, table.table


def test_shown_counts_are_the_designs(built) -> None:
    _, design, _, table = built
    data = design.data
    for row in table.itertuples(index=False):
        mun = row[0]
        sub = data if mun == "All" else data[data["municipality"].astype(str) == mun]
        want = int((sub["treated"] == 1).sum())
        assert row[1] in ("..", f"{want:,}")


def test_withheld_counts_withhold_the_effects_they_give_back(built) -> None:
    _, _, _, table = built
    hidden_d = (table["Relapses among participants"] == "..") | (
        table["Relapses among comparisons"] == ".."
    )
    assert hidden_d.any(), "the test needs a municipality with a withheld relapse count"
    assert (table.loc[hidden_d, "Minimum detectable hazard ratio"] == "..").all()
    shown = ~hidden_d & (table["Minimum detectable hazard ratio"] != "–")
    assert shown.any()


def test_a_shown_effect_is_the_closed_form_of_the_shown_counts(built) -> None:
    _, _, deffs, table = built
    row = table[table["Municipality"] == "All"].iloc[0]
    d1 = float(str(row["Relapses among participants"]).replace(",", ""))
    d0 = float(str(row["Relapses among comparisons"]).replace(",", ""))
    want = minimum_detectable_hazard_ratio(
        events=d1 + d0, events_participants=d1, method="rubinstein", design_effects=deffs
    ).value
    assert float(row["Minimum detectable hazard ratio"]) == pytest.approx(want, abs=0.005)


def test_the_ledger_attack_finds_nothing(built) -> None:
    report, *_ = built
    assert audit(report.ledger).passed


def test_the_section_reports_too_few_data_in_words(tmp_path: Path) -> None:
    from registers_helpers import tiny_registers

    report = ReportBuilder(out_dir=tmp_path, lang="en", min_cell=5, synthetic=True)
    design_section(report, Cohorts.build(tiny_registers()), None)
    texts = [b["text"] for b in report.sections[0]["blocks"] if b["kind"] == "text"]
    assert any("Could not be estimated" in t for t in texts)
    assert not report.figures and not report.tables
