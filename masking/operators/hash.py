"""``hash``: keyed pseudonyms (HMAC-SHA-256 with the receiving department's key).

The same value under the same key always gives the same token, so a department can join its own
deliveries; under another department's key the token is unrelated, so two departments cannot
link theirs. Values are normalised per entity first (a mobile with or without +86 and spaces is
one person).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import pyarrow.compute as pc

from masking._address import map_distinct
from masking._columns import Column, like, to_strings
from masking.errors import InvalidMaskingPlan
from masking.operators._kernels import strip
from masking.operators.base import MaskContext, Operator, int_param
from masking.operators.mask import CONVENTIONS

__all__ = ["HashOperator", "MIN_KEY_BYTES"]

MIN_KEY_BYTES = 16


class HashOperator(Operator):
    """Replace each value with the first ``length`` characters (default 16) of its HMAC in
    lower-case base32 (a–z, 2–7). Unlike hex, that alphabet has no 0, 1, 8 or 9, so a pseudonym
    can never look like a mobile number or a resident ID to a reader or a downstream scanner."""

    name = "hash"
    PARAMS = frozenset({"length"})

    def apply(
        self, values: Column, *, entity: str | None, params: Mapping[str, Any], context: MaskContext
    ) -> Column:
        """Return the pseudonymised column.

        Raises InvalidMaskingPlan when the context has no ``bytes`` key of at least 16 bytes or
        ``length`` is not between 8 and 64.
        """
        self.check_params(params)
        key = _checked_key(context.hash_key)
        length = int_param(params, "length", 16)
        if length < 8 or length > 52:
            raise InvalidMaskingPlan("length must be 8 to 52 characters")
        strings = _normalised(to_strings(values), entity)
        return like(values, map_distinct(strings, lambda v: _token(key, v, length)))


    def check_context(self, context: MaskContext) -> None:
        """Raise InvalidMaskingPlan unless the context carries a usable per-recipient key."""
        _checked_key(context.hash_key)


def _checked_key(key: object) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise InvalidMaskingPlan(
            f"hash needs a per-recipient key of at least {MIN_KEY_BYTES} bytes")
    return bytes(key)


def _normalised(strings, entity: str | None):
    convention = CONVENTIONS.get(entity or "")
    if convention and convention.strip:
        strings = strip(strings, convention.strip)
    return pc.utf8_upper(pc.utf8_trim_whitespace(strings))


def _token(key: bytes, value: str, length: int) -> str:
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()[:length]
