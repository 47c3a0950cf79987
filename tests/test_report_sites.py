"""The report section "Kommunjämförelse / Municipal comparison": what it withholds, and that
the ledger's attack finds nothing (the whole report is audited in test_report and the
disclosure tests; this builds the section alone on the default data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import load_synthetic
from evaluation.presentation.ledger import Ledger, Publication, audit
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
        .drop(columns=["highlight"])
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


def test_registers_of_one_municipality_say_why_they_have_no_comparison(tmp_path: Path) -> None:
    from evaluation.report.build import restrict_to_municipality

    report = _build(tmp_path, restrict_to_municipality(tiny_registers(), "Stockholm"), 5)
    blocks = report.sections[-1]["blocks"]
    assert [b["kind"] for b in blocks] == ["text"]
    assert "minst 3 kommuner" in blocks[0]["text"]
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


# -- a municipality's report (issue 12: "the municipality of a --municipality report
# highlighted") -----------------------------------------------------------------------------


def _municipality_report(tmp: Path, municipality: str) -> ReportBuilder:
    """The Brå section and the comparison of one municipality's report, as build_report
    makes them: the report's own registers, and every municipality's for the comparison."""
    from evaluation.report.build import restrict_to_municipality

    full = load_synthetic()
    full = getattr(full, "registers", full)
    for sub in ("figures", "tables"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    report = ReportBuilder(out_dir=tmp, lang="sv", min_cell=5, synthetic=True, formats=("png",))
    cohorts = _sections.Cohorts.build(
        restrict_to_municipality(full, municipality), municipality=municipality, comparison=full
    )
    _sections.register_universes(report, cohorts)
    _sections.bra_section(report, cohorts, None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("evaluation.report._sites_section._effects", lambda *a: None)
        sites_section(report, cohorts, None)
    return report


@pytest.mark.slow  # two sections of a municipality's report (about 10 s)
def test_a_municipality_report_compares_all_municipalities_with_it_highlighted(
    tmp_path: Path,
) -> None:
    report = _municipality_report(tmp_path, "Malmö")
    for key in ("sites_funnel", "sites_shares", "sites_ranks"):
        data = pd.read_csv(tmp_path / "figures" / f"{key}.data.csv")
        assert len(data) == 9, key  # every municipality of the registers, not Malmö alone
        assert data.loc[data["highlight"], "group"].tolist() == ["Malmö"], key
    table = pd.read_csv(tmp_path / "tables" / "sites_case_mix.csv", dtype=str, skiprows=1)
    assert [g for g in table.iloc[:, 0] if g.endswith(" *")] == ["Malmö *"]
    assert audit(report.ledger).passed


@pytest.mark.slow  # two sections of a municipality's report (about 10 s)
def test_a_municipality_s_counts_in_the_comparison_are_its_brå_table_s(tmp_path: Path) -> None:
    # The same entries counted twice: hidden in the comparison exactly where the Brå table
    # of the report hides them (Göteborg's report hides its 1-year followed and relapses),
    # else the attacker subtracts. The ledger sees one count (the mirrored publications).
    report = _municipality_report(tmp_path, "Göteborg")
    bra = pd.read_csv(tmp_path / "tables" / "bra_programme.csv", dtype=str, skiprows=1)
    row = bra[bra.iloc[:, 1] == "Göteborg"].iloc[0]
    funnel = pd.read_csv(tmp_path / "figures" / "sites_funnel.data.csv").set_index("group")
    for column, bra_column in (("n", 2), ("observed", 3)):
        shown_in_bra = row.iloc[bra_column] != ".."
        value = funnel.loc["Göteborg", column]
        assert shown_in_bra == bool(np.isfinite(value)), column
        if shown_in_bra:
            assert float(row.iloc[bra_column].replace("\xa0", "")) == value
    mirrored = [c for c in report.ledger.cells if c.startswith("sites_entries|entries:programme")]
    assert mirrored
    assert audit(report.ledger).passed


def test_the_compared_total_keeps_a_single_withheld_relapse_count_hidden(tmp_path: Path) -> None:
    # The expected counts add up to the relapses (logistic model with an intercept): with
    # one municipality's O withheld, the total minus the others would give it back, so the
    # ledger withholds a second one. Five municipalities of 60, A with 3 relapses.
    from types import SimpleNamespace

    from evaluation.report._publish import entries_universe

    rng = np.random.default_rng(12)
    relapses = {"A": 3, "B": 12, "C": 15, "D": 18, "E": 21}
    rows = []
    for g, r in relapses.items():
        for i in range(60):
            rows.append({"person_id": f"{g}{i}", "municipality": g, "relapse_1y": i < r})
    data = pd.DataFrame(rows)
    n = len(data)
    data = data.assign(
        sex=rng.choice(["F", "M"], n), age=rng.integers(18, 40, n),
        prior_decisions_5y=rng.poisson(2, n), prior_custody_5y=rng.integers(0, 2, n),
        prior_violence_5y=rng.integers(0, 2, n), entry_year=rng.integers(2018, 2021, n),
        relapse_1y=pd.array(data["relapse_1y"], dtype="boolean"),
    )  # fmt: skip
    cohort = SimpleNamespace(
        data=data, definition=SimpleNamespace(window_labels=("1y",)), window_status=None
    )
    for sub in ("figures", "tables"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
    report = ReportBuilder(out_dir=tmp_path, lang="en", min_cell=5, synthetic=True,
                           formats=("png",))  # fmt: skip
    report.ledger.add_universe("entries:programme", entries_universe(cohort, ("municipality",)))
    cohorts = SimpleNamespace(programme=cohort, registers=None, municipality=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("evaluation.report._sites_section._effects", lambda *a: None)
        sites_section(report, cohorts, None)
    funnel = pd.read_csv(tmp_path / "figures" / "sites_funnel.data.csv")
    hidden = funnel.loc[funnel["observed"].isna(), "group"].tolist()
    assert "A" in hidden and len(hidden) >= 2
    left = round(funnel["expected"].sum()) - funnel["observed"].sum()
    assert left == sum(relapses[g] for g in hidden) >= 5
    assert audit(report.ledger).passed


def test_mirrored_publications_link_the_same_units_in_two_universes() -> None:
    # Three women and forty men in the report's own universe, published by sex and in
    # total: both sexes are hidden (43 - 40 = 3). The comparison counts the same people
    # among others; its count of the report's men is the hidden 40 and stays hidden.
    ledger = Ledger(min_cell=5)
    ledger.add_universe("own", pd.DataFrame({"sex": ["F"] * 3 + ["M"] * 40}))
    everyone = pd.DataFrame(
        {
            "sex": ["F"] * 3 + ["M"] * 40 + ["F"] * 10 + ["M"] * 10,
            "mine": [True] * 43 + [False] * 20,
        }
    )
    ledger.add_universe("all", everyone)
    own = [("all_", []), ("women", [("sex", "==", "F")]), ("men", [("sex", "==", "M")])]
    for key, where in own:
        ledger.cell(key, "own", where)
    assert ledger.protect([Publication(k, "exact", file="t.csv") for k, _ in own]) == [
        True, False, False,
    ]  # fmt: skip
    assert ledger.mirror("own", "all", [("mine", "==", True)], prefix="all|") == 3
    ledger.cell("men_here", "all", [("sex", "==", "M"), ("mine", "==", True)])
    ledger.cell("others", "all", [("mine", "==", False)])
    shown = ledger.protect(
        [
            Publication("men_here", "exact", file="c.csv"),
            Publication("others", "exact", file="c.csv"),
        ]
    )
    assert shown == [False, True]
    assert audit(ledger).passed
    with pytest.raises(ValueError, match="cannot be linked"):
        ledger.mirror("own", "all", [("sex", "==", "M")], prefix="bad|")
