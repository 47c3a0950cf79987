"""The report section "Kommunjämförelse / Municipal comparison": what it withholds, and that
the ledger's attack finds nothing (the whole report is audited in test_report and the
disclosure tests; this builds the section alone on the default data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import load_synthetic
from evaluation.presentation.ledger import audit
from evaluation.registers._examples import tiny_registers
from evaluation.report import _sections
from evaluation.report._sites_section import sites_section
from evaluation.report.build import ReportBuilder


def _build(tmp: Path, registers, min_cell: int, effects: bool = False) -> ReportBuilder:
    for sub in ("figures", "tables"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    report = ReportBuilder(out_dir=tmp, lang="sv", min_cell=min_cell, synthetic=True,
                           formats=("png",))  # fmt: skip
    cohorts = _sections.Cohorts.build(registers)
    _sections.register_universes(report, cohorts)
    with pytest.MonkeyPatch.context() as patch:
        if not effects:
            patch.setattr("evaluation.report._sites_section._effects", lambda *a: None)
        sites_section(report, cohorts, None)
    return report


@pytest.mark.slow
def test_withheld_relapses_withhold_everything_derived_from_them(tmp_path: Path) -> None:
    # min_cell 10: several municipalities have fewer than ten relapses in the 1-year window.
    report = _build(tmp_path, load_synthetic(), min_cell=10)
    funnel = pd.read_csv(tmp_path / "figures" / "sites_funnel.data.csv")
    ranks = pd.read_csv(tmp_path / "figures" / "sites_ranks.data.csv")
    shares = pd.read_csv(tmp_path / "figures" / "sites_shares.data.csv")
    hidden = funnel["observed"].isna()
    assert hidden.any() and (~hidden).any()
    # O/E times E is O: with O withheld, O/E, z, the shrunken O/E and the shares go too.
    assert funnel.loc[hidden, ["estimate", "z"]].isna().all().all()
    assert funnel.loc[hidden, "expected"].notna().all()  # E alone reveals nothing
    assert (
        ranks.set_index("group")
        .loc[funnel.loc[hidden, "group"]]
        .drop(columns=[])
        .isna()
        .all()
        .all()
    )
    assert shares.loc[shares["observed"].isna(), ["share", "adjusted_share"]].isna().all().all()
    shown = funnel.loc[~hidden, "observed"]
    assert (shown >= 10).all() or (shown == 0).any()
    assert audit(report.ledger).passed
    table = pd.read_csv(tmp_path / "tables" / "sites_case_mix.csv", dtype=str, skiprows=1)
    assert table.apply(lambda c: c.str.fullmatch(r"\.\.").fillna(False)).to_numpy().sum() > 0


def test_a_municipality_report_says_why_it_has_no_comparison(tmp_path: Path) -> None:
    from evaluation.report.build import restrict_to_municipality

    report = _build(tmp_path, restrict_to_municipality(tiny_registers(), "Stockholm"), 5)
    blocks = report.sections[-1]["blocks"]
    assert [b["kind"] for b in blocks] == ["text"]
    assert "en kommun" in blocks[0]["text"]
    assert not list((tmp_path / "figures").glob("sites_*"))


def test_too_few_relapses_say_not_estimable(tmp_path: Path) -> None:
    # Four persons in three municipalities: the case-mix model has nothing to fit.
    report = _build(tmp_path, tiny_registers(), min_cell=5)
    texts = [b["text"] for b in report.sections[-1]["blocks"]]
    assert len(texts) == 2 and "Kunde inte skattas" in texts[1]


def test_frame_withholds_by_the_ledgers_decision() -> None:
    from evaluation.report._sites_section import _site_frame

    t = pd.DataFrame(
        {
            "group": ["A", "B"], "n": [20, 30], "observed": [3, 12], "expected": [5.0, 10.0],
            "estimate": [0.6, 1.2], "ci_lower": [0.1, 0.6], "ci_upper": [1.7, 2.1],
            "share": [0.15, 0.4], "adjusted_share": [0.2, 0.35],
            "adjusted_ci_lower": [0.05, 0.2], "adjusted_ci_upper": [0.5, 0.6],
        }
    )  # fmt: skip
    pts = pd.DataFrame(
        {
            "group": ["A", "B"], "lower_95": [0.2, 0.5], "upper_95": [2.0, 1.5],
            "lower_998": [0.0, 0.3], "upper_998": [2.5, 1.8], "z": [-0.9, 0.6],
        }
    )  # fmt: skip
    shr = pd.DataFrame(
        {
            "group": ["A", "B"], "estimate": [0.9, 1.1], "ci_lower": [0.5, 0.8],
            "ci_upper": [1.5, 1.4], "rank_lower": [1, 1], "rank_upper": [2, 2],
        }
    )  # fmt: skip
    out = _site_frame(t, pts, shr, {"A": (True, False), "B": (True, True)}).set_index("group")
    assert out.loc["A", "n"] == 20 and np.isnan(out.loc["A", "observed"])
    for c in ("estimate", "ci_lower", "share", "adjusted_share", "z", "shrunken", "rank_upper"):
        assert np.isnan(out.loc["A", c]), c
        assert not np.isnan(out.loc["B", c]), c
