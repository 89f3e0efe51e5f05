"""``mask``: Chinese display masking per entity type (Hutool ``DesensitizedUtil`` style).

=================  ==================  ==========================================
entity             default kept        example
=================  ==================  ==========================================
CN_MOBILE          first 3, last 4     ``138****5678`` (separators, +86 removed)
CN_LANDLINE        first 4, last 2     ``028-******56``
CN_RESIDENT_ID     first 6, last 4     ``110105********002X`` (at most 6 and 4)
PERSON             first 1 of a word   ``张**``, ``欧阳**`` (a compound surname), ``D****** K***``
PHONE_NUMBER       last 4 digits       ``+44 ** **** 0958`` (country code, format kept)
BANK_CARD          last 4              ``***************0123``
CN_LICENSE_PLATE   first 3, last 1     ``川A1***5``
PASSPORT           first 2, last 2     ``E1*****78``
CN_USCC            first 6, last 2     ``915101**********3X``
EMAIL_ADDRESS      first 1 of local    ``z*******@example.com``
IP_ADDRESS         first two octets    ``192.168.*.*`` (others: first 4)
LOCATION           down to district    ``四川省成都市锦江区******``
other / None       first 1, last 1     ``a***z``
=================  ==================  ==========================================

``params``: ``keep_first``, ``keep_last`` (ints), ``char`` (one character). A value too short
to hide a character is masked entirely. A name written in words (``Douglas King``, ``Zhang
Wei``) keeps the initial of each word, as a Chinese name keeps its surname: ``D****** K***``
and ``张*`` show about as much. A phone number keeps its country code when written with one
(``+1``, ``0044``) and, after it, ``keep_first`` leading and ``keep_last`` trailing digits;
separators and brackets stay, so the masked number still reads as one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from masking._columns import Column, like, to_strings
from masking._words import COMPOUND_SURNAMES
from masking.operators._kernels import mask_digits, mask_ends, mask_location, mask_words, strip
from masking.operators.base import MaskContext, Operator, char_param, int_param

__all__ = ["CONVENTIONS", "MaskConvention", "MaskOperator", "mask_strings"]


@dataclass(frozen=True)
class MaskConvention:
    """Kept lengths of an entity's display mask, and the most a plan may ask to keep."""

    keep_first: int
    keep_last: int
    max_first: int | None = None
    max_last: int | None = None
    strip: str | None = None  # RE2 pattern removed before masking (separators, prefixes)


CONVENTIONS: dict[str, MaskConvention] = {
    "CN_MOBILE": MaskConvention(3, 4, strip=r"^(?:\+|00)86|[\s-]"),
    "CN_LANDLINE": MaskConvention(4, 2),
    "CN_RESIDENT_ID": MaskConvention(6, 4, max_first=6, max_last=4, strip=r"\s"),
    "PERSON": MaskConvention(1, 0),
    "BANK_CARD": MaskConvention(0, 4, strip=r"[\s-]"),
    "CN_LICENSE_PLATE": MaskConvention(3, 1, strip=r"[·•\s]"),
    "PASSPORT": MaskConvention(2, 2),
    "CN_USCC": MaskConvention(6, 2),
    "EMAIL_ADDRESS": MaskConvention(1, 0),
    "IP_ADDRESS": MaskConvention(4, 0),
    "LOCATION": MaskConvention(0, 0),
    "BIRTH_DATE": MaskConvention(4, 0),  # the year stays, like generalize's default
    "PHONE_NUMBER": MaskConvention(0, 4),
}
DEFAULT_CONVENTION = MaskConvention(1, 1)


class MaskOperator(Operator):
    """Mask every value with the display convention of ``entity``."""

    name = "mask"
    PARAMS = frozenset({"keep_first", "keep_last", "char"})

    def apply(
        self, values: Column, *, entity: str | None, params: Mapping[str, Any], context: MaskContext
    ) -> Column:
        """Return the masked column.

        Raises InvalidMaskingPlan for unknown params, negative lengths or lengths above the
        entity's maximum (a resident ID keeps at most the first 6 and last 4).
        """
        self.check_params(params)
        return like(values, mask_strings(to_strings(values), entity, params))


def mask_strings(strings: pa.Array, entity: str | None, params: Mapping[str, Any]) -> pa.Array:
    """Mask a string array by the convention of ``entity``; raises InvalidMaskingPlan like apply."""
    convention = CONVENTIONS.get(entity or "", DEFAULT_CONVENTION)
    first = int_param(params, "keep_first", convention.keep_first, maximum=convention.max_first)
    last = int_param(params, "keep_last", convention.keep_last, maximum=convention.max_last)
    char = char_param(params)
    if convention.strip:
        strings = strip(strings, convention.strip)
    special = _SPECIAL.get(entity or "")
    if special:
        return special(strings, first, last, char)
    return mask_ends(strings, first, last, char)


def _person(strings: pa.Array, first: int, last: int, char: str) -> pa.Array:
    """Keep the surname: ``first`` characters, two for a compound surname (``欧阳**``) when
    the convention keeps one; a name written in Latin words keeps that of each word."""
    masked = mask_words(strings, first, last, char)
    if first != 1:
        return masked
    compound = pc.match_substring_regex(strings, _COMPOUND_NAME)
    if not pc.any(compound).as_py():
        return masked
    return pc.if_else(compound, mask_ends(strings, 2, last, char, keep_spaces=True), masked)


#: A compound surname and at least one more Chinese character.
_COMPOUND_NAME = "^(?:" + "|".join(sorted(COMPOUND_SURNAMES)) + ")[\u4e00-\u9fff]"


def _phone(strings: pa.Array, first: int, last: int, char: str) -> pa.Array:
    """Keep the country code (after ``+`` or ``00``) and the kept digits."""
    return mask_digits(strings, first, last, char, keep=_country_code())


@functools.cache
def _country_code() -> str:
    """An RE2 pattern of a leading ``+``/``00`` and a country code (ITU codes are prefix-free:
    the first that matches is the one)."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE  # only masks of phone numbers need it

    codes = "|".join(sorted(map(str, COUNTRY_CODE_TO_REGION_CODE), key=len, reverse=True))
    return rf"\s*(?:\+|00)\s*(?:{codes})"


def _email(strings: pa.Array, first: int, last: int, char: str) -> pa.Array:
    parts = pc.extract_regex(strings, r"^(?P<local>[^@]+)(?P<domain>@.+)$")
    local = mask_ends(pc.struct_field(parts, "local"), first, last, char)
    joined = pc.binary_join_element_wise(local, pc.struct_field(parts, "domain"), "")
    return pc.if_else(pc.is_valid(parts), joined, mask_ends(strings, 1, 1, char))


def _ip(strings: pa.Array, first: int, last: int, char: str) -> pa.Array:
    ipv4 = r"^(\d{1,3}\.\d{1,3})\.\d{1,3}\.\d{1,3}$"
    star = char.replace("\\", "\\\\")
    masked_v4 = pc.replace_substring_regex(strings, ipv4, rf"\1.{star}.{star}")
    is_v4 = pc.match_substring_regex(strings, ipv4)
    return pc.if_else(is_v4, masked_v4, mask_ends(strings, first, last, char))


def _location(strings: pa.Array, first: int, last: int, char: str) -> pa.Array:
    """Keep down to the district (at least ``first`` characters)."""
    return mask_location(strings, first, char)


_SPECIAL = {"PERSON": _person, "EMAIL_ADDRESS": _email, "IP_ADDRESS": _ip, "LOCATION": _location,
            "PHONE_NUMBER": _phone}
