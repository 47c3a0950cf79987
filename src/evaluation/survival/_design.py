"""Design matrices for the regression models (Cox, AFT, window logistic, Fine–Gray).

The columns themselves are checked by :mod:`evaluation._input`; errors name the column,
how many rows and the first offending row labels, so that an evaluator can find the
problem in the cohort table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from evaluation._errors import EstimationError
from evaluation._input import counted, no_missing, rows_text

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@dataclass(frozen=True, slots=True)
class Design:
    """A model matrix without intercept, with the patsy information to rebuild it."""

    matrix: np.ndarray
    columns: tuple[str, ...]
    term_names: tuple[str, ...]
    term_columns: tuple[tuple[int, ...], ...]  # column positions of each term
    info: Any  # patsy.DesignInfo (with the intercept column, dropped on building)
    order: tuple[int, ...]  # positions in patsy's columns of ours (formula order)

    def build(self, newdata: pd.DataFrame) -> np.ndarray:
        """The model matrix for new rows (categorical levels as in the fitted data)."""
        try:
            (m,) = patsy.build_design_matrices([self.info], newdata, NA_action="raise")
        except patsy.PatsyError as err:
            raise EstimationError(f"cannot build the model matrix for newdata: {err}") from None
        return np.asarray(m, dtype=float)[:, list(self.order)]


def _formula_order(rhs: str, info: Any, intercept: bool) -> tuple[list[Any], list[int]]:
    """Terms in R's order and the positions of their columns in patsy's matrix.

    Patsy groups terms by their numeric factors (categorical terms first), so that
    ``"age + C(sex)"`` would come out as ``sex, age``. R's ``terms()`` keeps the formula's
    order within each degree and puts main effects before two-way interactions and so on
    (``keep.order = FALSE``); summaries follow that order, as R prints them.
    """
    wanted = patsy.ModelDesc.from_formula("1 + " + rhs).rhs_termlist
    wanted = sorted(wanted, key=lambda t: len(t.factors))  # stable: formula order per degree
    slices = info.term_slices
    terms = [t for t in wanted if t in slices and (intercept or t.factors)]
    terms += [t for t in slices if t not in terms and (intercept or t.factors)]
    order = [i for t in terms for i in range(slices[t].start, slices[t].stop)]
    return terms, order


def rhs_of(formula: str) -> str:
    """The right-hand side of ``"~ a + b"`` or ``"a + b"``."""
    if not isinstance(formula, str) or not formula.strip():
        raise EstimationError("formula must be a non-empty string such as 'sex + age'")
    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    if not rhs.strip():
        raise EstimationError(f"formula {formula!r} has no covariates")
    return rhs.strip()


def design(data: pd.DataFrame, formula: str, *, intercept: bool = False) -> Design:
    """Build the model matrix of ``formula`` (patsy syntax: ``C(x)``, ``a:b``, ``a*b``).

    Categorical terms get treatment coding against their first level, as in R; the
    intercept column is dropped unless ``intercept`` (a Cox model has none).
    """
    rhs = rhs_of(formula)
    names = set(_NAME.findall(rhs))
    for col in data.columns:
        if str(col) in names:
            no_missing(data, str(col), "covariate")
    # Categories without rows (an age group nobody in the cohort is in) would give all-zero
    # columns; R's model frames drop unused levels too.
    unused = [
        c
        for c in data.columns
        if str(c) in names
        and isinstance(data[c].dtype, pd.CategoricalDtype)
        and data[c].nunique() < len(data[c].cat.categories)
    ]
    if unused:
        data = data.assign(**{str(c): data[c].cat.remove_unused_categories() for c in unused})
    # Missing values were checked above in the domain's words; patsy's own check is slow.
    no_na = patsy.NAAction(NA_types=[])
    tokens = [t.strip() for t in rhs.split("+")]
    plain = all(
        t in data.columns
        and pd.api.types.is_numeric_dtype(data[t])
        and not pd.api.types.is_bool_dtype(data[t])
        for t in tokens
    ) and len(set(tokens)) == len(tokens)
    try:
        if plain:
            # Fast path for sums of numeric columns (large cohorts): the design information
            # of numeric columns has no state, so two rows are enough to build it.
            info = patsy.dmatrix("1 + " + rhs, data.iloc[:2], NA_action=no_na).design_info
            # In patsy's column order (the names of plain numeric terms are the columns).
            cols = [c for c in info.column_names if c != "Intercept"]
            m = np.column_stack([np.ones(len(data)), data[cols].to_numpy(dtype=float)])
        else:
            m = patsy.dmatrix("1 + " + rhs, data, NA_action=no_na, return_type="matrix")
            info = m.design_info
    except patsy.PatsyError as err:
        raise EstimationError(f"cannot build the model matrix of {formula!r}: {err}") from None
    bad = ~np.isfinite(np.asarray(m, dtype=float)).all(axis=1)
    if bad.any():
        raise EstimationError(
            f"the model matrix of {formula!r} has {counted(int(bad.sum()), 'row')} with "
            f"missing or infinite values ({rows_text(data, bad)})"
        )
    terms, keep = _formula_order(rhs, info, intercept)
    matrix = np.asarray(m, dtype=float)[:, keep]
    columns = tuple(info.column_names[i] for i in keep)
    term_names = []
    term_columns = []
    for term in terms:
        sl = info.term_slices[term]
        term_names.append(term.name())
        term_columns.append(tuple(keep.index(i) for i in range(sl.start, sl.stop)))
    if matrix.shape[1] == 0:
        raise EstimationError(f"formula {formula!r} has no covariates")
    return Design(
        matrix=matrix,
        columns=columns,
        term_names=tuple(term_names),
        term_columns=tuple(term_columns),
        info=info,
        order=tuple(keep),
    )
