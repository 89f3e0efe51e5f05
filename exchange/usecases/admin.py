"""Local administration: create an instance, add users, rotate keys (no server needed)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa

from .. import events, workdays
from ..auth import (
    ROLES,
    Principal,
    add_user,
    end_sessions,
    issue_token,
    revoke_tokens,
    set_disabled,
    set_email,
    set_password,
)
from ..config import Settings
from ..db import upgrade
from ..errors import InvalidInput, NotFound
from ..models import departments, users
from ..services import Services
from .departments import add_department, may_manage
from .signin import clear_user_failures

__all__ = ["init_instance", "create_user", "rotate_keys", "ensure_department",
           "department_names", "disable_user", "enable_user", "reset_password", "reissue_token",
           "lift_lock_out", "add_account", "change_user", "USER_ACTIONS", "set_calendar_day",
           "calendar_days"]


def init_instance(settings: Settings, *, admin_password: str | None = None) -> dict[str, Any]:
    """Create (or bring up to date) the instance: data directory, master key, schema, signing
    key and first admin. Idempotent: a second run changes nothing and returns no password."""
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # password and token hashes
    svc = Services(settings)
    upgrade(svc.engine)
    now = svc.clock()
    with svc.engine.begin() as conn:
        svc.enforcer.add_department("system", conn=conn)
        svc.keys.ensure(conn, now=now)
        has_admin = conn.execute(sa.select(users.c.username).where(
            users.c.role == "admin")).first() is not None
    result: dict[str, Any] = {"home": str(settings.home), "database": _safe_url(settings),
                              "created_admin": False}
    if not has_admin:
        password = admin_password or secrets.token_urlsafe(12)
        token = create_user(svc, username="admin", password=password, role="admin",
                            department=None, display_name="admin")
        result |= {"created_admin": True, "admin_password": password, "admin_token": token}
        svc.record(events.Init(actor="admin"))
    svc.engine.dispose()
    return result


def ensure_department(svc: Services, code: str, name: str, name_en: str, *,
                      level: str = "city", parent: str | None = None,
                      region: str | None = None) -> None:
    """Create a department and its role permissions, logged, unless it exists (a demo or a
    test sets its city up with this; see :mod:`.departments`)."""
    with svc.reader.connect() as conn:
        exists = conn.execute(sa.select(departments.c.code).where(
            departments.c.code == code)).first() is not None
    if not exists:
        add_department(svc, code=code, name=name, name_en=name_en, level=level,
                       parent=parent, region=region)


def create_user(svc: Services, *, username: str, password: str, role: str,
                department: str | None, display_name: str | None = None,
                actor: str = "admin", email: str | None = None) -> str:
    """Add a user, give the role in Casbin, log it; returns a new API token (shown once).

    Raises InvalidInput, Conflict.
    """
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    now = svc.clock()
    with svc.recording() as rec:
        add_user(rec.conn, username=username, password=password, role=role,
                 department=department, display_name=display_name, email=email, now=now)
        token = issue_token(rec.conn, username, label="default", now=now)
        rec.append(events.UserAdd(actor=actor, subject=username, role=role,
                                  actor_department=department))
        if department:  # a role added since the department was made gets its permissions
            svc.enforcer.add_department(department, conn=rec.conn)
        svc.enforcer.assign_role(username, role, department or "system", conn=rec.conn)
    return token


# -- changing a user: each change and its audit entry commit together -----------------------


def disable_user(svc: Services, username: str, *, actor: str = "admin") -> int:
    """Disable a user: their API tokens and web sessions stop working at once (the sessions
    are ended). Returns how many web sessions were ended. Raises NotFound."""
    with svc.recording() as rec:
        set_disabled(rec.conn, username, True)
        ended = end_sessions(rec.conn, username)
        rec.append(events.UserChange(actor=actor, subject=username, change="disabled"))
    return ended


def set_user_email(svc: Services, username: str, email: str | None, *,
                   actor: str = "admin") -> None:
    """Set or remove the address a user's notices are e-mailed to (the address is not
    logged). Raises InvalidInput, NotFound."""
    with svc.recording() as rec:
        set_email(rec.conn, username, email)
        rec.append(events.UserChange(actor=actor, subject=username,
                                     change="email_set" if email else "email_removed"))


def enable_user(svc: Services, username: str, *, actor: str = "admin") -> None:
    """Enable a disabled user again (their unrevoked tokens work again). Raises NotFound."""
    with svc.recording() as rec:
        set_disabled(rec.conn, username, False)
        rec.append(events.UserChange(actor=actor, subject=username, change="enabled"))


def reset_password(svc: Services, username: str, password: str, *,
                   actor: str = "admin") -> int:
    """Set a new password, end the user's web sessions (a stolen cookie dies with the old
    password) and lift a sign-in lock-out of the username (the failures were guesses at the
    old password). Returns how many sessions were ended. Raises InvalidInput, NotFound."""
    with svc.recording() as rec:
        set_password(rec.conn, username, password)
        ended = end_sessions(rec.conn, username)
        clear_user_failures(svc, rec.conn, username)
        rec.append(events.UserChange(actor=actor, subject=username, change="password_reset"))
    return ended


def lift_lock_out(svc: Services, username: str, *, actor: str = "admin") -> None:
    """Forget the user's failed sign-ins and lift their lock-out (a user who forgot their
    password and now remembers it). Raises NotFound."""
    with svc.recording() as rec:
        if rec.conn.execute(sa.select(users.c.username).where(
                users.c.username == username)).first() is None:
            raise NotFound(f"no user {username!r}")
        clear_user_failures(svc, rec.conn, username)
        rec.append(events.UserChange(actor=actor, subject=username, change="unlocked"))


def reissue_token(svc: Services, username: str, *, actor: str = "admin") -> str:
    """Revoke every API token of the user and issue a new one (shown once), e.g. after a
    token leaked. Raises NotFound."""
    with svc.recording() as rec:
        if rec.conn.execute(sa.select(users.c.username).where(
                users.c.username == username)).first() is None:
            raise NotFound(f"no user {username!r}")
        revoke_tokens(rec.conn, username, now=svc.clock())
        token = issue_token(rec.conn, username, label="reissued", now=svc.clock())
        rec.append(events.UserChange(actor=actor, subject=username, change="token_reissued"))
    return token


def set_calendar_day(svc: Services, day: dt.date, *, working: bool, note: str | None = None,
                     actor: str = "admin") -> None:
    """Record ``day`` as a working day or a holiday over the statutory calendar (a year it
    does not cover yet, a local holiday): time limits computed from now on count by it."""
    with svc.recording() as rec:
        workdays.set_day(rec.conn, day, working=working, note=note, by=actor, now=svc.clock())
        rec.append(events.CalendarChange(actor=actor, day=day.isoformat(), working=working))


def calendar_days(svc: Services) -> list[dict[str, Any]]:
    """The days an admin recorded, in order."""
    with svc.reader.connect() as conn:
        recorded = workdays.recorded_days(conn)
    return [{"day": day.isoformat(), "working": working}
            for day, working in sorted(recorded.items())]


def rotate_keys(svc: Services, *, actor: str = "admin") -> str:
    """Retire the signing key (kept in the JWKS) and start a new one; returns the new kid."""
    with svc.recording() as rec:  # the rotation and its entry commit together
        active = svc.keys.rotate(rec.conn, now=svc.clock())
        rec.append(events.KeyRotate(actor=actor, kid=active.kid))
    svc.checkpoint()  # signed again with the new key: what a verifier fetches next
    return active.kid


def department_names(svc: Services) -> dict[str, tuple[str, str]]:
    """Every department: code → (Chinese name, English name)."""
    with svc.reader.connect() as conn:
        return {r.code: (r.name, r.name_en) for r in conn.execute(sa.select(departments))}


def _safe_url(settings: Settings) -> str:
    return sa.make_url(settings.db_url).render_as_string(hide_password=True)


#: What an admin can do to a user from the pages (each a ``user_change`` entry).
USER_ACTIONS = ("disable", "enable", "token", "unlock")


def add_account(svc: Services, who: Principal, *, username: str, password: str, role: str,
                department: str | None, display_name: str | None = None) -> str:
    """An admin adds a user (from the pages); returns the API token, shown once. Raises
    Forbidden, InvalidInput, Conflict."""
    actor = may_manage(svc, who)
    return create_user(svc, username=username, password=password, role=role,
                       department=department or None, display_name=display_name or None,
                       actor=actor)


def change_user(svc: Services, who: Principal, username: str, action: str) -> str | None:
    """An admin disables or enables a user, issues a new API token (returned, shown once;
    the old ones stop working) or lifts a sign-in lock-out. Raises Forbidden, NotFound,
    InvalidInput (an action not in :data:`USER_ACTIONS`)."""
    actor = may_manage(svc, who)
    if action == "disable":
        if username == actor:
            raise InvalidInput("an admin cannot disable themselves", code="disable_self",
                               field="action")
        disable_user(svc, username, actor=actor)
    elif action == "enable":
        enable_user(svc, username, actor=actor)
    elif action == "token":
        return reissue_token(svc, username, actor=actor)
    elif action == "unlock":
        lift_lock_out(svc, username, actor=actor)
    else:
        raise InvalidInput(f"action must be one of {', '.join(USER_ACTIONS)}",
                           code="user_action_unknown", field="action")
    return None
