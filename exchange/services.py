"""The exchange's runtime: one object holding the engine, enforcer, audit log, payload store and
keys, and the few helpers every use case shares: authorization with auditing of refusals, and
the one way to write to the audit log (:meth:`Services.recording`). The use cases live in
``exchange.usecases``.

This is the only place that composes the domain packages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from audit import AuditLog, NoteSigner, SignedCheckpoint
from catalog import EncryptedFileStore, PayloadStore, repository
from policies import Enforcer, rfc3339

from . import events, notices
from .auth import Principal
from .config import Settings
from .db import make_engine, reader, writers_turn
from .errors import Forbidden, TooManyAttempts
from .events import Event
from .keys import ActiveKey, MasterKey, SigningKeys
from .models import exchanges
from .writer import BatchWriter

__all__ = ["Services", "Recording", "utcnow"]

log = logging.getLogger("govex")
DELIVERY_CHUNK_ROWS = 100_000  # rows a delivery reads, masks and writes at a time
PUBLISH_CHUNK_ROWS = 100_000  # rows publishing reads and counts at a time
REFUSALS_PER_WINDOW = 30  # refusals of one user within REFUSAL_WINDOW that throttle it
REFUSAL_WINDOW = 60  # seconds


def utcnow() -> dt.datetime:
    """The current time, UTC, whole seconds (what the log and the enforcer compare)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class Services:
    """Everything a request handler needs, built once per process from settings."""

    def __init__(self, settings: Settings, *, engine: sa.Engine | None = None,
                 store: PayloadStore | None = None,
                 clock: Callable[[], dt.datetime] = utcnow,
                 delivery_chunk_rows: int = DELIVERY_CHUNK_ROWS,
                 publish_chunk_rows: int = PUBLISH_CHUNK_ROWS) -> None:
        self.settings = settings
        self.delivery_chunk_rows = delivery_chunk_rows  # bounds a delivery's memory
        self.publish_chunk_rows = publish_chunk_rows  # and publishing's
        self.engine = engine or make_engine(settings.db_url)
        self.reader = reader(self.engine)  # for reads: never waits for the writer
        self.master = MasterKey.load(secret=settings.secret, home=settings.home)
        self.store = store or EncryptedFileStore(settings.home / "payloads",
                                                 key=self.master.derive("payload-store"))
        self.keys = SigningKeys(self.master)
        self.clock = clock
        self.log_reader = AuditLog(origin=settings.log_origin)  # reading needs no key
        self._enforcer: Enforcer | None = None
        self._analyzer: Any = None
        self._spark: Any = None
        # one lock per lazily built part: building the analyzer or starting Spark takes seconds,
        # and no decision (the enforcer) may wait for them
        self._lock = threading.Lock()
        self._analyzer_lock = threading.Lock()
        self._spark_lock = threading.Lock()
        self._writer: BatchWriter | None = None
        self._batch: tuple[AuditLog, ActiveKey] | None = None  # the writer thread's own
        #: what a use case keeps between calls in this process, by name (interface sharing's
        #: plans of its grants): each is checked again where it matters, never trusted blind
        self.kept: dict[str, Any] = {}

    def sweep_payloads(self, *, older_than: float = 3600.0) -> Any:
        """Remove payload files a crash left behind (see ``EncryptedFileStore.sweep``): those
        no dataset version and no delivery records. Run before serving, while no other
        process writes to the store. Returns what was removed (None for a store that
        cannot be swept)."""
        sweep = getattr(self.store, "sweep", None)
        if sweep is None:
            return None
        with self.reader.connect() as conn:
            known = repository.payload_digests(conn)
            known.update(conn.execute(sa.select(exchanges.c.sha256)).scalars())

        def referenced(digest: str) -> bool:
            if digest in known:
                return True
            with self.reader.connect() as conn:  # asked again right before removing it
                return repository.payload_in_use(conn, digest) or conn.execute(
                    sa.select(exchanges.c.sha256).where(exchanges.c.sha256 == digest).limit(1)
                ).first() is not None
        return sweep(referenced, older_than=older_than)

    # -- lazily built parts ------------------------------------------------------------------
    @property
    def enforcer(self) -> Enforcer:
        """The Casbin enforcer (policies loaded on first use)."""
        with self._lock:
            if self._enforcer is None:
                self._enforcer = Enforcer(self.engine)
            return self._enforcer

    def analyzer(self) -> Any:
        """The offline Presidio analyzer (imported and built on first use: it is slow)."""
        with self._analyzer_lock:
            if self._analyzer is None:
                from masking import build_analyzer, set_scrub_workers
                set_scrub_workers(1)  # threaded server: never fork while other threads run
                self._analyzer = build_analyzer(cache_dir=self.settings.cache_dir)
            return self._analyzer

    def spark(self) -> Any:
        """The Spark session that masks external tables (``settings.spark_master``), started
        on first use and kept for the process (a JVM takes seconds to start)."""
        with self._spark_lock:
            if self._spark is None:
                from masking import spark_session
                if self.settings.spark_master.startswith("local"):
                    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
                self._spark = spark_session(self.settings.spark_master)
            return self._spark

    def audit_log(self) -> AuditLog:
        """The audit log, signing checkpoints with the active signing key."""
        return self._log(self.keys.active(self.reader))

    def _log(self, active: ActiveKey) -> AuditLog:
        return AuditLog(origin=self.settings.log_origin,
                        signer=NoteSigner(self.settings.log_origin, active.private_key))

    # -- shared steps ------------------------------------------------------------------------
    def require(self, who: Principal, obj: str, act: str, *, dom: str | None = None,
                target: str | None = None) -> None:
        """Raise Forbidden (and log the refusal in the audit log) unless Casbin allows.

        A user refused ``REFUSALS_PER_WINDOW`` times within ``REFUSAL_WINDOW`` seconds is
        throttled for that long: every decision is refused with TooManyAttempts (429) before
        it is made, so a client hammering what it may not do cannot grow the audit log without
        bound; the throttle is itself logged, once (``authz_throttled``). No decision goes
        unlogged: a throttled request is never decided. ``target`` (a request or grant id)
        names what was tried, in the log.
        """
        dom = dom or who.domain
        self.check_throttle(who)
        if not self.allowed(who.username, dom, obj, act):
            self.refuse(who, obj=f"{obj}:{target}" if target else obj, act=act, dom=dom)
            raise Forbidden(f"{who.username} ({who.role}, {who.domain}) may not {act} {obj}"
                            + ("" if dom == who.domain else f" of {dom}"), code="forbidden")

    def refuse(self, who: Principal, *, obj: str, act: str, dom: str) -> None:
        """Log a refused decision (``authz_denied``); the refusal that makes
        ``REFUSALS_PER_WINDOW`` within the window also throttles the user and logs that
        (``authz_throttled``), in the same transaction. Every refusal made outside
        :meth:`require` goes through here too (after :meth:`check_throttle`).

        The throttle is read from the audit log itself, so every server process counts every
        refusal: appends are serialized, so the count made after this append is exact."""
        kind, _, target = obj.partition(":")
        with self.recording() as rec:
            rec.append(events.AuthzDenied(
                actor=who.username, actor_department=who.department, object=kind,
                target=target or None, action=act,
                provider=dom if target or dom != who.domain else None))
            since = self._window_start()
            refused = rec.log.entries(rec.conn, type="authz_denied", actor=who.username,
                                      since=since, limit=REFUSALS_PER_WINDOW)
            if len(refused) >= REFUSALS_PER_WINDOW and not self._throttled_since(
                    rec.conn, rec.log, who, since):
                rec.append(events.AuthzThrottled(actor=who.username,
                                                 actor_department=who.department,
                                                 seconds=REFUSAL_WINDOW))

    def check_throttle(self, who: Principal) -> None:
        """Raise TooManyAttempts while ``who`` is throttled (see :meth:`require`)."""
        with self.reader.connect() as conn:
            started = self._throttled_since(conn, self.log_reader, who, self._window_start())
        if started is None:
            return
        until = started + dt.timedelta(seconds=REFUSAL_WINDOW)
        left = (until - self.clock()).total_seconds()
        raise TooManyAttempts(f"{who.username} was refused too often; try again in "
                              f"{max(1, round(left))} s", until=until,
                              code="too_many_attempts", seconds=max(1, round(left)))

    def _window_start(self) -> dt.datetime:
        """The first whole second of the refusal window ending now."""
        return self.clock() - dt.timedelta(seconds=REFUSAL_WINDOW - 1)

    @staticmethod
    def _throttled_since(conn: sa.Connection, log: AuditLog, who: Principal,
                         since: dt.datetime) -> dt.datetime | None:
        """When ``who``'s current throttle began (None when not throttled)."""
        return log.last_time(conn, type="authz_throttled", actor=who.username, since=since)

    def allowed(self, user: str, dom: str, obj: str, act: str) -> bool:
        """Casbin's decision, after applying every policy change any process committed (a
        grant approved, a role given or a grant revoked through another server or
        ``govex users add`` counts here before this decision)."""
        self.enforcer.sync()
        return self.enforcer.allowed(user, dom, obj, act, now=self.clock())

    @contextlib.contextmanager
    def recording(self) -> Iterator[Recording]:
        """The one way to write to the audit log: a transaction in which a change and its
        entries commit together (``rec.conn`` for the change, ``rec.append(event)`` for each
        entry), then one checkpoint signed over them (``rec.checkpoint``). The signing key is
        looked up once for all of it (``rec.key`` also signs a receipt). If the block raises,
        nothing of it commits and nothing is signed.
        """
        active = self.keys.active(self.reader)
        log = self._log(active)
        with self.engine.begin() as conn:
            log.hold(conn)  # the head before any other row: one lock order for every writer
            rec = Recording(conn, log, active, self.clock, on_entry=self._notify)
            yield rec
        rec.checkpoint = self._sign_checkpoint(log)

    def _notify(self, conn: sa.Connection, entry: dict[str, Any]) -> None:
        """Store the notices an entry causes, with its change (see exchange.notices)."""
        found = notices.from_entry(entry)
        if found:
            notices.write(conn, found, now=self.clock(), email=bool(self.settings.smtp_url))

    def submit(self, work: Callable[[Recording], Any]) -> tuple[Any, Recording]:
        """Run ``work(rec)`` in the batching writer (:mod:`exchange.writer`): with the other
        jobs queued meanwhile, in one transaction with one signed checkpoint. Returns its
        result and its Recording (``rec.checkpoint`` covers its entries) once the batch is
        durable; raises what ``work`` raised, nothing of it written. For calls at rate
        (interface sharing); a change made once in a while uses :meth:`recording`."""
        with self._lock:
            if self._writer is None:
                self._writer = BatchWriter(begin=self._begin_batch,
                                           recording=self._batch_recording,
                                           sign=self._sign_batch)
        return self._writer.submit(work)

    @contextlib.contextmanager
    def _begin_batch(self) -> Iterator[sa.Connection]:
        active = self.keys.active(self.reader)
        self._batch = (self._log(active), active)
        with writers_turn(self.engine), self.engine.begin() as conn:
            self._batch[0].hold(conn)  # before any job locks its grant (see AuditLog.hold)
            yield conn

    def _batch_recording(self, conn: sa.Connection) -> Recording:
        assert self._batch is not None
        log, active = self._batch
        return Recording(conn, log, active, self.clock, on_entry=self._notify)

    def _sign_batch(self, conn: sa.Connection, _recs: list[Recording]) -> SignedCheckpoint:
        assert self._batch is not None
        return self._batch[0].sign_checkpoint(conn, now=self.clock())

    def record(self, event: Event) -> int:
        """Append one event in a transaction of its own and sign a checkpoint; its index."""
        with self.recording() as rec:
            index = rec.append(event)
        return index

    def checkpoint(self) -> str:
        """Sign a checkpoint covering every committed entry; returns the signed note."""
        return self._sign_checkpoint(self.audit_log()).note

    def _sign_checkpoint(self, log: AuditLog) -> SignedCheckpoint:
        with self.engine.begin() as conn:
            return log.sign_checkpoint(conn, now=self.clock())


class Recording:
    """A change being recorded (see :meth:`Services.recording`)."""

    def __init__(self, conn: sa.Connection, log: AuditLog, key: ActiveKey,
                 clock: Callable[[], dt.datetime],
                 on_entry: Callable[[sa.Connection, dict[str, Any]], None] | None = None
                 ) -> None:
        self.conn = conn
        self.log = log
        self.key = key
        self._clock = clock
        self._on_entry = on_entry  # what an entry causes besides itself (its notices)
        self.entries: dict[int, dict[str, Any]] = {}  # what was appended, by index
        self.checkpoint: SignedCheckpoint | None = None  # set once the change committed

    def append(self, event: Event) -> int:
        """Append ``event``, stamped with the time, in this transaction; returns its index."""
        entry = event.entry(time=rfc3339(self._clock()))
        index = self.log.append(self.conn, entry).index
        self.entries[index] = entry
        if self._on_entry is not None:
            self._on_entry(self.conn, entry)
        return index
