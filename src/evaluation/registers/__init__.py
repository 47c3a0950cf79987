"""The register data model: schema, reading and writing, validation.

:class:`Registers` holds the five register tables (persons, programme, offences,
custody, exits) and the study window; ``Registers.read`` and ``Registers.write`` move them
to and from a folder of CSV or Parquet files, and ``Registers.validate`` reports every
problem at once as a :class:`RegisterError` whose ``.problems`` lists them.
"""

from evaluation._errors import RegisterError
from evaluation.registers._codes import codes_read
from evaluation.registers._default import load_synthetic, synthetic_dir
from evaluation.registers._model import TABLES, Registers
from evaluation.registers._partitioned import PartitionedRegisters, partition_of
from evaluation.registers._rules import MIN_AGE, offences_before_age, under_age_message
from evaluation.registers._schema import (
    AFFILIATIONS,
    MUNICIPALITIES,
    OFFENCE_CATEGORIES,
    REFERRALS,
    SANCTIONS,
)

# The schema's categories and the age rule are public for the layers above (synthetic
# registers are drawn from the same categories; cohorts apply the same age rule), and so
# are the person codes reading found (cohorts look ids up with them).
__all__ = [
    "AFFILIATIONS",
    "MIN_AGE",
    "MUNICIPALITIES",
    "OFFENCE_CATEGORIES",
    "PartitionedRegisters",
    "REFERRALS",
    "SANCTIONS",
    "TABLES",
    "codes_read",
    "RegisterError",
    "Registers",
    "load_synthetic",
    "offences_before_age",
    "partition_of",
    "synthetic_dir",
    "under_age_message",
]
