"""Errors of the masking package; their built-in bases say what kind of failure each is."""

from __future__ import annotations

from typing import Any

__all__ = ["MaskingError", "UnknownOperator", "InvalidMaskingPlan", "SparkJobFailed"]


class MaskingError(Exception):
    """Base of every error raised by :mod:`masking`.

    ``code`` names the problem for people (the exchange words it in their language), ``field``
    the input it concerns, ``params`` its values; the message stays the developer's text.
    """

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message)
        self.code, self.field, self.params = code, field, params


class UnknownOperator(MaskingError, LookupError):
    """No masking operator is registered under that name."""


class InvalidMaskingPlan(MaskingError, ValueError):
    """The masking rules or an operator's parameters are malformed (unknown column, bad
    params...)."""


class SparkJobFailed(MaskingError):
    """A Spark masking job failed (:mod:`masking.spark`). The message is govex's own error from
    an executor, or only Spark's error condition: Spark's messages may quote a value."""
