"""Reading and writing tables: encodings, malformed files, values kept exactly."""

from __future__ import annotations

import io
import random

import openpyxl
import pandas as pd
import pytest

from catalog import formats
from catalog.errors import InvalidUpload, UnsupportedFormat, UploadTooLarge

RESIDENT_ID = "11010519491231002X"
RESIDENT_ID_DIGITS = "110105194912310021"  # 18 digits: a float would round it


def sample() -> pd.DataFrame:
    return pd.DataFrame({
        "身份证号": [RESIDENT_ID, RESIDENT_ID_DIGITS, None],
        "区划代码": ["007", "0100", "000001"],
        "姓名": ["张三", "李四, \"小李\"", "王五\n(曾用名)"],
        "备注": ["=1+1", None, "  前后空格  "],
    }, dtype="str")


def values(frame: pd.DataFrame) -> list[list[str | None]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_round_trip_keeps_every_value_exactly(fmt: str) -> None:
    data = formats.write_table(sample(), fmt=fmt)
    back = formats.read_table(data, fmt=formats.detect_format(f"名单.{fmt}", data))
    assert list(back.columns) == list(sample().columns)
    assert values(back) == values(sample())
    assert all(str(t) == "str" for t in back.dtypes)


@pytest.mark.parametrize(("data", "expected"), [
    ("姓名,编码\n张三,007\n".encode("gbk"), [["张三", "007"]]),
    ("姓名,编码\n䶮,007\n".encode("gb18030"), [["䶮", "007"]]),
    ("\ufeff姓名,编码\n张三,007\n".encode("utf-8"), [["张三", "007"]]),
    ("姓名,编码\r\n张三,007\r\n".encode("utf-8"), [["张三", "007"]]),
    ("姓名,编码\n张三,\n\n李四,08\n".encode("utf-8"), [["张三", None], ["李四", "08"]]),
    (f"身份证号\n{RESIDENT_ID_DIGITS}\n".encode(), [[RESIDENT_ID_DIGITS]]),
], ids=["gbk", "gb18030-only-char", "utf8-bom", "crlf", "empty-cell-and-blank-line", "18-digits"])
def test_csv_decodes(data: bytes, expected: list[list[str | None]]) -> None:
    frame = formats.read_table(data, fmt="csv")
    assert values(frame) == expected
    assert frame.columns[0] in ("姓名", "身份证号")  # the BOM is not part of the first name


def test_csv_header_only_reads_as_zero_rows() -> None:
    frame = formats.read_table("姓名,编码\n".encode(), fmt="csv")
    assert list(frame.columns) == ["姓名", "编码"] and len(frame) == 0


@pytest.mark.parametrize(("fmt", "data", "message"), [
    ("csv", b"", "empty"),
    ("csv", b"\n\n", "empty"),
    ("csv", "name,city\nJos\xe9,M\xfcnchen\n".encode("latin-1"), "not UTF-8 or GBK"),
    ("csv", random.Random(7).randbytes(2048), "not UTF-8 or GBK"),
    ("csv", b"id,name\n1,\"Zhang\n2,Li\n", "line 2: malformed CSV.*truncated"),
    ("csv", b"id,name\n1,a\n2,b,c\n", "line 3: 3 fields, but the header has 2"),
    ("csv", b"id,name\n1,a\n2\n", "line 3: 1 fields, but the header has 2"),
    ("csv", "编码,编码\n1,2\n".encode(), "duplicate column name '编码'"),
    ("csv", b"id,,name\n1,2,3\n", "column 2 has no name"),
    ("parquet", b"PAR1" + b"\x00" * 64 + b"PAR1", "not a readable Parquet file"),
    ("xlsx", b"PK\x03\x04" + b"\x00" * 64, "not a readable XLSX workbook"),
    ("jsonl", b'{"a": "1"}\n{"a": "2"}\n["a", "3"]\n', "line 3: not a JSON object"),
    ("jsonl", b'{"a": "1"}\n{"a": \n', "line 2: not valid JSON"),
    ("jsonl", b'{"a": "1", "a": "2"}\n', "line 1: .*key is repeated"),
    ("jsonl", b'{"a": {"b": 1}}\n', "line 1: field 'a' holds an object"),
    ("jsonl", "{\"名\": \"张\"}\n".encode("gbk"), "must be UTF-8"),
    ("jsonl", b"{}\n{}\n", "no columns"),
], ids=["empty", "blank-lines", "latin-1", "random-binary", "truncated-quote", "too-many-fields",
        "too-few-fields", "duplicate-name", "blank-name", "corrupt-parquet", "corrupt-xlsx",
        "jsonl-array", "jsonl-broken", "jsonl-duplicate-key", "jsonl-nested", "jsonl-gbk",
        "jsonl-no-keys"])
def test_bad_files_are_refused_with_a_reason(fmt: str, data: bytes, message: str) -> None:
    with pytest.raises(InvalidUpload, match=message):
        formats.read_table(data, fmt=fmt)


def test_xlsx_cells_read_as_the_user_sees_them() -> None:
    data = xlsx_bytes([["编码", "数量", "比例", "日期", None], ["007", 12, 0.5, None, None],
                       [None, None, None, None, None], ["008", 3.0, 1.25, "2024-01-02", None]])
    frame = formats.read_table(data, fmt="xlsx")
    assert list(frame.columns) == ["编码", "数量", "比例", "日期"]
    assert values(frame) == [["007", "12", "0.5", None], ["008", "3", "1.25", "2024-01-02"]]


def test_xlsx_value_beyond_the_header_is_refused() -> None:
    data = xlsx_bytes([["编码", "数量"], ["007", "1", "stray"]])
    with pytest.raises(InvalidUpload, match="row 2: a value right of the last named column"):
        formats.read_table(data, fmt="xlsx")


def test_parquet_numbers_read_as_text_and_nested_columns_refused() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def parquet(table: pa.Table) -> bytes:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes()

    flat = parquet(pa.table({"n": [1, None], "id": [RESIDENT_ID_DIGITS, "x"]}))
    assert values(formats.read_table(flat, fmt="parquet")) == [
        ["1", RESIDENT_ID_DIGITS], [None, "x"]]
    nested = parquet(pa.table({"tags": [["a"], ["b"]]}))
    with pytest.raises(InvalidUpload, match="column 'tags' is of type list"):
        formats.read_table(nested, fmt="parquet")


def test_jsonl_numbers_keep_their_literal_text() -> None:
    data = ('{"身份证号": "11010519491231002X", "金额": 12.50, "n": 110105194912310021}\n'
            '\n{"金额": 3, "在册": true, "n": null}\n').encode()
    frame = formats.read_table(data, fmt="jsonl")
    assert list(frame.columns) == ["身份证号", "金额", "n", "在册"]
    assert values(frame) == [[RESIDENT_ID, "12.50", RESIDENT_ID_DIGITS, None],
                             [None, "3", None, "true"]]


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_row_limit(fmt: str) -> None:
    data = formats.write_table(sample(), fmt=fmt)
    assert len(formats.read_table(data, fmt=fmt, max_rows=3)) == 3
    with pytest.raises(UploadTooLarge, match="more than 2 rows"):
        formats.read_table(data, fmt=fmt, max_rows=2)


@pytest.mark.parametrize(("filename", "data", "expected"), [
    ("名单.CSV", b"a\n1\n", "csv"),
    ("C:\\导出\\名单.xlsx", b"PK\x03\x04rest", "xlsx"),
    ("x.parquet", b"PAR1...PAR1", "parquet"),
    ("x.ndjson", b'{"a": 1}\n', "jsonl"),
])
def test_detect_format(filename: str, data: bytes, expected: str) -> None:
    assert formats.detect_format(filename, data) == expected


@pytest.mark.parametrize(("filename", "data", "error", "message"), [
    ("名单.xls", b"\xd0\xcf\x11\xe0", UnsupportedFormat, "save the sheet as .xlsx"),
    ("名单.docx", b"PK\x03\x04", UnsupportedFormat, "unsupported file type .docx"),
    ("名单", b"a\n", UnsupportedFormat, "no extension"),
    ("名单.csv", b"", InvalidUpload, "empty"),
    ("名单.xlsx", b"a,b\n1,2\n", InvalidUpload, "not an XLSX workbook"),
    ("名单.csv", b"PK\x03\x04....", InvalidUpload, "binary ZIP/XLSX file"),
    ("x.parquet", b"PAR1 truncated", InvalidUpload, "not a complete Parquet file"),
])
def test_detect_format_refuses(filename: str, data: bytes, error: type[Exception],
                               message: str) -> None:
    with pytest.raises(error, match=message):
        formats.detect_format(filename, data)


def test_writers_emit_the_promised_shapes() -> None:
    frame = pd.DataFrame({"姓名": ["张三"], "编码": ["007"]}, dtype="str")
    assert formats.write_table(frame, fmt="csv") == "姓名,编码\r\n张三,007\r\n".encode()
    assert formats.write_table(frame, fmt="jsonl") == '{"姓名": "张三", "编码": "007"}\n'.encode()
    sheet = openpyxl.load_workbook(io.BytesIO(formats.write_table(
        sample(), fmt="xlsx"))).active
    assert sheet["D2"].data_type == "s"  # "=1+1" stays text, never a formula


@pytest.mark.parametrize(("fmt", "media"), [("csv", "text/csv; charset=utf-8"),
                                            ("parquet", "application/vnd.apache.parquet")])
def test_media_type(fmt: str, media: str) -> None:
    assert formats.media_type(fmt) == media


def test_unknown_format_names_are_refused() -> None:
    with pytest.raises(UnsupportedFormat):
        formats.media_type("xml")
    with pytest.raises(UnsupportedFormat):
        formats.read_table(b"x", fmt="xml")
    with pytest.raises(UnsupportedFormat):
        formats.write_table(sample(), fmt="xml")


def test_a_small_parquet_that_expands_hugely_is_refused():
    """A dictionary-encoded column of one long value repeated: ~20 kB on disk, ~20 MB read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from catalog.errors import UploadTooLarge
    value = "x" * 10_000
    table = pa.table({"备注": pa.array([value] * 2_000).dictionary_encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    assert len(data) < 100_000
    with pytest.raises(UploadTooLarge, match="expands to more than"):
        formats.read_table(data, fmt="parquet", max_bytes=1_000_000)
    assert len(formats.read_table(data, fmt="parquet", max_bytes=50_000_000)) == 2_000


def test_an_xlsx_past_the_byte_limit_is_refused():
    import pandas as pd

    from catalog.errors import UploadTooLarge
    frame = pd.DataFrame({"a": ["y" * 1000] * 50})
    with pytest.raises(UploadTooLarge, match="expands"):
        formats.read_table(formats.write_table(frame, fmt="xlsx"), fmt="xlsx", max_bytes=10_000)


def _xlsx_with(sheet_xml: str, shared: str = "") -> bytes:
    """A minimal workbook whose first sheet is ``sheet_xml`` (and shared strings ``shared``)."""
    import zipfile
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types'
            ' xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default'
            ' Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default'
            ' Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml"'
            ' ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override'
            ' PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override'
            ' PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0"?><Relationships'
            ' xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship'
            ' Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0"?><workbook'
            ' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships'
            ' xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship'
            ' Id="rId1"'
            ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
            ' Target="worksheets/sheet1.xml"/><Relationship Id="rId2"'
            ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": sheet_xml,
        "xl/sharedStrings.xml": '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                + shared + "</sst>",
    }
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return sink.getvalue()


_SHEET = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
          'spreadsheetml/2006/main">{dim}<sheetData>{rows}</sheetData></worksheet>')


def test_an_xlsx_whose_unused_shared_strings_expand_hugely_is_refused_before_reading():
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c></row>'
    bomb = _xlsx_with(_SHEET.format(dim="", rows=rows), "<si><t>" + "x" * 30_000_000 + "</t></si>")
    assert len(bomb) < 100_000
    with pytest.raises(UploadTooLarge, match="workbook expands to"):
        formats.read_table(bomb, fmt="xlsx", max_bytes=4 << 20)


def test_an_xlsx_stating_a_huge_dimension_reads_only_its_cells():
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>名称</t></is></c></row>'
            '<row r="20000"><c r="A20000" t="inlineStr"><is><t>张三</t></is></c></row>')
    gap = _xlsx_with(_SHEET.format(dim='<dimension ref="A1:XFD20000"/>', rows=rows))
    frame = formats.read_table(gap, fmt="xlsx", max_bytes=64 << 20)
    assert list(frame.columns) == ["名称"] and frame["名称"].tolist() == ["张三"]


def test_a_parquet_dictionary_bomb_is_refused_without_decoding_it():
    """One 1 MB value in 5,000 rows of one row group: ~5 GB once decoded. Refused, and the
    Arrow memory pool of a fresh process never holds more than a few of those megabytes."""
    import subprocess
    import sys

    code = """
import pyarrow as pa, pyarrow.parquet as pq, sys
from catalog import formats
from catalog.errors import UploadTooLarge
table = pa.table({"备注": pa.DictionaryArray.from_arrays(pa.array([0] * 5_000, pa.int32()),
                                                      pa.array(["x" * 1_000_000]))})
sink = pa.BufferOutputStream()
pq.write_table(table, sink, compression="zstd", store_schema=False, row_group_size=5_000)
data = sink.getvalue().to_pybytes()
del table
pool = pa.default_memory_pool()
before = pool.max_memory()
try:
    formats.read_table(data, fmt="parquet", max_bytes=256 << 20)
except UploadTooLarge:
    print("refused", len(data), (pool.max_memory() - before) >> 20)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300).stdout.split()
    assert out[0] == "refused" and int(out[1]) < 200_000
    assert int(out[2]) < 64, f"{out[2]} MB of Arrow memory while refusing"


@pytest.mark.parametrize(("fmt", "data"), [
    ("csv", (",".join(f"c{i}" for i in range(1_001)) + "\n").encode()),
    ("jsonl", "".join(f'{{"k{i}": "v"}}\n' for i in range(2_000)).encode()),
])
def test_more_than_a_thousand_columns_is_refused(fmt, data):
    with pytest.raises(UploadTooLarge, match="more than 1000 columns"):
        formats.read_table(data, fmt=fmt)


def test_jsonl_nested_deeper_than_json_goes_is_refused():
    with pytest.raises(InvalidUpload, match="line 1: nested too deeply"):
        formats.read_table(("[" * 100_000 + "]" * 100_000 + "\n").encode(), fmt="jsonl")


def test_a_parquet_that_expands_in_a_later_row_group_is_refused_before_any_row():
    """The decoded size is counted a column and a row group at a time, before the first chunk:
    a dictionary of one long value in the second row group, behind a plain first one."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from catalog.errors import UploadTooLarge
    from catalog.streaming import open_table_source
    sink = pa.BufferOutputStream()
    schema = pa.schema([("编号", pa.string()), ("备注", pa.string())])
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        writer.write_table(pa.table({"编号": [f"{i:06d}" for i in range(1000)],
                                     "备注": ["短"] * 1000}, schema=schema))
        writer.write_table(pa.table({"编号": [f"{i:06d}" for i in range(2000)],
                                     "备注": ["x" * 10_000] * 2000}, schema=schema))
    data = sink.getvalue().to_pybytes()
    assert len(data) < 100_000
    with pytest.raises(UploadTooLarge, match="expands to more than 1000000 bytes"):
        open_table_source(lambda: io.BytesIO(data), fmt="parquet", max_bytes=1_000_000)
    with open_table_source(lambda: io.BytesIO(data), fmt="parquet", chunk_rows=700,
                           max_bytes=50_000_000) as reader:
        assert sum(c.num_rows for c in reader) == 3000
