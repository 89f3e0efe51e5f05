"""What every table reader shares (private: use :mod:`catalog.streaming`, or
:func:`catalog.formats.read_table` for a whole table): the base class, the limits, and the checks
that give every format the same refusals.

There is one reader per format (``_csv``, ``_xlsx``, ``_parquet``, ``_jsonl``) and every path
reads through it: publishing (the whole upload), ``govex mask`` (a local file) and a delivery (a
stored payload). So a file that publishes can be delivered, and what one path refuses every path
refuses, in the same words. A refusal names a line, a row, a cell or a column, never a value: a
row's values may be someone's personal data.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Self

import pyarrow as pa
import pyarrow.compute as pc

from .errors import InvalidUpload, UploadTooLarge

__all__ = ["MAX_COLUMNS", "MAX_FIELD_CHARS", "CONTROL", "Limits", "NO_LIMITS", "TableReader",
           "frame_of", "check_names", "check_values", "check_width", "check_row_limit",
           "check_byte_limit", "arrow_text", "is_binary"]

#: The widest table accepted: wider ones cost time and memory with the square of the file
#: (every row padded to every column) and are no dataset a department shares.
MAX_COLUMNS = 1_000
#: The longest value accepted in any field of any format, in characters: the limit Python's csv
#: module has always held CSV to (a worksheet cell holds at most 32,767). A longer one is a
#: file gone wrong (a quote left open swallowing the rows after it) or no table at all.
MAX_FIELD_CHARS = 131_072
#: Control characters no table holds (tab, line feed and carriage return are text).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Opener = Callable[[], BinaryIO]


@dataclass(frozen=True)
class Limits:
    """How much a reader accepts: data rows, and bytes of data once decoded (XLSX and Parquet
    are compressed and may expand enormously). None: no limit."""

    max_rows: int | None = None
    max_bytes: int | None = None


NO_LIMITS = Limits()


class TableReader:
    """Chunks of a table file: iterate for ``pyarrow.Table`` chunks of ``string`` columns (empty
    cells null); ``position`` of ``total`` (bytes or rows, whichever the format can tell) says
    how far it has come. Iterating raises InvalidUpload or UploadTooLarge at the first row the
    exchange does not accept (too many rows, a value too long or holding a control character),
    naming where it is."""

    fmt: str = ""
    #: Whether the format refuses control characters before values exist (CSV checks its
    #: bytes; XML cannot hold them), so that :meth:`__iter__` need not look for them again.
    controls_checked = False

    def __init__(self, opener: Opener, chunk_rows: int, limits: Limits = NO_LIMITS) -> None:
        self._open, self.chunk_rows, self.limits = opener, chunk_rows, limits
        self.columns: list[str] = []
        self.rows = 0
        with opener() as fh:
            self.total, self.position = fh.seek(0, os.SEEK_END), 0

    def __iter__(self) -> Iterator[pa.Table]:
        for chunk in self._chunks():
            self._check_values(chunk)
            self.rows += chunk.num_rows
            check_row_limit(self.rows, self.limits.max_rows)
            yield chunk

    def _chunks(self) -> Iterator[pa.Table]:
        raise NotImplementedError

    def where(self, row: int, column: str) -> str:
        """How a refusal names the cell of data row ``row`` (0-based over the whole table) in
        ``column``; each format says it the way its users find it."""
        return f"row {row + 1}, column {column!r}"

    def _check_values(self, chunk: pa.Table) -> None:
        check_values(chunk, lambda row, column: self.where(self.rows + row, column),
                     controls=not self.controls_checked,
                     too_long=lambda row, column: self._too_long(self.rows + row, column))

    def _too_long(self, row: int, column: str) -> Exception:
        return _too_long(self.where(row, column))

    def close(self) -> None:
        """Release the file (safe to call twice)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def empty(self) -> pa.Table:
        """A table of the reader's columns and no rows."""
        return pa.table({name: pa.array([], pa.string()) for name in self.columns})


def check_values(chunk: pa.Table, where: Callable[[int, str], str], *, controls: bool = True,
                 too_long: Callable[[int, str], Exception] | None = None) -> None:
    """Raises UploadTooLarge for a value of ``chunk`` (text columns) longer than
    :data:`MAX_FIELD_CHARS` (or what ``too_long(row, column)`` returns), InvalidUpload for one
    holding a control character (unless ``controls`` is False); ``where(row, column)`` names the
    cell, ``row`` counted within ``chunk``."""
    for name in chunk.column_names:
        column = chunk.column(name)
        long_values = pc.greater(pc.utf8_length(column), MAX_FIELD_CHARS)
        if pc.any(long_values).as_py():
            row = _first(long_values)
            raise too_long(row, name) if too_long else _too_long(where(row, name))
        if not controls:
            continue
        control = pc.match_substring_regex(column, CONTROL.pattern)
        if pc.any(control).as_py():
            row = _first(control)
            code = ord(CONTROL.search(column[row].as_py()).group())
            raise InvalidUpload(f"{where(row, name)}: a control character "
                                f"(U+{code:04X}) in a value; binary data is not a table")


def _too_long(where: str) -> UploadTooLarge:
    return UploadTooLarge(f"{where}: a value longer than {MAX_FIELD_CHARS:,} characters, the "
                          "most a field may hold")


def _first(mask: Any) -> int:
    return int(pc.index(mask, True).as_py())


def frame_of(table: pa.Table) -> Any:
    """``table`` as a DataFrame of ``str`` columns (missing values stay missing), each column
    one contiguous array, as the masking operators expect."""
    import pandas as pd

    return pd.DataFrame({name: pd.array(table.column(name).combine_chunks(), dtype="str")
                         for name in table.column_names}, columns=table.column_names)


def check_names(names: Sequence[Any]) -> None:
    """Raises InvalidUpload unless there is at least one column and every name is distinct text;
    UploadTooLarge past :data:`MAX_COLUMNS`."""
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


def arrow_text(name: str, column: Any) -> Any:
    """``column`` cast to Arrow strings (numbers, dates, timestamps in Arrow's text form).

    Raises InvalidUpload for a nested or binary column, or one that cannot be cast.
    """
    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_nested(kind) or is_binary(kind):
        raise InvalidUpload(f"column {name!r} is of type {kind}; only flat text, number and "
                            "date columns can be published")
    try:
        return pc.cast(column, pa.string())
    except pa.ArrowException as exc:
        raise InvalidUpload(f"column {name!r} of type {kind} cannot be read as text") from exc


def is_binary(kind: Any) -> bool:
    """Whether the Arrow type ``kind`` holds bytes rather than text."""
    return bool(pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
                or pa.types.is_fixed_size_binary(kind))
