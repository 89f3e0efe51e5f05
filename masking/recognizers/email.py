"""E-mail addresses, with the domain's public suffix checked against tldextract's bundled
snapshot."""

from __future__ import annotations

import functools

import tldextract

from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["EmailRecognizer"]

_LOCAL = r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"


@functools.cache
def _offline_extractor() -> tldextract.TLDExtract:
    """A suffix extractor that never fetches the public suffix list and never writes a cache."""
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


class EmailRecognizer(ChinesePatternRecognizer):
    """Detect ASCII e-mail addresses (Chinese text around them is not taken into the local part)."""

    ENTITY = "EMAIL_ADDRESS"
    QUICK = r"@"
    PATTERNS = (
        ("email", rf"(?<![A-Za-z0-9._%+\-]){_LOCAL}@{_LABEL}(?:\.{_LABEL})+(?![A-Za-z0-9\-])", 0.5),
    )
    CONTEXT = ("邮箱", "电子邮件", "电邮", "email", "e-mail", "mail")

    def validate_result(self, pattern_text: str) -> bool:
        """True when the domain ends in a known public suffix (offline snapshot); the domain
        may be a suffix itself (``someone@gov.cn``)."""
        parts = _offline_extractor()(pattern_text.rsplit("@", 1)[1])
        return bool(parts.suffix)
