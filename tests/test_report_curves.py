"""Disclosure-safe curves: rounded cumulative counts, pseudo-data, curves recomputed from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import DisclosureError
from evaluation.presentation.curves import MONTH, rounded_curve
from evaluation.presentation.ledger import Ledger, audit, round_midpoint, rounding_interval
from evaluation.survival import kaplan_meier


def _data(seed: int = 4, n: int = 300) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "group": g.choice(["a", "b"], n),
            "duration_days": g.integers(0, 1500, n).astype(float),
            "event": g.choice([0, 1, 2], n, p=[0.5, 0.4, 0.1]),
        }
    )


def _curve(data: pd.DataFrame, min_cell: int = 5, last_step: int = 36):
    ledger = Ledger(min_cell)
    ledger.add_universe("units", data[["group"]].astype(str))
    curve = rounded_curve(
        ledger,
        "units",
        data,
        name="c",
        duration="duration_days",
        event="event",
        group="group",
        last_step=last_step,
    )
    return ledger, curve


def test_rounded_counts_stand_for_the_true_counts_and_never_decrease():
    data = _data()
    ledger, curve = _curve(data)
    steps = np.ceil(data["duration_days"].to_numpy() / MONTH - 1e-9)
    for (g, k), part in curve.counts.melt(
        id_vars=["group", "step"], value_vars=["cum_0", "cum_1", "cum_2"], var_name="kind"
    ).groupby(["group", "kind"]):
        code = int(k[-1])
        rows = (data["group"] == g).to_numpy() & (data["event"] == code).to_numpy()
        true = np.array([(steps[rows] <= j).sum() for j in part["step"]])
        assert (part["value"].to_numpy() == round_midpoint(true, 5)).all()
        assert (np.diff(part["value"].to_numpy()) >= 0).all()
        for published, count in zip(part["value"], true, strict=True):
            lo, hi = rounding_interval(published, 5)
            assert lo <= count <= hi
    assert audit(ledger).passed


def test_pseudo_data_reproduce_the_rounded_counts_and_the_group_sizes():
    data = _data()
    _, curve = _curve(data)
    pseudo = curve.pseudo
    for g, part in curve.counts.groupby("group"):
        rows = pseudo[pseudo["group"] == g]
        assert len(rows) == (data["group"] == g).sum()  # the true size
        for _, r in part.iterrows():
            upto = rows[rows["duration"] <= r["time"] + 1e-9]
            for k in (1, 2):
                assert (upto["event"] == k).sum() == r[f"cum_{k}"]


def test_the_curve_is_the_product_limit_of_the_published_counts():
    """An independent product-limit over the grid from n, cum_0 and cum_1 alone."""
    data = _data().assign(event=lambda d: (d["event"] == 1).astype(int))
    _, curve = _curve(data)
    km = kaplan_meier(curve.pseudo, duration="duration", event="event", by="group")
    for g, part in curve.counts.groupby("group"):
        n = part["n"].iloc[0]
        s, prev_e, prev_c = 1.0, 0, 0
        expected = []
        for _, r in part.iterrows():
            at_risk = n - prev_e - prev_c
            d = r["cum_1"] - prev_e
            s *= 1 - d / at_risk if at_risk else 1.0
            expected.append(s)
            prev_e, prev_c = r["cum_1"], r["cum_0"]
        got = km.at(part["time"].to_numpy())
        got = got[got["group"] == g]["estimate"].to_numpy()
        assert np.allclose(got, expected, atol=1e-12)


def test_a_group_below_min_cell_withholds_the_whole_curve_and_records_nothing():
    data = _data()
    data.loc[data.index[:3], "group"] = "tiny"
    ledger = Ledger(5)
    ledger.add_universe("units", data[["group"]].astype(str))
    with pytest.raises(DisclosureError, match="whole"):
        rounded_curve(
            ledger,
            "units",
            data,
            name="c",
            duration="duration_days",
            event="event",
            group="group",
            last_step=12,
        )
    assert ledger.publications == []
