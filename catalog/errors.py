"""Errors of the catalog package; their built-in bases say what kind of failure each is.

The exchange maps them by kind: ``LookupError`` → not found, ``ValueError`` → invalid input,
anything else (``PayloadCorrupt``) → a server error.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CatalogError",
    "DatasetNotFound",
    "ColumnNotFound",
    "InvalidUpload",
    "UploadTooLarge",
    "UnsupportedFormat",
    "QualityCheckFailed",
    "PayloadMissing",
    "PayloadCorrupt",
    "TableChanged",
]


class CatalogError(Exception):
    """Base of every error raised by :mod:`catalog`.

    ``code`` names the problem for people (the exchange words it in their language), ``field``
    the input it concerns, ``params`` its values; the message stays the developer's text.
    """

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message)
        self.code, self.field, self.params = code, field, params


class DatasetNotFound(CatalogError, LookupError):
    """No dataset (or no such version of it) with that id."""


class ColumnNotFound(CatalogError, LookupError):
    """The dataset version has no column of that name."""


class DatasetWithdrawn(CatalogError):
    """The dataset was withdrawn from the catalog: it takes no new version, edit or request."""


class ResourceCodeTaken(CatalogError):
    """Another dataset already has that resource code (信息资源代码)."""


class InvalidUpload(CatalogError, ValueError):
    """The file or the metadata given with it cannot be accepted; the message says why."""


class UploadTooLarge(InvalidUpload):
    """The file has more bytes or rows than the limit."""


class UnsupportedFormat(InvalidUpload):
    """The file is of a format the catalog does not read or write."""


class QualityCheckFailed(CatalogError, ValueError):
    """Quality checks failed and the publisher asked for strict mode."""


class PayloadMissing(CatalogError, LookupError):
    """No stored payload has that digest."""


class PayloadCorrupt(CatalogError):
    """A stored payload cannot be decrypted or does not match its digest (altered, wrong key)."""


class TableChanged(CatalogError):
    """An external table's folder no longer holds the files its version pinned (a file added,
    removed or altered); like a corrupt payload, not the caller's mistake."""
