"""The stored audit log over SQLAlchemy Core: entries, complete-subtree hashes, the head, and
signed checkpoints.

Every method takes a ``Connection`` that the caller owns; nothing here begins, commits or rolls
back. Appends lock the head row (``SELECT ... FOR UPDATE``; on SQLite the caller's engine must
``BEGIN IMMEDIATE`` so writers are serialized) and cost O(log n): the head holds the compact
range, and each append stores the complete interior subtrees it closes (a leaf's hash is its
entry's ``leaf_hash``), from which proofs are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    Text,
    and_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError

from . import merkle
from .checkpoint import Checkpoint, NoteSigner
from .errors import AuditError, EntryNotFound, InvalidRange, LogInconsistent, SignatureInvalid
from .events import canonical_bytes, event_columns, parse_bound, utc_naive
from .verify import EvidenceBundle

__all__ = ["metadata", "AuditLog", "Appended", "SignedCheckpoint", "entries_table",
           "nodes_table", "head_table", "checkpoints_table"]

metadata = MetaData()
_BigInt = BigInteger().with_variant(Integer, "sqlite")
_HEAD_ID = 1
#: A filter of :meth:`AuditLog.entries`: one value, or a sequence of values any of which matches.
Values = str | Sequence[str] | None

entries_table = Table(
    "audit_entries", metadata,
    Column("idx", _BigInt, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("entry", Text, nullable=False),  # RFC 8785 canonical JSON (UTF-8 text)
    Column("type", String(64), nullable=False, index=True),
    Column("time", DateTime, nullable=False, index=True),  # naive UTC
    Column("actor", String(255), index=True),
    Column("actor_department", String(255), index=True),
    Column("provider", String(255), index=True),
    Column("receiver", String(255), index=True),
    Column("dataset_id", String(255), index=True),
)
# The hash of every complete subtree: leaves [position * 2**level, (position + 1) * 2**level).
nodes_table = Table(
    "audit_nodes", metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("position", _BigInt, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)
head_table = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", _BigInt, nullable=False),
    Column("compact_range", Text, nullable=False),  # JSON list of hex, largest subtree first
    Column("root_hash", LargeBinary(32), nullable=False),
)
checkpoints_table = Table(
    "audit_checkpoints", metadata,
    Column("size", _BigInt, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", DateTime, nullable=False),  # naive UTC
)

_LOCK_HEAD = select(head_table).where(head_table.c.id == _HEAD_ID).with_for_update()
_SAVE_HEAD = update(head_table).where(head_table.c.id == _HEAD_ID).values(
    size=bindparam("new_size"), compact_range=bindparam("new_range"),
    root_hash=bindparam("new_root"))
_INSERT_ENTRY = insert(entries_table)
_INSERT_NODE = insert(nodes_table)


@dataclass(frozen=True)
class Appended:
    """Where an event landed: its ``index``, its leaf hash (hex) and the log's new ``size``."""

    index: int
    leaf_hash: str
    size: int


@dataclass(frozen=True)
class SignedCheckpoint:
    """A signed checkpoint: the C2SP signed ``note`` and the tree it covers."""

    note: str
    size: int
    root_hash: bytes


class AuditLog:
    """The append-only log named ``origin``, whose checkpoints ``signer`` signs. A reader
    (entries, proofs) may open it without a signer: it then cannot sign checkpoints."""

    def __init__(self, *, origin: str, signer: NoteSigner | None = None) -> None:
        self.origin = origin
        self.signer = signer

    @property
    def _signer(self) -> NoteSigner:
        if self.signer is None:
            raise AuditError("this log was opened for reading: it has no signer")
        return self.signer

    # -- writing ----------------------------------------------------------------------------

    def append(self, conn: Connection, event: dict[str, Any]) -> Appended:
        """Append ``event`` in the caller's transaction (not committed here).

        Raises InvalidEvent if the event is not a JSON object with ``type`` and ``time``;
        LogInconsistent if the stored head is corrupt.
        """
        columns = event_columns(event)
        data = canonical_bytes(event)
        cursor = _driver_cursor(conn)
        if cursor is None:
            return self._append_core(conn, columns, data)
        try:
            appended = _append_on_cursor(cursor, columns, data)
        except conn.dialect.loaded_dbapi.Error as exc:
            # what conn.execute would raise, the values left out (as hide_parameters does)
            raise DBAPIError.instance(None, None, exc, conn.dialect.loaded_dbapi.Error,
                                      hide_parameters=True, dialect=conn.dialect) from exc
        finally:
            cursor.close()
        # None: the log has no head row yet, created (once) through Core
        return appended or self._append_core(conn, columns, data)

    def _append_core(self, conn: Connection, columns: dict[str, Any],
                     data: bytes) -> Appended:
        """The append through SQLAlchemy Core: any database (PostgreSQL, SQLite in no
        transaction yet)."""
        tree = self._lock_head(conn)
        index, leaf = tree.size, merkle.leaf_hash(data)
        completed = tree.append(leaf)
        # prebuilt statements: the compiled form is cached, nothing is rebuilt per append
        conn.execute(_INSERT_ENTRY, {"idx": index, "leaf_hash": leaf, "entry": data.decode(),
                                     **columns})
        # level 0 is the entry's own leaf_hash: only the interior subtrees are stored
        nodes = [{"level": lvl, "position": pos, "hash": h} for lvl, pos, h in completed[1:]]
        if nodes:
            conn.execute(_INSERT_NODE, nodes[0] if len(nodes) == 1 else nodes)
        self._save_head(conn, tree)
        return Appended(index=index, leaf_hash=leaf.hex(), size=tree.size)

    def checkpoint(self, conn: Connection, *, now: datetime) -> str:
        """The signed note of :meth:`sign_checkpoint`."""
        return self.sign_checkpoint(conn, now=now).note

    def sign_checkpoint(self, conn: Connection, *, now: datetime) -> SignedCheckpoint:
        """Sign and store a checkpoint of the current head unless the latest one covers it
        (re-signing it if the signing key changed); return the latest signed checkpoint.

        Raises LogInconsistent if the stored checkpoints are ahead of, or disagree with, the
        head (a rolled-back or rewritten log).
        """
        tree = self._lock_head(conn)
        latest = self._latest_row(conn)
        if latest is None or latest.size < tree.size:
            return self._sign(conn, tree, now)
        if latest.size > tree.size or bytes(latest.root_hash) != tree.root():
            raise LogInconsistent(f"the latest checkpoint covers {latest.size} entries but the "
                                  f"log has {tree.size}: the log was rolled back or rewritten")
        return self._resign_if_stale(conn, latest, now)

    def _sign(self, conn: Connection, tree: merkle.CompactRange,
              now: datetime) -> SignedCheckpoint:
        note = self._signer.sign(Checkpoint(self.origin, tree.size, tree.root()).to_text())
        conn.execute(insert(checkpoints_table).values(
            size=tree.size, root_hash=tree.root(), note=note, signed_at=utc_naive(now)))
        return SignedCheckpoint(note, tree.size, tree.root())

    def _resign_if_stale(self, conn: Connection, latest: Row[Any],
                         now: datetime) -> SignedCheckpoint:
        """The latest note, signed again if the signer's key has changed since."""
        size, root = int(latest.size), bytes(latest.root_hash)
        try:
            self._signer.verifier.verify(latest.note)
            return SignedCheckpoint(str(latest.note), size, root)
        except SignatureInvalid:
            pass
        note = self._signer.sign(Checkpoint(self.origin, size, root).to_text())
        conn.execute(update(checkpoints_table).where(checkpoints_table.c.size == latest.size)
                     .values(note=note, signed_at=utc_naive(now)))
        return SignedCheckpoint(note, size, root)

    # -- the head ---------------------------------------------------------------------------

    def hold(self, conn: Connection) -> None:
        """Lock the log's head for the rest of the caller's transaction, before it locks
        anything else (PostgreSQL's ``FOR UPDATE``; SQLite's writing transaction holds the
        whole database already). Every transaction that appends takes the head; taken
        first, no two writers ever wait for each other's rows in opposite orders (a batch
        of calls under several grants, one process, against a revocation, another)."""
        if conn.dialect.name != "sqlite":
            conn.execute(_LOCK_HEAD).first()

    def _lock_head(self, conn: Connection) -> merkle.CompactRange:
        """The head's compact range, the row locked for update (created when missing)."""
        row = conn.execute(_LOCK_HEAD).first()
        if row is None:
            conn.execute(insert(head_table).values(id=_HEAD_ID, size=0, compact_range="[]",
                                                   root_hash=merkle.EMPTY_ROOT))
            return merkle.CompactRange()
        return _compact_range(row)

    def _save_head(self, conn: Connection, tree: merkle.CompactRange) -> None:
        conn.execute(_SAVE_HEAD, {"new_size": tree.size, "new_root": tree.root(),
                                  "new_range": json.dumps(tree.to_hex_list())})

    def _latest_row(self, conn: Connection) -> Row[Any] | None:
        query = select(checkpoints_table).order_by(checkpoints_table.c.size.desc()).limit(1)
        return conn.execute(query).first()

    # -- reading ----------------------------------------------------------------------------

    def latest_checkpoint(self, conn: Connection) -> str | None:
        """The latest signed checkpoint note, or None before the first one."""
        row = self._latest_row(conn)
        return None if row is None else str(row.note)

    def size(self, conn: Connection) -> int:
        """The number of entries appended (and visible to this connection)."""
        found = conn.execute(select(head_table.c.size).where(head_table.c.id == _HEAD_ID))
        return int(found.scalar() or 0)

    def root_hash(self, conn: Connection) -> bytes:
        """The root hash of the whole log as it stands (not necessarily signed yet)."""
        row = conn.execute(select(head_table).where(head_table.c.id == _HEAD_ID)).first()
        return merkle.EMPTY_ROOT if row is None else _compact_range(row).root()

    def entry(self, conn: Connection, index: int) -> dict[str, Any]:
        """The entry at ``index``. Raises EntryNotFound if there is none."""
        query = select(entries_table.c.entry).where(entries_table.c.idx == index)
        text = conn.execute(query).scalar()
        if text is None:
            raise EntryNotFound(f"no audit entry {index}")
        return dict(json.loads(text))

    def entries(self, conn: Connection, *, offset: int = 0, limit: int = 100,
                type: str | None = None, since: datetime | str | None = None,
                until: datetime | str | None = None, department: Values = None,
                dataset_id: Values | int = None, actor: Values = None,
                logged: bool = False, newest_first: bool = False, after: int | None = None,
                before: int | None = None) -> list[tuple[int, Any]]:
        """Entries in log order as ``(index, entry)`` (``newest_first``: the other way),
        filtered: ``since`` ≤ time < ``until`` (datetimes or RFC 3339 strings; naive means
        UTC); ``department`` matches the provider, the receiver or the actor's department.
        ``department``, ``dataset_id`` and ``actor`` are one value or a sequence of values,
        any of which matches (an empty sequence matches nothing); ``after`` < index <
        ``before`` reads the log in stretches without an ever larger ``offset``.
        With ``logged`` the entry is the exact text the log hashed, not parsed. Raises
        InvalidRange for a negative offset, a limit below 1 or a malformed time.
        """
        if offset < 0 or limit < 1:
            raise InvalidRange("offset must be 0 or more and limit 1 or more")
        query = select(entries_table.c.idx, entries_table.c.entry).where(
            *_filters(type=type, since=since, until=until, department=department,
                      dataset_id=dataset_id, actor=actor))
        if after is not None:
            query = query.where(entries_table.c.idx > after)
        if before is not None:
            query = query.where(entries_table.c.idx < before)
        order = entries_table.c.idx.desc() if newest_first else entries_table.c.idx
        rows = conn.execute(query.order_by(order).offset(offset).limit(limit))
        if logged:
            return [(int(idx), text) for idx, text in rows]
        return [(int(idx), json.loads(text)) for idx, text in rows]

    def last_time(self, conn: Connection, *, type: str, actor: str,
                  since: datetime | str) -> datetime | None:
        """The time (UTC) of ``actor``'s newest entry of ``type`` at or after ``since``;
        None if there is none. One prebuilt statement: asked before every call at rate
        (whether a user is throttled). Raises InvalidRange for a bad time."""
        found = conn.execute(_LAST_TIME, {"type": type, "actor": actor,
                                          "since": parse_bound(since, "since")}).scalar()
        return None if found is None else found.replace(tzinfo=timezone.utc)

    def count(self, conn: Connection, *, type: str | None = None,
              since: datetime | str | None = None, until: datetime | str | None = None,
              department: Values = None, dataset_id: Values | int = None,
              actor: Values = None, before: int | None = None) -> int:
        """How many entries the filters of :meth:`entries` select (below index ``before``)."""
        query = select(func.count()).select_from(entries_table).where(
            *_filters(type=type, since=since, until=until, department=department,
                      dataset_id=dataset_id, actor=actor))
        if before is not None:
            query = query.where(entries_table.c.idx < before)
        return int(conn.execute(query).scalar() or 0)

    def evidence(self, conn: Connection) -> EvidenceBundle:
        """Every entry covered by the latest checkpoint, with that checkpoint and the signer's
        verifier key, for offline verification. Raises EntryNotFound if nothing is signed yet.
        """
        row = self._latest_row(conn)
        if row is None:
            raise EntryNotFound("no checkpoint has been signed yet")
        query = (select(entries_table.c.idx, entries_table.c.entry)
                 .where(entries_table.c.idx < row.size).order_by(entries_table.c.idx))
        logged = [text.encode() for _, text in conn.execute(query)]
        return EvidenceBundle(origin=self.origin, vkey=self._signer.verifier_key,
                              checkpoint=str(row.note), logged=logged)

    # -- proofs -----------------------------------------------------------------------------

    def inclusion_proof(self, conn: Connection, index: int, size: int) -> list[bytes]:
        """The proof that entry ``index`` is in the tree of the first ``size`` entries.

        Raises InvalidRange unless 0 ≤ index < size ≤ the log's size; LogInconsistent if a
        stored subtree is missing.
        """
        self._check_size(conn, size)
        return self._range_hashes(conn, merkle.inclusion_proof_ranges(index, size))

    def consistency_proof(self, conn: Connection, old_size: int, new_size: int) -> list[bytes]:
        """The proof that the tree of ``old_size`` entries is a prefix of that of ``new_size``.

        Raises InvalidRange unless 0 < old_size ≤ new_size ≤ the log's size; LogInconsistent
        if a stored subtree is missing.
        """
        self._check_size(conn, new_size)
        return self._range_hashes(conn, merkle.consistency_proof_ranges(old_size, new_size))

    def _check_size(self, conn: Connection, size: int) -> None:
        current = self.size(conn)
        if not 0 < size <= current:
            raise InvalidRange(f"the log has {current} entries: no tree of size {size}")

    def _range_hashes(self, conn: Connection, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """The tree hash of each leaf range, read from the stored complete subtrees."""
        tiles = [merkle.perfect_subtrees(start, end) for start, end in ranges]
        stored = _load_nodes(conn, {tile for group in tiles for tile in group})
        return [_fold([stored[tile] for tile in group]) for group in tiles]


def _compact_range(row: Row[Any] | tuple[Any, ...]) -> merkle.CompactRange:
    """The compact range of a head row (``id``, then ``size, compact_range, root_hash``, or
    just those three). Raises LogInconsistent if it is corrupt."""
    size, compact_range, root_hash = row[-3:]
    try:
        tree = merkle.CompactRange.from_hex_list(int(size), json.loads(compact_range))
    except (ValueError, TypeError) as exc:
        raise LogInconsistent(f"the stored head of the log is corrupt: {exc}") from exc
    if tree.root() != bytes(root_hash):
        raise LogInconsistent("the stored head's root does not match its compact range")
    return tree


# -- the append on the DB-API cursor (SQLite) ---------------------------------------------
#
# Through SQLAlchemy each of the append's statements costs ~40 µs of Python (execution
# context, events, result set-up) against ~5 µs in sqlite3 itself: a third of the append.
# On SQLite, inside a transaction the engine has begun (so its BEGIN IMMEDIATE has run), the
# same statements go to the driver's cursor of the same connection, in the same transaction.
# Other databases (PostgreSQL) keep the Core path.

_ENTRY_COLUMNS = tuple(column.name for column in entries_table.c)
_SQL_LOCK_HEAD = "SELECT size, compact_range, root_hash FROM audit_head WHERE id = ?"
_SQL_INSERT_ENTRY = (f"INSERT INTO audit_entries ({', '.join(_ENTRY_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(_ENTRY_COLUMNS))})")
_SQL_INSERT_NODE = "INSERT INTO audit_nodes (level, position, hash) VALUES (?, ?, ?)"
_SQL_SAVE_HEAD = "UPDATE audit_head SET size = ?, compact_range = ?, root_hash = ? WHERE id = ?"
# the text SQLAlchemy stores for a DateTime on SQLite ('2026-11-28 03:40:00.000000'), so
# the rows written here compare and read back exactly as those written through Core
_sqlite_dialect = sqlite_dialect.dialect()
_SQLITE_TIME = entries_table.c.time.type.dialect_impl(_sqlite_dialect).bind_processor(
    _sqlite_dialect)


# The last head row this process wrote, with its compact range. A head row read back equal to
# it, byte for byte, is known to be consistent (its root was computed from that range), so
# the append skips parsing it and recomputing its root; any other row is checked in full.
_last_head: tuple[tuple[int, str, bytes], tuple[bytes, ...]] | None = None


def _driver_cursor(conn: Connection) -> Any:
    """A DB-API cursor on ``conn`` if the append may use it (SQLite through the standard
    library's driver, a transaction begun), else None."""
    dialect = conn.dialect
    if dialect.name != "sqlite" or dialect.driver != "pysqlite" or not conn.in_transaction():
        return None
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _append_on_cursor(cursor: Any, columns: dict[str, Any], data: bytes) -> Appended | None:
    """:meth:`AuditLog.append` on the driver's cursor; None (nothing written) if the log has
    no head row yet."""
    global _last_head
    row = cursor.execute(_SQL_LOCK_HEAD, (_HEAD_ID,)).fetchone()
    if row is None:
        return None
    last = _last_head
    if last is not None and last[0] == row:  # the very head this process wrote last
        tree = merkle.CompactRange(row[0], last[1])
    else:
        tree = _compact_range(row)
    index, leaf = tree.size, merkle.leaf_hash(data)
    completed = tree.append(leaf)
    values = {**columns, "idx": index, "leaf_hash": leaf, "entry": data.decode()}
    values["time"] = _SQLITE_TIME(values["time"]) if _SQLITE_TIME else values["time"]
    cursor.execute(_SQL_INSERT_ENTRY, [values[name] for name in _ENTRY_COLUMNS])
    for level, position, hash_ in completed[1:]:  # level 0 is the entry's leaf_hash
        cursor.execute(_SQL_INSERT_NODE, (level, position, hash_))
    head = (tree.size, json.dumps(tree.to_hex_list()), tree.root())
    cursor.execute(_SQL_SAVE_HEAD, (*head, _HEAD_ID))
    _last_head = (head, tree.hashes)
    return Appended(index=index, leaf_hash=leaf.hex(), size=tree.size)


def _load_nodes(conn: Connection, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Subtree hashes by (level, position): level 0 (a leaf) is its entry's ``leaf_hash``, the
    others are stored. Raises LogInconsistent if one is missing."""
    wanted = set(keys)
    leaves = [pos for lvl, pos in wanted if lvl == 0]
    inner = [(lvl, pos) for lvl, pos in wanted if lvl != 0]
    found: dict[tuple[int, int], bytes] = {}
    if leaves:
        entries = entries_table.c
        query = select(entries.idx, entries.leaf_hash).where(entries.idx.in_(leaves))
        found.update(((0, int(idx)), bytes(h)) for idx, h in conn.execute(query))
    if inner:
        nodes = nodes_table.c
        query = select(nodes.level, nodes.position, nodes.hash).where(
            or_(*(and_(nodes.level == lvl, nodes.position == pos) for lvl, pos in inner)))
        found.update(((int(lvl), int(pos)), bytes(h)) for lvl, pos, h in conn.execute(query))
    missing = wanted - found.keys()
    if missing:
        raise LogInconsistent(f"the stored tree lacks the subtrees {sorted(missing)}")
    return found


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The tree hash of adjacent complete subtrees (largest first), folded from the right."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = merkle.node_hash(left, result)
    return result


_LAST_TIME = (select(entries_table.c.time)
              .where(entries_table.c.type == bindparam("type"),
                     entries_table.c.actor == bindparam("actor"),
                     entries_table.c.time >= bindparam("since"))
              .order_by(entries_table.c.idx.desc()).limit(1))


def _filters(*, type: str | None, since: datetime | str | None, until: datetime | str | None,
             department: Values, dataset_id: Values | int, actor: Values) -> list[Any]:
    """WHERE clauses for :meth:`AuditLog.entries`, each on an indexed column (equality or
    ``IN``: never a scan of the log). Raises InvalidRange for a bad time."""
    c = entries_table.c
    start, end = parse_bound(since, "since"), parse_bound(until, "until")
    clauses: list[Any] = []
    if type:
        clauses.append(c.type == type)
    if start is not None:
        clauses.append(c.time >= start)
    if end is not None:
        clauses.append(c.time < end)
    if _given(department):
        clauses.append(or_(*(_matches(column, department)
                             for column in (c.provider, c.receiver, c.actor_department))))
    if _given(dataset_id):
        clauses.append(_matches(c.dataset_id, dataset_id))
    if _given(actor):
        clauses.append(_matches(c.actor, actor))
    return clauses


def _given(value: Values | int) -> bool:
    """Whether a filter is set: a value other than "", or any sequence (even empty)."""
    return value is not None and value != ""


def _matches(column: Any, value: Values | int) -> Any:
    """``column`` equal to ``value``, or to any of a sequence of values (none: false)."""
    if isinstance(value, (str, int)):
        return column == str(value)
    values = sorted({str(v) for v in value})
    return column.in_(values) if values else false()

