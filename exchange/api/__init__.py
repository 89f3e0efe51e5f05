"""The REST API under ``/api/v1``: JSON, bearer tokens, one module per resource.

Operations are declared with :func:`~exchange.api.base.route`, which also records them for
the OpenAPI document (built by apispec in :mod:`exchange.api.openapi`), so the document cannot
drift from the code. The app factory registers :func:`blueprint`, which adds the operations of
the modules in ``RESOURCES``::

    app.register_blueprint(api.blueprint())
"""

from __future__ import annotations

from flask import Blueprint

from . import (
    access,
    audit,
    catalog,
    datasets,
    delivery,
    departments,
    interface,
    openapi,
    process,
)
from .base import ROUTES, authenticate

__all__ = ["blueprint", "RESOURCES", "public_endpoints"]

#: The modules whose operations the API serves.
RESOURCES = (datasets, catalog, access, process, delivery, interface, audit, departments,
             openapi)


def public_endpoints() -> frozenset[str]:
    """The endpoints anyone may call without a token (``api.<endpoint>``)."""
    names = {module.__name__ for module in RESOURCES}
    return frozenset(f"api.{doc.endpoint}" for doc in ROUTES
                     if doc.public and doc.view is not None and doc.view.__module__ in names)


def blueprint() -> Blueprint:
    """A new ``api`` blueprint (one per app) with every operation of ``RESOURCES``."""
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    names = {module.__name__ for module in RESOURCES}
    for doc in ROUTES:
        if doc.view is not None and doc.view.__module__ in names:
            bp.add_url_rule(doc.path.replace("{", "<").replace("}", ">"), view_func=doc.view,
                            methods=[doc.method], endpoint=doc.endpoint)
    bp.before_request(authenticate(public_endpoints()))
    return bp
