"""Resident identity card number (GB 11643): 17 digits + check character, real birth date."""

from __future__ import annotations

from masking.checksums import is_valid_resident_id
from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["ResidentIdRecognizer"]


class ResidentIdRecognizer(ChinesePatternRecognizer):
    """Detect 18-character resident IDs, also written in groups (6-8-4, 6-4-4-4); only
    those passing GB 11643 validation match."""

    ENTITY = "CN_RESIDENT_ID"
    QUICK = r"\d{6}[ \-]?\d{4}"  # a necessary part of every pattern below
    PATTERNS = (
        (
            "resident_id",
            r"(?<![0-9A-Za-z])[1-8]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
            r"(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])",
            0.5,
        ),
        (
            # written in groups: 110101 19900307 4514, 110101-1990-0307-4514
            "resident_id_grouped",
            r"(?<![0-9A-Za-z])[1-8]\d{5}[ \-](?:18|19|20)\d{2}[ \-]?(?:0[1-9]|1[0-2])"
            r"(?:0[1-9]|[12]\d|3[01])[ \-]\d{3}[0-9Xx](?![0-9A-Za-z])",
            0.5,
        ),
    )
    CONTEXT = ("身份证", "身份证号", "证件号", "公民身份号码", "居民身份证", "id card", "id no")

    def validate_result(self, pattern_text: str) -> bool:
        """True only for a valid check character, area prefix and a real, past birth date."""
        return is_valid_resident_id(pattern_text.replace(" ", "").replace("-", ""))
