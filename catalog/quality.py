"""Quality checks of an uploaded table with Great Expectations 1.x, on the in-memory DataFrame.

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

__all__ = ["QualityReport", "validate_table"]

_NO_PATTERNS: Mapping[str, str] = MappingProxyType({})
_RESULT_KEYS = ("expectation", "column", "success", "unexpected_count", "unexpected_percent")
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


def validate_table(df: pd.DataFrame, *, columns: list[str], not_null: Sequence[str] = (),
                   patterns: Mapping[str, str] = _NO_PATTERNS) -> QualityReport:
    """Check that ``df`` has exactly ``columns``, no missing values in ``not_null`` and that
    every value of each column in ``patterns`` matches its regular expression.

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
    return QualityReport(success=all(r["success"] for r in results), checked_rows=len(df),
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
