"""Identities: users, password hashing (Argon2id), API tokens and web sessions (both stored as
SHA-256 of a random id), principals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import Conflict, InvalidInput, NotFound, Unauthenticated
from .models import departments, tokens, users, web_sessions

__all__ = ["Principal", "ROLES", "add_user", "check_email", "set_email", "check_new_account",
           "issue_token",
           "bearer_token", "principal_for_token", "check_password",
           "hash_token", "open_session",
           "principal_for_session", "touch_session", "end_session", "end_sessions",
           "set_password", "set_disabled", "revoke_tokens"]

ROLES = ("requester", "steward", "auditor", "authority", "admin")
#: A session's "last seen" is written at most this often (not a write per page view).
TOUCH_EVERY = dt.timedelta(minutes=1)
SYSTEM_DOMAIN = "system"
_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,62}$")


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is acting: a user, the department they act for, and their role there."""

    username: str
    display_name: str
    department: str | None
    role: str

    @property
    def domain(self) -> str:
        """The Casbin domain the user acts in (admins act in the system domain)."""
        return self.department or SYSTEM_DOMAIN


def hash_token(token: str) -> str:
    """SHA-256 hex of an API token (tokens are 256-bit random, so no slow KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(conn: sa.Connection, *, username: str, password: str, role: str,
             department: str | None, display_name: str | None = None,
             email: str | None = None, now: dt.datetime) -> Principal:
    """Create a user with an Argon2id password hash.

    Raises InvalidInput (bad name, short password, unknown role or department), Conflict (taken).
    """
    if len(password) < 10:
        raise InvalidInput("password: at least 10 characters")
    check_new_account(conn, username, role, department)
    conn.execute(users.insert().values(
        username=username, display_name=display_name or username, department=department,
        role=role, password_hash=_hasher.hash(password), created_at=now, disabled=False,
        email=check_email(email)))
    return Principal(username, display_name or username, department, role)


def check_new_account(conn: sa.Connection, username: str, role: str,
                      department: str | None) -> None:
    """Raise InvalidInput or Conflict unless a user ``username`` with ``role`` in
    ``department`` could be added (everything but the password)."""
    if not _USERNAME.match(username):
        raise InvalidInput("username: 2-63 lower-case letters, digits, '.', '-' or '_'")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if (role == "admin") != (department is None):
        raise InvalidInput("an admin has no department; every other role needs one")
    if department:
        found = conn.execute(sa.select(departments.c.disabled).where(
            departments.c.code == department)).first()
        if found is None:
            raise InvalidInput(f"unknown department {department!r} (an admin adds it: govex "
                               f"departments add)", code="department_unknown",
                               field="department")
        if found.disabled:
            raise InvalidInput(f"department {department!r} is disabled",
                               code="department_disabled", field="department")
    if conn.execute(sa.select(users.c.username).where(users.c.username == username)).first():
        raise Conflict(f"user {username!r} exists")


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_email(email: str | None) -> str | None:
    """A work e-mail address as given (stripped; None or empty: none). Raises InvalidInput."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("email: not an e-mail address", code="email_invalid", field="email")
    return email


def set_email(conn: sa.Connection, username: str, email: str | None) -> None:
    """Set (or, with None, remove) the address a user's notices are e-mailed to. Raises
    InvalidInput, NotFound."""
    result = conn.execute(users.update().where(users.c.username == username)
                          .values(email=check_email(email)))
    if result.rowcount != 1:
        raise NotFound(f"no user {username!r}", code="user_not_found")


def set_password(conn: sa.Connection, username: str, password: str) -> None:
    """Replace the password hash of an existing user. Raises InvalidInput (short password),
    NotFound."""
    if len(password) < 10:
        raise InvalidInput("password: at least 10 characters")
    done = conn.execute(users.update().where(users.c.username == username).values(
        password_hash=_hasher.hash(password)))
    if done.rowcount != 1:
        raise NotFound(f"no user {username!r}")


def set_disabled(conn: sa.Connection, username: str, disabled: bool) -> None:
    """Disable or enable a user (a disabled user's tokens and sessions are refused).
    Raises NotFound."""
    done = conn.execute(users.update().where(users.c.username == username).values(
        disabled=disabled))
    if done.rowcount != 1:
        raise NotFound(f"no user {username!r}")


def revoke_tokens(conn: sa.Connection, username: str, *, now: dt.datetime) -> int:
    """Revoke every API token of ``username``; returns how many were live."""
    return conn.execute(tokens.update().where(tokens.c.username == username,
                                              tokens.c.revoked_at.is_(None)).values(
        revoked_at=now)).rowcount


def issue_token(conn: sa.Connection, username: str, *, label: str, now: dt.datetime) -> str:
    """A new API token for ``username``; only its hash is stored, so show it once."""
    token = "gvx_" + secrets.token_urlsafe(32)
    conn.execute(tokens.insert().values(token_hash=hash_token(token), username=username,
                                        label=label, created_at=now))
    return token


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header. Raises Unauthenticated."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <token>'", code="unauthenticated")
    return token.strip()


# built once: asked on every API request (the compiled form is cached)
_BY_TOKEN = sa.select(users).join(tokens, tokens.c.username == users.c.username).where(
    tokens.c.token_hash == sa.bindparam("token_hash"), tokens.c.revoked_at.is_(None),
    users.c.disabled.is_(False))


def principal_for_token(conn: sa.Connection, token: str) -> Principal:
    """The user a bearer token belongs to. Raises Unauthenticated."""
    row = conn.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise Unauthenticated("invalid or revoked token", code="unauthenticated")
    return _principal(row)


def check_password(conn: sa.Connection, username: str, password: str) -> Principal:
    """The user if the password matches. Raises Unauthenticated (same message either way)."""
    row = conn.execute(sa.select(users).where(users.c.username == username,
                                              users.c.disabled.is_(False))).first()
    try:
        if row is None:
            _hasher.hash(password)  # same cost whether or not the user exists
            raise VerificationError
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise Unauthenticated("wrong username or password") from exc
    return _principal(row)


def _principal(row: sa.Row) -> Principal:
    return Principal(row.username, row.display_name, row.department, row.role)


def open_session(conn: sa.Connection, username: str, *, now: dt.datetime,
                 lifetime: dt.timedelta) -> str:
    """Start a web session for ``username`` that ends at ``now + lifetime``; returns its id
    (256-bit random, for the cookie; only its hash is stored). Expired sessions of anyone are
    deleted on the way."""
    conn.execute(web_sessions.delete().where(web_sessions.c.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    conn.execute(web_sessions.insert().values(
        id_hash=hash_token(session_id), username=username, created_at=now, last_seen_at=now,
        expires_at=now + lifetime))
    return session_id


def principal_for_session(conn: sa.Connection, session_id: str, *,
                          now: dt.datetime) -> tuple[Principal, bool]:
    """The user of a live web session, and whether its "last seen" is due for
    :func:`touch_session`. Raises Unauthenticated when the session was ended, has expired or
    its user is disabled or removed."""
    stale = web_sessions.c.last_seen_at <= now - TOUCH_EVERY
    row = conn.execute(
        sa.select(users, stale.label("stale"))
        .join(web_sessions, web_sessions.c.username == users.c.username)
        .where(web_sessions.c.id_hash == hash_token(session_id),
               web_sessions.c.expires_at > now, users.c.disabled.is_(False))).first()
    if row is None:
        raise Unauthenticated("the session has ended; sign in again")
    return _principal(row), bool(row.stale)


def touch_session(conn: sa.Connection, session_id: str, *, now: dt.datetime) -> None:
    """Record that the session was used at ``now``."""
    conn.execute(web_sessions.update().where(web_sessions.c.id_hash == hash_token(session_id))
                 .values(last_seen_at=now))


def end_session(conn: sa.Connection, session_id: str) -> None:
    """End one web session (signing out); a session already gone is no error."""
    conn.execute(web_sessions.delete().where(web_sessions.c.id_hash == hash_token(session_id)))


def end_sessions(conn: sa.Connection, username: str) -> int:
    """End every web session of ``username``; returns how many were open. For an admin who
    disables a user, resets a password or suspects a stolen cookie."""
    return conn.execute(web_sessions.delete().where(web_sessions.c.username == username)).rowcount
