"""CSV: one strict scan of the whole file, then pyarrow's streaming parser (private: the CSV
reader of :mod:`catalog.streaming`).

The scan reads the file a block at a time before any row is handed on, and decides:

- the encoding, by the rules of :mod:`catalog._text`;
- the header: named, distinct columns;
- quoting, by Python's csv module in strict mode: every quote closes and nothing but a comma or
  a line end follows a closing quote. An unterminated quote would otherwise merge the rows after
  it into one value; the refusal names the line the quote opened on;
- every row has the header's fields, and no field more than ``MAX_FIELD_CHARS`` characters.

A block without a quote character, or whose quotes all open and close fields on one line (most
blocks of most files; checked with numpy), can hold no quoting problem, so it is not parsed:
pyarrow refuses a ragged row in it, and any parser error (whose message would quote the row)
makes the scan run again over every block, which finds the line and says what is wrong without
quoting it. pyarrow then parses what the scan accepted: strict CSV, where its lenient
reading and the csv module's agree, paced so that memory follows the chunk size.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from . import _text
from ._readers import CONTROL, MAX_FIELD_CHARS, NO_LIMITS, Limits, Opener, TableReader, check_names
from .errors import InvalidUpload, UploadTooLarge

__all__ = ["CsvLayout", "CsvReader", "scan_csv"]

_SCAN_BLOCK = 1 << 20
_CSV_BLOCK = 1 << 22  # pyarrow's block: also the longest row it can read
_READ_AHEAD = 3  # blocks pyarrow may hold beyond the batch being used
_MALFORMED = "malformed CSV"
_CONTROL_BYTE = re.compile(CONTROL.pattern.encode())
_QUOTE = ord('"')
#: What may stand before an opening quote or after a closing one: a comma, a line end, or the
#: other quote of a doubled pair.
_BOUNDARY = np.isin(np.arange(256), list(b',\r\n"'))


@dataclass(frozen=True)
class CsvLayout:
    """What the scan found: the encoding (``"utf8"`` or ``"gb18030"``) and the header."""

    encoding: str
    columns: list[str]


def scan_csv(opener: Opener, *, exact: bool = False) -> CsvLayout:
    """Read the whole CSV file ``opener`` opens and return its layout, or refuse it.

    ``exact`` parses every block, not only those with quotes (to name the line of a problem
    pyarrow found). Raises InvalidUpload (encoding, controls, quoting, a ragged row, no or bad
    header, empty), UploadTooLarge (too wide, a field or row too long), OSError.
    """
    with opener() as fh:
        start = fh.read(4)
    _text.refuse_utf16(start)
    try:
        return _scan(opener, "utf-8-sig", exact=exact)
    except _text.NotUtf8 as exc:
        if start.startswith(codecs.BOM_UTF8):
            raise InvalidUpload(
                f"{_text.NOT_TEXT}: it starts with a UTF-8 byte-order mark, but line {exc.line} "
                f"holds bytes that are not UTF-8 (GBK after the mark?); {_text.ACCEPTED}") from None
        if not exc.ascii_before:
            raise InvalidUpload(
                f"{_text.NOT_TEXT}: it is UTF-8 up to line {exc.line}, which holds bytes that "
                f"are not (two files joined?); {_text.ACCEPTED}") from None
    return _scan(opener, "gb18030", exact=exact)


def _scan(opener: Opener, encoding: str, *, exact: bool) -> CsvLayout:
    decoder = codecs.getincrementaldecoder(encoding)()
    rows = _Rows(exact=exact)
    sample = _text.ChineseSample() if encoding == "gb18030" else None
    carry, plain = b"", True
    with opener() as fh:
        while True:
            block = fh.read(_SCAN_BLOCK)
            final = not block
            data = carry + block
            cut = len(data) if final else _line_end(data)
            batch, carry = data[:cut], data[cut:]
            _refuse_control(batch, line=rows.next_line)
            _refuse_long_lines(batch, carry, line=rows.next_line)
            ascii_only = batch.isascii()  # the same text in both encodings: nothing to decode
            text = None if ascii_only else _text.decode(
                decoder, batch, final=final, line=rows.next_line, ascii_before=plain)
            plain = plain and ascii_only
            if sample and text:
                sample.add(text)
            rows.feed(batch, text, final=final)
            if final:
                break
    if sample:
        sample.check()
    if rows.header is None:
        raise InvalidUpload("the file is empty", code="file_empty", field="file")
    return CsvLayout("utf8" if encoding.startswith("utf") else encoding, rows.header)


def _line_end(data: bytes) -> int:
    """Where the last complete line of ``data`` ends (a CR at the very end may be half a CRLF).
    Line ends are ASCII bytes, which no multi-byte character of UTF-8 or GB18030 contains."""
    end = len(data) - 1 if data.endswith(b"\r") else len(data)
    return max(data.rfind(b"\n", 0, end), data.rfind(b"\r", 0, end)) + 1


def _refuse_control(batch: bytes, *, line: int) -> None:
    """Raises InvalidUpload at the first control byte of ``batch`` (whose first line is
    ``line``): checked before decoding, since a NUL says "binary or UTF-16" better than a byte
    that does not decode."""
    if not _text.has_control(batch):
        return
    found = _CONTROL_BYTE.search(batch)
    what = "a NUL byte" if found.group() == b"\0" else \
        f"a control character (U+{found.group()[0]:04X})"
    at = line + _text.count_lines(batch[:found.start()])
    raise InvalidUpload(f"{_text.NOT_TEXT}: line {at} holds {what}, as binary files and "
                        f"UTF-16 text do; {_text.ACCEPTED}")


def _refuse_long_lines(batch: bytes, carry: bytes, *, line: int) -> None:
    """Raises UploadTooLarge for a line longer than pyarrow's block, complete in ``batch``
    (whose first line is ``line``) or not yet (``carry``). Batches are a block of the file
    and what the last one left over, so only a batch past the limit can hold such a line."""
    if len(carry) > _CSV_BLOCK:
        raise _row_too_long(line + _text.count_lines(batch))
    if len(batch) <= _CSV_BLOCK:
        return
    for number, whole in enumerate(batch.splitlines(), start=line):
        if len(whole) > _CSV_BLOCK:
            raise _row_too_long(number)


def _row_too_long(line: int) -> UploadTooLarge:
    return UploadTooLarge(f"line {line}: a row longer than {_CSV_BLOCK >> 20} MiB, the most "
                          "the exchange reads")


class _Rows:
    """The scan's view of the rows: the header, then each row's width and quoting."""

    def __init__(self, *, exact: bool) -> None:
        self.exact = exact
        self.header: list[str] | None = None
        self.line = 0  # lines of complete records so far
        self.pending: list[str] = []  # lines of a record still open at the end of a batch

    @property
    def next_line(self) -> int:
        """The number of the first line not yet taken (pending lines included)."""
        return self.line + len(self.pending) + 1

    def feed(self, batch: bytes, text: str | None, *, final: bool) -> None:
        """Check the complete lines ``batch`` (``text``: decoded, None if ASCII).
        Raises InvalidUpload, UploadTooLarge."""
        if self.header is not None and not self.pending and not self.exact \
                and (b'"' not in batch or _simply_quoted(batch)):
            self.line += _text.count_lines(batch)
            return
        text = batch.decode("ascii") if text is None else text
        lines = self.pending + list(io.StringIO(text, newline=""))
        reader = csv.reader(lines, strict=True)
        done = 0  # lines of ``lines`` in complete records
        try:
            for row in reader:
                self._take(row, line=self.line + done + 1)
                done = reader.line_num
        except csv.Error as exc:
            self._broken(lines, done=done, at=self.line + reader.line_num, reason=str(exc),
                         final=final)
            return
        self.line += done
        self.pending = []

    def _take(self, row: list[str], *, line: int) -> None:
        if self.header is None:
            if row:
                check_names(row)
                self.header = row
        elif row and len(row) != len(self.header):
            raise InvalidUpload(f"line {line}: {len(row)} fields, but the header has "
                                f"{len(self.header)}: {_MALFORMED} (is the file truncated, or "
                                "a comma not quoted?)")

    def _broken(self, lines: list[str], *, done: int, at: int, reason: str,
                final: bool) -> None:
        """The record at ``lines[done:]`` did not parse: keep it for the next batch if it may
        go on there, else refuse it (``at``: the line the csv module stopped on)."""
        record, start = lines[done:], self.line + done + 1
        if reason == "unexpected end of data" and not final:
            self.line, self.pending = self.line + done, record
            if sum(map(len, record)) > _CSV_BLOCK:
                raise _row_too_long(start)
            return
        if reason.startswith("field larger than field limit"):
            raise _too_long(record, start=start, at=at)
        opened = start + _quote_line(record)
        if reason == "unexpected end of data":
            raise InvalidUpload(
                f"line {opened}: {_MALFORMED}: a quote opened on this line is never closed, and "
                "would merge the rows after it into one value; is the file truncated, or a "
                "closing quote missing?")
        if "expected after" in reason:
            raise InvalidUpload(
                f"line {at}: {_MALFORMED}: text follows the closing quote of a field that opened "
                f"on line {opened} (a quote inside a quoted field is written twice: \"\"); is a "
                "quote left open there?")
        raise InvalidUpload(f"line {at}: {_MALFORMED} ({reason})")


def _simply_quoted(batch: bytes) -> bool:
    """Whether every quote in ``batch`` (complete lines) opens a field or closes it on the same
    line, or is one of a doubled pair inside one: what the csv module accepts without a
    question, checked on the bytes at once (a file that quotes every field, as pyarrow and many
    database tools write, would otherwise be parsed twice). False is no refusal: the csv module
    then reads the batch."""
    data = np.frombuffer(batch, dtype=np.uint8)
    quotes = np.flatnonzero(data == _QUOTE)
    if len(quotes) % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]  # a doubled quote is a close, then an open
    before = _BOUNDARY[data[np.maximum(opens - 1, 0)]] | (opens == 0)
    after = _BOUNDARY[data[np.minimum(closes + 1, len(data) - 1)]] | (closes == len(data) - 1)
    if not (before.all() and after.all()):
        return False
    ends = np.flatnonzero((data == ord("\n")) | (data == ord("\r")))
    return bool((np.searchsorted(ends, opens) == np.searchsorted(ends, closes)).all())


def _too_long(record: list[str], *, start: int, at: int) -> Exception:
    """The refusal of a field that passed the limit on line ``at`` in the record starting on
    line ``start``: a quote never closed in what was read, or a value too long."""
    quoted = _quote_line(record[:at - start + 1], open_only=True)  # the long field's quote
    if quoted >= 0 and _quote_line(record, open_only=True) >= 0:
        return InvalidUpload(
            f"line {start + quoted}: {_MALFORMED}: a quote opened on this line is not closed "
            f"within {MAX_FIELD_CHARS:,} characters, and would merge the rows after it into one "
            "value; is a closing quote missing?")
    return UploadTooLarge(f"line {start + quoted if quoted >= 0 else at}: a value longer than "
                          f"{MAX_FIELD_CHARS:,} characters, the most a field may hold")


def _quote_line(lines: list[str], *, open_only: bool = False) -> int:
    """Which of ``lines`` (one record, perhaps running on) holds the opening quote of the first
    quoted field that is never closed or has text after its closing quote: its index, or -1.
    With ``open_only``, only a quote never closed counts."""
    text, pos, field_start = "".join(lines), 0, True
    while pos < len(text):
        char = text[pos]
        if field_start and char == '"':
            opened, pos = pos, _after_quoted(text, pos + 1)
            if pos < 0 or (not open_only and pos < len(text) and text[pos] not in ',\r\n'):
                return _line_index(lines, opened)
            field_start = False
            continue
        field_start = char in ",\r\n"
        pos += 1
    return -1


def _after_quoted(text: str, pos: int) -> int:
    """Where the quoted field whose content starts at ``pos`` ends (after its closing quote),
    or -1 if it never closes."""
    while True:
        quote = text.find('"', pos)
        if quote < 0:
            return -1
        if not text.startswith('""', quote):
            return quote + 1
        pos = quote + 2


def _line_index(lines: list[str], offset: int) -> int:
    for index, line in enumerate(lines):
        if offset < len(line):
            return index
        offset -= len(line)
    return len(lines) - 1


class CsvReader(TableReader):
    """CSV in chunks: the scan (:func:`scan_csv`), then pyarrow's parser."""

    fmt = "csv"
    controls_checked = True  # the scan refuses them in the bytes

    def __init__(self, opener: Opener, chunk_rows: int, limits: Limits = NO_LIMITS) -> None:
        super().__init__(opener, chunk_rows, limits)
        layout = scan_csv(opener)
        self.encoding, self.columns = layout.encoding, layout.columns
        self._file = _Paced(opener())

    def _chunks(self) -> Iterator[pa.Table]:
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
            return
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:  # its text may quote a row
            straddled = "straddl" in str(exc)
        raise self._diagnosis(straddled=straddled)

    def _diagnosis(self, *, straddled: bool) -> Exception:
        """What pyarrow stumbled on, found again by the exact scan (which raises it)."""
        scan_csv(self._open, exact=True)
        if straddled:
            return UploadTooLarge(f"a row longer than {_CSV_BLOCK >> 20} MiB, the most the "
                                  "exchange reads")
        return InvalidUpload(f"{_MALFORMED} that the exchange cannot read")

    def _too_long(self, row: int, column: str) -> Exception:
        scan_csv(self._open, exact=True)  # names the line
        return super()._too_long(row, column)

    def _batches(self, reader: Any) -> Iterator[pa.RecordBatch]:
        for batch in reader:
            self.position = min(self._file.tell(), self.total)
            yield batch
            self._file.consumed()
        self.position = self.total

    def close(self) -> None:
        self._file.close()


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
