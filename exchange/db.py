"""The database: engine construction and schema migrations (Alembic)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

__all__ = ["make_engine", "reader", "writers_turn", "upgrade", "MIGRATIONS", "POOL_SIZE",
           "POOL_OVERFLOW"]

READONLY = "govex_readonly"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


#: Connections a process keeps open: a server's threads (8 by default), the audit log's
#: writer, the background worker and the pages' readers at once. SQLAlchemy's default (5)
#: made every connection past it be opened and closed per request (with SQLite's pragmas,
#: or PostgreSQL's sign-in): most of a lookup's cost under load. At most ``POOL_SIZE +
#: POOL_OVERFLOW`` per process: size PostgreSQL's ``max_connections`` for the processes.
POOL_SIZE, POOL_OVERFLOW = 16, 4


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``. SQLite gets WAL, a busy timeout, foreign keys and ``BEGIN
    IMMEDIATE`` transactions, so writers queue in the database instead of failing halfway."""
    parsed = sa.engine.make_url(url)
    in_memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    pool = {} if url.startswith("sqlite") and in_memory else {  # one connection, kept
        "pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True, **pool)
    # hide_parameters: a failed statement's values (purposes, names) never reach the log
    engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                              hide_parameters=True, **pool)
    _owner_only(engine.url.database)
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _owner_only(path: str | None) -> None:
    """Create the database file readable by its owner only (it holds password and token
    hashes and the encrypted keys); SQLite gives its -wal and -shm files the same mode."""
    if not path or path == ":memory:" or path.startswith("file:") \
            or not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return  # in memory, a URI, or no folder yet: SQLite says what is wrong itself
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _sqlite_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 (DB-API objects)
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                   "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    readonly = conn.get_execution_options().get(READONLY, False)
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


@contextlib.contextmanager
def writers_turn(engine: sa.Engine) -> Iterator[None]:
    """Wait for this process's turn to write at rate, for a batch of the audit log's writer.
    SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to
    100 ms each), so two server processes' writers took turns slowly and unevenly; here they
    queue on an exclusive ``flock`` of a file beside the database instead, which wakes the
    next one as soon as the lock is free. PostgreSQL queues them itself (row locks)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    fd = os.open(f"{path}.writer.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def reader(engine: sa.Engine) -> sa.Engine:
    """The same database for reading only: on SQLite a deferred transaction that never waits
    for the writer (WAL readers see the last commit)."""
    return engine.execution_options(**{READONLY: True})


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
