"""Reading and writing register folders: lossless round trips, byte-reproducible files,
and every reading problem reported at once without dropping or coercing a row."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import evaluation
from evaluation import RegisterError
from evaluation.registers import Registers, _default, load_synthetic
from registers_helpers import tiny_registers

TABLES = ("persons", "programme", "offences", "custody", "exits")

PERSONS_CSV = """\
person_id,sex,birth_date,municipality,affiliation
P000001,M,1995-03-01,Stockholm,gang
P000002,F,1990-07-15,Malmö,network
P000003,M,2000-11-30,Botkyrka,peripheral
P000004,M,1988-01-20,Göteborg,
"""

CUSTODY_CSV = """\
person_id,start_date,end_date,kind
P000001,2012-09-01,2012-10-15,remand
P000001,2012-10-15,2013-10-15,prison
P000003,2020-02-02,2020-08-02,youth_care
P000001,2024-03-01,,remand
"""


def read_problems(folder: Path) -> list[str]:
    with pytest.raises(RegisterError) as info:
        Registers.read(folder)
    return info.value.problems


def rewrite(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_is_lossless(tmp_path, fmt):
    regs = tiny_registers()
    back = Registers.read(regs.write(tmp_path, format=fmt))
    assert back.equals(regs)
    for name in TABLES:
        pd.testing.assert_frame_equal(back.table(name), regs.table(name))
    assert back.meta == {"description": "tiny hand-built register"}


def test_csv_is_plain_iso_and_exactly_as_expected(tmp_path):
    tiny_registers().write(tmp_path)
    assert (tmp_path / "persons.csv").read_text(encoding="utf-8") == PERSONS_CSV
    assert (tmp_path / "custody.csv").read_text(encoding="utf-8") == CUSTODY_CSV
    meta = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
    assert meta == {
        "description": "tiny hand-built register",
        "study_end": "2025-12-31",
        "study_start": "2010-01-01",
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_writing_is_byte_reproducible(tmp_path, fmt):
    tiny_registers().write(tmp_path / "a", format=fmt)
    tiny_registers().write(tmp_path / "b", format=fmt)
    for file in sorted((tmp_path / "a").iterdir()):
        assert file.read_bytes() == (tmp_path / "b" / file.name).read_bytes(), file.name


def test_text_with_commas_and_quotes_round_trips(tmp_path):
    persons = tiny_registers().persons.assign(note=['a, "b"', "two\nlines", None, "ö"])
    regs = tiny_registers(persons=persons)
    back = Registers.read(regs.write(tmp_path))
    pd.testing.assert_frame_equal(back.persons, regs.persons)


def test_unknown_columns_keep_their_type_in_parquet_and_come_back_as_text_from_csv(tmp_path):
    persons = tiny_registers().persons.assign(
        prior_custody=pd.array([1, None, 0, 2], dtype="Int64"),
        gang_name=pd.Categorical(["x", "y", "x", None]),
    )
    regs = tiny_registers(persons=persons)
    back = Registers.read(regs.write(tmp_path / "pq", format="parquet"))
    pd.testing.assert_frame_equal(back.persons, regs.persons)
    text = Registers.read(regs.write(tmp_path / "csv", format="csv"))
    assert text.persons["prior_custody"].tolist() == ["1", None, "0", "2"]
    assert text.persons["gang_name"].tolist() == ["x", "y", "x", None]


def test_writing_one_format_removes_the_other(tmp_path):
    tiny_registers().write(tmp_path, format="parquet")
    tiny_registers().write(tmp_path, format="csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.csv" for n in TABLES] + ["meta.json"]
    )


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="format must be 'csv' or 'parquet', not 'xlsx'"):
        tiny_registers().write(tmp_path, format="xlsx")


def test_a_table_that_cannot_be_written_names_the_problem(tmp_path):
    offences = tiny_registers().offences.copy()
    offences.loc[2, "category"] = 7
    with pytest.raises(RegisterError) as info:
        tiny_registers(offences=offences).write(tmp_path)
    assert info.value.problems == [
        "offences.category holds values that are not text in 1 row (offence_id O0000003); "
        "expected text (categories as text)"
    ]


# -- reading problems ---------------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(RegisterError, match="does not exist or is not a folder"):
        Registers.read(tmp_path / "nowhere")


def test_missing_files_and_meta_are_all_reported(tmp_path):
    tiny_registers().write(tmp_path)
    (tmp_path / "custody.csv").unlink()
    (tmp_path / "meta.json").unlink()
    assert read_problems(tmp_path) == [
        f"meta.json is missing in {tmp_path} (it holds study_start and study_end)",
        f"custody: there is no custody.csv or custody.parquet in {tmp_path}",
    ]


def test_both_formats_of_one_table_are_ambiguous(tmp_path):
    tiny_registers().write(tmp_path)
    tiny_registers().exits.to_parquet(tmp_path / "exits.parquet")
    assert read_problems(tmp_path) == [
        f"exits: both exits.csv and exits.parquet are in {tmp_path}; keep only one"
    ]


def test_bad_meta(tmp_path):
    tiny_registers().write(tmp_path)
    (tmp_path / "meta.json").write_text('{"study_start": "2010-01-01", "study_end": "31/12/2025"}')
    assert read_problems(tmp_path) == [
        "meta.json study_end is not an ISO date (YYYY-MM-DD): '31/12/2025'"
    ]
    (tmp_path / "meta.json").write_text('{"study_end": "2025-12-31"')
    assert read_problems(tmp_path)[0].startswith("meta.json is not valid JSON")
    (tmp_path / "meta.json").write_text('{"study_end": "2025-12-31"}')
    assert read_problems(tmp_path) == ["meta.json has no study_start (an ISO date, YYYY-MM-DD)"]


def test_unparseable_dates_are_reported_not_made_missing(tmp_path):
    tiny_registers().write(tmp_path)
    rewrite(tmp_path / "offences.csv", "2017-06-01", "2017-06-31")
    rewrite(tmp_path / "offences.csv", "2020-02-02", "02/02/2020")
    rewrite(tmp_path / "programme.csv", "2016-02-01", "2016-2-1")
    rewrite(tmp_path / "persons.csv", "1988-01-20", "")
    assert read_problems(tmp_path) == [
        "programme.start_date has unparseable dates in 1 row (episode_id E000001): "
        "'2016-2-1'; expected ISO dates (YYYY-MM-DD) between 1677 and 2262",
        "offences.decision_date has unparseable dates in 2 rows (offence_id O0000002, "
        "O0000004): '2017-06-31', '02/02/2020'; expected ISO dates (YYYY-MM-DD) between "
        "1677 and 2262",
        "persons.birth_date is empty in 1 row (person_id P000004)",
    ]


def test_a_personnummer_in_a_date_cell_is_not_echoed(tmp_path):
    tiny_registers().write(tmp_path)
    rewrite(tmp_path / "exits.csv", "2019-06-30", "19811218-9876")
    (problem,) = read_problems(tmp_path)
    assert problem == (
        "exits.date has unparseable dates in 1 row (person_id P000002): "
        "<a personal identity number>; expected ISO dates (YYYY-MM-DD) between 1677 and 2262"
    )


def test_a_missing_column_in_a_file(tmp_path):
    regs = tiny_registers()
    regs.write(tmp_path)
    regs.custody.drop(columns="kind").assign(
        start_date=lambda t: t.start_date.dt.strftime("%Y-%m-%d"),
        end_date=lambda t: t.end_date.dt.strftime("%Y-%m-%d"),
    ).to_csv(tmp_path / "custody.csv", index=False)
    assert read_problems(tmp_path) == [
        "custody is missing the required column kind: kind of custody"
    ]


def test_a_row_with_too_many_fields_is_reported_without_its_content(tmp_path):
    tiny_registers().write(tmp_path)
    rewrite(tmp_path / "persons.csv", "P000004,M,1988-01-20,Göteborg,", "8112189876,M,,,,extra")
    assert read_problems(tmp_path) == [
        "persons.csv has rows with too few or too many fields (the header has 5 columns) in "
        "1 row (row 4: 6 fields)"
    ]


def test_rows_with_too_few_or_too_many_fields_are_named_by_row(tmp_path):
    tiny_registers().write(tmp_path)
    # Row 1 holds a quoted line end, so rows and lines differ: rows count records.
    rewrite(tmp_path / "offences.csv", "O0000001,", '"O00\n00001",')
    rewrite(tmp_path / "offences.csv", "drugs,probation\n", "drugs\n")
    rewrite(tmp_path / "offences.csv", "O0000005,", "O0000005,x,")
    assert read_problems(tmp_path) == [
        "offences.csv has rows with too few or too many fields (the header has 6 columns) in "
        "2 rows (row 2: 5 fields, row 5: 7 fields)"
    ]


def test_a_quote_that_is_never_closed_is_named_by_row(tmp_path):
    tiny_registers().write(tmp_path)
    # Arrow reads from the quote to the end of the file as one value: too few fields.
    rewrite(tmp_path / "offences.csv", "O0000002,", '"O0000002,')
    # Here the rest of the file fits in the last column: without the check it would be
    # read as one custody row with the other rows inside its kind, silently.
    rewrite(tmp_path / "custody.csv", "2012-10-15,remand", '2012-10-15,"remand')
    assert read_problems(tmp_path) == [
        'offences.csv has a quote (") that is never closed, in row 2: everything after it, '
        "to the end of the file, is read as one value; close the quote or remove it",
        'custody.csv has a quote (") that is never closed, in row 1: everything after it, to '
        "the end of the file, is read as one value; close the quote or remove it",
    ]


def test_quoted_line_ends_and_quotes_inside_values_are_not_unclosed_quotes(tmp_path):
    persons = tiny_registers().persons.assign(note=["a", 'say "hi"', None, "two\nlines"])
    regs = tiny_registers(persons=persons)
    back = Registers.read(regs.write(tmp_path))
    pd.testing.assert_frame_equal(back.persons, regs.persons)
    # A quote inside an unquoted value is a character (as Arrow reads it), and the last
    # row has no line end in a value: nothing is reported.
    rewrite(tmp_path / "persons.csv", '"Botkyrka","peripheral",', '"Botkyrka","peripheral",5"')
    assert Registers.read(tmp_path).persons.loc[2, "note"] == '5"'


def test_a_last_row_with_a_closed_multiline_value_and_too_few_fields(tmp_path):
    tiny_registers().write(tmp_path)
    # The last row spans two lines inside its closed quotes and misses a field: the quotes
    # are balanced, so it is a row with too few fields, not an unclosed quote.
    rewrite(tmp_path / "exits.csv", "P000002,2019-06-30,death", '"P00\n0002",2019-06-30')
    assert read_problems(tmp_path) == [
        "exits.csv has rows with too few or too many fields (the header has 3 columns) in "
        "1 row (row 1: 2 fields)"
    ]


def test_a_header_line_longer_than_the_csv_field_limit(tmp_path):
    tiny_registers().write(tmp_path)
    rewrite(tmp_path / "persons.csv", "affiliation\n", "affiliation" + "x" * 200_000 + "\n")
    assert read_problems(tmp_path) == [
        "persons.csv: the header line could not be read as column names (a column name is "
        "longer than 131,072 characters); it must be one line of column names (person_id,...)"
    ]
    # A quote opened in the header and never closed, and a first line without any end.
    rewrite(tmp_path / "persons.csv", "person_id,", '"person_id,')
    (problem,) = read_problems(tmp_path)
    assert problem.startswith('persons.csv: the header line has a quote (") that is never')
    (tmp_path / "exits.csv").write_text("x" * 1_000_001, encoding="utf-8")
    assert read_problems(tmp_path)[1] == (
        "exits.csv: the first line is longer than 1,000,000 characters; it must be the "
        "header, one line of column names (person_id,...)"
    )


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "a tab")])
def test_a_semicolon_or_tab_separated_file_says_which_separator_it_has(tmp_path, separator, shown):
    tiny_registers().write(tmp_path)
    text = (tmp_path / "programme.csv").read_text(encoding="utf-8")
    (tmp_path / "programme.csv").write_text(text.replace(",", separator), encoding="utf-8")
    assert read_problems(tmp_path) == [
        f"programme.csv: the separator looks like {shown}, not ',': the header line has 8 "
        f"fields separated by {shown} but 1 by ','. The registers are read as "
        "comma-separated files; save the file as CSV with ',' as the separator (Swedish "
        "Excel uses ';' unless told otherwise)"
    ]


def test_a_folder_where_a_file_is_expected(tmp_path):
    tiny_registers().write(tmp_path)
    for name in ("meta.json", "exits.csv"):
        (tmp_path / name).unlink()
        (tmp_path / name).mkdir()
    assert read_problems(tmp_path) == [
        f"meta.json in {tmp_path} cannot be read: it is a folder, not a file",
        "exits.csv cannot be read: it is a folder, not a file",
    ]


def _deny(monkeypatch, names):
    """Reading any of these files raises PermissionError, as for a file without read access.

    Root reads every file whatever its mode, so the permission is simulated where the
    package opens files (Path.read_bytes for meta.json, Path.open for CSV files).
    """

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    read_bytes, open_ = Path.read_bytes, Path.open

    def guarded_read_bytes(self):
        return refuse(self) if self.name in names else read_bytes(self)

    def guarded_open(self, *args, **kwargs):
        return refuse(self) if self.name in names else open_(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_bytes", guarded_read_bytes)
    monkeypatch.setattr(Path, "open", guarded_open)


def test_unreadable_files_are_named(tmp_path, monkeypatch):
    tiny_registers().write(tmp_path)
    _deny(monkeypatch, {"meta.json", "custody.csv"})
    assert read_problems(tmp_path) == [
        f"meta.json in {tmp_path} cannot be read: permission denied (ask for read access)",
        "custody.csv cannot be read: permission denied (ask for read access)",
    ]


def test_an_unreadable_folder(tmp_path, monkeypatch):
    tiny_registers().write(tmp_path)
    scandir = os.scandir

    def refuse(path):
        if Path(path) == tmp_path:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    with pytest.raises(RegisterError) as info:
        Registers.read(tmp_path)
    assert info.value.problems == [
        f"the register folder {tmp_path} cannot be read: permission denied (ask for read access)"
    ]


def _permissions_are_enforced(folder: Path) -> bool:
    """False for root (or a process with CAP_DAC_OVERRIDE), which reads any file."""
    probe = folder / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        probe.read_text()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o600)
        probe.unlink()
    return False


def test_file_and_folder_permissions_for_real(tmp_path):
    if not _permissions_are_enforced(tmp_path):
        pytest.skip("this process reads files whatever their permissions (root); simulated above")
    folder = tiny_registers().write(tmp_path / "regs")
    (folder / "meta.json").chmod(0)
    (folder / "exits.csv").chmod(0)
    try:
        assert read_problems(folder) == [
            f"meta.json in {folder} cannot be read: permission denied (ask for read access)",
            "exits.csv cannot be read: permission denied (ask for read access)",
        ]
        folder.chmod(0)
        with pytest.raises(RegisterError) as info:
            Registers.read(folder)
        assert info.value.problems == [
            f"the register folder {folder} cannot be read: permission denied (ask for read access)"
        ]
    finally:
        folder.chmod(0o755)
        (folder / "meta.json").chmod(0o644)
        (folder / "exits.csv").chmod(0o644)


def test_parquet_types_are_checked_not_coerced(tmp_path):
    regs = tiny_registers()
    regs.write(tmp_path, format="parquet")
    persons = regs.persons.assign(person_id=[1, 2, 3, 4])
    pq.write_table(
        pa.Table.from_pandas(persons, preserve_index=False), tmp_path / "persons.parquet"
    )
    exits = regs.exits.assign(date=regs.exits.date.dt.tz_localize("UTC"))
    pq.write_table(pa.Table.from_pandas(exits, preserve_index=False), tmp_path / "exits.parquet")
    assert read_problems(tmp_path) == [
        "persons.person_id has type int64; expected text (ids such as P000001)",
        "exits.date has type datetime64[ns, UTC]; expected dates (datetime64[ns])",
    ]


def test_parquet_dates_out_of_range_name_only_the_wrong_rows(tmp_path):
    regs = tiny_registers()
    regs.write(tmp_path, format="parquet")
    table = pa.Table.from_pandas(regs.offences, preserve_index=False)
    days = table.column("offence_date").cast(pa.date32()).to_pylist()
    days[1], days[4] = date(1500, 1, 1), date(3015, 6, 30)  # typing errors for 2015
    table = table.set_column(
        table.schema.get_field_index("offence_date"), "offence_date", pa.array(days, pa.date32())
    )
    pq.write_table(table, tmp_path / "offences.parquet")
    micro = regs.custody.astype({"end_date": "datetime64[us]"})
    micro.loc[2, "end_date"] = pd.Timestamp("2262-04-12").as_unit("us")
    pq.write_table(pa.Table.from_pandas(micro, preserve_index=False), tmp_path / "custody.parquet")
    assert read_problems(tmp_path) == [
        "offences.offence_date has dates outside the years 1677-2262 that pandas can hold in "
        "2 rows (offence_id O0000002, O0000005): '1500-01-01', '3015-06-30'",
        "custody.end_date has dates outside the years 1677-2262 that pandas can hold in 1 row "
        "(person_id P000003): '2262-04-12 00:00:00.000000'",
    ]


def test_parquet_with_dates_as_text_or_timestamps(tmp_path):
    regs = tiny_registers()
    regs.write(tmp_path, format="parquet")
    text = regs.offences.assign(offence_date=regs.offences.offence_date.dt.strftime("%Y-%m-%d"))
    pq.write_table(pa.Table.from_pandas(text, preserve_index=False), tmp_path / "offences.parquet")
    micro = regs.custody.astype({"start_date": "datetime64[us]"})
    pq.write_table(pa.Table.from_pandas(micro, preserve_index=False), tmp_path / "custody.parquet")
    assert Registers.read(tmp_path).equals(regs)
    text.loc[0, "offence_date"] = "2012-04-31"
    pq.write_table(pa.Table.from_pandas(text, preserve_index=False), tmp_path / "offences.parquet")
    assert read_problems(tmp_path) == [
        "offences.offence_date has unparseable dates in 1 row (offence_id O0000001): "
        "'2012-04-31'; expected ISO dates (YYYY-MM-DD) between 1677 and 2262"
    ]


def test_reading_and_validation_problems_come_together(tmp_path):
    tiny_registers().write(tmp_path)
    (tmp_path / "exits.csv").unlink()
    rewrite(tmp_path / "offences.csv", "drugs,probation", "drugs,jail")
    rewrite(tmp_path / "persons.csv", "P000002,F", "P000002,K")
    assert read_problems(tmp_path) == [
        f"exits: there is no exits.csv or exits.parquet in {tmp_path}",
        "persons.sex has an unknown category in 1 row (person_id P000002): 'K'; allowed: F, M",
        "offences.sanction has an unknown category in 1 row (offence_id O0000002): 'jail'; "
        "allowed: prison, probation, youth_care, fine, waiver, other",
    ]


# -- the default synthetic registers ------------------------------------------------------


def test_load_synthetic_reads_the_repository_folder(tmp_path, monkeypatch):
    tiny_registers().write(tmp_path)
    monkeypatch.setattr(_default, "_synthetic_dir", lambda: tmp_path)
    assert load_synthetic().equals(tiny_registers())
    assert evaluation.load_synthetic is load_synthetic


def test_load_synthetic_without_data_says_to_run_make_data(tmp_path, monkeypatch):
    monkeypatch.setattr(_default, "_synthetic_dir", lambda: tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="run `make data`"):
        load_synthetic()


def test_the_synthetic_folder_is_data_synthetic_of_the_repository():
    repository = Path(__file__).resolve().parents[1]
    assert _default._synthetic_dir() == repository / "data" / "synthetic"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_empty_tables_round_trip_with_their_types(tmp_path, fmt):
    regs = tiny_registers()
    empty = tiny_registers(
        **{name: regs.table(name).iloc[:0] for name in ("programme", "custody", "exits")}
    )
    back = Registers.read(empty.write(tmp_path, format=fmt))
    assert back.equals(empty)
    assert str(back.exits["date"].dtype) == "datetime64[ns]"


def test_parquet_categories_read_as_dictionaries_give_the_values_and_problems_of_csv(tmp_path):
    # Category columns of Parquet are decoded once per distinct value (read as dictionaries):
    # the values, missing ones and a value outside the schema come back as from CSV.
    regs = tiny_registers()
    offences = regs.offences.copy()
    offences.loc[0, "sanction"] = "jail"
    offences.loc[1, "category"] = None
    bad = replace(regs, offences=offences)
    problems = {}
    for fmt in ("csv", "parquet"):
        folder = bad.write(tmp_path / fmt, format=fmt)
        back = Registers.read(folder, validate=False)
        assert back.offences["sanction"].tolist() == offences["sanction"].tolist()
        assert back.offences["category"].tolist() == offences["category"].tolist()
        with pytest.raises(RegisterError) as err:
            Registers.read(folder)
        problems[fmt] = err.value.problems
    assert problems["parquet"] == problems["csv"]
    assert any("jail" in p for p in problems["parquet"])
    read = Registers.read(tmp_path / "parquet", validate=False).offences["sanction"]
    assert len({id(v) for v in read}) == read.nunique(dropna=False)  # one str per value
