"""E-values: the published worked examples, the HR conversion, symmetry, errors."""

from __future__ import annotations

import math

import pytest

from evaluation import EstimationError
from evaluation.effects import e_value


def test_vanderweele_ding_worked_example():
    """VanderWeele & Ding (2017), breastfeeding example: RR 3.9 (1.8, 8.7) -> E-values 7.26
    and 3.00 (printed to two decimals in the paper)."""
    r = e_value(3.9, 1.8, 8.7)
    assert r.estimate == pytest.approx(7.26, abs=0.005)
    assert r.ci == pytest.approx(3.00, abs=0.005)


def test_protective_ratio_uses_its_inverse_and_the_upper_limit():
    a = e_value(0.5, 0.3, 0.8)
    b = e_value(2.0, 1.25, 1 / 0.3)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    assert a.ci == pytest.approx(b.ci, rel=1e-12)
    assert a.estimate == pytest.approx(2 + math.sqrt(2), rel=1e-12)


def test_interval_including_one_gives_one():
    assert e_value(1.3, 0.9, 1.8).ci == 1.0
    assert e_value(0.8, 0.6, 1.1).ci == 1.0


def test_common_outcome_hr_conversion():
    """VanderWeele (2020): RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)); HR 1 stays 1 and
    the converted ratio is closer to the null than the HR."""
    r = e_value(0.7, 0.55, 0.9, measure="HR", rare=False)
    expected = (1 - 0.5 ** math.sqrt(0.7)) / (1 - 0.5 ** math.sqrt(1 / 0.7))
    assert r.rr == pytest.approx(expected, rel=1e-12)
    assert 0.7 < r.rr < 1
    assert r.estimate < e_value(0.7, measure="HR", rare=True).estimate
    assert e_value(1.0, measure="HR", rare=False).estimate == pytest.approx(1.0)


def test_sentences_in_both_languages():
    r = e_value(0.7, 0.55, 0.9, measure="HR", rare=False)
    assert "1,88" in r.sentence("sv")
    assert "1.88" in r.sentence("en")


def test_bad_input():
    with pytest.raises(EstimationError, match="positive"):
        e_value(-1.0)
    with pytest.raises(EstimationError, match="does not contain"):
        e_value(2.0, 2.5, 3.0)
    with pytest.raises(EstimationError, match="measure"):
        e_value(2.0, measure="OR")  # type: ignore[arg-type]
