"""Tables in and out, whole: CSV (UTF-8 or GBK), XLSX, Parquet and JSON Lines.

A whole table is read by the same readers as a table read in chunks (:mod:`catalog.streaming`,
which says what each format accepts), so publishing accepts and refuses exactly what a delivery
and ``govex mask`` do. Every column is read as text (pandas ``str`` dtype): codes keep their
leading zeros, 18-digit resident IDs stay exact, nothing is guessed to be a number or a date.
Empty cells are missing. A file with a header row and no data rows reads as a table of 0 rows
(the caller decides whether that may be published); a file with no columns at all is refused.
Missing values and empty strings are the same thing in every format.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pandas as pd
import pyarrow as pa

from ._detect import FORMATS, detect_format
from ._readers import MAX_COLUMNS, MAX_FIELD_CHARS, frame_of
from ._writers import XLSX_MAX_ROWS
from .errors import CatalogError, InvalidUpload, UnsupportedFormat
from .streaming import open_table_source

__all__ = ["FORMATS", "MAX_COLUMNS", "MAX_FIELD_CHARS", "XLSX_MAX_ROWS", "detect_format",
           "read_table", "write_table", "media_type", "frame_of"]

_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "jsonl": "application/x-ndjson",
}


def read_table(data: bytes, *, fmt: str, max_rows: int | None = None,
               max_bytes: int | None = None) -> pd.DataFrame:
    """The table in ``data``, every column as text (``str`` dtype), empty cells missing.

    Read by the same reader as every other path (:mod:`catalog.streaming`), whole: CSV may be
    UTF-8 (with or without BOM) or GBK/GB18030; XLSX reads the first sheet. Raises
    UnsupportedFormat, InvalidUpload (empty, undecodable, malformed, ragged, no columns, blank or
    duplicate column names, a formula without its saved value, a control character),
    UploadTooLarge (more than ``max_rows`` data rows, more than ``max_bytes`` of decoded data:
    compressed formats can expand enormously; a value over ``MAX_FIELD_CHARS`` characters).
    """
    if fmt not in FORMATS:
        raise UnsupportedFormat(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if not data:
        raise InvalidUpload("the file is empty")
    with open_table_source(lambda: io.BytesIO(data), fmt=fmt, max_rows=max_rows,
                           max_bytes=max_bytes) as reader:
        chunks = list(reader)
        return frame_of(pa.concat_tables(chunks) if chunks else reader.empty())


def write_table(df: pd.DataFrame, *, fmt: str) -> bytes:
    """``df`` as bytes in ``fmt``, every value written as text, missing values empty/null.

    CSV is UTF-8 without BOM, a header row, no index, RFC 4180 (CRLF) line ends; JSON Lines is
    one object per line, not ASCII-escaped. Raises UnsupportedFormat, CatalogError (a table
    XLSX cannot hold: too many rows, control characters).
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise UnsupportedFormat(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return writer(_as_text(df))


def media_type(fmt: str) -> str:
    """The HTTP media type of ``fmt``. Raises UnsupportedFormat."""
    try:
        return _MEDIA_TYPES[fmt]
    except KeyError:
        raise UnsupportedFormat(f"unknown format {fmt!r}") from None


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    frame = df.astype("str")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _write_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


def _write_jsonl(frame: pd.DataFrame) -> bytes:
    names = list(frame.columns)
    values = frame.astype(object).where(frame.notna(), None)
    lines = (json.dumps(dict(zip(names, row)), ensure_ascii=False) + "\n"
             for row in values.itertuples(index=False, name=None))
    return "".join(lines).encode("utf-8")


def _write_parquet(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.string()) for name in frame.columns])
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    buffer = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(None), buffer)
    return buffer.getvalue().to_pybytes()


def _write_xlsx(frame: pd.DataFrame) -> bytes:
    import openpyxl

    if len(frame) + 1 > XLSX_MAX_ROWS:
        raise CatalogError(f"XLSX holds at most {XLSX_MAX_ROWS - 1} data rows")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    try:
        sheet.append([_text_cell(sheet, name) for name in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_text_cell(sheet, v) for v in row])
    except openpyxl.utils.exceptions.IllegalCharacterError as exc:
        raise CatalogError("a value holds a control character that XLSX cannot store") from exc
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: object, value: object) -> object:
    """A cell stored as text, so that "=..." stays a value and is never run as a formula."""
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, str):
        return None  # missing (NaN)
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


_WRITERS: dict[str, Callable[[pd.DataFrame], bytes]] = {
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "parquet": _write_parquet,
    "jsonl": _write_jsonl,
}
