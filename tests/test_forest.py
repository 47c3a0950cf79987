"""Forest plot: the numbers behind the figure, labels from the label table, log axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.presentation.graphics.forest import forest_data, forest_plot
from evaluation.presentation.theme import theme
from evaluation.survival.cox import cox

SYN = pd.read_csv(Path(__file__).parent / "reference" / "data" / "cox_synthetic.csv")


@pytest.fixture(scope="module")
def fits():
    a = cox(SYN, "x1 + C(grp)", duration="time", event="event")
    b = cox(SYN, "x1 + C(grp) + x2", duration="time", event="event", cluster="cl")
    return a, b


def test_one_model_numbers_and_axis(fits) -> None:
    a, _ = fits
    ax = forest_plot(a, lang="en")
    data = forest_data(a, lang="en")
    table = a.summary()
    np.testing.assert_allclose(data["estimate"], table["hr"])
    np.testing.assert_allclose(data["ci_lower"], table["ci_lower"])
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Hazard ratio"
    # A vertical reference line at a hazard ratio of 1.
    assert any(np.allclose(line.get_xdata(), 1.0) for line in ax.lines)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(data["label"])
    assert data["row"].tolist() == list(range(len(data) - 1, -1, -1))


def test_several_models_and_labels(fits) -> None:
    with theme("sv"):
        data = forest_data({"A": fits[0], "B": fits[1]}, labels={"x1": "Motivation"})
    assert set(data["model"]) == {"A", "B"}
    assert data.loc[data["term"] == "x1", "label"].unique().tolist() == ["Motivation"]
    # Terms shared by both models sit on the same row, offset a little per model.
    shared = data[data["term"] == "x1"]
    assert shared["row"].nunique() == 1 and shared["y"].nunique() == 2
    assert len(data) == len(fits[0].terms) + len(fits[1].terms)


def test_factor_labels_from_the_label_table() -> None:
    table = pd.DataFrame(
        {
            "term": ["C(sex)[T.M]", "age"],
            "hr": [1.2, 0.97],
            "ci_lower": [1.0, 0.95],
            "ci_upper": [1.4, 0.99],
        }
    )
    assert forest_data(table, lang="sv")["label"].tolist() == ["Kön: Män", "Ålder"]
    assert forest_data(table, lang="en")["label"].tolist() == ["Sex: Men", "Age"]


def test_result_plot_method(fits) -> None:
    ax = fits[0].plot(lang="en")
    assert ax.get_xscale() == "log"


def test_bad_input() -> None:
    with pytest.raises(EstimationError, match="columns"):
        forest_data(pd.DataFrame({"term": ["a"], "coef": [1.0]}))
    with pytest.raises(EstimationError, match="Cox results"):
        forest_data(3.0)


def test_log_axis_has_plain_ticks_with_the_languages_decimal_mark() -> None:
    table = pd.DataFrame(
        {"term": ["a", "b"], "hr": [0.85, 1.2], "ci_lower": [0.75, 1.05], "ci_upper": [0.95, 1.3]}
    )
    ax = forest_plot(table, lang="sv")
    ticks = ax.get_xticks().tolist()
    assert ticks == [0.8, 0.9, 1.0, 1.1, 1.25]
    lo, hi = ax.get_xlim()
    assert lo <= 0.75 and hi >= 1.3  # every interval is inside the axis
    ax.figure.canvas.draw()
    texts = [t.get_text() for t in ax.get_xticklabels()]
    assert texts == ["0,8", "0,9", "1", "1,1", "1,25"]
    assert ax.xaxis.get_minor_locator().tick_values(lo, hi) == []
    en = forest_plot(table, lang="en")
    en.figure.canvas.draw()
    assert [t.get_text() for t in en.get_xticklabels()][-1] == "1.25"


def test_group_levels_are_translated() -> None:
    terms = ["C(group)[T.participant]", "C(sex)[T.M]"]
    sv = forest_data(
        pd.DataFrame(
            {"term": terms, "hr": [0.8, 1.2], "ci_lower": [0.7, 1], "ci_upper": [0.9, 1.4]}
        ),
        lang="sv",
    )
    assert sv["label"].tolist() == ["Grupp: Deltagare", "Kön: Män"]
    en = forest_data(
        pd.DataFrame(
            {"term": terms, "hr": [0.8, 1.2], "ci_lower": [0.7, 1], "ci_upper": [0.9, 1.4]}
        ),
        lang="en",
    )
    assert en["label"].tolist() == ["Group: Participants", "Sex: Men"]
