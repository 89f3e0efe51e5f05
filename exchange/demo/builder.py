"""A demo instance: the city's departments, one requester and one steward each (invented
staff names), an auditor, an admin, and deterministic datasets generated with Faker's zh_CN
locale."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from typing import Any

from ..auth import Principal
from ..config import Settings
from ..services import Services
from ..usecases.admin import create_user, ensure_department, init_instance

__all__ = ["build_demo", "users_table", "DEMO_USERS_FILE"]

DEMO_USERS_FILE = "demo-users.json"


def build_demo(settings: Settings, *, rows: int = 3000,
               echo: Callable[[str], Any] = print) -> list[dict[str, Any]]:
    """Create the demo instance in ``settings.home`` (once) and return its users.

    A second run finds ``demo-users.json`` and changes nothing.
    """
    users_file = settings.home / DEMO_USERS_FILE
    if users_file.exists():
        echo(f"demo instance already built in {settings.home}")
        return json.loads(users_file.read_text(encoding="utf-8"))
    admin_password = secrets.token_urlsafe(12)
    result = init_instance(settings, admin_password=admin_password)
    svc = Services(settings)
    users = [{"username": "admin", "password": admin_password,
              "token": result.get("admin_token"), "department": None, "role": "admin"}]
    users += _departments_and_users(svc)
    _publish_datasets(svc, rows=rows, echo=echo)
    _write_users(users_file, users)
    return users


def _departments_and_users(svc: Services) -> list[dict[str, Any]]:
    from faker import Faker

    from .data import DEPARTMENTS
    people = Faker("zh_CN")
    people.seed_instance(20261207)  # the same invented staff in every demo
    made = []
    for code, name, name_en, level, parent, region in DEPARTMENTS:
        ensure_department(svc, code, name, name_en, level=level, parent=parent, region=region)
        roles = {"audit": ("auditor",), "data": ("authority",)}.get(code,
                                                                    ("requester", "steward"))
        for role in roles:
            username = f"{code}-{role}"
            password = secrets.token_urlsafe(12)
            token = create_user(svc, username=username, password=password, role=role,
                                department=code, display_name=people.name())
            made.append({"username": username, "password": password, "token": token,
                         "department": code, "role": role})
    return made


def _publish_datasets(svc: Services, *, rows: int, echo: Callable[[str], Any]) -> None:
    from catalog import formats

    from ..usecases.publishing import publish
    from .data import generate_demo_datasets
    for ds in generate_demo_datasets(rows=rows):
        steward = Principal(f"{ds.department}-steward", "", ds.department, "steward")
        data = formats.write_table(ds.frame, fmt="csv")
        published = publish(svc, steward, filename=ds.filename, data=data, metadata={
            "title": ds.title, "description": ds.description, "sharing": ds.sharing,
            "level": ds.level, "legal_basis": ds.legal_basis, "keywords": ds.keywords,
            # the demo's L1/L2 tables hold institutions' landlines and legal representatives'
            # names (public by registration): their stewards confirm it, as the rules ask
            "confirm_personal_data": True})
        echo(f"published {published['id']}  {ds.department:<8} {ds.title} "
             f"({published['row_count']} rows)")


def _write_users(path: Any, users: list[dict[str, Any]]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(users, fh, ensure_ascii=False, indent=2)


def users_table(users: list[dict[str, Any]]) -> str:
    """A short table of the demo users (passwords included: it is a demo)."""
    lines = [f"{'username':<20} {'role':<10} {'dept':<9} {'password':<18} token"]
    for u in users:
        lines.append(f"{u['username']:<20} {u['role']:<10} {u['department'] or '-':<9} "
                     f"{u['password']:<18} {u['token']}")
    return "\n".join(lines)
