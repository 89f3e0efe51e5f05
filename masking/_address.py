"""Where the administrative part of a Chinese address ends (down to the district or county)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import regex as re

from masking._words import ADDRESS_SUFFIXES, HAN

__all__ = ["admin_prefix", "admin_prefix_end", "admin_prefix_ends", "admin_prefixes", "map_distinct"]

_SUFFIX = "|".join(sorted(ADDRESS_SUFFIXES, key=len, reverse=True))
# A unit may end in several suffixes (雄州 + 大道): the last one says what the unit is.
_UNIT = re.compile(rf"\s*[{HAN}]{{1,7}}?(?:{_SUFFIX})*({_SUFFIX})")
_COUNTY = frozenset({"区", "县", "旗"})
_ABOVE_COUNTY = frozenset({"特别行政区", "自治区", "省", "自治州", "市", "州", "盟", "地区"})


def admin_prefix(address: str) -> str:
    """The leading part of ``address`` down to its district/county (``四川省成都市锦江区``).

    Without a district or county, down to the city or province; "" when none leads the address.
    """
    return address[: admin_prefix_end(address)].strip()


def admin_prefix_end(address: str) -> int:
    """The index in ``address`` where :func:`admin_prefix` ends (0 when there is none)."""
    return _prefix_end(address, cut=False)


def _prefix_end(address: str, *, cut: bool) -> int:
    """:func:`admin_prefix_end`; with ``cut`` (``address`` is only the head of a longer value)
    -1 when the cut might have changed the answer."""
    county = above = 0
    position = 0
    while (unit := _UNIT.match(address, position)) is not None:
        if cut and unit.start() + 1 + _LONGEST_SUFFIX > len(address):
            return -1  # a suffix starting in this unit (街 -> 街道) may run past the cut
        suffix = unit.group(1)
        if suffix in _COUNTY:
            county = unit.end()
        elif suffix in _ABOVE_COUNTY and not county:
            above = unit.end()
        else:
            break
        position = unit.end()
    else:
        if cut and (len(address) - position <= _LONGEST_UNIT or address[position:].isspace()):
            return -1  # the next unit may run past the cut
    return county or above


#: Administrative prefixes are short: compute them from this many leading characters, once per
#: distinct head (few: districts x streets), and from the whole value only when the cut matters.
_HEAD = 16
_LONGEST_SUFFIX = max(map(len, ADDRESS_SUFFIXES))
_LONGEST_UNIT = 7 + _LONGEST_SUFFIX


@functools.lru_cache(maxsize=1 << 17)
def _head_end(head: str) -> int:
    """:func:`_prefix_end` of a head (cached: the same heads recur from chunk to chunk)."""
    return _prefix_end(head, cut=len(head) == _HEAD)


def admin_prefix_ends(strings: pa.Array) -> pa.Array:
    """:func:`admin_prefix_end` of every value as int32 (0 for nulls), in bulk."""
    heads = pc.utf8_slice_codeunits(strings, 0, _HEAD)
    encoded = pc.dictionary_encode(heads)
    found = pa.array([_head_end(h) for h in encoded.dictionary.to_pylist()], pa.int32())
    ends = pc.fill_null(pc.take(found, encoded.indices), 0)
    unsure = pc.equal(ends, -1)
    if not pc.any(unsure).as_py():
        return ends
    whole = map_distinct(pc.if_else(unsure, strings, pa.scalar(None, pa.string())),
                         lambda v: str(admin_prefix_end(v)))
    return pc.if_else(unsure, pc.cast(whole, pa.int32()), ends)


def map_distinct(strings: pa.Array, function: Callable[[str], str | None]) -> pa.Array:
    """Apply ``function`` once per distinct value of a string array; nulls stay null."""
    encoded = pc.dictionary_encode(strings)
    mapped = pa.array([function(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(mapped, encoded.indices)


def admin_prefixes(strings: pa.Array) -> pa.Array:
    """:func:`admin_prefix` of every value; nulls stay null."""
    return map_distinct(strings, admin_prefix)
