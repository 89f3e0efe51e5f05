"""JSON Lines: one flat JSON object per line (private: the JSON Lines reader of
:mod:`catalog.streaming`).

Columns are the keys in order of first appearance (one pass finds them, a second reads the rows).
Numbers keep their literal text (JSON numbers cannot hold leading zeros, so such codes must be
strings in the file); ``true``/``false`` become text; ``null`` and absent keys are missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ._readers import NO_LIMITS, Limits, Opener, TableReader, check_names, check_width
from ._writers import text_columns
from .errors import InvalidUpload

__all__ = ["JsonlReader"]

Cell = str | None


class JsonlReader(TableReader):
    """The records of a JSON Lines file, in chunks of rows.

    Raises InvalidUpload (not UTF-8, a line not JSON or not an object, a nested value, a key
    repeated in one object, no keys), UploadTooLarge (more than ``MAX_COLUMNS`` keys).
    """

    fmt = "jsonl"

    def __init__(self, opener: Opener, chunk_rows: int, limits: Limits = NO_LIMITS) -> None:
        super().__init__(opener, chunk_rows, limits)
        keys: dict[str, None] = {}
        for _, _, record in self._records():
            keys.update(dict.fromkeys(record))
            check_width(len(keys))  # a new key on every line would cost rows x keys
        self.columns = list(keys)
        check_names(self.columns)
        self._lines: list[int] = []  # the line of each row of the current chunk

    def _records(self) -> Iterator[tuple[int, int, dict[str, Cell]]]:
        """(line number, bytes read so far, record) of every non-blank line."""
        with self._open() as fh:
            done = 0
            for number, raw in enumerate(fh, start=1):
                done += len(raw)
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidUpload("JSON Lines must be UTF-8 text") from exc
                if line.strip():
                    yield number, done, _json_record(line, number)

    def _chunks(self) -> Iterator[pa.Table]:
        pending: list[dict[str, Cell]] = []
        for number, done, record in self._records():
            pending.append(record)
            self._lines.append(number)
            if len(pending) >= self.chunk_rows:
                self.position = done
                yield self._table(pending)
                pending, self._lines = [], []
        self.position = self.total
        if pending:
            yield self._table(pending)

    def _table(self, records: list[dict[str, Cell]]) -> pa.Table:
        raw = pa.table({n: pa.array([r.get(n) for r in records], pa.string())
                        for n in self.columns})
        return text_columns(raw, self.columns)

    def where(self, row: int, column: str) -> str:
        return f"line {self._lines[row - self.rows]}, field {column!r}"


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
