"""IPv4 and IPv6 addresses, validated with :mod:`ipaddress`."""

from __future__ import annotations

import ipaddress

from presidio_analyzer.predefined_recognizers import IpRecognizer as _PresidioIp

from masking.recognizers._base import ChinesePatternRecognizer

__all__ = ["IpAddressRecognizer"]

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Presidio's IPv6 pattern, with its Unicode ``\w`` guards made ASCII (Chinese may touch it).
_IPV6 = (
    next(p.regex for p in _PresidioIp.PATTERNS if p.name == "IPv6")
    .replace(r"(?<![\w:])", r"(?<![0-9A-Za-z:])")
    .replace(r"(?![\w:]|\.\d)", r"(?![0-9A-Za-z:]|\.\d)")
)


class IpAddressRecognizer(ChinesePatternRecognizer):
    """Detect IP addresses next to Chinese text (Presidio's own pattern relies on ``\\b``)."""

    ENTITY = "IP_ADDRESS"
    #: IPv4 has digit.digit; every IPv6 form has two colons with at most one group between
    #: them (``::``, ``a:b:…``), which a time of day (``7:30``) has not.
    QUICK = r"\d\.\d|:[0-9A-Fa-f]{0,4}:"
    PATTERNS = (
        ("ipv4", rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\.?\d)", 0.5),
        ("ipv6", _IPV6, 0.5),
    )
    CONTEXT = ("ip", "ip地址", "地址", "登录", "访问", "ipv4", "ipv6")

    def invalidate_result(self, pattern_text: str) -> bool:
        """True (not an address) when :func:`ipaddress.ip_interface` rejects the text.

        A valid shape keeps its modest score (version numbers look alike); context words raise it.
        """
        try:
            ipaddress.ip_interface(pattern_text)
        except ValueError:
            return True
        return False
