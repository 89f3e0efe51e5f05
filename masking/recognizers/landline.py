"""Fixed-line numbers: 0 + area code (010, 02x, or 3 digits) + 7-8 local digits, optional
extension."""

from __future__ import annotations

from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["LandlineRecognizer"]

_AREA_AND_LOCAL = (
    r"(?:\(?0(?:10|2\d)\)?[\s-]{SEP}[2-8]\d{{7}}|\(?0[3-9]\d{{2}}\)?[\s-]{SEP}[2-8]\d{{6,7}})"
)


def _landline(separator: str) -> str:
    return r"(?<![\d+])" + _AREA_AND_LOCAL.format(SEP=separator) + r"(?:-\d{1,4})?(?!\d)"


class LandlineRecognizer(ChinesePatternRecognizer):
    """Detect landlines; without a separator after the area code the score needs context words."""

    ENTITY = "CN_LANDLINE"
    QUICK = r"0\d{2,3}\D?\d{7}"
    PATTERNS = (
        ("cn_landline_separated", _landline(""), 0.6),
        ("cn_landline_bare", _landline("?"), 0.3),
    )
    CONTEXT = ("电话", "座机", "固话", "联系电话", "办公电话", "传真", "tel", "phone")
