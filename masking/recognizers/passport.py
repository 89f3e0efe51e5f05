"""Chinese passport numbers: E/G/D/S/P + 8 digits, or E + letter + 7 digits."""

from __future__ import annotations

import regex as re

from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["PassportRecognizer"]


class PassportRecognizer(ChinesePatternRecognizer):
    """Detect passport numbers; the shape is weak, so context words raise the score."""

    ENTITY = "PASSPORT"
    QUICK = r"[EGDSP][A-Z0-9]\d{7}"
    PATTERNS = (
        ("cn_passport", r"(?<![0-9A-Za-z])(?:[EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7})(?![0-9A-Za-z])", 0.4),
    )
    CONTEXT = ("护照", "护照号", "passport")
    FLAGS = re.DOTALL | re.MULTILINE  # case-sensitive: passport numbers are upper case
