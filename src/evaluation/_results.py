"""Small helpers shared by the frozen result classes."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats


def html_repr(title: str, table: pd.DataFrame, *, notes: list[str] | None = None) -> str:
    """Render a result as a titled HTML table for Jupyter's ``_repr_html_``."""
    parts = [f"<div class='evaluation-result'><strong>{html.escape(title)}</strong>"]
    parts.append(table.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0))
    for note in notes or []:
        parts.append(f"<p><small>{html.escape(note)}</small></p>")
    parts.append("</div>")
    return "".join(parts)


def ratio_table(
    terms: Sequence[str],
    coef: np.ndarray,
    se: np.ndarray,
    *,
    alpha: float,
    ratio: str,
) -> pd.DataFrame:
    """A model's terms with Wald intervals on the ratio scale (ARCHITECTURE.md "Result tables").

    Columns ``term, coef, se, <ratio>, ci_lower, ci_upper, z, p``: ``<ratio>`` is
    ``exp(coef)`` (``hr``, ``or``, ``time_ratio``) and the interval, ``z`` and ``p`` use
    ``se`` (a model with a robust variance then sets ``se`` to the naive standard error and
    inserts the one used as ``robust_se``, as R's summaries show them).

    Examples
    --------
    >>> ratio_table(["x"], np.array([0.0]), np.array([1.0]), alpha=0.05, ratio="hr")["p"].item()
    1.0
    """
    q = stats.norm.ppf(1 - alpha / 2)
    z = coef / se
    table = pd.DataFrame(
        {
            "term": list(terms),
            "coef": coef,
            "se": se,
            ratio: np.exp(coef),
            "ci_lower": np.exp(coef - q * se),
            "ci_upper": np.exp(coef + q * se),
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
        }
    )
    return table
