"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .config import load_settings
from .errors import code_for, public_message, retry_after, status_for
from .services import Services
from .uploads import Admission, UploadRequest, body_limit

__all__ = ["create_app"]

log = logging.getLogger("govex")


def create_app(config: Mapping[str, Any] | None = None, *,
               services: Services | None = None) -> Flask:
    """Build the app: defaults, then ``GOVEX_*`` environment, then ``config``."""
    app = Flask(__name__)
    app.request_class = UploadRequest  # uploaded files spooled to disk, by name
    svc = services or Services(load_settings(config))
    app.extensions["govex"] = svc
    app.config["MAX_CONTENT_LENGTH"] = body_limit(svc.settings.max_upload_bytes)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    from .api import bp, public_endpoints
    from .web.base import PUBLIC_ENDPOINTS
    admission = Admission(svc, public=public_endpoints() | PUBLIC_ENDPOINTS)
    app.extensions["govex.admission"] = admission  # what ``govex serve`` asks of a head
    app.before_request(admission.before_request)  # first: before CSRF reads a form
    app.register_blueprint(bp)
    _register_errors(app, svc)
    _register_pages(app, svc)
    return app


def _register_pages(app: Flask, svc: Services) -> None:
    from . import web
    web.init_app(app, svc, exempt=[app.blueprints["api"]])  # the pages: sign-in at "/"

    @app.get("/.well-known/jwks.json")
    def jwks():
        with svc.reader.connect() as conn:
            return svc.keys.jwks(conn)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}


def _register_errors(app: Flask, svc: Services) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = {413: "too_large", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.code or 500, "http_error")
        message = exc.description if exc.code != 413 else "the upload is too large"
        return jsonify(error={"code": code, "message": message}), exc.code

    @app.errorhandler(Exception)
    def any_error(exc: Exception):
        status = status_for(exc)
        if status == 500:
            log.exception("internal error")
        body = jsonify(error={"code": code_for(exc), "message": public_message(exc)})
        return body, status, retry_after(exc, svc.clock())
