"""Setting a city up: departments (levels, parents, regions) and the users in them.

Each change commits with its audit entry (``department_change``). Local administration (the
``govex departments`` commands) acts as ``admin``; the API and the admin pages act as the
signed-in admin, who must be allowed ``user manage`` (admins are; Casbin decides).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .. import departments, events, notices
from ..auth import Principal, end_sessions
from ..models import users
from ..services import Services
from .flowback import decisions_over

__all__ = ["add_department", "list_departments", "rename_department", "move_department",
           "disable_department", "enable_department", "list_users", "LEVELS", "region_name",
           "may_manage"]

LEVELS = departments.LEVELS
#: The place a GB/T 2260 code names (None if it is not one in use).
region_name = departments.region_name


def may_manage(svc: Services, who: Principal | None) -> str:
    """The acting admin's name (``admin`` for local administration). Raises Forbidden."""
    if who is None:
        return "admin"
    svc.require(who, "user", "manage")
    return who.username


def list_departments(svc: Services, who: Principal | None = None) -> dict[str, Any]:
    """``{"departments": [...]}``: every department (code, names, level, parent, region and
    its name, disabled), highest level first. Any signed-in user may read it (they choose
    whom to ask and whom to grant). Raises Forbidden."""
    if who is not None:
        svc.require(who, "catalog", "read")
    with svc.reader.connect() as conn:
        return {"departments": [d.to_dict() for d in departments.list_all(conn)]}


def add_department(svc: Services, who: Principal | None = None, *, code: str, name: str,
                   level: str, name_en: str | None = None, parent: str | None = None,
                   region: str | None = None) -> dict[str, Any]:
    """Create a department, its role permissions and its audit entry; a district is queued
    to receive its grants from the active 回流 decisions above it (``flowback_pending``: how
    many; ``govex worker`` derives them). Raises Forbidden, InvalidInput, Conflict."""
    actor = may_manage(svc, who)
    with svc.recording() as rec:
        made = departments.add(rec.conn, code=code, name=name, name_en=name_en, level=level,
                               parent=parent, region=region)
        svc.enforcer.add_department(code, conn=rec.conn)
        rec.append(events.DepartmentChange(actor=actor, subject=code, change="added",
                                           level=made.level, parent=made.parent,
                                           region=made.region, outcome="created"))
        # 回流: a new district receives its grant from each decision of the city above it,
        # derived by the worker (DESIGN: background work), queued in this transaction
        over = len(decisions_over(svc, rec.conn, made))
        if over:
            notices.schedule(rec.conn, "flowback.derive", subject_id=code, at=svc.clock(),
                             data={}, now=svc.clock())
    return made.to_dict() | ({"flowback_pending": over} if over else {})


def rename_department(svc: Services, who: Principal | None = None, *, code: str,
                      name: str | None = None, name_en: str | None = None) -> dict[str, Any]:
    """Change a department's names. Raises Forbidden, NotFound, InvalidInput."""
    actor = may_manage(svc, who)
    with svc.recording() as rec:
        changed = departments.rename(rec.conn, code, name=name, name_en=name_en)
        rec.append(events.DepartmentChange(actor=actor, subject=code, change="renamed"))
    return changed.to_dict()


def move_department(svc: Services, who: Principal | None = None, *, code: str,
                    parent: str | None, region: str | None = None,
                    level: str | None = None) -> dict[str, Any]:
    """Put a department under another parent (optionally a new level and region). Raises
    Forbidden, NotFound, InvalidInput."""
    actor = may_manage(svc, who)
    with svc.recording() as rec:
        moved = departments.move(rec.conn, code, parent=parent, region=region, level=level)
        rec.append(events.DepartmentChange(actor=actor, subject=code, change="moved",
                                           level=moved.level, parent=moved.parent,
                                           region=moved.region))
    return moved.to_dict()


def disable_department(svc: Services, who: Principal | None = None, *,
                       code: str) -> dict[str, Any]:
    """Disable a department and its users (their tokens and sessions stop working). Returns
    the department and ``users_disabled``. Raises Forbidden, NotFound, InvalidInput."""
    actor = may_manage(svc, who)
    with svc.recording() as rec:
        names = departments.set_disabled(rec.conn, code, True)
        for username in names:
            end_sessions(rec.conn, username)
        rec.append(events.DepartmentChange(actor=actor, subject=code, change="disabled",
                                           users_disabled=len(names)))
        return departments.get(rec.conn, code).to_dict() | {"users_disabled": names}


def enable_department(svc: Services, who: Principal | None = None, *,
                      code: str) -> dict[str, Any]:
    """Enable a disabled department again (its users stay disabled until enabled one by
    one). Raises Forbidden, NotFound."""
    actor = may_manage(svc, who)
    with svc.recording() as rec:
        departments.set_disabled(rec.conn, code, False)
        rec.append(events.DepartmentChange(actor=actor, subject=code, change="enabled"))
        return departments.get(rec.conn, code).to_dict()


def list_users(svc: Services, who: Principal | None = None, *,
               department: str | None = None) -> dict[str, Any]:
    """``{"users": [...]}``: username, name, role, department, disabled, created_at — no
    password or token hash — by department then username. Raises Forbidden, NotFound (an
    unknown department)."""
    may_manage(svc, who)
    query = sa.select(users.c.username, users.c.display_name, users.c.role,
                      users.c.department, users.c.disabled, users.c.created_at)
    with svc.reader.connect() as conn:
        if department:
            departments.get(conn, department)
            query = query.where(users.c.department == department)
        rows = conn.execute(query.order_by(users.c.department, users.c.username)).all()
    return {"users": [{"username": r.username, "display_name": r.display_name,
                       "role": r.role, "department": r.department,
                       "disabled": bool(r.disabled),
                       "created_at": r.created_at.isoformat()} for r in rows]}
