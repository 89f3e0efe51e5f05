"""Errors of the policies package; their built-in bases say what kind of failure each is."""

from __future__ import annotations

from typing import Any

__all__ = [
    "PolicyError",
    "AccessDenied",
    "RequestNotFound",
    "GrantNotFound",
    "InvalidRequest",
    "AlreadyDecided",
    "GrantInactive",
]


class PolicyError(Exception):
    """Base of every error raised by :mod:`policies`.

    ``code`` names the problem for people (the exchange words it in their language), ``field``
    the input it concerns, ``params`` its values; the message stays the developer's text.
    """

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message)
        self.code, self.field, self.params = code, field, params


class AccessDenied(PolicyError, PermissionError):
    """The principal may not do this."""


class RequestNotFound(PolicyError, LookupError):
    """No access request with that id."""


class GrantNotFound(PolicyError, LookupError):
    """No grant with that id."""


class InvalidRequest(PolicyError, ValueError):
    """The request or decision is malformed: unknown columns, no purpose, bad operator..."""


class AlreadyDecided(PolicyError):
    """The request was already decided, or this steward already approved it (a conflict)."""


class GrantInactive(PolicyError, PermissionError):
    """The grant was revoked or has expired."""
