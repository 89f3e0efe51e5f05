"""What every format's reader refuses alike: a value over the field limit, a control character
in a value; each names where it is the way that format's users find it, never the value."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog import formats
from catalog.errors import InvalidUpload, UploadTooLarge
from catalog.streaming import open_table_source

MAX = formats.MAX_FIELD_CHARS
PHONE = "13812345678"


def _jsonl(values: list[str]) -> bytes:
    return "".join(json.dumps({"姓名": "张伟", "备注": v}, ensure_ascii=False) + "\n"
                   for v in values).encode()


def _parquet(values: list[str]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"姓名": ["张伟"] * len(values), "备注": values}), sink)
    return sink.getvalue().to_pybytes()


def _csv(values: list[str]) -> bytes:
    frame = pd.DataFrame({"姓名": ["张伟"] * len(values), "备注": values})
    return formats.write_table(frame, fmt="csv")


WRITE = {"jsonl": _jsonl, "parquet": _parquet, "csv": _csv}


@pytest.mark.parametrize(("fmt", "error", "message"), [
    ("jsonl", UploadTooLarge, f"^line 2, field '备注': a value longer than {MAX:,} characters"),
    ("parquet", UploadTooLarge, f"^row 2, column '备注': a value longer than {MAX:,} characters"),
    ("csv", UploadTooLarge, f"^line 3: a value longer than {MAX:,} characters"),
])
def test_a_value_over_the_limit_is_refused_in_every_format(fmt, error, message):
    data = WRITE[fmt](["无", PHONE + "x" * MAX, "无"])
    with pytest.raises(error, match=message) as refused:
        formats.read_table(data, fmt=fmt)
    assert PHONE not in str(refused.value)
    at_the_limit = WRITE[fmt](["无", "x" * MAX])
    assert formats.read_table(at_the_limit, fmt=fmt)["备注"].str.len().max() == MAX


@pytest.mark.parametrize(("fmt", "message"), [
    ("jsonl", r"^line 2, field '备注': a control character \(U\+0000\) in a value"),
    ("parquet", r"^row 2, column '备注': a control character \(U\+0000\) in a value"),
    ("csv", "line 3 holds a NUL byte"),
])
def test_a_control_character_in_a_value_is_refused_in_every_format(fmt, message):
    data = WRITE[fmt](["无", f"{PHONE}\x00"])
    with pytest.raises(InvalidUpload, match=message) as whole:
        formats.read_table(data, fmt=fmt)
    with pytest.raises(InvalidUpload) as chunked:
        with open_table_source(lambda: io.BytesIO(data), fmt=fmt, chunk_rows=1) as reader:
            list(reader)
    assert str(chunked.value) == str(whole.value) and PHONE not in str(whole.value)
