"""Masking operators, one class per file, registered by name in :data:`OPERATORS`.

Every operator works on a whole column: ``apply(values, *, entity, params, context)`` takes a
pandas Series or pyarrow array and returns the same kind, same length; nulls stay null.
"""

from __future__ import annotations

from masking.errors import UnknownOperator
from masking.operators.base import MaskContext, Operator
from masking.operators.drop import DropOperator
from masking.operators.generalize import GeneralizeOperator
from masking.operators.hash import HashOperator
from masking.operators.keep import KeepOperator
from masking.operators.mask import CONVENTIONS, MaskConvention, MaskOperator
from masking.operators.redact import RedactOperator
from masking.operators.scrub import ScrubOperator

__all__ = [
    "OPERATORS",
    "get_operator",
    "operators_for",
    "MaskContext",
    "Operator",
    "MaskConvention",
    "CONVENTIONS",
    "KeepOperator",
    "MaskOperator",
    "RedactOperator",
    "HashOperator",
    "GeneralizeOperator",
    "DropOperator",
    "ScrubOperator",
]

OPERATORS: dict[str, type[Operator]] = {
    cls.name: cls
    for cls in (
        KeepOperator,
        MaskOperator,
        RedactOperator,
        HashOperator,
        GeneralizeOperator,
        DropOperator,
        ScrubOperator,
    )
}


def operators_for(entity: str | None) -> list[str]:
    """The operators that apply, without parameters, to a column of ``entity`` (None: no
    personal data found), in the registry's order."""
    return [name for name, cls in OPERATORS.items() if cls.applies_to(entity)]


def get_operator(name: str) -> Operator:
    """A new instance of the operator registered as ``name``.

    Raises UnknownOperator when no operator has that name.
    """
    try:
        return OPERATORS[name]()
    except (KeyError, TypeError) as exc:
        raise UnknownOperator(f"no masking operator named {name!r}") from exc
