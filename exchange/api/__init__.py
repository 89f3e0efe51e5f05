"""The REST API under ``/api/v1``: JSON, bearer tokens, one module per resource.

Routes are declared with :func:`route`, which also records them for the OpenAPI document
(built by apispec in :mod:`exchange.api.openapi`), so the document cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, request

from ..auth import Principal, bearer_token, principal_for_token
from ..errors import InvalidInput
from ..services import Services

__all__ = ["bp", "route", "ROUTES", "RouteDoc", "principal", "services", "json_body",
           "public_endpoints"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclasses.dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI document says of one operation."""

    path: str
    method: str
    summary: str
    tag: str
    public: bool = False
    params: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    produces: str = "application/json"
    status: int = 200  # the success status (201 for what a POST creates)


ROUTES: list[RouteDoc] = []


def route(path: str, method: str, *, summary: str, tag: str, public: bool = False,
          params: tuple[str, ...] = (), body: dict[str, Any] | None = None,
          produces: str = "application/json", status: int = 200) -> Callable:
    """Register a view on the API blueprint and in the OpenAPI route list."""
    def decorate(view: Callable) -> Callable:
        ROUTES.append(RouteDoc(path, method, summary, tag, public, params, body, produces,
                               status))
        flask_path = path.replace("{", "<").replace("}", ">")
        endpoint = f"{view.__module__.rsplit('.', 1)[-1]}_{view.__name__}"
        bp.add_url_rule(flask_path, view_func=view, methods=[method], endpoint=endpoint)
        if public:
            _PUBLIC.add(f"{bp.name}.{endpoint}")
        return view
    return decorate


_PUBLIC: set[str] = set()


def public_endpoints() -> frozenset[str]:
    """The endpoints anyone may call without a token."""
    return frozenset(_PUBLIC)


def services() -> Services:
    """The process's services."""
    return current_app.extensions["govex"]


def principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in _PUBLIC:
        return
    token = bearer_token(request.headers.get("Authorization", ""))
    with services().reader.connect() as conn:
        g.principal = principal_for_token(conn, token)


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body when ``optional``).
    Raises InvalidInput."""
    if optional and not request.get_data():
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: malformed for us
        raise InvalidInput("the JSON body is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("send a JSON object with Content-Type: application/json")
    return data


from . import access, audit, datasets, delivery, openapi  # noqa: E402,F401  (register routes)
