"""The lookup index of interface sharing (接口共享): one dataset version's rows, each stored once
encrypted, and for each key column the keyed hash of each row's normalized value.

A key is normalized before it is hashed, on both sides (the index and the call): Unicode NFKC
(full-width digits and letters become ASCII), every space removed, letters upper-cased (a
resident ID's check character ``x`` is ``X``). The hash is HMAC-SHA-256 under a key derived
from the master key, so the index and the audit log hold no raw value and nobody without the
key can test a guess; the same hash of a value names the person in the log
(:func:`pseudonym`), which is how "who received data about this person" is answered without
storing the value anywhere new.

Framework-free; every function takes the caller's connection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import notices
from .models import query_indexes, query_keys, query_rows

__all__ = ["normalize", "key_hash", "pseudonym", "start", "add_rows", "finish", "state",
           "rows_stored", "find", "find_rows", "read_rows", "clear", "schedule_build", "ROWS",
           "BATCH_ROWS"]

BATCH_ROWS = 5000  # rows written per statement while an index is built
ROWS = ""  # the index "column" that stands for a version's stored rows


def normalize(value: str) -> str:
    """A key as it is compared: NFKC, no spaces, upper case."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(text.split()).upper()


def key_hash(key: bytes, value: str) -> bytes:
    """The keyed hash of a normalized value (32 bytes)."""
    return hmac.new(key, normalize(value).encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, value: str) -> str:
    """The hash as the audit log writes it (hex)."""
    return key_hash(key, value).hex()


def _aad(dataset_id: str, version: int, row: int) -> bytes:
    return f"{dataset_id}:{version}:{row}".encode()


def state(conn: sa.Connection, dataset_id: str, version: int, key_column: str) -> str | None:
    """building, ready or failed; None when no index was started."""
    return conn.execute(sa.select(query_indexes.c.state).where(
        query_indexes.c.dataset_id == dataset_id, query_indexes.c.version == version,
        query_indexes.c.key_column == key_column)).scalar()


def start(conn: sa.Connection, dataset_id: str, version: int,
          key_columns: Sequence[str]) -> list[str]:
    """Mark the indexes of ``key_columns`` building (those not started yet); returns them.
    An index of a failed build is started again."""
    started = []
    for column in key_columns:
        found = state(conn, dataset_id, version, column)
        if found in ("building", "ready"):
            continue
        if found == "failed":
            conn.execute(query_indexes.delete().where(
                query_indexes.c.dataset_id == dataset_id, query_indexes.c.version == version,
                query_indexes.c.key_column == column))
        conn.execute(query_indexes.insert().values(dataset_id=dataset_id, version=version,
                                                   key_column=column, state="building"))
        started.append(column)
    return started


def add_rows(conn: sa.Connection, *, seal: bytes, hash_key: bytes, dataset_id: str,
             version: int, columns: Sequence[str], key_columns: Sequence[str], first: int,
             rows: Iterable[Sequence[str | None]], store_rows: bool) -> int:
    """Index ``rows`` (values in ``columns`` order) numbered from ``first``: each row
    encrypted (unless ``store_rows`` is False: an earlier key column's build stored them) and
    the keyed hash of its value in each key column. Returns the next row number."""
    aead = AESGCM(seal)
    positions = [columns.index(c) for c in key_columns]
    payloads: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    number = first
    for row in rows:
        if store_rows:
            nonce = secrets.token_bytes(12)
            data = json.dumps(list(row), ensure_ascii=False, separators=(",", ":")).encode()
            payloads.append({"dataset_id": dataset_id, "version": version,
                             "row_number": number,
                             "payload": nonce + aead.encrypt(nonce, data,
                                                             _aad(dataset_id, version, number))})
        for column, at in zip(key_columns, positions, strict=True):
            value = row[at]
            if value is not None and value.strip():
                keys.append({"dataset_id": dataset_id, "version": version,
                             "key_column": column, "key_hash": key_hash(hash_key, value),
                             "row_number": number})
        number += 1
    if payloads:
        conn.execute(query_rows.insert(), payloads)
    if keys:
        conn.execute(query_keys.insert(), keys)
    return number


def finish(conn: sa.Connection, dataset_id: str, version: int, key_columns: Sequence[str], *,
           rows: int, now: dt.datetime, failed: bool = False) -> None:
    """Mark the indexes ready (or failed). On PostgreSQL the index tables' statistics are
    refreshed first: a build adds up to millions of rows at once, which autovacuum counts
    only later, and the planner sizes the other queries on these tables (who received data
    about a person) by them."""
    if not failed and conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE exchange_query_rows, exchange_query_keys")
    conn.execute(query_indexes.update().where(
        query_indexes.c.dataset_id == dataset_id, query_indexes.c.version == version,
        query_indexes.c.key_column.in_(list(key_columns))).values(
        state="failed" if failed else "ready", rows=rows, built_at=now))


def schedule_build(conn: sa.Connection, dataset_id: str, version: int,
                   key_columns: Sequence[str], *, now: dt.datetime) -> None:
    """Queue, in the caller's transaction, the worker's build of a version's lookup index:
    its rows and the key columns not indexed or being indexed yet (once per version and
    column, however many grants need it)."""
    started = start(conn, dataset_id, version, [ROWS, *key_columns])
    if started:
        notices.schedule(conn, "index.build", subject_id=f"{dataset_id}:{version}", at=now,
                         data={"dataset_id": dataset_id, "version": version,
                               "columns": started}, now=now)


def clear(conn: sa.Connection, dataset_id: str, version: int, key_columns: Sequence[str], *,
          rows: bool) -> None:
    """Remove what an interrupted or failed build of these key columns (and the rows) left,
    and mark them building again."""
    conn.execute(query_indexes.update().where(
        query_indexes.c.dataset_id == dataset_id, query_indexes.c.version == version,
        query_indexes.c.key_column.in_([*key_columns, *([ROWS] if rows else [])]))
        .values(state="building"))
    if key_columns:
        conn.execute(query_keys.delete().where(
            query_keys.c.dataset_id == dataset_id, query_keys.c.version == version,
            query_keys.c.key_column.in_(list(key_columns))))
    if rows:
        conn.execute(query_rows.delete().where(query_rows.c.dataset_id == dataset_id,
                                               query_rows.c.version == version))


def rows_stored(conn: sa.Connection, dataset_id: str, version: int) -> bool:
    """Whether a version's rows are stored already (by another key column's index)."""
    return conn.execute(sa.select(query_rows.c.row_number).where(
        query_rows.c.dataset_id == dataset_id, query_rows.c.version == version)
        .limit(1)).first() is not None


# a call's rows: two prebuilt statements, each an index lookup whatever the planner believes
# (joined in one, PostgreSQL without fresh statistics of a new version scanned all its rows)
_K, _R = query_keys.c, query_rows.c
_FIND = (sa.select(_K.row_number)
         .where(_K.key_hash == sa.bindparam("digest"),
                _K.dataset_id == sa.bindparam("dataset_id"),
                _K.version == sa.bindparam("version"),
                _K.key_column == sa.bindparam("key_column"))
         .order_by(_K.row_number).limit(sa.bindparam("limit")))
_READ = (sa.select(_R.row_number, _R.payload)
         .where(_R.dataset_id == sa.bindparam("dataset_id"),
                _R.version == sa.bindparam("version"),
                _R.row_number.in_(sa.bindparam("numbers", expanding=True)))
         .order_by(_R.row_number))


def find(conn: sa.Connection, dataset_id: str, version: int, key_column: str,
         digest: bytes, *, limit: int = 100) -> list[int]:
    """The row numbers whose ``key_column`` holds the value hashed to ``digest``."""
    return list(conn.execute(_FIND, {"dataset_id": dataset_id, "version": version,
                                     "digest": digest, "key_column": key_column,
                                     "limit": limit}).scalars())


def find_rows(conn: sa.Connection, seal: bytes, dataset_id: str, version: int,
              key_column: str, digest: bytes, *, limit: int) -> list[list[str | None]]:
    """The rows whose ``key_column`` holds the value hashed to ``digest``, decrypted, in
    row order (a lookup's path: :func:`find`, then :func:`read_rows`)."""
    numbers = find(conn, dataset_id, version, key_column, digest, limit=limit)
    return read_rows(conn, seal, dataset_id, version, numbers)


def read_rows(conn: sa.Connection, seal: bytes, dataset_id: str, version: int,
              numbers: Sequence[int]) -> list[list[str | None]]:
    """The rows ``numbers``, decrypted (values in the version's column order)."""
    if not numbers:
        return []
    aead = AESGCM(seal)
    found = conn.execute(_READ, {"dataset_id": dataset_id, "version": version,
                                 "numbers": list(numbers)})
    return [json.loads(aead.decrypt(bytes(p[:12]), bytes(p[12:]), _aad(dataset_id, version, n)))
            for n, p in found]
