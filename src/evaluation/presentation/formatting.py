"""Number formatting for reports: decimal comma and space as thousands separator in Swedish."""

from __future__ import annotations

import math

from evaluation.presentation.labels import check_lang

NBSP = "\u00a0"


def format_number(value: float | int | None, lang: str = "sv", *, decimals: int = 0) -> str:
    """Format a number for a report table.

    Swedish output uses a decimal comma and a (non-breaking) space between thousands;
    English uses a point and a comma. Missing values become an en dash.

    Examples
    --------
    >>> format_number(12345.678, "sv", decimals=1)
    '12\\xa0345,7'
    >>> format_number(12345.678, "en", decimals=1)
    '12,345.7'
    >>> format_number(None)
    '–'
    """
    check_lang(lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "sv":
        text = text.replace(",", NBSP).replace(".", ",")
    return text.replace("-", "−") if text.startswith("-") else text


def format_percent(share: float | None, lang: str = "sv", *, decimals: int = 0) -> str:
    """Format a share in [0, 1] as a percentage: whole numbers by default, as Brå does.

    Examples
    --------
    >>> format_percent(0.254)
    '25'
    >>> format_percent(0.2546, "sv", decimals=1)
    '25,5'
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return format_number(100.0 * share, lang, decimals=decimals)
