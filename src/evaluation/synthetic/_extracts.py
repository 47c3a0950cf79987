"""Registers written back as a raw extract: Swedish column names, raw codes, the usual formats.

The inverse of the example mapping (``evaluation.registers.extract.example_mapping_path``):
importing what :func:`write_source_extract` writes with that mapping gives the registers
back exactly. It is how the import is tested in every format, and how a user can try the
import (and the pseudonymisation) without real data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.registers import Registers
from evaluation.registers.extract import write_source

__all__ = ["EXTRACT_FORMATS", "write_source_extract"]

#: The formats of :func:`write_source_extract` (SAS is written as transport files, .xpt).
EXTRACT_FORMATS: tuple[str, ...] = ("dta", "sav", "xpt", "xlsx", "csv", "parquet")

#: SCB's municipality codes (kommunkod); persons in ``other`` get other real codes in turn.
KOMMUNKOD: dict[str, str] = {
    "Botkyrka": "0127",
    "Stockholm": "0180",
    "Malmö": "1280",
    "Göteborg": "1480",
    "Uppsala": "0380",
    "Landskrona": "1282",
    "Örebro": "1880",
    "Borlänge": "2081",
    "Borås": "1490",
}
OTHER_KOMMUNKOD: tuple[str, ...] = ("0114", "0580", "1281", "2480", "0680")

#: Offence codes of the package's list (``BrB 3:5``: Brottsbalken 3 kap. 5 §), in turn.
OFFENCE_CODE: dict[str, tuple[str, ...]] = {
    "violence": ("BrB 3:5", "BrB 4:5", "BrB 3:6", "BrB 8:5", "BrB 17:10"),
    "weapons": ("VapL 9:1", "KnivL 4", "LBE 29"),
    "drugs": ("NSL 1", "NSL 2", "NSL 3", "SmugL 6"),
    "property": ("BrB 8:1", "BrB 8:4", "BrB 9:1", "BrB 12:1"),
    "other": ("TBL 3", "BrB 14:1", "BrB 16:2", "BrB 17:4"),
}
#: The sanction codes of the example layout (huvudpåföljd) and their value labels.
PAFOLJD: dict[str, tuple[int, ...]] = {
    "prison": (1,),
    "youth_care": (2,),
    "probation": (3, 4),
    "other": (5, 6, 10, 11),
    "fine": (7, 8),
    "waiver": (9,),
}
PAFOLJD_LABELS: dict[int, str] = {
    1: "Fängelse",
    2: "Sluten ungdomsvård",
    3: "Skyddstillsyn",
    4: "Villkorlig dom",
    5: "Ungdomsvård",
    6: "Ungdomstjänst",
    7: "Böter",
    8: "Strafföreläggande",
    9: "Åtalsunderlåtelse",
    10: "Rättspsykiatrisk vård",
    11: "Överlämnande till annan vård",
}
KON: dict[str, int] = {"M": 1, "F": 2}
KON_LABELS: dict[int, str] = {1: "Man", 2: "Kvinna"}
ANKNYTNING: dict[str, int] = {"gang": 1, "network": 2, "peripheral": 3}
ANKNYTNING_LABELS: dict[int, str] = {1: "Gäng", 2: "Nätverk", 3: "Periferi"}
PLACERING: dict[str, str] = {"remand": "H", "prison": "A"}
REMISS: dict[str, str] = {
    "police": "Polis",
    "social_services": "Socialtjänst",
    "prison_service": "Kriminalvården",
    "self": "Egen",
    "other": "Annan",
}
AVSLUT: dict[str, str] = {
    "completed": "Fullföljt",
    "dropped_out": "Avbrutet",
    "moved": "Flyttat",
    "died": "Avliden",
    "ongoing": "Pågående",
}


def write_source_extract(
    registers: Registers | Any,
    folder: str | Path,
    *,
    format: str = "dta",  # noqa: A002 (as Registers.write)
    identity_numbers: bool = False,
) -> Path:
    """Write registers as a raw extract, the layout the example mapping reads.

    Five files: ``befolkning`` (the population register: ``LopNr``, ``Kon`` 1/2, ``FodDat``,
    ``Kommun`` as SCB's municipality code, ``Anknytning`` 1-3, ``DodDatum``, ``UtvDatum``:
    one source for persons and exits), ``lagforingar`` (Brå: ``BrottNr``, ``Brottsdatum``
    and ``Lagforingsdatum`` as numbers ``YYYYMMDD``, ``Brottskod`` such as ``BrB 3:5``,
    ``Pafoljd`` 1-11), ``kriminalvarden`` (``Inskrivningsdatum``, ``Utskrivningsdatum``,
    ``Placering`` H/A: remand and prison), ``sis`` (closed youth care: ``Startdatum``,
    ``Slutdatum``) and the municipality's ``program.xlsx`` (sheet ``Insatser``: ``Arende``,
    ``Kommun``, ``Remiss``, ``Kontaktdatum``, ``Startdatum``, ``Slutdatum``, ``Avslut`` in
    Swedish words). Stata and SPSS files carry value labels for ``Kon``, ``Anknytning``
    and ``Pafoljd``.

    Parameters
    ----------
    registers
        Registers whose ids are running numbers with a letter (``P000017``, ``O0000003``),
        as the synthetic registers' are; or a ``SimulatedRegisters``.
    folder
        Created if needed.
    format
        ``"dta"`` (Stata), ``"sav"`` (SPSS), ``"xpt"`` (SAS transport: pyreadstat cannot
        write ``.sas7bdat``), ``"xlsx"``, ``"csv"`` or ``"parquet"``, for every file but the
        programme sheet, which is always Excel.
    identity_numbers
        Write a column ``PersonNr`` of made-up personal identity numbers (from the birth
        dates, birth numbers 900-999, a valid check digit; in a different written form in
        each file) instead of ``LopNr``, as an extract that must be pseudonymised before
        import. They are made up but valid in form, so a real person may have one:
        write them only into a temporary folder, never into a repository.

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> from evaluation.registers._examples import tiny_registers
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sorted(p.name for p in write_source_extract(tiny_registers(), folder).iterdir())
    ['befolkning.dta', 'kriminalvarden.dta', 'lagforingar.dta', 'program.xlsx', 'sis.dta']
    """
    regs: Registers = getattr(registers, "registers", registers)
    if format not in EXTRACT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXTRACT_FORMATS)}, not {format!r}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    person = _PersonColumn(regs.persons, identity_numbers)
    persons, exits = regs.persons, regs.exits
    death = exits.loc[exits["reason"] == "death"].set_index("person_id")["date"]
    emigration = exits.loc[exits["reason"] == "emigration"].set_index("person_id")["date"]
    affiliation = (
        persons["affiliation"]
        if "affiliation" in persons.columns
        else pd.Series(None, index=persons.index)
    )
    befolkning = pd.DataFrame(
        {
            **person.column(persons["person_id"], form=0),
            "Kon": persons["sex"].map(KON).astype("int64"),
            "FodDat": _dates(persons["birth_date"]),
            "Kommun": _kommun(persons["municipality"]),
            "Anknytning": affiliation.map(ANKNYTNING).astype("float64"),
            "DodDatum": _dates(persons["person_id"].map(death)),
            "UtvDatum": _dates(persons["person_id"].map(emigration)),
        }
    )
    offences = regs.offences
    lagforingar = pd.DataFrame(
        {
            **person.column(offences["person_id"], form=1),
            "BrottNr": _number(offences["offence_id"], "O"),
            "Brottsdatum": _yyyymmdd(offences["offence_date"]),
            "Lagforingsdatum": _yyyymmdd(offences["decision_date"]),
            "Brottskod": _cycle(offences["category"], OFFENCE_CODE),
            "Pafoljd": _cycle(offences["sanction"], PAFOLJD).astype("int64"),
        }
    )
    custody = regs.custody
    adult = custody["kind"].isin(list(PLACERING))
    prison = custody.loc[adult]
    kriminalvarden = pd.DataFrame(
        {
            **person.column(prison["person_id"], form=2),
            "Inskrivningsdatum": _dates(prison["start_date"]),
            "Utskrivningsdatum": _dates(prison["end_date"]),
            "Placering": prison["kind"].map(PLACERING).to_numpy(dtype=object),
        }
    )
    youth = custody.loc[~adult]
    sis = pd.DataFrame(
        {
            **person.column(youth["person_id"], form=3),
            "Startdatum": _dates(youth["start_date"]),
            "Slutdatum": _dates(youth["end_date"]),
        }
    )
    programme = regs.programme
    program = pd.DataFrame(
        {
            "Arende": programme["episode_id"].to_numpy(dtype=object),
            **person.column(programme["person_id"], form=4),
            "Kommun": _kommun(programme["municipality"]),
            "Remiss": programme["referral"].map(REMISS).to_numpy(dtype=object),
            "Kontaktdatum": _dates(programme["contact_date"]),
            "Startdatum": _dates(programme["start_date"]),
            "Slutdatum": _dates(programme["end_date"]),
            "Avslut": programme["exit_reason"].map(AVSLUT).to_numpy(dtype=object),
        }
    )
    labels: dict[str, dict[Any, str]] = {
        "Kon": dict(KON_LABELS),
        "Anknytning": dict(ANKNYTNING_LABELS),
        "Pafoljd": dict(PAFOLJD_LABELS),
    }
    for name, frame in (
        ("befolkning", befolkning),
        ("lagforingar", lagforingar),
        ("kriminalvarden", kriminalvarden),
        ("sis", sis),
    ):
        write_source(frame.reset_index(drop=True), out / f"{name}.{format}", labels=labels)
    write_source({"Insatser": program}, out / "program.xlsx")
    return out


class _PersonColumn:
    """The person column of every file: LopNr (the running number) or made-up PersonNr."""

    def __init__(self, persons: pd.DataFrame, identity_numbers: bool) -> None:
        self.identity_numbers = identity_numbers
        if identity_numbers:
            self.digits = _identity_digits(persons)

    def column(self, ids: pd.Series, *, form: int) -> dict[str, Any]:
        if not self.identity_numbers:
            return {"LopNr": _number(ids, "P")}
        digits = ids.map(self.digits)
        written = {
            0: lambda d: f"{d[:8]}-{d[8:]}",  # 19811218-9876
            1: lambda d: f"{d[2:8]}-{d[8:]}",  # 811218-9876
            2: lambda d: d,  # 198112189876
            3: lambda d: d[2:],  # 8112189876
            4: lambda d: f"{d[:8]} {d[8:]}",  # 19811218 9876
        }[form]
        return {"PersonNr": digits.map(written).to_numpy(dtype=object)}


def _identity_digits(persons: pd.DataFrame) -> dict[str, str]:
    """Made-up 12-digit personal identity numbers, unique per person, with check digits."""
    birth = persons["birth_date"].dt.strftime("%Y%m%d")
    rank = persons.groupby([birth, persons["sex"]]).cumcount().to_numpy()
    if rank.max(initial=0) >= 50:
        raise ValueError("more than 50 persons of one sex share a birth date")
    male = (persons["sex"] == "M").to_numpy()
    serial = 900 + 2 * rank + male  # the ninth digit is odd for men
    numbers = {}
    for pid, day, number in zip(persons["person_id"], birth, serial, strict=True):
        nine = f"{day[2:]}{number:03d}"
        numbers[pid] = f"{day}{number:03d}{_luhn_digit(nine)}"
    return numbers


def _luhn_digit(nine: str) -> int:
    total = 0
    for i, c in enumerate(nine):
        product = int(c) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _number(ids: pd.Series, prefix: str) -> np.ndarray:
    """The running number of ids such as P000017 (17)."""
    text = ids.astype(str)
    if not text.str.fullmatch(rf"{prefix}\d+").all():
        raise ValueError(f"ids must be {prefix} followed by digits, as the synthetic registers'")
    return text.str[len(prefix) :].astype("int64").to_numpy()


def _dates(values: pd.Series) -> np.ndarray:
    """Dates as Python dates (what the statistical formats store as dates), None if empty."""
    return np.array(
        [None if pd.isna(v) else dt.date(v.year, v.month, v.day) for v in values], dtype=object
    )


def _yyyymmdd(values: pd.Series) -> np.ndarray:
    return values.dt.strftime("%Y%m%d").astype("int64").to_numpy()


def _kommun(names: pd.Series) -> np.ndarray:
    other = np.array(OTHER_KOMMUNKOD, dtype=object)[np.arange(len(names)) % len(OTHER_KOMMUNKOD)]
    codes = names.map(KOMMUNKOD).to_numpy(dtype=object)
    return np.where(pd.isna(codes), other, codes)


def _cycle(categories: pd.Series, codes: dict[str, tuple[Any, ...]]) -> np.ndarray:
    """For each row, the next code of its category (deterministic: the row's rank within it)."""
    rank = categories.groupby(categories).cumcount().to_numpy()
    return np.array(
        [codes[c][r % len(codes[c])] for c, r in zip(categories, rank, strict=True)],
        dtype=object,
    )
