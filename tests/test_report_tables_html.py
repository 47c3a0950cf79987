"""The report's HTML tables: bilingual Brå titles, one block per window, text and number cells."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from evaluation.cohorts import relapse_cohort, relapse_table
from evaluation.presentation.scan import find_disclosures
from evaluation.presentation.tables import ReportTable, model_table, write_excel

# kernel test: the Brå section's table as the report lays it out (no public name)
from evaluation.report._sections import bra_table
from test_cohorts import random_registers


@pytest.fixture(scope="module")
def result():
    cohort = relapse_cohort(random_registers(n=300, seed=3), definition="bra-final", rng=5)
    return relapse_table(cohort, by=("sex",), min_cell=1)


def _caption(html: str) -> str:
    found = re.search(r"<figcaption>(.*?)</figcaption>", html)
    assert found
    return found.group(1)


def test_english_report_titles_the_table_in_english_and_marks_the_swedish_line(result):
    caption = _caption(bra_table(result, key="bra", lang="en").numbered(4).to_html())
    assert caption.startswith("<strong>Table 4. Number and proportion of recidivists within 1")
    # The Swedish original under it says what it is, in the reader's language.
    assert '<span class="other-lang" lang="sv">In Swedish: Antal och andel återfall' in caption


def test_swedish_report_prints_the_english_translation_as_bra_does(result):
    caption = _caption(bra_table(result, key="bra", lang="sv").numbered(3).to_html())
    assert caption.startswith("<strong>Tabell 3. Antal och andel återfall inom 1")
    assert '<span class="other-lang" lang="en">Number and proportion of recidivists' in caption
    assert "In Swedish" not in caption and "På svenska" not in caption


def test_bra_table_is_shown_one_window_per_block_with_short_headers(result, tmp_path):
    table = bra_table(result, key="bra", lang="en")
    html = table.to_html()
    blocks = re.findall(r"<table.*?</table>", html)
    headings = ("Within 1 year", "Within 2 years", "Within 3 years")
    for block, heading in zip(blocks, headings, strict=True):
        # Seven columns a window: followed, recidivists, share, offences, offences per person
        # followed and per recidivist (Brå's återfallsfrekvens), median days.
        assert f'colspan="7" class="group">{heading}</th>' in block
        assert '<th scope="col" class="num">Number followed</th>' in block
        assert '<th scope="col" class="num">Reoffences per person followed</th>' in block
        assert "(1 year)" not in block  # the window is in the group heading, not every header
        assert '<th scope="col" class="text">Breakdown</th>' in block
        assert block.count("<tr>") == 2 + len(table.table)  # two header rows, every row
    # The footnotes follow the last block once.
    assert html.count('<ol class="footnotes">') == 1
    assert html.index('<ol class="footnotes">') > html.rindex("</table>")
    # The exported cells keep Brå's one wide table.
    assert "Number followed (1 year)" in table.table.columns
    assert table.table.shape[1] == 2 + 3 * 7
    book = write_excel([table], tmp_path / "t.xlsx")
    import openpyxl

    sheet = openpyxl.load_workbook(book).active
    assert sheet["A2"].value.startswith("In Swedish: Antal och andel")
    assert sheet.max_column == table.table.shape[1]


def test_word_columns_are_text_and_many_columns_make_a_wide_table():
    summary = pd.DataFrame(
        {
            "term": ["rd_1y"],
            "estimand": ["ATT per protocol (completers, IPCW)"],
            "estimate": [-0.072],
            "ci_lower": [-0.122],
            "ci_upper": [-0.021],
            "p": [0.004],
        }
    )
    html = model_table(
        summary, key="e", title="E", lang="en", value="estimate", extra=("estimand",)
    ).to_html()
    # (the minus sign is U+2212, as format_number writes it)
    # Words left-aligned and allowed to wrap; numbers and intervals right-aligned, unbroken.
    assert '<td class="text">ATT per protocol (completers, IPCW)</td>' in html
    assert '<td class="num">\u22120.12 to \u22120.02</td>' in html
    assert '<td class="num">0.004</td>' in html
    assert "<table>" in html and 'class="wide"' not in html

    cells = pd.DataFrame({"State": ["Completed"], **{f"{m} months": ["1"] for m in range(7)}})
    wide = ReportTable(key="w", title="W", table=cells).to_html()
    assert '<table class="wide">' in wide
    # Suppressed and empty cells do not make a column of numbers into text.
    mixed = ReportTable(
        key="m", title="M", table=pd.DataFrame({"G": ["a", "b", "c"], "N": ["1 234", "..", "–"]})
    ).to_html()
    assert mixed.count('<td class="num">') == 3


def test_scanner_reads_the_headers_of_a_window_block_from_its_thead():
    # A block whose first rows are all suppressed: without <thead>, the scanner would take
    # those rows for headers and miss the small count below them.
    cells = pd.DataFrame(
        {
            "Grupp": ["Samtliga", "Kvinnor", "Män"],
            "Antal uppföljda (1 år)": ["..", "..", "3"],
            "Antal återfall (1 år)": ["..", "..", "12"],
        }
    )
    groups = (
        ("Inom 1 år", (("Antal uppföljda (1 år)", "Antal uppföljda"),)),
        ("Inom 1 år", (("Antal återfall (1 år)", "Antal återfall"),)),
    )
    html = ReportTable(key="b", title="B", table=cells, column_groups=groups).to_html()
    found = find_disclosures(html)
    assert [(f.value, f.where) for f in found] == [(3, "row 5, column 'Antal uppföljda'")]
