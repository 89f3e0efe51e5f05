"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from . import api, web
from .config import load_settings
from .errors import code_for, http_code, public_message, retry_after, status_for
from .messages import error_body
from .services import Services
from .uploads import Admission, UploadRequest, body_limit
from .web.base import PUBLIC_ENDPOINTS

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
    api_bp = api.blueprint()
    admission = Admission(svc, public=api.public_endpoints() | PUBLIC_ENDPOINTS)
    app.extensions["govex.admission"] = admission  # what ``govex serve`` asks of a head
    app.before_request(admission.before_request)  # first: before CSRF reads a form
    app.register_blueprint(api_bp)
    _register_errors(app, svc)
    web.init_app(app, svc, exempt=[api_bp])  # the pages: sign-in at "/"
    _register_keys_and_health(app, svc)
    return app


def _register_keys_and_health(app: Flask, svc: Services) -> None:
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
        code = http_code(exc.code or 500)
        message = exc.description if exc.code != 413 else "the upload is too large"
        return jsonify(error={"code": code, "message": message}), exc.code

    @app.errorhandler(Exception)
    def any_error(exc: Exception):
        status = status_for(exc)
        if status == 500:
            log.exception("internal error")
        body = jsonify(error=error_body(exc, code=code_for(exc), fallback=public_message(exc),
                                        translate=gettext))
        return body, status, retry_after(exc, svc.clock())
