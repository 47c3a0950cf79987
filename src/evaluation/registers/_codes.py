"""Person codes of the register tables as reading found them, offered to the cohorts.

Reading shares the persons' id strings with the other tables by looking each table's ids
up among the persons' in Arrow (``_io._shared_objects``); those positions are the person
codes every cohort step needs (``cohorts.covariates.table_codes``), which would otherwise
hash the ids once more. They are kept for the last few registers read, while the
registers object lives (registers are immutable: frozen, their tables not to be edited).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from evaluation.registers._model import Registers

__all__ = ["codes_read", "remember_codes"]

_READ: dict[int, tuple[Registers, dict[str, np.ndarray]]] = {}
_KEEP = 2


def remember_codes(registers: Registers, codes: dict[str, np.ndarray]) -> Registers:
    """Keep the codes reading found for ``registers`` (the tables' person codes)."""
    if codes:
        while len(_READ) >= _KEEP:
            _READ.pop(next(iter(_READ)))
        _READ[id(registers)] = (registers, codes)
    return registers


def codes_read(registers: Registers, table: str) -> np.ndarray | None:
    """Person codes of ``table`` as reading found them, or None (not read, or not known)."""
    entry = _READ.get(id(registers))
    if entry is None or entry[0] is not registers:
        return None
    return entry[1].get(table)
