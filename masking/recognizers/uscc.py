"""Unified social credit code (GB 32100): 18 characters with a mod-31 check character."""

from __future__ import annotations

from masking.checksums import is_credit_code
from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["UsccRecognizer"]

_C = "0-9A-HJ-NPQRTUWXY"


class UsccRecognizer(ChinesePatternRecognizer):
    """Detect credit codes; only those whose GB 32100 check character is right match."""

    ENTITY = "CN_USCC"
    QUICK = r"\d{6}"
    PATTERNS = (
        ("cn_uscc", rf"(?<![0-9A-Za-z])[{_C}]{{2}}\d{{6}}[{_C}]{{10}}(?![0-9A-Za-z])", 0.4),
    )
    CONTEXT = ("统一社会信用代码", "信用代码", "社会信用", "营业执照", "credit code", "uscc")

    def validate_result(self, pattern_text: str) -> bool:
        """True only when the GB 32100 check character matches (upper case as issued); a code of
        digits only must also hold a valid GB 11714 organization code (characters 9-17), so
        that one 18-digit number in 31 (an ID with a wrong check digit, an order number) is
        not taken for a credit code."""
        return is_credit_code(pattern_text)
