"""Log-rank: agreement with lifelines (Fleming–Harrington p, q), stratification, trend, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import logrank_test, multivariate_logrank_test

from evaluation import EstimationError
from evaluation.survival import logrank

ROSSI = pd.read_csv(Path(__file__).parent / "reference" / "data" / "rossi.csv")


@pytest.mark.parametrize(("p", "q"), [(0, 0), (1, 0), (1, 1), (0, 1), (0.5, 2)])
def test_fleming_harrington_agrees_with_lifelines(p: float, q: float) -> None:
    # R's survdiff has rho only (q = 0, checked in test_logrank_reference); lifelines
    # implements the whole G(p, q) family with the same pooled left-continuous KM weight.
    a, b = ROSSI[ROSSI["fin"] == 0], ROSSI[ROSSI["fin"] == 1]
    theirs = logrank_test(
        a["week"], b["week"], a["arrest"], b["arrest"], weightings="fleming-harrington", p=p, q=q
    )
    ours = logrank(ROSSI, duration="week", event="arrest", by="fin", weights=("fh", p, q))
    np.testing.assert_allclose(ours.statistic, theirs.test_statistic, rtol=1e-9)
    np.testing.assert_allclose(ours.p, theirs.p_value, rtol=1e-9)


def test_three_groups_agree_with_lifelines() -> None:
    df = ROSSI.assign(prio_group=pd.cut(ROSSI["prio"], [-1, 0, 2, 99]).astype(str))
    theirs = multivariate_logrank_test(
        df["week"], df["prio_group"], df["arrest"], weightings="fleming-harrington", p=1, q=1
    )
    ours = logrank(df, duration="week", event="arrest", by="prio_group", weights=("fh", 1, 1))
    np.testing.assert_allclose(ours.statistic, theirs.test_statistic, rtol=1e-9)
    assert ours.df == 2


def test_one_stratum_per_group_level_gives_sum_of_parts() -> None:
    # Stratifying by a column that splits the data: O - E and V are the per-stratum sums.
    res = logrank(ROSSI, duration="week", event="arrest", by="fin", strata="wexp")
    parts = [
        logrank(ROSSI[ROSSI["wexp"] == s], duration="week", event="arrest", by="fin")
        for s in (0, 1)
    ]
    np.testing.assert_allclose(res.table["o_minus_e"], sum(p.table["o_minus_e"] for p in parts))
    np.testing.assert_allclose(res.variance, sum(p.variance for p in parts))
    assert res.stratified


def test_trend_on_two_groups_equals_the_logrank_test() -> None:
    res = logrank(ROSSI, duration="week", event="arrest", by="fin", trend=True)
    np.testing.assert_allclose(res.trend_statistic, res.statistic, rtol=1e-12)
    assert res.summary()["test"].tolist() == ["logrank", "trend"]
    assert "Log-rank" in res._repr_html_()


def test_relapse_codes_death_censors() -> None:
    df = ROSSI.assign(event=np.where(ROSSI["arrest"] == 1, 1, np.where(ROSSI["age"] > 30, 2, 0)))
    coded = logrank(df, duration="week", event="event", by="fin")
    plain = logrank(ROSSI, duration="week", event="arrest", by="fin")
    np.testing.assert_allclose(coded.statistic, plain.statistic)


def test_errors_are_named() -> None:
    with pytest.raises(EstimationError, match="two or more groups"):
        logrank(ROSSI.assign(g=1), duration="week", event="arrest", by="g")
    with pytest.raises(EstimationError, match="weights must be"):
        logrank(ROSSI, duration="week", event="arrest", by="fin", weights=("fh", -1, 0))
    with pytest.raises(EstimationError, match="no events"):
        logrank(ROSSI.assign(arrest=0), duration="week", event="arrest", by="fin")
    with pytest.raises(EstimationError, match="scores must have one value per group"):
        logrank(ROSSI, duration="week", event="arrest", by="fin", trend=True, scores=[1, 2, 3])
