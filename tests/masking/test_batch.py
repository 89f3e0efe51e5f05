"""The batch fast path gives exactly what Presidio's ``AnalyzerEngine.analyze`` gives.

Its searches (masking._finders) look at fewer places than the recognizers do; the texts below
are the evaluation set plus the edges of that narrowing: suffixes inside longer suffixes,
full-width digits, ideographic spaces, letters that IGNORECASE folds onto ASCII, overlapping
honorifics, values at the very start or end of a text.
"""

from __future__ import annotations

import pytest

from masking import _batch
from masking._batch import analyze_many, detector_for
from masking.engine import analyze_texts
from masking.evaluation import generate_cases


def _key(results):
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


EDGES = [
    "内蒙古自治区呼和浩特市新城区人民路12号院3单元",  # 区 inside 自治区
    "地址：自治区政府大院对面",  # a chain that starts with a suffix: found from the 区 inside
    "来电反映广西壮族自治区南宁市青秀区民族大道100号停水",
    "家住四川省成都市锦江区春熙路１２号３栋",  # full-width digits are digits too
    "联系电话：１３８１２３４５６７８，身份证号１１０１０５１９４９１２３１００２Ｘ",
    "联系电话138 1234 5678 元，另付13812345678元",  # an amount unit after the number
    "卡号6222　0212　3456　7890　123，编号6222-0212-3456-7890",  # ideographic spaces
    "邮箱 \u212aelvin.king@example.com，ſam@gov.cn",  # K and ſ fold onto k and s
    "王老师傅来电反映，李先生女士同志们，钱王老师傅来电",  # overlapping honorifics
    "NAME: 张伟；Name:李娜，法定代表人王强，法人赵敏，被申请人刘洋",
    "13812345678",
    "反映四川省成都市",
    "四川省成都市武侯区人民南路四段1号",
    "陈峰咨询：IP 192.168.1.10 与 fe80::1ff:fe23:4567:890a 登录异常，护照E12345678",
    "车牌川A12345，统一社会信用代码91510100MA6CXX8B0X",
    "张伟",
    "王欣，电话未留",  # a text that opens with a name: nothing else for the prefilter to see
    "王欣（低保户）反映停水", "王欣于2026-03-18 16:17:36来电咨询", "我叫王欣", "周末，停水",
    # whole-value Latin names and phone numbers: their own triggers, context from a header
    "Douglas King", " KING, Douglas ", "Zhang Wei", "Wang, Fang", "Douglas Xylander", "New York",
    "Resident Douglas King called from (639) 950-0538; call back 639.950.0538x12",
    "+44 20 7946 0958 2026-03-18", "电话0044 20 7946 0958，订单号0049301234567",
    "手机：+86 138-1234-5678，座机+86 28 8512 3456", "phone 6399500538", "Order 2026031812",
    "",
]


@pytest.fixture(scope="module")
def texts():
    cases, columns = generate_cases(400, seed=7)
    return [c.text for c in cases] + [v for col in columns for v in col.values[:40]] + EDGES


def test_fast_path_is_used_for_the_default_analyzer(analyzer):
    assert detector_for(analyzer, "zh") is not None


@pytest.mark.parametrize("context", [None, ["姓名"], ["住址"], ["Phone"], ["Complainant"]])
def test_same_results_as_presidio_analyze(analyzer, texts, context):
    detector = detector_for(analyzer, "zh")
    for text in texts:
        expected = _key(analyzer.analyze(text, language="zh", context=context))
        assert _key(detector.analyze(text, context)) == expected, text


def test_the_prefilter_keeps_every_text_analyze_finds_something_in(analyzer, texts):
    found = analyze_texts(texts, analyzer=analyzer)
    for text, results in zip(texts, found):
        assert _key(results) == _key(analyzer.analyze(text, language="zh")), text


def test_every_pattern_but_the_plates_runs_only_over_ascii_and_digit_runs(analyzer):
    """A plate starts with a Chinese character: it is the one pattern searched in whole texts
    (if Python's regex parser changed, all would be, and this would say so)."""
    detector = detector_for(analyzer, "zh")
    assert [r.name for _, r, _, _ in detector.patterns.whole] == ["LicensePlateRecognizer_zh"]
    assert len(detector.patterns.zoned) == 8


def test_worker_processes_give_the_same_results(analyzer, texts, monkeypatch):
    detector = detector_for(analyzer, "zh")
    serial = [_key(detector.analyze(t)) for t in texts]
    monkeypatch.setattr(_batch, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(_batch, "_CHUNK", 100)
    monkeypatch.setattr(_batch, "_WORKERS", 2)
    assert [_key(found) for found in analyze_many(detector, texts)] == serial


def test_one_worker_never_forks(analyzer, texts, monkeypatch):
    """What the threaded server sets: forking beside running threads can deadlock the child."""
    detector = detector_for(analyzer, "zh")
    monkeypatch.setattr(_batch, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(_batch, "_WORKERS", None)
    _batch.set_scrub_workers(1)

    def no_fork(*_a, **_k):
        raise AssertionError("forked")
    monkeypatch.setattr(_batch.multiprocessing, "get_context", no_fork)
    assert len(analyze_many(detector, texts)) == len(texts)
    with pytest.raises(ValueError):
        _batch.set_scrub_workers(0)


def test_entities_filter_still_goes_through_presidio(analyzer):
    found = analyze_texts(["联系电话13812345678，市民张伟来电"], analyzer=analyzer,
                          entities=["CN_MOBILE"])
    assert [r.entity_type for r in found[0]] == ["CN_MOBILE"]
