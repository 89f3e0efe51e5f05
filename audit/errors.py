"""Errors of the audit log: one base, each subclass also the built-in kind of its failure."""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuditError",
    "LogInconsistent",
    "ProofInvalid",
    "SignatureInvalid",
    "EntryNotFound",
    "InvalidRange",
    "InvalidEvent",
    "InvalidFormat",
]


class AuditError(Exception):
    """Base of every error raised by the ``audit`` package.

    ``code`` names the problem for people (the exchange words it in their language), ``field``
    the input it concerns, ``params`` its values; the message stays the developer's text.
    """

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message)
        self.code, self.field, self.params = code, field, params


class LogInconsistent(AuditError):
    """The log's entries and signed checkpoints disagree: rollback, truncation, rewritten
    history, an altered entry, or a stored tree that does not match its own head."""


class ProofInvalid(AuditError, ValueError):
    """An inclusion or consistency proof does not verify."""


class SignatureInvalid(AuditError):
    """A signed note is malformed or carries no valid signature from the expected key."""


class EntryNotFound(AuditError, LookupError):
    """No entry at that index."""


class InvalidRange(AuditError, ValueError):
    """An index, tree size, page or time filter is out of range or malformed."""


class InvalidEvent(AuditError, ValueError):
    """An event cannot be logged: not a JSON object with ``type`` and ``time``, or not
    representable as RFC 8785 canonical JSON."""


class InvalidFormat(AuditError, ValueError):
    """Text that should be a checkpoint, a verifier key or an evidence bundle is malformed."""
