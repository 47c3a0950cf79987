"""The package's offence-code list: offence codes by law and chapter, and their category.

``offence_codes.csv`` (shipped with the package) lists codes of the form ``BrB 3`` (a whole
chapter of Brottsbalken, SFS 1962:700), ``BrB 8:5`` (one section: chapter 8, section 5) and
the special laws (``NSL``: narkotikastrafflagen, SFS 1968:64; ``VapL``: vapenlagen, SFS
1996:67; ``KnivL``: knivlagen, SFS 1988:254; ``LBE``: the act on flammable and explosive
goods, SFS 2010:1011; ``SmugL``: the smuggling act, SFS 2000:1225; ``TBL``: the road traffic
offences act, SFS 1951:649), each with its category (violence, weapons, drugs, property,
other), a description and its source (the SFS number and its page on lagen.nu). Used with
``match = "prefix"``, the longest listed code that an offence's code starts with decides:
``BrB 8:5`` (robbery) is violence although chapter 8 (``BrB 8``) is property.

The categories follow the chapters: offences against life, health, liberty and peace and
sexual offences (chapters 3, 4 and 6) and robbery, violence or threats against public
officials and witnesses (8:5-6, 17:1, 17:10) are violence; chapters 8-12 property; the
drug laws drugs; the weapons, knife and explosives laws weapons; everything else other.
The codes are this package's notation: an extract that writes them otherwise
(``3 kap. 5 § BrB``, Brå's numeric codes) needs its own code list in the mapping (a CSV
file with the columns ``code`` and ``category``), which may start from this one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["OFFENCE_CODES", "offence_codes"]

#: The shipped offence-code list (columns code, category, description, source).
OFFENCE_CODES: Path = Path(__file__).resolve().parent / "offence_codes.csv"


def offence_codes() -> pd.DataFrame:
    """The package's offence-code list (see the module's description).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``category``, ``description``, ``source``.

    Examples
    --------
    >>> codes = offence_codes()
    >>> by_code = codes.set_index("code")["category"]
    >>> by_code[["BrB 3", "BrB 8", "BrB 8:5", "NSL", "VapL"]].tolist()
    ['violence', 'property', 'violence', 'drugs', 'weapons']
    """
    return pd.read_csv(OFFENCE_CODES, dtype=str, keep_default_na=False)
