"""Report layer: assembly of the whole report (sections, the HTML page, exports, the audit).

Nothing in the package imports it but the command line. The presentation names of the public
API (``theme``, ``suppress_small_cells``, ...) are re-exported from
:mod:`evaluation.presentation`, lazily (PEP 562), so that ``evaluation.report.theme`` keeps
working without loading jinja2 and the HTML builder.
"""

from __future__ import annotations

from evaluation._lazy import lazy_exports
from evaluation.presentation import _LAZY as _PRESENTATION

#: Public name -> module that defines it: the report's own names, and the presentation
#: names of the public API re-exported (``evaluation.report.theme`` and the like).
_LAZY: dict[str, str] = {
    "REPORT_SEED": "evaluation.report._analysis_sections",
    "ReportAudit": "evaluation.report.audit",
    "audit_report": "evaluation.report.audit",
    "build_report": "evaluation.report.build",
    **_PRESENTATION,
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
