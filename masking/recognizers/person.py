"""Chinese person names: jieba part-of-speech ``nr`` + surname list + context words.

jieba segments the text (its HMM finds words its dictionary lacks); a word tagged ``nr`` in the
dictionary, or unknown to it, that starts with a surname is a name. Only these places are
searched, which keeps the recognizer fast on long texts: right after a context word (姓名 市民
来电人 我叫 …), right before an honorific (先生 女士 …), at the start of a clause before a
reporting verb (``陈峰咨询…``, ``，王芳反映…``, also after an aside: ``王芳（电话…）反映``,
``王芳于3月5日来电``), at the very start of a text before a pause (``王芳，电话…``), and a
whole value that is nothing but a name (a name column). These rules find names where 12345
tickets put them; names anywhere else are found by the NER model
(:mod:`masking.recognizers.chinese_ner`), which also vetoes a rule hit inside a place or an
organisation (``王府井``, ``张家湾``). Romanised names are not detected here.
"""

from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from masking._jieba import frequency_of
from masking._ner import NerSpan, tagger
from masking._words import HONORIFICS, NAME_BREAKERS, PERSON_CONTEXT
from masking.recognizers._base import HAN
from masking.recognizers._lexicon import ADDRESS_SUFFIXES, UNKNOWN, pos_tag, surname_of, tag_of

__all__ = ["Hit", "PersonRecognizer"]

#: A found name: (start, end, score, whether the score already counts the context).
Hit = tuple[int, int, float, bool]

#: jieba tags of common words: a run tagged so as one word is no name (方晶 n, 居民 n).
_COMMON_TAGS = frozenset(("n", "v", "vn", "a", "ad", "an", "d", "r", "m", "p", "c", "u", "t", "f",
                          "q", "l", "i", "b", "s", "y", "e", "o", "nz", "vd"))


def _is_name_word(word: str, flag: str) -> bool:
    """A 2-4 character word starting with a surname, tagged a person name or unknown to jieba."""
    return (2 <= len(word) <= 4 and bool(surname_of(word))
            and (flag.startswith("nr") or flag == UNKNOWN))


class PersonRecognizer(EntityRecognizer):
    """Detect Chinese person names near context words, or as the whole value."""

    ENTITY: ClassVar[str] = "PERSON"
    CONTEXT: ClassVar[tuple[str, ...]] = PERSON_CONTEXT
    HONORIFICS: ClassVar[tuple[str, ...]] = HONORIFICS
    SCORE_POS_TAGGED: ClassVar[float] = 0.85
    SCORE_UNKNOWN_WORD: ClassVar[float] = 0.75
    SCORE_SURNAME_ONLY: ClassVar[float] = 0.55
    #: A bare 2-3 character value starting with a surname: below the threshold unless context
    #: (e.g. the column header 姓名 passed to ``analyze``) raises it.
    SCORE_SHAPE_ONLY: ClassVar[float] = 0.45
    WINDOW: ClassVar[int] = 5
    #: Between a context word and a reporting verb, a dictionary word rarer than this is a name.
    RARE_WORD: ClassVar[int] = 100
    #: Verbs a caller's name is the subject of, at the start of a clause.
    REPORTING_VERBS: ClassVar[tuple[str, ...]] = (
        "反映", "来电", "咨询", "投诉", "举报", "表示", "询问", "称", "诉称", "报称", "要求",
        "希望", "建议", "来访", "致电", "申请", "求助",
    )
    _WHOLE = re.compile(rf"[{HAN}]{{2,4}}|[{HAN}]{{1,3}}[·•][{HAN}]{{1,6}}")
    _NAME_CHARS = re.compile(rf"[{HAN}]+")
    _NOT_IN_NAME = NAME_BREAKERS

    def __init__(self, *, supported_language: str = "zh") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=f"{type(self).__name__}_{supported_language}",
            supported_language=supported_language,
            context=list(self.CONTEXT),
        )
        leading = [w for w in self.CONTEXT if w not in self.HONORIFICS]
        words = "|".join(sorted(map(re.escape, leading), key=len, reverse=True))
        self._trigger = re.compile(rf"(?:{words})[:：\s]{{0,2}}(?:是|为)?", re.IGNORECASE)
        self._honorific = re.compile(rf"(?<=[{HAN}]{{2}})(?:{'|'.join(self.HONORIFICS)})")
        verbs = "|".join(sorted(self.REPORTING_VERBS, key=len, reverse=True))
        # the verb may follow an aside (王欣（电话…）反映), a colon or comma (王欣：反映…), or
        # a time (王欣于3月5日来电)
        aside = r"[（(][^（）()]{1,40}[）)]|[：:，,]\s*|于[^，,。；;：]{1,24}?"
        self._subject = re.compile(
            rf"(?:^|(?<=[^{HAN}]))([{HAN}]{{2,4}}?)(?=(?:{aside})?(?:{verbs}))")
        # a text that opens with a name and a pause: 王欣，电话… / 王欣（低保户）…
        self._opening = re.compile(rf"^\s*([{HAN}]{{2,4}}?)(?=[（(，,：:])")

    def load(self) -> None:
        """Nothing to load: jieba initialises itself on first use."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """Return PERSON results; never raises on ordinary text."""
        stripped = text.strip()
        if self._WHOLE.fullmatch(stripped):
            whole = self._whole_value(stripped, text.index(stripped))
            return [self._result(*whole)] if whole else []
        found = [self._after_trigger(text, m.end()) for m in self._trigger.finditer(text)]
        found += [self._before_honorific(text, m.start()) for m in self._honorific.finditer(text)]
        found += [self._subject_of_verb(m.group(1), m.start(1), text)
                  for m in self._subject.finditer(text)]
        opening = [self._opening_name(m.group(1), m.start(1)) for m in self._opening.finditer(text)]
        hits = self.outside_places(text, [hit for hit in found if hit])
        hits += self.outside_places(text, [hit for hit in opening if hit], as_long=True)
        return [self._result(*hit) for hit in hits]

    @staticmethod
    def outside_places(text: str, hits: list[Hit], *, as_long: bool = False) -> list[Hit]:
        """The hits that no longer place or organisation found by the NER model holds
        (``王府井`` in ``王府井大街``, ``张家湾`` in ``张家湾镇政府``), unless the model found a
        person there too. A place just as long (``高丽``) is the model's guess against the
        rules': it wins only with ``as_long`` (a text's opening word before a pause,
        ``张家港，``, the weakest rule). Not asked of a whole
        value (a cell of a name column: ``黄梅`` is a name there, though also a county)."""
        if not hits:
            return hits
        spans: tuple[NerSpan, ...] = tagger().entities(text)
        places = [(s.start, s.end) for s in spans if s.label != "PER"]
        if not places:
            return hits
        people = [(s.start, s.end) for s in spans if s.label == "PER"]
        return [hit for hit in hits
                if not any(a <= hit[0] and hit[1] <= b and (as_long or b - a > hit[1] - hit[0])
                           for a, b in places)
                or any(a < hit[1] and hit[0] < b for a, b in people)]

    # The searches below return a Hit, (start, end, score, enhanced by context): the batch path
    # (masking._finders) calls them too, without building result objects.

    def _subject_of_verb(self, run: str, start: int, text: str = "") -> Hit | None:
        """A clause that opens with a name and a reporting verb: the whole run must be the name,
        and the verb a word of its own (not the 称 of ``名称``, ``号称``)."""
        if not surname_of(run) or run.endswith(self.HONORIFICS):
            return None  # 刘女士反映: a surname and an honorific, no name to mask
        verb_at = start + len(run)
        if text[verb_at:verb_at + 1] == "称" and tag_of(run[-1] + "称") != UNKNOWN:
            return None
        name, score = self._name_at_start(run)
        if name == run:
            return self._hit(start, start + len(run), score)
        return self._hit(start, start + len(run), self.SCORE_UNKNOWN_WORD) \
            if self._reads_as_name(run) else None

    def _opening_name(self, run: str, start: int) -> Hit | None:
        """A text that opens with a name then a pause (no verb to confirm it): only a run that
        jieba reads as a name, or a surname and one or two characters it does not know as a
        word or a place, not ending in an address suffix (王欣， yes; 周末， 目前， 高新区， no;
        张家港， yes: jieba's dictionary tags it as a person's name)."""
        if not surname_of(run) or run.endswith(ADDRESS_SUFFIXES) or run in self.CONTEXT:
            return None  # 申请人：… is a form's label (jieba's dictionary tags it a name)
        name, score = self._name_at_start(run)
        if name == run and score >= self.SCORE_UNKNOWN_WORD:
            return self._hit(start, start + len(run), score)
        first, flag = pos_tag(run)[0]
        if len(first) >= 2 and flag in _COMMON_TAGS:
            return None  # 常住地：… opens with a common word (常住): a form's label
        if self._reads_as_name(run) and not tag_of(run).startswith("ns"):
            return self._hit(start, start + len(run), self.SCORE_UNKNOWN_WORD)
        return None

    def _whole_value(self, value: str, offset: int) -> Hit | None:
        if not surname_of(value) or value.endswith(ADDRESS_SUFFIXES):
            return None
        name, score = self._name_at_start(value)
        if len(name) == len(value):
            return self._hit(offset, offset + len(value), score)
        if len(value) > 3:
            return None
        return self._hit(offset, offset + len(value), self.SCORE_SHAPE_ONLY, enhanced=False)

    def _after_trigger(self, text: str, start: int) -> Hit | None:
        run = self._NAME_CHARS.match(text, start, start + self.WINDOW)
        if not run or not surname_of(run.group()):
            return None
        bounded = self._bounded_run(text, start)
        if bounded:
            return self._hit(start, start + len(bounded), self.SCORE_UNKNOWN_WORD)
        name, score = self._name_at_start(run.group())
        return self._hit(start, start + len(name), score) if name else None

    def _bounded_run(self, text: str, start: int) -> str:
        """The 2-4 characters from ``start`` up to a reporting verb or a non-Han character, if
        they read as a name (市民王飞来电: jieba's 飞来 must not hide 王飞); else ""."""
        for end in range(start + 2, min(start + 4, len(text)) + 1):
            if end == len(text) or not "\u4e00" <= text[end] <= "\u9fff" \
                    or text.startswith(self.REPORTING_VERBS, end):
                run = text[start:end]
                return run if self._reads_as_name(run, rare=self.RARE_WORD) else ""
        return ""

    def _reads_as_name(self, run: str, *, rare: int = 0) -> bool:
        """A surname and one or two given Chinese characters that jieba does not know as a
        common word; a word its dictionary counts fewer than ``rare`` times still reads as a
        name (``应明``, 17, between 市民 and 反映: not ``强烈``, 5,076)."""
        surname = surname_of(run)
        given = run[len(surname):]
        if not surname or not 1 <= len(given) <= 2 or run in self.CONTEXT:
            return False
        if any(c in self._NOT_IN_NAME or not "\u4e00" <= c <= "\u9fff" for c in given):
            return False
        if tag_of(run) not in _COMMON_TAGS:
            return True  # jieba reads the run as one common word only if its dictionary has it so
        words = pos_tag(run)
        if len(words) == 1 and words[0][1] in _COMMON_TAGS:
            return frequency_of(run) < rare
        return True

    def _name_at_start(self, run: str) -> tuple[str, float]:
        """The name ``run`` starts with and its score, or ("", 0) if it starts with none."""
        words = pos_tag(run)
        first, flag = words[0]
        if _is_name_word(first, flag):
            if flag == UNKNOWN and len(first) > 2 and first[-1] in self._NOT_IN_NAME:
                first = first[:-1]  # the HMM glued a verb on: 陈静称 -> 陈静
            return first, (self.SCORE_POS_TAGGED if flag.startswith("nr")
                           else self.SCORE_UNKNOWN_WORD)
        surname = surname_of(run)
        if first != surname or len(words) < 2:
            return "", 0.0
        given, given_flag = words[1]
        if len(given) <= 2 and (given_flag.startswith("nr") or given_flag == UNKNOWN):
            return surname + given, self.SCORE_UNKNOWN_WORD
        if len(given) == 1 and given not in self._NOT_IN_NAME:
            return surname + given, self.SCORE_SURNAME_ONLY
        return "", 0.0

    def _before_honorific(self, text: str, end: int) -> Hit | None:
        words = pos_tag(text[max(0, end - 4) : end])
        last_word, flag = words[-1] if words else ("", "")
        if _is_name_word(last_word, flag) and len(last_word) <= 3:
            return self._hit(end - len(last_word), end, self.SCORE_UNKNOWN_WORD)
        pair = text[max(0, end - 2) : end]
        if (self._NAME_CHARS.fullmatch(pair) and surname_of(pair)
                and pair[1] not in self._NOT_IN_NAME):
            return self._hit(end - 2, end, self.SCORE_SURNAME_ONLY)
        return None

    @staticmethod
    def _hit(start: int, end: int, score: float, *, enhanced: bool = True) -> Hit:
        return (start, end, score, enhanced)

    def _result(self, start: int, end: int, score: float,
                enhanced: bool = True) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: enhanced,
            },
        )
