"""Table masking: one rule per column, each column masked in bulk by its operator."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from masking.errors import InvalidMaskingPlan
from masking.operators import MaskContext, Operator, get_operator
from masking.profile import ColumnProfile

__all__ = ["ColumnRule", "default_rules", "mask_table", "check_plan"]

_DEFAULT_OPERATOR = {"identifier": "mask", "free_text": "scrub", "none": "keep"}
_DEFAULT_BY_ENTITY = {"BIRTH_DATE": "generalize"}  # to the year: still useful, not identifying


@dataclass(frozen=True)
class ColumnRule:
    """How one column is delivered: an operator name, the entity it holds, operator params."""

    operator: str
    entity: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``params`` copied)."""
        return {"operator": self.operator, "entity": self.entity, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnRule:
        """Rebuild a rule; raises InvalidMaskingPlan when ``operator`` is missing or malformed."""
        operator, params = data.get("operator"), data.get("params") or {}
        if not isinstance(operator, str) or not isinstance(params, Mapping):
            raise InvalidMaskingPlan(f"malformed column rule: {dict(data)!r}")
        return cls(operator=operator, entity=data.get("entity"), params=dict(params))


def default_rules(profiles: Iterable[ColumnProfile]) -> dict[str, ColumnRule]:
    """identifier -> mask (with its entity; a birth date -> generalize to the year),
    free_text -> scrub, none -> keep."""
    return {
        p.column: ColumnRule(_DEFAULT_BY_ENTITY.get(p.entity or "", _DEFAULT_OPERATOR[p.kind]),
                             p.entity if p.kind == "identifier" else None)
        for p in profiles
    }


def mask_table(
    df: pd.DataFrame,
    rules: Mapping[str, ColumnRule],
    *,
    hash_key: bytes,
    analyzer: Any = None,
) -> pd.DataFrame:
    """Return a new frame: same rows and column order, each ruled column masked, dropped ones
    removed, columns without a rule kept. ``df`` is not modified.

    Raises InvalidMaskingPlan for a rule naming a column the table lacks, a malformed rule or
    bad params, or duplicate column names; UnknownOperator for an unknown operator name.
    """
    context = MaskContext(hash_key=hash_key, analyzer=analyzer)
    operators = _checked_plan(df, rules, context)
    out: dict[Any, Any] = {}
    for column in df.columns:
        rule, operator = rules.get(column), operators.get(column)
        if rule is None or operator is None:
            out[column] = df[column].copy()
        elif not operator.drops_column:
            out[column] = _apply(operator, df[column], rule, context)
    return pd.DataFrame(out, index=df.index.copy(), columns=[c for c in df.columns if c in out])


def _checked_plan(
    df: pd.DataFrame, rules: Mapping[str, ColumnRule], context: MaskContext
) -> dict[Any, Operator]:
    """Validate every rule before any work; return the operator of each ruled column."""
    if not df.columns.is_unique:
        raise InvalidMaskingPlan("the table has duplicate column names")
    return check_plan(list(df.columns), rules, context)


def check_plan(
    columns: list[Any], rules: Mapping[str, ColumnRule], context: MaskContext
) -> dict[Any, Operator]:
    """The operator of each ruled column, every rule checked before any work is done.

    Raises InvalidMaskingPlan (a rule for a column not in ``columns``, a malformed rule, bad
    params, a hash without a usable key), UnknownOperator.
    """
    unknown = [c for c in rules if c not in columns]
    if unknown:
        raise InvalidMaskingPlan(f"rules for columns the table does not have: {unknown}")
    operators = {}
    for column, rule in rules.items():
        if not isinstance(rule, ColumnRule):
            raise InvalidMaskingPlan(f"rule for {column!r} is not a ColumnRule")
        operators[column] = get_operator(rule.operator)
        operators[column].check_params(rule.params)
        operators[column].check_context(context)
    return operators


def _apply(operator: Operator, values: pd.Series, rule: ColumnRule,
           context: MaskContext) -> pd.Series:
    column_context = MaskContext(context.hash_key, context.analyzer, str(values.name))
    return operator.apply(values, entity=rule.entity, params=rule.params, context=column_context)
