"""The audit log's entries a query selects, as a spreadsheet for auditors: CSV (UTF-8 with a
byte-order mark, so Excel reads it; sent as it is written) or XLSX (one sheet).

One row per entry, in the query's order: its index, its time in China Standard Time, its
event type (in the reader's language), the actor, the departments with their names, the
dataset, the outcome, rows and SHA-256 where the entry has them, and last the entry as the
log hashed it (RFC 8785 JSON), so that nothing the log holds is lost and each row can be
checked against the log's signed checkpoint. Written by the same writers as deliveries
(:func:`catalog.open_sink_writer`): a cell a spreadsheet would run as a formula is defused, and
XLSX cells are text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import pyarrow as pa

from catalog import XLSX_MAX_ROWS, formats, open_sink_writer

from .. import files
from ..auth import Principal
from ..errors import InvalidInput
from ..services import Services
from . import auditing
from .admin import department_names

__all__ = ["EXPORT_FORMATS", "HEADERS", "Export", "export", "CHINA", "XLSX_MEDIA_TYPE"]

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_MEDIA_TYPE = formats.media_type("xlsx")
#: The columns, in English (the pages pass them in the reader's language).
HEADERS = ("Index", "Time (China Standard Time, UTC+8)", "Event", "User", "User's department",
           "Provider", "Receiver", "Dataset", "Outcome", "Rows", "SHA-256",
           "Entry as logged (RFC 8785 JSON)")
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
#: The most characters an XLSX cell holds (Excel's limit; longer text makes a "damaged" file).
XLSX_MAX_CELL = 32_767
_ROWS_PER_CHUNK = 1000
assert auditing.EXPORT_MAX < XLSX_MAX_ROWS  # the header row and every entry fit on one sheet


@dataclasses.dataclass(frozen=True)
class Export:
    """A file to send: its ``blocks`` (produced as they are sent), ``filename``,
    ``media_type``, ``length`` when known beforehand (XLSX), and the ``selection`` it holds."""

    blocks: Iterator[bytes]
    filename: str
    media_type: str
    length: int | None
    selection: auditing.Selection

    def headers(self) -> dict[str, str]:
        """The HTTP headers that offer it for download: its name, its length when known, how
        many entries it holds (``X-Govex-Entries``) of the ``X-Govex-Selected``."""
        headers = {"Content-Disposition": files.content_disposition(self.filename,
                                                                    fallback=self.filename),
                   "Cache-Control": "no-store",
                   "X-Govex-Entries": str(self.selection.exported),
                   "X-Govex-Selected": str(self.selection.total)}
        if self.length is not None:
            headers["Content-Length"] = str(self.length)
        return headers


def export(svc: Services, who: Principal, query: auditing.EntryQuery, *, fmt: str,
           headers: Sequence[str] = HEADERS, events: Mapping[str, str] | None = None,
           english: bool = True) -> Export:
    """The entries ``query`` selects (its filters and order; at most
    :data:`auditing.EXPORT_MAX`) as a ``fmt`` file named ``govex-audit-<day>.<ext>``.
    ``headers`` name the columns and ``events`` the event types (both in the reader's
    language); departments are named in English, or in Chinese unless ``english``. A CSV is
    written while it is sent; an XLSX is complete (in a temporary file) before this returns.
    Raises Forbidden, InvalidInput (an unknown format)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(EXPORT_FORMATS)}",
                           code="format_unknown", formats=", ".join(EXPORT_FORMATS))
    if len(headers) != len(HEADERS):
        raise ValueError(f"an export has {len(HEADERS)} columns")
    chosen = auditing.selection(svc, who, query)
    names = {code: en if english else zh for code, (zh, en) in department_names(svc).items()}
    row = _row_maker(dict(events or {}), names,
                     cell_limit=XLSX_MAX_CELL if fmt == "xlsx" else None)
    chunks = _chunks(auditing.selected_entries(svc, chosen), list(headers), row)
    filename = files.dated_name("govex-audit", svc.clock(), fmt)
    if fmt == "csv":
        return Export(_csv(chunks, list(headers)), filename, formats.media_type("csv"), None,
                      chosen)
    blocks, length = _xlsx(chunks, list(headers))
    return Export(blocks, filename, formats.media_type("xlsx"), length, chosen)


def _row_maker(events: dict[str, str], names: Mapping[str, str], *,
               cell_limit: int | None = None) -> Callable[[int, str], list[str | None]]:
    """The row of one entry. With a ``cell_limit``, an entry longer than it (a grant of
    hundreds of columns) is cut, and says so and where the whole of it is: the CSV, the API
    and the entry's page hold it whole."""
    def department(code: Any) -> str | None:
        if not code:
            return None
        name = names.get(str(code))
        return f"{name} ({code})" if name and name != code else str(code)

    def row(index: int, logged: str) -> list[str | None]:
        entry = json.loads(logged)
        kind = str(entry.get("type", ""))
        return [str(index), _china_time(entry.get("time")), events.get(kind, kind),
                _text(entry.get("actor")), department(entry.get("actor_department")),
                department(entry.get("provider")), department(entry.get("receiver")),
                _text(entry.get("dataset_id")), _text(entry.get("outcome")),
                _text(entry.get("row_count")), _text(entry.get("sha256")),
                _cut(logged, index, cell_limit)]
    return row


def _cut(logged: str, index: int, limit: int | None) -> str:
    if limit is None or len(logged) <= limit:
        return logged
    note = f" … [cut: {len(logged)} characters; the whole entry: CSV, or entry #{index}]"
    return logged[:limit - len(note)] + note


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _china_time(value: Any) -> str | None:
    """An RFC 3339 UTC time as ``2026-12-07 14:03:05+08:00`` (as logged when unreadable)."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(CHINA).isoformat(sep=" ", timespec="seconds")


def _chunks(found: Iterator[tuple[int, str]], headers: list[str],
            row: Callable[[int, str], list[str | None]]) -> Iterator[pa.Table]:
    """The rows of the entries ``found`` as tables of ``_ROWS_PER_CHUNK`` rows or fewer."""
    batch: list[list[str | None]] = []
    for index, logged in found:
        batch.append(row(index, logged))
        if len(batch) == _ROWS_PER_CHUNK:
            yield _table(batch, headers)
            batch = []
    if batch:
        yield _table(batch, headers)


def _table(rows: list[list[str | None]], headers: list[str]) -> pa.Table:
    columns = [pa.array(values, pa.string()) for values in zip(*rows)]
    return pa.table(columns, names=headers)


def _csv(chunks: Iterator[pa.Table], headers: list[str]) -> Iterator[bytes]:
    """The CSV, block by block as each chunk of rows is written."""
    sink = io.BytesIO()
    with open_sink_writer(sink, fmt="csv", columns=headers, bom=True) as writer:
        for chunk in chunks:
            writer.write(chunk)
            yield _drain(sink)
    yield _drain(sink)  # what closing the writer flushed


def _drain(sink: io.BytesIO) -> bytes:
    data = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    return data


def _xlsx(chunks: Iterator[pa.Table], headers: list[str]) -> tuple[Iterator[bytes], int]:
    """The workbook, complete, in a temporary file (in memory while small): its blocks and
    its length."""
    def write(sink: BinaryIO) -> None:
        with open_sink_writer(sink, fmt="xlsx", columns=headers) as writer:
            for chunk in chunks:
                writer.write(chunk)
    return files.spooled(write)


