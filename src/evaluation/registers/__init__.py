"""The register data model: schema, reading and writing, validation.

:class:`Registers` holds the five register tables (persons, programme, offences,
custody, exits) and the study window; ``Registers.read`` and ``Registers.write`` move them
to and from a folder of CSV or Parquet files, and ``Registers.validate`` reports every
problem at once as a :class:`RegisterError` whose ``.problems`` lists them.
"""

from evaluation._errors import RegisterError
from evaluation.registers._default import load_synthetic
from evaluation.registers._model import TABLES, Registers

__all__ = ["TABLES", "RegisterError", "Registers", "load_synthetic"]
