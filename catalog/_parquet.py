"""Parquet: every flat column cast to text, batch by batch (private: the Parquet reader of
:mod:`catalog.streaming`).

Never more than one batch is decoded at a time. With a byte limit (publishing), text columns
are read as dictionaries and their decoded size is counted before anything is decoded: a small
file whose dictionary holds one long value repeated in every row can expand to gigabytes.
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


class ParquetReader(TableReader):
    """The columns of a Parquet file (a pandas index left out), in chunks of rows."""

    fmt = "parquet"

    def __init__(self, opener: Opener, chunk_rows: int, limits: Limits = NO_LIMITS) -> None:
        import pyarrow.parquet as pq

        super().__init__(opener, chunk_rows, limits)
        self._source = opener()
        try:
            schema = pq.ParquetFile(self._source).schema_arrow
            texts = [f.name for f in schema if pa.types.is_string(f.type)
                     or pa.types.is_large_string(f.type) or is_binary(f.type)]
            self._file = pq.ParquetFile(self._source, read_dictionary=texts
                                        if limits.max_bytes is not None else None)
        except (pa.ArrowException, OSError) as exc:
            self._source.close()
            raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc
        self.columns = [n for n in schema.names if not _PANDAS_INDEX.fullmatch(n)]
        self.total = self._file.metadata.num_rows
        try:
            check_names(self.columns)
            check_row_limit(self.total, limits.max_rows)
            for group in range(self._file.metadata.num_row_groups):  # stored, before decoding
                check_byte_limit(self._file.metadata.row_group(group).total_byte_size,
                                 limits.max_bytes)
        except InvalidUpload:
            self.close()
            raise

    def _chunks(self) -> Iterator[pa.Table]:
        size = 0
        try:
            for batch in self._file.iter_batches(batch_size=self.chunk_rows, columns=self.columns,
                                                 use_pandas_metadata=False):
                if self.limits.max_bytes is not None:
                    size += sum(_decoded_nbytes(column) for column in batch.columns)
                    check_byte_limit(size, self.limits.max_bytes)
                self.position += batch.num_rows
                yield text_columns(pa.Table.from_batches([batch]), self.columns)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidUpload(f"not a readable Parquet file ({exc})") from exc

    def close(self) -> None:
        self._file.close()
        self._source.close()


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
