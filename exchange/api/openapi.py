"""The OpenAPI 3 document, generated with apispec from the registered routes."""

from __future__ import annotations

import re

from apispec import APISpec

from policies import rules

from ..usecases.access import REQUEST_STATES, REQUEST_STATUSES
from ..usecases.auditing import ENTRY_FORMS, MAX_PAGE
from ..usecases.feedback import OBJECTION_STATES
from ..usecases.metrics import PERIODS
from .base import ROUTES, RouteDoc, route

__all__: list[str] = []

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "stable, machine-readable"},
        "message": {"type": "string", "description": "for people; never internals"}}}}}


def build_spec() -> dict:
    """The document as a dict."""
    spec = APISpec(title="govex exchange API", version="1", openapi_version="3.0.3",
                   info={"description": "Privacy-preserving data sharing between departments"})
    spec.components.schema("Error", _ERROR)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for doc in ROUTES:
        paths.setdefault(doc.path, {})[doc.method.lower()] = _operation(doc)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


# What each query parameter accepts, as the handlers check it.
_QUERY = {
    "offset": {"type": "integer", "minimum": 0},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    "index": {"type": "integer", "minimum": 0},
    "size": {"type": "integer", "minimum": 1},
    "old": {"type": "integer", "minimum": 0},
    "new": {"type": "integer", "minimum": 1},
    "since": {"type": "string", "format": "date-time"},
    "until": {"type": "string", "format": "date-time"},
    "status": {"type": "string", "enum": [*REQUEST_STATUSES, *REQUEST_STATES]},
    "level": {"type": "string", "enum": list(rules.LEVELS)},
    "sharing": {"type": "string", "enum": list(rules.SHARING_TYPES)},
    "form": {"type": "string", "enum": list(ENTRY_FORMS), "default": "object"},
    "order": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
    "state": {"type": "string", "enum": list(OBJECTION_STATES)},
    "unread": {"type": "string", "enum": ["true", "false"]},
    "from": {"type": "string", "format": "date"},
    "to": {"type": "string", "format": "date"},
    "period": {"type": "string", "enum": list(PERIODS), "default": "month"},
    "format": {"type": "string", "enum": ["json", "csv"], "default": "json"},
}
# The errors every operation may answer with, and those that only some can.
_ERRORS = {
    "400": "Bad input: a malformed body, parameter or value",
    "401": "No token, or an invalid or revoked one",
    "403": "Not permitted for this user, department or grant",
    "404": "No such dataset, request, grant, exchange or entry",
    "409": "The state does not allow it (already decided, revoked)",
    "413": "The upload is too large",
    "422": "Well-formed but refused: an unusable file, unknown columns, a bad plan",
    "429": "Too many refusals: throttled for a minute (see Retry-After)",
}
_ONLY_FOR_CHANGES = {"409", "413", "422"}


def _operation(doc: RouteDoc) -> dict:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
              for n in re.findall(r"{(\w+)}", doc.path)]
    params += [{"name": n, "in": "query", "schema": _QUERY.get(n, {"type": "string"})}
               for n in doc.params]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    codes = [c for c in _ERRORS if not (doc.public and c in ("401", "403", "429"))
             and (doc.method == "POST" or c not in _ONLY_FOR_CHANGES)]
    success = {"description": "Created" if doc.status == 201 else "OK",
               "content": {doc.produces: {}}}
    op = {"summary": doc.summary, "tags": [doc.tag], "parameters": params,
          "responses": {str(doc.status): success,
                        **{c: {"description": _ERRORS[c], "content": error} for c in codes}}}
    if doc.body:
        op["requestBody"] = {"required": True, "content": {
            media: {"schema": schema} for media, schema in doc.body.items()}}
    if not doc.public:
        op["security"] = [{"bearer": []}]
    return op


@route("/openapi.json", "GET", summary="This document", tag="meta", public=True)
def openapi_document():
    return build_spec()
