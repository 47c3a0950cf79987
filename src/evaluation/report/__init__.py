"""Report layer: theme, labels, formatting, disclosure control, figures, tables, HTML report."""

from evaluation.report._analysis_sections import REPORT_SEED
from evaluation.report.audit import ReportAudit, audit_report
from evaluation.report.build import build_report
from evaluation.report.disclosure import SUPPRESSED, SuppressedTable, suppress_small_cells
from evaluation.report.formatting import format_number, format_percent
from evaluation.report.labels import label
from evaluation.report.scan import Finding, find_disclosures
from evaluation.report.tables import ReportTable
from evaluation.report.theme import theme

__all__ = [
    "REPORT_SEED",
    "SUPPRESSED",
    "Finding",
    "ReportAudit",
    "audit_report",
    "ReportTable",
    "SuppressedTable",
    "build_report",
    "find_disclosures",
    "format_number",
    "format_percent",
    "label",
    "suppress_small_cells",
    "theme",
]
