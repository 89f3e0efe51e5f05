"""Tables larger than memory: read a file in chunks of rows, write the result chunk by chunk.

Each chunk is a ``pyarrow.Table`` of ``string`` columns with empty cells null, the same values
:func:`catalog.formats.read_table` gives for the whole file. CSV (UTF-8 or GBK, detected) is
parsed by pyarrow's streaming reader, Parquet read batch by batch (never more than one row group
at a time), JSON Lines line by line (one pass finds the keys, a second reads the rows), XLSX row
by row through openpyxl's read-only mode (``total`` is 0 when the sheet does not say its size).
Written CSV is always UTF-8 (whatever the input's encoding), CRLF line ends, every text value
quoted (pyarrow's writer; still RFC 4180). A writer writes beside the target and moves the file
into place only when closed without error, so a failed job leaves no half file::

    with open_table(Path("big.csv"), chunk_rows=100_000) as reader:
        with open_writer(Path("out.csv"), fmt=reader.fmt, columns=reader.columns) as writer:
            for chunk in reader:                  # reader.position / reader.total: progress
                writer.write(chunk)

A table that is not a plain file (a stored, encrypted payload) is read from any seekable binary
file, opened as often as the reader needs (``open_table_source``), and written to any writable
binary file, left open for its owner (``open_sink_writer``).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Self

import pyarrow as pa

from . import _readers
from ._writers import WRITERS, TableWriter, text_columns
from .errors import InvalidUpload
from .formats import detect_format

__all__ = ["DEFAULT_CHUNK_ROWS", "TableReader", "TableWriter", "format_of", "open_table",
           "open_table_source", "open_writer", "open_sink_writer"]

DEFAULT_CHUNK_ROWS = 100_000
_SNIFF_BYTES = 1 << 20


def format_of(filename: str) -> str:
    """The format a file name says (``.csv`` -> "csv"). Raises UnsupportedFormat."""
    from .formats import _format_of_name
    return _format_of_name(filename)


def open_table(path: Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> TableReader:
    """A chunked reader of the table in ``path`` (format from the name, confirmed by content).

    Raises UnsupportedFormat, InvalidUpload (empty, undecodable, malformed, no or duplicate
    column names; a malformed row further on is raised while iterating), OSError.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    fmt = detect_format(path.name, _signature(path))
    return _READERS[fmt](lambda: path.open("rb"), chunk_rows)


def open_table_source(opener: Callable[[], BinaryIO], *, fmt: str,
                      chunk_rows: int = DEFAULT_CHUNK_ROWS) -> TableReader:
    """A chunked reader of a ``fmt`` table in the seekable binary files ``opener`` returns
    (called once or twice per reader; each file is closed by the reader).

    Raises UnsupportedFormat, InvalidUpload (as :func:`open_table`), OSError, and whatever
    ``opener`` or reading its files raises.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    reader = _READERS.get(fmt)
    if reader is None:
        from .errors import UnsupportedFormat
        raise UnsupportedFormat(f"unknown format {fmt!r}")
    return reader(opener, chunk_rows)


def open_writer(path: Path, *, fmt: str, columns: Sequence[str]) -> TableWriter:
    """A writer of ``columns`` to ``path`` in ``fmt``; the file appears when closed cleanly.

    Raises UnsupportedFormat (unknown ``fmt``), InvalidUpload (no or duplicate columns), OSError.
    """
    writer = _writer_of(fmt, columns)
    partial = path.with_name(path.name + ".partial")
    return writer(partial.open("wb"), list(columns), target=(partial, path))


def open_sink_writer(sink: BinaryIO, *, fmt: str, columns: Sequence[str]) -> TableWriter:
    """A writer of ``columns`` in ``fmt`` to the writable binary file ``sink``: closing the
    writer completes the table (a Parquet footer, an XLSX archive) and leaves ``sink`` open.

    Raises UnsupportedFormat (unknown ``fmt``), InvalidUpload (no or duplicate columns), OSError.
    """
    return _writer_of(fmt, columns)(sink, list(columns))


def _writer_of(fmt: str, columns: Sequence[str]) -> type[TableWriter]:
    writer = WRITERS.get(fmt)
    if writer is None:
        from .errors import UnsupportedFormat
        raise UnsupportedFormat(f"unknown format {fmt!r}")
    _readers.check_names(list(columns))
    return writer


def _signature(path: Path) -> bytes:
    """The first bytes of ``path`` and its last four (enough for :func:`detect_format`)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= 8192:
            return fh.read()
        head = fh.read(4096)
        fh.seek(-4, os.SEEK_END)
        return head + fh.read(4)


class TableReader:
    """Chunks of a table file: iterate for ``pyarrow.Table`` chunks; ``position`` of ``total``
    (bytes or rows, whichever the format can tell) says how far it has come."""

    fmt: str = ""

    def __init__(self, opener: Callable[[], BinaryIO], chunk_rows: int) -> None:
        self._open, self.chunk_rows = opener, chunk_rows
        self.columns: list[str] = []
        with opener() as fh:
            self.total, self.position = fh.seek(0, os.SEEK_END), 0

    def __iter__(self) -> Iterator[pa.Table]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (safe to call twice)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def empty(self) -> pa.Table:
        """A table of the reader's columns and no rows."""
        return pa.table({name: pa.array([], pa.string()) for name in self.columns})


# --- CSV ----------------------------------------------------------------------------------


class _CsvReader(TableReader):
    fmt = "csv"

    def __init__(self, opener: Callable[[], BinaryIO], chunk_rows: int) -> None:
        super().__init__(opener, chunk_rows)
        head, self.encoding = _sniff_encoding(opener)
        self.columns = _csv_header(head, self.encoding)
        _readers.check_names(self.columns)
        self._file = _Paced(opener())

    def __iter__(self) -> Iterator[pa.Table]:
        import pyarrow.csv as pacsv

        try:
            reader = pacsv.open_csv(
                self._file,
                read_options=pacsv.ReadOptions(encoding=self.encoding, block_size=_CSV_BLOCK),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in self.columns},
                    null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True),
            )
            yield from _rechunk(self._batches(reader), self.chunk_rows)
        except UnicodeDecodeError as exc:
            raise InvalidUpload(f"the file is not UTF-8 or GBK text: a byte that is neither "
                                f"about {exc.start:,} bytes into the data") from exc
        except pa.ArrowInvalid as exc:
            raise InvalidUpload(f"malformed CSV: {exc}") from exc

    def _batches(self, reader: Any) -> Iterator[pa.RecordBatch]:
        for batch in reader:
            self.position = min(self._file.tell(), self.total)
            yield batch
            self._file.consumed()
        self.position = self.total

    def close(self) -> None:
        self._file.close()


_CSV_BLOCK = 1 << 22  # also the longest row pyarrow can read
_READ_AHEAD = 3  # blocks pyarrow may hold beyond the batch being used


class _Paced(io.RawIOBase):
    """A file that pyarrow's CSV reader may read at most :data:`_READ_AHEAD` blocks ahead of
    the batches used so far. Its background reader would otherwise queue up to 32 blocks
    (128 MiB) whatever the chunk size. One batch comes of each block; should a block give
    none, a read waits a moment and then goes on, so the pacing can slow but never stall."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw, self._reads, self._used = raw, 0, 0
        self._turn = threading.Condition()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        with self._turn:
            self._turn.wait_for(lambda: self.closed or self._reads - self._used < _READ_AHEAD,
                                timeout=0.5)
            self._reads += 1
        return self._raw.read(size)

    def consumed(self) -> None:
        """One more batch has been used (and let go of)."""
        with self._turn:
            self._used += 1
            self._turn.notify_all()

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        with self._turn:
            super().close()
            self._turn.notify_all()
        self._raw.close()


def _sniff_encoding(opener: Callable[[], BinaryIO]) -> tuple[bytes, str]:
    """The first bytes and "utf8" or "gb18030" (a superset of GBK): UTF-8 when the whole file
    decodes as UTF-8 (as :func:`catalog.formats.read_table` decides), else GB18030 if the first
    bytes decode as such. Raises InvalidUpload."""
    with opener() as fh:
        head = fh.read(_SNIFF_BYTES)
        complete = len(head) < _SNIFF_BYTES
        if _is_utf8(head, fh):
            return head, "utf8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=complete)
    except UnicodeDecodeError:
        raise InvalidUpload("the file is not UTF-8 or GBK text") from None
    return head, "gb18030"


def _is_utf8(head: bytes, rest: BinaryIO) -> bool:
    """Whether ``head`` and all that follows it in ``rest`` is UTF-8 (read a block at a time)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        block = head
        while block:
            decoder.decode(block)
            block = rest.read(_SNIFF_BYTES)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_header(head: bytes, encoding: str) -> list[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig" if encoding == "utf8" else encoding)()
    text = decoder.decode(head, final=False)
    try:
        for row in csv.reader(io.StringIO(text, newline=""), strict=True):
            if row:
                return row
    except csv.Error as exc:
        raise InvalidUpload(f"malformed CSV header ({exc})") from exc
    raise InvalidUpload("the file is empty")


def _rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Record batches regrouped into tables of about ``rows`` rows (the last may be smaller)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for whole in batches:
        for start in range(0, whole.num_rows, rows):
            batch = whole.slice(start, rows)
            pending.append(batch)
            count += batch.num_rows
            if count >= rows:
                yield pa.Table.from_batches(pending)
                pending, count = [], 0
    if count:
        yield pa.Table.from_batches(pending)


# --- Parquet ------------------------------------------------------------------------------


class _ParquetReader(TableReader):
    fmt = "parquet"

    def __init__(self, opener: Callable[[], BinaryIO], chunk_rows: int) -> None:
        import pyarrow.parquet as pq

        super().__init__(opener, chunk_rows)
        self._source = opener()
        try:
            self._file = pq.ParquetFile(self._source)
        except (pa.ArrowException, OSError) as exc:
            self._source.close()
            raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc
        self.columns = [n for n in self._file.schema_arrow.names
                        if not _readers._PANDAS_INDEX.fullmatch(n)]
        _readers.check_names(self.columns)
        self.total = self._file.metadata.num_rows

    def __iter__(self) -> Iterator[pa.Table]:
        try:
            for batch in self._file.iter_batches(batch_size=self.chunk_rows, columns=self.columns,
                                                 use_pandas_metadata=False):
                self.position += batch.num_rows
                yield text_columns(pa.Table.from_batches([batch]), self.columns)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc

    def close(self) -> None:
        self._file.close()
        self._source.close()


# --- JSON Lines ---------------------------------------------------------------------------


class _JsonlReader(TableReader):
    fmt = "jsonl"

    def __init__(self, opener: Callable[[], BinaryIO], chunk_rows: int) -> None:
        super().__init__(opener, chunk_rows)
        keys: dict[str, None] = {}
        for _, record in self._records():
            keys.update(dict.fromkeys(record))
        self.columns = list(keys)
        _readers.check_names(self.columns)

    def _records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(bytes read so far, record) of every non-blank line; raises InvalidUpload."""
        with self._open() as fh:
            done = 0
            for number, raw in enumerate(fh, start=1):
                done += len(raw)
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidUpload("JSON Lines must be UTF-8 text") from exc
                if line.strip():
                    yield done, _readers._json_record(line, number)

    def __iter__(self) -> Iterator[pa.Table]:
        pending: list[dict[str, Any]] = []
        for done, record in self._records():
            pending.append(record)
            if len(pending) >= self.chunk_rows:
                self.position = done
                yield self._table(pending)
                pending = []
        self.position = self.total
        if pending:
            yield self._table(pending)

    def _table(self, records: list[dict[str, Any]]) -> pa.Table:
        raw = pa.table({n: pa.array([r.get(n) for r in records], pa.string())
                        for n in self.columns})
        return text_columns(raw, self.columns)


# --- XLSX ---------------------------------------------------------------------------------


class _XlsxReader(TableReader):
    fmt = "xlsx"

    def __init__(self, opener: Callable[[], BinaryIO], chunk_rows: int) -> None:
        import openpyxl

        super().__init__(opener, chunk_rows)
        self._source = opener()
        try:
            self._book = openpyxl.load_workbook(self._source, read_only=True, data_only=True)
            sheet = self._book.worksheets[0]
            self._rows = self._numbered(sheet.iter_rows(values_only=True))
            first = next(self._rows, None)
        except Exception as exc:  # openpyxl raises many kinds on corrupt input
            self._source.close()
            raise InvalidUpload(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
        if first is None:
            raise InvalidUpload("the workbook's first sheet is empty")
        self.columns = _readers._trim_right(first[1])
        _readers.check_names(self.columns)
        self.total = max((sheet.max_row or 1) - first[0], 0)

    @staticmethod
    def _numbered(rows: Any) -> Iterator[tuple[int, list[Any]]]:
        cells = ([_readers._cell_text(v) for v in row] for row in rows)
        return ((n, row) for n, row in enumerate(cells, start=1) if any(row))

    def __iter__(self) -> Iterator[pa.Table]:
        width, pending = len(self.columns), []
        for number, row in self._rows:
            pending.append(_readers._fit_row(row, width=width, number=number))
            if len(pending) >= self.chunk_rows:
                yield self._table(pending)
                pending = []
        if pending:
            yield self._table(pending)
        self.position = self.total

    def _table(self, rows: list[list[Any]]) -> pa.Table:
        self.position = min(self.position + len(rows), self.total)
        columns = _readers.rows_to_columns(rows, len(self.columns))
        raw = pa.table([pa.array(list(c), pa.string()) for c in columns], names=self.columns)
        return text_columns(raw, self.columns)

    def close(self) -> None:
        self._book.close()
        self._source.close()


_READERS = {"csv": _CsvReader, "parquet": _ParquetReader, "jsonl": _JsonlReader,
            "xlsx": _XlsxReader}
