"""Table masking: round trip without raw identifiers, plan errors, no mutation, nulls."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from masking import (
    ColumnRule,
    InvalidMaskingPlan,
    UnknownOperator,
    default_rules,
    mask_table,
    profile_table,
)

from .conftest import valid_id

KEY = b"civil-affairs-recipient-key-0001"
SURNAMES, GIVEN = "张王李刘陈杨黄赵周吴", ["伟", "芳", "娜", "秀英", "敏", "静", "强", "磊"]


def hotline_table(rows: int, seed: int = 7) -> pd.DataFrame:
    """A citizen-hotline extract: name, ID, mobile, address, date, complaint text."""
    rng = random.Random(seed)
    names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(rows)]
    ids = [valid_id(f"510104{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}"
                    f"{rng.randint(1, 28):02d}{i % 1000:03d}") for i in range(rows)]
    mobiles = [f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}" for _ in range(rows)]
    addresses = [f"四川省成都市锦江区春熙路{rng.randint(1, 300)}号" for _ in range(rows)]
    texts = [
        f"市民{names[i]}来电反映，其身份证号{ids[i]}，联系电话{mobiles[i]}，"
        f"家住锦江区春熙路{i % 50 + 1}号，油烟扰民。"
        if i % 3 == 0
        else "反映公交线路调整后出行不便，建议恢复原线路。"
        for i in range(rows)
    ]
    return pd.DataFrame(
        {"姓名": names, "身份证号": ids, "手机号": mobiles, "住址": addresses,
         "登记日期": ["2023-11-05"] * rows, "诉求内容": texts}
    )


@pytest.fixture
def table():
    return hotline_table(60)


def test_default_plan_round_trip_leaves_no_raw_identifier(table, analyzer):
    rules = default_rules(profile_table(table, analyzer=analyzer))
    assert {c: r.operator for c, r in rules.items()} == {
        "姓名": "mask", "身份证号": "mask", "手机号": "mask", "住址": "mask",
        "登记日期": "keep", "诉求内容": "scrub",
    }
    out = mask_table(table, rules, hash_key=KEY, analyzer=analyzer)
    assert list(out.columns) == list(table.columns) and out.index.equals(table.index)
    delivered = out.to_csv(index=False)
    for value in pd.concat([table["身份证号"], table["手机号"]]):
        assert value not in delivered
    assert out["姓名"][0] == table["姓名"][0][0] + "*" * (len(table["姓名"][0]) - 1)
    assert out["手机号"][0] == table["手机号"][0][:3] + "****" + table["手机号"][0][-4:]
    assert out["住址"][0].startswith("四川省成都市锦江区*")
    assert out["登记日期"].equals(table["登记日期"])
    assert out["诉求内容"][1] == table["诉求内容"][1]


def test_complaint_text_is_scrubbed_in_place(analyzer):
    text = (f"市民张伟来电反映，其身份证号{valid_id('11010519491231002')}，联系电话13812345678，"
            "家住锦江区春熙路1号")
    out = mask_table(pd.DataFrame({"诉求": [text]}), {"诉求": ColumnRule("scrub")}, hash_key=KEY,
                     analyzer=analyzer)
    assert out["诉求"][0] == ("市民张*来电反映，其身份证号110105********002X，联系电话138****5678，"
                              "家住锦江区*****")


def test_input_frame_is_not_mutated(table, analyzer):
    before = table.copy(deep=True)
    rules = {"手机号": ColumnRule("hash", "CN_MOBILE"), "姓名": ColumnRule("drop"),
             "诉求内容": ColumnRule("scrub")}
    mask_table(table, rules, hash_key=KEY, analyzer=analyzer)
    pd.testing.assert_frame_equal(table, before)


def test_drop_hash_and_unruled_columns(table, analyzer):
    rules = {"姓名": ColumnRule("drop"), "手机号": ColumnRule("hash", "CN_MOBILE", {"length": 12})}
    out = mask_table(table, rules, hash_key=KEY, analyzer=analyzer)
    assert list(out.columns) == ["身份证号", "手机号", "住址", "登记日期", "诉求内容"]
    assert out["身份证号"].equals(table["身份证号"])  # no rule: kept as it is
    assert out["手机号"].str.len().eq(12).all()
    again = mask_table(table, rules, hash_key=KEY, analyzer=analyzer)
    other = mask_table(table, rules, hash_key=b"another-department-key-000000000",
                       analyzer=analyzer)
    assert out["手机号"].equals(again["手机号"])
    assert set(out["手机号"]).isdisjoint(other["手机号"])


def test_nulls_stay_null(analyzer):
    df = pd.DataFrame({"手机号": ["13812345678", None], "诉求": [None, "电话13912345678"],
                       "n": [1, 2]}, index=[5, 9])
    rules = {"手机号": ColumnRule("mask", "CN_MOBILE"), "诉求": ColumnRule("scrub")}
    out = mask_table(df, rules, hash_key=KEY, analyzer=analyzer)
    assert out.index.tolist() == [5, 9]
    assert out["手机号"].isna().tolist() == [False, True]
    assert out["诉求"].isna().tolist() == [True, False] and out["诉求"][9] == "电话139****5678"
    assert out["n"].tolist() == [1, 2]


def test_empty_table(analyzer):
    df = pd.DataFrame({"手机号": pd.Series([], dtype="str")})
    out = mask_table(df, {"手机号": ColumnRule("mask", "CN_MOBILE")}, hash_key=KEY,
                     analyzer=analyzer)
    assert list(out.columns) == ["手机号"] and len(out) == 0


@pytest.mark.parametrize(
    ("rules", "error", "message"),
    [
        ({"不存在": ColumnRule("mask")}, InvalidMaskingPlan, "does not have"),
        ({"手机号": ColumnRule("shred")}, UnknownOperator, "shred"),
        ({"手机号": ColumnRule("mask", "CN_MOBILE", {"keep_first": 9, "x": 1})},
         InvalidMaskingPlan, "no parameter"),
        ({"手机号": "mask"}, InvalidMaskingPlan, "not a ColumnRule"),
        ({"手机号": ColumnRule("hash", "CN_MOBILE")}, InvalidMaskingPlan, "key"),
    ],
)
def test_bad_plans_raise_before_any_work(rules, error, message, analyzer):
    df = pd.DataFrame({"手机号": ["13812345678"]})
    with pytest.raises(error, match=message):
        mask_table(df, rules, hash_key=b"", analyzer=analyzer)


def test_duplicate_column_names_are_refused(analyzer):
    df = pd.DataFrame([["a", "b"]], columns=["x", "x"])
    with pytest.raises(InvalidMaskingPlan, match="duplicate"):
        mask_table(df, {}, hash_key=KEY, analyzer=analyzer)


def test_column_rule_round_trips_through_a_dict():
    rule = ColumnRule("mask", "CN_RESIDENT_ID", {"keep_first": 1})
    assert ColumnRule.from_dict(rule.to_dict()) == rule
    assert ColumnRule.from_dict({"operator": "keep"}) == ColumnRule("keep")
    with pytest.raises(InvalidMaskingPlan):
        ColumnRule.from_dict({"entity": "PERSON"})


def test_five_thousand_rows_mask_in_bulk(analyzer):
    """Not a timing test (see benchmarks/masking.py); proves the bulk path copes with volume."""
    df = hotline_table(5000, seed=3)
    out = mask_table(df, default_rules(profile_table(df, analyzer=analyzer)), hash_key=KEY,
                     analyzer=analyzer)
    assert len(out) == 5000
    assert not out["诉求内容"].str.contains(r"1[3-9]\d{9}", regex=True).any()
