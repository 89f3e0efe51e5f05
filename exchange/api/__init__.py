"""The REST API under ``/api/v1``: JSON, bearer tokens, one module per resource.

Operations are declared with :func:`~exchange.api.base.route`, which also records them for
the OpenAPI document (built by apispec in :mod:`exchange.api.openapi`), so the document cannot
drift from the code. The app factory registers :func:`blueprint`, which adds the operations of
the modules in ``RESOURCES``::

    app.register_blueprint(api.blueprint())
"""

from __future__ import annotations

from flask import Blueprint

from . import access, audit, datasets, delivery, openapi
from .base import ROUTES, authenticate

__all__ = ["blueprint", "RESOURCES"]

#: The modules whose operations the API serves.
RESOURCES = (datasets, access, delivery, audit, openapi)


def blueprint() -> Blueprint:
    """A new ``api`` blueprint (one per app) with every operation of ``RESOURCES``."""
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    names = {module.__name__ for module in RESOURCES}
    public: set[str] = set()
    for doc in ROUTES:
        if doc.view is None or doc.view.__module__ not in names:
            continue
        bp.add_url_rule(doc.path.replace("{", "<").replace("}", ">"), view_func=doc.view,
                        methods=[doc.method], endpoint=doc.endpoint)
        if doc.public:
            public.add(f"{bp.name}.{doc.endpoint}")
    bp.before_request(authenticate(public))
    return bp
