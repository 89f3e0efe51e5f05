"""Context enhancement by characters, not lemmas: Chinese needs no tokens to find 手机号 before a
number."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer

__all__ = ["WindowContextEnhancer"]


class WindowContextEnhancer(ContextAwareEnhancer):
    """Raise a result's score when one of its recognizer's context words is near it.

    "Near" means within ``prefix_chars`` characters before the span or ``suffix_chars`` after it,
    or in the explicit ``context`` passed to ``AnalyzerEngine.analyze`` (e.g. a column header).
    Results already marked as context-enhanced by their recognizer are left alone.
    """

    def __init__(
        self,
        *,
        boost: float = 0.35,
        min_score_with_context: float = 0.4,
        prefix_chars: int = 12,
        suffix_chars: int = 4,
    ) -> None:
        super().__init__(boost, min_score_with_context, prefix_chars, suffix_chars)
        self._words: dict[str, list[str]] = {}

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: object,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """Return the results with boosted scores where context words are found; never raises."""
        words = {r.id: self._context_of(r) for r in recognizers}
        explicit = [c.lower() for c in context or []]
        for result in raw_results:
            meta = result.recognition_metadata or {}
            if meta.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            own = words.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY), [])
            if own and self._has_context(text, result, own, explicit):
                self._boost(result)
        return raw_results

    def _context_of(self, recognizer: EntityRecognizer) -> list[str]:
        if recognizer.id not in self._words:
            self._words[recognizer.id] = [w.lower() for w in recognizer.context or []]
        return self._words[recognizer.id]

    def _has_context(
        self, text: str, result: RecognizerResult, own: list[str], explicit: list[str]
    ) -> bool:
        before = text[max(0, result.start - self.context_prefix_count) : result.start].lower()
        after = text[result.end : result.end + self.context_suffix_count].lower()
        near = any(w in before or w in after for w in own)
        return near or any(w in c for w in own for c in explicit)

    def _boost(self, result: RecognizerResult) -> None:
        score = result.score + self.context_similarity_factor
        result.score = min(max(score, self.min_score_with_context_similarity), self.MAX_SCORE)
        result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
