"""``scrub``: free text — detect PII spans and mask each with its entity's convention."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from masking._columns import Column, like, to_strings
from masking.errors import InvalidMaskingPlan
from masking.operators.base import MaskContext, Operator

__all__ = ["ScrubOperator"]


class ScrubOperator(Operator):
    """Mask the PII spans inside each text; ``params``: ``entities`` (list), ``char``."""

    name = "scrub"
    PARAMS = frozenset({"entities", "char"})

    def apply(
        self, values: Column, *, entity: str | None, params: Mapping[str, Any], context: MaskContext
    ) -> Column:
        """Return the scrubbed column.

        Raises InvalidMaskingPlan for unknown params, an ``entities`` that is not a list of names,
        or an entity no recognizer detects.
        """
        self.check_params(params)
        entities = params.get("entities")
        if entities is not None and (
            isinstance(entities, str) or not all(isinstance(e, str) for e in entities)
        ):
            raise InvalidMaskingPlan("entities must be a list of entity names")
        from masking.text import scrub_texts  # detection (Presidio, jieba): loaded when used

        texts = to_strings(values).to_pylist()
        mask_params = {"char": params["char"]} if "char" in params else {}
        try:
            scrubbed = scrub_texts(
                texts, analyzer=context.analyzer, entities=entities, params=mask_params
            )
        except ValueError as exc:
            if isinstance(exc, InvalidMaskingPlan):
                raise
            raise InvalidMaskingPlan(f"cannot scrub: {exc}") from exc
        return like(values, pa.array(scrubbed, pa.string()))
