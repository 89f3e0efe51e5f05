"""Address chains and where one starts: the part of address detection that needs no Presidio.

A chain is a run of address units (``四川省`` ``成都市`` … ``春熙路``) and house numbers
(``123号`` ``2栋``). Where it starts is decided by jieba: at the first word that is a place
name (tagged ``ns``) or ends in an address suffix; only the chain's first named unit is
segmented, or its named part when that unit holds no place word (see :mod:`masking._finders`).
The location recognizer, the batch path and the profiling shortcut all use these.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import regex

from masking._jieba import cut, tag_of
from masking._words import ADDRESS_SUFFIXES, HAN

__all__ = ["CHAIN", "UNIT", "CHAIN_STD", "UNIT_STD", "HOUSE_NUMBER", "has_house_number",
           "named_head", "place_offset", "residence_pattern", "start_at_place", "std_compile"]

_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE


def std_compile(pattern: str, flags: int = 0) -> Any:
    """``pattern`` compiled by stdlib ``re`` (the flag bits are the same as ``regex``'s), or by
    ``regex`` when stdlib ``re`` cannot read it."""
    try:
        return re.compile(pattern, flags & _FLAGS)
    except re.error:
        return regex.compile(pattern, flags)


_NUM = r"(?:\d+|[一二三四五六七八九十百零]+)"
_UNIT_SUFFIX = "|".join(sorted(ADDRESS_SUFFIXES, key=len, reverse=True))
#: What follows a house, building, unit or room number (longest first where one holds another).
_HOUSE_UNITS = ("号院", "号楼", "号", "弄", "栋", "幢", "座", "单元", "楼", "层", "室", "组")
# a chain's number may also be a road section (人民南路四段)
_HOUSE = rf"(?:{_NUM}(?:-{_NUM})?(?:{'|'.join(_HOUSE_UNITS)}|段)(?:之{_NUM})?)"
# Named units, then house numbers; no named unit after a number ("12号附近路灯" stops at 号).
# A unit may end in two suffixes (简州 + 大道, 人民 + 路 + 街): the lazy name must not stop early.
CHAIN = regex.compile(rf"(?:[{HAN}]{{1,6}}?(?:{_UNIT_SUFFIX})+)+{_HOUSE}*")
UNIT = regex.compile(rf"[{HAN}]{{1,6}}?(?:{_UNIT_SUFFIX})+|{_HOUSE}")
#: The same, compiled by stdlib ``re`` where it can (faster on short windows).
CHAIN_STD = std_compile(CHAIN.pattern)
UNIT_STD = std_compile(UNIT.pattern)

#: A house number, building, unit or room (``123号``, ``2栋``, ``Q座``, ``3单元``): what makes a
#: chain of places someone's address. A road section (``四段``) is not one.
HOUSE_NUMBER = (r"(?:[0-9０-９]+|[一二三四五六七八九十百零〇两]+|[A-Za-zＡ-Ｚ])"
                rf"(?:[-－][0-9０-９]+)?(?:{'|'.join(_HOUSE_UNITS)}|户)")
_HOUSE_NUMBER = re.compile(HOUSE_NUMBER)


def residence_pattern(words: Sequence[str]) -> str:
    """The regex of a residence word (住址, 家住 …, from ``words``) and what may stand between
    it and the address: a colon or spaces, 是/为/在."""
    alternatives = "|".join(sorted(map(regex.escape, words), key=len, reverse=True))
    return rf"(?:{alternatives})[:：\s]{{0,2}}(?:是|为|在)?"


def has_house_number(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` holds a house number (:data:`HOUSE_NUMBER`)."""
    return _HOUSE_NUMBER.search(text, start, end) is not None


_DIGIT = re.compile(r"\d")


def named_head(text: str, start: int, end: int) -> str:
    """The chain up to its first digit: the named units, without house numbers."""
    digit = _DIGIT.search(text, start, end)
    return text[start : digit.start() if digit else end]


@functools.lru_cache(maxsize=1 << 16)
def place_offset(head: str) -> int | None:
    """Where in ``head`` the first place word starts (``LocationRecognizer._start_at_place``'s
    test: 2+ characters ending in an address suffix, or tagged ``ns``); None if there is none.
    The tag is looked up only for a word the suffix does not settle (same answer: the test is
    an ``or`` of two pure conditions), so a chain opening with ``四川省`` needs no tag table."""
    offset = 0
    for word in cut(head):
        if (len(word) >= 2 and word.endswith(ADDRESS_SUFFIXES)) or tag_of(word).startswith("ns"):
            return offset
        offset += len(word)
    return None


def start_at_place(text: str, start: int, end: int) -> int:
    """Where the chain ``text[start:end]`` starts once leading words that are no place are
    dropped (刘宁反映四川省… starts at 四川省). A chain at the text's start or after a non-Han
    character keeps its start if no word is a place; another one is dropped (returns ``end``)."""
    at_edge = start == 0 or not ("\u4e00" <= text[start - 1] <= "\u9fff")
    head = named_head(text, start, end)
    first = UNIT_STD.match(head)  # the first named unit: 张伟反映四川省 of 张伟反映四川省成都市…
    offset = place_offset(head[: first.end()]) if first else None
    if offset is None and (first is None or first.end() < len(head)):
        offset = place_offset(head)
    if offset is None:
        return start if at_edge else end
    return start + offset
