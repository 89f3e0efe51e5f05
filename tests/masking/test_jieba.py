"""jieba's setup for the name and address searches."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_jiebas_dictionary_loads_from_its_own_cache_as_jieba_loads_it(tmp_path):
    """The quick read of jieba's cache gives jieba's own prefix dictionary, no cache yet and a
    broken cache included (jieba then builds it, as it would)."""
    code = ("import sys, jieba, logging; from masking._jieba import configure_jieba, "
            "load_dictionary, pos_tag; from pathlib import Path; jieba.setLogLevel(logging.ERROR); "
            "configure_jieba(Path(sys.argv[1])); load_dictionary(); own = jieba.Tokenizer(); "
            "own.tmp_dir = jieba.dt.tmp_dir; own.initialize(); "
            "assert jieba.dt.initialized and "
            "(jieba.dt.FREQ, jieba.dt.total) == (own.FREQ, own.total); "
            "print(len(jieba.dt.FREQ), pos_tag('四川省成都市锦江区'))")
    runs = []
    for state in ("missing", "written by jieba", "broken"):
        if state == "broken":
            (tmp_path / "jieba" / "jieba.cache").write_bytes(b"not marshal")
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                              text=True, check=True)
        runs.append(done.stdout)
        assert (tmp_path / "jieba" / "jieba.cache").stat().st_size > 1_000_000, state
    assert runs[0] == runs[1] == runs[2] and int(runs[0].split()[0]) > 300_000


@pytest.mark.parametrize(("text", "starred"), [
    ("核查张伟的记录", "核查张*的记录"),                  # a bare name jieba does not know
    ("为办理李秀英的低保复核", "为办理李**的低保复核"),    # one its dictionary tags nr
    ("核查陈峰、刘洋两人的社保缴纳", "核查陈*、刘*两人的社保缴纳"),
    ("核实欧阳娜娜户籍", "核实欧阳**户籍"),              # compound surname, split by jieba
    ("联系人:刘德华", "联系人:刘**"),
    # not names: a surname-led place, common words, dates, already starred names
    ("白云区低保核查", "白云区低保核查"),
    ("核查低保申请人近一年的诉求记录", "核查低保申请人近一年的诉求记录"),  # jieba: 申请人/nr
    ("确认张家港市人口数据", "确认张家港市人口数据"),
    ("周末加班费核查，复核黄金价格", "周末加班费核查，复核黄金价格"),
    ("统计2026年锦江区低保户数量", "统计2026年锦江区低保户数量"),
    ("核查张**的记录", "核查张**的记录"),
    ("Check the records of 2026", "Check the records of 2026"),
])
def test_star_name_like_words(text, starred):
    from masking import star_name_like_words
    assert star_name_like_words(text) == starred
