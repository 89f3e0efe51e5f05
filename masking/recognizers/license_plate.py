"""Vehicle licence plates: province character + letter + 5 (6 for new energy) alphanumerics."""

from __future__ import annotations

from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["LicensePlateRecognizer", "PROVINCE_CHARS"]

PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_A = "A-HJ-NP-Z0-9"


class LicensePlateRecognizer(ChinesePatternRecognizer):
    """Detect plates; a plate body without any digit (e.g. an English word) is not a plate."""

    ENTITY = "CN_LICENSE_PLATE"
    QUICK = f"[{PROVINCE_CHARS}][A-Za-z]"
    PATTERNS = (
        (
            "cn_plate",
            rf"[{PROVINCE_CHARS}][A-HJ-NP-Z][·•\s]?(?:[DF][{_A}]{{5}}|[{_A}]{{5}}[DF]?|[{_A}]{{4}}[挂学警])"
            r"(?![0-9A-Za-z])",
            0.6,
        ),
    )
    CONTEXT = ("车牌", "车牌号", "号牌", "车辆", "机动车", "plate")

    def invalidate_result(self, pattern_text: str) -> bool:
        """True (not a plate) when the body after the province and letter has no digit."""
        return not any(ch.isdigit() for ch in pattern_text[2:])
