"""``drop``: leave the column out of the delivered table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from masking._columns import Column, like, null_like
from masking.operators.base import MaskContext, Operator

__all__ = ["DropOperator"]


class DropOperator(Operator):
    """The table removes a dropped column; applied on its own, every value becomes null."""

    name = "drop"
    drops_column = True

    def apply(
        self, values: Column, *, entity: str | None, params: Mapping[str, Any], context: MaskContext
    ) -> Column:
        """Return an all-null column; raises InvalidMaskingPlan for any parameter."""
        self.check_params(params)
        return like(values, null_like(values))
