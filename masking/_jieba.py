"""jieba for the name and address searches: setup, segmentation, dictionary tags.

The tags come from jieba's own dictionary file, read once on first use exactly as
``jieba.posseg`` reads it (``word freq tag`` per line), without importing ``jieba.posseg``,
whose HMM tagging model (~0.3 s to import) we never use. Nothing here is loaded before a
search needs it: importing this module costs only jieba's import.
"""

from __future__ import annotations

import functools
import logging
import marshal
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import jieba

__all__ = ["UNKNOWN", "configure_jieba", "cut", "frequency_of", "iter_tags", "load_dictionary",
           "pos_tag", "tag_of", "word_tags"]

#: Flag of a word jieba's HMM found but its dictionary lacks (mostly names).
UNKNOWN = "oov"

_lock = threading.Lock()


def configure_jieba(cache_dir: Path | None) -> None:
    """Point jieba's dictionary cache at ``cache_dir`` (created if missing) and quiet its log.

    With ``cache_dir`` None jieba keeps its own default (the system temp folder).
    Raises OSError if the directory cannot be created.
    """
    jieba.setLogLevel(logging.WARNING)
    if cache_dir is None:
        return
    directory = Path(cache_dir) / "jieba"
    directory.mkdir(parents=True, exist_ok=True)
    with _lock:
        jieba.dt.tmp_dir = str(directory)


def load_dictionary() -> None:
    """Load jieba's prefix dictionary (what ``jieba.initialize`` does) if not yet loaded.

    jieba reads its cache file with ``marshal.load`` on the open file, which pulls the 9 MB in
    hundreds of thousands of small reads (~0.6 s); ``marshal.loads`` of the whole file gives
    the same objects in ~0.2 s. Same file, same rule for trusting it as jieba's (its default
    dictionary's cache in its cache folder); anything else (a custom dictionary or cache file,
    no cache yet, an unreadable one) is left to ``jieba.initialize``, which also writes the cache.
    """
    tokenizer = jieba.dt
    if tokenizer.initialized:
        return
    with tokenizer.lock:
        if not tokenizer.initialized and tokenizer.dictionary == jieba.DEFAULT_DICT \
                and not tokenizer.cache_file:
            cache = os.path.join(tokenizer.tmp_dir or tempfile.gettempdir(), "jieba.cache")
            try:
                with open(cache, "rb") as file:
                    tokenizer.FREQ, tokenizer.total = marshal.loads(file.read())
                tokenizer.initialized = True
            except Exception:  # noqa: BLE001 - jieba's own rule: a cache that fails is rebuilt
                tokenizer.FREQ, tokenizer.total = {}, 0
    tokenizer.check_initialized()


def cut(text: str) -> Iterator[str]:
    """``jieba.cut(text)`` (HMM on), the dictionary loaded by :func:`load_dictionary` first."""
    if not jieba.dt.initialized:
        load_dictionary()
    return jieba.dt.cut(text)


@functools.cache
def word_tags() -> dict[str, str]:
    """jieba's dictionary as {word: part-of-speech tag}: what ``jieba.posseg.dt.word_tag_tab``
    holds (same file, same parsing). Raises ValueError on a malformed line, OSError."""
    with _lock:
        return _read_tags(jieba.dt.get_dict_file())


def _read_tags(file) -> dict[str, str]:
    tags: dict[str, str] = {}
    with file:
        for number, raw in enumerate(file, 1):
            line = raw.strip().decode("utf-8")
            if not line:
                continue
            try:
                word, _, tag = line.split(" ")
            except ValueError as exc:
                raise ValueError(
                    f"invalid jieba dictionary entry at line {number}: {line}") from exc
            tags[word] = tag
    return tags


@functools.lru_cache(maxsize=1 << 16)
def pos_tag(text: str) -> tuple[tuple[str, str], ...]:
    """Segment ``text`` with jieba (HMM on) and tag each word from jieba's dictionary.

    Words the dictionary lacks are tagged :data:`UNKNOWN`. This is ~10x faster than
    ``jieba.posseg`` (whose HMM tagger is slow on every short window) and for our use — is this
    word a person (``nr``) or place (``ns``) name — loses little: unknown words after a context
    word and starting with a surname are names.
    """
    tags = word_tags()
    return tuple((word, tags.get(word, UNKNOWN)) for word in cut(text))


def tag_of(word: str) -> str:
    """The tag jieba's dictionary gives ``word``, :data:`UNKNOWN` if it lacks the word."""
    return word_tags().get(word, UNKNOWN)


def frequency_of(word: str) -> int:
    """How often ``word`` occurs in jieba's dictionary corpus (0 if the dictionary lacks it):
    ``应明`` 17, ``强烈`` 5,076."""
    load_dictionary()
    return int(jieba.dt.FREQ.get(word) or 0)


def iter_tags(text: str) -> Iterator[tuple[str, str]]:
    """:func:`pos_tag`'s words one by one, segmented lazily: a caller that stops at the first
    word it wants skips jieba's HMM on the rest of ``text`` (same words, same tags)."""
    tags = word_tags()
    return ((word, tags.get(word, UNKNOWN)) for word in cut(text))
