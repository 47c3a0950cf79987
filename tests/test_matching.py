"""Matching: reference against R's MatchIt, invariants, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation._errors import EstimationError
from evaluation.effects import match, propensity_weights

REF = Path(__file__).parent / "reference"
CONFIGS = {
    "k1_caliper": {"k": 1, "replace": False, "caliper": 0.2, "exact": None},
    "k3_caliper": {"k": 3, "replace": False, "caliper": 0.2, "exact": None},
    "k2_replace": {"k": 2, "replace": True, "caliper": 0.2, "exact": None},
    "k1_nocaliper": {"k": 1, "replace": False, "caliper": None, "exact": None},
    "k2_exact_sex": {"k": 2, "replace": False, "caliper": 0.1, "exact": "sex"},
}


@pytest.fixture(scope="module")
def ref() -> tuple[pd.DataFrame, dict]:
    data = pd.read_csv(REF / "data" / "matchit_input.csv")
    return data, json.loads((REF / "matchit_nearest.json").read_text())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_matches_equal_matchit(ref, name):
    """Every match and every weight equals MatchIt 4.5 on the same logit scores."""
    data, values = ref
    r = values[name]
    m = match(data, treatment="treat", score="ps", order="largest", **CONFIGS[name])
    k = CONFIGS[name]["k"]
    # R's match matrix: row per participant (1-based row numbers), 0 = no match.
    ours = np.zeros((len(r["treated"]), k), dtype=int)
    pos = {t - 1: i for i, t in enumerate(r["treated"])}
    for row in m.pairs.itertuples():
        ours[pos[row.treated], row.round - 1] = row.control + 1
    theirs = np.asarray(r["match_matrix"]).reshape(-1, k)
    if CONFIGS[name]["replace"]:
        # With replacement MatchIt stores a participant's k matches in data order, not in
        # the order they were chosen; the sets are what must agree.
        ours, theirs = np.sort(ours, axis=1), np.sort(theirs, axis=1)
    np.testing.assert_array_equal(ours, theirs)
    # Weights: sums of 1/k_i, rescaled; 1e-12 relative is far below any rounding of R's output.
    np.testing.assert_allclose(m.weights.to_numpy(), r["weights"], rtol=1e-12, atol=0)


def test_caliper_is_respected_and_counts_add_up(ref):
    data, _ = ref
    m = match(data, treatment="treat", score="ps", k=3, caliper=0.05)
    assert (m.pairs["distance"] <= m.caliper_width).all()
    g = m.summary().set_index("group")
    assert (g["n_matched"] + g["n_unmatched"] == g["n"]).all()
    assert g.loc["participants", "n_unmatched"] > 0  # a tight caliper must leave some out
    # without replacement no comparison is used twice
    assert not m.pairs["control"].duplicated().any()


def test_formula_and_propensity_result_give_the_same_matches(ref):
    data, _ = ref
    ps = propensity_weights(data, "age + prior + C(sex)", treatment="treat")
    a = match(data, treatment="treat", score=ps)
    b = match(data, treatment="treat", score="age + prior + C(sex)")
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_random_order_is_reproducible(ref):
    data, _ = ref
    a = match(data, treatment="treat", score="ps", order="random", rng=3)
    b = match(data, treatment="treat", score="ps", order="random", rng=3)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_bad_input_is_named(ref):
    data, _ = ref
    with pytest.raises(EstimationError, match="k must be"):
        match(data, treatment="treat", score="ps", k=6)
    bad = data.assign(ps=data.ps.where(data.index != 4, 1.5))
    with pytest.raises(EstimationError, match=r"score column 'ps'.*\(row 4\)"):
        match(bad, treatment="treat", score="ps")
    with pytest.raises(EstimationError, match="treatment column 'nope' is not in the data"):
        match(data, treatment="nope", score="ps")
