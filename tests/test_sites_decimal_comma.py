"""Swedish output has a decimal comma everywhere: the sites and design sections' graphics
(tick labels, legends, axis labels, annotations, titles); their tables and captions in a
Swedish report are checked in ``tests/test_report.py``.

Every text the figures draw is read back after drawing (so that tick labels exist) and
searched for a digit, a point and a digit; English is checked too, so that the test does not
pass because nothing with decimals was drawn.
"""

from __future__ import annotations

import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from evaluation.design import planning_table
from evaluation.presentation.theme import theme
from evaluation.sites import case_mix, funnel, meta_analysis, shrinkage

POINT = re.compile(r"\d\.\d")
COMMA = re.compile(r"\d,\d")


def _texts(ax: Any) -> list[str]:
    """Every text drawn on the axes: ticks, axis labels, title, legend, annotations."""
    ax.figure.canvas.draw()
    out = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title(), ax.get_title("left")]
    out += [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        out += [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()]
    return [t for t in out if t]


@pytest.fixture(scope="module")
def cm() -> Any:
    rng = np.random.default_rng(5)
    # Small sites: expected counts below 1 put 0.5 on the funnel's log axis.
    sizes = (3, 12, 25, 40, 60, 90, 150)
    site = np.repeat([f"K{i}" for i in range(len(sizes))], sizes)
    u = np.repeat(rng.normal(0, 0.6, len(sizes)), sizes)
    age = rng.integers(18, 45, site.size)
    eta = -0.7 - 0.04 * (age - 25) + u
    data = pd.DataFrame(
        {
            "person_id": np.arange(site.size),
            "municipality": site,
            "age": age,
            "relapse_1y": pd.array(rng.random(site.size) < 1 / (1 + np.exp(-eta)), "boolean"),
        }
    )
    return case_mix(data, covariates=("age",))


def _figures(cm: Any, lang: str) -> dict[str, Any]:
    meta = meta_analysis([0.1, 0.3, -0.2, 0.05], [0.2, 0.14, 0.22, 0.1], labels=list("abcd"))
    plan = planning_table(intakes=(10, 20, 50), years=(1, 2, 3, 4, 5), baseline=0.45, hr=0.7)
    with theme(lang):
        axes = {
            "funnel": funnel(cm).plot(lang=lang, highlight="K3"),
            "funnel_withheld": funnel(cm).plot(lang=lang, highlight="K3", hidden=("K3",)),
            "shares": cm.plot(lang=lang),
            "ranks": shrinkage(cm, n_sim=200, rng=1).plot(lang=lang),
            "forest": meta.plot(lang=lang, highlight="b"),
        }
        for what in ("mdhr", "power", "mdrd_1y"):
            axes[f"planning_{what}"] = plan.plot(what=what)
    return axes


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_sites_and_design_graphics_write_decimals_in_the_language(cm: Any, lang: str) -> None:
    axes = _figures(cm, lang)
    wrong = POINT if lang == "sv" else COMMA
    right = COMMA if lang == "sv" else POINT
    found = {k: [t for t in _texts(ax) if wrong.search(t)] for k, ax in axes.items()}
    decimals = {k for k, ax in axes.items() if any(right.search(t) for t in _texts(ax))}
    for ax in axes.values():
        plt.close(ax.figure)
    assert not any(found.values()), found
    # The check has decimals to check: the log axes and O/E ticks, the forest's differences.
    assert {"funnel", "ranks", "forest", "shares", "planning_mdhr"} <= decimals


@pytest.mark.parametrize(("lang", "ratio"), [("sv", "O/F"), ("en", "O/E")])
def test_a_withheld_highlight_is_named_in_the_language(cm: Any, lang: str, ratio: str) -> None:
    # Swedish says observerat/förväntat (O/F), as the axis does; English O/E.
    with theme(lang):
        ax = funnel(cm).plot(lang=lang, highlight="K3", hidden=("K3",))
    texts = [t.get_text() for t in ax.texts if t.get_text().startswith("K3")]
    plt.close(ax.figure)
    assert texts == [f"K3 ({ratio} ..)"]
