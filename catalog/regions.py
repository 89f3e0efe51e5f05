"""GB/T 2260 region codes (行政区划代码): which codes are in use, what they name, and which
column of a table holds them.

The list is python-stdnum's ``cn/loc`` (the one it checks resident ID numbers' birth places
with): each six-digit code with its province and county, and for codes no longer in use the
years they were (``[1983-1990]``). A code is *in use* when the list knows it with no end
year. GB/T 2260 stops at the county: a district's code is the finest there is.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["region_name", "is_county", "contains", "is_region_column", "REGION_SHARE"]

_CODE = re.compile(r"[1-9][0-9]{5}")
_RANGE = re.compile(r"^\[(\d{4})?-(\d{4})?\]")
#: A column is a region column when at least this share of its distinct values (and of its
#: filled cells) are county-level codes in use.
REGION_SHARE = 0.95


@functools.cache
def _list() -> Any:
    from stdnum import numdb

    return numdb.get("cn/loc")


@functools.lru_cache(maxsize=8192)
def region_name(code: str) -> str | None:
    """The place a code in use names (``四川省 锦江区``; a province alone, ``四川省``), or
    None: not six digits, unknown, or no longer in use."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return None
    found = _list().info(code)
    if len(found) != 2 or not found[1][1]:
        return None
    province = found[0][1].get("province", "")
    county = found[1][1].get("county", "")
    period = _RANGE.match(county)
    if period and period.group(2):  # [1983-1990]: no longer in use
        return None
    place = _RANGE.sub("", county)
    return place if place == province else f"{province} {place}"


def is_county(code: str) -> bool:
    """Whether ``code`` is a county-level code in use (a district, a county: not ending in
    ``00``)."""
    return not code.endswith("00") and region_name(code) is not None


def contains(outer: str | None, inner: str | None) -> bool:
    """Whether region ``outer`` contains region ``inner`` (or is it); no ``outer`` region
    contains every region, no ``inner`` one is in none."""
    if outer is None:
        return True
    if inner is None:
        return False
    prefix = outer
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return inner.startswith(prefix)


def is_region_column(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether a column's values are county-level region codes (at least
    :data:`REGION_SHARE` of its distinct values and of its filled cells; one at least)."""
    text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
    counts = pc.value_counts(pc.drop_null(text))
    values = counts.field("values").to_pylist()
    cells = counts.field("counts").to_pylist()
    if not values or len(values) > 10_000:  # a register has a few hundred counties at most
        return False
    hits = [is_county(v.strip()) if isinstance(v, str) else False for v in values]
    distinct = sum(hits) / len(values)
    filled = sum(n for n, hit in zip(cells, hits, strict=True) if hit) / sum(cells)
    return distinct >= REGION_SHARE and filled >= REGION_SHARE
