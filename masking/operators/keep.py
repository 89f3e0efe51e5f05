"""``keep``: deliver the column as it is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from masking._columns import Column
from masking.operators.base import MaskContext, Operator

__all__ = ["KeepOperator"]


class KeepOperator(Operator):
    """Return the values unchanged (a copy of a Series, so the input is never shared)."""

    name = "keep"

    def apply(
        self, values: Column, *, entity: str | None, params: Mapping[str, Any], context: MaskContext
    ) -> Column:
        """Return ``values`` unchanged; raises InvalidMaskingPlan for any parameter."""
        self.check_params(params)
        return values.copy() if isinstance(values, pd.Series) else values
