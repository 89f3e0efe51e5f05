"""Mainland mobile numbers: 1[3-9] + 9 digits, optional +86/0086, optional 3-4-4 split."""

from __future__ import annotations

from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["MobileRecognizer"]


class MobileRecognizer(ChinesePatternRecognizer):
    """Detect mobile numbers; digits glued to the number, or an amount unit after it, prevent a
    match."""

    ENTITY = "CN_MOBILE"
    QUICK = r"1[3-9]\d"
    PATTERNS = (
        (
            "cn_mobile",
            r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}"
            r"(?!\d)(?!\.\d)(?!\s*(?:元|万|亿|块))",
            0.6,
        ),
    )
    CONTEXT = ("手机", "手机号", "电话", "联系电话", "联系方式", "号码", "mobile", "phone", "tel")
