"""``generalize``: coarser values — date to year or month, age to band, ID to birth year,
address to district.

``params["to"]`` picks the target: "year", "month", "band" (with ``width``, default 10),
"birth_year", "district". Without it the entity decides: CN_RESIDENT_ID -> birth_year,
LOCATION -> district, AGE -> band, DATE_TIME/DATE -> year. A value that does not have the
expected shape becomes null (it cannot be generalised, so it is not delivered).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from masking._columns import Column, like, to_arrow, to_strings
from masking.errors import InvalidMaskingPlan
from masking.operators._kernels import admin_prefixes_by_run
from masking.operators.base import MaskContext, Operator, int_param

__all__ = ["GeneralizeOperator", "TARGETS"]

_BY_ENTITY = {
    "CN_RESIDENT_ID": "birth_year",
    "LOCATION": "district",
    "AGE": "band",
    "DATE_TIME": "year",
    "DATE": "year",
    "BIRTH_DATE": "year",
}
_DATE = r"^\s*(?P<year>\d{4})(?:\s*[-/.年]\s*(?P<month>\d{1,2}))?"


class GeneralizeOperator(Operator):
    """Replace each value with a coarser one chosen by ``params["to"]`` or the entity."""

    name = "generalize"
    PARAMS = frozenset({"to", "width"})

    @classmethod
    def applies_to(cls, entity: str | None) -> bool:
        """Only where the entity decides the target (an ID, an address, a date, an age)."""
        return (entity or "") in _BY_ENTITY

    def apply(
        self, values: Column, *, entity: str | None, params: Mapping[str, Any], context: MaskContext
    ) -> Column:
        """Return the generalised column (strings).

        Raises InvalidMaskingPlan when the target is unknown or cannot be inferred, or ``width``
        is not a positive integer.
        """
        self.check_params(params)
        target = params.get("to") or _BY_ENTITY.get(entity or "")
        if target not in TARGETS:
            raise InvalidMaskingPlan(
                f"generalize has no coarser form for {entity or 'a column without personal data'}"
                f": it works on resident IDs (birth year), addresses (district), dates (year) "
                f"and ages (band), or with params['to'] in {sorted(TARGETS)}"
            )
        return like(values, TARGETS[target](to_arrow(values), params))


def _birth_year(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    parts = pc.extract_regex(to_strings(array),
                             r"^\s*\d{6}(?P<year>(?:18|19|20)\d{2})\d{7}[0-9Xx]\s*$")
    return pc.struct_field(parts, "year")


def _district(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    prefixes = admin_prefixes_by_run(to_strings(array))
    return pc.if_else(pc.equal(prefixes, ""), pa.scalar(None, pa.string()), prefixes)


def _year(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    if pa.types.is_temporal(array.type):
        return pc.strftime(array, "%Y")
    return pc.struct_field(pc.extract_regex(to_strings(array), _DATE), "year")


def _month(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    if pa.types.is_temporal(array.type):
        return pc.strftime(array, "%Y-%m")
    parts = pc.extract_regex(to_strings(array), _DATE)
    month = pc.utf8_lpad(pc.struct_field(parts, "month"), 2, "0")
    month = pc.if_else(pc.equal(month, "00"), pa.scalar(None, pa.string()), month)
    return pc.binary_join_element_wise(pc.struct_field(parts, "year"), month, "-")


def _band(array: pa.Array, params: Mapping[str, Any]) -> pa.Array:
    width = int_param(params, "width", 10)
    if width == 0:
        raise InvalidMaskingPlan("width must be a positive integer")
    numbers = pc.cast(array if _numeric(array) else _parse_numbers(array), pa.float64())
    low = pc.cast(pc.multiply(pc.floor(pc.divide(numbers, width)), width), pa.int64())
    high = pc.add(low, width - 1)
    return pc.binary_join_element_wise(pc.cast(low, pa.string()), pc.cast(high, pa.string()), "-")


def _parse_numbers(array: pa.Array) -> pa.Array:
    strings = pc.utf8_trim_whitespace(to_strings(array))
    numeric = pc.match_substring_regex(strings, r"^\d+(?:\.\d+)?$")
    return pc.cast(pc.if_else(numeric, strings, pa.scalar(None, pa.string())), pa.float64())


def _numeric(array: pa.Array) -> bool:
    return pa.types.is_integer(array.type) or pa.types.is_floating(array.type)


TARGETS = {
    "year": _year,
    "month": _month,
    "band": _band,
    "birth_year": _birth_year,
    "district": _district,
}
