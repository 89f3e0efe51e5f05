"""Operators: exact display conventions, keyed hashing, generalisation, nulls, errors."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pytest

from masking import (
    OPERATORS,
    InvalidMaskingPlan,
    MaskContext,
    MaskingError,
    UnknownOperator,
    get_operator,
)

from .conftest import ID_A

KEY_A = b"hotline-department-key-0123456789"
KEY_B = b"police-department-key-9876543210"


def run(name, values, entity=None, params=None, **context):
    """Apply operator ``name`` to a list of values as a Series and return the list."""
    series = pd.Series(values, dtype="object" if any(isinstance(v, int) for v in values) else "str")
    out = get_operator(name).apply(series, entity=entity, params=params or {},
                                   context=MaskContext(**context))
    return [None if pd.isna(v) else v for v in out.tolist()]


def test_registry_has_every_operator():
    assert set(OPERATORS) == {"keep", "mask", "redact", "hash", "generalize", "drop", "scrub"}


@pytest.mark.parametrize("name", ["nope", "", "MASK"])
def test_unknown_operator(name):
    with pytest.raises(UnknownOperator, match="no masking operator"):
        get_operator(name)
    assert issubclass(UnknownOperator, LookupError) and issubclass(UnknownOperator, MaskingError)


MASKS = [
    ("CN_MOBILE", "13812345678", "138****5678"),
    ("CN_MOBILE", "+86 138-1234-5678", "138****5678"),
    ("CN_RESIDENT_ID", ID_A, "110105********002X"),
    ("PERSON", "张三丰", "张**"),
    ("PERSON", "张伟", "张*"),
    ("PERSON", "陈", "*"),
    ("PERSON", "John Smith", "J*** S****"),              # each word keeps its initial
    ("PERSON", "KING, Douglas", "K**** D******"),
    ("PERSON", "王 芳", "王 *"),                           # Chinese: one word, the surname stays
    ("PERSON", "阿卜杜·热合曼", "阿******"),
    ("PHONE_NUMBER", "(639) 950-0538", "(***) ***-0538"),
    ("PHONE_NUMBER", "+44 20 7946 0958", "+44 ** **** 0958"),   # the country code stays
    ("PHONE_NUMBER", "0044 20 7946 0958", "0044 ** **** 0958"),
    ("PHONE_NUMBER", "+442079460958", "+44******0958"),
    ("PHONE_NUMBER", "+1-639-950-0538", "+1-***-***-0538"),
    ("PHONE_NUMBER", "6399500538", "******0538"),
    ("PHONE_NUMBER", "12", "**"),                        # too short to keep anything
    ("PHONE_NUMBER", "unknown", "unknown"),              # no digit to hide
    ("BANK_CARD", "6222 0212 3456 7890 123", "***************0123"),
    ("CN_LICENSE_PLATE", "川A12345", "川A1***5"),
    ("CN_LICENSE_PLATE", "川AD12345", "川AD****5"),
    ("EMAIL_ADDRESS", "zhao@example.com", "z***@example.com"),
    ("IP_ADDRESS", "192.168.1.10", "192.168.*.*"),
    ("LOCATION", "四川省成都市锦江区春熙路1号", "四川省成都市锦江区*****"),
    ("LOCATION", "北京市朝阳区建国路88号", "北京市朝阳区******"),
    ("LOCATION", "春熙路1号", "*****"),
    ("CN_LANDLINE", "028-85123456", "028-******56"),
    (None, "abcdef", "a****f"),
    (None, "ab", "**"),
]


@pytest.mark.parametrize(("entity", "value", "expected"), MASKS)
def test_mask_conventions(entity, value, expected):
    assert run("mask", [value], entity) == [expected]


def test_mask_kept_lengths_are_configurable():
    assert run("mask", [ID_A], "CN_RESIDENT_ID", {"keep_first": 1, "keep_last": 2}) == [
        "1***************2X"]
    assert run("mask", ["13812345678"], "CN_MOBILE",
               {"keep_first": 0, "keep_last": 4, "char": "#"}) == [
        "#######5678"
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"keep_first": 7}, "at most 6"),
        ({"keep_last": 5}, "at most 4"),
        ({"keep_first": -1}, "non-negative"),
        ({"keep_first": "6"}, "non-negative"),
        ({"char": "**"}, "single character"),
        ({"keep": 3}, "no parameter"),
    ],
)
def test_mask_rejects_bad_params(params, message):
    with pytest.raises(InvalidMaskingPlan, match=message):
        run("mask", [ID_A], "CN_RESIDENT_ID", params)


def test_mask_keeps_nulls_and_index():
    series = pd.Series(["13812345678", None, "13912345678"], index=[10, 20, 30], name="手机号")
    out = get_operator("mask").apply(series, entity="CN_MOBILE", params={}, context=MaskContext())
    assert out.index.tolist() == [10, 20, 30] and out.name == "手机号"
    assert out.isna().tolist() == [False, True, False]
    assert out[10] == "138****5678"


def test_mask_numbers_stored_as_numbers():
    series = pd.Series([13812345678.0, None])  # a CSV column with a gap reads as float
    out = get_operator("mask").apply(series, entity="CN_MOBILE", params={}, context=MaskContext())
    assert out.tolist()[0] == "138****5678" and pd.isna(out.tolist()[1])


def test_operators_return_pyarrow_for_pyarrow():
    array = pa.chunked_array([["13812345678", None]])
    out = get_operator("mask").apply(array, entity="CN_MOBILE", params={}, context=MaskContext())
    assert isinstance(out, pa.Array) and out.to_pylist() == ["138****5678", None]


def test_hash_is_stable_per_key_and_unlinkable_across_keys():
    values = ["13812345678", "13812345678", "13912345678", None]
    a1 = run("hash", values, "CN_MOBILE", hash_key=KEY_A)
    a2 = run("hash", values, "CN_MOBILE", hash_key=KEY_A)
    b = run("hash", values, "CN_MOBILE", hash_key=KEY_B)
    assert a1 == a2
    assert a1[0] == a1[1] != a1[2] and a1[3] is None
    assert re.fullmatch(r"[a-z2-7]{16}", a1[0])  # no 0, 1, 8, 9: never looks like a number
    assert set(a1[:3]).isdisjoint(b[:3])
    assert "13812345678" not in a1[0]


def test_hash_normalises_the_same_mobile():
    out = run("hash", ["13812345678", "+86 138-1234-5678"], "CN_MOBILE", hash_key=KEY_A)
    assert out[0] == out[1]


def test_hash_length_param():
    assert len(run("hash", ["x"], None, {"length": 32}, hash_key=KEY_A)[0]) == 32
    for bad in (4, 53):
        with pytest.raises(InvalidMaskingPlan, match="8 to 52"):
            run("hash", ["x"], None, {"length": bad}, hash_key=KEY_A)


@pytest.mark.parametrize("key", [None, b"", b"short", "a string key of many chars"])
def test_hash_needs_a_real_key(key):
    with pytest.raises(InvalidMaskingPlan, match="key"):
        run("hash", ["13812345678"], "CN_MOBILE", hash_key=key)


GENERALIZE = [
    ("CN_RESIDENT_ID", {}, [ID_A, "12345", None], ["1949", None, None]),
    ("LOCATION", {}, ["四川省成都市锦江区春熙路1号", "春熙路1号"], ["四川省成都市锦江区", None]),
    ("AGE", {}, [34, 7, 100], ["30-39", "0-9", "100-109"]),
    (None, {"to": "band", "width": 5}, ["34", "abc"], ["30-34", None]),
    ("DATE_TIME", {}, ["2023-11-05", "2023年3月8日", "unknown"], ["2023", "2023", None]),
    (None, {"to": "month"}, ["2023-11-05", "2023/3/8", None], ["2023-11", "2023-03", None]),
]


@pytest.mark.parametrize(("entity", "params", "values", "expected"), GENERALIZE)
def test_generalize(entity, params, values, expected):
    assert run("generalize", values, entity, params) == expected


def test_generalize_timestamps():
    series = pd.Series(pd.to_datetime(["2023-11-05 12:30", None]))
    out = get_operator("generalize").apply(series, entity=None, params={"to": "month"},
                                           context=MaskContext())
    assert out[0] == "2023-11" and pd.isna(out[1])


@pytest.mark.parametrize("params", [{}, {"to": "decade"}, {"to": "band", "width": 0}])
def test_generalize_rejects_unknown_targets(params):
    with pytest.raises(InvalidMaskingPlan):
        run("generalize", ["34"], None, params)


def test_redact_keep_drop():
    assert run("redact", ["a", None]) == ["", None]
    assert run("redact", ["a", None], params={"token": "[已删除]"}) == ["[已删除]", None]
    assert run("keep", ["a", None]) == ["a", None]
    assert run("drop", ["a", "b"]) == [None, None]
    assert get_operator("drop").drops_column and not get_operator("keep").drops_column


def test_scrub_masks_only_the_spans(analyzer):
    text = (f"市民张伟来电反映，其身份证号{ID_A}，联系电话13812345678，"
            "家住锦江区春熙路1号，油烟扰民。")
    out = run("scrub", [text, None, "路灯不亮"], analyzer=analyzer)
    assert out == [
        "市民张*来电反映，其身份证号110105********002X，联系电话138****5678，家住锦江区*****，油烟扰民。",
        None,
        "路灯不亮",
    ]


def test_scrub_restricted_to_entities(analyzer):
    out = run("scrub", ["市民张伟，电话13812345678"], params={"entities": ["CN_MOBILE"]},
              analyzer=analyzer)
    assert out == ["市民张伟，电话138****5678"]


@pytest.mark.parametrize("params", [{"entities": "CN_MOBILE"}, {"entities": ["NO_SUCH_ENTITY"]},
                                    {"x": 1}])
def test_scrub_rejects_bad_params(params, analyzer):
    with pytest.raises(InvalidMaskingPlan):
        run("scrub", ["电话13812345678"], params=params, analyzer=analyzer)
