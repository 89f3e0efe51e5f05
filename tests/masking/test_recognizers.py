"""Recognizers: positives and negatives per entity, checksums, context, the offline engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jieba
import pytest
from presidio_analyzer import AnalyzerEngine, EntityRecognizer

from masking import ENTITIES, build_analyzer, default_recognizers, detect_spans
from masking.engine import may_contain_pii

from .conftest import CARD, ID_A, ID_B, USCC, wrong_check


def found(text: str, analyzer) -> list[tuple[str, str]]:
    """(entity, matched text) of every span in ``text``."""
    return [(s.entity, text[s.start : s.end]) for s in detect_spans(text, analyzer=analyzer)]


POSITIVES = [
    # resident IDs: checksum right, real birth date, glued to Chinese text
    ("身份证号" + ID_A + "。", "CN_RESIDENT_ID", ID_A),
    ("证件号码：" + ID_B, "CN_RESIDENT_ID", ID_B),
    (ID_A.lower(), "CN_RESIDENT_ID", ID_A.lower()),
    # written in groups for reading: 6-8-4 and 6-4-4-4, spaces or hyphens
    ("身份证 " + " ".join((ID_A[:6], ID_A[6:14], ID_A[14:])), "CN_RESIDENT_ID",
     " ".join((ID_A[:6], ID_A[6:14], ID_A[14:]))),
    ("-".join((ID_B[:6], ID_B[6:10], ID_B[10:14], ID_B[14:])) + "，", "CN_RESIDENT_ID",
     "-".join((ID_B[:6], ID_B[6:10], ID_B[10:14], ID_B[14:]))),
    # mobiles: plain, +86/0086, 3-4-4 split
    ("联系电话13812345678，", "CN_MOBILE", "13812345678"),
    ("手机：+86 138-1234-5678", "CN_MOBILE", "+86 138-1234-5678"),
    ("电话008613912345678", "CN_MOBILE", "008613912345678"),
    ("打139 1234 5678找我", "CN_MOBILE", "139 1234 5678"),
    # landlines
    ("座机028-85123456转", "CN_LANDLINE", "028-85123456"),
    ("办公电话(010)62751234", "CN_LANDLINE", "(010)62751234"),
    ("固话075523456789", "CN_LANDLINE", "075523456789"),
    # credit code, bank card, plate, passport, email, IP
    ("统一社会信用代码" + USCC, "CN_USCC", USCC),
    ("银行卡号" + CARD + "已冻结", "BANK_CARD", CARD),
    ("车牌川A12345违停", "CN_LICENSE_PLATE", "川A12345"),
    ("新能源车粤BD12345", "CN_LICENSE_PLATE", "粤BD12345"),
    ("护照号E12345678", "PASSPORT", "E12345678"),
    ("邮箱zhang.wei@example.com。", "EMAIL_ADDRESS", "zhang.wei@example.com"),
    ("登录IP为192.168.1.10", "IP_ADDRESS", "192.168.1.10"),
    ("ip地址2001:db8::1", "IP_ADDRESS", "2001:db8::1"),
    # names and addresses
    ("市民张伟来电反映", "PERSON", "张伟"),
    ("姓名：欧阳娜娜，", "PERSON", "欧阳娜娜"),
    ("投诉人陈静称其", "PERSON", "陈静"),
    ("王芳女士反映", "PERSON", "王芳"),
    # how 12345 tickets open: an aside, a pause or a time between the name and the verb
    ("王欣（电话13812345678）反映问题", "PERSON", "王欣"),
    ("姜玉（身份证号510114********6060）反映其住院费用", "PERSON", "姜玉"),
    ("王欣：反映小区停水", "PERSON", "王欣"),
    ("王欣于2026-03-18 16:17:36来电咨询", "PERSON", "王欣"),
    ("王欣，电话13812345678", "PERSON", "王欣"),
    ("我叫王欣，家住武侯区", "PERSON", "王欣"),
    ("反映人：欧阳娜娜", "PERSON", "欧阳娜娜"),
    ("家住锦江区春熙路1号，", "LOCATION", "锦江区春熙路1号"),
    ("住址：四川省成都市武侯区人民南路四段12号", "LOCATION", "四川省成都市武侯区人民南路四段12号"),
    # a value that is nothing but a name in Latin script: English, pinyin
    ("Douglas King", "PERSON", "Douglas King"),
    (" KING, Douglas ", "PERSON", "KING, Douglas"),
    ("Rachel A. Becker Jr.", "PERSON", "Rachel A. Becker Jr."),
    ("Siobhan O'Connor", "PERSON", "Siobhan O'Connor"),
    ("Zhang Wei", "PERSON", "Zhang Wei"),
    ("WANG Fang", "PERSON", "WANG Fang"),
    ("Wang, Fang", "PERSON", "Wang, Fang"),
    ("Li Xiao-ming", "PERSON", "Li Xiao-ming"),
    ("Ouyang Nana", "PERSON", "Ouyang Nana"),
    # phone numbers beyond the mainland's: North American, any country code
    ("Resident called from (639) 950-0538 about the noise.", "PHONE_NUMBER", "(639) 950-0538"),
    ("call 639.950.0538x123 after 6pm", "PHONE_NUMBER", "639.950.0538x123"),
    ("Tel: +1-639-950-0538.", "PHONE_NUMBER", "+1-639-950-0538"),
    ("001-639-950-0538", "PHONE_NUMBER", "001-639-950-0538"),
    ("(294)950-0538", "PHONE_NUMBER", "(294)950-0538"),           # an unassigned area code
    ("phone 6399500538", "PHONE_NUMBER", "6399500538"),          # bare digits: context
    ("London office +44 20 7946 0958, 2026-03-18", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("投诉人留的电话是0044 20 7946 0958。", "PHONE_NUMBER", "0044 20 7946 0958"),
    ("Paris +33 1 23 45 67 89", "PHONE_NUMBER", "+33 1 23 45 67 89"),
    ("成都座机+86 28 8512 3456", "PHONE_NUMBER", "+86 28 8512 3456"),  # no mainland shape fits
]


@pytest.mark.parametrize(("text", "entity", "value"), POSITIVES)
def test_detects(text, entity, value, analyzer):
    assert (entity, value) in found(text, analyzer)


NEGATIVES = [
    wrong_check(ID_A),  # bad check character
    "110105194912310021",  # bad check character (the X one)
    "11010519490231002",  # 17 digits (passes Luhn, but no card context)
    "110105" + "19490231" + "0021",  # 30 February
    "110105" + "20991231" + "0021",  # future birth date (and wrong check)
    "订单号202311051234",  # 12-digit order number
    "时间戳20231105123045",  # timestamp
    "流水号20231105123045123",  # 17-digit timestamp with milliseconds
    "金额13800000000元",  # an amount, not a mobile
    "编号138123456789",  # 12 digits starting like a mobile
    "1381234567",  # 10 digits
    "12812345678",  # 12x is not a mobile prefix
    "区号028",  # an area code alone
    "共计1234.56元",  # an amount
    "银行卡6222021234567890121",  # Luhn fails
    "统一社会信用代码91510100MA6CXX8B01",  # check character wrong
    "京ABCDEF",  # no digit: not a plate
    "用户名foo@bar",  # no domain suffix
    "版本号1.2.3",  # not an IP
    "999.1.1.1",  # octet out of range
    "市民反映路灯不亮",  # context word without a name
    "城市管理部门",  # 市 inside a word
    # grouped, bad check
    " ".join((wrong_check(ID_A)[:6], wrong_check(ID_A)[6:14], wrong_check(ID_A)[14:])),
    "110101 1990 0307",  # a date-like group, too short
    "周末，小区停水",  # a clause opening with a surname-led common word
    "目前，已联系物业",
    "高新区，夜间施工",  # a place: ends in an address suffix
    "周末（周六）来电咨询",  # an aside after a common word
    # no Latin-script name: a company, a place, a phrase, a job, a status, one word
    "Acme Ltd", "New York", "Virginia Beach", "Douglas Mews", "Sales Manager", "Yes", "No",
    "Thank you for calling", "Customer Service", "Apple iPhone 15",
    # no phone number: order numbers, dates, times, amounts, IDs, cards, area codes
    "Order 2026031812 shipped",  # ten digits, no context
    "订单号0049301234567",  # 00 and a valid German number, but no separator, no context
    "2026-03-18 16:17:36", "20260318161736", "CNY 1234.56", "USD 1,234,567.89",
    "ticket GD202603181234", "6222 0212 3456 7890 123", "area code 028, postcode 610041",
    "110105 19491231 0021", "+5", "version 3.10.12",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_rejects(text, analyzer):
    assert found(text, analyzer) == []


def test_resident_id_with_luhn_is_not_also_a_bank_card(analyzer):
    spans = detect_spans("身份证" + ID_A, analyzer=analyzer)
    assert [s.entity for s in spans] == ["CN_RESIDENT_ID"]


def test_context_words_raise_a_weak_shape_above_the_threshold(analyzer):
    assert found("编码02885123456", analyzer) == []
    assert found("座机02885123456", analyzer) == [("CN_LANDLINE", "02885123456")]
    assert found("卡号11010519490231002", analyzer) == [("BANK_CARD", "11010519490231002")]


def test_explicit_context_raises_a_bare_name(analyzer):
    assert analyzer.analyze("马力", language="zh") == []
    results = analyzer.analyze("马力", language="zh", context=["姓名"])
    assert [(r.entity_type, r.start, r.end) for r in results] == [("PERSON", 0, 2)]


def test_a_whole_value_that_is_a_name(analyzer):
    assert found("张伟", analyzer) == [("PERSON", "张伟")]
    assert found("高新区", analyzer) == []


def test_complaint_text_finds_every_identifier(analyzer):
    text = (f"市民张伟来电反映，其身份证号{ID_A}，联系电话13812345678，"
            "家住锦江区春熙路1号，油烟扰民。")
    assert found(text, analyzer) == [
        ("PERSON", "张伟"),
        ("CN_RESIDENT_ID", ID_A),
        ("CN_MOBILE", "13812345678"),
        ("LOCATION", "锦江区春熙路1号"),
    ]


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("13812345678", "CN_MOBILE", "13812345678"),
    ("+86 138-1234-5678", "CN_MOBILE", "+86 138-1234-5678"),
    ("008613912345678", "CN_MOBILE", "008613912345678"),
    ("+86 139 1234 5678", "CN_MOBILE", "+86 139 1234 5678"),
    ("028-85123456", "CN_LANDLINE", "028-85123456"),
    ("办公电话(010)62751234", "CN_LANDLINE", "(010)62751234"),
])
def test_mainland_numbers_keep_their_own_entity_and_nothing_else(text, entity, value, analyzer):
    assert found(text, analyzer) == [(entity, value)]


def test_a_latin_name_with_one_part_on_the_lists_needs_context(analyzer):
    assert found("Aoife Qwertyson", analyzer) == []  # neither name on the lists
    assert found("Douglas Xylander", analyzer) == []  # the given name only
    results = analyzer.analyze("Douglas Xylander", language="zh", context=["Complainant"])
    assert [(r.entity_type, r.start, r.end) for r in results] == [("PERSON", 0, 16)]


def test_english_text_uses_the_pattern_recognizers(analyzer):
    results = analyzer.analyze("call +86 13812345678 or mail a.b@example.org", language="en")
    assert sorted(r.entity_type for r in results) == ["CN_MOBILE", "EMAIL_ADDRESS"]


def test_default_recognizers_are_presidio_recognizers_for_both_languages():
    recognizers = default_recognizers()
    assert all(isinstance(r, EntityRecognizer) for r in recognizers)
    zh = {r.supported_entities[0] for r in recognizers if r.supported_language == "zh"}
    en = {r.supported_entities[0] for r in recognizers if r.supported_language == "en"}
    assert zh == set(ENTITIES)
    assert en == set(ENTITIES) - {"LOCATION"}  # English names: EnglishNameRecognizer
    assert "PHONE_NUMBER" in ENTITIES


def test_default_recognizers_rejects_unknown_language():
    with pytest.raises(ValueError, match="unsupported"):
        default_recognizers(languages=("fr",))


def test_build_analyzer_is_cached_offline_and_uses_the_cache_dir(analyzer, cache_dir):
    assert isinstance(analyzer, AnalyzerEngine)
    assert build_analyzer(cache_dir=cache_dir) is analyzer
    assert set(analyzer.supported_languages) == {"zh", "en"}
    assert Path(jieba.dt.tmp_dir) == Path(cache_dir) / "jieba"


def test_a_fresh_process_writes_jiebas_cache_into_the_cache_dir(tmp_path):
    # jieba is process-global: once another test loaded it, it never writes its cache again,
    # so check in a process of its own. The name after 市民 is settled from jieba's dictionary
    # alone; the clause-opening name before 咨询 makes jieba segment.
    code = ("import sys; from pathlib import Path; from masking import build_analyzer, "
            "detect_spans; a = build_analyzer(cache_dir=Path(sys.argv[1])); "
            "detect_spans('市民张伟来电，陈峰咨询办证', analyzer=a)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=120)
    assert any((tmp_path / "jieba").iterdir())


@pytest.mark.parametrize(
    ("text", "possible"),
    # any Chinese text may hold a name the NER model finds anywhere: only text without a Chinese
    # character, an identifier shape or an English name word is skipped
    [("2023-11-05", False), ("ok", False), ("3500 yuan, paid", False), ("已办结", True),
     ("良好", True), ("张伟", True), ("电话13812345678", True), ("a@b.cn", True),
     ("王欣，电话未留", True), ("(639) 950-0538", True), ("639.950.0538", True),
     ("+33 1 23 45 67 89", True), ("Douglas King", True), ("WANG Fang", True),
     ("Thank you", True)],
)
def test_prefilter(text, possible):
    assert may_contain_pii(text) is possible
