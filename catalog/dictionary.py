"""The data dictionary (信息项): each column's type and length, inferred from the rows read at
publication, and the directory's vocabularies (政务信息资源目录).

Files arrive as text (CSV) or typed (Parquet, XLSX). A text column is typed by what every
non-empty value of the sample parses as — whole numbers, decimals, dates, date-times — and a
column of digits that could be a code (a leading zero, or 11 digits and more: phone numbers,
ID numbers, credit codes) stays text, as the directory asks codes to be recorded. The length is
the longest value in characters (text) — what 信息项 "长度" records.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from . import regions

__all__ = ["infer_columns", "CATEGORIES", "THEMES", "SHARE_METHODS", "OPEN_TYPES",
           "UPDATE_FREQUENCIES", "TYPE_NAMES"]

#: 信息资源分类 (the guide's resource classes): 基础, 主题, 部门.
CATEGORIES = {"basic": "基础信息资源", "theme": "主题信息资源", "department": "部门信息资源"}
#: The guide's 主题 (theme) list.
THEMES = {
    "public_service": "公共服务", "health": "健康保障", "social_security": "社会保障",
    "food_drug_safety": "食品药品安全", "work_safety": "安全生产", "price_supervision": "价格监管",
    "energy_security": "能源安全", "credit": "信用体系", "urban_rural_construction": "城乡建设",
    "community_governance": "社区治理", "ecology_environment": "生态环保",
    "emergency": "应急维稳",
}
#: 共享方式.
SHARE_METHODS = {"interface": "接口", "table": "库表", "file": "文件"}
#: 开放属性.
OPEN_TYPES = {"none": "不予开放", "conditional": "有条件开放", "unconditional": "无条件开放"}
#: 更新周期.
UPDATE_FREQUENCIES = {
    "realtime": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月",
    "quarterly": "每季度", "semiannual": "每半年", "annual": "每年", "irregular": "不定期",
}
#: The types a column is recorded with (Arrow's names) and the directory's words for them.
TYPE_NAMES = {"string": "字符型", "int64": "整数型", "double": "数值型", "date32": "日期型",
              "timestamp": "日期时间型", "bool": "布尔型"}

_CODE_DIGITS = 11


def infer_columns(sample: pa.Table) -> list[dict[str, Any]]:
    """Each column of ``sample`` as ``{"name", "dtype", "length", "region"}`` (see the
    module; ``region``: its values are GB/T 2260 county codes, :mod:`catalog.regions`)."""
    return [{"name": str(name), **_column_type(sample.column(name)),
             "region": regions.is_region_column(sample.column(name))}
            for name in sample.column_names]


def _column_type(column: pa.ChunkedArray) -> dict[str, Any]:
    kind = column.type
    if pa.types.is_boolean(kind):
        return {"dtype": "bool", "length": None}
    if pa.types.is_integer(kind):
        return {"dtype": "int64", "length": None}
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return {"dtype": "double", "length": None}
    if pa.types.is_date(kind):
        return {"dtype": "date32", "length": None}
    if pa.types.is_timestamp(kind):
        return {"dtype": "timestamp", "length": None}
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    values = pc.drop_null(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text))
    longest = pc.max(pc.utf8_length(values)).as_py() if len(values) else None
    return {"dtype": _text_type(values), "length": longest}


def _text_type(values: pa.ChunkedArray) -> str:
    if len(values) == 0:
        return "string"
    if pc.all(pc.match_substring_regex(values, r"^[+-]?\d+$")).as_py():
        codes = pc.any(pc.or_(pc.match_substring_regex(values, r"^[+-]?0\d"),
                              pc.greater_equal(pc.utf8_length(values), _CODE_DIGITS))).as_py()
        return "string" if codes else "int64"
    if pc.all(pc.match_substring_regex(values, r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
              ).as_py():
        return "double"
    if pc.all(pc.match_substring_regex(values, r"^\d{4}-\d{2}-\d{2}$")).as_py():
        return "date32" if _parses(values, "%Y-%m-%d") else "string"
    if pc.all(pc.match_substring_regex(values, r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
              ).as_py():
        return "timestamp"
    return "string"


def _parses(values: pa.ChunkedArray, fmt: str) -> bool:
    try:
        parsed = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    if parsed.null_count:
        return False
    # strptime rolls 2026-02-30 over to March: a real date prints back as it was written
    return pc.all(pc.equal(pc.strftime(parsed, format=fmt), values)).as_py()
