"""The result protocol: every frozen result has summary() and an HTML view, and every
result that draws has plot_data() with the numbers it draws, in long form."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pandas as pd
import pytest

import evaluation as ev


def _results() -> list[type]:
    found = []
    for package in (
        "evaluation.survival",
        "evaluation.effects",
        "evaluation.cohorts",
        "evaluation.sites",
        "evaluation.design",
    ):
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__):
            module = importlib.import_module(f"{package}.{info.name}")
            for obj in vars(module).values():
                if (
                    inspect.isclass(obj)
                    and dataclasses.is_dataclass(obj)
                    and obj.__module__ == module.__name__
                    and hasattr(obj, "summary")
                ):
                    found.append(obj)
    return found


RESULTS = _results()


def test_the_results_are_found():
    names = {r.__name__ for r in RESULTS}
    assert {"SurvivalCurves", "CoxResult", "CumulativeIncidence", "ProgrammeEffect"} <= names
    assert {"PowerCalculation", "PowerResult", "PlanningResult"} <= names


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.__name__)
def test_every_result_has_a_summary_an_html_view_and_plot_data_where_it_draws(result: type):
    assert callable(getattr(result, "summary", None))
    assert callable(getattr(result, "_repr_html_", None))
    params = dataclasses.fields(result)
    assert params  # a frozen dataclass with its metadata
    if hasattr(result, "plot"):
        assert callable(getattr(result, "plot_data", None)), f"{result.__name__}.plot_data"


def test_plot_data_is_long_form_for_a_fitted_model_and_balance():
    registers = ev.load_synthetic()
    cohort = ev.relapse_cohort(registers, rng=1)
    fit = ev.cox(
        cohort.data, "C(sex) + age", duration="duration_days", event="event", cluster="person_id"
    )
    data = fit.plot_data()
    assert list(data.columns) == ["term", "hr", "ci_lower", "ci_upper", "p"]
    assert data["term"].tolist() == fit.summary()["term"].tolist()
    trials = ev.comparison_cohort(registers, rng=1)
    effect = ev.estimate_programme_effect(trials, n_boot=20, rng=1)
    long = effect.balance.plot_data()
    assert set(long["adjustment"]) == {"unadjusted", "adjusted"}
    assert len(long) == 2 * len(effect.balance.table)
    assert isinstance(long, pd.DataFrame)


#: ``**kwargs`` only where they go to one documented matplotlib call (the lowess line).
KWARGS_TO_MATPLOTLIB = {"ZphResult"}


@pytest.mark.parametrize(
    "result", [r for r in RESULTS if hasattr(r, "plot")], ids=lambda r: r.__name__
)
def test_plot_takes_ax_then_named_keywords_and_plot_data_documents_its_columns(result: type):
    params = list(inspect.signature(result.plot).parameters.values())
    assert [p.name for p in params[:2]] == ["self", "ax"]
    assert params[1].default is None
    rest = params[2:]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest if p.kind != p.VAR_KEYWORD)
    if result.__name__ not in KWARGS_TO_MATPLOTLIB:
        assert not any(p.kind is p.VAR_KEYWORD for p in rest), f"{result.__name__}.plot"
    doc = inspect.getdoc(result.plot_data) or ""
    assert "Returns" in doc and "-------" in doc, f"{result.__name__}.plot_data documents columns"
