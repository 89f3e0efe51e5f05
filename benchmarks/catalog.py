"""Catalog search at scale: full-text (catalog.search) against the plain ``LIKE`` scan it
replaced, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/catalog.py [--entries 100000 | --million] [--repeat 15]
                                           [--databases sqlite,postgresql]
                                           [--database-url postgresql+psycopg://...]

Generates ``--entries`` catalog entries with Faker zh_CN (titles like
"{区}{部门}{事项}台账/名单/登记表", a description, keywords, 5-30 column names from a pool of
~150), inserted in bulk into a migrated database (not through the publish pipeline; the
search index rows made by ``catalog.search.document_of`` as every write makes them), then
times, each ``--repeat`` times, interleaved:

- search: a page of 50 (``search_datasets``) and its total and facets (``count_datasets``),
  i.e. what one catalog request reads, for several realistic queries;
- the catalog page without ``q``: newest first, with filters, and a deep keyset page;
- the same requests with the code this replaced (every word a ``LIKE '%word%'`` over title,
  description, keywords and column names; four count queries for the total and the facets).

PostgreSQL is a throwaway cluster (fsync on) unless ``--database-url`` names a server. Not a
test: figures to read. Prints p50/p95 per query and over all queries, and the new/old ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from catalog import dictionary, repository, search  # noqa: E402
from catalog.models import datasets_table, versions_table  # noqa: E402

DEPARTMENTS = {  # code: (name, things, columns of its own)
    "health": (
        "卫生健康委员会",
        [
            "医院病床",
            "医疗机构",
            "基层医疗卫生机构",
            "执业医师",
            "疫苗接种",
            "传染病报告",
            "妇幼保健",
            "养老机构医养结合",
        ],
        [
            "医院名称",
            "床位数",
            "科室",
            "执业范围",
            "医师姓名",
            "执业证书编号",
            "接种日期",
            "疫苗批号",
            "诊断名称",
            "病床编号",
        ],
    ),
    "education": (
        "教育局",
        ["中小学学生", "幼儿园", "教师资格", "学校基本信息", "学生资助", "校车"],
        ["学校名称", "学生姓名", "学籍号", "年级", "班级", "教师姓名", "资助金额"],
    ),
    "civil": (
        "民政局",
        ["低保对象", "特困供养人员", "养老机构", "婚姻登记", "社会组织", "殡葬服务"],
        ["救助金额", "家庭人口", "婚姻状况", "登记日期", "机构名称", "床位数"],
    ),
    "market": (
        "市场监督管理局",
        ["企业登记", "个体工商户", "食品经营许可", "特种设备", "行政处罚"],
        ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "经营范围", "许可证编号"],
    ),
    "police": (
        "公安局",
        ["户籍人口", "流动人口", "机动车驾驶人", "治安案件"],
        ["身份证号", "户籍地址", "居住地址", "驾驶证号", "案件编号"],
    ),
    "hrss": (
        "人力资源和社会保障局",
        ["社保参保人员", "失业登记", "职业技能培训", "劳动合同备案"],
        ["社保卡号", "参保类型", "缴费基数", "就业状态", "培训工种"],
    ),
    "housing": (
        "住房和城乡建设局",
        ["公租房", "建设工程项目", "物业企业", "商品房预售"],
        ["项目名称", "建筑面积", "房屋地址", "施工单位", "预售许可证号"],
    ),
    "transport": (
        "交通运输局",
        ["出租车", "公交线路", "道路运输许可", "网约车驾驶员"],
        ["车牌号码", "线路名称", "运输证号", "驾驶员姓名"],
    ),
    "environment": (
        "生态环境局",
        ["排污许可", "空气质量监测", "环境行政处罚"],
        ["排污单位", "监测点位", "污染物名称", "排放浓度"],
    ),
    "agriculture": (
        "农业农村局",
        ["耕地地力保护补贴", "农民专业合作社", "动物防疫"],
        ["补贴面积", "合作社名称", "养殖数量", "村组"],
    ),
    "tax": ("税务局", ["纳税人", "发票开具", "税收减免"], ["纳税人识别号", "税种", "应纳税额"]),
    "stats": (
        "统计局",
        ["人口普查", "规模以上工业企业", "住户调查"],
        ["普查区", "行业代码", "从业人员", "营业收入"],
    ),
}
COMMON_COLUMNS = [
    "姓名",
    "性别",
    "出生日期",
    "民族",
    "身份证号",
    "联系电话",
    "手机号码",
    "地址",
    "邮政编码",
    "电子邮箱",
    "所属区县",
    "所属街道",
    "社区名称",
    "登记日期",
    "更新日期",
    "备注",
    "状态",
    "经办人",
    "审核人",
    "审核日期",
    "数据来源",
    "序号",
    "编号",
    "名称",
    "类型",
    "金额",
    "数量",
    "开始日期",
    "结束日期",
    "经度",
    "纬度",
    "单位名称",
    "负责人",
    "联系人",
]
SUFFIXES = ["台账", "名单", "登记表", "明细表", "统计表", "信息表", "汇总表", "名录"]
FREQUENCIES = ["每日", "每周", "每月", "每季度", "每年", "实时"]
SHARING = ["unconditional", "conditional", "none"]
LEVELS = ["L1", "L2", "L3", "L4"]
THEMES = [*dictionary.THEMES, None, None]  # some entries without a theme

QUERIES = [
    "医院 病床",
    "医院病床",
    "医疗机构名单",
    "低保对象",
    "养老机构 床位数",
    "统一社会信用代码",
    "学生 资助",
    "出租车驾驶员",
    "排污许可 台账",
    "海淀 户籍",
]
PAGES = [
    {},
    {"department": "health"},
    {"sharing": "conditional", "level": "L2"},
    {"department": "education", "sharing": "unconditional", "level": "L1"},
    {"theme": "health", "level": "L3"},
    {"sort": "changed"},
    {"sort": "changed", "department": "police"},
]
PAGE = 50
START = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="10^6 entries")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--like-repeat", type=int, default=3, help="rounds with LIKE too")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--database-url", help="a PostgreSQL admin URL (default: throwaway)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    entries = 1_000_000 if args.million else args.entries
    results: dict[str, Any] = {"entries": entries}
    with tempfile.TemporaryDirectory(prefix="govex-bench-catalog-") as tmp:
        for name in args.databases.split(","):
            with _database(name, Path(tmp), args.database_url) as engine:
                loaded = time.perf_counter()
                _load(engine, entries)
                print(
                    f"[{name}] loaded {entries:,} entries in {time.perf_counter() - loaded:.0f} s",
                    flush=True,
                )
                results[name] = _measure(engine, args.repeat, args.like_repeat)
                _print(name, entries, results[name])
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))


# -- generating and loading --------------------------------------------------------------------


def _entries(seed: int, count: int) -> list[tuple[dict, dict, dict]]:
    """``count`` (dataset, version, index) rows, reproducible from ``seed``."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    districts = list(
        dict.fromkeys(
            ["海淀区", "朝阳区", "浦东新区", "天河区"] + [fake.district() + "区" for _ in range(60)]
        )
    )
    rows = []
    for n in range(count):
        code = rng.choice(list(DEPARTMENTS))
        department, things, own = DEPARTMENTS[code]
        district, thing = rng.choice(districts), rng.choice(things)
        title = f"{district}{department}{thing}{rng.choice(SUFFIXES)}"
        width = rng.randint(5, 30)
        columns = rng.sample(own, min(len(own), rng.randint(2, 6)))
        columns += rng.sample(COMMON_COLUMNS, max(0, width - len(columns)))
        description = (
            f"{district}{department}负责汇集的{thing}数据，{rng.choice(FREQUENCIES)}"
            f"更新。{fake.sentence()}{fake.sentence()}"
        )
        keywords = " ".join(rng.sample([thing, department, district, *own[:3]], 3))
        ident = f"ds_{seed:04x}{n:08x}"
        sharing = rng.choice(SHARING)
        dataset = {
            "id": ident,
            "department": code,
            "title": title,
            "description": description,
            "sharing": sharing,
            "level": rng.choice(LEVELS),
            "legal_basis": "《数据安全法》" if sharing == "none" else None,
            "keywords": keywords,
            "created_at": START + dt.timedelta(seconds=rng.randrange(5 * 365 * 86400)),
            "created_by": "bench",
            "current_version": 1,
        }
        dataset["theme"] = rng.choice(THEMES)
        version = {
            "dataset_id": ident,
            "version": 1,
            "sha256": "0" * 64,
            "format": "csv",
            "filename": "data.csv",
            "row_count": rng.randrange(10, 10**6),
            "byte_size": rng.randrange(10**3, 10**9),
            "columns": [{"name": c, "dtype": "string", "profile": None} for c in columns],
            "column_names": "\n".join(columns),
            "quality": None,
            "quality_passed": True,
            "created_at": dataset["created_at"],
            "created_by": "bench",
        }
        index = {
            "dataset_id": ident,
            **{facet: dataset[facet] for facet in search.FACETS},
            "created_at": dataset["created_at"],
            "changed_at": dataset["created_at"],
            **search.document_of(
                title=title, description=description, keywords=keywords, column_names=columns
            ),
        }
        rows.append((dataset, version, index))
    return rows


def _load(engine: sa.Engine, entries: int, chunk: int = 5000) -> None:
    seeds = [
        (seed, min(chunk, entries - seed * chunk)) for seed in range((entries + chunk - 1) // chunk)
    ]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for rows in pool.imap(_entries_of, seeds):
            with engine.begin() as conn:
                conn.execute(datasets_table.insert(), [r[0] for r in rows])
                conn.execute(versions_table.insert(), [r[1] for r in rows])
                search.insert(conn, [r[2] for r in rows])
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":  # what one does after a bulk load
            conn.exec_driver_sql(
                f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}) VALUES ('optimize')"
            )
            conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def _entries_of(seed_count: tuple[int, int]) -> list[tuple[dict, dict, dict]]:
    return _entries(*seed_count)


# -- the code this replaced (every word a LIKE; four counts) -----------------------------------

_D, _V = datasets_table, versions_table


def _old_conditions(q: str | None, **filters: Any) -> list[Any]:
    conditions = [_D.c.withdrawn_at.is_(None)]
    for word in (q or "").split():
        conditions.append(
            sa.or_(
                *(
                    sa.func.coalesce(f, "").icontains(word, autoescape=True)
                    for f in (_D.c.title, _D.c.description, _D.c.keywords, _V.c.column_names)
                )
            )
        )
    conditions += [_D.c[k] == v for k, v in filters.items() if v is not None]
    return conditions


def _old_search(conn: sa.Connection, q: str | None = None, **filters: Any) -> Any:
    filters.pop("sort", None)  # it had one order: newest first
    joined = _D.outerjoin(
        _V, sa.and_(_V.c.dataset_id == _D.c.id, _V.c.version == _D.c.current_version)
    )
    page = conn.execute(
        sa.select(_D, _V.c.version.label("v_version"))
        .select_from(joined)
        .where(*_old_conditions(q, **filters))
        .order_by(_D.c.created_at.desc(), _D.c.id)
        .limit(PAGE + 1)
    ).all()
    total = conn.execute(
        sa.select(sa.func.count()).select_from(joined).where(*_old_conditions(q, **filters))
    ).scalar_one()
    for facet in repository.FACETS:
        others = filters | {facet: None}
        conn.execute(
            sa.select(_D.c[facet], sa.func.count())
            .select_from(joined)
            .where(*_old_conditions(q, **others))
            .group_by(_D.c[facet])
        ).all()
    return page, total


def _new_search(
    conn: sa.Connection, q: str | None = None, after: Any = None, **filters: Any
) -> Any:
    sort = filters.pop("sort", None)
    page = repository.search_datasets(conn, q=q, limit=PAGE + 1, after=after, sort=sort,
                                      **filters)
    total, _facets = repository.count_datasets(conn, q=q, **filters)
    return page, total


# -- measuring ---------------------------------------------------------------------------------


def _measure(engine: sa.Engine, repeat: int, like_repeat: int) -> dict[str, Any]:
    search.parse("预热")  # jieba's dictionary, loaded once per process
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for q in QUERIES:
        cases.append(("search", q, {"q": q}))
    for filters in PAGES:
        label = " ".join(f"{k}={v}" for k, v in filters.items()) or "(all)"
        cases.append(("page", label, filters))
    with engine.connect() as conn:  # a deep page: 20 pages in, by keyset
        after = None
        for _ in range(20):
            page, _total = _new_search(conn)
            after = (page[PAGE - 1].created_at, page[PAGE - 1].id)
    cases.append(("page", "page 21 (keyset)", {"after": after}))
    timings: dict[tuple[str, str, str], list[float]] = {}
    counts: dict[str, tuple[int, int]] = {}
    for round_ in range(repeat):
        for kind, label, params in cases:
            for how, run in (("new", _new_search), ("like", _old_search)):
                if how == "like" and ("after" in params or round_ >= like_repeat):
                    continue  # the old keyset page is the same query as the new one
                with engine.connect() as conn:
                    began = time.perf_counter()
                    _page, total = run(conn, **params)
                    took = (time.perf_counter() - began) * 1000
                    conn.rollback()
                timings.setdefault((kind, label, how), []).append(took)
                if how == "new":
                    counts[label] = (total, counts.get(label, (0, 0))[1])
                else:
                    counts[label] = (counts.get(label, (0, 0))[0], total)
    return {"timings": {"|".join(k): v for k, v in timings.items()}, "counts": counts}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _print(name: str, entries: int, result: dict[str, Any]) -> None:
    timings = {tuple(k.split("|")): v for k, v in result["timings"].items()}
    print(f"\n{name}, {entries:,} entries: ms, p50 / p95 (found: full text / LIKE)")
    print(f"{'kind':6} {'query':42} {'full text':>16} {'LIKE':>18} {'ratio p50':>9}  found")
    for kind in ("search", "page"):
        labels = list(dict.fromkeys(label for k, label, _how in timings if k == kind))
        for label in labels:
            new = timings[(kind, label, "new")]
            old = timings.get((kind, label, "like"))
            found = result["counts"].get(label, ("", ""))
            old_text = f"{_p(old, 0.5):7.1f} / {_p(old, 0.95):7.1f}" if old else f"{'-':>17}"
            ratio = f"{_p(old, 0.5) / _p(new, 0.5):8.1f}x" if old else f"{'-':>9}"
            print(
                f"{kind:6} {label:42} {_p(new, 0.5):6.1f} / {_p(new, 0.95):6.1f} "
                f"{old_text} {ratio}  {found[0]} / {found[1]}"
            )
        every_new = [
            t for (k, _l, how), v in timings.items() if k == kind and how == "new" for t in v
        ]
        every_old = [
            t for (k, _l, how), v in timings.items() if k == kind and how == "like" for t in v
        ]
        print(
            f"{kind:6} {'ALL':42} {_p(every_new, 0.5):6.1f} / {_p(every_new, 0.95):6.1f} "
            f"{_p(every_old, 0.5):7.1f} / {_p(every_old, 0.95):7.1f}"
        )
    sys.stdout.flush()


@contextmanager
def _database(name: str, tmp: Path, admin_url: str | None) -> Iterator[sa.Engine]:
    from exchange.db import make_engine, upgrade

    if name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'catalog.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    from tests.conftest import create_database, throwaway_cluster

    with _cluster(admin_url, throwaway_cluster) as admin:
        engine = make_engine(create_database(admin))
        upgrade(engine)
        yield engine
        engine.dispose()


@contextmanager
def _cluster(url: str | None, throwaway_cluster: Any) -> Iterator[str]:
    if url:
        yield url
        return
    with throwaway_cluster(fsync=True) as admin:
        yield admin


if __name__ == "__main__":
    main()
