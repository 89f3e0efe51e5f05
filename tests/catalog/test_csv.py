"""The CSV reader's strict scan: what merges rows or breaks them is refused at its line, with
no value of the row in the message, whether the whole file is read or read in chunks."""

from __future__ import annotations

import csv
import io
import random
import re

import pyarrow as pa
import pytest

from catalog import formats
from catalog._csv import _simply_quoted, scan_csv
from catalog.errors import InvalidUpload, UploadTooLarge
from catalog.streaming import open_table_source

PHONE, ID = "13812345678", "11010519491231002X"
MAX = formats.MAX_FIELD_CHARS
# a quote-free first part longer than the scan's block (1 MiB), so that a problem after it is
# found past the block boundary, and in a block pyarrow parses without the scan's csv module
LONG_START = "姓名,电话\n" + "张伟,13900000000\n" * 80_000
# the same, every field quoted, as pyarrow and many database tools write
LONG_QUOTED = '"姓名","电话"\n' + '"张伟","13900000000"\n' * 80_000


def _refusal(data: bytes) -> tuple[type[Exception], str]:
    """The refusal of reading ``data`` whole; the same as reading it in chunks of 1,000."""
    with pytest.raises((InvalidUpload, UploadTooLarge)) as whole:
        formats.read_table(data, fmt="csv")
    with pytest.raises(type(whole.value)) as chunked:
        with open_table_source(lambda: io.BytesIO(data), fmt="csv", chunk_rows=1_000) as reader:
            list(reader)
    assert str(chunked.value) == str(whole.value)
    return type(whole.value), str(whole.value)


@pytest.mark.parametrize(("text", "error", "message"), [
    (f'姓名,电话\n张伟,"{PHONE}\n李娜,{ID}\n王芳,13700000000\n', InvalidUpload,
     "^line 2: malformed CSV: a quote opened on this line is never closed, and would merge the "
     "rows after it into one value; is the file truncated"),
    (f'姓名,电话,备注\n张伟,"{PHONE}\n李娜,{ID},"有"\n', InvalidUpload,
     "^line 3: malformed CSV: text follows the closing quote of a field that opened on line 2"),
    (f'a,b,c\n1,"多行\n备注","{PHONE}\n2,x,y\n', InvalidUpload,   # opened on the record's 2nd line
     "^line 3: malformed CSV: a quote opened on this line is never closed"),
    (f'姓名,电话\n张伟,"{PHONE}"{ID}\n', InvalidUpload,
     "^line 2: malformed CSV: text follows the closing quote"),
    (f'姓名,电话\n张伟,{PHONE},{ID}\n', InvalidUpload,
     "^line 2: 3 fields, but the header has 2: malformed CSV"),
    (f'姓名,电话\n\n张伟,"{PHONE}\n{ID}"\n李娜\n', InvalidUpload,  # blank and multi-line before
     "^line 5: 1 fields, but the header has 2"),
    (LONG_START + f"李娜,{PHONE},{ID}\n", InvalidUpload,
     "^line 80002: 3 fields, but the header has 2"),
    (LONG_START + f'李娜,"{PHONE}\n' + "王芳,13700000000\n" * 20_000, InvalidUpload,
     f"^line 80002: malformed CSV: a quote opened on this line is not closed within {MAX:,}"),
    (LONG_QUOTED + f'"李娜","{PHONE}"{ID}\n', InvalidUpload,
     "^line 80002: malformed CSV: text follows the closing quote of a field that opened on "
     "line 80002"),
    (LONG_QUOTED + f'"李娜","{PHONE}\n' + '"王芳","13700000000"\n' * 10, InvalidUpload,
     "^line 80003: malformed CSV: text follows the closing quote of a field that opened on "
     "line 80002"),
    (LONG_QUOTED + f'"李娜","{PHONE}","{ID}"\n', InvalidUpload,
     "^line 80002: 3 fields, but the header has 2"),
    (f"姓名,备注\n张伟,{PHONE}{'x' * MAX}\n", UploadTooLarge,
     f"^line 2: a value longer than {MAX:,} characters"),
    (LONG_START + f"李娜,{'电' * (MAX + 1)}\n", UploadTooLarge,
     f"^line 80002: a value longer than {MAX:,} characters"),
    (f'姓名,备注\n张伟,"{PHONE}{"x" * MAX}"\n', UploadTooLarge,
     f"^line 2: a value longer than {MAX:,} characters"),
    (",".join(f"c{i}" for i in range(45)) + "\n" + ",".join(["x" * 100_000] * 45) + "\n",
     UploadTooLarge,
     "^line 2: a row longer than 4 MiB"),
], ids=["unterminated-quote", "quote-closed-on-a-later-line", "quote-opened-mid-record",
        "text-after-closing-quote", "too-many-fields", "too-few-after-a-multi-line-row",
        "ragged-past-the-first-block", "unterminated-past-the-first-block",
        "quoted-file-text-after-quote", "quoted-file-unterminated", "quoted-file-ragged",
        "field-too-long", "field-too-long-past-the-first-block", "quoted-field-too-long",
        "row-too-long"])
def test_a_broken_file_is_refused_at_its_line_without_its_values(text, error, message):
    kind, said = _refusal(text.encode())
    assert kind is error
    assert re.search(message, said), said
    assert PHONE not in said and ID not in said and "张伟" not in said


@pytest.mark.parametrize(("text", "rows"), [
    (f"a,b\n1,{'x' * MAX}\n", [["1", "x" * MAX]]),                       # the limit itself
    ('a,b\n1,12" screen\n', [["1", '12" screen']]),                       # a quote mid-field
    ('a,b\n1,"say ""hi"", ok"\n', [["1", 'say "hi", ok']]),
    ("a,b\r1,2\r3,4", [["1", "2"], ["3", "4"]]),                          # CR line ends
    ('a,b\r\n1,"x\r\ny"\r\n', [["1", "x\r\ny"]]),
    ("\n\na,b\n\n1,\n", [["1", None]]),
], ids=["field-at-the-limit", "quote-mid-field", "doubled-quotes", "cr-only", "crlf-in-quotes",
        "blank-lines"])
def test_what_strict_csv_allows_is_read(text, rows):
    frame = formats.read_table(text.encode(), fmt="csv")
    assert frame.astype(object).where(frame.notna(), None).values.tolist() == rows


def test_a_quoted_value_across_the_scans_block_boundary_is_read_whole():
    before = "姓名,电话\n" + "张伟,13900000000\n" * 55_180  # 142 bytes short of 1 MiB
    note = "第一行\n" + "长" * 1_000 + "\n第三行"
    data = (before + f'李娜,"{note}"\n' + "王芳,13700000000\n" * 10).encode()
    assert len(before.encode()) < 1 << 20 < len(before.encode()) + len(note.encode())
    with open_table_source(lambda: io.BytesIO(data), fmt="csv", chunk_rows=30_000) as reader:
        table = pa.concat_tables(list(reader))
    assert table.num_rows == 55_191 and table.column("电话")[55_180].as_py() == note


@pytest.mark.parametrize(("line", "value"), [
    ('"李娜","说""好"""\n', '说"好"'),
    ('"李娜",""\n', None),
    ('"李娜",12" screen\n', '12" screen'),
    ('"李娜","多行\n备注"\n', "多行\n备注"),
], ids=["doubled-quotes", "empty-quoted", "quote-mid-field", "multi-line"])
def test_a_quoted_file_reads_past_the_first_block(line, value):
    data = (LONG_QUOTED + line + '"王芳","13700000000"\n').encode()
    frame = formats.read_table(data, fmt="csv")
    assert len(frame) == 80_002 and frame["姓名"].iloc[-1] == "王芳"
    assert frame["电话"].astype(object).where(frame["电话"].notna(), None).iloc[80_000] == value


def test_what_the_quick_quote_check_lets_through_the_csv_module_reads_line_by_line():
    """The check that spares most blocks the csv module may only say yes where the csv module
    (strict) reads the block without error and every record on one line."""
    rng = random.Random(12)
    passed = 0
    for _ in range(20_000):
        text = "".join(rng.choice(['"', '""', ",", "a", "张", "\n", "\r\n", "\r"])
                       for _ in range(rng.randrange(1, 12))) + "\n"
        if not _simply_quoted(text.encode()):
            continue
        passed += 1
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        lines = [reader.line_num for _ in reader]
        assert lines == sorted(set(lines)) and all(  # one physical line per record
            b - a == 1 for a, b in zip([0, *lines], lines)), text
    assert passed > 2_000  # the check is not trivially no


def test_the_scan_finds_encoding_and_header():
    layout = scan_csv(lambda: io.BytesIO("姓名,电话\n张伟,1\n".encode("gbk")))
    assert (layout.encoding, layout.columns) == ("gb18030", ["姓名", "电话"])
