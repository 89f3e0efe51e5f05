"""Departments: the city's organisations, each at a level of government, in a region, under a
parent.

A department has a code (``civil``, ``jinjiang-civil``), a name in Chinese and in English, a
level (``province``, ``city``, ``district``, ``street``: 省、市、区县、街道), a parent (the
department it answers to: a district bureau under its district government or under the city's
bureau of the same line) and a region code (GB/T 2260, six digits: 510104 is 锦江区). Region
codes are checked against python-stdnum's copy of the GB/T 2260 list (:mod:`catalog.regions`):
a code it does not know, or one it knows as abolished, is refused; its name is shown beside
it.

The rules:

* a district or street department needs its region (its rows flow back by it); a province or
  city department may name one;
* a region fits its level: a province's ends in ``0000``, a city's in ``00``, a district's
  and a street's do not (GB/T 2260 stops at the county: a street department names its
  district's code);
* a parent is a department that exists and is not disabled, at the same level or above,
  whose region (if it has one) contains the child's; moving never makes a department its own
  ancestor.

Framework-free: every function takes the caller's connection and commits nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from catalog.regions import contains, region_name

from .errors import Conflict, InvalidInput, NotFound
from .models import departments, users

__all__ = ["LEVELS", "Department", "add", "get", "list_all", "rename", "move", "set_disabled",
           "overseen", "authorities_of",
           "region_name", "check_region", "contains", "CODE"]

#: Levels of government, highest first.
LEVELS = ("province", "city", "district", "street")
#: A department's code.
CODE = re.compile(r"[a-z][a-z0-9_-]{1,39}")


@dataclasses.dataclass(frozen=True)
class Department:
    """A department as the catalog of departments lists it."""

    code: str
    name: str
    name_en: str
    level: str
    parent: str | None
    region: str | None
    disabled: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``GET /api/v1/departments``, ``govex departments list --json``)."""
        return {"code": self.code, "name": self.name, "name_en": self.name_en,
                "level": self.level, "parent": self.parent, "region": self.region,
                "region_name": region_name(self.region) if self.region else None,
                "disabled": self.disabled}


def check_region(region: str | None, level: str) -> str | None:
    """``region`` (stripped) if it is a GB/T 2260 code in use that fits ``level``; None if
    none was given at a level that may go without one. Raises InvalidInput."""
    region = (region or "").strip() or None
    if region is None:
        if level in ("district", "street"):
            raise InvalidInput(f"a {level} department needs its region code (GB/T 2260)",
                               code="region_required", field="region")
        return None
    if region_name(region) is None:  # not six digits, unknown, or no longer in use
        raise InvalidInput("the region is a GB/T 2260 code in use, six digits (510104)",
                           code="region_unknown", field="region")
    fits = {"province": region.endswith("0000"), "city": region.endswith("00"),
            "district": not region.endswith("00"), "street": not region.endswith("00")}
    if not fits[level]:
        raise InvalidInput(f"region {region} is not a {level}'s code",
                           code="region_level_mismatch", field="region", level=level)
    return region


def _department(row: Any) -> Department:
    return Department(code=row.code, name=row.name, name_en=row.name_en,
                      level=row.level, parent=row.parent, region=row.region,
                      disabled=bool(row.disabled))


def get(conn: sa.Connection, code: str) -> Department:
    """One department. Raises NotFound."""
    row = conn.execute(sa.select(departments).where(departments.c.code == code)).first()
    if row is None:
        raise NotFound(f"no department {code!r}", code="department_not_found")
    return _department(row)


def list_all(conn: sa.Connection) -> list[Department]:
    """Every department (the "system" domain of admins aside), highest level first, then by
    code."""
    rows = conn.execute(sa.select(departments).where(departments.c.code != "system"))
    return sorted((_department(r) for r in rows),
                  key=lambda d: (LEVELS.index(d.level), d.region or "", d.code))


def _check_name(name: str | None, field: str = "name") -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("a department's name: 1 to 200 characters", code="department_name",
                           field=field)
    return name


def _check_parent(conn: sa.Connection, parent: str | None, *, level: str,
                  region: str | None) -> str | None:
    if not parent:
        return None
    try:
        above = get(conn, parent)
    except NotFound:
        raise InvalidInput(f"unknown department {parent!r}", code="parent_unknown",
                           field="parent") from None
    if above.disabled:
        raise InvalidInput(f"department {parent!r} is disabled", code="parent_disabled",
                           field="parent")
    if LEVELS.index(above.level) > LEVELS.index(level):
        raise InvalidInput(f"a {level} department cannot answer to a {above.level} one",
                           code="parent_below", field="parent")
    if not contains(above.region, region):
        raise InvalidInput(f"region {region} is outside {parent!r}'s region {above.region}",
                           code="region_outside_parent", field="region")
    return parent


def add(conn: sa.Connection, *, code: str, name: str, level: str, name_en: str | None = None,
        parent: str | None = None, region: str | None = None) -> Department:
    """Create a department. Raises InvalidInput, Conflict (the code is taken)."""
    if not CODE.fullmatch(code or ""):
        raise InvalidInput("department code: a lower-case letter, then 1-39 lower-case "
                           "letters, digits, '-' or '_'", code="department_code", field="code")
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}",
                           code="department_level", field="level")
    name = _check_name(name)
    name_en = _check_name(name_en or code, "name_en")
    region = check_region(region, level)
    parent = _check_parent(conn, parent, level=level, region=region)
    if conn.execute(sa.select(departments.c.code).where(departments.c.code == code)).first():
        raise Conflict(f"department {code!r} exists", code="department_exists", field="code")
    conn.execute(departments.insert().values(code=code, name=name, name_en=name_en,
                                             level=level, parent=parent, region=region,
                                             disabled=False))
    return get(conn, code)


def rename(conn: sa.Connection, code: str, *, name: str | None = None,
           name_en: str | None = None) -> Department:
    """Change a department's names (its code stays: grants and the log name it). Raises
    NotFound, InvalidInput."""
    current = get(conn, code)
    values = {"name": _check_name(name) if name is not None else current.name,
              "name_en": _check_name(name_en, "name_en") if name_en is not None
              else current.name_en}
    conn.execute(departments.update().where(departments.c.code == code).values(**values))
    return get(conn, code)


def move(conn: sa.Connection, code: str, *, parent: str | None,
         region: str | None = None, level: str | None = None) -> Department:
    """Put a department under another parent (None: under none), optionally with a new level
    and region (a 撤县设区 changes both). Raises NotFound, InvalidInput (a cycle, or what
    :func:`add` refuses)."""
    current = get(conn, code)
    level = level or current.level
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}",
                           code="department_level", field="level")
    region = check_region(region if region is not None else current.region, level)
    parent = _check_parent(conn, parent, level=level, region=region)
    ancestor = parent
    while ancestor is not None:
        if ancestor == code:
            raise InvalidInput(f"{code!r} cannot answer to its own sub-department",
                               code="parent_cycle", field="parent")
        ancestor = get(conn, ancestor).parent
    for child in _children(conn, code):  # the ones under it must still fit
        if LEVELS.index(level) > LEVELS.index(child.level) or not contains(region,
                                                                           child.region):
            raise InvalidInput(f"{child.code!r}, under {code!r}, would no longer fit",
                               code="children_misfit", field="parent")
    conn.execute(departments.update().where(departments.c.code == code)
                 .values(parent=parent, region=region, level=level))
    return get(conn, code)


def overseen(conn: sa.Connection, code: str) -> list[str]:
    """The departments a data authority of department ``code`` oversees: its own and every
    one at its level or below whose region lies in its region (all of them if it has no
    region). Raises NotFound."""
    authority = get(conn, code)
    rank = LEVELS.index(authority.level)
    return sorted(d.code for d in list_all(conn) if d.code == code or (
        LEVELS.index(d.level) >= rank and contains(authority.region, d.region)))


def authorities_of(conn: sa.Connection, code: str) -> list[str]:
    """The data authorities a dispute or an overdue request of department ``code`` goes to:
    of the departments with an enabled ``authority`` user that oversee it, those nearest to
    its level (同级政务数据主管部门: a district's own before the city's). Empty when none
    oversees it."""
    holders = set(conn.execute(sa.select(users.c.department).where(
        users.c.role == "authority", users.c.disabled.is_(False))).scalars())
    found = [d for d in list_all(conn) if d.code in holders and not d.disabled
             and code in overseen(conn, d.code)]
    if not found:
        return []
    nearest = max(LEVELS.index(d.level) for d in found)
    return sorted(d.code for d in found if LEVELS.index(d.level) == nearest)


def _children(conn: sa.Connection, code: str) -> Iterable[Department]:
    rows = conn.execute(sa.select(departments).where(departments.c.parent == code))
    return [_department(r) for r in rows]


def set_disabled(conn: sa.Connection, code: str, disabled: bool) -> list[str]:
    """Disable a department (merged or dissolved: no new users, requests or grants; its users
    disabled with it) or enable it again (its users stay as they are). Returns the users it
    disabled. Raises NotFound, InvalidInput (a department with enabled sub-departments)."""
    get(conn, code)
    if disabled and any(not c.disabled for c in _children(conn, code)):
        raise InvalidInput(f"disable the departments under {code!r} first",
                           code="department_has_children", field="code")
    conn.execute(departments.update().where(departments.c.code == code)
                 .values(disabled=disabled))
    if not disabled:
        return []
    names = list(conn.execute(sa.select(users.c.username).where(
        users.c.department == code, users.c.disabled.is_(False))).scalars())
    if names:
        conn.execute(users.update().where(users.c.username.in_(names)).values(disabled=True))
    return sorted(names)
