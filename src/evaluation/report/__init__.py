"""Report layer: assembly of the whole report (sections, the HTML page, exports, the audit).

Nothing in the package imports it but the command line. The presentation names of the public
API (``theme``, ``suppress_small_cells``, ...) are re-exported from
:mod:`evaluation.presentation`, lazily (PEP 562), so that ``evaluation.report.theme`` keeps
working without loading jinja2 and the HTML builder.
"""

from __future__ import annotations

from evaluation._lazy import lazy_exports

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "REPORT_SEED": "evaluation.report._analysis_sections",
    "ReportAudit": "evaluation.report.audit",
    "audit_report": "evaluation.report.audit",
    "build_report": "evaluation.report.build",
    "SUPPRESSED": "evaluation.presentation.disclosure",
    "SuppressedTable": "evaluation.presentation.disclosure",
    "suppress_small_cells": "evaluation.presentation.disclosure",
    "format_number": "evaluation.presentation.formatting",
    "format_percent": "evaluation.presentation.formatting",
    "label": "evaluation.presentation.labels",
    "Finding": "evaluation.presentation.scan",
    "find_disclosures": "evaluation.presentation.scan",
    "ReportTable": "evaluation.presentation.tables",
    "theme": "evaluation.presentation.theme",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
