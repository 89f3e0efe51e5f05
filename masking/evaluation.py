"""A labeled, seeded evaluation set, and how well detection and masking do on it.

Chinese and English sentences with identifiers planted at known places, identifier columns with
their headers, and hard negatives that must come through unchanged: order numbers, ID-shaped
strings whose check character is wrong, timestamps, amounts, area and postal codes, ticket
numbers. Everything is generated from a seed, so a figure can be reproduced::

    cases, columns = generate_cases(n=2000, seed=11)
    scores = evaluate(cases, columns, analyzer=build_analyzer())
    scores.survival_rate, scores.negatives_altered_rate, scores.per_entity["CN_MOBILE"]
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from masking.checksums import luhn_check_digit, resident_id_check_char, uscc_check_char

__all__ = ["Case", "LabeledColumn", "Scores", "evaluate", "generate_cases"]

_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美淑惠珠翠雅芝玉萍红娥玲芬燕彩春菊"
          "兰凤洁梅琳素云莲真环雪荣爱霞香月媛建国志刚宇飞婷晶欣怡浩然子轩梓涵")
_COMMON_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田"
                    "董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢傅钟赖洪")
_EN_FIRST = ("John", "Mary", "David", "Sarah", "Michael", "Emma", "James", "Olivia", "Robert",
             "Linda", "William", "Emily", "Thomas", "Anna", "Daniel", "Grace")
_EN_LAST = ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker",
            "Wright", "Thompson", "Clarke", "Hughes", "Green", "Baker")
_DISTRICTS = (("成都市", "锦江区", "春熙路"), ("成都市", "武侯区", "人民南路"),
              ("成都市", "简阳市", "雄州大道"), ("成都市", "高新区", "天府大道"),
              ("绵阳市", "涪城区", "临园路"), ("成都市", "双流区", "东升街道"))
_PROVINCES = "川京沪粤浙苏"
_PLATE = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class Case:
    """A sentence, the (entity, value) pairs planted in it, and values that must stay."""

    text: str
    planted: tuple[tuple[str, str], ...]
    negatives: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class LabeledColumn:
    """A column of values under a header: all of ``entity`` (or None: hard negatives)."""

    header: str
    entity: str | None
    values: tuple[str, ...]


@dataclass
class Scores:
    """Per entity counts (span level, sentences) and the share of values that survive masking."""

    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    planted: int = 0
    survived: int = 0
    negatives: int = 0
    negatives_altered: int = 0
    survivors: list[tuple[str, str]] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)

    @property
    def survival_rate(self) -> float:
        """Share of planted values found verbatim in the masked output."""
        return self.survived / self.planted if self.planted else 0.0

    @property
    def negatives_altered_rate(self) -> float:
        """Share of hard negatives not found verbatim in the masked output."""
        return self.negatives_altered / self.negatives if self.negatives else 0.0

    def per_entity(self) -> dict[str, dict[str, float]]:
        """{entity: {precision, recall, tp, fp, fn}} over the sentences."""
        out = {}
        for entity in sorted(set(self.tp) | set(self.fp) | set(self.fn)):
            tp, fp, fn = self.tp[entity], self.fp[entity], self.fn[entity]
            out[entity] = {"precision": tp / (tp + fp) if tp + fp else 1.0,
                           "recall": tp / (tp + fn) if tp + fn else 1.0,
                           "tp": tp, "fp": fp, "fn": fn}
        return out


# --- generating -------------------------------------------------------------------------


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: Any) -> Any:
        return self.rng.choice(options)

    def digits(self, n: int) -> str:
        return "".join(self.pick("0123456789") for _ in range(n))

    def resident_id(self) -> str:
        body = (f"{self.pick(('510104', '510107', '110105', '440305', '510180'))}"
                f"{self.rng.randint(1950, 2008)}{self.rng.randint(1, 12):02d}"
                f"{self.rng.randint(1, 28):02d}{self.digits(3)}")
        return body + resident_id_check_char(body)

    def grouped_id(self) -> str:
        """An ID as people write it for reading: 6-8-4 or 6-4-4-4, spaces or hyphens."""
        v, sep = self.resident_id(), self.pick(" -")
        return sep.join((v[:6], v[6:14], v[14:]) if self.rng.random() < 0.5
                        else (v[:6], v[6:10], v[10:14], v[14:]))

    def bad_id(self) -> str:
        good = self.resident_id()
        wrong = self.pick([c for c in "0123456789X" if c != good[-1]])
        return good[:-1] + wrong

    def mobile(self, styled: bool = True) -> str:
        m = "1" + self.pick("3456789") + self.digits(9)
        if not styled:
            return m
        return self.pick((m, m, f"{m[:3]}-{m[3:7]}-{m[7:]}", f"{m[:3]} {m[3:7]} {m[7:]}",
                          f"+86 {m}", f"+86-{m}"))

    def landline(self) -> str:
        return self.pick((f"028-{self.pick('68')}{self.digits(7)}",
                          f"010-{self.pick('68')}{self.digits(7)}",
                          f"0816-{self.pick('2')}{self.digits(6)}"))

    def uscc(self) -> str:
        body = "91" + self.pick(("510100", "510104", "110105")) + "".join(
            self.pick(_USCC_CHARS[:30]) for _ in range(9))
        return body + uscc_check_char(body)

    def card(self) -> str:
        body = self.pick(("622202", "622848", "621700", "623668")) + self.digits(12)
        return body + luhn_check_digit(body)

    def bad_card(self) -> str:
        card = self.card()
        return card[:-1] + str((int(card[-1]) + 1 + self.rng.randrange(9)) % 10)

    def plate(self) -> str:
        body = "".join(self.pick(_PLATE) for _ in range(4)) + self.pick("0123456789")
        return self.pick(_PROVINCES) + self.pick("ABCDEFG") + (
            body if self.rng.random() < 0.7 else self.pick("DF") + body)

    def passport(self) -> str:
        return self.pick("EG") + self.digits(8)

    def email(self) -> str:
        return (f"{self.pick(_EN_FIRST).lower()}.{self.digits(3)}"
                f"@{self.pick(('example.com', 'qq.com', '163.com', 'gov.cn'))}")

    def ip(self) -> str:
        return (f"{self.pick(('10', '172', '192', '61', '118'))}.{self.rng.randint(0, 255)}"
                f".{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}")

    def name(self) -> str:
        return self.pick(_COMMON_SURNAMES) + "".join(
            self.pick(_GIVEN) for _ in range(self.pick((1, 2, 2))))

    def en_name(self) -> str:
        return f"{self.pick(_EN_FIRST)} {self.pick(_EN_LAST)}"

    def address(self) -> str:
        city, district, street = self.pick(_DISTRICTS)
        return (f"四川省{city}{district}{street}{self.rng.randint(1, 399)}号"
                f"{self.rng.randint(1, 20)}栋{self.rng.randint(1, 33)}0{self.rng.randint(1, 4)}室")

    # hard negatives
    def order_no(self) -> str:
        while True:
            value = "3" + self.digits(18)
            card = value[:-1] + luhn_check_digit(value[:-1])
            if card != value:
                return value

    def timestamp(self) -> str:
        return self.pick((f"2026-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d} "
                          f"{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}"
                          f":{self.rng.randint(0, 59):02d}",
                          f"2026{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}"
                          f"{self.rng.randint(0, 23):02d}{self.rng.randint(0, 59):02d}"
                          f"{self.rng.randint(0, 59):02d}"))

    def amount(self) -> str:
        return self.pick((f"{self.rng.randint(10, 99999)}元",
                          f"¥{self.rng.randint(1, 99):,}{self.rng.randint(100, 999)}"
                          f".{self.digits(2)}",
                          f"{self.rng.randint(1, 999)}.{self.digits(2)}万元"))

    def ticket(self) -> str:
        return f"GD2026{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}{self.digits(4)}"


_ZH = (
    ("市民{PERSON}来电反映，其身份证号{CN_RESIDENT_ID}，联系电话{CN_MOBILE}，家住{LOCATION}。",
     ("ticket",)),
    ("{PERSON}反映在网店购物被骗，订单号{order}，涉及金额{amount}，请求处理。回拨{CN_MOBILE}", ()),
    ("投诉人{PERSON}称其银行卡{BANK_CARD}于{time}被盗刷{amount}。", ()),
    ("{company}（统一社会信用代码{USCC}）拖欠货款{amount}，联系人{PERSON}，座机{CN_LANDLINE}。",
     ()),
    ("车牌号{CN_LICENSE_PLATE}的车辆长期占用消防通道，工单{ticket}，受理时间{time}。", ()),
    ("{PERSON}女士咨询护照{PASSPORT}换发事宜，电子邮箱{EMAIL_ADDRESS}。", ()),
    ("系统日志：{time} 来自{IP_ADDRESS}的登录失败，工单{ticket}。", ()),
    ("核对证件号{badid}时校验位不符，请申请人重新提交；区号{area}，邮编{postcode}。", ()),
    ("来电人{PERSON}反映{LOCATION}停水超过48小时，订单号{order}退费{amount}。", ()),
    ("报销单{ticket}金额{amount}，卡号{badcard}校验失败，请核实。", ()),
    # how 12345 tickets open: a bare name, an aside, a pause, a time before the verb
    ("{PERSON}（身份证号{ID_GROUPED}）反映其单位拖欠工资{amount}，请求协调。", ()),
    ("{PERSON}，电话{CN_MOBILE}，反映{LOCATION}附近夜间施工噪音扰民。", ()),
    ("{PERSON}于{time}来电咨询社保转移接续，工单{ticket}。", ()),
    ("我叫{PERSON}，反映小区电梯长期故障无人维修，订单号{order}。", ()),
    ("反映人：{PERSON}，诉求：{LOCATION}路灯不亮。", ()),
    ("{opener}，{time}小区停电，工单{ticket}，涉及{amount}损失。", ()),
)
_EN = (
    ("Resident {EN_PERSON} called from {CN_MOBILE} about ticket {ticket}; email {EMAIL_ADDRESS}.",
     ()),
    ("Mr. {EN_PERSON_LAST} paid with card {BANK_CARD} on {time}, amount {amount_en}.", ()),
    ("Contact: {EN_PERSON}, passport {PASSPORT}, phone {CN_MOBILE}.", ()),
    ("Order {order} placed at {time} from IP {IP_ADDRESS} totalling {amount_en}.", ()),
    ("ID {badid} failed its checksum; area code {area}, postcode {postcode}.", ()),
    ("My name is {EN_PERSON} and my ID number is {CN_RESIDENT_ID}.", ()),
)
_PLANTED = {"PERSON", "CN_RESIDENT_ID", "CN_MOBILE", "LOCATION", "BANK_CARD", "USCC", "CN_LANDLINE",
            "CN_LICENSE_PLATE", "PASSPORT", "EMAIL_ADDRESS", "IP_ADDRESS", "EN_PERSON",
            "EN_PERSON_LAST"}


def _value(maker: _Maker, key: str) -> tuple[str | None, str]:
    """(entity or None for a negative, value) for a template placeholder."""
    makers = {
        "PERSON": ("PERSON", maker.name), "EN_PERSON": ("PERSON", maker.en_name),
        "EN_PERSON_LAST": ("PERSON", lambda: maker.pick(_EN_LAST)),
        "CN_RESIDENT_ID": ("CN_RESIDENT_ID", maker.resident_id),
        "ID_GROUPED": ("CN_RESIDENT_ID", maker.grouped_id),
        "CN_MOBILE": ("CN_MOBILE", maker.mobile), "LOCATION": ("LOCATION", maker.address),
        "BANK_CARD": ("BANK_CARD", maker.card), "USCC": ("CN_USCC", maker.uscc),
        "CN_LANDLINE": ("CN_LANDLINE", maker.landline),
        "CN_LICENSE_PLATE": ("CN_LICENSE_PLATE", maker.plate),
        "PASSPORT": ("PASSPORT", maker.passport), "EMAIL_ADDRESS": ("EMAIL_ADDRESS", maker.email),
        "IP_ADDRESS": ("IP_ADDRESS", maker.ip),
        "order": (None, maker.order_no), "time": (None, maker.timestamp),
        "amount": (None, maker.amount),
        "amount_en": (None, lambda: f"CNY {maker.rng.randint(10, 9999)}.{maker.digits(2)}"),
        "ticket": (None, maker.ticket), "badid": (None, maker.bad_id),
        "badcard": (None, maker.bad_card),
        "area": (None, lambda: maker.pick(("028", "010", "0816", "021"))),
        "postcode": (None, lambda: maker.pick(("610041", "100010", "621000", "610213"))),
        "opener": (None, lambda: maker.pick(("周末", "目前", "另外", "此外", "近日", "昨天", "成都",
                                             "高新区", "张家港", "温江", "万达广场"))),
        "company": (None, lambda: maker.pick(("成都市锦华商贸有限公司", "四川蜀信科技有限公司",
                                              "成都天府餐饮管理有限公司"))),
    }
    entity, make = makers[key]
    return entity, make()


def _case(maker: _Maker, template: str, language: str) -> Case:
    import string

    text, planted, negatives = "", [], []
    for literal, key, _, _ in string.Formatter().parse(template):
        text += literal
        if key is None:
            continue
        entity, value = _value(maker, key)
        text += value
        (planted.append((entity, value)) if entity else negatives.append(value))
    return Case(text, tuple(planted), tuple(negatives), language)


def generate_cases(n: int = 2000, *, seed: int = 11) -> tuple[list[Case], list[LabeledColumn]]:
    """``n`` sentences (about 3 Chinese to 1 English) and one column per entity and negative kind,
    ``max(n // 10, 20)`` values each; the same seed gives the same set."""
    maker = _Maker(seed)
    cases = []
    for _ in range(n):
        template, _ = maker.pick(_ZH) if maker.rng.random() < 0.75 else maker.pick(_EN)
        cases.append(_case(maker, template, "zh"))
    rows = max(n // 10, 20)
    specs = (("姓名", "PERSON", maker.name), ("身份证号", "CN_RESIDENT_ID", maker.resident_id),
             ("手机号", "CN_MOBILE", lambda: maker.mobile(styled=False)),
             ("住址", "LOCATION", maker.address), ("统一社会信用代码", "CN_USCC", maker.uscc),
             ("银行卡号", "BANK_CARD", maker.card), ("车牌号", "CN_LICENSE_PLATE", maker.plate),
             ("email", "EMAIL_ADDRESS", maker.email), ("ip", "IP_ADDRESS", maker.ip),
             ("订单号", None, maker.order_no), ("受理时间", None, maker.timestamp),
             ("金额", None, maker.amount), ("工单编号", None, maker.ticket),
             ("区号", None, lambda: maker.pick(("028", "010", "0816"))))
    columns = [LabeledColumn(h, e, tuple(make() for _ in range(rows))) for h, e, make in specs]
    return cases, columns


# --- scoring ------------------------------------------------------------------------------


def evaluate(cases: list[Case], columns: list[LabeledColumn], *, analyzer: Any = None) -> Scores:
    """Detect and mask the set with the default plan; count hits, misses and survivors."""
    from masking.text import detect_spans_batch, scrub_texts

    scores = Scores()
    texts = [c.text for c in cases]
    for case, spans in zip(cases, detect_spans_batch(texts, analyzer=analyzer)):
        _score_spans(scores, case, spans)
    for case, masked in zip(cases, scrub_texts(texts, analyzer=analyzer)):
        _count_survivors(scores, case.planted, case.negatives, masked or "")
    _score_columns(scores, columns, analyzer)
    return scores


def _score_spans(scores: Scores, case: Case, spans: list[Any]) -> None:
    located, position = [], 0
    for entity, value in case.planted:
        start = case.text.index(value, position)
        located.append((entity, start, start + len(value)))
        position = start + len(value)
    used = set()
    for entity, start, end in located:
        hit = next((i for i, s in enumerate(spans)
                    if s.entity == entity and s.start <= start and s.end >= end), None)
        if hit is None:
            scores.fn[entity] += 1
        else:
            scores.tp[entity] += 1
            used.add(hit)
    for i, span in enumerate(spans):
        overlaps = any(span.start < end and span.end > start for _, start, end in located)
        if i not in used and not overlaps:
            scores.fp[span.entity] += 1


def _count_survivors(scores: Scores, planted: Any, negatives: Any, masked: str) -> None:
    for entity, value in planted:
        scores.planted += 1
        if value in masked:
            scores.survived += 1
            scores.survivors.append((entity, value))
    for value in negatives:
        scores.negatives += 1
        if value not in masked:
            scores.negatives_altered += 1
            scores.altered.append(value)


def _score_columns(scores: Scores, columns: list[LabeledColumn], analyzer: Any) -> None:
    import pandas as pd

    from masking.profile import profile_table
    from masking.table import default_rules, mask_table

    frame = pd.DataFrame({c.header: list(c.values) for c in columns})
    masked = mask_table(frame, default_rules(profile_table(frame, analyzer=analyzer)),
                        hash_key=b"evaluation-key-0", analyzer=analyzer)
    for column in columns:
        for value, out in zip(column.values, masked[column.header].tolist()):
            if column.entity:
                _count_survivors(scores, [(column.entity, value)], (), str(out))
            else:
                _count_survivors(scores, (), [value], str(out))
