"""Phone numbers other than mainland China's: North American numbers, and any number written
with its country code (``+44 20 7946 0958``, ``0033 1 23 45 67 89``), checked by
``phonenumbers`` (Google's libphonenumber metadata, as Presidio's own phone recognizer uses).

Mainland mobiles and landlines keep their own recognizers: a ``+86``/``0086`` mobile written
as :class:`MobileRecognizer` reads it is left to it, and nothing here starts with a national
``0``. Only text with a phone's shape reaches ``phonenumbers`` (slow: ~50 µs a number):

- North American, formatted: ``(639) 950-0538``, ``639-950-0538``, ``639.950.0538``, with
  ``+1``/``001``/``1`` before and an extension (``x123``) after. Area code and exchange start
  with 2-9. A valid number scores 0.85; one that only has the shape (an unassigned area code)
  0.55: the shape is the evidence, as no order number or amount is written so.
- North American, ten digits and nothing else (``6399500538``): 0.3, so only a context word
  (``phone``, ``tel``, ``call``, ``电话``) raises it; an order number stays, and so do ten
  digits that open with a date (``2026031812``, a work order numbered by day).
- International: ``+`` or ``00``, a country code, digit groups. The longest run of groups
  that is a valid number scores 0.85 with a ``+``; with ``00`` 0.55, or 0.3 when no
  separator shows it is a phone number; else the longest possible one 0.4 (context needed).
"""

from __future__ import annotations

from typing import ClassVar

import phonenumbers
import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

__all__ = ["PhoneRecognizer"]

_START = r"(?<![0-9A-Za-z+])"
_END = r"(?![0-9])"
_EXTENSION = r"(?:\s?(?:x|ext\.?|#)\s?\d{1,6})?"
_NANP = (rf"{_START}(?:(?:\+1|001)[ .\-]?|1[ .\-])?(?:\([2-9]\d{{2}}\)[ .\-]?|[2-9]\d{{2}}[ .\-])"
         rf"[2-9]\d{{2}}[ .\-]\d{{4}}{_EXTENSION}{_END}")
_NANP_PREFIXED = rf"{_START}(?:\+1|001)[2-9]\d{{2}}[2-9]\d{{6}}{_EXTENSION}{_END}"
_DIGITS = rf"{_START}[2-9]\d{{2}}[2-9]\d{{6}}{_END}"
_INTERNATIONAL = rf"{_START}(?:\+|00)\s?[2-9]\d{{0,2}}(?:[ .\-]?\(?\d{{1,5}}\)?){{1,7}}{_END}"
#: A +86/0086 mobile as MobileRecognizer matches it: that one's, not ours.
_CN_MOBILE = re.compile(r"(?:\+|00)86[\s-]?1[3-9]\d(?:[\s-]?\d{4}){2}")
_GROUP_END = re.compile(r"\d(?=\D|$)")
#: Digits that open with a date, YYYYMMDD (1900-2099).
_DATED = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


class PhoneRecognizer(EntityRecognizer):
    """Detect North American and international phone numbers (see the module docstring)."""

    ENTITY: ClassVar[str] = "PHONE_NUMBER"
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "phone", "tel", "telephone", "mobile", "cell", "call", "fax", "contact", "电话", "手机",
        "联系方式", "回拨", "致电",
    )
    SCORE_VALID: ClassVar[float] = 0.85
    SCORE_SHAPED: ClassVar[float] = 0.55
    SCORE_POSSIBLE: ClassVar[float] = 0.4
    SCORE_DIGITS_ONLY: ClassVar[float] = 0.3
    #: Every match holds one of these (the analyzer's prefilter and the batch path's trigger).
    QUICK: ClassVar[str] = r"\d{3}\)?[ .\-]?\d{3}[ .\-]\d{4}|\+\s?\d|00\d|\d{10}"

    def __init__(self, *, supported_language: str = "zh") -> None:
        super().__init__(supported_entities=[self.ENTITY],
                         name=f"{type(self).__name__}_{supported_language}",
                         supported_language=supported_language, context=list(self.CONTEXT))
        self._quick = re.compile(self.QUICK)
        self._searches = ((re.compile(_NANP, re.IGNORECASE), self._north_american),
                          (re.compile(_NANP_PREFIXED, re.IGNORECASE), self._north_american),
                          (re.compile(_DIGITS), self._digits_only),
                          (re.compile(_INTERNATIONAL), self._international))

    def load(self) -> None:
        """Nothing to load: phonenumbers reads its metadata on first use."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """PHONE_NUMBER results, at most one per place; never raises on ordinary text."""
        if not self._quick.search(text):
            return []
        found: list[RecognizerResult] = []
        taken: list[tuple[int, int]] = []
        for pattern, judge in self._searches:
            for match in pattern.finditer(text):
                if any(match.start() < end and start < match.end() for start, end in taken):
                    continue
                hit = judge(match.group(), match.start())
                if hit:
                    found.append(self._result(*hit))
                    taken.append(hit[:2])
        return found

    def _north_american(self, raw: str, start: int) -> tuple[int, int, float]:
        number = _parsed(raw.replace("001", "+1", 1) if raw.startswith("001") else raw, "US")
        valid = number is not None and phonenumbers.is_valid_number(number)
        return start, start + len(raw), self.SCORE_VALID if valid else self.SCORE_SHAPED

    def _digits_only(self, raw: str, start: int) -> tuple[int, int, float] | None:
        """Ten bare digits: a phone only with a context word; never when they open with a date
        (``2026031812``: work orders are numbered by day, and ``电话`` is in every ticket)."""
        if _DATED.match(raw):
            return None
        return start, start + len(raw), self.SCORE_DIGITS_ONLY

    def _international(self, raw: str, start: int) -> tuple[int, int, float] | None:
        """The longest leading run of digit groups that is a valid number, else the longest
        possible one; None for a +86 mobile (MobileRecognizer's) or nothing possible."""
        written = "+" + raw[2:] if raw.startswith("00") else raw
        offset = len(raw) - len(written)
        possible = None
        for end in reversed([m.end() for m in _GROUP_END.finditer(written)]):
            if sum(c.isdigit() for c in written[:end]) < 8:
                break
            number = _parsed(written[:end], "ZZ")
            if number is None or not phonenumbers.is_possible_number(number):
                continue
            if _CN_MOBILE.fullmatch(raw[: end + offset]) and number.country_code == 86:
                return None
            if phonenumbers.is_valid_number(number):
                return start, start + end + offset, self._valid_score(raw[: end + offset])
            possible = possible or (start, start + end + offset, self.SCORE_POSSIBLE)
        return possible

    def _valid_score(self, raw: str) -> float:
        """``+`` and a valid number: sure; ``00`` needs separators too (0049301234567 may be
        an order number), else a context word."""
        if raw.startswith("+"):
            return self.SCORE_VALID
        return self.SCORE_SHAPED if re.search(r"[ .\-()]", raw) else self.SCORE_DIGITS_ONLY

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY, start=start, end=end, score=score,
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                  RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: False})


def _parsed(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
