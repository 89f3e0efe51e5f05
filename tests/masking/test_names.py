"""Whole-value names in any script: the lists and rules of masking._names, on names they were
not picked from (Faker's locales) and on values that are no names."""

from __future__ import annotations

from collections import Counter

import pytest
from faker import Faker

from masking._names import KNOWN, PARTIAL, han_name_shaped, latin_name_kind, name_shaped

CASES = [
    # English, as people write them
    ("Douglas King", KNOWN), ("Rachel Becker", KNOWN), ("DOUGLAS KING", KNOWN),
    ("King, Douglas", KNOWN), ("KING, Douglas", KNOWN), ("Mary Ann Smith", KNOWN),
    ("John F. Kennedy", KNOWN), ("Dr. Rachel A. Becker", KNOWN), ("Mrs. Emily Clarke", KNOWN),
    ("Douglas King Jr.", KNOWN), ("Douglas King, Jr.", KNOWN), ("Patrick O'Brien", KNOWN),
    ("Anna Smith-Jones", KNOWN), ("Maria de la Cruz", KNOWN),
    # pinyin, either order, with and without hyphens, upper-case surnames, a comma
    ("Zhang Wei", KNOWN), ("Li Xiaoming", KNOWN), ("WANG Fang", KNOWN), ("Wang, Fang", KNOWN),
    ("Xiaoming Li", KNOWN), ("Li Xiao-ming", KNOWN), ("Li Xiao Ming", KNOWN),
    ("Ouyang Nana", KNOWN), ("Lyu Bu", KNOWN), ("Zeng Guofan", KNOWN),
    # one part on the lists: a context word decides
    ("Douglas Xylander", PARTIAL), ("Aoife Murphy", PARTIAL), ("Douglas Mews", PARTIAL),
    ("Rachel Hill", PARTIAL), ("J. Smith", PARTIAL), ("New York", PARTIAL),
    # no name
    ("Aoife Qwertyson", None), ("Acme Ltd", None), ("Customer Service", None),
    ("Sales Manager", None), ("Software Engineer", None), ("Yes", None), ("No", None),
    ("Douglas", None), ("Apple iPhone 15", None), ("douglas king", None),
    ("The meeting was postponed", None), ("Bank of America", None), ("Wang, Fang, Li", None),
    ("Xyzzy Qwrtp", None), ("张伟", None), ("Douglas King 2", None), ("", None),
    ("Douglas King Wright Evans Brown", None),
]


@pytest.mark.parametrize(("value", "kind"), CASES)
def test_latin_name_kind(value, kind):
    assert latin_name_kind(value) == kind


@pytest.mark.parametrize(("value", "shaped"), [
    ("张伟", True), ("欧阳娜娜", True), ("阿依古丽·买买提", True), ("Douglas King", True),
    ("New York", True), ("王家园", False), ("高新区", False), ("的确良", False),
    ("张", False), ("张伟伟伟伟", False), ("Acme Ltd", False), ("13812345678", False),
])
def test_name_shaped(value, shaped):
    assert name_shaped(value) == shaped
    assert han_name_shaped(value) == (shaped and not value.isascii())


@pytest.mark.parametrize(("locale", "floor"), [
    ("en_US", 0.97), ("en_GB", 0.9), ("en_AU", 0.97), ("en_CA", 0.97),
])
def test_names_the_lists_were_not_picked_from_are_mostly_known(locale, floor):
    """Faker's names (made for its demo data, not read by any detector) as a held-out set:
    both names on the lists for nearly all, at least one for every one."""
    fake = Faker(locale)
    fake.seed_instance(20261206)
    kinds = Counter(latin_name_kind(fake.name()) for _ in range(1000))
    assert kinds[KNOWN] / 1000 >= floor, kinds
    assert kinds[None] == 0, kinds


@pytest.mark.parametrize("make", ["job", "company", "city", "country", "catch_phrase",
                                  "sentence", "color_name", "street_address"])
def test_values_that_are_no_names_are_rarely_known(make):
    fake = Faker("en_US")
    fake.seed_instance(7)
    kinds = Counter(latin_name_kind(getattr(fake, make)()) for _ in range(500))
    assert kinds[KNOWN] / 500 <= 0.02, kinds


def test_street_names_are_never_known_names():
    """Faker's en_US streets are a first or last name and a USPS suffix (Douglas Mews)."""
    fake = Faker("en_US")
    fake.seed_instance(3)
    assert not any(latin_name_kind(fake.street_name()) == KNOWN for _ in range(500))
