"""Faster searches for the batch path, each giving what a recognizer's own ``analyze`` gives.

The recognizers stay the reference: readable regexes over the whole text. For many texts the
batch path (:mod:`masking._batch`) asks the same questions at fewer places:

- :class:`ZonedPatterns`: a pattern whose every character is ASCII, whitespace or a digit can
  only match inside a run of such characters (a *zone*: ``13812345678`` in ``电话13812345678，``),
  so it runs only over the zones at least as long as its shortest match, with stdlib ``re``
  (faster than ``regex`` on short windows). Lookbehinds see the whole text; lookaheads see
  :data:`LOOKAHEAD` characters past the zone. In a zone of digits only, a pattern that cannot
  start after a digit is matched once, at the zone's start.
- :class:`PersonFinder`: the same three triggers, found faster: the trigger words as a trie,
  honorifics with ``str.find``, the clause-opening subject (``陈峰咨询``) without a lookbehind
  tried at every position; then the recognizer's own methods decide.
- :class:`LocationFinder`: an address chain can only start at most six characters before an
  address suffix, so the chain regex is tried only there; and jieba, which decides where the
  chain starts (the first place word), segments only the chain's first named unit
  (``张伟反映四川省`` of ``张伟反映四川省成都市锦江区春熙路123号``), and the named units up to
  the first digit when the first unit holds no place word; cached per piece: those repeat,
  house numbers do not. About 3x less jieba per chain.

All of it gives exactly the recognizers' results except jieba's narrower input for addresses,
which is not provably the same (jieba could join the unit's last character with the next one,
``市中心``); it gave the same start as segmenting the whole chain on all 67,892 chains of the
evaluation texts and 60,000 benchmark complaints, and the accuracy figures are unchanged;
``tests/masking/test_batch.py`` compares the whole path with ``AnalyzerEngine.analyze``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from presidio_analyzer import PatternRecognizer

from masking._places import CHAIN_STD, start_at_place, std_compile
from masking._words import ADDRESS_SUFFIXES, HAN
from masking.recognizers.location import LocationRecognizer
from masking.recognizers.person import PersonRecognizer

__all__ = ["LocationFinder", "PersonFinder", "ZonedPatterns", "std_compile"]

# A raw result: (entity, start, end, score, recognizer index, already enhanced by context).
Raw = tuple[str, int, int, float, int, bool]

#: Characters an ASCII-only pattern can match: printable ASCII, whitespace, any digit, and the
#: four non-ASCII letters that IGNORECASE folds onto ASCII ones (İ ı ſ K).
_ZONE_CLASS = r"!-~\s\d\u0130\u0131\u017f\u212a"
_ZONE = re.compile(f"[{_ZONE_CLASS}]+")
_IN_ZONE = re.compile(f"[{_ZONE_CLASS}]")
#: How far past its zone a pattern's lookahead may read (``(?!\s*元)`` reads one character).
LOOKAHEAD = 8


def _shape(compiled: Any) -> tuple[bool, int, bool]:
    """(whether every character the pattern consumes is a zone character, its shortest match,
    whether it opens with a lookbehind that no ASCII digit may precede). Anything this cannot
    read counts as not confined (the pattern then runs on the whole text)."""
    if not isinstance(compiled, re.Pattern):
        return False, 0, False
    try:
        from re import _parser  # the parser stdlib re compiles with (3.11+)
        parsed = _parser.parse(compiled.pattern, compiled.flags)
        return _confined(parsed), int(parsed.getwidth()[0]), _not_after_a_digit(parsed)
    except Exception:  # noqa: BLE001 - a private parser: any surprise means "run on the whole text"
        return False, 0, False


def _not_after_a_digit(items: Any) -> bool:
    """True when the pattern starts with ``(?<![…0-9…])``: it cannot match right after an
    ASCII digit, so in a zone of ASCII digits only it can only start where the zone starts."""
    from re import _constants as c

    if not len(items) or items[0][0] is not c.ASSERT_NOT:
        return False
    direction, behind = items[0][1]
    if direction != -1 or len(behind) != 1 or behind[0][0] is not c.IN:
        return False
    members = behind[0][1]
    if any(op is c.NEGATE for op, _ in members):
        return False
    return any((op is c.RANGE and arg[0] <= 0x30 and arg[1] >= 0x39)
               or (op is c.CATEGORY and arg is c.CATEGORY_DIGIT) for op, arg in members)


def _confined(items: Any) -> bool:
    from re import _constants as c

    for op, arg in items:
        if op in (c.ASSERT, c.ASSERT_NOT, c.AT):
            continue  # zero width; may look outside the zone
        if op is c.LITERAL:
            ok = _IN_ZONE.match(chr(arg)) is not None
        elif op is c.IN:
            ok = all(_set_item_confined(o, a) for o, a in arg)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            ok = _confined(arg[2])
        elif op is c.SUBPATTERN:
            ok = _confined(arg[3])
        elif op is c.BRANCH:
            ok = all(_confined(branch) for branch in arg[1])
        elif op is c.ATOMIC_GROUP:
            ok = _confined(arg)
        else:
            ok = False  # ANY, NOT_LITERAL, group references, ...
        if not ok:
            return False
    return True


def _set_item_confined(op: Any, arg: Any) -> bool:
    from re import _constants as c

    if op is c.LITERAL:
        return _IN_ZONE.match(chr(arg)) is not None
    if op is c.RANGE:
        return 0x21 <= arg[0] and arg[1] <= 0x7E
    if op is c.CATEGORY:
        return arg in (c.CATEGORY_DIGIT, c.CATEGORY_SPACE)
    return False  # NEGATE and anything else


class ZonedPatterns:
    """The pattern recognizers' matches (validated and scored as Presidio does), found zone by
    zone where a pattern is confined to zones, over the whole text otherwise."""

    def __init__(self, recognizers: list[tuple[int, PatternRecognizer]]) -> None:
        # (recognizer index, recognizer, QUICK, [(pattern, score, shortest, anchored)], shortest)
        self.zoned: list[
            tuple[int, PatternRecognizer, Any, list[tuple[Any, float, int, bool]], int]]
        self.zoned = []
        self.whole: list[tuple[int, PatternRecognizer, Any, list[tuple[Any, float]]]] = []
        for index, r in recognizers:
            quick = getattr(r, "_quick", None)
            quick = std_compile(quick.pattern, quick.flags) if quick is not None else None
            compiled = [(std_compile(p.regex, r.global_regex_flags), p.score) for p in r.patterns]
            shapes = [_shape(p) for p, _ in compiled]
            if all(confined for confined, _, _ in shapes):
                patterns = [(p, s, width, anchored)
                            for (p, s), (_, width, anchored) in zip(compiled, shapes)]
                self.zoned.append((index, r, quick, patterns, min(p[2] for p in patterns)))
            else:
                self.whole.append((index, r, quick, compiled))
        self.zoned.sort(key=lambda z: z[-1])  # find() stops at the first that needs a longer zone
        self.min_width = max(1, min((z[-1] for z in self.zoned), default=1))

    def find(self, text: str) -> list[list[Raw]]:
        """Per recognizer, its results on ``text`` (before duplicate removal)."""
        out: list[list[Raw]] = [[] for _ in range(len(self.zoned) + len(self.whole))]
        size = len(text)
        for zone in _ZONE.finditer(text):
            start, end = zone.span()
            length = end - start
            if length < self.min_width:
                continue
            stop = min(size, end + LOOKAHEAD)
            digits_only: bool | None = None
            for slot, (index, r, quick, patterns, width) in enumerate(self.zoned):
                if length < width:
                    break  # the rest need longer zones
                if quick is not None and not quick.search(text, start, end):
                    continue
                for pattern, score, least, anchored in patterns:
                    if length < least:
                        continue
                    if anchored and digits_only is None:
                        digits_only = _ASCII_DIGITS.fullmatch(text, start, end) is not None
                    if anchored and digits_only:
                        # Right after a digit it cannot start: in a run of digits only at its
                        # start, and once (a match ends in the run or at its end).
                        first = pattern.match(text, start, stop)
                        matches = (first,) if first else ()
                    else:
                        matches = pattern.finditer(text, start, stop)
                    for m in matches:
                        if m.start() >= end:
                            break
                        _score(out[slot], r, index, score, m.start(), m.end(), text)
        for slot, (index, r, quick, compiled) in enumerate(self.whole, start=len(self.zoned)):
            if quick is None or quick.search(text):
                for pattern, score in compiled:
                    for m in pattern.finditer(text):
                        _score(out[slot], r, index, score, m.start(), m.end(), text)
        return out


_ASCII_DIGITS = re.compile("[0-9]+")


def _score(found: list[Raw], r: PatternRecognizer, index: int, base: float, start: int, end: int,
           text: str) -> None:
    """Presidio's scoring of one match: valid -> 1.0, invalid -> dropped, None -> the pattern's."""
    if start == end:
        return
    piece = text[start:end]
    kind = type(r)
    valid = None if kind.validate_result is _NO_VALIDATION else r.validate_result(piece)
    score = base if valid is None else (1.0 if valid else 0.0)
    if score > 0.0 and (kind.invalidate_result is _NO_INVALIDATION
                        or not r.invalidate_result(piece)):
        found.append((r.supported_entities[0], start, end, score, index, False))


# PatternRecognizer's own (no-op) checks: a recognizer that keeps them is not asked.
_NO_VALIDATION = PatternRecognizer.validate_result
_NO_INVALIDATION = PatternRecognizer.invalidate_result


class PersonFinder:
    """:meth:`PersonRecognizer.analyze`, its trigger words as a trie, honorifics found with
    str.find, reporting-verb subjects without a lookbehind at every position."""

    def __init__(self, recognizer: PersonRecognizer, index: int) -> None:
        self.recognizer, self.index = recognizer, index
        self.whole = std_compile(recognizer._WHOLE.pattern)
        self.trigger = std_compile(_as_trie(recognizer._trigger.pattern, recognizer.CONTEXT),
                                   recognizer._trigger.flags)
        self.honorifics = tuple(recognizer.HONORIFICS)
        # The subject regex opens with (?:^|(?<=[^HAN])): a lookbehind tried at every position.
        # Consuming that one character instead finds the same subjects (group 1) much faster:
        # the next subject needs a non-Han character after this one's verb anyway.
        lead = f"(?:^|(?<=[^{HAN}]))"
        pattern = recognizer._subject.pattern
        self.subject = std_compile(f"(?:^|[^{HAN}])" + pattern[len(lead):]) \
            if pattern.startswith(lead) else std_compile(pattern)
        self.opening = std_compile(recognizer._opening.pattern)

    def find(self, text: str) -> list[Raw]:
        """The recognizer's results on ``text`` as raw tuples."""
        r = self.recognizer
        stripped = text.strip()
        if self.whole.fullmatch(stripped):
            hits = [r._whole_value(stripped, text.index(stripped))]
        else:
            hits = [r._after_trigger(text, m.end()) for m in self.trigger.finditer(text)]
            hits += [r._before_honorific(text, start) for start in self._honorific_starts(text)]
            hits += [r._subject_of_verb(m.group(1), m.start(1), text)
                     for m in self.subject.finditer(text)]
            opening = [r._opening_name(m.group(1), m.start(1)) for m in self.opening.finditer(text)]
            hits = r.outside_places(text, [h for h in hits if h])
            hits += r.outside_places(text, [h for h in opening if h], as_long=True)
        entity, index = r.ENTITY, self.index
        return [(entity, start, end, score, index, enhanced)
                for start, end, score, enhanced in filter(None, hits)]

    def _honorific_starts(self, text: str) -> list[int]:
        """Where ``(?<=[HAN]{2})(?:先生|女士|…)`` matches: found with str.find (no lookbehind
        tried at every position), then the lookbehind checked, matches kept non-overlapping."""
        found = sorted((at, len(word))
                       for word in self.honorifics for at in _occurrences(text, word))
        starts, free = [], 0
        for at, length in found:
            if at >= max(free, 2) and _is_han(text[at - 2]) and _is_han(text[at - 1]):
                starts.append(at)
                free = at + length
        return starts


def _occurrences(text: str, word: str) -> Iterator[int]:
    at = text.find(word)
    while at >= 0:
        yield at
        at = text.find(word, at + 1)


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _as_trie(pattern: str, words: tuple[str, ...]) -> str:
    """``pattern`` with its leading ``(?:w1|w2|…)`` of ``words`` (longest first) rewritten as a
    trie (``法(?:定代表人|人)``): the same matches, one branch tried per position instead of
    every word. ``pattern`` unchanged if it does not start so."""
    used = [w for w in words if re.escape(w) in pattern]
    head = "(?:" + "|".join(sorted(map(re.escape, used), key=len, reverse=True)) + ")"
    if not used or not pattern.startswith(head):
        return pattern
    trie: dict = {}
    for word in used:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return "(?:" + _trie_branches(trie) + ")" + pattern[len(head):]


def _trie_branches(node: dict) -> str:
    # Longer words first at every node: at a position the words that match are prefixes of
    # one another, so depth first finds the longest, as the longest-first alternation does.
    branches = []
    for char, child in node.items():
        if char:
            rest = _trie_branches(child)
            branches.append(re.escape(char) + (f"(?:{rest})" if "|" in rest else rest))
    return "|".join(branches + ([""] if "" in node else []))


class LocationFinder:
    """:meth:`LocationRecognizer.analyze`: chains tried only near address suffixes, jieba on the
    chain's named units only (see the module docstring)."""

    _LONGEST_NAME = 6  # a unit is [HAN]{1,6}? + suffix(es): its suffix starts 1-6 characters in

    def __init__(self, recognizer: LocationRecognizer, index: int) -> None:
        self.recognizer, self.index = recognizer, index
        self.chain = CHAIN_STD
        self.context = std_compile(recognizer._context_re.pattern, recognizer._context_re.flags)
        suffixes = sorted(ADDRESS_SUFFIXES, key=len, reverse=True)
        self.suffix = re.compile("|".join(map(re.escape, suffixes)))
        self.suffixes = tuple(suffixes)

    def find(self, text: str) -> list[Raw]:
        """The recognizer's results on ``text`` as raw tuples."""
        r = self.recognizer
        found = []
        for start, end in self._chains(text):
            start, has_context = self._start_after_context(text, start, end)
            if not has_context:
                start = self._start_at_place(text, start, end)
            if start >= end:
                continue
            score = r.score_of(text, start, end, has_context)
            found.append((r.ENTITY, start, end, score, self.index, has_context))
        return found

    def _chains(self, text: str) -> Iterator[tuple[int, int]]:
        """``_CHAIN.finditer(text)``: a match's first suffix starts 1-6 characters after it, so
        only the six positions before each suffix are tried, left to right, as search would."""
        position = tried = 0
        for suffix_start in self._suffix_starts(text):
            if suffix_start <= position:
                continue
            first = max(position, tried, suffix_start - self._LONGEST_NAME)
            for start in range(first, suffix_start):
                match = self.chain.match(text, start)
                if match:
                    yield match.span()
                    position = match.end()
                    break
            tried = max(tried, suffix_start)

    def _suffix_starts(self, text: str) -> Iterator[int]:
        """Every position where an address suffix starts (also inside a longer one: 自治区
        holds 区)."""
        for m in self.suffix.finditer(text):
            start, end = m.span()
            yield start
            for inner in range(start + 1, end):
                if text.startswith(self.suffixes, inner):
                    yield inner

    def _start_after_context(self, text: str, start: int, end: int) -> tuple[int, bool]:
        hits = [m.end() for m in self.context.finditer(text, max(0, start - 8), end)
                if start - 1 <= m.end() < end]
        return (max(start, hits[-1]), True) if hits else (start, False)

    def _start_at_place(self, text: str, start: int, end: int) -> int:
        return start_at_place(text, start, end)
