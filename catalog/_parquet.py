"""Parquet: every flat column cast to text, batch by batch (private: the Parquet reader of
:mod:`catalog.streaming`).

Never more than one batch is decoded at a time. With a byte limit (publishing), the decoded
size of the text columns is counted before anything is decoded: a small file whose dictionary
holds one long value repeated in every row can expand to gigabytes. They are counted from their
dictionaries, one column and one row group at a time (Arrow turns plain-encoded pages into a
dictionary that grows with the row group: read so for every column at once, a row group of a
million unique IDs, mobiles and addresses took ~450 MB more), then read as plain text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ._readers import (
    NO_LIMITS,
    Limits,
    Opener,
    TableReader,
    check_byte_limit,
    check_names,
    check_row_limit,
    is_binary,
)
from ._writers import text_columns
from .errors import InvalidUpload

__all__ = ["ParquetReader"]

_PANDAS_INDEX = re.compile(r"__index_level_\d+__")
#: Rows counted at a time: a row group's dictionary is built whole whatever the batch, and each
#: batch carries it, so fewer batches count it fewer times.
_COUNTING_ROWS = 1 << 20


class ParquetReader(TableReader):
    """The columns of a Parquet file (a pandas index left out), in chunks of rows."""

    fmt = "parquet"

    def __init__(self, opener: Opener, chunk_rows: int, limits: Limits = NO_LIMITS) -> None:
        import pyarrow.parquet as pq

        super().__init__(opener, chunk_rows, limits)
        self._source = opener()
        try:
            self._file = pq.ParquetFile(self._source)
            schema = self._file.schema_arrow
        except (pa.ArrowException, OSError) as exc:
            self._source.close()
            raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc
        self.columns = [n for n in schema.names if not _PANDAS_INDEX.fullmatch(n)]
        self._texts = [f.name for f in schema if f.name in self.columns and _is_text(f.type)]
        self.total = self._file.metadata.num_rows
        self._size = 0  # decoded bytes counted so far
        try:
            check_names(self.columns)
            check_row_limit(self.total, limits.max_rows)
            for group in range(self._file.metadata.num_row_groups):  # stored, before decoding
                check_byte_limit(self._file.metadata.row_group(group).total_byte_size,
                                 limits.max_bytes)
            if limits.max_bytes is not None:
                self._count_texts()
        except (pa.ArrowException, OSError) as exc:
            self.close()
            raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc
        except InvalidUpload:
            self.close()
            raise

    def _count_texts(self) -> None:
        """Count the decoded size of the text columns from their dictionaries, a column and a
        row group at a time, before any is decoded. Raises UploadTooLarge."""
        import pyarrow.parquet as pq

        for name in self._texts:
            counting = pq.ParquetFile(self._source, read_dictionary=[name])
            for group in range(counting.metadata.num_row_groups):
                for batch in counting.iter_batches(batch_size=_COUNTING_ROWS, row_groups=[group],
                                                   columns=[name], use_pandas_metadata=False):
                    self._size += _decoded_nbytes(batch.column(0))
                    check_byte_limit(self._size, self.limits.max_bytes)

    def _chunks(self) -> Iterator[pa.Table]:
        others = [name for name in self.columns if name not in self._texts]
        try:
            for batch in self._batches():
                if self.limits.max_bytes is not None:  # the text columns were counted before
                    self._size += sum(_decoded_nbytes(batch.column(name)) for name in others)
                    check_byte_limit(self._size, self.limits.max_bytes)
                self.position += batch.num_rows
                yield text_columns(pa.Table.from_batches([batch]), self.columns)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc

    def _batches(self) -> Iterator[pa.RecordBatch]:
        """The rows, a row group at a time: one reader over the whole file keeps what it read
        of every row group until the end (~1.2 GB for 21 row groups of a million rows)."""
        for group in range(self._file.metadata.num_row_groups):
            yield from self._file.iter_batches(batch_size=self.chunk_rows, row_groups=[group],
                                               columns=self.columns, use_pandas_metadata=False)

    def close(self) -> None:
        self._file.close()
        self._source.close()


def _is_text(kind: Any) -> bool:
    """Whether a column of Arrow type ``kind`` holds text or bytes (dictionary-encoded too)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or is_binary(kind))


def _decoded_nbytes(column: Any) -> int:
    """The size of ``column`` once dictionary-decoded, without decoding it."""
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
