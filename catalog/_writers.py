"""Writers of :mod:`catalog.streaming` (private): one table file written chunk by chunk."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Self

import pyarrow as pa
import pyarrow.compute as pc

from . import _readers
from .errors import CatalogError

__all__ = ["WRITERS", "TableWriter", "defuse_formulas", "text_columns", "XLSX_MAX_ROWS"]

#: The most rows a worksheet holds, its header row included.
XLSX_MAX_ROWS = 1_048_576
_BOM = "\ufeff".encode()


def text_columns(table: pa.Table, names: Sequence[str]) -> pa.Table:
    """``table`` with every column cast to string, empty strings null, named ``names``."""
    columns = []
    for name in names:
        column = _readers.arrow_text(name, table.column(name))  # raises InvalidUpload
        columns.append(pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column))
    return pa.table(columns, names=list(names))


class TableWriter:
    """Writes chunks of one table to the binary file ``sink``.

    With a ``target`` ``(partial, path)`` the sink is the file ``partial``, moved to ``path`` on
    :meth:`close` and removed by :meth:`abort`; without one the sink is the caller's, left open.
    Leaving the ``with`` block on an exception aborts.
    """

    def __init__(self, sink: BinaryIO, columns: list[str], *,
                 target: tuple[Path, Path] | None = None) -> None:
        self.sink, self.columns, self.rows = sink, columns, 0
        self._target = target
        self._schema = pa.schema([(name, pa.string()) for name in columns])

    @property
    def partial(self) -> Path | None:
        """The file being written, when writing to a path."""
        return self._target[0] if self._target else None

    def write(self, table: pa.Table) -> None:
        """Append the rows of ``table`` (its columns must be this writer's, in order).

        Raises CatalogError (wrong columns; a value XLSX cannot hold), OSError.
        """
        if table.column_names != self.columns:
            raise CatalogError(f"chunk columns {table.column_names} differ from {self.columns}")
        self._write(text_columns(table, self.columns))
        self.rows += table.num_rows

    def _write(self, table: pa.Table) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Complete the table (and move a file into place). Raises OSError."""
        self._finish()
        if self._target:
            self.sink.close()
            os.replace(*self._target)

    def abort(self) -> None:
        """Forget the table written so far (a file written to a path is removed)."""
        try:
            with contextlib.suppress(Exception):  # what is thrown away need not be complete
                self._finish()  # lets the format's writer let go of the sink
        finally:
            if self._target:
                self.sink.close()
                self._target[0].unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


#: A cell a spreadsheet would run as a formula: it starts with = + - @ (or a tab or carriage
#: return before one), unless it is a plain number (-12.5, +3e4). OWASP's CSV injection rule.
_FORMULA = r"^[=+\-@\t\r]"
_NUMBER = r"^[+\-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+\-]?[0-9]+)?$"


def defuse_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``column`` (strings) with a ``'`` before every value Excel or WPS would run as a
    formula (``=HYPERLINK(…)`` -> ``'=HYPERLINK(…)``); numbers and everything else unchanged.
    Delivered CSV comes from citizens' text: a complaint that starts with ``=`` must not run on
    an officer's machine."""
    starts = pc.match_substring_regex(column, _FORMULA)
    if not pc.any(starts).as_py():  # the usual column: one anchored pass, nothing to change
        return column
    risky = pc.and_(starts, pc.invert(pc.match_substring_regex(column, _NUMBER)))
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)


def _defused(value: str) -> str:
    return defuse_formulas(pa.array([value])).to_pylist()[0]


class _CsvWriter(TableWriter):
    """RFC 4180 CSV, UTF-8; values a spreadsheet would run as formulas are defused. With
    ``bom`` the file starts with a byte-order mark, so Excel reads it as UTF-8."""

    def __init__(self, sink: BinaryIO, columns: list[str], *, bom: bool = False,
                 **kw: Any) -> None:
        import pyarrow.csv as pacsv

        super().__init__(sink, columns, **kw)
        if bom:
            sink.write(_BOM)
        header = io.StringIO()
        csv.writer(header, lineterminator="\r\n").writerow([_defused(c) for c in columns])
        sink.write(header.getvalue().encode("utf-8"))
        self._writer = pacsv.CSVWriter(sink, self._schema, write_options=pacsv.WriteOptions(
            include_header=False, eol="\r\n", quoting_style="needed"))
        self._open = True

    def _write(self, table: pa.Table) -> None:
        self._writer.write_table(pa.table([defuse_formulas(c) for c in table.columns],
                                          schema=self._schema))

    def _finish(self) -> None:
        if self._open:
            self._open = False
            self._writer.close()


class _ParquetWriter(TableWriter):
    def __init__(self, sink: BinaryIO, columns: list[str], **kw: Any) -> None:
        import pyarrow.parquet as pq

        super().__init__(sink, columns, **kw)
        self._writer = pq.ParquetWriter(sink, self._schema)
        self._open = True

    def _write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def _finish(self) -> None:
        if self._open:
            self._writer.close()
            self._open = False


class _JsonlWriter(TableWriter):
    def __init__(self, sink: BinaryIO, columns: list[str], **kw: Any) -> None:
        super().__init__(sink, columns, **kw)

    def _write(self, table: pa.Table) -> None:
        columns = [table.column(n).to_pylist() for n in self.columns]
        lines = (json.dumps(dict(zip(self.columns, row)), ensure_ascii=False) + "\n"
                 for row in zip(*columns))
        self.sink.write("".join(lines).encode("utf-8"))

    def _finish(self) -> None:
        pass


class _XlsxWriter(TableWriter):
    """One sheet (named ``sheet``, else Excel's default); :meth:`add_sheet` adds more to the
    same workbook."""

    def __init__(self, sink: BinaryIO, columns: list[str], *, sheet: str | None = None,
                 book: Any = None, **kw: Any) -> None:
        import openpyxl

        super().__init__(sink, columns, **kw)
        self._owner = book is None  # the first sheet's writer saves the workbook
        self._book = openpyxl.Workbook(write_only=True) if book is None else book
        self._sheet = self._book.create_sheet(sheet)
        self._sheet.append([self._cell(name) for name in columns])
        self._saved = False

    def add_sheet(self, sheet: str, columns: Sequence[str]) -> TableWriter:
        """A writer of another sheet of this workbook, named ``sheet`` (at most 31 characters),
        with its own ``columns``: rows may be written to either sheet in any order. This
        writer saves the workbook when it closes; closing the other does nothing."""
        return _XlsxWriter(self.sink, list(columns), sheet=sheet, book=self._book)

    def _cell(self, value: Any) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if value is None:
            return None
        cell = WriteOnlyCell(self._sheet, value=value)
        cell.data_type = "s"  # text, so that "=..." is never run as a formula
        return cell

    def _write(self, table: pa.Table) -> None:
        import openpyxl

        if self.rows + table.num_rows + 1 > XLSX_MAX_ROWS:
            raise CatalogError(f"XLSX holds at most {XLSX_MAX_ROWS - 1} data rows")
        columns = [table.column(n).to_pylist() for n in self.columns]
        try:
            for row in zip(*columns):
                self._sheet.append([self._cell(v) for v in row])
        except openpyxl.utils.exceptions.IllegalCharacterError as exc:
            raise CatalogError("a value holds a control character that XLSX cannot store") from exc

    def _finish(self) -> None:
        if self._owner and not self._saved:
            self._saved = True
            self._book.save(self.sink)


WRITERS = {"csv": _CsvWriter, "parquet": _ParquetWriter, "jsonl": _JsonlWriter,
            "xlsx": _XlsxWriter}
