"""The batch fast path for free text: our recognizers' searches, run without ``analyze``.

:class:`BatchDetector` gives, text for text, the same results as ``AnalyzerEngine.analyze``
with the same recognizers (pattern matching with ``validate_result``/``invalidate_result``,
per-recognizer duplicate removal, :class:`WindowContextEnhancer` boosts, the score threshold,
the final duplicate removal), without Presidio's per-call overhead: no registry lookup, no
NLP artifacts, no explanation objects, no timing and logging per pattern. The searches
themselves are the faster equivalents of :mod:`masking._finders` (patterns only over the runs
of characters they can match, address chains only near address suffixes, jieba only on the
named part of a chain).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Sequence
from itertools import groupby
from typing import Any

import regex as re
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult

from masking._finders import LocationFinder, PersonFinder, Raw, ZonedPatterns, std_compile
from masking._ner import RECENT_TEXTS, tagger
from masking.recognizers._base import ChinesePatternRecognizer
from masking.recognizers._context import WindowContextEnhancer
from masking.recognizers.chinese_ner import ChineseNerRecognizer
from masking.recognizers.english_name import EnglishNameRecognizer
from masking.recognizers.latin_name import LatinNameRecognizer
from masking.recognizers.location import LocationRecognizer
from masking.recognizers.person import PersonRecognizer
from masking.recognizers.phone import PhoneRecognizer

__all__ = ["BatchDetector", "Found", "analyze_many", "detector_for", "find_many",
           "set_scrub_workers"]

#: Worker processes for large batches; None: one per core, at most 4. A threaded server sets 1
#: (forking a process that runs threads can deadlock the child).
_WORKERS: int | None = None


def set_scrub_workers(count: int | None) -> None:
    """How many forked processes scrub large batches (1 = never fork; None = per core)."""
    global _WORKERS
    if count is not None and count < 1:
        raise ValueError("scrub workers must be at least 1")
    _WORKERS = count

#: Below this many texts one process is faster than forking workers.
PARALLEL_MIN_TEXTS = 8_000
_CHUNK = min(2_000, RECENT_TEXTS)  # texts scrubbed together (the tagger keeps them all)

_ENHANCED = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY
_KNOWN_OTHERS = (PersonRecognizer, LocationRecognizer, EnglishNameRecognizer, ChineseNerRecognizer,
                 LatinNameRecognizer, PhoneRecognizer)



def detector_for(analyzer: Any, language: str) -> BatchDetector | None:
    """A detector equivalent to ``analyzer.analyze(text, language)`` for every text, or None
    when the analyzer holds anything the fast path does not reproduce exactly."""
    cache = analyzer.__dict__.setdefault("_govex_batch", {})
    if language not in cache:
        cache[language] = _build(analyzer, language)
    return cache[language]


def _build(analyzer: Any, language: str) -> BatchDetector | None:
    enhancer = getattr(analyzer, "context_aware_enhancer", None)
    if type(enhancer) is not WindowContextEnhancer:
        return None
    try:
        recognizers = analyzer.registry.get_recognizers(language=language, all_fields=True)
    except ValueError:
        return None
    for r in recognizers:
        if type(r).enhance_using_context is not EntityRecognizer.enhance_using_context:
            return None
        if isinstance(r, ChinesePatternRecognizer):
            if type(r).analyze is not ChinesePatternRecognizer.analyze or r.deny_list:
                return None
        elif type(r) not in _KNOWN_OTHERS:  # a subclass may search differently from our finders
            return None
        if r.score_thresholds or any("\0" in w for w in r.context or []):
            return None
    return BatchDetector(recognizers, enhancer, analyzer.default_score_threshold)


class BatchDetector:
    """Runs a fixed list of recognizers over texts; see the module docstring."""

    def __init__(self, recognizers: Sequence[EntityRecognizer], enhancer: WindowContextEnhancer,
                 threshold: float) -> None:
        self.recognizers = list(recognizers)
        self.threshold = threshold
        self.prefix, self.suffix = enhancer.context_prefix_count, enhancer.context_suffix_count
        self.boost = enhancer.context_similarity_factor
        self.min_with_context = enhancer.min_score_with_context_similarity
        self.max_score = enhancer.MAX_SCORE
        self.words = [[w.lower() for w in r.context or []] for r in self.recognizers]
        # One search for "any of the recognizer's (lower-cased) context words in this window".
        self.word_res = [std_compile("|".join(map(re.escape, words))) if words else None
                         for words in self.words]
        self.patterns = ZonedPatterns([(i, r) for i, r in enumerate(self.recognizers)
                                       if isinstance(r, PatternRecognizer)])
        self.others: list[tuple[Any, Any]] = []
        #: Whether the NER model runs: texts are then tagged in batches before they are analysed.
        self.tags_texts = False
        for index, r in enumerate(self.recognizers):
            if isinstance(r, PersonRecognizer):
                self.others.append((PersonFinder(r, index).find, None))
            elif isinstance(r, LocationRecognizer):
                self.others.append((LocationFinder(r, index).find, None))
            elif isinstance(r, ChineseNerRecognizer):
                self.others.append((functools.partial(_ner_results, r, index), None))
                self.tags_texts = True
            elif not isinstance(r, PatternRecognizer):
                self.others.append((functools.partial(_results_of, r, index), _trigger_of(r)))

    def analyze(self, text: str, context: Sequence[str] | None = None) -> list[RecognizerResult]:
        """The results ``AnalyzerEngine.analyze(text, language, context=context)`` returns."""
        found = self.analyze_raw(text, context)
        return [RecognizerResult(e, s, t, c) for e, s, t, c, _, _ in found]

    def analyze_raw(self, text: str, context: Sequence[str] | None = None) -> list[Raw]:
        """:meth:`analyze` as raw tuples (entity, start, end, score, recognizer index, True)."""
        raw: list[Raw] = []
        for found in self.patterns.find(text):
            raw += found if len(found) < 2 else _remove_duplicates(found)
        for find, trigger in self.others:
            if trigger is None or trigger(text):
                raw += find(text)
        if not raw:
            return []
        explicit = [c.lower() for c in context or []]
        in_explicit: dict[int, bool] = {}
        scored = []
        for entity, start, end, score, index, enhanced in raw:
            words = self.word_res[index]
            if not enhanced and words is not None:
                if index not in in_explicit:
                    in_explicit[index] = any(w in c for w in self.words[index] for c in explicit)
                # The window before and the one after, apart: no context word holds a NUL.
                before = text[max(0, start - self.prefix) : start]
                window = f"{before}\0{text[end : end + self.suffix]}"
                if in_explicit[index] or words.search(window.lower()):
                    score = min(max(score + self.boost, self.min_with_context), self.max_score)
            if score >= self.threshold:
                scored.append((entity, start, end, score, index, True))
        if len(scored) == 1 and scored[0][3] > 0:
            return scored
        return _remove_duplicates(scored)


def _ner_results(recognizer: ChineseNerRecognizer, index: int, text: str) -> list[Raw]:
    """The NER recognizer's results as raw tuples (its scores count no context)."""
    return [(entity, start, end, score, index, True)
            for entity, start, end, score in recognizer.find(text, tagger().entities(text))]


def _results_of(recognizer: EntityRecognizer, index: int, text: str) -> list[Raw]:
    """Any other recognizer's own ``analyze``, as raw tuples."""
    return [(r.entity_type, r.start, r.end, r.score, index,
             bool((r.recognition_metadata or {}).get(_ENHANCED)))
            for r in recognizer.analyze(text, [])]


def _trigger_of(recognizer: EntityRecognizer):
    """A cheap test a text must pass for ``recognizer`` to find anything, or None (always run).

    The Chinese name and address recognizers are their own prefilter: they run jieba only where
    their trigger regexes fire (a context word, an honorific, a clause opening before a reporting
    verb, a whole-value name; an address chain), so they get no second test here. An English
    name needs the recognizer's QUICK words or one of its context words; a whole-value name
    its SHAPE, a phone number its QUICK digits.
    """
    if isinstance(recognizer, EnglishNameRecognizer):
        # Every QUICK and context word holds an ASCII letter (both are case-sensitive): a text
        # without one (most Chinese complaints) is settled by one scan for a letter.
        words = [EnglishNameRecognizer.QUICK, *map(re.escape, recognizer.CONTEXT)]
        either = std_compile("|".join(words))
        return lambda text: bool(_ASCII_LETTER.search(text) and either.search(text))
    if isinstance(recognizer, (LatinNameRecognizer, PhoneRecognizer)):
        # their own first test: a whole value shaped like a name; a phone's digit pattern
        return std_compile(recognizer.SHAPE if isinstance(recognizer, LatinNameRecognizer)
                           else recognizer.QUICK).search
    return None


_ASCII_LETTER = std_compile("[A-Za-z]")


def _remove_duplicates(results: list[Raw]) -> list[Raw]:
    """``EntityRecognizer.remove_duplicates`` on raw tuples: drop zero scores and results that
    a result of the same entity contains with an equal or higher score; order by score, start,
    length (ties by entity, as Presidio's two stable sorts leave them)."""
    if len({r[0] for r in results}) == len(results):  # one result per entity: none contains another
        kept = sorted((r for r in results if r[3] != 0), key=lambda r: r[0])
        kept.sort(key=lambda r: (-r[3], r[1], r[1] - r[2]))
        return kept
    unique = list({(r[0], r[1], r[2], r[3]): r for r in results}.values())
    unique.sort(key=lambda r: (r[0], r[1], r[1] - r[2], -r[3]))
    kept = []
    for _, group in groupby(unique, key=lambda r: r[0]):
        active: list[Raw] = []
        for r in group:
            if r[3] == 0:
                continue
            active = [f for f in active if f[2] >= r[1]]
            if any(r[1] >= f[1] and r[2] <= f[2] and r[3] <= f[3] for f in active):
                continue
            kept.append(r)
            active.append(r)
    kept.sort(key=lambda r: (-r[3], r[1], r[1] - r[2]))
    return kept


_worker: BatchDetector | None = None

# A found span: (entity, start, end, score).
Found = tuple[str, int, int, float]


def _found(detector: BatchDetector, texts: list[str],
           context: Sequence[str] | None) -> list[list[Found]]:
    if not detector.tags_texts:
        return [[r[:4] for r in detector.analyze_raw(t, context)] for t in texts]
    out = []
    # the model tags the pieces of many texts at once (equal lengths batched); the tagger
    # keeps the last batch's answers for the recognizers that ask again, text by text
    for at in range(0, len(texts), _CHUNK):
        part = texts[at : at + _CHUNK]
        tagger().entities_many(part)
        out += [[r[:4] for r in detector.analyze_raw(t, context)] for t in part]
    return out


def _work(job: tuple[list[str], Sequence[str] | None]) -> list[list[Found]]:
    texts, context = job
    assert _worker is not None
    return _found(_worker, texts, context)


def analyze_many(detector: BatchDetector, texts: list[str],
                 context: Sequence[str] | None = None) -> list[list[RecognizerResult]]:
    """``detector.analyze`` on each text (see :func:`find_many`)."""
    return [[RecognizerResult(*r) for r in found] for found in find_many(detector, texts, context)]


def find_many(detector: BatchDetector, texts: list[str],
              context: Sequence[str] | None = None) -> list[list[Found]]:
    """:func:`analyze_many` as (entity, start, end, score) tuples. On a multi-core Linux
    machine, batches of at least :data:`PARALLEL_MIN_TEXTS` are split over forked worker
    processes (the detector and jieba's dictionary are inherited). :func:`set_scrub_workers`
    (1) keeps everything in this process."""
    workers = _WORKERS or min(os.cpu_count() or 1, 4)
    if len(texts) < PARALLEL_MIN_TEXTS or workers < 2 \
            or "fork" not in multiprocessing.get_all_start_methods():
        return _found(detector, texts, context)
    global _worker
    _worker = detector
    try:
        jobs = [(texts[i : i + _CHUNK], context) for i in range(0, len(texts), _CHUNK)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            chunks = pool.map(_work, jobs, chunksize=1)
    finally:
        _worker = None
    return [found for chunk in chunks for found in chunk]
