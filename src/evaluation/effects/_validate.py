"""Input checks shared by the effect estimators, with messages in the domain's words."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError


def rows_text(index: pd.Index, positions: np.ndarray, limit: int = 5) -> str:
    """The first offending row labels, for error messages."""
    return ", ".join(map(str, index[positions[:limit]]))


def require_columns(data: pd.DataFrame, columns: Sequence[str], *, table: str = "data") -> None:
    """Raise if any of ``columns`` is missing from ``data``."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise EstimationError(
            f"{table} has no column {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(str, data.columns[:20]))}"
        )


def treatment_array(data: pd.DataFrame, treatment: str) -> np.ndarray:
    """The treatment column as a 0/1 int array; anything else is an error."""
    require_columns(data, [treatment])
    col = data[treatment]
    if col.isna().any():
        bad = np.flatnonzero(col.isna().to_numpy())
        raise EstimationError(
            f"column {treatment!r} has {len(bad)} missing values "
            f"(rows {rows_text(data.index, bad)})"
        )
    values = col.to_numpy()
    if values.dtype == bool:
        t = values.astype(np.int64)
    else:
        try:
            t = values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise EstimationError(
                f"column {treatment!r} must be 0/1 or True/False (participant = 1)"
            ) from exc
        bad = np.flatnonzero((t != 0) & (t != 1))
        if len(bad):
            raise EstimationError(
                f"column {treatment!r} must be 0/1 (participant = 1) but has {len(bad)} other "
                f"values (rows {rows_text(data.index, bad)})"
            )
        t = t.astype(np.int64)
    n1 = int(t.sum())
    if n1 == 0 or n1 == len(t):
        raise EstimationError(
            f"column {treatment!r} needs both participants (1) and comparisons (0); "
            f"it has {n1} participants among {len(t)} rows"
        )
    return t


def weights_array(data: pd.DataFrame, weights: str | np.ndarray | pd.Series | None) -> np.ndarray:
    """Weights as a float array (ones if None); negative or missing weights are an error."""
    if weights is None:
        return np.ones(len(data))
    if isinstance(weights, str):
        require_columns(data, [weights])
        w = data[weights].to_numpy(dtype=np.float64)
        name = repr(weights)
    else:
        w = np.asarray(weights, dtype=np.float64)
        name = "weights"
    if len(w) != len(data):
        raise EstimationError(f"{name} has {len(w)} values for {len(data)} rows of data")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        raise EstimationError(
            f"{name} has {len(bad)} missing, infinite or negative values "
            f"(rows {rows_text(data.index, bad)})"
        )
    return w


def ess(w: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2."""
    s2 = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0
