"""Where the administrative part of a Chinese address ends (down to the district or county),
and whether a whole value is an address."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import regex as re

from masking._words import ADDRESS_SUFFIXES, HAN, STREET_SUFFIXES_EN

__all__ = ["admin_prefix", "admin_prefix_end", "admin_prefix_ends", "admin_prefixes",
           "is_address_value", "map_distinct"]

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


# --- a whole value that is an address ---------------------------------------------------------

_STREET_SUFFIX = "|".join(sorted(ADDRESS_SUFFIXES + ("道", "大街", "段", "组", "屯", "庄"),
                                 key=len, reverse=True))
_NUMBER = r"(?:\d+|[A-Za-z]|[一二三四五六七八九十百零]+)(?:[-－]\d+)*"
_HOUSE = rf"{_NUMBER}(?:号院|号楼|号|弄|栋|幢|座|单元|楼|层|室|组|段|期|排|户)"
_RESIDENTIAL = r"小区|花园|公寓|苑|新村|家园|大厦|公馆|山庄|别墅"
# Named units (a name then suffixes, taken atomically: no exponential re-splitting), house
# numbers, bare numbers; spaces between; a postcode at the end.
_REST = re.compile(rf"(?:\s*(?:(?>[{HAN}]{{1,12}}?(?:{_STREET_SUFFIX})+)|(?>{_HOUSE})"
                   rf"|\d+(?:-\d+)*))+"
                   rf"(?:\s+\d{{6}})?\s*")
_PERSONAL = re.compile(rf"{_HOUSE}|{_RESIDENTIAL}")
_NAMED_UNIT = re.compile(rf"[{HAN}](?:{_STREET_SUFFIX})")
_NAME_SHAPED = re.compile(rf"[{HAN}]{{2,4}}|[{HAN}]{{1,3}}[·•][{HAN}]{{1,6}}")
#: Longer values are text that mentions an address, not an address.
ADDRESS_MAX_LENGTH = 80
# An English street address opens with a house number and a street whose name ends in a
# street suffix (``41144 Robert Glen, North Ann, PR 05470``), or with a box
# (``PSC 1234, Box 5678``).
_EN_HOUSE = re.compile(r"\s*(?:(?:Flat|Unit|Studio|Apt\.?|Suite)\s+\w+,?\s+)?"
                       r"\d+[A-Za-z]?(?:-\d+)?\s+"
                       r"(?P<street>[A-Za-z.' ]+)")
_EN_BOX = re.compile(r"\s*(?:PSC|Unit)\s+\d+,?\s+Box\s+\d+")


def is_address_value(value: str, *, lenient: bool) -> bool:
    """Whether all of ``value`` is a Chinese address: an administrative prefix (down to the
    district or county) and then named units (streets, 小区), buildings and house numbers
    (``浙江省兴安盟县门头沟乌鲁木齐街Q座``, ``成都市武侯区人民南路四段``), nothing else.

    Strict (``lenient`` False): it must reach a building, a house number or a residential
    compound (a home or work address, not a public place: ``锦江区春熙路`` is not one), and may
    then lack the administrative prefix (``春熙路123号``). Lenient (the column's header says
    it holds addresses): an administrative prefix and anything below it is enough. Neither
    takes a district alone, a name-shaped value, a company (``成都市锦华商贸有限公司``) or a
    sentence that starts with an address. In ASCII: a house number and a street named with a
    street suffix (``12 Main St, Springfield``), or a military box.
    """
    value = value.strip()
    if not value or len(value) > ADDRESS_MAX_LENGTH or _NAME_SHAPED.fullmatch(value):
        return False
    if value.isascii():
        return _is_english_address(value)
    prefix = admin_prefix_end(value)
    rest = value[prefix:]
    if not rest.strip() or not _REST.fullmatch(rest):
        return False
    if lenient and prefix:
        return bool(_NAMED_UNIT.search(rest) or _PERSONAL.search(rest))
    return bool(_PERSONAL.search(rest)) and bool(prefix or _NAMED_UNIT.search(rest))


def _is_english_address(value: str) -> bool:
    """A house number and a street (a home is personal whatever the header says): capitalised
    words, one of the first four a street suffix."""
    if _EN_BOX.match(value):
        return True
    house = _EN_HOUSE.match(value)
    for index, word in enumerate(house.group("street").split()[:4] if house else []):
        if not word[0].isupper():
            return False
        if index and word.upper().rstrip(".") in STREET_SUFFIXES_EN:
            return True
    return False
