"""XLSX: the first worksheet, row by row through openpyxl's read-only mode (private: the XLSX
reader of :mod:`catalog.streaming`).

Its first non-empty row is the header; numbers and dates become the text a user reads (12, not
12.0; dates in ISO form). Before any row, two checks on the package itself:

- a workbook whose parts expand past what the byte limit allows is refused unread (openpyxl
  reads the shared strings whole before a single cell: a zip bomb must be stopped first);
- a formula cell must carry the value the spreadsheet computed when it was saved (Excel and WPS
  always save one; files written by scripts often do not). openpyxl would read such a cell as
  empty, silently: it is refused instead, naming the sheet and the cell.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pyarrow as pa

from ._readers import NO_LIMITS, Limits, Opener, TableReader, check_byte_limit, check_names
from ._writers import text_columns
from .errors import InvalidUpload, UploadTooLarge

__all__ = ["XlsxReader"]

#: How far an XLSX may expand, at most: zip members in all, against the file and the limit.
_XLSX_MAX_RATIO = 100
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
#: Cell types whose empty saved value is a value: a formula that gave an empty string.
_TEXT_TYPES = frozenset({"str", "s", "inlineStr"})


class XlsxReader(TableReader):
    """The first worksheet of a workbook, in chunks of rows."""

    fmt = "xlsx"
    controls_checked = True  # XML cannot hold them

    def __init__(self, opener: Opener, chunk_rows: int, limits: Limits = NO_LIMITS) -> None:
        import openpyxl

        super().__init__(opener, chunk_rows, limits)
        self._source = opener()
        try:
            with zipfile.ZipFile(self._source) as archive:
                _check_expansion(archive, self.total, limits.max_bytes)
                self.sheet, part = _first_sheet(archive)
                _check_formulas(archive, part, self.sheet)
            with warnings.catch_warnings():  # openpyxl warns of styles and extensions it skips
                warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")
                self._book = openpyxl.load_workbook(self._source, read_only=True, data_only=True)
            sheet = self._book.worksheets[0]
            stated = sheet.max_row or 0
            sheet.reset_dimensions()  # a stated A1:XFD20000 would pad every row to 16,384 cells
            self._rows = _numbered(sheet.iter_rows(values_only=True))
            first = next(self._rows, None)
        except InvalidUpload:  # our own message (UploadTooLarge included)
            self._source.close()
            raise
        except Exception as exc:  # openpyxl and zipfile raise many kinds on corrupt input
            self._source.close()
            raise InvalidUpload(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
        if first is None:
            self.close()
            raise InvalidUpload("the workbook's first sheet is empty")
        self.columns = _trim_right(first[1])
        check_names(self.columns)
        self.total = max(stated - first[0], 0)
        self._numbers: list[int] = []  # the sheet row of each data row of the current chunk
        self._size = 0

    def _chunks(self) -> Iterator[pa.Table]:
        pending: list[list[Any]] = []
        for number, row in self._rows:
            pending.append(_fit_row(row, width=len(self.columns), number=number))
            self._numbers.append(number)
            self._size += sum(len(c) for c in pending[-1] if c)
            check_byte_limit(self._size, self.limits.max_bytes)
            if len(pending) >= self.chunk_rows:
                yield self._table(pending)
                pending, self._numbers = [], []
        if pending:
            yield self._table(pending)
        self.position = self.total

    def _table(self, rows: list[list[Any]]) -> pa.Table:
        self.position = min(self.position + len(rows), self.total)
        raw = pa.table([pa.array(list(c), pa.string()) for c in zip(*rows)], names=self.columns)
        return text_columns(raw, self.columns)

    def where(self, row: int, column: str) -> str:
        from openpyxl.utils import get_column_letter

        letter = get_column_letter(self.columns.index(column) + 1)
        return f"sheet {self.sheet!r}, cell {letter}{self._numbers[row - self.rows]}"

    def close(self) -> None:
        book = getattr(self, "_book", None)
        if book is not None:
            book.close()
        self._source.close()


def _check_expansion(archive: zipfile.ZipFile, size: int, max_bytes: int | None) -> None:
    """Refuse a workbook whose parts expand past what any table of ``max_bytes`` needs (the
    markup included) or more than :data:`_XLSX_MAX_RATIO` times."""
    if max_bytes is None:
        return
    expanded = sum(member.file_size for member in archive.infolist())
    allowed = min(4 * max_bytes, _XLSX_MAX_RATIO * max(size, 1 << 20))
    if expanded > allowed:
        raise UploadTooLarge(f"the workbook expands to {expanded:,} bytes; at most "
                             f"{allowed:,} are read")


def _first_sheet(archive: zipfile.ZipFile) -> tuple[str, str]:
    """The name and the part of the workbook's first sheet (the one openpyxl reads first)."""
    book = _target(archive, "_rels/.rels", kind="/officeDocument")
    folder = posixpath.dirname(book)
    sheet = ElementTree.fromstring(archive.read(book)).find(f"{_MAIN}sheets/{_MAIN}sheet")
    rels = posixpath.join(folder, "_rels", posixpath.basename(book) + ".rels")
    part = _target(archive, rels, rel_id=sheet.get(_REL_ID))
    return sheet.get("name", ""), part


def _target(archive: zipfile.ZipFile, rels: str, *, kind: str = "", rel_id: str = "") -> str:
    """The part a relationship in ``rels`` points to (by type suffix or by id)."""
    for rel in ElementTree.fromstring(archive.read(rels)).iter(_PACKAGE_RELS):
        if (kind and rel.get("Type", "").endswith(kind)) or (rel_id and rel.get("Id") == rel_id):
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target[1:]
            return posixpath.normpath(posixpath.join(posixpath.dirname(posixpath.dirname(rels)),
                                                     target))
    raise KeyError(rels)


def _check_formulas(archive: zipfile.ZipFile, part: str, sheet: str) -> None:
    """Raises InvalidUpload at the first formula cell of ``part`` saved without its value."""
    if not _has_formula(archive, part):
        return
    with archive.open(part) as xml:
        rows, row, column = None, 0, 0
        for event, element in ElementTree.iterparse(xml, events=("start", "end")):
            if event == "start":
                if element.tag == f"{_MAIN}row":
                    row, column = int(element.get("r") or row + 1), 0
                elif element.tag == f"{_MAIN}sheetData":
                    rows = element
            elif element.tag == f"{_MAIN}c":
                column += 1
                if _unsaved(element):
                    raise InvalidUpload(
                        f"sheet {sheet!r}, cell {element.get('r') or _ref(row, column)}: a "
                        "formula saved without its value (a script wrote it, no spreadsheet "
                        "computed it); open the file in Excel or WPS and save it again, or "
                        "paste the values over the formulas")
            elif element.tag == f"{_MAIN}row" and rows is not None:
                rows.clear()  # the rows read so far: memory stays that of one row


def _has_formula(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether the part's XML holds a formula element (looked for in the bytes, cheaply)."""
    with archive.open(part) as xml:
        tail = b""
        while block := xml.read(1 << 20):
            if _FORMULA_TAG.search(tail + block):
                return True
            tail = block[-64:]
    return False


def _unsaved(cell: Any) -> bool:
    """A formula cell with no saved value (an empty one counts only for a text result)."""
    if cell.find(f"{_MAIN}f") is None:
        return False
    value = cell.find(f"{_MAIN}v")
    return value is None or (not value.text and cell.get("t", "n") not in _TEXT_TYPES)


def _ref(row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column)}{row}"


def _numbered(rows: Any) -> Iterator[tuple[int, list[Any]]]:
    """The non-empty rows with their sheet row numbers, cells as text."""
    cells = ([_cell_text(v) for v in row] for row in rows)
    return ((n, row) for n, row in enumerate(cells, start=1) if any(row))


def _trim_right(row: list[Any]) -> list[Any]:
    while row and row[-1] is None:
        row = row[:-1]
    return row


def _fit_row(row: list[Any], *, width: int, number: int) -> list[Any]:
    if any(v is not None for v in row[width:]):
        raise InvalidUpload(f"row {number}: a value right of the last named column")
    return row[:width] + [None] * (width - len(row))


def _cell_text(value: Any) -> str | None:
    """The text of a cell as a user reads it: 12 not 12.0, dates in ISO form."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)

