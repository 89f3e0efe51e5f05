"""Profiling rules that read a column's values together, after the analyzer has read them one
by one. No Presidio, no jieba: plain shapes and word lists.

- **Addresses**: a value that is an address as a whole (:func:`masking._address.is_address_value`)
  is LOCATION. Under a header that names addresses (住址, address) any value with an
  administrative prefix and streets below it counts; elsewhere only one that reaches a
  building, a house number or a residential compound, so that a column of public places
  (春熙路, 天府广场, 锦江区春熙路) stays as written.
- **Names**: where the analyzer already finds a name in at least
  :data:`NAME_SHARE_FOR_CONTEXT` of the values, the column is their context: every other
  value shaped like a name (:func:`masking._names.name_shaped`: a surname and given name in
  Chinese characters, or a Latin-script name with its given name or its surname on the
  lists) is a name too. A column of cities or job titles has almost no value the analyzer
  calls a name, so it gets no such context.

Only values the analyzer found no whole entity in are claimed, so a column the analyzer reads
as wholly one entity keeps that answer (what lets :mod:`masking._shortcut` skip the analyzer).
"""

from __future__ import annotations

from collections.abc import Sequence

from masking._address import is_address_value
from masking._names import name_shaped

__all__ = ["NAME_SHARE_FOR_CONTEXT", "claimed_entities"]

NAME_SHARE_FOR_CONTEXT = 0.3


def claimed_entities(values: Sequence[str], wholes: Sequence[str | None],
                     hint: str | None) -> list[str | None]:
    """Per value, the analyzer's whole entity (``wholes``), or the entity a column rule claims
    it as, or None. ``hint`` is the entity the column's header names."""
    lenient = hint == "LOCATION"
    out = [whole or ("LOCATION" if is_address_value(value, lenient=lenient) else None)
           for value, whole in zip(values, wholes)]
    if values and out.count("PERSON") / len(values) >= NAME_SHARE_FOR_CONTEXT:
        out = [entity or ("PERSON" if name_shaped(value) else None)
               for value, entity in zip(values, out)]
    return out
