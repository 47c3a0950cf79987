"""Report layer: theme, labels, formatting, disclosure control, figures, tables, HTML report."""

from evaluation.report.formatting import format_number, format_percent
from evaluation.report.labels import label
from evaluation.report.theme import theme

__all__ = ["format_number", "format_percent", "label", "theme"]
