"""Presidio recognizers for Chinese identifiers, names and addresses; one class per file.

Credit cards are reported as ``BANK_CARD`` (same Luhn rule); phone numbers other than mainland
mobiles and landlines are ``PHONE_NUMBER`` (North American, or written with a country code).
Chinese names and addresses: rules (jieba, context words) united with the LAC NER model
(:class:`ChineseNerRecognizer`). English person names are found after titles and context words
or led by a common given name, and a value that is nothing but a name in Latin script (English
or pinyin) is a name.
"""

from __future__ import annotations

from collections.abc import Sequence

from presidio_analyzer import EntityRecognizer

from masking.recognizers._context import WindowContextEnhancer
from masking.recognizers.bank_card import BankCardRecognizer
from masking.recognizers.chinese_ner import ChineseNerRecognizer
from masking.recognizers.email import EmailRecognizer
from masking.recognizers.english_name import EnglishNameRecognizer
from masking.recognizers.ip_address import IpAddressRecognizer
from masking.recognizers.landline import LandlineRecognizer
from masking.recognizers.latin_name import LatinNameRecognizer
from masking.recognizers.license_plate import LicensePlateRecognizer
from masking.recognizers.location import LocationRecognizer
from masking.recognizers.mobile import MobileRecognizer
from masking.recognizers.passport import PassportRecognizer
from masking.recognizers.person import PersonRecognizer
from masking.recognizers.phone import PhoneRecognizer
from masking.recognizers.resident_id import ResidentIdRecognizer
from masking.recognizers.uscc import UsccRecognizer

__all__ = [
    "PATTERN_RECOGNIZERS",
    "SEGMENTING_RECOGNIZERS",
    "ENTITIES",
    "default_recognizers",
    "WindowContextEnhancer",
    "BankCardRecognizer",
    "ChineseNerRecognizer",
    "EmailRecognizer",
    "EnglishNameRecognizer",
    "IpAddressRecognizer",
    "LatinNameRecognizer",
    "LandlineRecognizer",
    "LicensePlateRecognizer",
    "LocationRecognizer",
    "MobileRecognizer",
    "PassportRecognizer",
    "PersonRecognizer",
    "PhoneRecognizer",
    "ResidentIdRecognizer",
    "UsccRecognizer",
]

#: Regex + validation recognizers (and whole-value names), used for every language.
PATTERN_RECOGNIZERS: tuple[type[EntityRecognizer], ...] = (
    ResidentIdRecognizer,
    MobileRecognizer,
    LandlineRecognizer,
    UsccRecognizer,
    BankCardRecognizer,
    LicensePlateRecognizer,
    PassportRecognizer,
    EmailRecognizer,
    IpAddressRecognizer,
    EnglishNameRecognizer,
    LatinNameRecognizer,
    PhoneRecognizer,
)
#: Segmenting recognizers (jieba rules, the NER model), used for Chinese only.
SEGMENTING_RECOGNIZERS: tuple[type[EntityRecognizer], ...] = (
    PersonRecognizer, LocationRecognizer, ChineseNerRecognizer)

#: Every entity a recognizer reports (one ``ENTITY`` each, or several ``ENTITIES``), in order.
ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(
    entity for c in PATTERN_RECOGNIZERS + SEGMENTING_RECOGNIZERS
    for entity in getattr(c, "ENTITIES", None) or (c.ENTITY,)))


def default_recognizers(*, languages: Sequence[str] = ("zh", "en")) -> list[EntityRecognizer]:
    """New instances of every recognizer for each language ("zh" gets the jieba ones too).

    Raises ValueError for a language other than "zh" or "en".
    """
    unknown = set(languages) - {"zh", "en"}
    if unknown:
        raise ValueError(f"unsupported languages: {sorted(unknown)}")
    recognizers: list[EntityRecognizer] = []
    for language in languages:
        classes = PATTERN_RECOGNIZERS + (SEGMENTING_RECOGNIZERS if language == "zh" else ())
        recognizers += [cls(supported_language=language) for cls in classes]
    return recognizers
