"""Signing in to the web pages: password check, throttling of failed attempts, audit entries,
and the server-side session that results.

Failed sign-ins are counted per username and per client address in the database (so the count
holds across the server's threads and restarts). Five failures for one username within 15
minutes lock that username for 15 minutes; twenty from one address lock the address. While
locked, an attempt is refused without checking the password. Unknown usernames are counted and
locked exactly like real ones and cost the same Argon2 computation, so neither the answer nor
its timing tells whether an account exists. Usage::

    who, session_id = sign_in(svc, username="civil-requester", password="…",
                              address=request.remote_addr, lifetime=dt.timedelta(hours=8))

Every failed check is an audit entry (``sign_in_failed``), and every lock-out one more
(``sign_in_locked``), once when it starts, not for each attempt it refuses. Entries name the
user only when the account exists (a mistyped username may be someone's password); the client
address is never logged there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import sqlalchemy as sa

from policies import rfc3339

from .. import _crypto, events
from ..auth import Principal, check_password, end_session, open_session
from ..errors import TooManyAttempts, Unauthenticated
from ..models import sign_in_failures, users
from ..services import Services

__all__ = ["Limit", "USER_LIMIT", "ADDRESS_LIMIT", "sign_in", "sign_out", "locked_until",
           "record_failure", "clear_user_failures"]

log = logging.getLogger("govex")


@dataclasses.dataclass(frozen=True)
class Limit:
    """``failures`` failed sign-ins of one key within ``window`` lock it for ``lock``."""

    scope: str  # "user" or "address"
    failures: int
    window: dt.timedelta
    lock: dt.timedelta


USER_LIMIT = Limit("user", 5, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
ADDRESS_LIMIT = Limit("address", 20, dt.timedelta(minutes=15), dt.timedelta(minutes=15))

_t = sign_in_failures.c


def sign_in(svc: Services, *, username: str, password: str, address: str,
            lifetime: dt.timedelta) -> tuple[Principal, str]:
    """Check the password and open a web session; returns the user and the session id.

    Raises TooManyAttempts while the username or the address is locked out (the password is
    not checked), Unauthenticated for a wrong username or password (the same message whether
    or not the user exists; the failure is counted and logged).
    """
    now = svc.clock()
    keys = _keys(svc, username, address)
    with svc.reader.connect() as conn:
        locks = [until for limit, key in keys
                 if (until := locked_until(conn, limit, key, now=now)) is not None]
    if locks:
        raise TooManyAttempts("too many failed sign-ins; try again later", until=max(locks))
    try:
        with svc.reader.connect() as conn:
            who = check_password(conn, username, password)
    except Unauthenticated:
        _failed(svc, username, address, keys, now=now)
        raise
    with svc.engine.begin() as conn:
        _clear(conn, *keys[0])  # the username's count; the address keeps its own
        return who, open_session(conn, who.username, now=now, lifetime=lifetime)


def sign_out(svc: Services, session_id: str) -> None:
    """End the web session ``session_id`` in the database (its cookie opens nothing after)."""
    with svc.engine.begin() as conn:
        end_session(conn, session_id)


def locked_until(conn: sa.Connection, limit: Limit, key: str, *,
                 now: dt.datetime) -> dt.datetime | None:
    """When the lock-out of ``key`` ends, or None if it is not locked out at ``now``."""
    started = conn.execute(sa.select(sa.func.max(_t.at)).where(
        _t.scope == limit.scope, _t.key == key, _t.kind == "lockout",
        _t.at > now - limit.lock)).scalar()
    return None if started is None else _utc(started) + limit.lock


def record_failure(conn: sa.Connection, limit: Limit, key: str, *, now: dt.datetime) -> bool:
    """Count a failed sign-in of ``key``; returns True when it starts a lock-out (at most one
    per lock-out, even when failures checked in parallel arrive after it started). Failures
    before the last lock-out do not count again. Rows too old to matter are deleted."""
    conn.execute(sign_in_failures.delete().where(
        _t.scope == limit.scope, _t.at <= now - max(limit.window, limit.lock)))
    conn.execute(sign_in_failures.insert().values(scope=limit.scope, key=key, kind="failure",
                                                  at=now))
    mine = (_t.scope == limit.scope, _t.key == key)
    last_lock = conn.execute(sa.select(sa.func.max(_t.at)).where(*mine, _t.kind == "lockout")
                             ).scalar()
    if last_lock is not None and _utc(last_lock) > now - limit.lock:
        return False  # already locked (a parallel attempt got past the check before it began)
    since = now - limit.window
    counted = (_t.at > since) if last_lock is None else sa.and_(_t.at > since,
                                                               _t.at > last_lock)
    failures = conn.execute(sa.select(sa.func.count()).where(
        *mine, _t.kind == "failure", counted)).scalar_one()
    if failures < limit.failures:
        return False
    conn.execute(sign_in_failures.insert().values(scope=limit.scope, key=key, kind="lockout",
                                                  at=now))
    return True


def clear_user_failures(svc: Services, conn: sa.Connection, username: str) -> None:
    """Forget the username's failed sign-ins and its lock-out (an admin set a new password:
    the guesses were at the old one). Client addresses keep theirs."""
    _clear(conn, USER_LIMIT, _key(svc, "user", username))


def _clear(conn: sa.Connection, limit: Limit, key: str) -> None:
    conn.execute(sign_in_failures.delete().where(_t.scope == limit.scope, _t.key == key))


def _keys(svc: Services, username: str, address: str) -> list[tuple[Limit, str]]:
    return [(USER_LIMIT, _key(svc, "user", username)),
            (ADDRESS_LIMIT, _key(svc, "address", address))]


def _key(svc: Services, scope: str, value: str) -> str:
    """What the failure table stores for a username or an address: a keyed hash, never it."""
    return _crypto.keyed_hash(svc.master.derive("sign-in-throttle"), f"{scope}\0{value}")


def _failed(svc: Services, username: str, address: str, keys: list[tuple[Limit, str]], *,
            now: dt.datetime) -> None:
    """Count the failure under both keys and write its audit entries, in one transaction."""
    with svc.recording() as rec:
        account = rec.conn.execute(sa.select(users.c.department, users.c.disabled).where(
            users.c.username == username)).first()
        who = {"actor": username, "actor_department": account.department} if account else {}
        reason = ("unknown_user" if account is None
                  else "disabled_user" if account.disabled else "wrong_password")
        rec.append(events.SignInFailed(**who, reason=reason))
        for limit, key in keys:
            if record_failure(rec.conn, limit, key, now=now):
                until = now + limit.lock
                rec.append(events.SignInLocked(**(who if limit is USER_LIMIT else {}),
                                               scope=limit.scope, until=rfc3339(until)))
                if limit is ADDRESS_LIMIT:
                    log.warning("sign-ins from %s locked until %s: %d failures", address,
                                until.isoformat(), limit.failures)


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC (SQLite gives them back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
