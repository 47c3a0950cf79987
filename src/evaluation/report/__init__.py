"""Report layer: theme, labels, formatting, disclosure control, figures, tables, HTML report.

Names are imported lazily (PEP 562): the cohorts' Brå table needs the labels and the
disclosure rules, and importing those must not load matplotlib, jinja2 and the HTML builder.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "REPORT_SEED": "evaluation.report._analysis_sections",
    "ReportAudit": "evaluation.report.audit",
    "audit_report": "evaluation.report.audit",
    "build_report": "evaluation.report.build",
    "SUPPRESSED": "evaluation.report.disclosure",
    "SuppressedTable": "evaluation.report.disclosure",
    "suppress_small_cells": "evaluation.report.disclosure",
    "format_number": "evaluation.report.formatting",
    "format_percent": "evaluation.report.formatting",
    "label": "evaluation.report.labels",
    "Finding": "evaluation.report.scan",
    "find_disclosures": "evaluation.report.scan",
    "ReportTable": "evaluation.report.tables",
    "theme": "evaluation.report.theme",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'evaluation.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
