"""The register data model: schema, reading and writing, validation."""

from evaluation._errors import RegisterError
from evaluation.registers._model import TABLES, Registers

__all__ = ["TABLES", "RegisterError", "Registers"]
