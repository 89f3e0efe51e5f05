"""The offline Presidio analyzer and the fast path for many texts.

No spaCy model is needed: the NLP engine is Presidio's ``no_op`` engine (no tokens), every
recognizer is self-contained (regex + checksum, or jieba for names and addresses), and context
words are matched by characters around a span (:class:`WindowContextEnhancer`).
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from masking._batch import Found, analyze_many, detector_for, find_many
from masking._words import ADDRESS_HINT
from masking.recognizers import (
    EnglishNameRecognizer,
    LatinNameRecognizer,
    PhoneRecognizer,
    WindowContextEnhancer,
    default_recognizers,
)
from masking.recognizers._lexicon import COMPOUND_SURNAMES, SURNAMES, configure_jieba
from masking.recognizers.license_plate import PROVINCE_CHARS
from masking.recognizers.location import LocationRecognizer
from masking.recognizers.person import PersonRecognizer

__all__ = ["LANGUAGES", "SCORE_THRESHOLD", "analyze_texts", "build_analyzer", "find_in_texts",
           "is_default_analyzer", "may_contain_pii"]

LANGUAGES = ("zh", "en")
#: Results scoring below this are dropped (pattern-only shapes need context words to pass).
SCORE_THRESHOLD = 0.5

_context_words = (PersonRecognizer.CONTEXT + PersonRecognizer.HONORIFICS
                  + PersonRecognizer.REPORTING_VERBS + LocationRecognizer.CONTEXT)
_SURNAME_STARTS = "".join(sorted(SURNAMES | {c[0] for c in COMPOUND_SURNAMES}))
_PREFILTER = re.compile(
    r"\d{5}|\d{3}[\s)-]+\d{4}|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]:[0-9A-Fa-f]*:|@"
    rf"|[{PROVINCE_CHARS}][A-Za-z]"
    rf"|^\s*[{_SURNAME_STARTS}][\u4e00-\u9fff·•]{{1,7}}\s*$"
    rf"|^\s*[{_SURNAME_STARTS}][\u4e00-\u9fff]{{1,3}}[（(，,：:]"  # a text opening with a name
    r"|(?:" + "|".join(_context_words) + ")"
    rf"|{ADDRESS_HINT}"
    rf"|{PhoneRecognizer.QUICK}",
    re.IGNORECASE,
)
_PREFILTER_CASED = re.compile(f"{EnglishNameRecognizer.QUICK}|{LatinNameRecognizer.SHAPE}")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def build_analyzer(*, cache_dir: Path | None = None) -> AnalyzerEngine:
    """Return the process-wide offline analyzer for languages "zh" and "en" (one per cache_dir).

    ``cache_dir`` receives jieba's dictionary cache (``<cache_dir>/jieba``); without it jieba
    uses the system temp folder. Nothing is downloaded. Raises OSError if ``cache_dir`` cannot
    be created.
    """
    key = str(Path(cache_dir).resolve()) if cache_dir is not None else None
    return _analyzer_for(key)


@functools.lru_cache(maxsize=8)
def _analyzer_for(cache_dir: str | None) -> AnalyzerEngine:
    configure_jieba(Path(cache_dir) if cache_dir else None)
    nlp_engine = NoOpNlpEngine(
        models=[{"lang_code": lang, "model_name": "none"} for lang in LANGUAGES])
    nlp_engine.load()
    registry = RecognizerRegistry(
        recognizers=default_recognizers(languages=LANGUAGES), supported_languages=list(LANGUAGES)
    )
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=list(LANGUAGES),
        default_score_threshold=SCORE_THRESHOLD,
        context_aware_enhancer=WindowContextEnhancer(),
    )
    _BUILT[id(analyzer)] = (weakref.ref(analyzer), _fingerprint(analyzer))
    return analyzer


#: id of each analyzer :func:`build_analyzer` made -> (the analyzer, what it held when made).
_BUILT: dict[int, tuple[weakref.ref, tuple[Any, ...]]] = {}


def _fingerprint(analyzer: AnalyzerEngine) -> tuple[Any, ...]:
    return (tuple(map(id, analyzer.registry.recognizers)), id(analyzer.context_aware_enhancer),
            analyzer.default_score_threshold)


def is_default_analyzer(analyzer: Any) -> bool:
    """True when ``analyzer`` is one :func:`build_analyzer` made and still holds the same
    recognizers, context enhancer and threshold (so it answers as the default does)."""
    ref, held = _BUILT.get(id(analyzer), (None, None))
    return ref is not None and ref() is analyzer and held == _fingerprint(analyzer)


def may_contain_pii(text: str) -> bool:
    """Cheap prefilter: False only when no recognizer could possibly match ``text`` (a text
    with a Chinese character may hold a name the NER model finds anywhere)."""
    return bool(_HAN.search(text) or _PREFILTER.search(text) or _PREFILTER_CASED.search(text))


def analyze_texts(
    texts: Sequence[str | None],
    *,
    analyzer: AnalyzerEngine | None = None,
    entities: Sequence[str] | None = None,
    language: str = "zh",
    context: Sequence[str] | None = None,
) -> list[list[RecognizerResult]]:
    """Analyze many texts: each distinct text once, texts failing the prefilter not at all.

    Returns one result list per input (empty for None). Raises ValueError for an unsupported
    language or entity (from Presidio).
    """
    return _analyze(texts, analyzer, entities, language, context, tuples=False)


def find_in_texts(
    texts: Sequence[str | None],
    *,
    analyzer: AnalyzerEngine | None = None,
    entities: Sequence[str] | None = None,
    language: str = "zh",
) -> list[list[Found]]:
    """:func:`analyze_texts` as plain (entity, start, end, score) tuples, which is all that
    scrubbing needs (no result objects built on the fast path). Raises as it does."""
    return _analyze(texts, analyzer, entities, language, None, tuples=True)


def _analyze(texts: Sequence[str | None], analyzer: AnalyzerEngine | None,
             entities: Sequence[str] | None, language: str, context: Sequence[str] | None, *,
             tuples: bool) -> list[list[Any]]:
    analyzer = analyzer or build_analyzer()
    wanted = list(entities) if entities else None
    extra = list(context) if context else None
    found: dict[str, list[Any]] = {}
    fast = detector_for(analyzer, language) if wanted is None else None
    pending: list[str] = []
    for text in texts:
        if text is None or text in found:
            continue
        if not may_contain_pii(text):
            found[text] = []
        elif fast is not None:
            found[text] = []
            pending.append(text)
        else:
            results = analyzer.analyze(text, language=language, entities=wanted, context=extra)
            found[text] = ([(r.entity_type, r.start, r.end, r.score) for r in results]
                           if tuples else results)
    if pending:
        many = find_many if tuples else analyze_many
        found.update(zip(pending, many(fast, pending, extra)))
    return [found[t] if t is not None else [] for t in texts]
