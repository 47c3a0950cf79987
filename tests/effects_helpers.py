"""Checks shared by the effect tests: ``from effects_helpers import assert_wald_p_values``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

DIFFERENCES = ("risk_difference_", "rmst_difference_")
RATIOS = ("risk_ratio_", "hazard_ratio")
GROUP_RISKS = ("risk_participants_", "risk_comparisons_")


def assert_wald_p_values(summary: pd.DataFrame) -> None:
    """Every ``p`` of an effect summary is the two-sided normal test of no effect from the
    row's own estimate and standard error: ``2 * norm.sf(|estimate - 0| / se)`` for
    differences, ``2 * norm.sf(|log(estimate) - log(1)| / se)`` for ratios (whose ``se`` is on
    the log scale); a group's own risk is not a test and has no p.

    Both sides are the same double-precision formula, so they agree to rounding (1e-12
    relative); a p-value computed from any other z fails, row by row."""
    assert len(summary), "empty summary"
    for _, row in summary.iterrows():
        name = f"{row.analysis}/{row.measure}"
        if row.measure.startswith(GROUP_RISKS):
            assert np.isnan(row.p), name
            continue
        if row.measure.startswith(DIFFERENCES):
            z = abs(row.estimate - 0.0) / row.se
        elif row.measure.startswith(RATIOS):
            z = abs(np.log(row.estimate) - np.log(1.0)) / row.se
        else:  # a new measure must say which null it tests
            raise AssertionError(f"no null hypothesis known for {name}")
        assert row.se > 0, name
        expected = 2 * stats.norm.sf(z)
        assert 0 <= row.p <= 1, name
        np.testing.assert_allclose(row.p, expected, rtol=1e-12, atol=1e-300, err_msg=name)
