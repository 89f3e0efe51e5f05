"""What every masking operator shares: the context it runs in and parameter checks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from masking._columns import Column
from masking.errors import InvalidMaskingPlan

__all__ = ["MaskContext", "Operator", "int_param", "char_param"]


@dataclass(frozen=True)
class MaskContext:
    """What an operator may need beyond the column: the recipient's hash key, the analyzer.

    ``hash_key`` is per receiving department (left out of ``repr``: a context in a log line or
    a traceback must not carry it); ``analyzer`` is a Presidio ``AnalyzerEngine`` (None: the
    shared offline one); ``column`` names the column for error messages.
    """

    hash_key: bytes | None = field(default=None, repr=False)
    analyzer: Any = None
    column: str | None = None


class Operator(ABC):
    """A masking operator: turns a whole column into a masked column of the same length."""

    name: ClassVar[str]
    #: The parameters ``apply`` accepts; any other key is a plan error.
    PARAMS: ClassVar[frozenset[str]] = frozenset()
    #: True when the operator removes the column from the delivered table.
    drops_column: ClassVar[bool] = False

    @classmethod
    def applies_to(cls, entity: str | None) -> bool:
        """Whether the operator can be used, without parameters, on a column of ``entity``."""
        return True

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Raise InvalidMaskingPlan when ``params`` has a key this operator does not know."""
        unknown = set(params) - self.PARAMS
        if unknown:
            raise InvalidMaskingPlan(
                f"operator {self.name!r} has no parameter(s) {sorted(unknown)}")

    def check_context(self, context: MaskContext) -> None:
        """Raise InvalidMaskingPlan when ``context`` lacks what this operator needs (no-op here)."""

    @abstractmethod
    def apply(
        self,
        values: Column,
        *,
        entity: str | None,
        params: Mapping[str, Any],
        context: MaskContext,
    ) -> Column:
        """Return the masked column (same length, nulls stay null; a Series keeps its index).

        Raises InvalidMaskingPlan for bad parameters, TypeError for an unsupported column type.
        """


def int_param(params: Mapping[str, Any], key: str, default: int, *,
              maximum: int | None = None) -> int:
    """``params[key]`` as a non-negative int (``default`` when absent).

    Raises InvalidMaskingPlan when it is not an int, negative, or above ``maximum``.
    """
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidMaskingPlan(f"{key} must be a non-negative integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidMaskingPlan(f"{key} may be at most {maximum}, got {value}")
    return value


def char_param(params: Mapping[str, Any], key: str = "char", default: str = "*") -> str:
    """``params[key]`` as a single character; raises InvalidMaskingPlan otherwise."""
    value = params.get(key, default)
    if not isinstance(value, str) or len(value) != 1:
        raise InvalidMaskingPlan(f"{key} must be a single character, got {value!r}")
    return value
