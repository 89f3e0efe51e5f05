"""Tests of the synthetic demo datasets (exchange.demo.data)."""

from __future__ import annotations

import datetime as dt
import random
import re

import pandas as pd
import pyarrow as pa
import pytest

from exchange.demo.data import (
    DEPARTMENTS,
    DISTRICTS,
    DemoDataset,
    bank_card,
    credit_code,
    generate_demo_datasets,
    mobile_number,
    resident_id,
)
from masking.checksums import is_valid_luhn, is_valid_resident_id, is_valid_uscc

# A mobile as people write it: optional +86/0086, optionally split 3-4-4 by one space or dash.
MOBILE_RE = re.compile(
    r"(?<![\dA-Za-z])(?:(?:\+86|0086)[ -]?)?(1[3-9]\d)([ -]?)(\d{4})\2(\d{4})(?!\d)"
)
ID_RE = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
DIGIT_RUN_RE = re.compile(r"\d+[Xx]?")


@pytest.fixture(scope="module")
def datasets() -> dict[str, DemoDataset]:
    return {d.key: d for d in generate_demo_datasets()}


def frame(datasets: dict[str, DemoDataset], key: str) -> pd.DataFrame:
    return datasets[key].frame


# ------------------------------------------------------------------------------------------
# Catalog metadata
# ------------------------------------------------------------------------------------------

CATALOG = [
    # key, department, sharing, level, filename, rows, columns
    ("residents", "civil", "conditional", "L3", "residents.csv", 3000,
     ["姓名", "性别", "身份证号", "出生日期", "手机号", "住址", "所属区划"]),
    ("hotline_tickets", "hotline", "conditional", "L3", "hotline_tickets.csv", 3000,
     ["工单编号", "受理时间", "来电人", "联系电话", "诉求内容", "处理部门"]),
    ("market_entities", "market", "unconditional", "L2", "market_entities.csv", 3000,
     ["企业名称", "统一社会信用代码", "法定代表人", "注册地址", "成立日期", "注册资本(万元)"]),
    ("case_files", "police", "none", "L4", "case_files.csv", 20,
     ["案件编号", "立案日期", "案件类别", "办案单位"]),
    ("health_clinics", "health", "unconditional", "L1", "health_clinics.csv", 3000,
     ["机构名称", "机构类别", "所在区", "地址", "联系电话", "床位数"]),
]


def test_the_five_datasets_in_order(datasets):
    assert list(datasets) == [row[0] for row in CATALOG]


@pytest.mark.parametrize(
    ("key", "department", "sharing", "level", "filename", "rows", "columns"), CATALOG
)
def test_metadata_and_columns(datasets, key, department, sharing, level, filename, rows, columns):
    ds = datasets[key]
    assert (ds.department, ds.sharing, ds.level, ds.filename) == (
        department, sharing, level, filename
    )
    assert ds.columns == columns
    assert list(ds.frame.columns) == columns
    assert len(ds.frame) == rows
    assert ds.title and ds.title_en and ds.keywords
    assert re.search(r"[\u4e00-\u9fff]", ds.description) and re.search(r"[A-Za-z]", ds.description)


@pytest.mark.parametrize("key", [row[0] for row in CATALOG])
def test_every_cell_is_a_non_empty_str_in_object_columns(datasets, key):
    df = datasets[key].frame
    assert all(dtype == object for dtype in df.dtypes)  # noqa: E721 (numpy dtype equality)
    assert df.map(lambda v: type(v) is str and v != "").all().all()
    assert df.index.equals(pd.RangeIndex(len(df)))


def test_the_demo_city_is_a_valid_tree_of_departments():
    import sqlalchemy as sa

    from exchange import departments
    from exchange.models import metadata

    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:  # each one as an admin would add it, parents first
        for code, name, name_en, level, parent, region in DEPARTMENTS:
            departments.add(conn, code=code, name=name, name_en=name_en, level=level,
                            parent=parent, region=region)
        made = {d.code: d for d in departments.list_all(conn)}
    assert {d.region for d in made.values() if d.level == "district"} == {"510104", "510107"}
    assert made["jinjiang-civil"].parent == "jinjiang" and made["data"].level == "city"
    assert {code for code, *_ in DEPARTMENTS} >= {"police", "civil", "health", "hotline",
                                                   "market", "audit"}


def test_every_dataset_belongs_to_a_known_department(datasets):
    codes = {code for code, *_ in DEPARTMENTS}
    assert {d.department for d in datasets.values()} <= codes


def test_only_the_not_shareable_dataset_has_a_legal_basis(datasets):
    for ds in datasets.values():
        if ds.sharing == "none":
            assert ds.legal_basis == (
                "《中华人民共和国刑事诉讼法》第一百五十二条 及 《政务信息资源共享管理暂行办法》"
                "第九条：涉及侦查秘密，不予共享"
            )
        else:
            assert ds.legal_basis is None


# ------------------------------------------------------------------------------------------
# Determinism
# ------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_frames():
    first = generate_demo_datasets(seed=7, rows=300)
    second = generate_demo_datasets(seed=7, rows=300)
    for a, b in zip(first, second, strict=True):
        assert a.frame.equals(b.frame)
        assert a.csv_bytes() == b.csv_bytes()


def test_default_seed_is_the_documented_one():
    a = generate_demo_datasets(rows=50)
    b = generate_demo_datasets(seed=20261128, rows=50)
    assert [d.csv_bytes() for d in a] == [d.csv_bytes() for d in b]


def test_a_different_seed_gives_different_frames():
    first = generate_demo_datasets(seed=7, rows=300)
    second = generate_demo_datasets(seed=8, rows=300)
    for a, b in zip(first, second, strict=True):
        assert not a.frame.equals(b.frame), a.key


def test_generation_leaves_the_global_random_alone():
    random.seed(12345)
    expected = random.random()
    random.seed(12345)
    generate_demo_datasets(rows=20)
    assert random.random() == expected


@pytest.mark.parametrize(("rows", "case_rows"), [(1, 1), (5, 5), (20, 20), (150, 20)])
def test_rows_parameter(rows, case_rows):
    for ds in generate_demo_datasets(rows=rows):
        assert len(ds.frame) == (case_rows if ds.key == "case_files" else rows)


def test_rows_must_be_positive():
    with pytest.raises(ValueError):
        generate_demo_datasets(rows=0)


# ------------------------------------------------------------------------------------------
# residents
# ------------------------------------------------------------------------------------------


def test_resident_ids_are_valid_and_agree_with_birth_date_and_sex(datasets):
    df = frame(datasets, "residents")
    for rid, born, sex in zip(df["身份证号"], df["出生日期"], df["性别"], strict=True):
        assert is_valid_resident_id(rid), rid
        assert rid[:6] in DISTRICTS
        assert f"{rid[6:10]}-{rid[10:12]}-{rid[12:14]}" == born
        assert sex == ("男" if int(rid[16]) % 2 == 1 else "女")
    assert df["身份证号"].is_unique
    assert set(df["性别"]) == {"男", "女"}


def test_resident_birth_dates_are_real_iso_dates_of_adults_and_children(datasets):
    born = [dt.date.fromisoformat(v) for v in frame(datasets, "residents")["出生日期"]]
    assert min(born) >= dt.date(1940, 1, 1)
    assert max(born) <= dt.date(2008, 12, 31)


def test_resident_mobiles_and_addresses(datasets):
    df = frame(datasets, "residents")
    assert df["手机号"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert df["手机号"].is_unique
    address = re.compile(r"四川省成都市(\w+?[区县市])\w+?\d+号\d+栋\d单元\d{3,4}室")
    districts = {name for name, _, _ in DISTRICTS.values()}
    same_district = 0
    for rid, addr in zip(df["身份证号"], df["住址"], strict=True):
        m = address.fullmatch(addr)
        assert m, addr
        assert m.group(1) in districts
        same_district += m.group(1) == DISTRICTS[rid[:6]][0]
    assert same_district > 0.7 * len(df)


def test_area_codes_are_chengdu_ones():
    assert DISTRICTS["510104"][0] == "锦江区"
    assert DISTRICTS["510107"][0] == "武侯区"
    assert all(code.startswith("5101") and len(code) == 6 for code in DISTRICTS)


# ------------------------------------------------------------------------------------------
# hotline tickets
# ------------------------------------------------------------------------------------------


def mobiles_in(text: str) -> list[str]:
    return ["".join(m.group(1, 3, 4)) for m in MOBILE_RE.finditer(text)]


def ids_in(text: str) -> list[str]:
    return [m.group(0) for m in ID_RE.finditer(text) if is_valid_resident_id(m.group(0))]


def test_ticket_numbers_look_like_numbers_but_are_no_pii(datasets):
    df = frame(datasets, "hotline_tickets")
    assert df["工单编号"].str.fullmatch(r"GD2026\d{8}").all()
    assert df["工单编号"].is_unique
    for ticket in df["工单编号"]:
        assert not is_valid_resident_id(ticket)
        assert not is_valid_resident_id(ticket[2:])
        assert not mobiles_in(ticket)
        assert not is_valid_luhn(ticket[2:]) or len(ticket[2:]) < 16


def test_ticket_numbers_follow_the_acceptance_time(datasets):
    df = frame(datasets, "hotline_tickets")
    times = [dt.datetime.strptime(v, "%Y-%m-%d %H:%M:%S") for v in df["受理时间"]]
    assert times == sorted(times)
    assert all(dt.datetime(2026, 11, 1) <= t < dt.datetime(2026, 11, 29) for t in times)
    assert all(8 <= t.hour < 22 for t in times)
    for ticket, t in zip(df["工单编号"], times, strict=True):
        assert ticket[2:10] == f"{t:%Y%m%d}"


def test_ticket_contacts(datasets):
    df = frame(datasets, "hotline_tickets")
    assert df["联系电话"].str.fullmatch(r"1[3-9]\d{9}|028-[68]\d{7}").all()
    assert df["来电人"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()


def test_complaints_mix_mobiles_ids_and_no_pii(datasets):
    texts = list(frame(datasets, "hotline_tickets")["诉求内容"])
    with_mobile = [t for t in texts if mobiles_in(t)]
    with_id = [t for t in texts if ids_in(t)]
    with_neither = [t for t in texts if not mobiles_in(t) and not ids_in(t)]
    with_no_person = [
        t for t in with_neither if not re.search(r"市民|先生|女士|来电人[\u4e00-\u9fff]", t)
    ]
    n = len(texts)
    assert 0.2 * n < len(with_mobile) < 0.6 * n
    assert 0.05 * n < len(with_id) < 0.35 * n
    assert len(with_neither) > 0.3 * n
    assert len(with_no_person) > 0.15 * n


@pytest.mark.parametrize(
    ("label", "pattern"),
    [
        ("plain", r"(?<![\d+ -])1[3-9]\d{9}(?!\d)"),
        ("dashes", r"(?<!\d)1[3-9]\d-\d{4}-\d{4}"),
        ("spaces", r"(?<!\+86 )(?<!\d)1[3-9]\d \d{4} \d{4}"),
        ("+86 spaced", r"\+86 1[3-9]\d \d{4} \d{4}"),
        ("+86 joined", r"\+861[3-9]\d{9}"),
        ("person", r"市民[\u4e00-\u9fff]{2,3}|[\u4e00-\u9fff](?:先生|女士)"),
        ("address", r"\d+号\d+栋\d单元\d{3,4}室"),
        ("amount", r"\d+元"),
        ("earlier ticket", r"工单GD\d{12}"),
        ("date", r"\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日"),
        ("order number", r"订单号\d{19}"),
    ],
)
def test_complaints_contain_each_kind_of_content(datasets, label, pattern):
    texts = frame(datasets, "hotline_tickets")["诉求内容"]
    assert texts.str.contains(pattern, regex=True).sum() >= 20, label


def test_mobiles_in_complaints_are_often_the_callers_own(datasets):
    df = frame(datasets, "hotline_tickets")
    same = sum(
        contact in mobiles_in(text)
        for contact, text in zip(df["联系电话"], df["诉求内容"], strict=True)
    )
    assert same > 100


def test_harmless_numbers_in_complaints_are_not_ids_or_cards(datasets):
    for text in frame(datasets, "hotline_tickets")["诉求内容"]:
        ids = set(ids_in(text))
        for run in DIGIT_RUN_RE.findall(text):
            if 16 <= len(run) <= 19 and run not in ids and not ID_RE.fullmatch(run):
                assert not is_valid_luhn(run), (run, text)
        for candidate in ID_RE.findall(text):
            assert is_valid_resident_id(candidate), (candidate, text)


# ------------------------------------------------------------------------------------------
# market entities
# ------------------------------------------------------------------------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def is_valid_org_code(code: str) -> bool:
    """GB 11714 organization code check (independent of the module's helper)."""
    values = [int(c, 36) for c in code[:8]]
    check = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS)) % 11
    return code[8] == {10: "X", 11: "0"}.get(check, str(check))


def test_credit_codes_are_valid_and_well_formed(datasets):
    df = frame(datasets, "market_entities")
    for code, founded in zip(df["统一社会信用代码"], df["成立日期"], strict=True):
        assert is_valid_uscc(code), code
        assert code[0] == "9"
        assert code[1] in "123"
        assert code[2:8] == "510100" or code[2:8] in DISTRICTS
        assert is_valid_org_code(code[8:17]), code
        if dt.date.fromisoformat(founded) >= dt.date(2015, 10, 1):
            assert code[8:10] == "MA"
        else:
            assert code[8:16].isdigit()
    assert df["统一社会信用代码"].is_unique
    assert set(df["统一社会信用代码"].str[1]) == {"1", "2", "3"}


def test_market_names_and_other_columns(datasets):
    df = frame(datasets, "market_entities")
    assert df["企业名称"].is_unique
    suffix = {"1": ("公司",), "2": ("店", "馆"), "3": ("专业合作社",)}
    for name, code in zip(df["企业名称"], df["统一社会信用代码"], strict=True):
        assert name.endswith(suffix[code[1]]), (name, code)
    assert df["注册地址"].str.startswith("四川省成都市").all()
    assert df["注册资本(万元)"].str.fullmatch(r"[1-9]\d*").all()
    for v in df["成立日期"]:
        assert dt.date(1995, 1, 1) <= dt.date.fromisoformat(v) <= dt.date(2026, 10, 31)


# ------------------------------------------------------------------------------------------
# case files and clinics
# ------------------------------------------------------------------------------------------


def test_case_files(datasets):
    df = frame(datasets, "case_files")
    assert df["案件编号"].str.fullmatch(r"A5101\d{18}").all()
    assert df["案件编号"].is_unique
    assert df["办案单位"].str.startswith("成都市公安局").all()
    for v in df["立案日期"]:
        dt.date.fromisoformat(v)


def test_health_clinics(datasets):
    df = frame(datasets, "health_clinics")
    assert df["机构名称"].is_unique
    assert df["联系电话"].str.fullmatch(r"028-[68]\d{7}").all()
    assert df["床位数"].str.fullmatch(r"0|[1-9]\d*").all()
    districts = {name for name, _, _ in DISTRICTS.values()}
    assert set(df["所在区"]) <= districts
    for district, addr in zip(df["所在区"], df["地址"], strict=True):
        assert addr.startswith(f"四川省成都市{district}")
    assert {"综合医院", "社区卫生服务中心", "诊所"} <= set(df["机构类别"])


# ------------------------------------------------------------------------------------------
# Identifier helpers
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("length", [None, 16, 17, 18, 19])
def test_bank_card_is_a_luhn_valid_unionpay_number(seed, length):
    rng = random.Random(seed)
    for _ in range(200):
        card = bank_card(rng, length)
        assert is_valid_luhn(card), card
        assert card.startswith("62")
        assert 16 <= len(card) <= 19
        if length is not None:
            assert len(card) == length


@pytest.mark.parametrize("length", [15, 20])
def test_bank_card_rejects_impossible_lengths(length):
    with pytest.raises(ValueError):
        bank_card(random.Random(0), length)


def test_bank_card_is_deterministic_in_its_rng():
    a = [bank_card(random.Random(3)) for _ in range(3)]
    assert a[0] == a[1] == a[2]


@pytest.mark.parametrize(
    ("area", "birth", "male"),
    [
        ("510104", dt.date(1990, 3, 15), True),
        ("510107", dt.date(1949, 12, 31), False),
        ("510185", dt.date(2000, 2, 29), True),
        ("110105", dt.date(1985, 7, 1), False),
    ],
)
def test_resident_id_helper(area, birth, male):
    rng = random.Random(1)
    for _ in range(50):
        rid = resident_id(rng, area_code=area, birth=birth, male=male)
        assert is_valid_resident_id(rid)
        assert rid[:6] == area
        assert rid[6:14] == f"{birth:%Y%m%d}"
        assert int(rid[16]) % 2 == (1 if male else 0)


@pytest.mark.parametrize(
    ("entity_type", "area", "new_style"),
    [("1", "510100", True), ("1", "510104", False), ("2", "510107", True), ("3", "510181", True)],
)
def test_credit_code_helper(entity_type, area, new_style):
    rng = random.Random(2)
    for _ in range(200):
        code = credit_code(rng, entity_type=entity_type, area_code=area, new_style=new_style)
        assert is_valid_uscc(code)
        assert code[:8] == "9" + entity_type + area
        assert is_valid_org_code(code[8:17])
        assert (code[8:10] == "MA") is new_style


def test_mobile_number_helper():
    rng = random.Random(4)
    numbers = [mobile_number(rng) for _ in range(500)]
    assert all(re.fullmatch(r"1[3-9]\d{9}", n) for n in numbers)


def test_scrubbing_the_demo_tickets_leaves_the_callers_names_out():
    """The hotline's complaints name their callers the way real tickets do (市民X反映,
    X（身份证号…）反映, X于…来电); scrubbed, at most one in 200 still holds its caller's full
    name (jieba's dictionary reads a few given names as words: 市民应明反映)."""
    from masking import scrub_texts
    tickets = {d.department: d for d in generate_demo_datasets(rows=1000)}["hotline"].frame
    scrubbed = scrub_texts(tickets["诉求内容"].tolist())
    named = [(c, t) for c, t in zip(tickets["来电人"], tickets["诉求内容"]) if c and c in t]
    assert len(named) > 300  # the test means something: most tickets name the caller
    left = [c for c, s in zip(tickets["来电人"], scrubbed) if c and c in s]
    assert len(left) <= len(named) / 200, left


def test_the_residents_district_is_the_one_in_their_address(datasets):
    from catalog.regions import is_region_column
    from exchange.demo.data import DISTRICTS

    df = datasets["residents"].frame
    assert is_region_column(pa.array(df["所属区划"].tolist()))
    for code, address in zip(df["所属区划"], df["住址"], strict=True):
        assert DISTRICTS[code][0] in address
