"""Bank card numbers: 16-19 digits (optionally in groups of 4) passing the Luhn check.

Credit cards are bank cards here: there is no separate CREDIT_CARD entity. 16 and 19 digits
(nearly all UnionPay cards) match on Luhn alone; 17 and 18 digits are rarer and one in ten
random numbers passes Luhn, so those need a context word (卡号 银行卡 …) as well.
"""

from __future__ import annotations

import regex as re

from masking.checksums import is_valid_luhn, is_valid_resident_id
from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["BankCardRecognizer"]

_SEPARATORS = re.compile(r"[\s-]")
_TIMESTAMP = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
                        r"(?:[01]\d|2[0-3])[0-5]\d")


class BankCardRecognizer(ChinesePatternRecognizer):
    """Detect card numbers; a Luhn failure, a valid resident ID or a timestamp is not a card."""

    ENTITY = "BANK_CARD"
    QUICK = r"\d{4}"
    PATTERNS = (
        ("bank_card_plain", r"(?<![\d.])[1-9](?:\d{15}|\d{18})(?![\d.])", 0.5),
        ("bank_card_uncommon_length", r"(?<![\d.])[1-9]\d{16,17}(?![\d.])", 0.3),
        ("bank_card_grouped",
         r"(?<![\d.])[1-9]\d{3}(?:[\s-]\d{4}){3}(?:[\s-]?\d{1,3})?(?![\d.])", 0.5),
    )
    CONTEXT = ("银行卡", "卡号", "账号", "银行账户", "信用卡", "储蓄卡", "card", "account")

    def validate_result(self, pattern_text: str) -> bool | None:
        """False unless the digits pass Luhn and are neither a resident ID nor a timestamp;
        None (keep the pattern's low score) for a 17- or 18-digit number."""
        digits = _SEPARATORS.sub("", pattern_text)
        if is_valid_resident_id(digits) or _TIMESTAMP.match(digits):
            return False
        if not (16 <= len(digits) <= 19 and is_valid_luhn(digits)):
            return False
        return True if len(digits) in (16, 19) else None
