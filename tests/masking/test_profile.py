"""Column profiling: identifier, free text or nothing, from a sample and the header."""

from __future__ import annotations

import pandas as pd
import pytest

from masking import ColumnProfile, InvalidMaskingPlan, profile_table
from masking.profile import header_entity

from .conftest import ID_A, ID_B, valid_id

IDS = [valid_id(f"5101041985061{i:04d}") for i in range(40)]


def profiles_of(df, analyzer, **kwargs):
    return {p.column: p for p in profile_table(df, analyzer=analyzer, **kwargs)}


def test_identifier_free_text_and_none(analyzer):
    df = pd.DataFrame(
        {
            "证件": IDS,
            "联系方式": [f"1381234{i:04d}" for i in range(40)],
            "诉求": [f"市民王芳来电反映第{i}号路灯不亮" if i % 4 else f"联系电话1391234{i:04d}" for i in range(40)],
            "状态": ["已办结", "处理中"] * 20,
            "金额": [1234.5 + i for i in range(40)],
        }
    )
    got = profiles_of(df, analyzer)
    assert (got["证件"].kind, got["证件"].entity, got["证件"].matched) == ("identifier", "CN_RESIDENT_ID", 40)
    assert got["证件"].confidence == 1.0 and got["证件"].sampled == 40
    assert (got["联系方式"].kind, got["联系方式"].entity) == ("identifier", "CN_MOBILE")
    assert got["诉求"].kind == "free_text" and got["诉求"].entity is None
    assert got["状态"].kind == "none" and got["金额"].kind == "none"


def test_name_and_address_columns_use_the_header(analyzer):
    df = pd.DataFrame(
        {
            "姓名": ["张伟", "马力", "李秀英", "王强", None],
            "住址": ["锦江区春熙路1号", "武侯区", "四川省成都市青羊区", "成华区建设路8号", None],
        }
    )
    got = profiles_of(df, analyzer)
    assert (got["姓名"].kind, got["姓名"].entity, got["姓名"].sampled) == ("identifier", "PERSON", 4)
    assert (got["住址"].kind, got["住址"].entity) == ("identifier", "LOCATION")


def test_a_header_alone_marks_a_personal_column_with_low_confidence(analyzer):
    df = pd.DataFrame({"name": ["-", "?"], "备注": ["无", "无"]})
    got = profiles_of(df, analyzer)
    assert (got["name"].kind, got["name"].entity, got["name"].confidence) == ("identifier", "PERSON", 0.3)
    assert got["备注"].kind == "none"


def test_mostly_ids_with_some_junk_is_still_an_identifier(analyzer):
    values = [ID_A, ID_B] * 8 + ["不详", "未登记"]
    got = profiles_of(pd.DataFrame({"身份证号": values}), analyzer)["身份证号"]
    assert got.kind == "identifier" and got.matched == 16 and got.sampled == 18


def test_sample_size_limits_the_work(analyzer):
    df = pd.DataFrame({"手机号": [f"1381234{i:04d}" for i in range(1000)]})
    got = profiles_of(df, analyzer, sample_size=50)["手机号"]
    assert got.sampled == 50 and got.kind == "identifier"
    with pytest.raises(InvalidMaskingPlan, match="sample_size"):
        profile_table(df, analyzer=analyzer, sample_size=0)


def test_empty_and_all_null_columns(analyzer):
    got = profiles_of(pd.DataFrame({"x": [None, None], "手机": [None, None]}), analyzer)
    assert (got["x"].kind, got["x"].sampled, got["x"].confidence) == ("none", 0, 0.0)
    assert got["手机"].kind == "identifier"  # the header still says so


@pytest.mark.parametrize(
    ("header", "entity"),
    [
        ("身份证号", "CN_RESIDENT_ID"),
        ("手机号", "CN_MOBILE"),
        ("联系电话", "CN_MOBILE"),
        ("联系人电话", "CN_MOBILE"),
        ("住址", "LOCATION"),
        ("IP地址", "IP_ADDRESS"),
        ("email", "EMAIL_ADDRESS"),
        ("Phone", "CN_MOBILE"),
        ("name", "PERSON"),
        ("Full Name", "PERSON"),
        ("product_name", None),
        ("ip", "IP_ADDRESS"),
        ("zip_code", None),
        ("ID Card", "CN_RESIDENT_ID"),
        ("bank_card_no", "BANK_CARD"),
        ("描述", None),
        ("zip", None),
    ],
)
def test_header_entity(header, entity):
    assert header_entity(header) == entity


def test_profile_round_trips_through_a_dict():
    profile = ColumnProfile("手机号", "identifier", "CN_MOBILE", 0.95, 200, 190)
    assert ColumnProfile.from_dict(profile.to_dict()) == profile
    assert profile.to_dict()["kind"] == "identifier"


@pytest.mark.parametrize(
    "data", [{"column": "x"}, {"column": "x", "kind": "pii", "entity": None, "confidence": 1, "sampled": 1, "matched": 1}]
)
def test_profile_from_bad_dict(data):
    with pytest.raises(InvalidMaskingPlan):
        ColumnProfile.from_dict(data)
