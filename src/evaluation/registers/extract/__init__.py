"""Register extracts as they arrive: SAS, Stata, SPSS, Excel and CSV/Parquet sources mapped
to the five register tables, and personal identity numbers replaced by keyed pseudonyms.

Importing (``evaluation import``): a TOML mapping (:mod:`.mapping`) says which source
table feeds which register table, how columns are renamed, dates parsed and codes turned
into the package's categories (:mod:`.codes` holds the offence-code list, by law and
chapter, with sources). :func:`import_extract` applies it and accounts for every source
row (written, refused with its reason, or not selected); :func:`write_import` writes the
registers (Parquet) and the import report (:mod:`.report`). The example mapping
(:func:`example_mapping_path`) reads the layout that
:func:`evaluation.synthetic.write_source_extract` writes.

Pseudonymising (``evaluation pseudonymise``, :mod:`.pseudonym`): personal identity
numbers in any written form become HMAC-SHA-256 pseudonyms under a secret key, the same
for the same person in every table and run; invalid numbers are refused by row number.

This is part of the registers layer (ARCHITECTURE.md): it imports only the registers and
the package's errors.
"""

from pathlib import Path

from evaluation.registers.extract.codes import OFFENCE_CODES, offence_codes
from evaluation.registers.extract.importer import ImportResult, import_extract
from evaluation.registers.extract.mapping import Mapping, read_mapping
from evaluation.registers.extract.pseudonym import (
    Pseudonymiser,
    PseudonymResult,
    pseudonymise_files,
    read_key,
)
from evaluation.registers.extract.report import write_import
from evaluation.registers.extract.sources import read_source, write_source

__all__ = [
    "OFFENCE_CODES",
    "ImportResult",
    "Mapping",
    "PseudonymResult",
    "Pseudonymiser",
    "example_mapping_path",
    "import_extract",
    "offence_codes",
    "pseudonymise_files",
    "read_key",
    "read_mapping",
    "read_source",
    "write_import",
    "write_source",
]


def example_mapping_path() -> Path:
    """The shipped example mapping (``example_mapping.toml``): copy it and adapt it.

    Examples
    --------
    >>> example_mapping_path().name
    'example_mapping.toml'
    """
    return Path(__file__).resolve().parent / "example_mapping.toml"
