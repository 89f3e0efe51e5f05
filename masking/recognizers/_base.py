"""Shared base of the Chinese pattern recognizers: patterns, context and flags as class
attributes."""

from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from masking._words import HAN

__all__ = ["ChinesePatternRecognizer", "HAN"]


class ChinesePatternRecognizer(PatternRecognizer):
    """A :class:`PatternRecognizer` declared by class attributes.

    Subclasses set ``ENTITY``, ``PATTERNS`` (name, regex, score) and ``CONTEXT``, and override
    ``validate_result`` (False drops the match: a failed checksum is not a match) or
    ``invalidate_result``.
    """

    ENTITY: ClassVar[str]
    #: A cheap regex every match must contain; texts without it skip the patterns entirely.
    QUICK: ClassVar[str | None] = None
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]]
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    FLAGS: ClassVar[int] = re.DOTALL | re.MULTILINE | re.IGNORECASE

    def __init__(self, *, supported_language: str = "zh") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=f"{type(self).__name__}_{supported_language}",
            supported_language=supported_language,
            patterns=[Pattern(name, regex, score) for name, regex, score in self.PATTERNS],
            context=list(self.CONTEXT),
            global_regex_flags=self.FLAGS,
        )
        self._quick = re.compile(self.QUICK, re.IGNORECASE) if self.QUICK else None

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None):
        """Presidio's pattern analysis, skipped when the :attr:`QUICK` prefilter finds nothing."""
        if self._quick is not None and not self._quick.search(text):
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)
