"""Presentation: labels (sv/en), formatting, theme, disclosure control and graphics.

The layer every other one may use and that uses none of them (ARCHITECTURE.md, "Layers"):
the estimators' ``plot()`` methods and the cohorts' Brå table call into it; it knows results
only through their tidy ``plot_data()`` frames and duck-typed attributes, never by import.
``evaluation.report`` assembles the whole report from it.

Names are imported lazily (PEP 562) so that asking for a label does not load matplotlib.
"""

from __future__ import annotations

from evaluation._lazy import lazy_exports

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "SUPPRESSED": "evaluation.presentation.disclosure",
    "SuppressedTable": "evaluation.presentation.disclosure",
    "suppress_small_cells": "evaluation.presentation.disclosure",
    "format_number": "evaluation.presentation.formatting",
    "format_percent": "evaluation.presentation.formatting",
    "label": "evaluation.presentation.labels",
    "value_label": "evaluation.presentation.labels",
    "Finding": "evaluation.presentation.scan",
    "find_disclosures": "evaluation.presentation.scan",
    "Ledger": "evaluation.presentation.ledger",
    "ReportTable": "evaluation.presentation.tables",
    "theme": "evaluation.presentation.theme",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
