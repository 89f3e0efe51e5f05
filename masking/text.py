"""Free text: find PII spans and mask each span by its entity's display convention.

>>> scrub_texts(["联系电话13812345678"])  # doctest: +SKIP
['联系电话138****5678']
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pyarrow as pa

from masking._words import ADDRESS_SUFFIXES
from masking.engine import Found, find_in_texts

__all__ = ["Span", "detect_spans", "detect_spans_batch", "scrub_texts", "star_name_like_words"]


@dataclass(frozen=True, order=True)
class Span:
    """A detected piece of PII: ``text[start:end]`` is an ``entity`` with confidence ``score``."""

    start: int
    end: int
    entity: str
    score: float


def detect_spans(
    text: str, *, analyzer: Any = None, entities: Sequence[str] | None = None
) -> list[Span]:
    """Non-overlapping PII spans of ``text`` in order; raises ValueError for an unknown entity."""
    return detect_spans_batch([text], analyzer=analyzer, entities=entities)[0]


def detect_spans_batch(
    texts: Sequence[str | None], *, analyzer: Any = None, entities: Sequence[str] | None = None
) -> list[list[Span]]:
    """:func:`detect_spans` for many texts at once (each distinct text analysed once)."""
    return [[Span(*piece) for piece in pieces] for pieces in _pieces(texts, analyzer, entities)]


# A span to mask: (start, end, entity, score), in Span's order.
_Piece = tuple[int, int, str, float]


def _pieces(texts: Sequence[str | None], analyzer: Any,
            entities: Sequence[str] | None) -> list[list[_Piece]]:
    """Per text, its non-overlapping spans in order (each distinct text resolved once)."""
    resolved: dict[int, list[_Piece]] = {}
    out = []
    for text, found in zip(texts, find_in_texts(texts, analyzer=analyzer, entities=entities)):
        key = id(found)  # repeated texts share one result list
        if key not in resolved:
            resolved[key] = _non_overlapping(text or "", found) if found else []
        out.append(resolved[key])
    return out


def _non_overlapping(text: str, found: list[Found]) -> list[_Piece]:
    """Keep the strongest (then longest) span wherever spans overlap; of a weaker span, keep
    what the stronger ones leave uncovered, so that every detected character is masked (an
    address that a mis-cut starts inside a name: 王丹丹 + 丹丹反映四川省… keeps 反映四川省…).
    A left-over piece of an address must still hold a place or a number (not ``反映``, the
    verb between a name and the address the model found). Spans of one entity that overlap
    are first joined (the model's ``吴明`` and the rules' ``吴明超`` are one name)."""
    ordered = sorted((start, end, entity, score) for entity, start, end, score in found)
    if all(a[1] <= b[0] for a, b in pairwise(ordered)):
        return ordered  # nothing overlaps (the usual case)
    ordered = _joined(ordered)
    kept: list[_Piece] = []
    for start, end, entity, score in sorted(ordered, key=lambda p: (-p[3], p[0] - p[1], p[0])):
        for piece_start, piece_end in _uncovered(start, end, kept):
            whole = (piece_start, piece_end) == (start, end)
            if whole or (piece_end - piece_start >= _MIN_REMAINDER and (
                    entity != "LOCATION" or _PLACE_OR_NUMBER.search(text, piece_start, piece_end))):
                kept.append((piece_start, piece_end, entity, score))
    return sorted(kept)


_MIN_REMAINDER = 2
#: What a left-over piece of an address must hold: a number or an address unit.
_PLACE_OR_NUMBER = re.compile(r"\d|" + "|".join(ADDRESS_SUFFIXES))


def _joined(ordered: list[_Piece]) -> list[_Piece]:
    """Overlapping spans of the same entity as one span: their union, with the lower score (a
    weak span must not lend its reach to a strong one: a mis-cut address chain that starts
    inside a name, joined to the model's address, still gives way to the name)."""
    out: list[_Piece] = []
    last: dict[str, int] = {}  # entity -> index in out of its latest span
    for start, end, entity, score in ordered:
        at = last.get(entity)
        if at is not None and out[at][1] > start:
            s, e, _, best = out[at]
            out[at] = (s, max(e, end), entity, min(best, score))
        else:
            last[entity] = len(out)
            out.append((start, end, entity, score))
    return sorted(out)


def _uncovered(start: int, end: int, kept: list[_Piece]) -> list[tuple[int, int]]:
    """The pieces of [start, end) that no kept span covers."""
    pieces, position = [], start
    for span_start, span_end, _, _ in sorted(k for k in kept if k[0] < end and k[1] > start):
        if span_start > position:
            pieces.append((position, span_start))
        position = max(position, span_end)
    if position < end:
        pieces.append((position, end))
    return pieces


def scrub_texts(
    texts: Sequence[str | None],
    *,
    analyzer: Any = None,
    entities: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[str | None]:
    """Mask every detected span in each text, keeping the rest; None stays None.

    ``params`` (``char``) goes to the mask operator. Raises InvalidMaskingPlan for bad params,
    ValueError for an unknown entity.
    """
    spans = _pieces(texts, analyzer, entities)
    replacements = _masked_pieces(texts, spans, params or {})
    return [
        _splice(text, found, replacements) if text is not None and found else text
        for text, found in zip(texts, spans)
    ]


def _masked_pieces(
    texts: Sequence[str | None], spans: list[list[_Piece]], params: Mapping[str, Any]
) -> dict[tuple[str, str], str]:
    """Masked form of every (entity, original piece), masked in one batch per entity."""
    from masking.operators.mask import mask_strings  # the operators import this module

    pieces: dict[str, set[str]] = defaultdict(set)
    for text, found in zip(texts, spans):
        for start, end, entity, _ in found:
            pieces[entity].add(text[start:end])  # type: ignore[index]
    masked: dict[tuple[str, str], str] = {}
    for entity, originals in pieces.items():
        ordered = sorted(originals)
        # a lone surrogate (a broken client's JSON) cannot be UTF-8: masked as U+FFFD
        safe = [o.encode("utf-8", "replace").decode("utf-8") for o in ordered]
        result = mask_strings(pa.array(safe, pa.string()), entity, params).to_pylist()
        masked.update(((entity, o), m) for o, m in zip(ordered, result))
    return masked


def _splice(text: str, spans: list[_Piece], masked: dict[tuple[str, str], str]) -> str:
    out, position = [], 0
    for start, end, entity, _ in spans:
        out += [text[position:start], masked[(entity, text[start:end])]]
        position = end
    out.append(text[position:])
    return "".join(out)


def star_name_like_words(text: str) -> str:
    """Star every word that may be a person's name, keeping its surname (``核查张伟的记录`` ->
    ``核查张*的记录``): a known surname then one to three more Han characters that jieba tags
    as a name or does not know, not ending in an address suffix (``白云区`` stays) and not a
    word that announces a name (``申请人``, which jieba's dictionary tags as one).

    Deliberately greedy, for text kept forever where starring a non-name costs little (the
    audit log's copy of a request's purpose), not for deliveries: it finds bare names that
    :func:`scrub_texts` leaves because no context word announces them. Segments with jieba
    (loads its dictionary on first use); nothing is cached.
    """
    from masking._jieba import UNKNOWN, iter_tags
    from masking._words import ADDRESS_SUFFIXES, COMPOUND_SURNAMES, PERSON_CONTEXT, surname_of
    from masking.recognizers.person import _is_name_word

    out: list[str] = []
    after_compound = False  # jieba splits 欧阳娜娜 into 欧阳 (a place) + 娜娜
    for word, tag in iter_tags(text):
        han = all("\u4e00" <= c <= "\u9fff" for c in word)
        if after_compound and han and len(word) <= 2 and (tag.startswith("nr") or tag == UNKNOWN):
            out.append("*" * len(word))
        elif han and _is_name_word(word, tag) and not word.endswith(ADDRESS_SUFFIXES) \
                and word not in PERSON_CONTEXT and len(surname_of(word)) < len(word):
            surname = surname_of(word)
            out.append(surname + "*" * (len(word) - len(surname)))
        else:
            out.append(word)
        after_compound = han and word in COMPOUND_SURNAMES
    return "".join(out)
