"""Keyed pseudonyms: one pseudonym per number in every written form, refusal of invalid
numbers by row, and a scan of everything written and printed for the key and the numbers."""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from evaluation import ExtractError, cli

# kernel test: the register validation's personal-number detector, applied to pseudonyms
from evaluation.registers._pnr import looks_like_personnummer
from evaluation.registers.extract import (
    Pseudonymiser,
    example_mapping_path,
    import_extract,
    read_key,
    read_source,
)
from evaluation.synthetic import SimulationConfig, simulate_registers, write_source_extract

# no public name: the generator's identity numbers and check digit, to build valid inputs
from evaluation.synthetic._extracts import _identity_digits, _luhn_digit
from registers_helpers import tiny_registers

KEY = b"test-key-0123456789abcdef-not-secret"
REF = dt.date(2025, 12, 31)


def _number(yymmdd: str, serial: str) -> str:
    """A 10-digit number with its check digit."""
    return f"{yymmdd}{serial}{_luhn_digit(yymmdd + serial)}"


def _forms(twelve: str) -> list[str]:
    """Every written form of a 12-digit number that the tests look for in outputs."""
    ten = twelve[2:]
    return [
        twelve,
        ten,
        f"{twelve[:8]}-{twelve[8:]}",
        f"{ten[:6]}-{ten[6:]}",
        f"{twelve[:8]} {twelve[8:]}",
        f"{ten[:6]} {ten[6:]}",
        f"{ten[:6]}+{ten[6:]}",
    ]


@pytest.fixture
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(KEY, reference_date=REF)


def test_every_written_form_gives_the_same_pseudonym(pseudonymiser):
    ten = _number("811218", "987")
    twelve = "19" + ten
    forms = [
        twelve,
        ten,
        f"{ten[:6]}-{ten[6:]}",
        f" {twelve[:8]} {twelve[8:]} ",
        f"PNR: {twelve[:8]}–{twelve[8:]}",  # a label and an en dash
        "".join(chr(0xFF10 + int(c)) for c in ten),  # full-width digits
        int(twelve),
        float(twelve),  # Stata and SPSS store numbers as doubles
    ]
    pseudonyms = {pseudonymiser.pseudonym_of(form) for form in forms}
    assert len(pseudonyms) == 1
    # The same key in another run gives the same pseudonym; another key another one.
    again = Pseudonymiser(KEY, reference_date=dt.date(2030, 1, 1)).pseudonym_of(twelve)
    other = Pseudonymiser(KEY + b"x", reference_date=REF).pseudonym_of(twelve)
    assert pseudonyms == {again} and other not in pseudonyms


def test_century_of_ten_digits_from_the_reference_date_and_plus(pseudonymiser):
    young = _number("051218", "123")
    assert pseudonymiser.normalise(young)[0] == "20" + young
    assert pseudonymiser.normalise(f"{young[:6]}+{young[6:]}")[0] == "19" + young
    old = _number("991218", "123")
    assert pseudonymiser.normalise(old)[0] == "19" + old
    assert pseudonymiser.normalise(f"{old[:6]}+{old[6:]}")[0] == "18" + old
    # Born a day after the reference date in this century: must be the last century.
    late = _number("260101", "123")
    assert pseudonymiser.normalise(late)[0] == "19" + late
    # A leading zero lost in a numeric column comes back.
    assert pseudonymiser.normalise(int(young))[0] == "20" + young


def test_coordination_numbers_are_accepted(pseudonymiser):
    number = _number("811278", "987")  # day 18 + 60
    assert pseudonymiser.normalise(number) == ("19" + number, None)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("811218-9875", "wrong check digit"),
        (_number("811318", "987"), "not a date"),
        ("12345", "not written as a personal identity number (10 or 12 digits)"),
        ("P000001", "not written as a personal identity number (10 or 12 digits)"),
        ("21" + _number("811218", "987"), "a century other than 18, 19 or 20"),
        (dt.date(2015, 1, 1), "not text or a whole number"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(pseudonymiser, value, reason):
    assert pseudonymiser.normalise(value) == (None, reason)


def test_pseudonym_is_a_valid_person_id_that_does_not_look_like_a_number(pseudonymiser):
    numbers = [_number(f"{y:02d}0101", f"{s:03d}") for y in range(80, 99) for s in (1, 2, 3)]
    pseudonyms = pd.Series([pseudonymiser.pseudonym_of(n) for n in numbers])
    assert pseudonyms.str.fullmatch(r"H[0-9a-f]{20}").all() and pseudonyms.is_unique
    assert not looks_like_personnummer(pseudonyms).any()
    regs = tiny_registers()
    renamed = dict(zip(regs.persons["person_id"], pseudonyms, strict=False))
    tables = {
        name: regs.table(name).assign(person_id=regs.table(name)["person_id"].map(renamed))
        for name in ("persons", "programme", "offences", "custody", "exits")
    }
    assert tiny_registers(**tables).problems() == []


def test_key_is_read_from_a_file_or_variable_and_never_shown(tmp_path, monkeypatch):
    file = tmp_path / "key.txt"
    file.write_bytes(KEY + b"\n")
    assert read_key(key_file=file) == KEY
    monkeypatch.setenv("EXTRACT_TEST_KEY", KEY.decode())
    assert read_key(key_env="EXTRACT_TEST_KEY") == KEY
    file.write_bytes(b"short-key")
    with pytest.raises(ExtractError) as err:
        read_key(key_file=file)
    assert "short-key" not in str(err.value)
    with pytest.raises(ExtractError, match="EXTRACT_MISSING is not set"):
        read_key(key_env="EXTRACT_MISSING")
    p = Pseudonymiser(KEY, reference_date=REF)
    assert KEY.decode() not in repr(p) and KEY.decode() not in str(p)
    with pytest.raises(TypeError):
        pickle.dumps(p)


# -- the commands, and everything they write ---------------------------------------------


@pytest.fixture(scope="module")
def small():
    config = SimulationConfig(n_persons=60, bra_monte_carlo_persons=60)
    return simulate_registers(config, rng=4).registers


def _texts(path: Path) -> list[str]:
    """Everything a file holds, as text: its bytes, the members of a zip (xlsx), its cells."""
    data = path.read_bytes()
    texts = [data.decode("latin-1")]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            texts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    if path.suffix in (".dta", ".sav", ".xpt", ".parquet", ".csv", ".xlsx"):
        table = read_source(path)
        texts.append(table.frame.to_csv(index=False))
        texts.append(repr(table.labels))
    return texts


def test_nothing_written_or_printed_holds_the_key_or_a_number(
    small, tmp_path, monkeypatch, capsys, caplog
):
    caplog.set_level(logging.DEBUG)  # every log record of every library, too
    raw, pseudo, regs = tmp_path / "raw", tmp_path / "pseudo", tmp_path / "regs"
    write_source_extract(small, raw, format="dta", identity_numbers=True)
    numbers = list(_identity_digits(small.persons).values())
    # One number with a wrong check digit in the programme sheet: refused, left empty.
    sheet = pd.read_excel(raw / "program.xlsx", sheet_name=None, dtype=object)
    program = sheet["Insatser"]
    bad = program.loc[0, "PersonNr"][:-1] + str((int(program.loc[0, "PersonNr"][-1]) + 1) % 10)
    program.loc[0, "PersonNr"] = bad
    with pd.ExcelWriter(raw / "program.xlsx") as writer:
        program.to_excel(writer, sheet_name="Insatser", index=False)
    monkeypatch.setenv("EXTRACT_TEST_KEY", KEY.decode())
    code = cli.main(
        ["pseudonymise", "--in", str(raw), "--mapping", str(example_mapping_path()), "--key-env",
         "EXTRACT_TEST_KEY", "--out", str(pseudo), "--reference-date", "2025-12-31"]
    )  # fmt: skip
    assert code == 1  # a number was refused
    report = (pseudo / "pseudonymise_report.json").read_text(encoding="utf-8")
    assert '"row": 1' in report and "wrong check digit" in report
    code = cli.main(
        ["import", "--mapping", str(example_mapping_path()), "--sources", str(pseudo),
         "--out", str(regs), "--allow-refused"]
    )  # fmt: skip
    assert code == 0
    result = import_extract(example_mapping_path(), pseudo)
    assert result.refused[["table", "row", "reason"]].values.tolist() == [
        ["programme", 1, "PersonNr is empty"]
    ]
    # Every person links across the tables by its pseudonym.
    assert result.summary()["written"].tolist()[0] == len(small.persons)
    assert len(result.registers.offences) == len(small.offences)
    printed = capsys.readouterr()
    secrets = {KEY.decode(), KEY.hex()} | {form for n in numbers for form in _forms(n)}
    secrets |= set(_forms("19" + bad[2:] if len(bad) == 10 else bad.replace(" ", "")))
    files = [p for folder in (pseudo, regs) for p in sorted(folder.iterdir())]
    assert len(files) >= 12
    haystacks = {"stdout": printed.out, "stderr": printed.err, "log": caplog.text}
    for file in files:
        for i, text in enumerate(_texts(file)):
            haystacks[f"{file.name}#{i}"] = text
    for where, text in haystacks.items():
        found = [s for s in secrets if s in text]
        assert not found, f"{where} holds a secret"


def test_a_file_with_numbers_in_an_unnamed_column_is_not_written(
    small, tmp_path, monkeypatch, capsys
):
    raw = tmp_path / "raw"
    write_source_extract(small, raw, format="csv", identity_numbers=True)
    frame = pd.read_csv(raw / "kriminalvarden.csv", dtype=str, keep_default_na=False)
    frame["Kontakt"] = frame["PersonNr"]  # a second column of numbers, not named
    assert len(frame) > 0
    frame.to_csv(raw / "kriminalvarden.csv", index=False)
    key = tmp_path / "key.txt"
    key.write_bytes(KEY)
    code = cli.main(
        ["pseudonymise", "--in", str(raw / "kriminalvarden.csv"), "--column", "PersonNr",
         "--key-file", str(key), "--out", str(tmp_path / "out")]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 1 and not (tmp_path / "out" / "kriminalvarden.csv").exists()
    assert "the column Kontakt still holds values that look like personal identity" in printed.err
    for value in frame["PersonNr"]:
        assert value not in printed.err + printed.out


def test_the_output_folder_cannot_be_the_input_folder(small, tmp_path):
    write_source_extract(small, tmp_path, format="csv", identity_numbers=True)
    from evaluation.registers.extract import pseudonymise_files

    with pytest.raises(ExtractError, match="originals are kept"):
        pseudonymise_files(
            [tmp_path], tmp_path, pseudonymiser=Pseudonymiser(KEY), columns=("PersonNr",)
        )
