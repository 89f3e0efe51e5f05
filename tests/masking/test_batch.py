"""The batch fast path gives exactly what Presidio's ``AnalyzerEngine.analyze`` gives."""

from __future__ import annotations

import pytest

from masking import _batch
from masking._batch import analyze_many, detector_for
from masking.engine import analyze_texts
from masking.evaluation import generate_cases


def _key(results):
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


@pytest.fixture(scope="module")
def texts():
    cases, columns = generate_cases(400, seed=7)
    return [c.text for c in cases] + [v for col in columns for v in col.values[:40]]


def test_fast_path_is_used_for_the_default_analyzer(analyzer):
    assert detector_for(analyzer, "zh") is not None


@pytest.mark.parametrize("context", [None, ["姓名"], ["住址"]])
def test_same_results_as_presidio_analyze(analyzer, texts, context):
    detector = detector_for(analyzer, "zh")
    for text in texts:
        expected = _key(analyzer.analyze(text, language="zh", context=context))
        assert _key(detector.analyze(text, context)) == expected, text


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
    found = analyze_texts(["联系电话13812345678，市民张伟来电"], analyzer=analyzer, entities=["CN_MOBILE"])
    assert [r.entity_type for r in found[0]] == ["CN_MOBILE"]
