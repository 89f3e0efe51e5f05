"""Error kinds of the exchange and their mapping to HTTP, in one place.

Domain errors are mapped by their built-in kind (LookupError → 404, PermissionError → 403,
ValueError → 422); a few are named explicitly. Anything else is a 500 with a generic body;
the detail goes to the server log only.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

from catalog import (
    DatasetWithdrawn,
    InvalidUpload,
    ResourceCodeTaken,
    TableChanged,
    UploadTooLarge,
)
from policies import AlreadyDecided

from .messages import Problem

__all__ = ["ExchangeError", "InvalidInput", "Unprocessable", "Unauthenticated",
           "TooManyAttempts", "Forbidden", "NotFound", "Conflict", "status_for", "code_for",
           "http_code", "public_message", "retry_after"]

log = logging.getLogger("govex")


class ExchangeError(Exception):
    """Base of the exchange's own errors. ``code`` names the problem (see
    :mod:`exchange.messages`), ``field`` the form field it concerns, ``params`` its values."""

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message)
        self.code, self.field, self.params = code, field, params
        self.problems: list[Problem] = []


class InvalidInput(ExchangeError, ValueError):
    """The request is malformed (400)."""

    @classmethod
    def of(cls, problems: list[Problem], *, malformed: bool = True) -> ExchangeError:
        """One error for several problems (each field's), so a form shows them all: 400 when
        the input is ``malformed`` (a wrong type), else 422 (well-formed, refused)."""
        error = (cls if malformed else Unprocessable)("; ".join(p.code for p in problems))
        error.problems = list(problems)
        return error


class Unprocessable(ExchangeError, ValueError):
    """Well-formed but refused: no purpose, unknown columns (422)."""


class Unauthenticated(ExchangeError, PermissionError):
    """No or a bad credential (401)."""


class TooManyAttempts(ExchangeError, PermissionError):
    """Too many failed sign-ins or refusals: refused until ``until`` (429)."""

    def __init__(self, message: str, *, until: dt.datetime, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.until = until


def retry_after(exc: BaseException, now: dt.datetime) -> dict[str, str]:
    """The ``Retry-After`` header (whole seconds, at least 1) for a :class:`TooManyAttempts`;
    no headers for anything else."""
    if not isinstance(exc, TooManyAttempts):
        return {}
    return {"Retry-After": str(max(1, math.ceil((exc.until - now).total_seconds())))}


class Forbidden(ExchangeError, PermissionError):
    """Authenticated but not permitted (403)."""


class NotFound(ExchangeError, LookupError):
    """No such thing (404)."""


class Conflict(ExchangeError):
    """The state does not allow this (409)."""


_EXPLICIT: tuple[tuple[type[BaseException], int, str], ...] = (
    (TooManyAttempts, 429, "too_many_attempts"),
    (Unauthenticated, 401, "unauthenticated"),
    (UploadTooLarge, 413, "too_large"),
    (TableChanged, 409, "external_table_changed"),
    (DatasetWithdrawn, 409, "dataset_withdrawn"),
    (ResourceCodeTaken, 409, "resource_code_taken"),
    (InvalidUpload, 422, "invalid_upload"),
    (InvalidInput, 400, "invalid_input"),
    (Conflict, 409, "conflict"),
    (AlreadyDecided, 409, "conflict"),
)
_BY_KIND: tuple[tuple[type[BaseException], int, str], ...] = (
    (PermissionError, 403, "forbidden"),
    (LookupError, 404, "not_found"),
    (ValueError, 422, "invalid"),
)


_OURS = ("audit", "catalog", "masking", "policies", "exchange")


def _entry(exc: BaseException) -> tuple[int, str] | None:
    """Only our own errors are mapped: a ValueError raised deep inside pandas or Presidio may
    quote a cell of the data, so foreign exceptions are always a generic 500."""
    if type(exc).__module__.split(".")[0] not in _OURS:
        return None
    for kind, status, code in _EXPLICIT + _BY_KIND:
        if isinstance(exc, kind):
            return status, code
    return None


#: Werkzeug's own refusals (no route, wrong method, body over the limit) by status.
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def http_code(status: int) -> str:
    """The stable code of an HTTP refusal Werkzeug made itself (``http_error`` if unknown)."""
    return _HTTP_CODES.get(status, "http_error")


def status_for(exc: BaseException) -> int:
    """The HTTP status for ``exc`` (500 when it is not a known kind)."""
    found = _entry(exc)
    return found[0] if found else 500


def code_for(exc: BaseException) -> str:
    """The stable machine-readable code for ``exc``."""
    found = _entry(exc)
    return found[1] if found else "internal"


def public_message(exc: BaseException) -> str:
    """What the client may read: the message of a known kind, never internals."""
    if _entry(exc) is None:
        return "internal error; the operator can find the details in the server log"
    return str(exc) or exc.__class__.__name__
