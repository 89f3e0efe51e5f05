"""Quality checks of an uploaded table with Great Expectations 1.x, on the in-memory DataFrame,
extended to every row of a table read in chunks by :class:`ColumnCounts`.

A table too large for memory is checked in two parts: Great Expectations runs its suite on a
sample (the first rows, as a DataFrame), and :class:`ColumnCounts` counts, chunk by chunk over
every row, what the suite's column checks count (missing values of a not-null column, present
values of a patterned column that do not match), so the report covers every row::

    counts = ColumnCounts(not_null=["姓名"], patterns={"身份证号": r"^[0-9]{17}[0-9Xx]$"})
    for chunk in reader:                                   # pyarrow tables of string columns
        counts.add(chunk)
    report = validate_table(first_rows, columns=reader.columns, not_null=["姓名"],
                            patterns={"身份证号": r"^[0-9]{17}[0-9Xx]$"}, counts=counts)

The counts follow Great Expectations' own arithmetic (a pattern is matched as its
``str.contains`` matches it; a percentage of rows for not-null, of present values for a
pattern), so a table read in one chunk gets the same report either way.

Great Expectations is imported on first use (its import takes seconds). A report holds counts
only, never the offending values: they may be personal data.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ColumnCounts", "QualityReport", "validate_table"]

_NO_PATTERNS: Mapping[str, str] = MappingProxyType({})
_RESULT_KEYS = ("expectation", "column", "success", "unexpected_count", "unexpected_percent")
_NOT_NULL = "expect_column_values_to_not_be_null"
_MATCH = "expect_column_values_to_match_regex"
#: Escapes that Python's ``re`` reads as Unicode classes and RE2 as ASCII ones: a pattern with
#: one is matched by Python, the way Great Expectations matches it.
_UNICODE_CLASS = re.compile(r"\\[dDwWsSbB]")
_gx_lock = threading.RLock()


@dataclasses.dataclass(frozen=True)
class QualityReport:
    """The outcome of :func:`validate_table`.

    ``results`` holds one dict per expectation: ``expectation`` (its Great Expectations name),
    ``column`` (None for table-level ones), ``success``, ``unexpected_count`` and
    ``unexpected_percent`` (None where they do not apply or the check could not run).
    """

    success: bool
    checked_rows: int
    results: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"success": self.success, "checked_rows": self.checked_rows,
                "results": [dict(r) for r in self.results]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        """The report :meth:`to_dict` gave. Raises KeyError, TypeError for another shape."""
        return cls(success=bool(data["success"]), checked_rows=int(data["checked_rows"]),
                   results=[{k: r.get(k) for k in _RESULT_KEYS} for r in data["results"]])

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The results that did not succeed."""
        return [r for r in self.results if not r["success"]]


class ColumnCounts:
    """What the column checks of :func:`validate_table` count, over every chunk added: ``rows``;
    per not-null column its ``missing`` values; per patterned column its ``present`` values and
    those of them ``unmatched``. Holds counts only, never a value.

    Patterns as :func:`validate_table` takes them; a column a chunk lacks is not counted.
    Raises ValueError for an invalid regular expression.
    """

    def __init__(self, *, not_null: Sequence[str] = (),
                 patterns: Mapping[str, str] = _NO_PATTERNS) -> None:
        _check_patterns(patterns)
        self.rows = 0
        self.missing = dict.fromkeys(not_null, 0)
        self.present = dict.fromkeys(patterns, 0)
        self.unmatched = dict.fromkeys(patterns, 0)
        self._patterns = {column: _whole_value(p) for column, p in patterns.items()}

    def add(self, chunk: pa.Table) -> None:
        """Count the rows of ``chunk`` (a table of string columns, missing values null)."""
        self.rows += chunk.num_rows
        for name in self.missing:
            if name in chunk.column_names:
                self.missing[name] += chunk.column(name).null_count
        for name, pattern in self._patterns.items():
            if name in chunk.column_names:
                column = chunk.column(name)
                present = len(column) - column.null_count
                self.present[name] += present
                self.unmatched[name] += present - _matches(column, pattern)

    def result(self, checked: Mapping[str, Any]) -> dict[str, Any]:
        """``checked`` (one result of :func:`validate_table` on a sample) with its counts over
        every row; unchanged if these counts do not cover its check, or the check could not
        run on the sample (a column the table lacks)."""
        column, kind = checked.get("column"), checked.get("expectation")
        if checked.get("unexpected_count") is None:
            return dict(checked)
        if kind == _NOT_NULL and column in self.missing:
            bad, out_of = self.missing[column], self.rows
        elif kind == _MATCH and column in self.unmatched:
            bad, out_of = self.unmatched[column], self.present[column]
        else:
            return dict(checked)
        return {**checked, "success": bad == 0, "unexpected_count": bad,
                "unexpected_percent": bad / out_of * 100 if out_of else None}


def _matches(column: pa.ChunkedArray, pattern: str) -> int:
    """How many present values of ``column`` match ``pattern`` (anchored by _whole_value):
    by RE2 where it reads the pattern as Python does, else by Python's ``re``."""
    if not _UNICODE_CLASS.search(pattern):
        re2 = pattern.removesuffix(r"\Z") + r"\z"  # RE2 spells the end of the text \z
        try:
            return int(pc.sum(pc.match_substring_regex(column, re2)).as_py() or 0)
        except pa.ArrowInvalid:  # syntax RE2 lacks (lookarounds, backreferences)
            pass
    compiled = re.compile(pattern)
    return sum(1 for value in column.to_pylist()
               if value is not None and compiled.search(value) is not None)


def validate_table(df: pd.DataFrame, *, columns: list[str], not_null: Sequence[str] = (),
                   patterns: Mapping[str, str] = _NO_PATTERNS,
                   counts: ColumnCounts | None = None) -> QualityReport:
    """Check that ``df`` has exactly ``columns``, no missing values in ``not_null`` and that
    every value of each column in ``patterns`` matches its regular expression.

    With ``counts`` (:class:`ColumnCounts` over every row of the table ``df`` is a sample of,
    for the same ``not_null`` and ``patterns``), each column check reports those counts and
    ``checked_rows`` is every row: Great Expectations runs on the sample, the counts extend it.

    Patterns are Python ``re`` syntax without inline flags, matched against the whole value
    (as ``re.fullmatch``). ``\\d`` is Unicode-aware as in Python, so it accepts a full-width
    "１": write ``[0-9]`` where only ASCII digits may appear. Missing values are left to
    ``not_null``. A named column that ``df`` lacks fails its check.

    Validations run one at a time (Great Expectations keeps global state). Raises nothing for
    bad data (that is what the report is for); ValueError only for an invalid regular expression.
    """
    _check_patterns(patterns)
    gx = _gx()
    with _gx_lock:  # GX keeps its "current project" in a global; one validation at a time
        batch = _batch(gx, df)
        suite = gx.ExpectationSuite(name="govex-upload")
        for expectation in _expectations(gx, columns, not_null, patterns):
            suite.add_expectation(expectation)
        outcome = batch.validate(suite, result_format="SUMMARY")
    results = _in_suite_order([_result(r) for r in outcome.results], suite.expectations)
    if counts is not None:
        results = [counts.result(r) for r in results]
    return QualityReport(success=all(r["success"] for r in results),
                         checked_rows=len(df) if counts is None else counts.rows,
                         results=results)


def _in_suite_order(results: list[dict[str, Any]], expectations: list[Any]) -> list[dict]:
    """``results`` in the order the checks were declared (GX returns its own order)."""
    order = {(e.expectation_type, getattr(e, "column", None)): i
             for i, e in enumerate(expectations)}
    return sorted(results, key=lambda r: order.get((r["expectation"], r["column"]), len(order)))


def _whole_value(pattern: str) -> str:
    """``pattern`` as GX's ``str.contains`` must see it to act as ``re.fullmatch``.

    No ``(?a)`` flag: pandas hands inline flags to pyarrow's RE2, which rejects them.
    """
    return rf"\A(?:{pattern})\Z"


def _check_patterns(patterns: Mapping[str, str]) -> None:
    for column, pattern in patterns.items():
        try:
            re.compile(_whole_value(pattern))
        except re.error as exc:
            raise ValueError(f"invalid pattern for column {column!r}: {exc}") from exc


def _expectations(gx: Any, columns: list[str], not_null: Sequence[str],
                  patterns: Mapping[str, str]) -> list[Any]:
    found = gx.expectations
    checks = [found.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=True)]
    checks += [found.ExpectColumnValuesToNotBeNull(column=c) for c in dict.fromkeys(not_null)]
    checks += [found.ExpectColumnValuesToMatchRegex(column=c, regex=_whole_value(p))
               for c, p in patterns.items()]
    return checks


def _batch(gx: Any, df: pd.DataFrame) -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False,
                                                         metric_calculations=False)
    asset = context.data_sources.add_pandas(name="govex").add_dataframe_asset(name="upload")
    whole = asset.add_batch_definition_whole_dataframe("whole")
    return whole.get_batch(batch_parameters={"dataframe": df})


def _result(validation: Any) -> dict[str, Any]:
    config = validation.expectation_config
    counts = validation.result or {}
    raised = bool((validation.exception_info or {}).get("raised_exception"))
    return {"expectation": config.type, "column": config.kwargs.get("column"),
            "success": bool(validation.success) and not raised,
            "unexpected_count": counts.get("unexpected_count"),
            "unexpected_percent": counts.get("unexpected_percent")}


def _gx() -> Any:
    """Great Expectations, imported once, without analytics."""
    with _gx_lock:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
    return gx
