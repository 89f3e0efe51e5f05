"""Where the administrative part of a Chinese address ends (down to the district or county)."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import regex as re

from masking.recognizers._base import HAN
from masking.recognizers._lexicon import ADDRESS_SUFFIXES

__all__ = ["admin_prefix", "admin_prefix_end", "admin_prefixes", "map_distinct"]

_SUFFIX = "|".join(sorted(ADDRESS_SUFFIXES, key=len, reverse=True))
_UNIT = re.compile(rf"\s*[{HAN}]{{1,7}}?({_SUFFIX})")
_COUNTY = frozenset({"区", "县", "旗"})
_ABOVE_COUNTY = frozenset({"特别行政区", "自治区", "省", "自治州", "市", "州", "盟", "地区"})


def admin_prefix(address: str) -> str:
    """The leading part of ``address`` down to its district/county (``四川省成都市锦江区``).

    Without a district or county, down to the city or province; "" when none leads the address.
    """
    return address[: admin_prefix_end(address)].strip()


def admin_prefix_end(address: str) -> int:
    """The index in ``address`` where :func:`admin_prefix` ends (0 when there is none)."""
    county = above = 0
    position = 0
    while (unit := _UNIT.match(address, position)) is not None:
        suffix = unit.group(1)
        if suffix in _COUNTY:
            county = unit.end()
        elif suffix in _ABOVE_COUNTY and not county:
            above = unit.end()
        else:
            break
        position = unit.end()
    return county or above


def map_distinct(strings: pa.Array, function: Callable[[str], str | None]) -> pa.Array:
    """Apply ``function`` once per distinct value of a string array; nulls stay null."""
    encoded = pc.dictionary_encode(strings)
    mapped = pa.array([function(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(mapped, encoded.indices)


def admin_prefixes(strings: pa.Array) -> pa.Array:
    """:func:`admin_prefix` of every value; nulls stay null."""
    return map_distinct(strings, admin_prefix)
