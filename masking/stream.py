"""Masking a table too large for memory, chunk by chunk, with one plan for every chunk.

The first chunk is profiled (a sample of each column and its header); a steward's policy
overrides the defaults column by column; then every chunk, the first included, is masked by the
same rules, so a value is masked the same way wherever it falls. Chunks are ``pyarrow`` tables
(what :mod:`catalog.streaming` reads); each column goes through its operator in bulk::

    masker = ChunkedMasker(policy=rules_from_policy({"身份证号": "hash", "备注": "drop"}),
                           hash_key=recipient_key)
    for chunk in chunks:
        write(masker.mask(chunk))
    report = [column.to_dict() for column in masker.report()]

A plan decided earlier (a grant's, over columns profiled at publication) is adopted instead
with :meth:`ChunkedMasker.adopt`: then nothing is profiled again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from masking.errors import InvalidMaskingPlan
from masking.operators import MaskContext, Operator
from masking.profile import ColumnProfile, profile_table
from masking.table import ColumnRule, check_plan, default_rules

__all__ = ["ChunkedMasker", "ColumnReport", "rules_from_policy"]

_RULE_KEYS = frozenset({"operator", "entity", "params"})


def rules_from_policy(policy: Any) -> dict[str, ColumnRule]:
    """A policy ``{column: "operator" | {"operator": ..., "entity": ..., "params": {...}}}``
    as column rules.

    Raises InvalidMaskingPlan when the policy is not an object, a column's value is neither an
    operator name nor such an object, or the object has other keys. Operators and params are
    checked later, against the table (:class:`ChunkedMasker`).
    """
    if not isinstance(policy, Mapping):
        raise InvalidMaskingPlan("a masking policy is a JSON object {column: operator or rule}")
    rules = {}
    for column, value in policy.items():
        if isinstance(value, str):
            rules[str(column)] = ColumnRule(value)
        elif isinstance(value, Mapping) and not set(value) - _RULE_KEYS:
            entity = value.get("entity")
            if entity is not None and not isinstance(entity, str):
                raise InvalidMaskingPlan(f"column {column!r}: entity must be a name")
            rules[str(column)] = ColumnRule.from_dict(value)
        else:
            raise InvalidMaskingPlan(
                f"column {column!r}: expected an operator name or an object with keys "
                f"{sorted(_RULE_KEYS)}, got {value!r}")
    return rules


@dataclass
class ColumnReport:
    """What happened to one column: the profile's verdict, the rule applied, and counts.

    ``changed`` counts cells whose delivered value differs from the input (None: dropped).
    """

    column: str
    kind: str
    entity: str | None
    confidence: float
    sampled: int
    matched: int
    operator: str
    rule_from: str  # "policy" or "profile"
    rows: int = 0
    nulls: int = 0
    changed: int | None = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return asdict(self)


class ChunkedMasker:
    """Masks chunk after chunk by the plan made from the first one.

    ``policy`` (rules for some columns) overrides the profiled defaults; a rule without an
    entity takes the profiled one. ``hash_key`` is the receiving department's key (needed only
    when a rule hashes).
    """

    def __init__(
        self,
        *,
        policy: Mapping[str, ColumnRule] | None = None,
        hash_key: bytes | None = None,
        analyzer: Any = None,
        sample_size: int = 200,
    ) -> None:
        self._policy = dict(policy or {})
        self._context = MaskContext(hash_key=hash_key, analyzer=analyzer)
        self._sample_size = sample_size
        self.rules: dict[str, ColumnRule] | None = None
        self._operators: dict[str, Operator] = {}
        self._reports: dict[str, ColumnReport] = {}

    def plan(self, first: pa.Table) -> dict[str, ColumnRule]:
        """Profile ``first`` and fix the rules (done by the first :meth:`mask` if not before).

        Raises InvalidMaskingPlan (a policy column the table lacks, bad params, hash without a
        key, duplicate column names), UnknownOperator.
        """
        _check_unique(first.column_names)
        profiles = profile_table(_frame(first), analyzer=self._context.analyzer,
                                 sample_size=self._sample_size)
        rules = default_rules(profiles)
        for column, rule in self._policy.items():
            profiled = rules.get(column)
            entity = rule.entity or (profiled.entity if profiled else None)
            rules[column] = ColumnRule(rule.operator, entity, rule.params)
        return self._fix(list(first.column_names), rules, profiles)

    def adopt(self, profiles: Sequence[ColumnProfile]) -> dict[str, ColumnRule]:
        """Fix the rules without profiling anything: each column of ``profiles`` (made
        earlier, e.g. when the dataset was published) gets the policy's rule, its entity
        taken from the profile unless the rule names one. Every column needs a rule.

        Raises InvalidMaskingPlan (a column without a rule, a policy column not profiled,
        duplicate names, errors of :meth:`plan`), UnknownOperator.
        """
        columns = [p.column for p in profiles]
        _check_unique(columns)
        unruled = [c for c in columns if c not in self._policy]
        if unruled:
            raise InvalidMaskingPlan(f"no rule for column(s): {', '.join(unruled)}")
        rules = {p.column: ColumnRule(self._policy[p.column].operator,
                                      self._policy[p.column].entity or p.entity,
                                      self._policy[p.column].params) for p in profiles}
        rules.update({c: r for c, r in self._policy.items() if c not in rules})
        return self._fix(columns, rules, profiles)

    def _fix(self, columns: list[str], rules: dict[str, ColumnRule],
             profiles: Sequence[ColumnProfile]) -> dict[str, ColumnRule]:
        self._operators = check_plan(columns, rules, self._context)
        self._reports = {p.column: self._report(p, rules[p.column]) for p in profiles}
        self.rules = rules
        return rules

    def _report(self, profile: ColumnProfile, rule: ColumnRule) -> ColumnReport:
        return ColumnReport(
            column=profile.column, kind=profile.kind, entity=rule.entity or profile.entity,
            confidence=profile.confidence, sampled=profile.sampled, matched=profile.matched,
            operator=rule.operator, rule_from="policy" if profile.column in self._policy
            else "profile", changed=None if self._operators[profile.column].drops_column else 0)

    def output_columns(self, columns: list[str]) -> list[str]:
        """The columns delivered out of ``columns`` (dropped ones left out). Needs a plan."""
        if self.rules is None:
            raise InvalidMaskingPlan("no plan yet: call plan() or mask() first")
        return [c for c in columns if not self._operators[c].drops_column]

    def mask(self, chunk: pa.Table, *, count: bool = True) -> pa.Table:
        """The masked chunk: same rows in order, dropped columns left out. ``count=False``
        leaves the report as it is (a masker kept for one-row lookups, whose report nobody
        reads: counting what changed costs as much as masking a row).

        Raises InvalidMaskingPlan (a chunk whose columns differ from the first one's, errors of
        :meth:`plan`), UnknownOperator.
        """
        if self.rules is None:
            self.plan(chunk)
        if chunk.column_names != list(self._reports):
            raise InvalidMaskingPlan("a chunk's columns differ from the first chunk's")
        out: dict[str, Any] = {}
        for name in chunk.column_names:
            out_column = self._mask_column(name, chunk.column(name), count=count)
            if out_column is not None:
                out[name] = out_column
        return pa.table(out)

    def _mask_column(self, name: str, values: pa.ChunkedArray, *, count: bool) -> Any:
        operator, rule, report = self._operators[name], self.rules[name], self._reports[name]
        if count:
            report.rows += len(values)
            report.nulls += values.null_count
        if operator.drops_column:
            return None
        context = MaskContext(self._context.hash_key, self._context.analyzer, name)
        masked = operator.apply(values, entity=rule.entity, params=rule.params, context=context)
        if count:
            report.changed += _changed(values, masked)
        return masked

    def report(self) -> list[ColumnReport]:
        """One report per input column, in order, counts so far. Empty before the plan."""
        return list(self._reports.values())

    def counts(self) -> dict[str, tuple[int, int, int | None]]:
        """Per column, ``(rows, nulls, changed)`` so far (``changed`` None: dropped).

        With :meth:`add_counts`, how copies of one planned masker that ran elsewhere (Spark
        executors, :mod:`masking.spark`) add up to one report.
        """
        return {name: (r.rows, r.nulls, r.changed) for name, r in self._reports.items()}

    def add_counts(self, counts: Mapping[str, tuple[int, int, int | None]]) -> None:
        """Add ``counts`` (as :meth:`counts` gives them) to this masker's report.

        Raises InvalidMaskingPlan before a plan, or for counts of other columns.
        """
        if self.rules is None or set(counts) != set(self._reports):
            raise InvalidMaskingPlan("counts of other columns than the plan's")
        for name, (rows, nulls, changed) in counts.items():
            report = self._reports[name]
            report.rows += rows
            report.nulls += nulls
            if report.changed is not None:
                report.changed += changed or 0


def _check_unique(columns: Sequence[str]) -> None:
    if len(set(columns)) != len(columns):
        raise InvalidMaskingPlan("the table has duplicate column names")


def _frame(table: pa.Table) -> Any:
    import pandas as pd

    return pd.DataFrame({n: pd.array(table.column(n), dtype="str") if pa.types.is_string(
        table.column(n).type) else table.column(n).to_pandas() for n in table.column_names},
        columns=table.column_names)


def _changed(before: Any, after: Any) -> int:
    """How many cells differ (a null and a value differ; two nulls do not)."""
    if before.type != after.type:
        before = pc.cast(before, pa.string())
        after = pc.cast(after, pa.string())
    differ = pc.fill_null(pc.not_equal(before, after), True)
    both_null = pc.and_(pc.is_null(before), pc.is_null(after))
    return int(pc.sum(pc.and_not(differ, both_null)).as_py() or 0)
