"""Which text encodings a CSV file may be in, and how the exchange tells (private: the CSV
reader's rules, in :mod:`catalog._csv`).

The exchange reads UTF-8 (with or without a byte-order mark) and GBK/GB18030, and nothing else:

- UTF-8 when the whole file decodes as UTF-8;
- a UTF-8 byte-order mark promises UTF-8: a file that starts with one and then holds other bytes
  (GBK after the mark, as some tools write) is refused, not read as GBK;
- GB18030 (a superset of GBK and GB2312) when the file is not UTF-8 and was plain ASCII before
  the first byte that is not UTF-8: a file that is UTF-8 for a while and then is not (two
  exports joined) is refused;
- almost any bytes decode as GB18030, Big5 and Shift-JIS included, into garbled text. So a file
  read as GB18030 must also read as Chinese: of its characters beyond ASCII, few may be ones
  Chinese text does not use (kana, private-use code points, box drawing: what Big5 bytes
  become) and at most half may be Han characters outside GB2312's 6,763 common ones (what
  Shift-JIS kanji become). Simplified text stays near 0 % and 1 %, traditional Chinese written
  in GBK near 0 % and 35 %; Big5 text gives ~40 % of the first, Shift-JIS ~100 % of the second.
  Fewer than :data:`MIN_EVIDENCE` such characters are too few to tell and are read as GBK;
- control characters (NUL above all: a binary file, or UTF-16) are refused in any encoding.

Refusals begin with :data:`NOT_TEXT` and say which encodings are read; they name a line, never
what is on it.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from .errors import InvalidUpload

__all__ = ["NOT_TEXT", "ACCEPTED", "MIN_EVIDENCE", "NotUtf8", "ChineseSample", "decode",
           "refuse_utf16", "has_control", "count_lines"]

NOT_TEXT = "the file is not UTF-8 or GBK text"
ACCEPTED = "the exchange reads CSV in UTF-8 or GBK/GB18030: save the file in one of them"
#: Characters beyond ASCII needed before a file read as GB18030 can be judged garbled.
MIN_EVIDENCE = 16
#: How many characters beyond ASCII are looked at (the first ones of the file).
_SAMPLE = 65_536
_ODD_SHARE, _RARE_SHARE = 0.10, 0.50
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_TEXT_BYTES = bytes(b for b in range(256) if b in (9, 10, 13) or 32 <= b < 127 or b > 127)
#: What Chinese text holds beyond ASCII: Han characters (extension A, the unified block,
#: compatibility ideographs, the supplementary planes), CJK and full-width punctuation, general
#: punctuation, Latin-1 signs, letterlike symbols, number forms, arrows, enclosed numbers,
#: geometric shapes and other symbols (○ □ ★). Not kana, box drawing or private use.
_CHINESE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
                      "\u3000-\u303f\uff00-\uffef\u2000-\u206f\u00a0-\u00ff\u2100-\u22ff"
                      "\u2460-\u24ff\u25a0-\u26ff]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_BEYOND_ASCII = re.compile(r"[^\x00-\x7f]+")


class NotUtf8(Exception):
    """Internal: the file is not UTF-8 from ``line`` on (``ascii_before``: only ASCII before)."""

    def __init__(self, line: int, *, ascii_before: bool) -> None:
        super().__init__(line)
        self.line, self.ascii_before = line, ascii_before


def refuse_utf16(start: bytes) -> None:
    """Raises InvalidUpload when ``start`` (the first bytes) is a UTF-16 byte-order mark."""
    if start.startswith(_UTF16):
        raise InvalidUpload(f"{NOT_TEXT}: it is UTF-16 (as Excel's \"Unicode text\" saves); "
                            f"{ACCEPTED}")


def has_control(block: bytes) -> bool:
    """Whether ``block`` holds a control byte (one of :data:`catalog._readers.CONTROL`).

    A byte below 0x80 is the same ASCII character in UTF-8 and in GB18030, whose multi-byte
    sequences never use one, so raw bytes can be checked before decoding."""
    return bool(block.translate(None, _TEXT_BYTES))


def count_lines(text: bytes) -> int:
    """The line ends in ``text`` (LF, CRLF, or CR alone, as the csv module counts them)."""
    if b"\r" not in text:  # the usual file, and far quicker than counting CRLF
        return text.count(b"\n")
    return text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")


def decode(decoder: Any, block: bytes, *, final: bool, line: int, ascii_before: bool) -> str:
    """``block`` decoded by the incremental ``decoder``; ``line`` is the number of the line
    the block starts in. Raises NotUtf8 (UTF-8 decoders), InvalidUpload (GB18030)."""
    held = len(decoder.getstate()[0])  # bytes of a sequence the last block left unfinished
    try:
        return decoder.decode(block, final=final)
    except UnicodeDecodeError as exc:
        before = block[:max(exc.start - held, 0)]
        at = line + count_lines(before)  # line ends are ASCII bytes in both
        if exc.encoding.replace("-", "").startswith("utf8"):
            raise NotUtf8(at, ascii_before=ascii_before and before.isascii()) from None
    raise InvalidUpload(f"{NOT_TEXT}: line {at} holds a byte that is neither; {ACCEPTED}")


class ChineseSample:
    """The first characters beyond ASCII of a file read as GB18030, to judge whether they read
    as Chinese (see the module's rules)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0

    def add(self, text: str) -> None:
        """Take the characters beyond ASCII of ``text``, up to the sample's size."""
        if self._size >= _SAMPLE or text.isascii():
            return
        for run in _BEYOND_ASCII.findall(text):
            self._parts.append(run[:_SAMPLE - self._size])
            self._size += len(self._parts[-1])
            if self._size >= _SAMPLE:
                return

    def check(self) -> None:
        """Raises InvalidUpload when the sample reads as another encoding's bytes."""
        sample = "".join(self._parts)
        if len(sample) < MIN_EVIDENCE:
            return
        odd = len(sample) - len(_CHINESE.findall(sample))
        han = "".join(_HAN.findall(sample))
        rare = len(han) - len(han.encode("gb2312", "ignore")) // 2
        if odd > _ODD_SHARE * len(sample) or rare > _RARE_SHARE * len(sample):
            raise InvalidUpload(
                f"{NOT_TEXT}: read as GBK it is garbled ({odd + rare} of its first "
                f"{len(sample):,} characters beyond ASCII are ones Chinese text does not use); "
                f"is it Big5 or Shift-JIS? {ACCEPTED}")
