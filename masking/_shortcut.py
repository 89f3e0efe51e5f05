"""Profiling shortcut: a column settled by its header and its values' shapes and checksums.

Profiling asks the analyzer about each sampled value, then lets the column rules
(:mod:`masking._column_rules`) claim values the analyzer found no whole entity in; building
the analyzer imports Presidio (~1 s) and the name search loads jieba's dictionary (~0.6 s).
For a column whose header names an entity and whose every sampled value is, provably, that
entity over the whole value to the profile (the analyzer detects it as that entity, and as
nothing else that covers it whole with an equal or higher score; or a column rule claims it
and the analyzer can cover it whole with nothing else), the profile is known without asking:
every value is a whole match, so the column is an identifier of that entity with confidence
1.0 and ``matched == sampled``. Anything else (one value that fails, a header that says
nothing or something else) goes to the analyzer.

Why each rule gives exactly the analyzer's answer (the default analyzer: our recognizers, the
window context enhancer, threshold 0.5; ``tests/masking/test_shortcut.py`` checks the two agree):

- **CN_RESIDENT_ID**: 17 ASCII digits and a check character that GB 11643 validates (the
  recognizer's pattern matches the whole value; validation makes its score 1.0). Another whole
  match could only be a bank card (its validation rejects a valid resident ID) or a credit code
  (about one ID in 31 ending in X, one in 341 of digits only, also passes its validation): the
  two tie at 1.0, and results of equal score, start and length are ordered by entity name
  (Presidio's two stable sorts, which the batch path keeps), so CN_RESIDENT_ID comes first and
  is the one the profile counts.
- **CN_MOBILE**: ``1[3-9]`` and nine more ASCII digits: the mobile pattern's score is at least
  0.6; no other pattern matches eleven digits whole (cards take 16-19, IDs and credit codes 18,
  landlines start with 0, the rest need letters, dots or ``@``).
- **CN_USCC**: the credit-code shape and its validation (score 1.0), and no valid resident ID
  (which would tie and come first). A card pattern may also match 18 digits, but its score is
  at most 0.65 (Luhn leaves 18 digits at 0.3, plus a context boost); phone patterns cannot
  cover 18 characters, the rest need other characters.
- **PERSON**: two or three Chinese characters, a known surname first, no address suffix last,
  and a header holding one of the name recognizer's context words. The recognizer then always
  returns the whole value (a name jieba tags, or the bare shape, raised above the threshold by
  the header's context word) whatever jieba says, so jieba is not asked. Nothing else can cover
  such a value: patterns need ASCII, an address chain at least four characters or a suffix last.
  Or a Latin-script name that :func:`masking._names.latin_name_kind` reads at all (its given
  name or its surname on the lists, or pinyin), under the same header: the whole-value name
  recognizer scores it at least 0.4, and the header's context word (its context holds the
  Chinese one's) lifts that to 0.75. Nothing else covers letters, spaces and ``.,'-`` whole:
  every pattern needs a digit, ``@``, ``:`` or a Chinese character.
- **LOCATION**: the whole value is one address chain, it holds no address context word, is not
  name-shaped (2-4 Chinese characters), and jieba puts the chain's start at 0 (the batch path's
  own rule, :func:`masking._places.start_at_place`); the header holds an address context word,
  which lifts the score to at least 0.75. A chain is made of Chinese characters, digits and
  ``-`` only, which no pattern and no name search can cover whole. This one loads jieba's
  dictionary (not Presidio). Or, under any header that names addresses, a value the address
  column rule takes (:func:`masking._address.is_address_value`, lenient): the analyzer finds
  it wholly LOCATION or finds no whole entity in it, and then the rule claims it. Nothing
  else covers it whole: it is not name-shaped, patterns need ASCII runs that an address
  starting with Chinese characters does not consist of, and an English one (a house number,
  capitalised words) is neither a name's shape nor any pattern's. Neither Presidio nor jieba
  is loaded.

Every value the analyzer is asked about must also pass its prefilter
(:func:`masking.engine.may_contain_pii`): digits, a surname-led name, a Latin name's shape or
:data:`masking._words.ADDRESS_HINT` make sure of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from masking._address import is_address_value
from masking._names import latin_name_kind
from masking._words import (
    ADDRESS_HINT,
    ADDRESS_SUFFIXES,
    HAN,
    LOCATION_CONTEXT,
    PERSON_CONTEXT,
    surname_of,
)
from masking.checksums import is_credit_code, is_valid_resident_id

__all__ = ["settled_entity"]

_RESIDENT_ID = re.compile(r"[1-8][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
                          r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_USCC_CHAR = "0-9A-HJ-NPQRTUWXY"
_USCC = re.compile(rf"[{_USCC_CHAR}]{{2}}[0-9]{{6}}[{_USCC_CHAR}]{{10}}")
_SHORT_NAME = re.compile(rf"[{HAN}]{{2,3}}")
_NAME_SHAPED = re.compile(rf"[{HAN}]{{2,4}}")
_ADDRESS_HINT = re.compile(ADDRESS_HINT)


def _resident_id(value: str) -> bool:
    return bool(_RESIDENT_ID.fullmatch(value)) and is_valid_resident_id(value)


def _mobile(value: str) -> bool:
    return bool(_MOBILE.fullmatch(value))


def _credit_code(value: str) -> bool:
    return bool(_USCC.fullmatch(value)) and is_credit_code(value) \
        and not is_valid_resident_id(value)


def _name(value: str) -> bool:
    if bool(_SHORT_NAME.fullmatch(value)) and bool(surname_of(value)) \
            and not value.endswith(ADDRESS_SUFFIXES):
        return True
    return latin_name_kind(value) is not None


def _address(value: str) -> bool:
    from masking._places import CHAIN_STD, start_at_place  # jieba: loaded only for addresses

    chain = CHAIN_STD.match(value)
    if chain is None or chain.end() != len(value) or _NAME_SHAPED.fullmatch(value):
        return False
    if not _ADDRESS_HINT.search(value) or any(word in value.lower() for word in _LOCATION_WORDS):
        return False
    return start_at_place(value, 0, len(value)) == 0


_PERSON_WORDS = tuple(w.lower() for w in PERSON_CONTEXT)
_LOCATION_WORDS = tuple(w.lower() for w in LOCATION_CONTEXT)

#: entity -> (the test every value must pass, context words the header must hold, if any)
_RULES: dict[str, tuple[Callable[[str], bool], tuple[str, ...]]] = {
    "CN_RESIDENT_ID": (_resident_id, ()),
    "CN_MOBILE": (_mobile, ()),
    "CN_USCC": (_credit_code, ()),
    "PERSON": (_name, _PERSON_WORDS),
    "LOCATION": (_address, _LOCATION_WORDS),
}
#: entity -> a test that settles a value under any header naming the entity: a column rule
#: claims it (tried first: it loads nothing)
_COLUMN_RULES: dict[str, Callable[[str], bool]] = {
    "LOCATION": lambda value: is_address_value(value, lenient=True),
}


def settled_entity(header: str, hint: str | None, sample: Sequence[str]) -> str | None:
    """The entity the profile (the default analyzer, then the column rules) finds over the
    whole of every value of ``sample`` (stripped, non-empty; the column's header is
    ``header``, which names ``hint``), when that can be shown without the analyzer; None when
    the analyzer must decide."""
    rule = _RULES.get(hint or "")
    if rule is None or not sample:
        return None
    test, header_words = rule
    column_rule = _COLUMN_RULES.get(hint or "")
    if header_words and not any(word in header.lower() for word in header_words):
        if column_rule is None:
            return None
        test = column_rule
    elif column_rule is not None:
        test = _either(column_rule, test)
    return hint if all(test(value) for value in sample) else None


def _either(first: Callable[[str], bool], second: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda value: first(value) or second(value)
