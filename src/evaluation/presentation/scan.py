"""A scanner for small counts in written output: the check behind the report's disclosure tests.

:func:`find_disclosures` reads what the report layer writes (CSV, Excel, HTML, SVG, plain
text) and lists every count in ``1 .. min_cell - 1`` it can recognise as a count:

- in tables (CSV, Excel sheets, HTML ``<table>``): values in columns whose header names a
  count (``n``, ``n_at_risk``, "Antal …", "Number …", "events", "persons", …), and any HTML
  element with class ``count``;
- in SVG figures: text elements that are a bare whole number and not an axis tick label
  (at-risk tables and bar annotations are drawn as such texts);
- in free text everywhere: ``n = 3``, ``3 personer``, ``3 persons``, ``3 av 40`` and the like.

PNG and PDF files are not read: every figure is also written as SVG with its text kept as
text (``svg.fonttype = "none"``), so the SVG stands for them.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from evaluation.presentation._cells import DEFAULT_MIN_CELL

__all__ = ["Finding", "find_disclosures"]

#: Table headers that name a count (both languages, tidy names and labels).
COUNT_HEADER = re.compile(
    r"(^n$|^n[_ ]|_n$|\bn\b|count|antal|number|^events?$|events|at.?risk|censor|person|"
    r"händelser|deltagare|participants|episod)",
    re.IGNORECASE,
)
# A whole number, with the thousands separators of either language (space, no-break space,
# narrow no-break space, comma), not followed by a decimal part.
_NUM = r"(\d{1,3}(?:[ \u00a0\u202f,]\d{3})+|\d+)(?![.,]?\d)"
#: Free-text forms of a count.
TEXT_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bn\s*=\s*" + _NUM, re.IGNORECASE),
    re.compile(
        r"(?<![\d.,:/\-−])" + _NUM + r"\s+(personer|persons?|people|episoder|episodes?|"
        r"deltagare|participants?|händelser|events?|återfall|relapses?|avhoppare|individer|"
        r"individuals?)\b",
        re.IGNORECASE,
    ),
    re.compile(r"(?<![\d.,:/\-−])" + _NUM + r"\s+(av|of)\s+" + _NUM + r"\b", re.IGNORECASE),
)
_BARE_INT = re.compile(r"^\s*" + _NUM + r"\s*$")
SCANNED_SUFFIXES = (".csv", ".xlsx", ".html", ".htm", ".svg", ".txt", ".md")


@dataclass(frozen=True, slots=True)
class Finding:
    """A count below the threshold found in output: where, what value, and its context."""

    source: str
    where: str
    value: int
    context: str


def find_disclosures(
    files_or_text: str | Path | Iterable[str | Path], min_cell: int = DEFAULT_MIN_CELL
) -> list[Finding]:
    """List every recognisable count in ``1 .. min_cell - 1`` in files or text.

    Parameters
    ----------
    files_or_text : Path, str or iterable of them
        A ``Path`` is a file or a folder (scanned recursively for CSV, Excel, HTML, SVG, text
        and Markdown files); a ``str`` is text to scan (HTML if it contains a tag). An
        iterable may mix both.
    min_cell : int, default 5
        The disclosure threshold.

    Returns
    -------
    list of Finding
        Empty when nothing is disclosed.

    Examples
    --------
    >>> find_disclosures("Of the 40 participants, n = 3 relapsed.")[0].value
    3
    >>> find_disclosures("Figur 3. Andel inom 3 år (n = 1 204)")
    []
    """
    if isinstance(files_or_text, str | Path):
        items: list[str | Path] = [files_or_text]
    else:
        items = list(files_or_text)
    findings: list[Finding] = []
    for item in items:
        if isinstance(item, Path):
            paths = sorted(item.rglob("*")) if item.is_dir() else [item]
            for path in paths:
                if path.is_file() and path.suffix.lower() in SCANNED_SUFFIXES:
                    findings.extend(_scan_file(path, min_cell))
        else:
            kind = "html" if re.search(r"<[a-zA-Z][^>]*>", item) else "text"
            findings.extend(_scan_string(item, kind, "<text>", min_cell))
    return findings


def _scan_file(path: Path, min_cell: int) -> list[Finding]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _scan_excel(path, min_cell)
    text = path.read_text(encoding="utf-8", errors="replace")
    kind = {".csv": "csv", ".html": "html", ".htm": "html", ".svg": "svg"}.get(suffix, "text")
    return _scan_string(text, kind, str(path), min_cell)


def _scan_string(text: str, kind: str, source: str, min_cell: int) -> list[Finding]:
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        return _scan_rows(rows, source, min_cell, header_row=0)
    if kind == "html":
        return _scan_html(text, source, min_cell)
    if kind == "svg":
        return _scan_svg(text, source, min_cell)
    return _scan_text(text, source, "text", min_cell)


def _as_int(text: str) -> int | None:
    match = _BARE_INT.match(text)
    if match is None:
        return None
    return int(re.sub(r"[ \u00a0\u202f,]", "", match.group(1)))


def _small(value: int | None, min_cell: int) -> bool:
    return value is not None and 1 <= value < min_cell


def _scan_text(text: str, source: str, where: str, min_cell: int) -> list[Finding]:
    found = []
    for pattern in TEXT_PATTERNS:
        for match in pattern.finditer(text):
            for group in match.groups():
                value = _as_int(group) if group else None
                if _small(value, min_cell):
                    start = max(match.start() - 40, 0)
                    found.append(
                        Finding(source, where, int(value), text[start : match.end() + 40])  # type: ignore[arg-type]
                    )
    return found


def _scan_rows(
    rows: list[list[str]], source: str, min_cell: int, *, header_row: int | None
) -> list[Finding]:
    """Table rows: counts under count headers; every cell also as free text."""
    found: list[Finding] = []
    header: list[str] = []
    for r, row in enumerate(rows):
        cells = ["" if c is None else str(c) for c in row]
        if header_row is None:
            # Excel sheets: the header is the first row with two or more non-empty cells.
            if not header and sum(bool(c.strip()) for c in cells) >= 2:
                header = cells
                continue
        elif r == header_row:
            header = cells
            continue
        for j, cell in enumerate(cells):
            name = header[j] if j < len(header) else ""
            value = _as_int(cell)
            if COUNT_HEADER.search(name) and _small(value, min_cell):
                where = f"row {r + 1}, column {name!r}"
                found.append(Finding(source, where, int(value), " | ".join(cells)))  # type: ignore[arg-type]
            found.extend(_scan_text(cell, source, f"row {r + 1}", min_cell))
    for name in header:
        found.extend(_scan_text(name, source, "header", min_cell))
    return found


def _scan_excel(path: Path, min_cell: int) -> list[Finding]:
    import openpyxl

    found = []
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            text_rows = [["" if c is None else str(c) for c in row] for row in rows]
            found.extend(_scan_rows(text_rows, f"{path}[{sheet.title}]", min_cell, header_row=None))
    finally:
        book.close()
    return found


class _HTMLTables(HTMLParser):
    """Collects tables (header and rows), cells with class ``count``, and the other text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        #: Per table, the number of rows inside ``<thead>`` (0 when it has none).
        self.head_rows: list[int] = []
        self._head_stack: list[int] = []
        self._in_head = False
        self.count_cells: list[str] = []
        self.text: list[str] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._count_depth = 0
        self._count_text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "table":
            self._stack.append([])
            self._head_stack.append(0)
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
            if self._in_head:
                self._head_stack[-1] += 1
        elif tag in ("td", "th") and self._stack:
            self._cell = []
        if "count" in classes or self._count_depth:
            self._count_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag in ("td", "th") and self._cell is not None and self._stack:
            if self._stack[-1]:
                self._stack[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
            self.head_rows.append(self._head_stack.pop())
        if self._count_depth:
            self._count_depth -= 1
            if self._count_depth == 0:
                self.count_cells.append("".join(self._count_text).strip())
                self._count_text = []

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        else:
            self.text.append(data)
        if self._count_depth:
            self._count_text.append(data)


def _scan_html(text: str, source: str, min_cell: int) -> list[Finding]:
    parser = _HTMLTables()
    parser.feed(text)
    found: list[Finding] = []
    for table, n_head in zip(parser.tables, parser.head_rows, strict=True):
        rows = [r for r in table if r]
        # The header is the last row of <thead> (under a row of group headings, such as the
        # follow-up window over a Brå block); without one, the last leading row of a table
        # whose cells are not numbers (a block whose first rows are all ".." would otherwise
        # take its data rows for headers).
        header_row = n_head - 1 if n_head else 0
        for k, row in enumerate(rows if not n_head else []):
            if any(_as_int(c) is not None for c in row):
                break
            header_row = k
        found.extend(_scan_rows(rows, f"{source}<table>", min_cell, header_row=header_row))
    for cell in parser.count_cells:
        value = _as_int(cell)
        if _small(value, min_cell):
            found.append(Finding(source, "class=count", int(value), cell))  # type: ignore[arg-type]
    found.extend(_scan_text(" ".join(parser.text), source, "text", min_cell))
    # Inline SVG figures keep their texts as <text> elements: scan them as SVG as well.
    for svg in re.findall(r"<svg\b.*?</svg>", text, flags=re.DOTALL):
        found.extend(_scan_svg(svg, f"{source}<svg>", min_cell))
    return found


def _scan_svg(text: str, source: str, min_cell: int) -> list[Finding]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return _scan_text(re.sub(r"<[^>]+>", " ", text), source, "svg", min_cell)
    found: list[Finding] = []

    def walk(node: ET.Element, in_tick: bool) -> None:
        ident = node.get("id") or ""
        in_tick = in_tick or ident.startswith(("xtick_", "ytick_"))
        if node.tag.rsplit("}", 1)[-1] == "text":
            content = "".join(node.itertext())
            value = _as_int(content)
            if not in_tick and _small(value, min_cell):
                found.append(Finding(source, "svg text", int(value), content))  # type: ignore[arg-type]
            found.extend(_scan_text(content, source, "svg text", min_cell))
            return
        for child in node:
            walk(child, in_tick)

    walk(root, False)
    return found
