"""Chinese person names anywhere in a text, and personal addresses, from the LAC NER model.

Every text is tagged (:mod:`masking._ner`): a ``PER`` span is a person's name wherever it
stands (opening a clause, after a verb, in a list, in quotes, a foreign name written in
Chinese). Places and organisations are not personal (roads, parks, districts, companies,
bureaus: the receiving department needs them), so a ``LOC`` span is only a hint: a run of
place spans becomes a ``LOCATION`` when it is someone's address, that is when a house number
follows it or ends it (``春熙路123号``, ``乌鲁木齐街Q座``) or a residence word precedes it
(家住, 住址 …). ``ORG`` spans are reported only by an instance asked to
(``report_organizations=True``); the name recognizer uses them to drop rule hits inside a
place or an organisation (王府井, 张家湾镇政府).
"""

from __future__ import annotations

from typing import Any, ClassVar

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from masking._jieba import cut
from masking._ner import NerSpan, tagger
from masking._places import HOUSE_NUMBER, has_house_number, residence_pattern
from masking._words import (
    ADDRESS_SUFFIXES,
    ADMIN_SUFFIXES,
    HONORIFICS,
    LOCATION_CONTEXT,
    NAME_BREAKERS,
    PERSON_CONTEXT,
    surname_of,
)

__all__ = ["ChineseNerRecognizer"]

#: Words that, standing alone right after a transliteration, make it a place or a language.
PLACE_WORDS = frozenset(("州", "省", "县", "区", "市", "镇", "乡", "村", "岛", "湾", "河", "江",
                         "湖", "山", "港", "城", "语", "文", "字母", "族", "国", "群岛", "地区",
                         "王国", "共和国", "诸语言", "语言"))
_TAIL = re.compile(rf"(?:{HOUSE_NUMBER}|附近)*")


class ChineseNerRecognizer(EntityRecognizer):
    """PERSON spans of the NER model, and LOCATION for place runs that are an address."""

    ENTITIES: ClassVar[tuple[str, ...]] = ("PERSON", "LOCATION")
    SCORE_PERSON: ClassVar[float] = 0.8
    #: A value that is nothing but a name-like word (``马力``: a name, or horsepower): the model
    #: sees no context, so below the threshold; the name rules and a header decide such cells.
    SCORE_WHOLE_VALUE: ClassVar[float] = 0.45
    SCORE_ADDRESS: ClassVar[float] = 0.85
    SCORE_ORGANIZATION: ClassVar[float] = 0.8
    #: How many characters before a place run a residence word may end.
    CONTEXT_REACH: ClassVar[int] = 3
    #: Words the model now and then tags as a person that are roles, not names.
    NOT_NAMES: ClassVar[frozenset[str]] = frozenset(PERSON_CONTEXT + HONORIFICS) | frozenset(
        ("阿姨", "大爷", "大妈", "本人", "我", "他", "她"))

    def __init__(self, *, supported_language: str = "zh",
                 report_organizations: bool = False) -> None:
        entities = [*self.ENTITIES, *(("ORGANIZATION",) if report_organizations else ())]
        super().__init__(supported_entities=entities,
                         name=f"{type(self).__name__}_{supported_language}",
                         supported_language=supported_language, context=[])
        self._residence = re.compile(residence_pattern(LOCATION_CONTEXT) + "$", re.IGNORECASE)

    def load(self) -> None:
        """Nothing to load up front: the model loads on the first text."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """Return PERSON and LOCATION (and ORGANIZATION if asked) results; never raises on
        ordinary text. Raises OSError if the model files cannot be read."""
        return [self._result(*hit) for hit in self.find(text, tagger().entities(text))]

    def find(self, text: str, spans: tuple[NerSpan, ...]) -> list[tuple[str, int, int, float]]:
        """(entity, start, end, score) of ``text`` from its NER ``spans``."""
        whole = text.strip()
        found = []
        for start, end, joined in _people(text, spans):
            if self._is_name(text, start, end, joined=joined):
                score = self.SCORE_WHOLE_VALUE if text[start:end] == whole else self.SCORE_PERSON
                found.append(("PERSON", start, end, score))
        found += [("LOCATION", start, end, self.SCORE_ADDRESS)
                  for start, end in self._addresses(text, spans)]
        if "ORGANIZATION" in self.supported_entities:
            found += [("ORGANIZATION", s.start, s.end, self.SCORE_ORGANIZATION)
                      for s in spans if s.label == "ORG"]
        return found

    def _is_name(self, text: str, start: int, end: int, *, joined: bool) -> bool:
        """Whether a person ``text[start:end]`` of the model is a name: two Chinese characters
        or more, not a role word; a name of parts joined by a dot is one. Else two characters
        only with a surname first (``集簇``, ``哈希`` are not; ``老王``, ``小李`` are); and a
        word that does not read as a Chinese name (no surname, or four characters without a
        compound one) is no name when a place or language word follows it on its own
        (``普什图语``, ``马佐夫舍省``; ``郑海港``, ``李明市长`` are names)."""
        word = text[start:end]
        han = sum("\u4e00" <= c <= "\u9fff" for c in word)
        if han < 2 or word in self.NOT_NAMES:
            return False
        if joined:
            return True
        if len(word) == 2 and not (surname_of(word)
                                   or (word[0] in "小老阿" and surname_of(word[1]))):
            return False
        surname = surname_of(word)
        if surname and len(word) - len(surname) <= 2:
            return True  # reads as a Chinese name: a place word after it is its own (郑海|港)
        following = next(iter(cut(text[end:end + 4])), "") if end < len(text) else ""
        return following not in PLACE_WORDS

    def _addresses(self, text: str, spans: tuple[NerSpan, ...]) -> list[tuple[int, int]]:
        """Runs of adjacent place spans that a house number ends or follows, or that a
        residence word precedes and that name something below the district: (start, end)
        with the house numbers included."""
        out = []
        for start, end in _place_runs(spans):
            tail = _TAIL.match(text, end)
            end = tail.end() if tail else end
            numbered = has_house_number(text, start, end)
            lived_in = self._residence.search(text[max(0, start - 8 - self.CONTEXT_REACH):start])
            if numbered or (lived_in and _BELOW_DISTRICT.search(text, start, end)):
                out.append((start, end))
        return out

    def _result(self, entity: str, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=entity, start=start, end=end, score=score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
            },
        )


def _people(text: str, spans: tuple[NerSpan, ...]) -> list[tuple[int, int, bool]]:
    """(start, end, joined) of each person in ``text``: the model's person spans trimmed to
    the name (no emoji or title at their edges: ``刘女士`` is 刘's), stretched over the parts
    of a name joined by a dot or a hyphen (热依拉.艾买提, 阿依古丽·买买提: the model often
    stops at the separator), names with a middle dot the model missed, touching ones merged.
    ``joined`` tells a name of joined parts."""
    found = []
    for s in spans:
        if s.label == "PER" and (person := _trimmed_name(text, s.start, s.end)):
            found.append(person)
    for dot in _DOT.finditer(text):  # a name with a middle dot, also where the model missed it
        start, _, _ = _joined(text, dot.end(), dot.end())
        _, end, _ = _joined(text, dot.start(), dot.start())
        if start < dot.start() and end > dot.end():
            found.append((start, end))
    people: list[list[Any]] = []
    for start, end in sorted(found):
        start, end, joined = _joined(text, start, end)
        if people and start <= people[-1][1]:
            people[-1][1] = max(people[-1][1], end)
            people[-1][2] = people[-1][2] or joined
        else:
            people.append([start, end, joined])
    return [(s, e, j) for s, e, j in people]


def _trimmed_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and not _in_name(text[start]):
        start += 1
    while end > start and not _in_name(text[end - 1]):
        end -= 1
    if text.endswith("家", start, end) and end - start > 2 and text[end:end + 1] in _AFTER_HOME:
        end -= 1  # 李强家住…: the model takes the 家 of 家住 into the name
    for title in _TITLES:
        if text.endswith(title, start, end) and end - len(title) - start >= 2:
            end -= len(title)
            break
        if text.endswith(title, start, end):
            return None  # a surname and a title: the surname is what masking would keep
    return (start, end) if end > start else None


def _joined(text: str, start: int, end: int) -> tuple[int, int, bool]:
    """``text[start:end]`` stretched over name parts joined to it by a separator, each part
    ending before a word that cannot be in a name (来电, 先生, 的 …) and starting after one
    (居民, 反映 …)."""
    joined = False
    while end + 1 < len(text) and text[end] in _SEPARATORS and _is_han(text[end + 1]):
        part = _HAN_RUN.match(text, end + 1).group()[:8]
        stop = next((i for i in range(len(part))
                     if part[i] in _NOT_IN_NAME or part.startswith(_AFTER_NAME, i)), len(part))
        if stop == 0:
            break
        end, joined = end + 1 + stop, True
    while start >= 2 and text[start - 1] in _SEPARATORS and _is_han(text[start - 2]):
        left = start - 1
        first = left
        while first > 0 and _is_han(text[first - 1]) and left - first < 8:
            first -= 1
        part = text[first:left]
        cut_at = max([i + 1 for i, c in enumerate(part) if c in _NOT_IN_NAME]
                     + [part.rfind(w) + len(w) for w in PERSON_CONTEXT if w in part] + [0])
        if cut_at >= len(part):
            break
        start, joined = first + cut_at, True
    return start, end, joined


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _in_name(char: str) -> bool:
    return _is_han(char) or char in "·•・‧"


_SEPARATORS = "·•・‧.．-－▪"
_AFTER_HOME = tuple("住里中门的人")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
#: The middle dot of a name (transliterated, or of China's minorities) the model may miss.
_DOT = re.compile(r"(?<=[\u4e00-\u9fff])[·•・‧▪](?=[\u4e00-\u9fff])")
_NOT_IN_NAME = NAME_BREAKERS | frozenset("是将被把已曾")
_AFTER_NAME = (*HONORIFICS, "咨询", "表示", "认为")
_TITLES = (*HONORIFICS, "警官", "医生", "主任", "经理", "律师", "院长", "局长", "科长", "处长",
           "书记")


#: A unit below the district: the address suffixes after the last one the mask keeps (旗),
#: what an address masked to the district would hide (家住成都 names a city: nothing to hide).
_BELOW_DISTRICT = re.compile("|".join(ADDRESS_SUFFIXES[ADMIN_SUFFIXES.index("旗") + 1:]))


def _place_runs(spans: tuple[NerSpan, ...]) -> list[tuple[int, int]]:
    """(start, end) of each run of LOC spans that touch (the model cuts 成都市|锦江区|春熙路)."""
    runs: list[list[int]] = []
    for s in spans:
        if s.label != "LOC":
            continue
        if runs and s.start - runs[-1][1] <= 0:
            runs[-1][1] = s.end
        else:
            runs.append([s.start, s.end])
    return [(a, b) for a, b in runs]
