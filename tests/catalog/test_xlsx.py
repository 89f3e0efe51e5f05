"""The XLSX reader: a formula cell must carry the value its spreadsheet saved; one without is
refused naming the sheet and cell, never read as an empty cell."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from catalog import formats
from catalog.errors import InvalidUpload, UploadTooLarge
from catalog.streaming import open_table_source

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0"?><Types'
        ' xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default'
        ' Extension="rels"'
        ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default'
        ' Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml"'
        ' ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override'
        ' PartName="/xl/worksheets/first.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override'
        ' PartName="/xl/worksheets/second.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0"?><Relationships'
        ' xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship'
        ' Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    # the sheets are listed second-first in the relationships: the first <sheet> decides
    "xl/workbook.xml": (
        f'<?xml version="1.0"?><workbook xmlns="{_NS}"'
        ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="低保名单" sheetId="1" r:id="rId7"/><sheet name="说明" sheetId="2"'
        ' r:id="rId3"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0"?><Relationships'
        ' xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship'
        ' Id="rId3"'
        ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
        ' Target="worksheets/second.xml"/><Relationship Id="rId7"'
        ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
        ' Target="/xl/worksheets/first.xml"/></Relationships>'),
}
_HEADER = ('<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
           '<c r="B1" t="inlineStr"><is><t>金额</t></is></c></row>')


def _workbook(rows: str, *, second: str = "") -> bytes:
    """A workbook whose first sheet holds the header 姓名, 金额 and ``rows`` (sheetData XML)."""
    sheet = f'<?xml version="1.0"?><worksheet xmlns="{_NS}"><sheetData>{{}}</sheetData></worksheet>'
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/first.xml", sheet.format(_HEADER + rows))
        archive.writestr("xl/worksheets/second.xml", sheet.format(second))
    return sink.getvalue()


def _name(row: int, name: str = "张伟") -> str:
    return f'<c r="A{row}" t="inlineStr"><is><t>{name}</t></is></c>'


def _values(data: bytes) -> list[list[str | None]]:
    frame = formats.read_table(data, fmt="xlsx")
    return frame.astype(object).where(frame.notna(), None).values.tolist()


@pytest.mark.parametrize(("cell", "value"), [
    ('<c r="B2"><f>3*4</f><v>12</v></c>', "12"),
    ('<c r="B2" t="str"><f>"甲"&amp;"乙"</f><v>甲乙</v></c>', "甲乙"),
    ('<c r="B2" t="str"><f>IF(1=1,"","x")</f><v></v></c>', None),   # a formula's empty text
    ('<c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v></c>', "#DIV/0!"),
    ('<c r="B2"><f t="shared" ref="B2:B3" si="0">3*4</f><v>12</v></c>', "12"),
    ('<c r="B2" t="inlineStr"><is><t>=1+1</t></is></c>', "=1+1"),         # text, no formula
], ids=["number", "text", "empty-text", "error", "shared", "text-like-a-formula"])
def test_a_formula_with_its_saved_value_reads_as_that_value(cell, value):
    assert _values(_workbook(f'<row r="2">{_name(2)}{cell}</row>')) == [["张伟", value]]


@pytest.mark.parametrize(("rows", "cell"), [
    (f'<row r="2">{_name(2)}<c r="B2"><f>3*4</f></c></row>', "B2"),
    (f'<row r="2">{_name(2)}<c r="B2"><f>3*4</f><v></v></c></row>', "B2"),  # openpyxl's way
    ("".join(f'<row r="{r}">{_name(r)}<c r="B{r}"><v>{r}</v></c></row>' for r in range(2, 7))
     + f'<row r="7">{_name(7)}<c r="B7"><f>SUM(B2:B6)</f></c></row>', "B7"),
    (f'<row r="2">{_name(2)}<c r="B2"><f t="shared" ref="B2:B3" si="0">3*4</f><v>12</v></c>'
     f'</row><row r="3">{_name(3)}<c r="B3"><f t="shared" si="0"/></c></row>', "B3"),
    (f'<row>{_name(2)}<c><v>1</v></c></row><row><c t="inlineStr"><is><t>李娜</t></is></c>'
     '<c><f>1+1</f></c></row>', "B3"),                                    # no references
], ids=["no-value", "empty-value", "a-total-row", "shared-formula", "cells-without-references"])
def test_a_formula_without_its_saved_value_is_refused_naming_the_cell(rows, cell):
    with pytest.raises(InvalidUpload, match=f"^sheet '低保名单', cell {cell}: a formula saved "
                                            "without its value"):
        formats.read_table(_workbook(rows), fmt="xlsx")


def test_openpyxl_formulas_are_refused_on_every_reading():
    book = openpyxl.Workbook()
    book.active.title = "名单"
    for row in (["姓名", "金额"], ["张伟", 3], ["李娜", "=B2*2"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    with pytest.raises(InvalidUpload, match="^sheet '名单', cell B3: a formula saved") as whole:
        formats.read_table(data, fmt="xlsx")
    with pytest.raises(InvalidUpload) as chunked:
        with open_table_source(lambda: io.BytesIO(data), fmt="xlsx", chunk_rows=1) as reader:
            list(reader)
    assert str(chunked.value) == str(whole.value)


def test_only_the_first_sheet_is_read():
    data = _workbook(f'<row r="2">{_name(2)}<c r="B2"><v>1</v></c></row>',
                     second='<row r="1"><c r="A1"><f>1+1</f></c></row>')
    assert _values(data) == [["张伟", "1"]]


def test_a_cell_longer_than_the_limit_is_refused_naming_it():
    """openpyxl writes at most 32,767 characters to a cell; other tools write more."""
    long = "长" * (formats.MAX_FIELD_CHARS + 1)
    data = _workbook(f'<row r="2">{_name(2)}<c r="B2"><v>1</v></c></row>'
                     f'<row r="3">{_name(3, long)}<c r="B3"><v>2</v></c></row>')
    with pytest.raises(UploadTooLarge, match="^sheet '低保名单', cell A3: a value longer than"):
        formats.read_table(data, fmt="xlsx")
