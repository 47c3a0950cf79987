"""The one label table: every word a table or figure shows, in Swedish and English.

Labels live in ``labels.csv`` beside this module (columns ``key``, ``sv``, ``en``) so that
translators edit one file. Add rows there; never hard-code a label in a plotting function.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

LANGS: tuple[str, ...] = ("sv", "en")


@cache
def label_table() -> pd.DataFrame:
    """Return the label table, indexed by ``key`` with one column per language."""
    with (
        resources.files("evaluation.presentation")
        .joinpath("labels.csv")
        .open(encoding="utf-8") as f
    ):
        table = pd.read_csv(f, dtype=str, keep_default_na=False)
    duplicated = table["key"][table["key"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"labels.csv has duplicate keys: {', '.join(duplicated)}")
    return table.set_index("key")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise a clear ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def label(key: str, lang: str = "sv", /, **fields: object) -> str:
    """Return the label for ``key`` in ``lang``, with ``{placeholders}`` filled from ``fields``.

    Examples
    --------
    >>> label("women", "sv")
    'Kvinnor'
    >>> label("suppressed", "en", min_cell=5)
    'Suppressed (fewer than 5)'
    """
    check_lang(lang)
    table = label_table()
    if key not in table.index:
        raise KeyError(
            f"no label {key!r} in labels.csv; add a row with its Swedish and English text"
        )
    text = str(table.at[key, lang])
    return text.format(**fields) if fields else text


def has_label(key: str) -> bool:
    """Whether the label table has ``key``."""
    return key in label_table().index


#: Category codes whose label-table key differs from the code itself.
_VALUE_KEYS: dict[str, str] = {"F": "women", "M": "men"}


def value_label(value: object, lang: str = "sv") -> str:
    """A category value in words (sex codes, groups), or the value itself when unknown.

    The value is looked up as it is, through the codes above, in lower case with ``-`` as
    ``_``, and as a plural (``participant`` finds ``participants``).

    Examples
    --------
    >>> value_label("M"), value_label("participant", "en"), value_label("Malmö")
    ('Män', 'Participants', 'Malmö')
    """
    text = str(value)
    base = text.replace("-", "_").lower()
    for key in (_VALUE_KEYS.get(text, ""), text, base, base + "s"):
        if key and has_label(key):
            return label(key, lang)
    return text
