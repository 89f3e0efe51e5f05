"""The profiling shortcut gives exactly the analyzer's profile, and only where it can."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections import Counter

import pandas as pd
import pytest
from faker import Faker
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine

import masking.profile as profile_module
from exchange.demo import data as demo_data
from masking import profile_table
from masking._column_rules import claimed_entities
from masking._shortcut import _COLUMN_RULES, _RULES, settled_entity
from masking.checksums import is_credit_code, is_valid_resident_id
from masking.engine import analyze_texts, is_default_analyzer
from masking.evaluation import generate_cases
from masking.profile import _whole_entity, header_entity
from masking.recognizers import MobileRecognizer, PersonRecognizer, WindowContextEnhancer

from .conftest import ID_A, ID_B, USCC, valid_id, valid_uscc, wrong_check


def _ids_that_are_also_credit_codes(count: int) -> list[str]:
    """Valid resident IDs that the credit-code recognizer validates too (they tie at 1.0)."""
    found, n = [], 0
    while len(found) < count:
        value = valid_id(f"5101041985{n:07d}")
        n += 1
        if is_valid_resident_id(value) and is_credit_code(value):
            found.append(value)
    return found


TIES = _ids_that_are_also_credit_codes(4)
USCC_DIGITS = next(u for u in (valid_uscc(f"9151010029{n:07d}") for n in range(10_000))
                   if is_credit_code(u) and not is_valid_resident_id(u))
MOBILES = [f"1381234{i:04d}" for i in range(12)]
NAMES = ["张伟", "李秀英", "欧阳娜", "马力", "王强"]
EN_NAMES = ["Douglas King", "Rachel Becker", "KING, Douglas", "Dr. Emily R. Clarke", "Zhang Wei"]
FAKER_LIKE_ADDRESSES = ["浙江省兴安盟县门头沟乌鲁木齐街Q座", "海南省秀英县沈河南京街b座 672219"]
ADDRESSES = ["四川省成都市锦江区春熙路1号", "成都市武侯区人民南路四段9号2栋3单元1201室",
             "四川省成都市青羊区小南街110号2栋1单元2804室"]

# (header, values, the entity the shortcut settles or None: the analyzer decides)
CASES = [
    ("身份证号", [ID_A, ID_B] * 5, "CN_RESIDENT_ID"),
    ("身份证号", [ID_A.lower(), ID_B], "CN_RESIDENT_ID"),            # a lower-case x
    # IDs that are credit codes too
    ("身份证号", TIES + [ID_B], "CN_RESIDENT_ID"),
    ("身份证号", [ID_A, wrong_check(ID_B)], None),                    # a bad check character
    ("身份证号", [ID_A, "51010419850230123X"], None),                 # no 30 February
    ("身份证号", [ID_A, MOBILES[0]], None),                           # a mixed column
    ("身份证号", MOBILES, None),                                      # a header that lies
    ("证件", [ID_A, ID_B], None),                                     # a header that says nothing
    ("手机号", MOBILES, "CN_MOBILE"),
    ("联系电话", MOBILES, "CN_MOBILE"),
    ("手机号", MOBILES + ["+8613812345678"], None),
    ("手机号", MOBILES + ["138 1234 5678"], None),
    ("手机号", MOBILES + ["12812345678"], None),                      # not a mobile prefix
    ("手机号", [ID_A, ID_B], None),
    ("统一社会信用代码", [USCC, USCC_DIGITS], "CN_USCC"),
    ("统一社会信用代码", [USCC, wrong_check(USCC)], None),
    ("统一社会信用代码", [USCC, USCC.lower()], None),                 # issued upper case only
    ("统一社会信用代码", [USCC] + TIES[:1], None),                    # an ID that is a code too
    ("统一社会信用代码", [ID_A, ID_B], None),
    ("姓名", NAMES, "PERSON"),
    ("name", NAMES, "PERSON"),
    ("联系人", NAMES, "PERSON"),
    # no context word in the header
    ("名字", NAMES, None),
    # four characters: jieba decides
    ("姓名", NAMES + ["司马相如"], None),
    ("姓名", NAMES + ["王家园"], None),                               # ends in an address suffix
    ("姓名", NAMES + ["的确良"], None),                               # no surname
    ("姓名", NAMES + ["Li Lei"], "PERSON"),                          # pinyin
    ("name", EN_NAMES, "PERSON"),
    ("联系人", NAMES + EN_NAMES + ["Wang, Fang", "WANG Fang"], "PERSON"),
    ("name", EN_NAMES + ["Acme Ltd"], None),                          # a company
    ("name", EN_NAMES + ["Douglas King 2"], None),
    ("Complainant", EN_NAMES, None),                                  # names no entity
    ("姓名", NAMES + ["阿卜杜·热合曼"], None),
    ("姓名", ADDRESSES, None),
    ("住址", ADDRESSES, "LOCATION"),
    ("address", ADDRESSES, "LOCATION"),
    ("家庭住址", ADDRESSES, "LOCATION"),
    ("addr", ADDRESSES, "LOCATION"),                                  # the address column rule
    ("住址", FAKER_LIKE_ADDRESSES, "LOCATION"),
    ("address", FAKER_LIKE_ADDRESSES + ["成都市武侯区人民南路四段"], "LOCATION"),
    ("住址", ["春熙路", "天府广场"], None),                          # public places
    ("住址", FAKER_LIKE_ADDRESSES + ["成都市锦华商贸有限公司"], None),  # a company
    ("住址", ADDRESSES + ["成都市"], None),                           # name-shaped
    # the analyzer's chain starts past 0 here (after a context word, after a name), so it
    # finds no whole entity, and the address rule claims the value
    ("住址", ADDRESSES + ["地址四川省成都市锦江区春熙路1号"], "LOCATION"),
    ("住址", ADDRESSES + ["刘宁反映四川省成都市锦江区春熙路1号"], "LOCATION"),
    ("住址", ADDRESSES + ["四川省成都市锦江区春熙路1号附近"], None),  # the chain ends early
    ("住址", ADDRESSES + ["雄州大道8号"], "LOCATION"),                # no prefilter hint: the rule
    ("住址", NAMES, None),
    ("姓名", [], None),
]


def _analyzer_profile(values: list[str], header: str, analyzer) -> tuple:
    """The profile the analyzer gives, the shortcut kept out."""
    original = profile_module.settled_entity
    profile_module.settled_entity = lambda *args: None
    try:
        return profile_table(pd.DataFrame({header: values}), analyzer=analyzer)[0]
    finally:
        profile_module.settled_entity = original


@pytest.mark.parametrize(("header", "values", "settled"), CASES)
def test_the_shortcut_settles_only_what_the_analyzer_would_say(header, values, settled, analyzer):
    assert settled_entity(header, header_entity(header), values) == settled
    frame = pd.DataFrame({header: pd.Series(values, dtype=object)})
    assert profile_table(frame, analyzer=analyzer)[0] == _analyzer_profile(values, header, analyzer)


def _labelled_columns() -> list[tuple[str, list[str]]]:
    columns = []
    for seed in (11, 5, 3):
        _, labelled = generate_cases(n=4000, seed=seed)
        columns += [(c.header, list(c.values)) for c in labelled]
    rng = random.Random(7)
    columns += [
        ("身份证号", [demo_data.resident_id(rng) for _ in range(2000)]),
        ("手机号", [demo_data.mobile_number(rng) for _ in range(2000)]),
        ("统一社会信用代码", [demo_data.credit_code(rng, new_style=rng.random() < 0.8)
                               for _ in range(2000)]),
    ]
    return columns


def test_every_value_the_shortcut_accepts_is_wholly_that_entity_to_the_analyzer(analyzer):
    """Value by value, on the evaluation set's columns (three seeds) and benchmark-like
    columns: wherever a rule accepts a value, the analyzer finds that entity over all of it."""
    tried = Counter()
    for header, values in _labelled_columns():
        for entity, (test, _) in _RULES.items():
            accepted = [v for v in values if test(v)]
            found = analyze_texts(accepted, analyzer=analyzer, context=[header])
            for value, results in zip(accepted, found):
                whole = _whole_entity(value, results)
                assert whole == entity or (not settled_entity(header, entity, [value])), \
                    (header, value, entity, whole)
            if settled_entity(header, entity, accepted[:1]) and accepted:
                tried[entity] += len(accepted)
    assert set(tried) == set(_RULES)  # each rule was exercised


def test_every_value_a_column_rule_settles_is_wholly_that_entity_to_the_profile(analyzer):
    """A value the shortcut's column rule accepts: the analyzer finds that entity over all of
    it, or no whole entity, which the profile's column rule then claims."""
    fake = Faker("zh_CN")
    fake.seed_instance(8)
    english = Faker("en_US")
    english.seed_instance(8)
    values = ([fake.address() for _ in range(300)] + [fake.address().split()[0] for _ in range(300)]
              + [english.address().replace("\n", ", ") for _ in range(300)]
              + [v for _, column in _labelled_columns() for v in column[:300]] + ADDRESSES)
    for entity, test in _COLUMN_RULES.items():
        accepted = [v for v in values if test(v)]
        assert len(accepted) > 900
        found = analyze_texts(accepted, analyzer=analyzer, context=["住址"])
        wholes = [_whole_entity(v, results) for v, results in zip(accepted, found)]
        assert set(wholes) <= {entity, None}
        assert set(claimed_entities(accepted, wholes, entity)) == {entity}


def test_profiles_of_the_evaluation_columns_are_the_analyzers(analyzer):
    for header, values in _labelled_columns():
        for size in (200, 20):
            frame = pd.DataFrame({header: values})
            got = profile_table(frame, analyzer=analyzer, sample_size=size)[0]
            original = profile_module.settled_entity
            profile_module.settled_entity = lambda *args: None
            try:
                want = profile_table(frame, analyzer=analyzer, sample_size=size)[0]
            finally:
                profile_module.settled_entity = original
            assert got == want, header


def test_an_analyzer_of_other_recognizers_is_always_asked(analyzer):
    """The shortcut knows only the default analyzer's answers: with fewer recognizers (no
    name recognizer) a name column is not PERSON, and the profile says so."""
    engine = NoOpNlpEngine(models=[{"lang_code": "zh", "model_name": "none"}])
    engine.load()
    registry = RecognizerRegistry(recognizers=[MobileRecognizer()], supported_languages=["zh"])
    custom = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["zh"],
                            context_aware_enhancer=WindowContextEnhancer())
    assert is_default_analyzer(analyzer) and not is_default_analyzer(custom)
    got = profile_table(pd.DataFrame({"姓名": NAMES}), analyzer=custom)[0]
    assert (got.kind, got.entity, got.confidence, got.matched) == ("identifier", "PERSON", 0.3, 0)
    assert PersonRecognizer.CONTEXT  # the default one has the name recognizer


def test_a_table_of_settled_columns_is_profiled_without_presidio_or_jieba():
    """What a user notices: ``govex mask`` on such a table skips ~1.5 s of start-up."""
    code = ("import sys, pandas as pd; from masking import profile_table; "
            f"df = pd.DataFrame({{'身份证号': {[ID_A, ID_B]!r}, '手机号': {MOBILES[:2]!r}, "
            f"'统一社会信用代码': {[USCC] * 2!r}, '姓名': {NAMES[:2]!r}, "
            f"'name': {EN_NAMES[2:4]!r}, '住址': {FAKER_LIKE_ADDRESSES!r}, "
            f"'address': {['1234 Main Street, Springfield, IL 62704'] * 2!r}}}); "
            "p = profile_table(df); assert all(c.confidence == 1.0 for c in p), p; "
            "print([m for m in ('presidio_analyzer', 'jieba', 'spacy') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


NUMERIC_COLUMNS = {
    "金额": ["3500", "12.50", "-8", "1,234.00", "0"],
    "数量": [str(n) for n in range(40)],
    "日期": ["2026-11-05", "2025/01/31", "20261105"],
    "比例": ["12.5%", "0.3", "99%"],
    "编号": ["1234", "0012", "999"],
}


@pytest.mark.parametrize("header", sorted(NUMERIC_COLUMNS))
def test_a_column_the_prefilter_skips_is_profiled_as_the_analyzer_would(analyzer, header):
    """Amounts, counts and dates: no value passes the analyzer's prefilter, so the profile is
    known without it, and it is the analyzer's."""
    frame = pd.DataFrame({header: NUMERIC_COLUMNS[header]})
    got = profile_table(frame)[0]
    original = profile_module._MAY_HOLD_PII
    profile_module._MAY_HOLD_PII = re.compile("")  # every value "may hold PII": ask the analyzer
    try:
        want = profile_table(frame, analyzer=analyzer)[0]
    finally:
        profile_module._MAY_HOLD_PII = original
    assert got == want


def test_masking_ids_and_amounts_does_not_import_presidio(tmp_path):
    code = ("import sys, pandas as pd; from masking import profile_table; "
            "profile_table(pd.DataFrame({'身份证号': ['11010519491231002X'], "
            "'金额': ['3500.50']})); "
            "print('presidio_analyzer' in sys.modules, 'onnxruntime' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("value", ["639.950.0538", "(639)950-0538", "639 950 0538",
                                   "+33 1 23 45 67 89", "0033 1 23 45 67 89", "6399500538",
                                   "+1-639-950-0538", "Douglas King", "浙江省兴安盟县Q座"])
def test_a_value_the_prefilter_lets_through_is_never_settled_as_nothing(value):
    from masking.engine import may_contain_pii

    assert may_contain_pii(value) and profile_module._MAY_HOLD_PII.search(value)
