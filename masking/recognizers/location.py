"""Chinese addresses: chains of address units (省 市 区 县 路 街 号 小区 …), trimmed with
jieba ``ns``.

A candidate is a chain of units ending in address suffixes, optionally followed by a house number.
Its start is fixed by a context word (住址 家住 …) inside or just before it, else by jieba: leading
words that are neither place names (``ns``) nor end in an address suffix are dropped.

Only someone's address is personal: a chain with a house number (``春熙路123号``, ``2栋``) or
after a residence word. A public place (a road, a district, ``成都市锦江区春熙路``) scores
:attr:`LocationRecognizer.SCORE_PUBLIC_PLACE`, below the analyzer's threshold, and stays as
written: the city dispatches 12345 tickets by it.
"""

from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from masking._places import CHAIN as _CHAIN
from masking._places import UNIT as _UNIT
from masking._places import has_house_number, residence_pattern
from masking._words import LOCATION_CONTEXT
from masking.recognizers._lexicon import ADDRESS_SUFFIXES, ADMIN_SUFFIXES, iter_tags

__all__ = ["LocationRecognizer"]


class LocationRecognizer(EntityRecognizer):
    """Detect street addresses and place chains in Chinese text."""

    ENTITY: ClassVar[str] = "LOCATION"
    CONTEXT: ClassVar[tuple[str, ...]] = LOCATION_CONTEXT
    SCORE_CONTEXT: ClassVar[float] = 0.85
    SCORE_CHAIN: ClassVar[float] = 0.7
    SCORE_SINGLE_UNIT: ClassVar[float] = 0.4
    SCORE_PUBLIC_PLACE: ClassVar[float] = 0.35
    _BAD_START = frozenset(ADMIN_SUFFIXES) | {"路", "街", "号", "小区"}

    def __init__(self, *, supported_language: str = "zh") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=f"{type(self).__name__}_{supported_language}",
            supported_language=supported_language,
            context=list(self.CONTEXT),
        )
        self._context_re = re.compile(residence_pattern(self.CONTEXT), re.IGNORECASE)

    def load(self) -> None:
        """Nothing to load: jieba initialises itself on first use."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """Return LOCATION results; never raises on ordinary text."""
        results = []
        for match in _CHAIN.finditer(text):
            result = self._candidate(text, match.start(), match.end())
            if result:
                results.append(result)
        return results

    def _candidate(self, text: str, start: int, end: int) -> RecognizerResult | None:
        start, has_context = self._start_after_context(text, start, end)
        if not has_context:
            start = self._start_at_place(text, start, end)
        if start >= end:
            return None
        return self._result(start, end, self.score_of(text, start, end, has_context),
                            enhanced=has_context)

    def score_of(self, text: str, start: int, end: int, has_context: bool) -> float:
        """The score of the chain ``text[start:end]``: a residence word before it, else a house
        number in it, else a public place; 0 for one character (the 路 of 位于路径)."""
        if end - start < 2:
            return 0.0
        if has_context:
            return self.SCORE_CONTEXT
        if not has_house_number(text, start, end):
            return self.SCORE_PUBLIC_PLACE
        units = len(_UNIT.findall(text, start, end))
        return self.SCORE_CHAIN if units >= 2 else self.SCORE_SINGLE_UNIT

    def _start_after_context(self, text: str, start: int, end: int) -> tuple[int, bool]:
        hits = [
            m.end()
            for m in self._context_re.finditer(text, max(0, start - 8), end)
            if start - 1 <= m.end() < end
        ]
        return (max(start, hits[-1]), True) if hits else (start, False)

    def _start_at_place(self, text: str, start: int, end: int) -> int:
        """Drop leading words that are no place (刘宁反映四川省… starts at 四川省). A chain that
        starts the text or follows a non-Han character keeps its start if no word is a place."""
        at_edge = start == 0 or not ("\u4e00" <= text[start - 1] <= "\u9fff")
        offset = start
        for word, flag in iter_tags(text[start:end]):
            if flag.startswith("ns") or (len(word) >= 2 and word.endswith(ADDRESS_SUFFIXES)):
                return offset
            offset += len(word)
        return start if at_edge else end

    def _result(self, start: int, end: int, score: float, *, enhanced: bool) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: enhanced,
            },
        )
