"""Tables read and written in chunks of rows: the one way every path reads a table file.

Publishing (the whole upload, :func:`catalog.formats.read_table`), ``govex mask`` (a local file)
and a delivery (a stored, encrypted payload) all read through the readers here, one per format,
so a file that publishes can be delivered and what one path refuses the others refuse in the
same words (which name a line, row or cell, never a value). What each format accepts is in its
reader's module: ``_csv`` (UTF-8 or GBK/GB18030, detected and checked: see ``_text``), ``_xlsx``
(the first sheet; formulas must carry their saved values), ``_parquet``, ``_jsonl``; what all
share (no value over ``MAX_FIELD_CHARS`` characters, no control characters, the row and byte
limits) in ``_readers``.

Each chunk is a ``pyarrow.Table`` of ``string`` columns with empty cells null. CSV is parsed by
pyarrow's streaming reader after one strict scan of the file, Parquet read batch by batch (never
more than one row group at a time), JSON Lines line by line (one pass finds the keys, a second
reads the rows), XLSX row by row through openpyxl's read-only mode (``total`` is 0 when the sheet
does not say its size). Written CSV is always UTF-8 (whatever the input's encoding), CRLF line
ends, every text value quoted (pyarrow's writer; still RFC 4180). A writer writes beside the
target and moves the file into place only when closed without error, so a failed job leaves no
half file::

    with open_table(Path("big.csv"), chunk_rows=100_000) as reader:
        with open_writer(Path("out.csv"), fmt=reader.fmt, columns=reader.columns) as writer:
            for chunk in reader:                  # reader.position / reader.total: progress
                writer.write(chunk)

A table that is not a plain file (a stored, encrypted payload; an upload in memory) is read from
any seekable binary file, opened as often as the reader needs (``open_table_source``), and written
to any writable binary file, left open for its owner (``open_sink_writer``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from ._csv import CsvReader
from ._detect import detect_format, format_of_name
from ._jsonl import JsonlReader
from ._parquet import ParquetReader
from ._readers import Limits, TableReader, check_names, check_values
from ._writers import WRITERS, TableWriter, text_columns
from ._xlsx import XlsxReader
from .errors import UnsupportedFormat

__all__ = ["DEFAULT_CHUNK_ROWS", "TableReader", "TableWriter", "as_text_chunk", "format_of",
           "open_table", "open_table_source", "open_writer", "open_sink_writer", "signature_of",
           "select_rows", "scoped_text_chunk"]

DEFAULT_CHUNK_ROWS = 100_000
_READERS: dict[str, type[TableReader]] = {"csv": CsvReader, "parquet": ParquetReader,
                                          "jsonl": JsonlReader, "xlsx": XlsxReader}


def format_of(filename: str) -> str:
    """The format a file name says (``.csv`` -> "csv"). Raises UnsupportedFormat."""
    return format_of_name(filename)


def open_table(path: Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> TableReader:
    """A chunked reader of the table in ``path`` (format from the name, confirmed by content).

    Raises UnsupportedFormat, InvalidUpload (empty, undecodable, malformed, no or duplicate
    column names; what is found only further on, while iterating), UploadTooLarge, OSError.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    fmt = detect_format(path.name, _signature(path))
    return _READERS[fmt](lambda: path.open("rb"), chunk_rows)


def open_table_source(opener: Callable[[], BinaryIO], *, fmt: str,
                      chunk_rows: int = DEFAULT_CHUNK_ROWS, max_rows: int | None = None,
                      max_bytes: int | None = None) -> TableReader:
    """A chunked reader of a ``fmt`` table in the seekable binary files ``opener`` returns
    (called more than once per reader; each file is closed by the reader). ``max_rows`` and
    ``max_bytes`` (of data once decoded) bound what is accepted.

    Raises UnsupportedFormat, InvalidUpload (as :func:`open_table`), UploadTooLarge, OSError,
    and whatever ``opener`` or reading its files raises.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    reader = _READERS.get(fmt)
    if reader is None:
        raise UnsupportedFormat(f"unknown format {fmt!r}")
    return reader(opener, chunk_rows, Limits(max_rows=max_rows, max_bytes=max_bytes))


def select_rows(chunk: pa.Table, rows: Mapping[str, Sequence[str]] | None) -> pa.Table:
    """The rows of a text ``chunk`` (as the readers yield) in the scope ``rows``: for every
    column named, its value is one of the values given (an empty cell is none of them).
    ``None``: every row. Vectorized: one ``is_in`` per column named."""
    if not rows:
        return chunk
    keep = None
    for column, values in rows.items():
        hit = pc.is_in(chunk.column(column), value_set=pa.array(list(values), pa.string()))
        keep = hit if keep is None else pc.and_(keep, hit)
    return chunk.filter(pc.fill_null(keep, False))


def scoped_text_chunk(table: pa.Table, *, rows: Mapping[str, Sequence[str]] | None) -> pa.Table:
    """:func:`as_text_chunk`, then :func:`select_rows` (what another engine's batches go
    through before masking, for a grant with a row scope; picklable with
    ``functools.partial``)."""
    return select_rows(as_text_chunk(table), rows)


def as_text_chunk(table: pa.Table) -> pa.Table:
    """``table`` (rows another engine read, e.g. Spark's Parquet reader) as a reader here yields
    a chunk: every column cast to text (numbers, dates, timestamps in Arrow's text form), empty
    cells null, each value checked as the readers check it. A refusal names the column only:
    where the rows sit in their files is not known here.

    Raises InvalidUpload (a nested or binary column; a control character in a value),
    UploadTooLarge (a value longer than ``MAX_FIELD_CHARS``).
    """
    chunk = text_columns(table, table.column_names)
    check_values(chunk, lambda row, column: f"column {column!r}")
    return chunk


def open_writer(path: Path, *, fmt: str, columns: Sequence[str]) -> TableWriter:
    """A writer of ``columns`` to ``path`` in ``fmt``; the file appears when closed cleanly.

    Raises UnsupportedFormat (unknown ``fmt``), InvalidUpload (no or duplicate columns), OSError.
    """
    writer = _writer_of(fmt, columns)
    partial = path.with_name(path.name + ".partial")
    return writer(partial.open("wb"), list(columns), target=(partial, path))


def open_sink_writer(sink: BinaryIO, *, fmt: str, columns: Sequence[str],
                     bom: bool = False, sheet: str | None = None) -> TableWriter:
    """A writer of ``columns`` in ``fmt`` to the writable binary file ``sink``: closing the
    writer completes the table (a Parquet footer, an XLSX archive) and leaves ``sink`` open.
    ``bom``: a CSV starts with a UTF-8 byte-order mark (for Excel). ``sheet``: XLSX only, the
    sheet's name (the writer's ``add_sheet`` adds another sheet to the same workbook).

    Raises UnsupportedFormat (unknown ``fmt``; ``bom`` with another format than CSV),
    InvalidUpload (no or duplicate columns), OSError.
    """
    writer = _writer_of(fmt, columns)
    if sheet is not None:
        if fmt != "xlsx":
            raise UnsupportedFormat("a sheet name is for XLSX only")
        return writer(sink, list(columns), sheet=sheet)
    if not bom:
        return writer(sink, list(columns))
    if fmt != "csv":
        raise UnsupportedFormat("a byte-order mark is for CSV only")
    return writer(sink, list(columns), bom=True)


def _writer_of(fmt: str, columns: Sequence[str]) -> type[TableWriter]:
    writer = WRITERS.get(fmt)
    if writer is None:
        raise UnsupportedFormat(f"unknown format {fmt!r}")
    check_names(list(columns))
    return writer


def signature_of(fh: BinaryIO) -> bytes:
    """The first bytes of the seekable binary file ``fh`` and its last four: what
    :func:`catalog.formats.detect_format` needs to confirm a format, without reading a large
    file whole. Leaves ``fh`` at its end. Raises OSError."""
    size = fh.seek(0, os.SEEK_END)
    fh.seek(0)
    if size <= 8192:
        return fh.read()
    head = fh.read(4096)
    fh.seek(-4, os.SEEK_END)
    return head + fh.read(4)


def _signature(path: Path) -> bytes:
    with path.open("rb") as fh:
        return signature_of(fh)
