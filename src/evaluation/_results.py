"""Small helpers shared by the frozen result classes."""

from __future__ import annotations

import html

import pandas as pd


def html_repr(title: str, table: pd.DataFrame, *, notes: list[str] | None = None) -> str:
    """Render a result as a titled HTML table for Jupyter's ``_repr_html_``."""
    parts = [f"<div class='evaluation-result'><strong>{html.escape(title)}</strong>"]
    parts.append(table.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0))
    for note in notes or []:
        parts.append(f"<p><small>{html.escape(note)}</small></p>")
    parts.append("</div>")
    return "".join(parts)
