"""The sharing rules: sharing type, classification level, minimum necessary columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import InvalidRequest
from .models import DatasetFacts

__all__ = ["SHARING_TYPES", "LEVELS", "initial_status", "check_columns", "resolve_masking",
           "approvals_needed", "check_expiry", "DEFAULT_EXPIRY_DAYS", "MAX_EXPIRY_DAYS",
           "version_fits", "check_rows", "MAX_ROW_VALUES", "MAX_ROW_COLUMNS"]

SHARING_TYPES = {
    "unconditional": "无条件共享",
    "conditional": "有条件共享",
    "none": "不予共享",
}
LEVELS = ("L1", "L2", "L3", "L4")
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365


def initial_status(facts: DatasetFacts) -> str:
    """The status a new request starts in: granted, refused or pending. L4 data is never
    granted without its two stewards, whatever its sharing type says."""
    if facts.sharing == "unconditional" and approvals_needed(facts.level) > 1:
        return "pending"
    return {"unconditional": "granted", "none": "refused"}.get(facts.sharing, "pending")


#: A grant's row scope names at most this many columns, each with at most this many values.
MAX_ROW_COLUMNS = 4
MAX_ROW_VALUES = 1000
_MAX_VALUE_CHARS = 200


def check_rows(rows: Any, facts: DatasetFacts) -> dict[str, list[str]] | None:
    """A grant's row scope, ``{column: [value, ...]}``: a row is delivered when, for every
    column named, its value (as text) is one of those values. None or ``{}``: every row.

    A scope is written in the audit entry and the receipt of every delivery, so it may name
    only columns that hold no personal data (a region code, a district, a type; never a
    resident's ID number).

    Raises InvalidRequest: not an object of lists of text, a column the dataset does not
    have or that holds personal data, too many columns or values.
    """
    if rows is None or rows == {}:
        return None
    if not isinstance(rows, Mapping) or not all(
            isinstance(values, list) and values and all(
                isinstance(v, str) and v.strip() and len(v) <= _MAX_VALUE_CHARS
                for v in values) for values in rows.values()):
        raise InvalidRequest("rows is an object: each column a list of values (text)",
                             code="rows_malformed", field="rows")
    if len(rows) > MAX_ROW_COLUMNS or any(len(v) > MAX_ROW_VALUES for v in rows.values()):
        raise InvalidRequest(f"rows names at most {MAX_ROW_COLUMNS} columns, each with at most "
                             f"{MAX_ROW_VALUES} values", code="rows_too_many", field="rows",
                             columns=MAX_ROW_COLUMNS, values=MAX_ROW_VALUES)
    unknown = [c for c in rows if c not in facts.columns]
    if unknown:
        raise InvalidRequest(f"unknown column(s): {', '.join(unknown)}",
                             code="rows_column_unknown", field="rows", columns=unknown)
    personal = [c for c in rows if c in facts.personal_columns - facts.public_columns]
    if personal:
        raise InvalidRequest(f"rows cannot be chosen by a column of personal data: "
                             f"{', '.join(personal)}", code="rows_column_personal",
                             field="rows", columns=personal)
    return {column: sorted({v.strip() for v in values})
            for column, values in sorted(rows.items())}


def approvals_needed(level: str) -> int:
    """L4 data needs two distinct stewards; everything else one."""
    return 2 if level == "L4" else 1


def check_columns(requested: Iterable[str], facts: DatasetFacts) -> list[str]:
    """Return the requested columns in dataset order.

    Raises InvalidRequest for an empty list, duplicates or a column the dataset does not have.
    """
    wanted = list(requested)
    if not wanted:
        raise InvalidRequest("name at least one column (minimum necessary)",
                             code="columns_required", field="columns")
    if len(set(wanted)) != len(wanted):
        raise InvalidRequest("a column is named twice", code="column_twice", field="columns")
    unknown = [c for c in wanted if c not in facts.columns]
    if unknown:
        raise InvalidRequest(f"unknown column(s): {', '.join(unknown)}",
                             code="columns_unknown", field="columns", columns=unknown)
    return [c for c in facts.columns if c in wanted]


def resolve_masking(columns: list[str], *, defaults: Mapping[str, str],
                    explicit: Mapping[str, str], facts: DatasetFacts) -> dict[str, str]:
    """The operator for each granted column: the steward's explicit choice, else the default.

    At L3 and above a personal column leaves unmasked (``keep``) only when the steward named
    ``keep`` for it explicitly; a default never keeps a personal column there. A column
    public by law (``facts.public_columns``, 依法公示) is kept by default at every level.
    Raises InvalidRequest for operators on columns outside the grant.
    """
    outside = [c for c in explicit if c not in columns]
    if outside:
        raise InvalidRequest(f"masking names column(s) outside the grant: {', '.join(outside)}",
                             code="masking_outside_grant", field="masking", columns=outside)
    plan = {c: explicit.get(c, "keep" if c in facts.public_columns
                            else defaults.get(c, "keep")) for c in columns}
    if facts.level in ("L3", "L4"):
        for col in (facts.personal_columns - facts.public_columns) & set(columns):
            if plan[col] == "keep" and explicit.get(col) != "keep":
                plan[col] = "mask"
    return plan


MODES = ("file", "query")
MAX_KEY_COLUMNS = 3
DEFAULT_DAILY_LIMIT = 1000
MAX_DAILY_LIMIT = 1_000_000


def check_mode(mode: Any) -> str:
    """``file`` (the default: the table delivered) or ``query`` (接口). Raises
    InvalidRequest."""
    if mode is None:
        return "file"
    if mode not in MODES:
        raise InvalidRequest("mode must be file or query", code="mode_unknown", field="mode")
    return str(mode)


def check_key_columns(key_columns: Any, facts: DatasetFacts) -> list[str]:
    """A query request's key columns: 1 to 3 columns of the dataset, in dataset order.
    Raises InvalidRequest."""
    if not isinstance(key_columns, list) or not key_columns or not all(
            isinstance(c, str) for c in key_columns) or len(key_columns) > MAX_KEY_COLUMNS:
        raise InvalidRequest(f"name 1 to {MAX_KEY_COLUMNS} key columns to look up by",
                             code="key_columns_required", field="key_columns",
                             max=MAX_KEY_COLUMNS)
    unknown = [c for c in key_columns if c not in facts.columns]
    if unknown:
        raise InvalidRequest(f"unknown key column(s): {', '.join(unknown)}",
                             code="columns_unknown", field="key_columns", columns=unknown)
    return [c for c in facts.columns if c in key_columns]


def check_daily_limit(limit: Any) -> int:
    """A query grant's calls a day: 1 to 1,000,000 (default 1,000). Raises InvalidRequest."""
    if limit is None:
        return DEFAULT_DAILY_LIMIT
    if type(limit) is not int or not 1 <= limit <= MAX_DAILY_LIMIT:
        raise InvalidRequest(f"daily_limit must be a whole number from 1 to {MAX_DAILY_LIMIT}",
                             code="daily_limit_range", field="daily_limit",
                             max=MAX_DAILY_LIMIT)
    return limit


def check_expiry(days: int | None) -> int:
    """Validate the grant's lifetime in days. Raises InvalidRequest outside 1..365."""
    if days is None:
        return DEFAULT_EXPIRY_DAYS
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXPIRY_DAYS:
        raise InvalidRequest(f"expires_in_days must be a whole number from 1 to {MAX_EXPIRY_DAYS}",
                             code="expiry_range", field="expires_in_days",
                             max=MAX_EXPIRY_DAYS)
    return days


def version_fits(columns: Sequence[str], masking: Mapping[str, str],
                 approved: Sequence[Mapping[str, Any]],
                 newer: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a grant of ``columns`` masked by ``masking``, decided on a version whose columns
    (``{"name", "profile"}`` each) were ``approved``, may deliver a ``newer`` version: every
    delivered column is still there and holds no personal data it did not hold then (the same
    kind and entity, or none at all) — what the steward's masking was decided for. A dropped
    column delivers nothing and always fits."""
    before = {c["name"]: _personal(c) for c in approved}
    after = {c["name"]: _personal(c) for c in newer}
    for column in columns:
        if masking.get(column) == "drop":
            continue
        if column not in after:
            return False
        if after[column] is not None and after[column] != before.get(column):
            return False
    return True


def _personal(column: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """What personal data a column holds as profiled: ``(kind, entity)``, or None."""
    profile = column.get("profile") or {}
    kind = profile.get("kind") or "none"
    return None if kind == "none" else (kind, profile.get("entity"))
