"""The one input layer: every estimator words the same problem in the same way.

Each estimator reads its columns through ``evaluation._input``; these tests hold the
estimators to it, so that a problem in a cohort table reads the same whichever function
found it: the role, the column, the count and the first row labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import (
    EstimationError,
    aft,
    cause_specific_cox,
    cox,
    cumulative_incidence,
    estimate_programme_effect,
    fine_gray,
    gray_test,
    kaplan_meier,
    logrank,
    rmst,
)

# kernel test: the input layer's own group codes and row listings (its module docstring)
from evaluation._input import group_codes, rows_text


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 60
    return pd.DataFrame(
        {
            "person_id": np.arange(n),
            "d": rng.integers(1, 900, n).astype(float),
            "e": rng.choice([0, 1, 2], n, p=[0.4, 0.4, 0.2]),
            "g": np.repeat(["a", "b"], n // 2),
            "treated": np.tile([0, 1], n // 2),
            "x": rng.normal(size=n),
        },
        index=pd.Index([f"P{i}" for i in range(n)]),
    )


ESTIMATORS = {
    "kaplan_meier": lambda d, **c: kaplan_meier(d, **c),
    "logrank": lambda d, **c: logrank(d, by="g", **c),
    "rmst": lambda d, **c: rmst(d, tau=300, **c),
    "cox": lambda d, **c: cox(d, "x", **c),
    "aft": lambda d, **c: aft(d, "x", **c),
    "cumulative_incidence": lambda d, **c: cumulative_incidence(d, **c),
    "gray_test": lambda d, **c: gray_test(d, by="g", **c),
    "fine_gray": lambda d, **c: fine_gray(d, "x", cause=1, **c),
    "cause_specific_cox": lambda d, **c: cause_specific_cox(d, "x", **c),
    "estimate_programme_effect": lambda d, **c: estimate_programme_effect(
        d, formula="x", covariates=("x",), n_boot=20, per_protocol=False, rng=1, **c
    ),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_negative_duration_reads_the_same_everywhere(name):
    bad = _data()
    bad.loc["P3", "d"] = -1.0
    # aft refuses durations <= 0 (log time), the others negative ones.
    what = r"value <= 0" if name == "aft" else "negative value"
    with pytest.raises(EstimationError, match=rf"^duration column 'd' has 1 {what} \(row P3\)$"):
        ESTIMATORS[name](bad, duration="d", event="e")


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_missing_column_is_named_with_its_role(name):
    with pytest.raises(EstimationError, match=r"^duration column 'days' is not in the data; it"):
        ESTIMATORS[name](_data(), duration="days", event="e")


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fractional_event_codes_read_the_same_everywhere(name):
    bad = _data().astype({"e": float})
    bad.loc[["P1", "P8"], "e"] = 0.5
    with pytest.raises(EstimationError, match=r"^event column 'e' must hold integer event codes"):
        ESTIMATORS[name](bad, duration="d", event="e")


def test_rows_are_listed_by_label_in_number():
    index = pd.Index(["a", "b", "c", "d", "e", "f", "g"])
    assert rows_text(index, np.array([False, True] + [False] * 5)) == "row b"
    assert rows_text(index, np.ones(7, bool)) == "rows a, b, c, d, e, ..."
    assert rows_text(index, np.array([6, 0])) == "rows g, a"


def test_groups_of_several_columns_are_ordered_as_r_orders_an_interaction():
    """Sorted by the first column, then the second, by value and not by the joined text
    (``"9" < "10"``), categories in their own order; only combinations present."""
    d = pd.DataFrame(
        {
            "n": [10, 9, 10, 9, 9],
            "c": pd.Categorical(["z", "a", "a", "z", "z"], categories=["z", "a", "unused"]),
        }
    )
    g = group_codes(d, ["n", "c"])
    assert g.labels == ("9, z", "9, a", "10, z", "10, a")
    assert g.codes.tolist() == [2, 1, 3, 0, 0]
    assert g.table.to_dict("list") == {"n": [9, 9, 10, 10], "c": ["z", "a", "z", "a"]}
    # The competing-risks estimators group the same way as Kaplan-Meier.
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {"t": rng.integers(1, 50, 40), "e": rng.integers(0, 3, 40), "n": rng.choice([9, 10], 40)}
    ).assign(c=lambda x: np.where(x.index % 2, "a", "b"))
    km = kaplan_meier(data, duration="t", event="e", by=["n", "c"])
    ci = cumulative_incidence(data, duration="t", event="e", by=["n", "c"])
    assert km.groups == ci.groups == ("9, a", "9, b", "10, a", "10, b")
