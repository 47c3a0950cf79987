"""Report tables: Brå layout and model tables, exported as CSV, Excel and HTML.

A :class:`ReportTable` holds a table *as published*: text cells already formatted in the
report's language and already through disclosure control, a title (and the title in the
other language, as Brå's tables are bilingual), and footnotes with the definitions. The
writers below never format or suppress anything themselves, so that the CSV, the Excel
sheet and the HTML page show exactly the same cells.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation.presentation import _output
from evaluation.presentation.disclosure import SuppressedTable
from evaluation.presentation.formatting import format_number
from evaluation.presentation.labels import check_lang, has_label, label

__all__ = [
    "ReportTable",
    "format_p",
    "model_table",
    "table_from_suppressed",
    "term_label",
    "write_csv",
    "write_excel",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportTable:
    """A publishable table: formatted text cells, title, footnotes.

    Attributes
    ----------
    key : str
        File stem (``relapse_by_sex`` gives ``relapse_by_sex.csv``).
    title : str
        Title in the report's language, without the "Tabell N." prefix.
    table : DataFrame
        Cells as text, columns named by their headers; the first column names the rows.
    footnotes : tuple of str
        Definitions and the suppression note.
    lang : str
        Language of the cells.
    number : int or None
        Table number in the report (set by the report when it places the table).
    title_other : str or None
        The title in the other language (Brå's bilingual titles).
    column_groups : tuple of (str, tuple of (str, str))
        For a table too wide for the page (Brå's measures for three windows): the HTML
        shows one block per group, headed by the group's name (``Inom 1 år``) and holding
        the columns named in the group, each with its short header (``Antal uppföljda``);
        the columns in no group (the row headers) are repeated in every block. CSV and
        Excel keep the one wide table.
    """

    key: str
    title: str
    table: pd.DataFrame
    footnotes: tuple[str, ...] = ()
    lang: str = "sv"
    number: int | None = None
    title_other: str | None = None
    column_groups: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def numbered(self, number: int) -> ReportTable:
        """The same table with its number in the report."""
        return replace(self, number=number)

    @property
    def caption(self) -> str:
        """``Tabell 2. <title>`` (or the bare title before the table is numbered)."""
        if self.number is None:
            return self.title
        return f"{label('table', self.lang)} {self.number}. {self.title}"

    @property
    def other_caption(self) -> str | None:
        """The second title line: Brå's bilingual title in the other language.

        A Swedish report prints the English translation under the title as Brå does; an
        English report says that the second line is the Swedish original, which an English
        reader would otherwise take for an untranslated leftover.
        """
        if not self.title_other:
            return None
        if self.lang == "en":
            return f"{label('report_title_in_swedish', 'en')}: {self.title_other}"
        return self.title_other

    def to_html(self) -> str:
        """The table as an HTML ``<table>`` with caption and footnotes (escaped text).

        Columns of numbers carry ``class="num"`` (right-aligned, never broken); columns of
        words ``class="text"`` (left-aligned, may wrap). The first column is a row header.
        A table with ``column_groups`` is shown as one block per group.

        Examples
        --------
        >>> cells = pd.DataFrame({"Grupp": ["A"], "Antal": ["12"]})
        >>> t = ReportTable(key="k", title="T", table=cells)
        >>> "<td class=\\"num\\">12</td>" in t.to_html()
        True
        """
        esc = html.escape
        parts = [f'<figure class="table" id="tab-{esc(self.key)}">']
        parts.append(f"<figcaption><strong>{esc(self.caption)}</strong>")
        other = self.other_caption
        if other:
            other_lang = "en" if self.lang == "sv" else "sv"
            parts.append(f'<br><span class="other-lang" lang="{other_lang}">{esc(other)}</span>')
        parts.append("</figcaption>")
        if self.column_groups:
            grouped = {c for _, cols in self.column_groups for c, _ in cols}
            stub = [(c, str(c)) for c in self.table.columns if c not in grouped]
            for heading, cols in self.column_groups:
                parts.append(
                    _html_table(self.table, [*stub, *cols], heading=heading, n_stub=len(stub))
                )
        else:
            columns = [(c, str(c)) for c in self.table.columns]
            parts.append(_html_table(self.table, columns))
        if self.footnotes:
            parts.append('<ol class="footnotes">')
            parts.extend(f"<li>{esc(note)}</li>" for note in self.footnotes)
            parts.append("</ol>")
        parts.append("</figure>")
        return "".join(parts)


#: Data columns beyond which a table is set in a smaller font (``table.wide``) to fit the page.
_WIDE_COLUMNS = 6
#: A cell of numbers: digits, separators, signs, ``..`` and ``–``, or an interval "a to b".
_NUMERIC_CELL = re.compile(r"^[\d\s\u00a0.,:%<>+\-\u2212\u2013]*$")


def _is_numeric(cell: str) -> bool:
    return bool(_NUMERIC_CELL.match(re.sub(r" (?:to|till) ", " ", cell)))


def _html_table(
    table: pd.DataFrame,
    columns: Sequence[tuple[object, str]],
    *,
    heading: str | None = None,
    n_stub: int = 1,
) -> str:
    """One ``<table>``: ``columns`` as (column, header) pairs, the first the row header.

    With a ``heading``, a first header row names the last ``len(columns) - n_stub`` columns.
    """
    esc = html.escape
    cells = [[str(v) for v in table[c]] for c, _ in columns]
    kinds = ["num" if all(_is_numeric(v) for v in col) else "text" for col in cells]
    wide = len(columns) - 1 > _WIDE_COLUMNS
    parts = ['<table class="wide">' if wide else "<table>", "<thead>"]
    if heading is not None:
        parts.append("<tr>")
        parts.append(f'<td colspan="{n_stub}"></td>')
        span = len(columns) - n_stub
        parts.append(f'<th scope="colgroup" colspan="{span}" class="group">{esc(heading)}</th>')
        parts.append("</tr>")
    parts.append("<tr>")
    parts.extend(
        f'<th scope="col" class="{kind}">{esc(header)}</th>'
        for (_, header), kind in zip(columns, kinds, strict=True)
    )
    parts.append("</tr></thead><tbody>")
    for i in range(len(table)):
        parts.append(f'<tr><th scope="row">{esc(cells[0][i])}</th>')
        parts.extend(
            f'<td class="{kind}">{esc(col[i])}</td>'
            for col, kind in zip(cells[1:], kinds[1:], strict=True)
        )
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def table_from_suppressed(
    suppressed: SuppressedTable,
    *,
    key: str,
    title: str,
    lang: str = "sv",
    headers: dict[str, str] | None = None,
    row_header: str | None = None,
    footnotes: Sequence[str] = (),
    title_other: str | None = None,
) -> ReportTable:
    """A :class:`ReportTable` from a disclosure-controlled table.

    The index becomes the first column (named ``row_header``, default the label "Grupp");
    columns are renamed with ``headers``; the suppression footnote is added when a cell was
    suppressed, and the share footnote when the table has shares.
    """
    check_lang(lang)
    shown = suppressed.display(lang)
    shown.index = [str(i) for i in shown.index]
    shown = shown.rename(columns=headers or {})
    shown.insert(0, row_header or label("group", lang), shown.index)
    notes = list(footnotes)
    if suppressed.shares:
        notes.append(label("share_footnote", lang, min_cell=suppressed.min_cell))
    if suppressed.n_suppressed:
        notes.append(suppressed.footnote(lang))
    return ReportTable(
        key=key,
        title=title,
        table=shown.reset_index(drop=True).astype(str),
        footnotes=tuple(notes),
        lang=lang,
        title_other=title_other,
    )


def table_from_counts(
    counts: pd.DataFrame,
    *,
    key: str,
    title: str,
    lang: str = "sv",
    headers: dict[str, str] | None = None,
    row_header: str | None = None,
    footnotes: Sequence[str] = (),
    min_cell: int = DEFAULT_MIN_CELL,
) -> ReportTable:
    """A :class:`ReportTable` from counts already protected by the report's ledger.

    ``NaN`` marks a withheld count (shown as ``..``, with the suppression footnote).
    """
    mask = counts.isna()
    protected = SuppressedTable(
        table=counts.astype("float64"),
        mask=mask,
        primary=pd.DataFrame(False, index=counts.index, columns=counts.columns),
        min_cell=min_cell,
        counts=tuple(counts.columns),
        shares=(),
    )
    return table_from_suppressed(
        protected,
        key=key,
        title=title,
        lang=lang,
        headers=headers,
        row_header=row_header,
        footnotes=footnotes,
    )


def format_p(p: float | None, lang: str = "sv") -> str:
    """A p-value for a table: three decimals, ``<0,001`` below that.

    Examples
    --------
    >>> format_p(0.0312), format_p(0.00001, "en")
    ('0,031', '<0.001')
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if p < 0.001:
        return "<" + format_number(0.001, lang, decimals=3)
    return format_number(p, lang, decimals=3)


#: Columns of model summaries (ARCHITECTURE.md, "Result tables"), with their header labels.
_MODEL_COLUMNS: dict[str, str] = {
    "term": "term",
    "measure": "measure",
    "estimand": "estimand",
    "hr": "hazard_ratio",
    "estimate": "estimate",
    "truth": "truth",
    "ci": "ci",
    "p": "p_value",
}


def model_table(
    summary: pd.DataFrame,
    *,
    key: str,
    title: str,
    lang: str = "sv",
    value: str = "hr",
    decimals: int = 2,
    footnotes: Sequence[str] = (),
    extra: Iterable[str] = (),
) -> ReportTable:
    """A model table (Cox, Fine–Gray, effect estimates) with headers in ``lang``.

    Parameters
    ----------
    summary : DataFrame
        A tidy summary with ``term`` (or ``measure``), the ``value`` column, ``ci_lower``,
        ``ci_upper`` and optionally ``p``.
    value : str
        The column to show as the estimate: ``"hr"`` for hazard ratios, ``"estimate"``.
    extra : iterable of str
        Further columns to keep before the estimate (for example ``estimand``, ``truth``).

    Terms are translated where the label table has them.

    Examples
    --------
    >>> s = pd.DataFrame({"term": ["sex[M]"], "hr": [1.5], "ci_lower": [1.1],
    ...                   "ci_upper": [2.0], "p": [0.004]})
    >>> model_table(s, key="cox", title="Cox", lang="en").table.iloc[0].tolist()
    ['sex[M]', '1.50', '1.10 to 2.00', '0.004']
    """
    check_lang(lang)
    name_col = "term" if "term" in summary.columns else "measure"
    missing = [c for c in (name_col, value, "ci_lower", "ci_upper") if c not in summary.columns]
    if missing:
        raise ValueError(f"the model summary lacks the columns {', '.join(missing)}")

    def num(x: object) -> str:
        return format_number(float(x), lang, decimals=decimals) if pd.notna(x) else "–"  # type: ignore[arg-type]

    out = pd.DataFrame()
    out[_header(name_col, lang)] = [_term(t, lang) for t in summary[name_col]]
    for col in extra:
        if col in summary.columns:
            values = summary[col]
            is_num = pd.api.types.is_numeric_dtype(values)
            out[_header(col, lang)] = [num(v) if is_num else _term(v, lang) for v in values]
    out[_header(value, lang)] = [num(v) for v in summary[value]]
    # "till"/"to" rather than a dash, which reads as a minus beside negative limits.
    to = " till " if lang == "sv" else " to "
    out[_header("ci", lang)] = [
        f"{num(lo)}{to}{num(hi)}"
        for lo, hi in zip(summary["ci_lower"], summary["ci_upper"], strict=True)
    ]
    if "p" in summary.columns:
        out[_header("p", lang)] = [format_p(p, lang) for p in summary["p"]]
    return ReportTable(key=key, title=title, table=out, footnotes=tuple(footnotes), lang=lang)


def _header(column: str, lang: str) -> str:
    key = _MODEL_COLUMNS.get(column, column)
    return label(key, lang) if has_label(key) else column


#: A formula factor term: ``C(sex)[T.M]`` or ``group[T.participant]``.
_FACTOR = re.compile(r"^(?:C\((?P<cvar>[^,)]+)[^)]*\)|(?P<var>[^\[]+))\[T\.(?P<level>.+)\]$")
#: Register codes whose label key is not the code itself.
_LEVEL_KEYS = {"F": "women", "M": "men", "other": "other_municipality"}


def term_label(term: object, lang: str = "sv") -> str:
    """A model term in words: ``C(sex)[T.M]`` -> ``Kön: Män``, ``age`` -> ``Ålder``.

    Variable and level names are looked up in the label table (a level also as its plural,
    so that ``participant`` finds "Deltagare"); anything not found is shown as it is.

    Examples
    --------
    >>> term_label("C(sex)[T.M]"), term_label("C(group)[T.participant]", "en")
    ('Kön: Män', 'Group: Participants')
    """
    text = str(term)
    match = _FACTOR.match(text)
    if match is None:
        return label(text, lang) if has_label(text) else text
    var = (match.group("cvar") or match.group("var")).strip()
    level = match.group("level")
    var_text = label(var, lang) if has_label(var) else var
    base = level.replace("-", "_").lower()
    for key in (_LEVEL_KEYS.get(level, ""), level, base, base + "s"):
        if key and has_label(key):
            return f"{var_text}: {label(key, lang)}"
    return f"{var_text}: {level}"


def _term(term: object, lang: str) -> str:
    return term_label(term, lang)


def write_csv(
    table: ReportTable, folder: str | Path, *, stamp: _output.Stamp | None = None
) -> Path:
    """Write the table's cells as ``<key>.csv`` (UTF-8 with BOM, so Excel reads å, ä, ö).

    Text that a spreadsheet would run as a formula is escaped, and an unsafe report's
    ``stamp`` is the first line (see :mod:`evaluation.presentation._output`).
    """
    return _output.write_frame_csv(table.table, Path(folder) / f"{table.key}.csv", stamp=stamp)


def write_excel(
    tables: Sequence[ReportTable], path: str | Path, *, stamp: _output.Stamp | None = None
) -> Path:
    """Write one workbook, one sheet per table, with caption above and footnotes below.

    Cells that are whole numbers are written as numbers (so that a reader can compute with
    them); everything else, including the ``..`` of suppressed cells, as text, escaped so
    that no cell is a formula; an unsafe report's ``stamp`` is each sheet's first row.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for k, table in enumerate(tables, start=1):
        name = _sheet_name(table, k, used)
        sheet = book.create_sheet(name)
        sheet.append([table.caption])
        sheet["A1"].font = Font(bold=True, size=12)
        if table.other_caption:
            sheet.append([table.other_caption])
            sheet["A2"].font = Font(italic=True)
        sheet.append([])
        sheet.append([str(c) for c in table.table.columns])
        header_row = sheet.max_row
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        for row in table.table.itertuples(index=False):
            sheet.append([_excel_value(v, table.lang) for v in row])
        sheet.append([])
        for note in table.footnotes:
            sheet.append([note])
        sheet.column_dimensions["A"].width = max(
            [12, *(len(str(v)) + 2 for v in table.table.iloc[:, 0])]
        )
        for col in range(2, table.table.shape[1] + 1):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(col)].width = 14
    _output.harden_workbook(book, stamp=stamp)
    path = Path(path)
    book.save(path)
    return path


def _sheet_name(table: ReportTable, k: int, used: set[str]) -> str:
    base = f"{label('table', table.lang)} {table.number or k}"
    name, i = base[:31], 2
    while name in used:
        name, i = f"{base[:27]} ({i})", i + 1
    used.add(name)
    return name


_WHOLE = {
    "sv": re.compile(r"^(0|[1-9]\d{0,2}(\u00a0\d{3})*)$"),
    "en": re.compile(r"^(0|[1-9]\d{0,2}(,\d{3})*)$"),
}


def _excel_value(value: object, lang: str) -> object:
    """Whole numbers as numbers (in the table's own format), everything else as text."""
    text = str(value)
    if _WHOLE[lang].match(text):
        return int(re.sub(r"[^0-9]", "", text))
    return text
