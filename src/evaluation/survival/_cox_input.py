"""Input checks and design matrices for the regression models (Cox, AFT, window logistic).

Errors name the column, how many rows and the first offending row labels, so that an
evaluator can find the problem in the cohort table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy

from evaluation._errors import EstimationError


def rows_text(data: pd.DataFrame, mask: np.ndarray | pd.Series, limit: int = 5) -> str:
    """``'rows 4, 17, 90'`` (at most ``limit`` labels, then an ellipsis)."""
    labels = [str(x) for x in data.index[np.asarray(mask, dtype=bool)][: limit + 1]]
    more = ", ..." if len(labels) > limit else ""
    word = "row" if len(labels) == 1 else "rows"
    return f"{word} {', '.join(labels[:limit])}{more}"


def require_columns(data: Any, columns: dict[str, str | Sequence[str] | None]) -> None:
    """Raise if ``data`` is not a DataFrame or lacks any of the named columns."""
    if not isinstance(data, pd.DataFrame):
        raise EstimationError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    missing = []
    for role, cols in columns.items():
        if cols is None:
            continue
        for col in [cols] if isinstance(cols, str) else list(cols):
            if col not in data.columns:
                missing.append(f"{role}={col!r}")
    if missing:
        have = ", ".join(map(str, data.columns))
        raise EstimationError(f"data has no column {', '.join(missing)}; columns are: {have}")


def no_missing(data: pd.DataFrame, column: str) -> None:
    na = data[column].isna().to_numpy()
    if na.any():
        raise EstimationError(
            f"column {column!r} has {int(na.sum())} missing values ({rows_text(data, na)})"
        )


def numeric_column(
    data: pd.DataFrame, column: str, *, minimum: float | None = None, strict: bool = False
) -> np.ndarray:
    """The column as float, after checking it is numeric, complete, finite and in range."""
    no_missing(data, column)
    series = data[column]
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise EstimationError(f"column {column!r} must be numeric, not {series.dtype}")
    values = series.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise EstimationError(
            f"column {column!r} has {int(bad.sum())} infinite values ({rows_text(data, bad)})"
        )
    if minimum is not None:
        bad = values <= minimum if strict else values < minimum
        if bad.any():
            if strict:
                what = f"values <= {minimum:g}"
            else:
                what = "negative values" if minimum == 0 else f"values below {minimum:g}"
            raise EstimationError(
                f"column {column!r} has {int(bad.sum())} {what} ({rows_text(data, bad)})"
            )
    return values


def event_indicator(data: pd.DataFrame, column: str, codes: Sequence[int]) -> np.ndarray:
    """True where the event column holds one of ``codes``; other codes censor."""
    no_missing(data, column)
    series = data[column]
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(int)
    if not pd.api.types.is_numeric_dtype(series):
        raise EstimationError(
            f"column {column!r} must hold integer event codes, not {series.dtype}"
        )
    values = series.to_numpy(dtype=float)
    if (values != np.round(values)).any() or (values < 0).any():
        bad = (values != np.round(values)) | (values < 0)
        raise EstimationError(
            f"column {column!r} has {int(bad.sum())} values that are not event codes "
            f"(non-negative integers; {rows_text(data, bad)})"
        )
    return np.isin(values.astype(np.int64), np.asarray(list(codes), dtype=np.int64))


def group_codes(
    data: pd.DataFrame, columns: str | Sequence[str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer codes 0..G-1 of the combinations of ``columns`` and a table of the labels."""
    cols = [columns] if isinstance(columns, str) else list(columns)
    for col in cols:
        no_missing(data, col)
    if len(cols) == 1:
        codes, uniques = pd.factorize(data[cols[0]], sort=True)
        return codes.astype(np.int64), pd.DataFrame({cols[0]: uniques})
    keys = data[cols].reset_index(drop=True)
    codes = keys.groupby(cols, sort=True, observed=True).ngroup().to_numpy(dtype=np.int64)
    labels = keys.drop_duplicates().assign(_code=codes[~keys.duplicated().to_numpy()])
    labels = labels.sort_values("_code").set_index("_code")
    labels.index.name = None
    return codes, labels


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
            no_missing(data, str(col))
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
            f"the model matrix of {formula!r} has {int(bad.sum())} rows with missing or "
            f"infinite values ({rows_text(data, bad)})"
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
