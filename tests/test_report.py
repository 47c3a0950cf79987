"""build_report: the files it writes, both languages, and no small count in any of them.

Two reports are built once per module: one municipality of the default synthetic data
(Landskrona: a few hundred persons, so many groups are tiny) in Swedish, and the four-person
registers of ``registers_helpers`` in English (every count is small). A third, Göteborg in
English, is the smallest municipality whose report has the programme-effect figures.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image

import report_numbers
from evaluation import load_synthetic
from evaluation.cohorts import relapse_cohort
from evaluation.presentation.graphics.cohort import milestone_data
from evaluation.report import build_report, find_disclosures
from evaluation.report.build import count_text, restrict_to_municipality
from registers_helpers import tiny_registers

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"
MUNICIPALITY = report_numbers.MUNICIPALITY


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_numbers.build_small_report(tmp_path_factory.mktemp("report_sv"))


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # PDF is left out here (the scan reads SVG, not PDF; the small report writes all three).
    return report_numbers.build_tiny_report(tmp_path_factory.mktemp("report_en"))


@pytest.mark.parametrize("which", ["small_report", "tiny_report"])
def test_the_report_publishes_the_numbers_recorded_in_git(which, request):
    # Moving code between layers (issue 11) must not change a published number: every
    # table, figure's data and ledger entry hashes as recorded. A deliberate change of
    # numbers rewrites the record (`python tests/report_numbers.py --refresh`, see there).
    page: Path = request.getfixturevalue(which)
    actual = report_numbers.numbers(page.parent)
    changed = report_numbers.differences(report_numbers.recorded()[which], actual)
    assert not changed, "\n".join(changed)


def test_the_raw_numbers_of_the_small_report_hold_small_counts():
    # Without this, the disclosure scan below could pass on data with nothing to hide.
    regs = restrict_to_municipality(load_synthetic(), MUNICIPALITY)
    cohort = relapse_cohort(regs, definition="bra-final", population="programme")
    raw = milestone_data(cohort.data, by="sex", min_cell=1)
    counts = np.concatenate([raw["n"].to_numpy(), raw["n_events"].to_numpy()])
    assert ((counts >= 1) & (counts < 5)).any()


@pytest.mark.parametrize("which", ["small_report", "tiny_report", "effect_report"])
def test_no_written_file_discloses_a_count_below_min_cell(which, request):
    page: Path = request.getfixturevalue(which)
    written = sorted(p.suffix for p in page.parent.rglob("*") if p.is_file())
    assert {".csv", ".xlsx", ".html", ".svg", ".png"} <= set(written)
    assert find_disclosures(page.parent, min_cell=5) == []


def test_the_scan_finds_the_counts_when_nothing_is_suppressed(tmp_path: Path):
    page = build_report(
        tiny_registers(), tmp_path, lang="en", min_cell=1, unsafe_min_cell=True, formats=("svg",)
    )
    assert find_disclosures(page.parent, min_cell=5) != []


def test_every_figure_is_written_in_three_formats_with_caption_and_source(small_report: Path):
    figures = small_report.parent / "figures"
    stems = {p.stem for p in figures.glob("*.svg")}
    assert stems, "no figure written"
    for k, stem in enumerate(sorted(stems)):
        for fmt in ("png", "svg", "pdf"):
            assert (figures / f"{stem}.{fmt}").stat().st_size > 0
        svg = (figures / f"{stem}.svg").read_text(encoding="utf-8")
        assert re.search(r"Figur \d+\.", svg)
        assert "Källa:" in svg and "Syntetiska data." in svg
        if k == 0:
            with Image.open(figures / f"{stem}.png") as image:
                dpi = image.info["dpi"]
            assert dpi == pytest.approx((300, 300), abs=0.5)


def test_page_is_self_contained_with_contents_and_embedded_figures(small_report: Path):
    html = small_report.read_text(encoding="utf-8")
    assert '<html lang="sv">' in html
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert sections == [
        "data",
        "bra",
        "curves",
        "recurrence",
        "retention",
        "effect",
        "quality",
        "mortality",
        "design",
        "sites",
        "definitions",
    ]
    for section in sections:
        assert f'href="#{section}"' in html  # the table of contents links every section
    images = re.findall(r'<img src="([^"]+)"', html)
    n_figures = len(list((small_report.parent / "figures").glob("*.svg")))
    assert len(images) == n_figures
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "Innehåll" in html and "syntetiska data" in html
    assert f": {MUNICIPALITY}</h1>" in html


def test_tables_are_csv_and_one_excel_sheet_each_with_caption_and_footnotes(small_report: Path):
    folder = small_report.parent
    csvs = sorted((folder / "tables").glob("*.csv"))
    book = openpyxl.load_workbook(folder / "tables.xlsx", read_only=True)
    try:
        assert len(book.sheetnames) == len(csvs)
        first = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    assert str(first[0][0]).startswith("Tabell 1.")
    assert any(str(r[0]).startswith("..") for r in first if r and r[0])  # the suppression note
    table = pd.read_csv(folder / "tables" / "bra_programme.csv", dtype=str, encoding="utf-8-sig")
    assert table.columns[0] == "Redovisningsgrupp" and "Samtliga" in table.iloc[0].tolist()
    assert (table == "..").any().any()


def test_english_report_has_english_words(tiny_report: Path):
    html = tiny_report.read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Contents" in html and "Innehåll" not in html
    svg = next((tiny_report.parent / "figures").glob("*.svg")).read_text(encoding="utf-8")
    assert "Figure 1." in svg or "Figure" in svg
    assert "Source:" in svg


def test_unknown_municipality_is_refused_with_the_names(tmp_path: Path):
    with pytest.raises(ValueError, match="Stockholm"):
        build_report(tiny_registers(), tmp_path, municipality="Atlantis")


def test_count_text_never_prints_a_small_count():
    assert [count_text(n, "sv") for n in (0, 1, 4, 5, 12345)] == ["0", "..", "..", "5", "12\xa0345"]


@pytest.mark.parametrize(("width", "inches"), [("journal", 3.5), ("a4", 6.3)])
def test_figures_export_at_journal_and_a4_width(tmp_path: Path, width: str, inches: float):
    from evaluation.presentation.figures import export_figure, new_figure
    from evaluation.presentation.theme import theme

    with theme("en"):
        fig, axes = new_figure(width)
        axes[0].plot([0, 1], [0, 1])
        written = export_figure(
            fig, tmp_path, key="f", number=2, caption="A line", source="Source: test."
        )
    with Image.open(written.files["png"]) as image:
        width_in = image.size[0] / 300
    # bbox="tight" trims the margins and the caption may stick out a little: within 15 %.
    assert width_in == pytest.approx(inches, rel=0.15)
    assert written.caption == "Figure 2. A line"


def test_excel_cells_are_numbers_where_the_text_is_a_whole_number(tmp_path: Path):
    from evaluation.presentation.tables import ReportTable, write_excel

    cells = pd.DataFrame(
        {"Grupp": ["Samtliga", "Kvinnor"], "Antal": ["1\xa0234", ".."], "Andel": ["1,5", "0"]}
    )
    table = ReportTable(key="t", title="T", table=cells, footnotes=("Not.",), number=3)
    write_excel([table], tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx", read_only=True)
    try:
        rows = [list(r) for r in book["Tabell 3"].iter_rows(values_only=True)]
    finally:
        book.close()
    assert rows[0] == ["Tabell 3. T", None, None]
    assert rows[3] == ["Samtliga", 1234, "1,5"]
    assert rows[4] == ["Kvinnor", "..", 0]
    assert rows[-1][0] == "Not."


# -- every figure has its data; notebook 06 gives the same report ---------------------------

#: The smallest municipality with enough participants (73 >= 60) for the effect section,
#: whose figures (love plot, overlap, adjusted curves) the Landskrona report does not have.
EFFECT_MUNICIPALITY = "Göteborg"


@pytest.fixture(scope="module")
def effect_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report_effect")
    with pytest.MonkeyPatch.context() as patch:
        # Fewer bootstrap replicates: the figures and files written do not depend on them,
        # and the build takes about half the time.
        patch.setattr("evaluation.report._analysis_sections.REPORT_BOOTSTRAP", 20)
        return build_report(
            load_synthetic(),
            out,
            lang="en",
            municipality=EFFECT_MUNICIPALITY,
            min_cell=5,
            formats=("svg",),
        )


def figure_files(page: Path) -> tuple[set[str], set[str]]:
    """Stems of the drawn figures (SVG or PNG) and of the data tables beside them."""
    figures = page.parent / "figures"
    drawn = {p.stem for p in figures.iterdir() if p.suffix in (".svg", ".png")}
    tables = {p.name.removesuffix(".data.csv") for p in figures.glob("*.data.csv")}
    return drawn, tables


@pytest.mark.parametrize("which", ["small_report", "effect_report"])
def test_every_figure_is_written_with_its_data_table(which, request):
    page: Path = request.getfixturevalue(which)
    drawn, tables = figure_files(page)
    assert drawn and drawn == tables
    if which == "effect_report":
        # The effect section ran, so its figures are among those checked.
        assert {"balance_love", "propensity_overlap", "adjusted_curves"} <= drawn


def test_overlap_data_are_binned_counts_with_small_bins_suppressed(effect_report: Path):
    data = pd.read_csv(
        effect_report.parent / "figures" / "propensity_overlap.data.csv", encoding="utf-8-sig"
    )
    assert list(data.columns) == ["group", "bin_lower", "bin_upper", "n", "n_group", "density"]
    assert set(data["group"]) == {"Participants", "Comparison group"}
    # No person-level scores: 40 bins on [0, 1] per group, as the figure draws them.
    assert data.groupby("group").size().tolist() == [40, 40]
    assert np.allclose(data["bin_upper"] - data["bin_lower"], 1 / 40)
    n = data["n"]
    assert not ((n >= 1) & (n < 5)).any()
    # Something was suppressed (so the check above can fail), and a density only with its count.
    assert n.isna().any()
    assert data.loc[n.isna(), "density"].isna().all()
    assert data.loc[n.notna(), "density"].notna().all()


@pytest.mark.slow
def test_notebook_06_for_another_municipality_writes_the_same_report(
    small_report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import papermill

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "06-municipality-report.ipynb"
    monkeypatch.setenv("CI", "1")  # smoke mode, inherited by the kernel
    out = tmp_path / "report"
    # Landskrona, not the notebook's default (Botkyrka); the other parameters as small_report.
    papermill.execute_notebook(
        str(notebook),
        str(tmp_path / "06.ipynb"),
        parameters={"municipality": MUNICIPALITY, "lang": "sv", "min_cell": 5, "out_dir": str(out)},
        kernel_name="python3",
        cwd=str(notebook.parent),
        progress_bar=False,
    )  # the notebook's own asserts (data tables recomputed, no disclosure) ran in the kernel
    expected = small_report.parent
    for folder, pattern in (("figures", "*.data.csv"), ("tables", "*.csv")):
        written = sorted(p.name for p in (out / folder).glob(pattern))
        assert written == sorted(p.name for p in (expected / folder).glob(pattern))
        for name in written:
            assert (out / folder / name).read_bytes() == (expected / folder / name).read_bytes()
    assert {p.name for p in (out / "figures").iterdir()} == {
        p.name for p in (expected / "figures").iterdir()
    }
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f": {MUNICIPALITY}</h1>" in html and '<html lang="sv">' in html


def test_swedish_sites_and_design_sections_print_decimal_commas(small_report: Path):
    # Issue 12: "0.95" or "99.8 %" in a Swedish table or caption is a bug. The report of
    # one municipality has both sections (the comparison of every municipality included).
    point, comma = re.compile(r"\d\.\d"), re.compile(r"\d,\d")
    folder = small_report.parent
    tables = [folder / "tables" / "sites_case_mix.csv", *folder.glob("tables/design*.csv")]
    assert len(tables) >= 2
    for path in tables:
        text = path.read_text(encoding="utf-8-sig")
        assert not point.search(text), (path.name, point.findall(text)[:5])
    assert comma.search(tables[0].read_text(encoding="utf-8-sig"))
    page = small_report.read_text(encoding="utf-8")
    for section in ("sites", "design"):
        part = page[page.index(f'<section id="{section}">') :]
        part = part[: part.index("</section>")]
        # Captions and texts only: the embedded images' base64 holds points by chance.
        words = re.sub(r'src="data:[^"]*"|<[^>]+>', " ", part)
        assert comma.search(words), section
        assert not point.search(words), (section, point.findall(words)[:5])
