"""Column profiling: identifier, free text or nothing, from a sample and the header."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from faker import Faker

from masking import ColumnProfile, InvalidMaskingPlan, default_rules, mask_table, profile_table
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
            "诉求": [f"市民王芳来电反映第{i}号路灯不亮" if i % 4 else f"联系电话1391234{i:04d}"
                     for i in range(40)],
            "状态": ["已办结", "处理中"] * 20,
            "金额": [1234.5 + i for i in range(40)],
        }
    )
    got = profiles_of(df, analyzer)
    assert (got["证件"].kind, got["证件"].entity, got["证件"].matched) == (
        "identifier", "CN_RESIDENT_ID", 40)
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
    assert (got["姓名"].kind, got["姓名"].entity, got["姓名"].sampled) == (
        "identifier", "PERSON", 4)
    assert (got["住址"].kind, got["住址"].entity) == ("identifier", "LOCATION")


def test_a_header_alone_marks_a_personal_column_with_low_confidence(analyzer):
    df = pd.DataFrame({"name": ["-", "?"], "备注": ["无", "无"]})
    got = profiles_of(df, analyzer)
    assert (got["name"].kind, got["name"].entity, got["name"].confidence) == (
        "identifier", "PERSON", 0.3)
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
    "data", [{"column": "x"},
             {"column": "x", "kind": "pii", "entity": None, "confidence": 1, "sampled": 1,
              "matched": 1}]
)
def test_profile_from_bad_dict(data):
    with pytest.raises(InvalidMaskingPlan):
        ColumnProfile.from_dict(data)


def _profile_and_mask(values, header, analyzer):
    frame = pd.DataFrame({header: values})
    profile = profile_table(frame, analyzer=analyzer)[0]
    masked = mask_table(frame, default_rules([profile]), hash_key=b"k" * 16, analyzer=analyzer)
    return profile, masked[header].tolist()


@pytest.mark.parametrize("locale", ["en_US", "en_GB", "en_AU", "en_CA"])
@pytest.mark.parametrize("header", ["reporter", "col_7", "处理人"])
def test_a_column_of_english_names_is_a_person_identifier_and_every_value_is_masked(
        locale, header, analyzer):
    fake = Faker(locale)
    fake.seed_instance(606)
    values = [fake.name() for _ in range(300)]
    profile, masked = _profile_and_mask(values, header, analyzer)
    assert (profile.kind, profile.entity) == ("identifier", "PERSON")
    assert profile.matched / profile.sampled >= 0.9
    assert not set(values) & set(masked)
    assert all(m.split()[-1].strip("*") in ("", m.split()[-1][0]) for m in masked)  # D*** K***


@pytest.mark.parametrize("values", [
    ["Zhang Wei", "Li Xiaoming", "WANG Fang", "Wang, Fang", "Chen Jing", "LIU Yang", "Zhao Lei"],
    ["张伟", "Li Xiaoming", "Douglas King", "欧阳娜娜", "WANG Fang", "Rachel Becker", "李秀英"],
])
def test_pinyin_and_mixed_name_columns_are_person_identifiers(values, analyzer):
    profile, masked = _profile_and_mask(values * 10, "x", analyzer)
    assert (profile.kind, profile.entity, profile.confidence) == ("identifier", "PERSON", 1.0)
    assert not set(values) & set(masked)


def test_names_the_analyzer_misses_are_named_by_their_column(analyzer):
    """Irish names: many given names are off the US lists; with the column's other names as
    context every value is a name (without a header that says so)."""
    fake = Faker("en_IE")
    fake.seed_instance(5)
    profile, masked = _profile_and_mask([fake.name() for _ in range(200)], "col", analyzer)
    assert (profile.kind, profile.entity) == ("identifier", "PERSON")


@pytest.mark.parametrize("make", ["job", "company", "city", "sentence", "catch_phrase",
                                  "country", "street_name", "yes_no", "product"])
def test_columns_of_other_english_values_are_not_person_identifiers(make, analyzer):
    fake = Faker("en_US")
    fake.seed_instance(99)
    makers = {"yes_no": lambda: fake.random_element(["Yes", "No"]),
              "product": lambda: f"{fake.random_element(['Acme', 'Zenith', 'Apex'])} "
                                 f"{fake.random_element(['Widget', 'Phone 15', 'Pro Max'])}"}
    make_one = makers.get(make) or getattr(fake, make)
    profile = profile_table(pd.DataFrame({"col": [make_one() for _ in range(200)]}),
                            analyzer=analyzer)[0]
    assert (profile.kind, profile.entity) != ("identifier", "PERSON")


@pytest.mark.parametrize("header", ["col", "住址", "address"])
def test_a_column_of_addresses_is_a_location_identifier_masked_to_the_district(header, analyzer):
    fake = Faker("zh_CN")
    fake.seed_instance(4)
    values = [fake.address().split()[0] for _ in range(150)] + ["浙江省兴安盟县门头沟乌鲁木齐街Q座"]
    profile, masked = _profile_and_mask(values, header, analyzer)
    assert (profile.kind, profile.entity, profile.confidence) == ("identifier", "LOCATION", 1.0)
    assert masked[-1] == "浙江省兴安盟县**********"
    assert not set(values) & set(masked)


def test_an_address_column_without_house_numbers_needs_its_header(analyzer):
    values = ["成都市武侯区人民南路四段", "四川省成都市锦江区春熙路", "成都市青羊区宽窄巷子"] * 5
    profile, masked = _profile_and_mask(values, "住址", analyzer)
    assert (profile.kind, profile.entity) == ("identifier", "LOCATION")
    assert masked[0] == "成都市武侯区******"


@pytest.mark.parametrize("values", [["春熙路", "天府广场", "宽窄巷子"],
                                    ["锦江区", "武侯区", "成都市"]])
def test_public_places_and_districts_are_not_location_identifiers(values, analyzer):
    profile = profile_table(pd.DataFrame({"事发地点": values * 5}), analyzer=analyzer)[0]
    assert (profile.kind, profile.entity) != ("identifier", "LOCATION")


@pytest.mark.parametrize("header", ["address", "col"])
def test_an_english_address_column_is_masked_whole(header, analyzer):
    fake = Faker("en_US")
    fake.seed_instance(1)
    values = [fake.address().replace("\n", ", ") for _ in range(30)]
    profile, masked = _profile_and_mask(values, header, analyzer)
    assert (profile.kind, profile.entity) == ("identifier", "LOCATION")
    assert not set(values) & set(masked)


@pytest.mark.parametrize("header", ["phone", "col"])
def test_a_column_of_north_american_phone_numbers(header, analyzer):
    fake = Faker("en_US")
    fake.seed_instance(8)
    values = [fake.phone_number() for _ in range(200)]
    profile, masked = _profile_and_mask(values, header, analyzer)
    assert (profile.kind, profile.entity) == ("identifier", "PHONE_NUMBER")
    assert not set(values) & set(masked)
    kept = [re.sub(r"^(?:\+|00)1", "", m) for m in masked]  # the country code stays
    assert all(sum(c.isdigit() for c in m) <= 4 for m in kept)  # and the last four digits
