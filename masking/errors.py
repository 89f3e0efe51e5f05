"""Errors of the masking package; their built-in bases say what kind of failure each is."""

from __future__ import annotations

__all__ = ["MaskingError", "UnknownOperator", "InvalidMaskingPlan"]


class MaskingError(Exception):
    """Base of every error raised by :mod:`masking`."""


class UnknownOperator(MaskingError, LookupError):
    """No masking operator is registered under that name."""


class InvalidMaskingPlan(MaskingError, ValueError):
    """The masking rules or an operator's parameters are malformed (unknown column, bad
    params...)."""
