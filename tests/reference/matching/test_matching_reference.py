"""Reference tests: ``match`` equals R's MatchIt nearest-neighbour matching (values printed by
``tests/reference/matching/matchit_nearest.R`` into ``matchit_nearest.json``, on the logit
scores ``matchit_data.py`` wrote to ``tests/reference/data/matchit_input.csv``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.effects import match

HERE = Path(__file__).parent
DATA = Path(__file__).parents[1] / "data"  # input CSVs, shared by the reference folders


CONFIGS = {
    "k1_caliper": {"k": 1, "replace": False, "caliper": 0.2, "exact": None},
    "k3_caliper": {"k": 3, "replace": False, "caliper": 0.2, "exact": None},
    "k2_replace": {"k": 2, "replace": True, "caliper": 0.2, "exact": None},
    "k1_nocaliper": {"k": 1, "replace": False, "caliper": None, "exact": None},
    "k2_exact_sex": {"k": 2, "replace": False, "caliper": 0.1, "exact": "sex"},
}


@pytest.fixture(scope="module")
def ref() -> tuple[pd.DataFrame, dict]:
    data = pd.read_csv(DATA / "matchit_input.csv")
    return data, json.loads((HERE / "matchit_nearest.json").read_text())


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
