"""What every API module shares: the ``route`` declaration (also the OpenAPI route list), the
caller's principal and services, and the JSON body."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from ..auth import Principal, bearer_token, principal_for_token
from ..errors import InvalidInput
from ..services import Services

__all__ = ["route", "ROUTES", "RouteDoc", "principal", "services", "json_body",
           "authenticate"]


@dataclasses.dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI document says of one operation, and the view that serves it."""

    path: str
    method: str
    summary: str
    tag: str
    public: bool = False
    params: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    produces: str = "application/json"
    status: int = 200  # the success status (201 for what a POST creates)
    view: Callable[..., Any] | None = dataclasses.field(default=None, compare=False)

    @property
    def endpoint(self) -> str:
        """The Flask endpoint name (``module_function``)."""
        assert self.view is not None
        return f"{self.view.__module__.rsplit('.', 1)[-1]}_{self.view.__name__}"


#: Every operation declared with :func:`route`, in declaration order.
ROUTES: list[RouteDoc] = []


def route(path: str, method: str, *, summary: str, tag: str, public: bool = False,
          params: tuple[str, ...] = (), body: dict[str, Any] | None = None,
          produces: str = "application/json", status: int = 200) -> Callable:
    """Declare an API operation: the view, and what the OpenAPI document says of it. The
    app factory adds the declared operations to the API blueprint (``exchange.api``)."""
    def decorate(view: Callable) -> Callable:
        ROUTES.append(RouteDoc(path, method, summary, tag, public, params, body, produces,
                               status, view))
        return view
    return decorate


def services() -> Services:
    """The process's services."""
    return current_app.extensions["govex"]


def principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def authenticate(public: set[str]) -> Callable[[], None]:
    """A before-request hook: the bearer token's principal in ``g``, except for the
    endpoints in ``public``. Raises Unauthenticated."""
    def hook() -> None:
        if request.endpoint in public:
            return
        token = bearer_token(request.headers.get("Authorization", ""))
        admitted = g.pop("admitted", None)  # the same token, checked before the body was read
        if admitted is not None and admitted[0] == token:
            g.principal = admitted[1]
            return
        with services().reader.connect() as conn:
            g.principal = principal_for_token(conn, token)
    return hook


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
    unknown = sorted(set(data) - declared) if (declared := _declared_fields()) else []
    if unknown:  # a misspelt condition must not be dropped silently
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", code="unknown_field",
                           fields=unknown)
    return data


def _declared_fields() -> set[str] | None:
    """The fields the current operation's JSON body declares (None: it declares none)."""
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    for doc in ROUTES:
        if doc.view is not None and doc.endpoint == endpoint and doc.body:
            schema = doc.body.get("application/json") or {}
            if "properties" in schema and schema.get("additionalProperties") is not True:
                return set(schema["properties"])
    return None
