"""English person names in text, without an NER model: after a title or a context word
(``Mr. Smith``, ``Contact: Mary Wilson``, ``my name is John Brown``), or a common given name
followed by a capitalised surname (``Emily Clarke``). Names in no such place are not detected.
"""

from __future__ import annotations

from typing import ClassVar

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

__all__ = ["EnglishNameRecognizer"]

_WORD = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?"
_GIVEN_NAMES = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph",
                "Thomas", "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark",
                "Donald", "Steven", "Paul", "Andrew", "Joshua", "Kenneth", "Kevin", "Brian",
                "George", "Timothy", "Ronald", "Edward", "Jason", "Jeffrey", "Ryan", "Jacob",
                "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry", "Justin", "Scott",
                "Brandon", "Benjamin", "Samuel", "Peter", "Henry", "Jack", "Oliver", "Harry",
                "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
                "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley",
                "Kimberly", "Emily", "Donna", "Michelle", "Carol", "Amanda", "Dorothy", "Melissa",
                "Deborah", "Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia", "Kathleen", "Amy",
                "Angela", "Anna", "Emma", "Olivia", "Grace", "Sophie", "Alice", "Lucy", "Hannah",
                "Chloe"]


class EnglishNameRecognizer(EntityRecognizer):
    """Detect English names after titles and context words, or led by a common given name."""

    ENTITY: ClassVar[str] = "PERSON"
    TITLES: ClassVar[tuple[str, ...]] = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir",
                                         "Madam")
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "name is", "name:", "Name:", "named", "called", "Contact:", "contact", "Dear", "Resident",
        "resident", "Applicant", "applicant", "Caller", "caller", "Complainant", "complainant",
        "Patient", "patient", "Signed", "signed by", "Customer", "customer", "Citizen", "citizen",
    )
    #: Capitalised words that follow a context word but are no name.
    NOT_NAMES: ClassVar[frozenset[str]] = frozenset(
        ["The", "This", "That", "These", "Those", "Our", "Your", "Their", "His", "Her", "Its", "Us",
         "We", "You", "They", "It", "Sir", "Madam", "All", "Customer", "Service", "Support", "Team",
         "Office", "Department", "Bureau", "Center", "Centre", "Street", "Road", "Avenue", "China",
         "Chengdu", "Beijing", "Sichuan", "Shanghai", "Monday", "Tuesday", "Wednesday", "Thursday",
         "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May", "June",
         "July", "August", "September", "October", "November", "December", "Please", "Thank",
         "Thanks", "Hello", "Hi", "Dear", "No", "Yes", "Not", "Number", "ID", "Phone", "Email"])
    SCORE_TITLE: ClassVar[float] = 0.85
    SCORE_CONTEXT: ClassVar[float] = 0.75
    SCORE_GIVEN_NAME: ClassVar[float] = 0.65
    #: Cheap test a text must pass to be worth analysing (used by the engine's prefilter).
    QUICK: ClassVar[str] = r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|[Nn]ame|[Cc]ontact|Dear|[Rr]esident|" \
        r"[Aa]pplicant|[Cc]aller|[Cc]omplainant|[Pp]atient|[Ss]igned|[Cc]ustomer|[Cc]itizen|" \
        r"called|" + "|".join(_GIVEN_NAMES) + r")\b"

    def __init__(self, *, supported_language: str = "en") -> None:
        super().__init__(supported_entities=[self.ENTITY],
                         name=f"{type(self).__name__}_{supported_language}",
                         supported_language=supported_language, context=[])
        titles = "|".join(self.TITLES)
        context = "|".join(re.escape(c) for c in sorted(self.CONTEXT, key=len, reverse=True))
        self._patterns = (
            (re.compile(rf"\b(?:{titles})\.?\s+({_WORD}(?:\s+{_WORD})?)"), self.SCORE_TITLE),
            (re.compile(rf"(?:{context})\s*:?\s+({_WORD}(?:\s+{_WORD}){{0,2}})"),
             self.SCORE_CONTEXT),
            (re.compile(rf"\b((?:{'|'.join(_GIVEN_NAMES)})\s+{_WORD})\b"), self.SCORE_GIVEN_NAME),
        )

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """Return PERSON results for English names; never raises on ordinary text."""
        found = []
        for pattern, score in self._patterns:
            for match in pattern.finditer(text):
                start, end = self._trimmed(match.group(1), match.start(1))
                if end > start:
                    found.append(self._result(start, end, score))
        return found

    def _trimmed(self, name: str, start: int) -> tuple[int, int]:
        """Drop words from the end that are no name (``Mary Wilson Street`` -> ``Mary Wilson``);
        nothing is left when the first word is no name."""
        end = start
        for word in re.finditer(r"\S+", name):
            if word.group() in self.NOT_NAMES:
                break
            end = start + word.end()
        return start, end

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY, start=start, end=end, score=score,
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
