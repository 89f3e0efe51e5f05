"""Print how fast a hotline extract is profiled and masked (not a test: figures to read).

    .venv/bin/python benchmarks/masking.py [rows]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from masking import build_analyzer, default_rules, mask_table, profile_table  # noqa: E402
from masking.checksums import resident_id_check_char  # noqa: E402
from masking.recognizers._lexicon import pos_tag  # noqa: E402

SURNAMES = "张王李刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美淑惠珠翠雅芝玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛"
DISTRICTS = ["锦江区", "武侯区", "青羊区", "成华区", "金牛区", "高新区", "双流区", "郫都区"]
ROADS = ["春熙路", "人民南路", "红星路", "东大街", "科华北路", "蜀都大道", "建设路", "玉林路"]
TEMPLATES = [
    "市民{n}来电反映，其身份证号{i}，联系电话{m}，家住{d}，楼下餐馆油烟扰民，请求处理。",
    "来电人{n}反映小区噪音问题，夜间施工影响休息，希望相关部门尽快处理。",
    "{n}女士反映{d}附近路灯损坏多日，存在安全隐患。",
    "反映公交线路调整后出行不便，建议恢复原线路。",
    "投诉人{n}称其在网上购物遭遇诈骗，损失金额3500元，订单号202311051234。联系方式{m}",
]


def hotline_table(rows: int, seed: int = 1) -> pd.DataFrame:
    """A synthetic citizen-hotline extract with six columns, one of them free text."""
    rng = random.Random(seed)

    def name() -> str:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))

    def rid() -> str:
        body = f"510104{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        return body + resident_id_check_char(body)

    def mobile() -> str:
        return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"

    def address() -> str:
        return f"四川省成都市{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randint(1, 300)}号"

    return pd.DataFrame(
        {
            "姓名": [name() for _ in range(rows)],
            "身份证号": [rid() for _ in range(rows)],
            "手机号": [mobile() for _ in range(rows)],
            "住址": [address() for _ in range(rows)],
            "登记日期": [f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(rows)],
            "诉求内容": [
                rng.choice(TEMPLATES).format(n=name(), i=rid(), m=mobile(), d=address()) for _ in range(rows)
            ],
        }
    )


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    print(f"{label:<40} {time.perf_counter() - start:6.2f} s")
    return result


def main(rows: int) -> None:
    df = hotline_table(rows)
    with tempfile.TemporaryDirectory() as cache:
        analyzer = timed("build analyzer + load jieba", lambda: _warm(build_analyzer(cache_dir=Path(cache))))
        profiles = timed(f"profile {rows} rows x {len(df.columns)} columns", lambda: profile_table(df, analyzer=analyzer))
        rules = default_rules(profiles)
        print("  plan:", {c: f"{r.operator}:{r.entity or ''}" for c, r in rules.items()})
        pos_tag.cache_clear()
        timed(f"mask_table {rows} rows (cold word cache)", lambda: mask_table(df, rules, hash_key=b"k" * 32, analyzer=analyzer))
        timed(f"mask_table {rows} rows (again)", lambda: mask_table(df, rules, hash_key=b"k" * 32, analyzer=analyzer))


def _warm(analyzer):
    analyzer.analyze("市民张伟来电", language="zh")
    return analyzer


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
