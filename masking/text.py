"""Free text: find PII spans and mask each span by its entity's display convention.

>>> scrub_texts(["联系电话13812345678"])  # doctest: +SKIP
['联系电话138****5678']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from presidio_analyzer import RecognizerResult

from masking.engine import analyze_texts

__all__ = ["Span", "detect_spans", "detect_spans_batch", "scrub_texts"]


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
    results = analyze_texts(texts, analyzer=analyzer, entities=entities)
    return [_non_overlapping(found) for found in results]


def _non_overlapping(results: list[RecognizerResult]) -> list[Span]:
    """Keep the strongest (then longest) span wherever spans overlap; of a weaker span, keep
    what the stronger ones leave uncovered, so that every detected character is masked (an
    address that a mis-cut starts inside a name: 王丹丹 + 丹丹反映四川省… keeps 反映四川省…)."""
    kept: list[Span] = []
    for r in sorted(results, key=lambda r: (-r.score, r.start - r.end, r.start)):
        for start, end in _uncovered(r.start, r.end, kept):
            if end - start >= _MIN_REMAINDER or (start, end) == (r.start, r.end):
                kept.append(Span(start, end, r.entity_type, r.score))
    return sorted(kept)


_MIN_REMAINDER = 2


def _uncovered(start: int, end: int, kept: list[Span]) -> list[tuple[int, int]]:
    """The pieces of [start, end) that no kept span covers."""
    pieces, position = [], start
    for span in sorted(k for k in kept if k.start < end and k.end > start):
        if span.start > position:
            pieces.append((position, span.start))
        position = max(position, span.end)
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
    spans = detect_spans_batch(texts, analyzer=analyzer, entities=entities)
    replacements = _masked_pieces(texts, spans, params or {})
    return [
        _splice(text, found, replacements) if text is not None and found else text
        for text, found in zip(texts, spans)
    ]


def _masked_pieces(
    texts: Sequence[str | None], spans: list[list[Span]], params: Mapping[str, Any]
) -> dict[tuple[str, str], str]:
    """Masked form of every (entity, original piece), masked in one batch per entity."""
    from masking.operators.mask import mask_strings  # the operators import this module

    pieces: dict[str, set[str]] = defaultdict(set)
    for text, found in zip(texts, spans):
        for span in found:
            pieces[span.entity].add(text[span.start : span.end])
    masked: dict[tuple[str, str], str] = {}
    for entity, originals in pieces.items():
        ordered = sorted(originals)
        result = mask_strings(pa.array(ordered, pa.string()), entity, params).to_pylist()
        masked.update(((entity, o), m) for o, m in zip(ordered, result))
    return masked


def _splice(text: str, spans: list[Span], masked: dict[tuple[str, str], str]) -> str:
    out, position = [], 0
    for span in spans:
        out += [text[position : span.start], masked[(span.entity, text[span.start : span.end])]]
        position = span.end
    out.append(text[position:])
    return "".join(out)
