"""``redact``: replace every value with a fixed token (empty by default)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from masking._columns import Column, like, to_arrow
from masking.errors import InvalidMaskingPlan
from masking.operators.base import MaskContext, Operator

__all__ = ["RedactOperator"]


class RedactOperator(Operator):
    """Every non-null value becomes ``params["token"]`` (default ""); nulls stay null."""

    name = "redact"
    PARAMS = frozenset({"token"})

    def apply(
        self, values: Column, *, entity: str | None, params: Mapping[str, Any], context: MaskContext
    ) -> Column:
        """Return the redacted column; raises InvalidMaskingPlan if the token is not a string."""
        self.check_params(params)
        token = params.get("token", "")
        if not isinstance(token, str):
            raise InvalidMaskingPlan(f"token must be a string, got {token!r}")
        array = to_arrow(values)
        nulls = pc.is_null(array)
        return like(values, pc.if_else(nulls, pa.scalar(None, pa.string()), pa.scalar(token)))
