"""Column rules: whole addresses, and names given context by the column they are in."""

from __future__ import annotations

import pytest
from faker import Faker

from masking._address import is_address_value
from masking._column_rules import claimed_entities

# (value, strict: any column, lenient: under an address header)
ADDRESSES = [
    ("浙江省兴安盟县门头沟乌鲁木齐街Q座", True, True),          # Faker-like: a building letter
    ("海南省秀英县沈河南京街b座 672219", True, True),            # and a postcode
    ("四川省成都市锦江区春熙路123号", True, True),
    ("四川省成都市青羊区小南街110号2栋1单元2804室", True, True),
    ("内蒙古自治区呼和浩特市新城区人民路12号院3单元", True, True),
    ("北京市朝阳区建国路88号", True, True),
    ("成都市武侯区人民南路四段", True, True),                    # a road section
    ("成都市锦江区锦华苑", True, True),                           # a residential compound
    ("春熙路123号", True, True),                                  # no administrative prefix
    ("锦江区春熙路", False, True),                                # a street: public
    ("成都市天府广场", False, True),
    # no address as a whole: places, districts, organisations, sentences, names, English
    ("春熙路", False, False), ("天府广场", False, False), ("锦江区", False, False),
    ("四川省成都市", False, False), ("成都市锦华商贸有限公司", False, False),
    ("四川省成都市锦江区人民政府", False, False), ("成都市第一人民医院", False, False),
    ("成都市锦江区春熙路街道办事处", False, False),
    ("四川省成都市锦江区春熙路123号3栋楼下噪音扰民", False, False),
    ("锦江区春熙路与红星路交叉口", False, False), ("张伟", False, False),
    ("王家园", False, False),
    # English: a house number and a street with a street suffix, or a military box
    ("1234 Main Street, Springfield, IL 62704", True, True),
    ("41144 Robert Glen, North Ann", True, True),
    ("PSC 1234, Box 5678, APO AA 12345", True, True), ("Suite 5, 12 Main St", True, True),
    ("Main Street", False, False), ("12 people called about Main Street", False, False),
    ("Order 2026031812 shipped", False, False), ("100 Days", False, False),
    ("13812345678", False, False), ("", False, False),
    ("四川省成都市锦江区春熙路" + "1号" * 40, False, False),          # too long for an address
]


@pytest.mark.parametrize(("value", "strict", "lenient"), ADDRESSES)
def test_is_address_value(value, strict, lenient):
    assert is_address_value(value, lenient=False) == strict
    assert is_address_value(value, lenient=True) == lenient


def test_faker_addresses_are_addresses_and_its_other_values_are_not():
    """zh_CN addresses the rules were not written from; cities, companies, provinces, names."""
    fake = Faker("zh_CN")
    fake.seed_instance(12)
    assert all(is_address_value(fake.address(), lenient=False) for _ in range(300))
    assert all(is_address_value(fake.address().split()[0], lenient=False) for _ in range(300))
    for make in ("city", "company", "province", "name", "street_name", "district"):
        assert not any(is_address_value(getattr(fake, make)(), lenient=True) for _ in range(200))


def test_english_addresses_the_rule_was_not_written_from():
    fake = Faker("en_US")
    fake.seed_instance(21)
    found = sum(is_address_value(fake.address().replace("\n", ", "), lenient=False)
                for _ in range(300))
    assert found / 300 >= 0.9  # the rest: ship addresses (USNS Davis, FPO AA 36366)
    for make in ("sentence", "catch_phrase", "company", "job", "city"):
        assert not any(is_address_value(getattr(fake, make)(), lenient=True) for _ in range(200))


def test_a_pathological_value_is_decided_fast():
    import time

    start = time.perf_counter()
    for value in ("路" * 79, "省市区" * 26, "1号" * 39 + "路"):
        is_address_value(value, lenient=True)
    assert time.perf_counter() - start < 0.5


def test_the_analyzer_answer_stands_and_only_unclaimed_values_are_read():
    values = ["浙江省兴安盟县门头沟乌鲁木齐街Q座", "13812345678", "锦江区春熙路"]
    assert claimed_entities(values, [None, "CN_MOBILE", None], None) == [
        "LOCATION", "CN_MOBILE", None]
    assert claimed_entities(values, [None, "CN_MOBILE", None], "LOCATION") == [
        "LOCATION", "CN_MOBILE", "LOCATION"]
    assert claimed_entities(values, ["PERSON", None, None], None) == [
        "PERSON", None, None]  # a whole entity is never re-read


def test_names_are_claimed_only_in_a_column_the_analyzer_calls_names():
    values = ["Aoife Murphy", "Douglas King", "Rachel Becker", "张建华", "Acme Ltd"]
    names = [None, "PERSON", "PERSON", None, None]
    assert claimed_entities(values, names, None) == ["PERSON", "PERSON", "PERSON", "PERSON", None]
    few = [None, "PERSON", None, None, None]  # 1 in 5: under the share that gives context
    assert claimed_entities(values, few, None) == few
