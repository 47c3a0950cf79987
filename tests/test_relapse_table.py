"""Brå's relapse table: the numbers, their disclosure control and the bilingual layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import DefinitionError, EstimationError
from evaluation.cohorts import relapse_cohort, relapse_table
from evaluation.presentation.disclosure import SUPPRESSED
from test_cohorts import random_registers


@pytest.fixture(scope="module")
def cohort():
    return relapse_cohort(random_registers(n=600, seed=3), definition="bra-final", rng=5)


def test_numbers_equal_a_direct_count(cohort):
    t = relapse_table(cohort, min_cell=1)  # nothing suppressed: compare raw numbers
    d = cohort.data
    for w in ("1y", "2y", "3y"):
        m = d[f"relapse_{w}"].notna()
        row = t.table[(t.table["breakdown"] == "all") & (t.table["window"] == w)].iloc[0]
        assert row["n"] == m.sum()
        assert row["relapsed"] == d.loc[m, f"relapse_{w}"].astype(bool).sum()
        assert row["offences"] == d.loc[m, f"n_relapse_offences_{w}"].sum()
        assert row["share"] == pytest.approx(row["relapsed"] / row["n"])
        days = d.loc[m & d[f"relapse_{w}"].fillna(False).astype(bool), f"days_to_relapse_{w}"]
        assert row["median_days"] == pytest.approx(days.median())
        men = t.table[(t.table["level"] == "M") & (t.table["window"] == w)].iloc[0]
        mm = m & (d["sex"] == "M")
        assert men["relapsed"] == d.loc[mm, f"relapse_{w}"].astype(bool).sum()


def test_every_block_adds_up_to_samtliga(cohort):
    raw = relapse_table(cohort).raw
    for (_, w), block in raw.groupby(["breakdown", "window"]):
        total = raw[(raw["breakdown"] == "all") & (raw["window"] == w)].iloc[0]
        for col in ("n", "relapsed", "offences"):
            assert block[col].sum() == total[col]
    # All age bands are shown, empty or not (Brå's layout).
    ages = raw[(raw["breakdown"] == "age_group") & (raw["window"] == "1y")]["level"].tolist()
    assert ages[:6] == ["15-17", "18-20", "21-29", "30-39", "40-59", "60+"]


def test_small_cells_are_suppressed_and_cannot_be_recovered(cohort):
    t = relapse_table(cohort, min_cell=5)
    raw, tab, sup = t.raw, t.table, t.suppressed
    small = (raw["relapsed"] >= 1) & (raw["relapsed"] < 5)
    assert small.any()  # the test data has small cells to protect
    assert sup.loc[small, "relapsed"].all() and tab.loc[small, "relapsed"].isna().all()
    assert (sup["share"] | ~(raw["n"] < 5) | raw["share"].isna()).all()
    few = raw["relapsed"] < 5
    assert tab.loc[few, "median_days"].isna().all()
    assert tab.loc[few, "offences_per_relapsed"].isna().all()
    # Secondary suppression: within a block, never exactly one relapsed count withheld.
    for _key, block in tab.groupby(["breakdown", "window"]):
        if block["level"].iloc[0] != "all":
            assert block["relapsed"].isna().sum() != 1
    # The visible values are the raw ones.
    shown = ~sup["relapsed"]
    assert (tab.loc[shown, "relapsed"] == raw.loc[shown, "relapsed"]).all()


def test_formatted_swedish_and_english(cohort):
    t = relapse_table(cohort, windows=(1,), by=("sex",), min_cell=5)
    sv, en = t.formatted("sv"), t.formatted("en")
    assert sv.iloc[:, 1].tolist() == ["Samtliga", "Kvinnor", "Män"]
    assert en.iloc[:, 1].tolist() == ["All", "Women", "Men"]
    assert list(sv.columns[2:5]) == [
        "Antal uppföljda (1 år)",
        "Antal återfall (1 år)",
        "Andel återfall, % (1 år)",
    ]
    total = t.table.iloc[0]
    assert sv.iloc[0, 4] == str(round(100 * total["share"]))
    assert "Antal och andel återfall inom 1 år" in sv.attrs["title"]
    assert "Number and proportion of recidivists within 1 year " in sv.attrs["title"]
    assert en.attrs["title"].startswith("Number and proportion")
    notes = " ".join(sv.attrs["footnotes"])
    assert "3 år efter uppföljningstidens slut" in notes and "2025-12-31" in notes
    assert any("Brå" in n for n in en.attrs["footnotes"])  # the definition's source
    assert (sv.to_numpy() == SUPPRESSED).sum() == t.suppressed.to_numpy().sum()
    assert "<table" in t._repr_html_()


def test_missing_levels_get_their_own_row_and_bad_options_fail(cohort):
    data = cohort.data.copy()
    data.loc[data.index[:7], "municipality"] = np.nan
    c = type(cohort)(data, cohort.flow, cohort.definition, cohort.meta)
    t = relapse_table(c, by=("municipality",), min_cell=1)
    muni = t.table[(t.table["breakdown"] == "municipality") & (t.table["window"] == "1y")]
    assert muni["level"].iloc[-1] == "<NA>"
    assert t.formatted("sv").iloc[-1, 1] == "Uppgift saknas"
    with pytest.raises(DefinitionError, match="windows"):
        relapse_table(cohort, windows=(5,))
    with pytest.raises(EstimationError, match="affiliation"):
        relapse_table(cohort, by=("affiliation",))
    assert isinstance(relapse_table(cohort, windows=(2,)).table, pd.DataFrame)


def test_footnotes_name_the_entry_events_of_the_definition(cohort):
    reg = random_registers(n=200, seed=3)
    prison = relapse_table(relapse_cohort(reg, definition="prison-service", rng=5), min_cell=1)
    notes = " ".join(prison.formatted("en").attrs["footnotes"])
    assert "Only a release from prison and the start of probation" in notes
    assert "served in remand" in notes
    notes_sv = " ".join(prison.formatted("sv").attrs["footnotes"])
    assert "Endast frigivning från fängelse och påbörjad frivård" in notes_sv
    bra = " ".join(relapse_table(cohort, min_cell=1).formatted("en").attrs["footnotes"])
    assert "Only a release" not in bra and "served in remand" in bra


def _median_cohort(days: list[float]):
    from evaluation.cohorts import Cohort
    from evaluation.cohorts.definitions import RelapseDefinition

    n = len(days) + 20
    data = pd.DataFrame(
        {
            "person_id": [f"P{i}" for i in range(n)],
            "sex": ["M"] * n,
            "relapse_1y": pd.array([True] * len(days) + [False] * 20, dtype="boolean"),
            "n_relapse_offences_1y": pd.array([1] * len(days) + [0] * 20, dtype="Int64"),
            "days_to_relapse_1y": [*days, *([np.nan] * 20)],
        }
    )
    return Cohort(data, pd.DataFrame(), RelapseDefinition.preset("bra-preliminary"))


def test_a_median_needs_min_cell_persons_on_each_side():
    # Eleven recidivists, five on each side of the median (day 60): shown.
    eleven = relapse_table(_median_cohort([10.0 * k for k in range(1, 12)]), windows=(1,), by=())
    assert eleven.table["median_days"].iloc[0] == 60.0
    # Nine recidivists (enough for the share) but four on each side: the median, one
    # person's day, is withheld.
    nine = relapse_table(_median_cohort([10.0 * k for k in range(1, 10)]), windows=(1,), by=())
    assert nine.table["relapsed"].iloc[0] == 9
    assert np.isnan(nine.table["median_days"].iloc[0])
    # Ties at the median do not count as a side: 11 values, 7 of them equal to the median.
    tied = relapse_table(_median_cohort([5.0, 6.0, 7.0, 8.0] + [50.0] * 7), windows=(1,), by=())
    assert np.isnan(tied.table["median_days"].iloc[0])


def test_offences_per_person_followed_and_its_protection(cohort):
    # Brå's frequency measures: relapse offences per person followed and per recidivist.
    t = relapse_table(cohort, min_cell=1)
    row = t.table[(t.table["breakdown"] == "all") & (t.table["window"] == "1y")].iloc[0]
    assert row["offences_per_person"] == pytest.approx(row["offences"] / row["n"])
    assert row["offences_per_relapsed"] == pytest.approx(row["offences"] / row["relapsed"])
    # With a threshold, the ratio is withheld wherever offences or n are, or few are followed.
    p = relapse_table(cohort, min_cell=10)
    s = p.suppressed
    must = s["offences"] | s["n"] | ~(p.raw["n"].to_numpy() >= 10)
    must &= p.raw["offences_per_person"].notna().to_numpy()
    assert (s["offences_per_person"] == must).all()
    assert p.table["offences_per_person"][must.to_numpy()].isna().all()
    assert must.any() and not must.all()
    text = p.formatted("sv")
    assert any(c.startswith("Återfallsbrott per uppföljd person") for c in text.columns)
