"""Names of the files the exchange hands out, and the header that offers them for download.

A delivery is named for a person, not a database: the dataset's title, the receiving
department and the day, e.g. ``居民户籍登记-health-20261206.xlsx``; characters a file system
refuses are replaced, and the header carries the name both as UTF-8 (RFC 6266 ``filename*``)
and as an ASCII fallback for old clients.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from typing import BinaryIO
from urllib.parse import quote

__all__ = ["download_name", "dated_name", "content_disposition", "EXTENSIONS"]

#: The file extension of each delivery format.
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "parquet": "parquet"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+|^[.\s]+|[.\s]+$')
_MAX_TITLE = 60
_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")  # the users' day (no daylight saving)


def download_name(title: str, receiver: str, moment: dt.datetime, fmt: str) -> str:
    """``<title>-<receiver>-<YYYYMMDD>.<ext>`` (the day in China Standard Time; a naive
    ``moment`` is UTC), safe on every file system."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    safe = _UNSAFE.sub("_", unicodedata.normalize("NFC", title)).strip("_ ")[:_MAX_TITLE]
    day = moment.astimezone(_CHINA)
    return f"{safe or 'data'}-{receiver}-{day:%Y%m%d}.{EXTENSIONS.get(fmt, fmt)}"


def dated_name(stem: str, moment: dt.datetime, fmt: str) -> str:
    """``<stem>-<YYYYMMDD>.<ext>`` (the day in China Standard Time; a naive ``moment`` is UTC),
    e.g. ``govex-audit-20261207.csv``, safe on every file system."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    safe = _UNSAFE.sub("_", unicodedata.normalize("NFC", stem)).strip("_ ")[:_MAX_TITLE]
    return f"{safe or 'data'}-{moment.astimezone(_CHINA):%Y%m%d}.{EXTENSIONS.get(fmt, fmt)}"


def content_disposition(filename: str, *, fallback: str) -> str:
    """``attachment`` with ``filename`` (UTF-8, percent-encoded) and an ASCII ``fallback``."""
    ascii_name = re.sub(r'[^A-Za-z0-9._-]+', "_", fallback) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


_SPOOL_IN_MEMORY = 8 << 20
_BLOCK = 1 << 16


def spooled(write: Callable[[BinaryIO], None]) -> tuple[Iterator[bytes], int]:
    """A file ``write`` makes whole before it is sent (an XLSX workbook), kept in a temporary
    file (in memory while small): its blocks — the file closed, and so removed, when they are
    sent or the sending stops — and its length. Nothing is left behind if ``write`` fails."""
    sink: BinaryIO = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        write(sink)
        length = sink.tell()
        sink.seek(0)
    except BaseException:
        sink.close()
        raise
    return _blocks(sink), length


def _blocks(sink: BinaryIO) -> Iterator[bytes]:
    with contextlib.closing(sink):
        while block := sink.read(_BLOCK):
            yield block
