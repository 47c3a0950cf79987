"""Defaults shared by every layer, so that one number is set in one place.

This module imports nothing from the package: registers, cohorts, the estimators and the
report all read their defaults from here (ARCHITECTURE.md, "Layers").
"""

from __future__ import annotations

#: Smallest count that may be published: counts from 1 to ``DEFAULT_MIN_CELL - 1`` are
#: protected in tables, figures and sentences (Brå and SCB's usual rule of five).
DEFAULT_MIN_CELL = 5
