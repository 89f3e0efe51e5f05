"""A value that is nothing but a person's name in Latin script: English or Hanyu Pinyin.

``Douglas King``, ``KING, Douglas``, ``Dr. Rachel A. Becker``, ``Zhang Wei``, ``WANG Fang``,
``Wang, Fang``: a cell of a name column, or a free-text cell that holds only a name. The
decision is :func:`masking._names.latin_name_kind` (US Census 1990 name lists, pinyin
syllables): both names on the lists, or pinyin, is a name; only one of them needs a context
word (a header such as ``name`` or ``Complainant``) to pass the threshold. Names inside
longer text are :class:`~masking.recognizers.EnglishNameRecognizer`'s.
"""

from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from masking._names import KNOWN, PARTIAL, SHAPE, latin_name_kind
from masking._words import PERSON_CONTEXT

__all__ = ["LatinNameRecognizer"]


class LatinNameRecognizer(EntityRecognizer):
    """Detect a whole value that is an English or pinyin person name."""

    ENTITY: ClassVar[str] = "PERSON"
    CONTEXT: ClassVar[tuple[str, ...]] = PERSON_CONTEXT + (
        "caller", "complainant", "applicant", "citizen", "resident", "contact", "customer",
        "patient", "reporter", "requester", "handler", "staff", "owner", "person", "signed",
    )
    SCORE_KNOWN: ClassVar[float] = 0.7
    #: Only the given name or only the surname is on the lists: a context word must raise it.
    SCORE_PARTIAL: ClassVar[float] = 0.4
    #: What a value must look like to be read at all (cheap, case-sensitive).
    SHAPE: ClassVar[str] = SHAPE

    def __init__(self, *, supported_language: str = "en") -> None:
        super().__init__(supported_entities=[self.ENTITY],
                         name=f"{type(self).__name__}_{supported_language}",
                         supported_language=supported_language, context=list(self.CONTEXT))
        self._shape = re.compile(self.SHAPE)

    def load(self) -> None:
        """Nothing to load: the name lists are read on first use."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """One PERSON result over the whole (stripped) value, or none; never raises."""
        if not self._shape.match(text):
            return []
        stripped = text.strip()
        score = {KNOWN: self.SCORE_KNOWN, PARTIAL: self.SCORE_PARTIAL}.get(
            latin_name_kind(stripped) or "")
        if score is None:
            return []
        start = text.index(stripped)
        return [RecognizerResult(
            entity_type=self.ENTITY, start=start, end=start + len(stripped), score=score,
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                  RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: False})]
