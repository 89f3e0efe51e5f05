"""The exchange's runtime: one object holding the engine, enforcer, audit log, payload store and
keys, and the few helpers every use case shares (authorization with auditing of refusals,
audit appends, checkpoints). The use cases live in ``publishing``, ``access`` and ``delivery``.

This is the only place that composes the domain packages.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from audit import AuditLog, NoteSigner
from catalog import EncryptedFileStore, PayloadStore, repository
from policies import Enforcer, rfc3339

from .auth import Principal
from .config import Settings
from .db import make_engine, reader
from .errors import Forbidden, TooManyAttempts
from .keys import MasterKey, SigningKeys
from .models import exchanges

__all__ = ["Services", "utcnow"]

log = logging.getLogger("govex")
RELOAD_INTERVAL = 5.0  # seconds between policy reloads triggered by refusals
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
        self._enforcer: Enforcer | None = None
        self._analyzer: Any = None
        self._lock = threading.Lock()
        self._reloaded = 0.0
        self.monotonic: Callable[[], float] = time.monotonic
        self._refusals: dict[str, deque[float]] = {}
        self._throttled: dict[str, float] = {}
        self._throttle_lock = threading.Lock()  # not _lock, held while the analyzer builds

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
        with self._lock:
            if self._analyzer is None:
                from masking import build_analyzer, set_scrub_workers
                set_scrub_workers(1)  # threaded server: never fork while other threads run
                self._analyzer = build_analyzer(cache_dir=self.settings.cache_dir)
            return self._analyzer

    def audit_log(self) -> AuditLog:
        """The audit log, signing checkpoints with the active signing key."""
        active = self.keys.active(self.reader)
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
        unlogged: a throttled request is never decided. Counted per process. ``target`` (a
        request or grant id) names what was tried, in the log.
        """
        dom = dom or who.domain
        self.check_throttle(who)
        if not self.allowed(who.username, dom, obj, act):
            self.refuse(who, obj=f"{obj}:{target}" if target else obj, act=act, dom=dom)
            raise Forbidden(f"{who.username} ({who.role}, {who.domain}) may not {act} {obj}"
                            + ("" if dom == who.domain else f" of {dom}"))

    def refuse(self, who: Principal, *, obj: str, act: str, dom: str) -> None:
        """Log a refused decision and count it towards the user's throttle. Every refusal
        made outside :meth:`require` goes through here too (after :meth:`check_throttle`)."""
        self.record_refusal(who, obj=obj, act=act, dom=dom)
        self._count_refusal(who)

    def check_throttle(self, who: Principal) -> None:
        """Raise TooManyAttempts while ``who`` is throttled (see :meth:`require`)."""
        with self._throttle_lock:
            until = self._throttled.get(who.username)
            if until is None:
                return
            left = until - self.monotonic()
            if left <= 0:
                del self._throttled[who.username]
                return
        raise TooManyAttempts(f"{who.username} was refused too often; try again in "
                              f"{max(1, round(left))} s",
                              until=self.clock() + dt.timedelta(seconds=left))

    def _count_refusal(self, who: Principal) -> None:
        now = self.monotonic()
        with self._throttle_lock:
            recent = self._refusals.setdefault(who.username, deque())
            recent.append(now)
            while recent and recent[0] <= now - REFUSAL_WINDOW:
                recent.popleft()
            if len(recent) < REFUSALS_PER_WINDOW or who.username in self._throttled:
                return
            self._throttled[who.username] = now + REFUSAL_WINDOW
            recent.clear()
        self.append_and_commit({"type": "authz_throttled", "actor": who.username,
                                "actor_department": who.department, "outcome": "throttled",
                                "seconds": REFUSAL_WINDOW})

    def allowed(self, user: str, dom: str, obj: str, act: str) -> bool:
        """Casbin's decision. A refusal reloads the policies once (at most every few seconds)
        and asks again, so users and roles added by ``govex users add`` in another process
        take effect without a restart."""
        now = self.clock()
        if self.enforcer.allowed(user, dom, obj, act, now=now):
            return True
        if time.monotonic() - self._reloaded < RELOAD_INTERVAL:
            return False
        self._reloaded = time.monotonic()
        self.enforcer.reload()
        return self.enforcer.allowed(user, dom, obj, act, now=now)

    def record_refusal(self, who: Principal, *, obj: str, act: str, dom: str) -> None:
        """Append an ``authz_denied`` entry in its own transaction. ``obj`` may name what was
        tried (``grant:gr_…``): the entry then carries it as ``target`` and the department
        that owns it as ``provider``; a refusal of a kind of page or action as such (a
        requester opening the stewards' inbox) names no provider."""
        kind, _, target = obj.partition(":")
        event = {"type": "authz_denied", "actor": who.username,
                 "actor_department": who.department, "object": kind, "target": target or None,
                 "action": act, "provider": dom if target or dom != who.domain else None,
                 "outcome": "denied"}
        self.append_and_commit(event)

    def event(self, base: dict[str, Any]) -> dict[str, Any]:
        """An audit event with its time; ``None`` values left out (RFC 8785 has no gaps)."""
        stamped = {"time": rfc3339(self.clock()), **base}
        return {k: v for k, v in stamped.items() if v is not None}

    def append(self, conn: sa.Connection, event: dict[str, Any]) -> int:
        """Append ``event`` inside the caller's transaction; returns its index."""
        return self.audit_log().append(conn, self.event(event)).index

    def append_and_commit(self, event: dict[str, Any]) -> int:
        """Append in a transaction of its own, then sign a checkpoint."""
        with self.engine.begin() as conn:
            index = self.append(conn, event)
        self.checkpoint()
        return index

    def checkpoint(self) -> str:
        """Sign a checkpoint covering every committed entry; returns the signed note."""
        with self.engine.begin() as conn:
            return self.audit_log().checkpoint(conn, now=self.clock())
