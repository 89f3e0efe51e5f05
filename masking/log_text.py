"""Text that the audit log keeps forever (a request's purpose): scrubbed harder than a delivery.

>>> loggable_text("核查张伟的记录，电话13812345678，password=hunter2")  # doctest: +SKIP
'核查张*的记录，电话138****5678，password=*******'
"""

from __future__ import annotations

import re
from typing import Any

from masking.text import scrub_texts, star_name_like_words

__all__ = ["loggable_text"]


def loggable_text(text: str, *, analyzer: Any = None) -> str:
    """``text`` as the audit log may hold it forever. Full-width letters and digits are folded
    first (``ｚｈａｎｇ＠ｑｑ．ｃｏｍ`` is an e-mail address); then every detected
    identifier, name or address is masked (as ``scrub`` masks free text); every word that may be
    a name is starred even with no context word around it (``核查张伟的记录`` ->
    ``核查张*的记录``; a place named like a person, ``王府井``, is starred too: the log's copy
    errs that way), and so is a name in pinyin (``Zhang Wei``); long numbers are starred
    whatever their checksum or grouping — seven digits or more in one run, or ten or more
    written in groups with spaces, dashes, dots, slashes, underscores or brackets
    (``510104.1985.0101.1232``, ``(138)1234-5678``) — and so are seven or more Chinese numerals
    in a row (``一三八一二三四五六七八``). A date (``2026-11-01``, eight digits) and an amount
    stay. Anything that looks like a credential
    is starred first: an API token (``gvx_…``), a bearer or basic credential, the value after
    ``password=``, ``token:``, ``密码：``, ``初始密码123456``, ``验证码为834921`` and the like (a
    quoted value whole), and a long random-looking run of letters and digits.

    ``analyzer`` is the Presidio analyzer to detect with (the default offline one if None).
    Raises OSError if the NER model cannot be read."""
    folded = _CREDENTIALS.sub(_star_credential, text.translate(_FULL_WIDTH).strip())
    scrubbed = scrub_texts([folded], analyzer=analyzer)[0] or ""
    starred = _NUMBER.sub(_star_long_number, star_name_like_words(scrubbed))
    starred = _CHINESE_NUMERALS.sub(lambda m: "*" * len(m.group()), starred)
    return _LATIN_WORDS.sub(_star_pinyin_name, starred)


#: Full-width letters, digits and the marks of addresses and numbers (＠．－＿／), folded to
#: ASCII for the log's copy; Chinese punctuation (，：（）) is left as written.
_FULL_WIDTH = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                        *range(0xFF41, 0xFF5B), 0xFF20, 0xFF0E, 0xFF0D, 0xFF3F,
                                        0xFF0F]}
_NUMBER = re.compile(r"[0-9](?:[ \t\-‐—./_()]{0,2}[0-9])*[Xx]?")
_CHINESE_NUMERALS = re.compile(r"[零〇一二三四五六七八九幺两]{7,}")
_LATIN_WORDS = re.compile(r"\b[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)+\b")
#: One or two pinyin syllables (tones left out): what a romanised Chinese name is made of.
_PINYIN = re.compile(r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
                     r"(?:iang|iong|uang|ang|eng|ing|ong|uai|uan|ian|iao|van|ai|ei|ao|ou|an|en"
                     r"|in|un|ia|ie|iu|ua|uo|ue|ve|ui|er|a|o|e|i|u|v)){1,2}")


def _star_pinyin_name(match: re.Match[str]) -> str:
    """In a run of capitalised words, star two or more pinyin words in a row, keeping each
    one's initial: ``Check Zhang Wei`` -> ``Check Z**** W**``; ``Civil Affairs`` stays."""
    parts = re.split(r"([ \-])", match.group())
    words = parts[::2]
    pinyin = [bool(_PINYIN.fullmatch(w.lower())) for w in words]
    for i, word in enumerate(words):
        if pinyin[i] and ((i > 0 and pinyin[i - 1]) or (i + 1 < len(words) and pinyin[i + 1])):
            parts[2 * i] = word[0] + "*" * (len(word) - 1)
    return "".join(parts)


def _star_long_number(match: re.Match[str]) -> str:
    value = match.group()
    digits = sum(c.isdigit() for c in value)
    grouped = any(not (c.isdigit() or c in "Xx") for c in value)
    if digits >= 10 or (digits >= 7 and not grouped):
        return "".join("*" if c.isdigit() or c in "Xx" else c for c in value)
    return value


#: What looks like a credential: an API token, a bearer token, a secret after its name, a long
#: random run of letters and digits (both kinds, 24+ characters).
_CREDENTIALS = re.compile(
    r"(?P<token>\bgvx_[A-Za-z0-9_\-]{8,})"
    r"|(?P<bearer>\bBearer\s+)(?P<bearer_value>[A-Za-z0-9._~+/\-]+=*)"
    r"|(?P<basic>\bBasic\s+)(?P<basic_value>[A-Za-z0-9+/]{8,}=*)"
    r"|(?P<name>\b(?:password|passwd|pwd|pass|secret|token|api[_-]?key|access[_-]?key)\b"
    r"|密码|口令|令牌|密钥|验证码|校验码|动态码)"
    r"(?P<sep>\s*[=:：]\s*[\"'“‘]?|\s*(?:是|为)\s*[\"'“‘]?|\s+|(?=[0-9A-Za-z]))"
    r"(?P<value>[^\s，,。；;\"'”’]+(?:\s[^\s，,。；;\"'”’]+)?(?=[\"'”’])|[^\s，,。；;\"'”’]+)"
    r"|(?P<random>\b(?=[A-Za-z0-9_\-]*[0-9])(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{24,}\b)",
    re.IGNORECASE,
)


def _star_credential(match: re.Match[str]) -> str:
    if match.group("token"):
        return "gvx_" + "*" * (len(match.group("token")) - 4)
    if match.group("bearer"):
        return match.group("bearer") + "*" * len(match.group("bearer_value"))
    if match.group("basic"):
        return match.group("basic") + "*" * len(match.group("basic_value"))
    if match.group("name"):
        return match.group("name") + match.group("sep") + "*" * len(match.group("value"))
    return "*" * len(match.group("random"))
