"""Matching: invariants, errors (the comparison with R's MatchIt is in
``tests/reference/matching/test_matching_reference.py``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaluation import EstimationError
from evaluation.effects import match, propensity_weights


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """The data MatchIt matched in the reference (``tests/reference/matching/``)."""
    return pd.read_csv(Path(__file__).parent / "reference" / "data" / "matchit_input.csv")


def test_caliper_is_respected_and_counts_add_up(data):
    m = match(data, treatment="treat", score="ps", k=3, caliper=0.05)
    assert (m.pairs["distance"] <= m.caliper_width).all()
    g = m.summary().set_index("group")
    assert (g["n_matched"] + g["n_unmatched"] == g["n"]).all()
    assert g.loc["participants", "n_unmatched"] > 0  # a tight caliper must leave some out
    # without replacement no comparison is used twice
    assert not m.pairs["control"].duplicated().any()


def test_formula_and_propensity_result_give_the_same_matches(data):
    ps = propensity_weights(data, "age + prior + C(sex)", treatment="treat")
    a = match(data, treatment="treat", score=ps)
    b = match(data, treatment="treat", score="age + prior + C(sex)")
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_random_order_is_reproducible(data):
    a = match(data, treatment="treat", score="ps", order="random", rng=3)
    b = match(data, treatment="treat", score="ps", order="random", rng=3)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_bad_input_is_named(data):
    with pytest.raises(EstimationError, match="k must be"):
        match(data, treatment="treat", score="ps", k=6)
    bad = data.assign(ps=data.ps.where(data.index != 4, 1.5))
    with pytest.raises(EstimationError, match=r"score column 'ps'.*\(row 4\)"):
        match(bad, treatment="treat", score="ps")
    with pytest.raises(EstimationError, match="treatment column 'nope' is not in the data"):
        match(data, treatment="nope", score="ps")
