"""Readers of uploaded files into string-only DataFrames (private: use :mod:`catalog.formats`).

Every reader returns column names and columns of ``str | None`` and leaves the DataFrame to
:func:`build_frame`, so that every format gets the same checks: named, distinct columns, empty
cells missing, a row limit.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

from .errors import InvalidUpload, UploadTooLarge

__all__ = ["read_csv", "read_xlsx", "read_parquet", "read_jsonl", "build_frame", "decode_text"]

Cell = str | None
#: The widest table accepted: wider ones cost time and memory with the square of the file
#: (every row padded to every column) and are no dataset a department shares.
MAX_COLUMNS = 1_000
#: How far an XLSX may expand, at most: zip members in all, against the file and the limit.
_XLSX_MAX_RATIO = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


# --- shared -------------------------------------------------------------------------------


def build_frame(names: Sequence[str], columns: Sequence[Any]) -> pd.DataFrame:
    """A DataFrame of ``str`` columns from sequences of ``str | None`` or Arrow string arrays;
    empty strings become missing.

    Raises InvalidUpload (no columns, a blank or duplicate column name).
    """
    import pyarrow as pa

    check_names(names)
    arrays = [c if isinstance(c, (pa.Array, pa.ChunkedArray)) else pa.array(list(c), pa.string())
              for c in columns]
    frame = pd.DataFrame({name: pd.array(array, dtype="str")
                          for name, array in zip(names, arrays)}, columns=list(names))
    return frame.mask(frame == "")


def rows_to_columns(rows: Sequence[Sequence[Cell]], width: int) -> list[Sequence[Cell]]:
    """The columns of equally long ``rows``."""
    return list(zip(*rows)) if rows else [() for _ in range(width)]


def check_names(names: Sequence[Any]) -> None:
    """Raises InvalidUpload unless there is at least one column and every name is distinct text."""
    if not names:
        raise InvalidUpload("the file has no columns")
    seen: set[str] = set()
    check_width(len(names))
    for position, name in enumerate(names, start=1):
        if not isinstance(name, str) or not name.strip():
            raise InvalidUpload(f"column {position} has no name")
        if name in seen:
            raise InvalidUpload(f"duplicate column name {name!r}")
        seen.add(name)


def check_width(count: int) -> None:
    """Raises UploadTooLarge when a table has more than :data:`MAX_COLUMNS` columns."""
    if count > MAX_COLUMNS:
        raise UploadTooLarge(f"the file has more than {MAX_COLUMNS} columns")


def check_row_limit(count: int, max_rows: int | None) -> None:
    """Raises UploadTooLarge when ``count`` exceeds ``max_rows``."""
    if max_rows is not None and count > max_rows:
        raise UploadTooLarge(f"the file has more than {max_rows} rows")


def check_byte_limit(size: int, max_bytes: int | None) -> None:
    """Raises UploadTooLarge when the decoded data passes ``max_bytes``."""
    if max_bytes is not None and size > max_bytes:
        raise UploadTooLarge(f"the file expands to more than {max_bytes} bytes of data")


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030 (a superset of GBK and GB2312).

    Raises InvalidUpload when neither decodes, or the text holds control characters (binary).
    A Latin-1 file whose bytes happen to form valid GBK cannot be told apart and decodes as GBK.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break  # decoded, but binary: another encoding will not help
        return text
    raise InvalidUpload("the file is not UTF-8 or GBK text")


# --- CSV ----------------------------------------------------------------------------------


def read_csv(data: bytes, *, max_rows: int | None, max_bytes: int | None = None) -> pd.DataFrame:
    """Comma-separated values with a header row; blank lines are skipped.

    Raises InvalidUpload (encoding, no header, malformed quoting, a ragged row), UploadTooLarge.
    """
    reader = csv.reader(io.StringIO(decode_text(data), newline=""), strict=True)
    records = _csv_records(reader)
    first = next(records, None)
    if first is None:
        raise InvalidUpload("the file is empty")
    header = first[1]
    check_width(len(header))
    rows: list[list[str]] = []
    for line, row in records:
        if len(row) != len(header):
            raise InvalidUpload(f"line {line}: {len(row)} fields, but the header has "
                                f"{len(header)}; is the file truncated or a comma unquoted?")
        rows.append(row)
        check_row_limit(len(rows), max_rows)
    return build_frame(header, rows_to_columns(rows, len(header)))


def _csv_records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on. Raises InvalidUpload (bad quoting)."""
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidUpload(f"line {line}: malformed CSV ({exc}); is a quoted field left "
                                "open or the file truncated?") from exc
        if row:
            yield line, row


# --- XLSX ---------------------------------------------------------------------------------


def read_xlsx(data: bytes, *, max_rows: int | None,
              max_bytes: int | None = None) -> pd.DataFrame:
    """The first worksheet; its first non-empty row is the header. Numbers and dates become text.

    Raises InvalidUpload (not a workbook, corrupt, blank header cell, a value right of the last
    named column), UploadTooLarge.
    """
    import openpyxl

    _check_expansion(data, max_bytes)
    try:
        with warnings.catch_warnings():  # openpyxl warns about styles and extensions it skips
            warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                # the stated dimension (A1:XFD20000) would pad every row to 16,384 cells
                sheet.reset_dimensions()
                return _sheet_frame(sheet.iter_rows(values_only=True), max_rows, max_bytes)
            finally:
                book.close()
    except InvalidUpload:  # our own message (UploadTooLarge included)
        raise
    except Exception as exc:  # openpyxl raises many kinds on corrupt input; all mean the same
        raise InvalidUpload(f"not a readable XLSX workbook ({type(exc).__name__})") from exc


def _check_expansion(data: bytes, max_bytes: int | None) -> None:
    """Refuse a workbook whose parts expand past what any table of ``max_bytes`` needs (the
    markup included) or more than :data:`_XLSX_MAX_RATIO` times: openpyxl reads the shared
    strings whole before a single cell, so a zip bomb must be stopped here. A file that is no
    zip is left to openpyxl to refuse."""
    import zipfile

    if max_bytes is None:
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if expanded > 4 * max_bytes or expanded > _XLSX_MAX_RATIO * max(len(data), 1 << 20):
        raise UploadTooLarge(f"the workbook expands to {expanded:,} bytes; at most "
                             f"{min(4 * max_bytes, _XLSX_MAX_RATIO * max(len(data), 1 << 20)):,}"
                             " are read")


def _sheet_frame(rows: Iterable[tuple[Any, ...]], max_rows: int | None,
                 max_bytes: int | None = None) -> pd.DataFrame:
    cells = ([_cell_text(v) for v in row] for row in rows)
    numbered = ((n, row) for n, row in enumerate(cells, start=1) if any(row))
    first = next(numbered, None)
    if first is None:
        raise InvalidUpload("the workbook's first sheet is empty")
    header = _trim_right(first[1])
    check_width(len(header))
    body: list[list[Cell]] = []
    size = 0
    for number, row in numbered:
        body.append(_fit_row(row, width=len(header), number=number))
        check_row_limit(len(body), max_rows)
        size += sum(len(c) for c in body[-1] if c)
        check_byte_limit(size, max_bytes)
    return build_frame(header, rows_to_columns(body, len(header)))


def _trim_right(row: list[Cell]) -> list[Cell]:
    while row and row[-1] is None:
        row = row[:-1]
    return row


def _fit_row(row: list[Cell], *, width: int, number: int) -> list[Cell]:
    if any(v is not None for v in row[width:]):
        raise InvalidUpload(f"row {number}: a value right of the last named column")
    return row[:width] + [None] * (width - len(row))


def _cell_text(value: Any) -> Cell:
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


# --- Parquet ------------------------------------------------------------------------------


def read_parquet(data: bytes, *, max_rows: int | None,
                 max_bytes: int | None = None) -> pd.DataFrame:
    """Every flat column cast to text (numbers, dates, timestamps in Arrow's text form).

    Raises InvalidUpload (corrupt file, a nested or binary column), UploadTooLarge.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        check_row_limit(parquet.metadata.num_rows, max_rows)
        check_width(len(parquet.schema_arrow))
        for group in range(parquet.metadata.num_row_groups):  # stored sizes, before decoding
            check_byte_limit(parquet.metadata.row_group(group).total_byte_size, max_bytes)
        # text columns read as dictionaries: a value repeated in every row is held once, and
        # its decoded size is measured before anything is decoded
        texts = [f.name for f in parquet.schema_arrow
                 if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                 or _is_binary(f.type)]
        parquet = pq.ParquetFile(pa.BufferReader(data), read_dictionary=texts)
        table = _read_bounded(parquet, max_bytes)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc
    names = [n for n in table.column_names if not _PANDAS_INDEX.fullmatch(n)]
    check_names(names)
    return build_frame(names, [_arrow_text(name, table.column(name)) for name in names])


def _read_bounded(parquet: Any, max_bytes: int | None) -> Any:
    """Read batch by batch, stopping once the decoded data passes ``max_bytes``: a small
    dictionary-encoded file can expand to gigabytes."""
    import pyarrow as pa

    batches, size = [], 0
    for batch in parquet.iter_batches(batch_size=16_384, use_pandas_metadata=False):
        size += sum(_decoded_nbytes(column) for column in batch.columns)
        check_byte_limit(size, max_bytes)
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=parquet.schema_arrow)


def _decoded_nbytes(column: Any) -> int:
    """The size of ``column`` once dictionary-decoded, without decoding it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        return column.nbytes
    values = column.dictionary
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type) \
            or pa.types.is_binary(values.type):
        lengths = pc.binary_length(values)
    else:
        lengths = pa.array([values.type.bit_width // 8 or 1] * len(values))
    total = pc.sum(pc.take(lengths, column.indices)).as_py()
    return int(total or 0) + column.indices.nbytes


def _arrow_text(name: str, column: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_nested(kind) or _is_binary(kind):
        raise InvalidUpload(f"column {name!r} is of type {kind}; only flat text, number and "
                            "date columns can be published")
    try:
        return pc.cast(column, pa.string())
    except pa.ArrowException as exc:
        raise InvalidUpload(f"column {name!r} of type {kind} cannot be read as text") from exc


def _is_binary(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
                or pa.types.is_fixed_size_binary(kind))


# --- JSON Lines ---------------------------------------------------------------------------


def read_jsonl(data: bytes, *, max_rows: int | None, max_bytes: int | None = None) -> pd.DataFrame:
    """One flat JSON object per line; columns are the keys in order of first appearance.

    Numbers keep their literal text (JSON numbers cannot hold leading zeros, so such codes must
    be strings in the file); ``true``/``false`` become text; ``null`` and absent keys are missing.
    Raises InvalidUpload (not UTF-8, a line not JSON or not an object, a nested value, a key
    repeated in one object), UploadTooLarge.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidUpload("JSON Lines must be UTF-8 text") from exc
    records, keys = [], {}
    for record in _json_records(text, max_rows=max_rows):
        records.append(record)
        keys.update(dict.fromkeys(record))
        check_width(len(keys))  # a new key on every line would cost rows x keys
    names = list(keys)
    return build_frame(names, [[record.get(n) for record in records] for n in names])


def _json_records(text: str, *, max_rows: int | None) -> Iterator[dict[str, Cell]]:
    count = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        count += 1
        check_row_limit(count, max_rows)
        yield _json_record(line, number)


def _json_record(line: str, number: int) -> dict[str, Cell]:
    try:
        value = json.loads(line, object_pairs_hook=_unique_pairs, parse_int=str,
                           parse_float=str, parse_constant=str)
    except RecursionError:
        raise InvalidUpload(f"line {number}: nested too deeply; only flat records can be "
                            "published") from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InvalidUpload(f"line {number}: not valid JSON ({reason})") from exc
    if not isinstance(value, dict):
        raise InvalidUpload(f"line {number}: not a JSON object")
    return {key: _json_cell(key, v, number) for key, v in value.items()}


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is repeated in one object")
    return dict(pairs)


def _json_cell(key: str, value: Any, number: int) -> Cell:
    if isinstance(value, (dict, list)):
        raise InvalidUpload(f"line {number}: field {key!r} holds an object or array; "
                            "only flat records can be published")
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
