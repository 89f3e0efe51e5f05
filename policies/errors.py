"""Errors of the policies package; their built-in bases say what kind of failure each is."""

from __future__ import annotations

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
    """Base of every error raised by :mod:`policies`."""


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
