"""``/departments``: the city's departments (levels, parents, regions)."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from ..messages import Problem
from ..usecases import departments
from .base import json_body, principal, route, services

__all__: list[str] = []

_TEXT = {"type": "string"}
_DEPARTMENT = {"application/json": {"type": "object", "required": ["code", "name", "level"],
                                    "properties": {
                                        "code": _TEXT, "name": _TEXT, "name_en": _TEXT,
                                        "level": {"type": "string",
                                                  "enum": list(departments.LEVELS)},
                                        "parent": _TEXT,
                                        "region": {"type": "string", "pattern": "^[0-9]{6}$"}}}}


@route("/departments", "GET", tag="admin",
       summary="Every department: code, name, level, parent, region — any signed-in user")
def list_departments():
    return departments.list_departments(services(), principal())


@route("/departments", "POST", tag="admin", body=_DEPARTMENT, status=201,
       summary="Add a department (level, parent, GB/T 2260 region) — admin")
def add_department():
    body = _texts(json_body(), ("code", "name", "name_en", "level", "parent", "region"))
    made = departments.add_department(services(), principal(), code=body.get("code") or "",
                                      name=body.get("name") or "",
                                      level=body.get("level") or "",
                                      name_en=body.get("name_en"), parent=body.get("parent"),
                                      region=body.get("region"))
    return made, 201


def _texts(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, str | None]:
    """The fields of ``body``, each text or absent. Raises InvalidInput naming the others."""
    wrong = [name for name in names if body.get(name) is not None
             and not isinstance(body[name], str)]
    if wrong:
        raise InvalidInput.of([Problem("metadata_not_text", name, {"field": name})
                               for name in wrong])
    return {name: body.get(name) for name in names}
