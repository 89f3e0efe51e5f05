"""The OpenAPI 3 document, generated with apispec from the registered routes."""

from __future__ import annotations

import re

from apispec import APISpec

from . import ROUTES, RouteDoc, route

__all__: list[str] = []

_ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}}}}}


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


def _operation(doc: RouteDoc) -> dict:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
              for n in re.findall(r"{(\w+)}", doc.path)]
    params += [{"name": n, "in": "query", "schema": {"type": "string"}} for n in doc.params]
    op = {"summary": doc.summary, "tags": [doc.tag], "parameters": params,
          "responses": {"200": {"description": "OK", "content": {doc.produces: {}}},
                        "default": {"description": "Error", "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
    if doc.body:
        op["requestBody"] = {"required": True, "content": {
            media: {"schema": schema} for media, schema in doc.body.items()}}
    if not doc.public:
        op["security"] = [{"bearer": []}]
    return op


@route("/openapi.json", "GET", summary="This document", tag="meta", public=True)
def openapi_document():
    return build_spec()
