"""Request bodies: what a request must show before its body is read, and where an uploaded file
waits while it is published.

A body is read only when the request's head allows it (:meth:`Admission.check`): a caller of
anything but the few public endpoints has shown a valid credential — a bearer token for the API,
a live session for the pages — and the declared length is within the limit: the upload limit
plus room for the multipart wrapping (:func:`body_limit`), or :data:`OPEN_BODY_LIMIT` on the
public endpoints (signing in). The app checks it before anything reads the body (CSRF
protection included) and ``govex serve`` before it receives the body at all
(:mod:`exchange.serving`), so an upload without a token, or declared too large, is refused after
its headers and its body never reaches the disk::

    admission = Admission(svc, public={"web.account.sign_in"})
    app.before_request(admission.before_request)            # in create_app, before CSRF
    refusal = admission.refusal_for(app, environ)            # a server, from the head alone

An uploaded file is spooled to ``Settings.spool_dir`` as a named temporary file
(:class:`UploadRequest`), removed when the request ends; publishing reads it from there in
chunks (:func:`spooled_path`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from flask import Flask, Request, current_app, g, jsonify, redirect, request, session, url_for
from werkzeug.datastructures import FileStorage

from catalog import UploadTooLarge

from .auth import bearer_token, principal_for_session, principal_for_token
from .errors import Unauthenticated, code_for, public_message, status_for
from .services import Services

__all__ = ["Admission", "UploadRequest", "body_limit", "spooled_path", "sweep_spool",
           "OPEN_BODY_LIMIT", "MULTIPART_ROOM"]

#: Room for what wraps an uploaded file in a multipart body: boundaries, part headers, the
#: metadata field and the form's text fields (each at most a few kB).
MULTIPART_ROOM = 1024 * 1024
#: The most a request may send to an endpoint anyone may call (signing in, the language).
OPEN_BODY_LIMIT = 64 * 1024


def body_limit(max_upload_bytes: int) -> int:
    """The largest request body accepted from a signed-in caller: an upload of
    ``max_upload_bytes`` and its multipart wrapping."""
    return max_upload_bytes + MULTIPART_ROOM


class Admission:
    """Decides from a request's head alone whether its body may be read."""

    def __init__(self, svc: Services, *, public: Iterable[str]) -> None:
        self.svc = svc
        self.public = frozenset(public)
        self.limit = body_limit(svc.settings.max_upload_bytes)

    def check(self) -> None:
        """Refuse the current request unless its body may be read; reads no body.
        Raises Unauthenticated (no or a bad credential where one is needed), UploadTooLarge
        (a declared length over the limit)."""
        length = request.content_length
        if not length and not _chunked():
            return
        limit = OPEN_BODY_LIMIT
        if request.endpoint is not None and request.endpoint not in self.public:
            self._authenticate()
            limit = self.limit
        if length is not None and length > limit:
            raise UploadTooLarge(f"the request body is larger than {limit:,} bytes, the most "
                                 "this exchange accepts here")

    def _authenticate(self) -> None:
        svc = self.svc
        if _is_api():
            token = bearer_token(request.headers.get("Authorization", ""))
            with svc.reader.connect() as conn:  # kept for the API's own check of this request
                g.admitted = (token, principal_for_token(conn, token))
            return
        sid = session.get("sid")
        if not isinstance(sid, str) or not sid:
            raise Unauthenticated("sign in first")
        with svc.reader.connect() as conn:
            principal_for_session(conn, sid, now=svc.clock())

    def refusal(self, exc: Exception) -> Any:
        """The response that refuses the current request for ``exc`` (one :meth:`check`
        raised): the API's JSON error; a page is sent to sign in, as its own check would."""
        if isinstance(exc, Unauthenticated) and not _is_api():
            return redirect(url_for("web.account.sign_in", next=request.full_path.rstrip("?")))
        body = jsonify(error={"code": code_for(exc), "message": public_message(exc)})
        body.status_code = status_for(exc)
        return body

    def before_request(self) -> Any:
        """The app's first check of every request (before CSRF protection reads a form)."""
        try:
            self.check()
        except (Unauthenticated, UploadTooLarge) as exc:
            return self.refusal(exc)
        return None

    def refusal_for(self, app: Flask, environ: dict[str, Any]) -> tuple[str, list, bytes] | None:
        """For a server that has only received a request's head (``environ`` without its
        body): None to receive the body, else the refusal's status line, headers and body."""
        with app.request_context(environ):
            try:
                self.check()
            except (Unauthenticated, UploadTooLarge) as exc:
                response = self.refusal(exc)
                return response.status, response.headers.to_wsgi_list(), response.get_data()
        return None


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _chunked() -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


class UploadRequest(Request):
    """Flask's request, with uploaded files spooled to ``Settings.spool_dir`` as named files
    (Werkzeug keeps small ones in memory and large ones in unnamed temporary files), so that
    publishing can open one as often as its readers need."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        spool = current_app.extensions["govex"].settings.spool_dir
        spool.mkdir(mode=0o700, parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile("w+b", dir=spool, prefix="upload-")


def spooled_path(upload: FileStorage) -> Path:
    """Where an uploaded file spooled by :class:`UploadRequest` lies, all of it on disk (it is
    removed when the request ends). Raises OSError."""
    upload.stream.flush()
    return Path(upload.stream.name)


def sweep_spool(spool: Path, *, older_than: float = 3600.0, now: float | None = None) -> int:
    """Remove uploads a killed server left in ``spool``, untouched for ``older_than`` seconds
    (a request still running may own a younger one); returns how many. Raises OSError."""
    cutoff = (time.time() if now is None else now) - older_than
    removed = 0
    for path in spool.glob("upload-*") if spool.is_dir() else ():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
