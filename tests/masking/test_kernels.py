"""The operators' bulk kernels give exactly the values of the plain versions they replace."""

from __future__ import annotations

import random
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import regex

from masking._address import admin_prefix, admin_prefix_end
from masking._columns import mask_ends as plain_mask_ends
from masking.operators._kernels import (
    _ALNUM_SAFE_STRIPS,
    _HEAD,
    _RUN,
    admin_prefixes_by_run,
    mask_digits,
    mask_ends,
    mask_location,
    mask_words,
    strip,
)
from masking.operators.mask import CONVENTIONS
from masking.recognizers._lexicon import ADDRESS_SUFFIXES

from .conftest import ID_A, ID_B, USCC, wrong_check

ALPHABETS = {
    "digits": "0123456789",
    "id": "0123456789Xx",
    "latin": "abcXYZ",
    "han": "张王欧阳娜伟省市区路",
    "mixed": "张a1 -·\u3000\t●",
}


def _strings(rng: random.Random, alphabet: str, *, widths: tuple[int, ...],
             rows: int = 300) -> pa.Array:
    values = []
    for _ in range(rows):
        roll = rng.random()
        if roll < 0.05:
            values.append(None)
        elif roll < 0.08:
            values.append("")
        else:
            values.append("".join(rng.choice(alphabet) for _ in range(rng.choice(widths))))
    return pa.array(values, pa.string())


@pytest.mark.parametrize("alphabet", sorted(ALPHABETS))
@pytest.mark.parametrize("widths", [(18,), (11,), (2,), (1, 2, 3, 4), (0, 5, 9, 20)])
@pytest.mark.parametrize(("first", "last"), [(0, 0), (1, 0), (3, 4), (6, 4), (0, 4), (9, 9)])
@pytest.mark.parametrize("keep_spaces", [False, True])
def test_mask_ends_equals_the_plain_version(alphabet, widths, first, last, keep_spaces):
    rng = random.Random(f"{alphabet}{widths}{first}{last}")
    strings = _strings(rng, ALPHABETS[alphabet], widths=widths)
    for char in "*#●":
        fast = mask_ends(strings, first, last, char, keep_spaces=keep_spaces)
        assert fast.to_pylist() == plain_mask_ends(
            strings, first, last, char, keep_spaces=keep_spaces).to_pylist()


def test_mask_ends_of_one_width_and_of_nothing():
    ids = pa.array([ID_A, ID_B, None, wrong_check(ID_B)])
    assert mask_ends(ids, 6, 4).to_pylist() == plain_mask_ends(ids, 6, 4).to_pylist()
    assert mask_ends(ids, 6, 4)[0].as_py() == "110105********002X"
    assert mask_ends(pa.array(["张伟", "李娜"]), 1, 0).to_pylist() == ["张*", "李*"]
    assert mask_ends(pa.array([None, None], pa.string()), 1, 1).to_pylist() == [None, None]
    assert mask_ends(pa.array([], pa.string()), 1, 1).to_pylist() == []


STRIP_CASES = ["13812345678", "+86 138-1234-5678", "008613812345678", "0086", "86138",
               "138 1234 5678",
               "1381234567８", "110105 19491231 002X", "6222-0212", "abc\tdef", "京A·12345", "",
               "\u3000138", None]


@pytest.mark.parametrize("pattern", sorted({c.strip for c in CONVENTIONS.values() if c.strip}
                                           | set(_ALNUM_SAFE_STRIPS)))
def test_strip_equals_the_regex(pattern):
    for values in ([v] for v in STRIP_CASES):
        strings = pa.array(values, pa.string())
        expected = pc.replace_substring_regex(strings, pattern, "").to_pylist()
        assert strip(strings, pattern).to_pylist() == expected, values
    clean = pa.array(["13812345678", ID_A, None, USCC])
    assert strip(clean, pattern).to_pylist() == pc.replace_substring_regex(
        clean, pattern, "").to_pylist()


ADDRESSES = [
    "四川省成都市锦江区春熙路1号", "北京市朝阳区建国路88号", "春熙路1号", "四川省",
    "四川省成都市锦江区",
    "新疆维吾尔自治区乌鲁木齐市天山区解放南路5号", "香港特别行政区中西区皇后大道中100号",
    "四川省 成都市 武侯区 人民南路四段12号", "\u3000四川省成都市青羊区小南街110号2栋1单元2804室",
    "成都市高新区天府大道北段1700号", "Room 5, 12 Main St", "四川省成都市锦江区红星路街道东风路3号",
    "广西壮族自治区南宁市青秀区民族大道100号", "四川省成都市简阳市雄州大道1号",
    "四川省成都市锦江区街",
    "四川省成都市锦江区街道办", "内蒙古自治区呼和浩特市新城区", "甘孜藏族自治州康定市炉城镇",
    "四川省成都市锦江区" * 3, "四川省成都市锦江区\x1c东大街", "四川省成都市\u2028锦江区东大街",
    "  四川省成都市锦江区", "四川省成都市锦江区𠀀路1号", "abc四川省成都市", "", None,
]
UNITS = ["四川省", "成都市", "锦江区", "简阳市", "阿坝藏族羌族自治州", "新疆维吾尔自治区", "县",
         "旗",
         "春熙路", "红星路街道", "东大街", "雄州大道", "小区", "镇", "乡", "村", "街", "区", "州"]
FILLERS = ["", " ", "\u3000", "\t", "1号", "12栋", "A", "·", "\x85", "路", "号"]


def _addresses(rng: random.Random, rows: int) -> list[str | None]:
    out = list(ADDRESSES)
    for _ in range(rows):
        out.append("".join(rng.choice(UNITS) + rng.choice(FILLERS)
                           for _ in range(rng.randint(0, 7))))
    return out


def _plain_location(value: str | None, first: int, char: str) -> str | None:
    if value is None:
        return None
    end = max(admin_prefix_end(value), first)
    return value[:end] + char * max(len(value) - end, 0)


@pytest.mark.parametrize("first", [0, 2, 9, 16, 30])
def test_mask_location_equals_the_plain_version(first):
    values = _addresses(random.Random(first), 3000)
    for char in "*●":
        masked = mask_location(pa.array(values, pa.string()), first, char).to_pylist()
        assert masked == [_plain_location(v, first, char) for v in values]


def test_district_prefixes_equal_the_plain_version():
    values = _addresses(random.Random(7), 3000)
    prefixes = admin_prefixes_by_run(pa.array(values, pa.string())).to_pylist()
    assert prefixes == [None if v is None else admin_prefix(v) for v in values]


def test_the_run_class_holds_everything_an_address_unit_is_made_of():
    # every character the regex module's \s matches, and every suffix character, is in _RUN's
    # class: otherwise a run could stop before a unit ends and change an answer
    spaces = [chr(c) for c in range(sys.maxunicode + 1)
              if not 0xD800 <= c <= 0xDFFF and regex.match(r"\s", chr(c))]
    needed = spaces + sorted(set("".join(ADDRESS_SUFFIXES))) + ["\u4e00", "\u9fff"]
    runs = pc.struct_field(pc.extract_regex(pa.array(needed), _RUN), "run").to_pylist()
    assert runs == needed
    assert _HEAD > max(map(len, ADDRESS_SUFFIXES))


def _plain_words(value: str | None, first: int, last: int, char: str) -> str | None:
    """The per-word convention, one value at a time: Latin words split at spaces."""
    if value is None:
        return None
    if " " not in value or regex.search(r"[\u4e00-\u9fff]", value):
        return plain_mask_ends(pa.array([value]), first, last, char, keep_spaces=True)[0].as_py()
    words = plain_mask_ends(pa.array(value.split(" ")), first, last, char, keep_spaces=True)
    return " ".join(words.to_pylist())


@pytest.mark.parametrize("alphabet", ["Ab Cd", "Ab\t Cd", "张 伟a", "abc   "])
@pytest.mark.parametrize(("first", "last"), [(1, 0), (0, 0), (2, 1)])
def test_mask_words_equals_the_plain_version(alphabet, first, last):
    strings = _strings(random.Random(f"{alphabet}{first}{last}"), alphabet, widths=(0, 3, 8, 15))
    for char in "*●":
        assert mask_words(strings, first, last, char).to_pylist() == [
            _plain_words(v, first, last, char) for v in strings.to_pylist()]


def _plain_digits(value: str | None, first: int, last: int, char: str, lead: str) -> str | None:
    """Keep the leading country code, the first and last digits; every other digit hidden."""
    if value is None:
        return None
    kept = regex.match(lead, value)
    head, rest = (kept.group(), value[kept.end():]) if kept else ("", value)
    digits = [i for i, c in enumerate(rest) if c.isdigit() and c.isascii()]
    if len(digits) < first + last:
        return regex.sub(r"\d", char, value, flags=regex.ASCII)
    hidden = set(digits[first:len(digits) - last])
    return head + "".join(char if i in hidden else c for i, c in enumerate(rest))


@pytest.mark.parametrize("alphabet", ["0123456789", "+00 1()-.x", "+44 7946-0958"])
@pytest.mark.parametrize(("first", "last"), [(0, 4), (0, 0), (3, 2)])
def test_mask_digits_equals_the_plain_version(alphabet, first, last):
    lead = r"\s*(?:\+|00)\s*(?:1|44|86)"
    strings = _strings(random.Random(f"{alphabet}{first}{last}"), alphabet, widths=(0, 4, 12, 16))
    fast = mask_digits(strings, first, last, "*", keep=lead)
    assert fast.to_pylist() == [_plain_digits(v, first, last, "*", lead)
                                for v in strings.to_pylist()]
