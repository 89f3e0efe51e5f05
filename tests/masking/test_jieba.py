"""jieba's setup for the name and address searches."""

from __future__ import annotations

import subprocess
import sys


def test_jiebas_dictionary_loads_from_its_own_cache_as_jieba_loads_it(tmp_path):
    """The quick read of jieba's cache gives jieba's own prefix dictionary, no cache yet and a
    broken cache included (jieba then builds it, as it would)."""
    code = ("import sys, jieba, logging; from masking._jieba import configure_jieba, "
            "load_dictionary, pos_tag; from pathlib import Path; jieba.setLogLevel(logging.ERROR); "
            "configure_jieba(Path(sys.argv[1])); load_dictionary(); own = jieba.Tokenizer(); "
            "own.tmp_dir = jieba.dt.tmp_dir; own.initialize(); "
            "assert jieba.dt.initialized and (jieba.dt.FREQ, jieba.dt.total) == (own.FREQ, own.total); "
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
