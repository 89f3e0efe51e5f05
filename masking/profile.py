"""Column profiling: from a sample of each column and its header, decide what the column holds.

- **identifier**: one entity type, most sampled cells are wholly that entity (or the header
  says so and enough cells agree) -> mask the column in bulk. "Wholly" is the analyzer's
  answer value by value, completed by rules that read the column as a whole
  (:mod:`masking._column_rules`: whole addresses; name-shaped values in a column of names);
- **free_text**: PII found inside some cells -> scrub span by span;
- **none**: nothing found and the header suggests nothing.
A header alone that names a personal field (姓名, 手机号, 住址 …) still marks an identifier,
with low confidence, so that a steward reviews it rather than it leaving unmasked.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import regex as re

from masking._column_rules import claimed_entities
from masking._columns import to_strings
from masking._shortcut import settled_entity
from masking.errors import InvalidMaskingPlan

if TYPE_CHECKING:
    from presidio_analyzer import RecognizerResult

__all__ = ["ColumnProfile", "profile_table", "profile_column", "header_entity", "KINDS"]

Kind = Literal["identifier", "free_text", "none"]
KINDS: tuple[str, ...] = ("identifier", "free_text", "none")
IDENTIFIER_SHARE = 0.6
IDENTIFIER_SHARE_WITH_HEADER = 0.3
HEADER_ONLY_CONFIDENCE = 0.3

# Checked in order: the first entity whose words appear in the header wins.
_HEADER_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("IP_ADDRESS", ("ip地址", "ip_address", "ipaddress", "ip")),
    ("CN_RESIDENT_ID", ("身份证", "证件号", "身份号码", "id_card", "idcard", "id_no", "id_number")),
    ("CN_USCC", ("信用代码", "uscc", "credit_code")),
    ("CN_LANDLINE", ("座机", "固话", "固定电话", "办公电话", "landline")),
    ("CN_MOBILE", ("手机", "电话", "联系方式", "mobile", "phone", "tel", "telephone", "cellphone")),
    ("BANK_CARD", ("银行卡", "卡号", "银行账号", "bank_card", "card_no", "card_number")),
    ("CN_LICENSE_PLATE", ("车牌", "号牌", "plate", "license_plate")),
    ("PASSPORT", ("护照", "passport")),
    ("EMAIL_ADDRESS", ("邮箱", "电子邮件", "email", "e_mail", "mail")),
    ("LOCATION", ("住址", "地址", "户籍地", "居住地", "address", "addr")),
    # a birth date is a quasi-identifier: with the kept ends of a masked resident ID it gives
    # the whole number back, so it is personal data even though no recognizer flags a date
    ("BIRTH_DATE", ("出生日期", "出生年月", "生日", "birth", "birthday", "date_of_birth", "dob",
                    "birth_date")),
    ("PERSON", ("姓名", "名字", "联系人", "申请人", "投诉人", "户主", "=name", "=full_name",
                "=real_name")),
)
# ASCII words match a whole token of the header (``mobile_no`` has ``mobile``); "=word" must be
# the whole header (``name``, not ``product_name``); other words match anywhere (``联系电话``).


@dataclass(frozen=True)
class ColumnProfile:
    """What a column holds, from a sample: ``matched`` of ``sampled`` cells support the verdict."""

    column: str
    kind: Kind
    entity: str | None
    confidence: float
    sampled: int
    matched: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        """Rebuild a profile; raises InvalidMaskingPlan for missing fields or an unknown kind."""
        try:
            profile = cls(
                column=str(data["column"]),
                kind=data["kind"],
                entity=data.get("entity"),
                confidence=float(data["confidence"]),
                sampled=int(data["sampled"]),
                matched=int(data["matched"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidMaskingPlan(f"malformed column profile: {exc}") from exc
        if profile.kind not in KINDS:
            raise InvalidMaskingPlan(f"unknown column kind {profile.kind!r}")
        return profile


def header_entity(header: str) -> str | None:
    """The entity a column header names (``手机号`` -> CN_MOBILE), or None."""
    text = str(header).strip().lower()
    tokens = [t for t in re.split(r"[^0-9a-z]+", text) if t]
    for entity, words in _HEADER_WORDS:
        if any(_header_has(word, text, tokens) for word in words):
            return entity
    return None


def _header_has(word: str, text: str, tokens: list[str]) -> bool:
    if word.startswith("="):
        return "_".join(tokens) == word[1:] and text.isascii()
    if not word.isascii():
        return word in text
    return word in tokens or ("_" in word and f"_{word}_" in f"_{'_'.join(tokens)}_")


def profile_table(
    df: pd.DataFrame, *, analyzer: Any = None, sample_size: int = 200
) -> list[ColumnProfile]:
    """Profile every column of ``df`` in order; raises InvalidMaskingPlan if sample_size < 1."""
    if sample_size < 1:
        raise InvalidMaskingPlan("sample_size must be at least 1")
    return [
        profile_column(df[column], str(column), analyzer=analyzer, sample_size=sample_size)
        for column in _unique_columns(df)
    ]


def _unique_columns(df: pd.DataFrame) -> list[Any]:
    if not df.columns.is_unique:
        raise InvalidMaskingPlan("the table has duplicate column names")
    return list(df.columns)


def profile_column(
    values: pd.Series, header: str, *, analyzer: Any = None, sample_size: int = 200
) -> ColumnProfile:
    """Profile one column from up to ``sample_size`` non-null cells and its ``header``."""
    sample = _sample(values, sample_size)
    hint = header_entity(header)
    if not sample:
        return _by_header(header, hint, 0)
    default = _is_default(analyzer)
    settled = settled_entity(header, hint, sample) if default else None
    if settled:  # the analyzer's own answer, known without building it (masking._shortcut)
        return _decide(header, hint, len(sample), Counter({settled: len(sample)}), len(sample))
    if default and not any(_MAY_HOLD_PII.search(value) for value in sample):
        # amounts, counts, dates: the analyzer's prefilter skips every value, so it finds nothing
        return _decide(header, hint, len(sample), Counter(), 0)
    from masking.engine import analyze_texts  # Presidio: loaded when a column needs it

    results = analyze_texts(sample, analyzer=analyzer, context=[header])
    entities = claimed_entities(
        sample, [_whole_entity(text, found) for text, found in zip(sample, results)], hint)
    whole = Counter(e for e in entities if e)
    hits = sum(1 for found, entity in zip(results, entities) if found or entity)
    return _decide(header, hint, len(sample), whole, hits)


#: What a value needs for the default analyzer's prefilter (``masking.engine.may_contain_pii``)
#: to let it through: a Chinese character, a letter, ``@`` or ``:``, five digits in a row, a
#: 3-4 split number, a dotted quad, or a phone's shape (``639.950.0538``, ``+33 1 23 45 67 89``,
#: ``0033 1…``). Wider than the prefilter, never narrower.
_MAY_HOLD_PII = re.compile(r"[\u4e00-\u9fffA-Za-z@:]|\d{5}|\d{3}[\s)-]+\d{4}"
                           r"|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\d{3}\.\d{4}|\+\s?\d|00\d")


def _is_default(analyzer: Any) -> bool:
    """Whether ``analyzer`` is the offline one :func:`masking.build_analyzer` makes, unchanged
    (None stands for it): the shortcut knows only its answers."""
    if analyzer is None:
        return True
    engine = sys.modules.get("masking.engine")  # an analyzer it built means it is loaded
    return engine is not None and engine.is_default_analyzer(analyzer)


def _sample(values: pd.Series, size: int) -> list[str]:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return []
    present = values.dropna()
    if len(present) > size:
        present = present.sample(n=size, random_state=0)
    return [s.strip() for s in to_strings(present).to_pylist() if s is not None and s.strip()]


def _whole_entity(text: str, found: list[RecognizerResult]) -> str | None:
    """The entity covering all of ``text`` (ignoring surrounding spaces), if any."""
    best = max((r for r in found if r.start == 0 and r.end >= len(text)),
               key=lambda r: r.score, default=None)
    return best.entity_type if best else None


def _decide(header: str, hint: str | None, sampled: int, whole: Counter,
            hits: int) -> ColumnProfile:
    entity, count = whole.most_common(1)[0] if whole else (None, 0)
    share = count / sampled
    if share >= IDENTIFIER_SHARE or (entity == hint and share >= IDENTIFIER_SHARE_WITH_HEADER):
        confidence = min(1.0, share + (0.1 if entity == hint else 0.0))
        return ColumnProfile(header, "identifier", entity, round(confidence, 3), sampled, count)
    if hits:
        return ColumnProfile(header, "free_text", None, round(hits / sampled, 3), sampled, hits)
    return _by_header(header, hint, sampled)


def _by_header(header: str, hint: str | None, sampled: int) -> ColumnProfile:
    if hint:
        return ColumnProfile(header, "identifier", hint, HEADER_ONLY_CONFIDENCE, sampled, 0)
    return ColumnProfile(header, "none", None, 1.0 if sampled else 0.0, sampled, 0)
