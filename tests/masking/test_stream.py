"""Chunked masking: one plan from the first chunk, the same result as masking the whole table."""

from __future__ import annotations

import copy
import re

import pandas as pd
import pyarrow as pa
import pytest

from masking import (
    ChunkedMasker,
    ColumnRule,
    InvalidMaskingPlan,
    UnknownOperator,
    default_rules,
    mask_table,
    profile_table,
    rules_from_policy,
)

from .conftest import ID_A, ID_B

KEY = b"k" * 32


def _table(rows: int) -> pa.Table:
    ids, mobiles = [ID_A, ID_B], ["13812345678", "+86 139-1234-5678"]
    return pa.table({
        "姓名": [["张伟", "李娜", "欧阳娜娜"][i % 3] for i in range(rows)],
        "身份证号": [ids[i % 2] for i in range(rows)],
        "手机号": [mobiles[i % 2] if i % 7 else None for i in range(rows)],
        "备注": [f"市民来电，联系电话1381234{i % 10000:04d}" if i % 3 else "无"
                 for i in range(rows)],
        "金额": [str(i) for i in range(rows)],
    })


def _chunks(table: pa.Table, size: int) -> list[pa.Table]:
    return [table.slice(start, size) for start in range(0, table.num_rows, size)]


def test_chunked_equals_masking_the_whole_table(analyzer):
    table = _table(250)
    masker = ChunkedMasker(hash_key=KEY, analyzer=analyzer)
    out = pa.concat_tables([masker.mask(c) for c in _chunks(table, 60)])
    frame = table.to_pandas()
    whole = mask_table(frame, default_rules(profile_table(frame.iloc[:60], analyzer=analyzer)),
                       hash_key=KEY, analyzer=analyzer)
    for column in table.column_names:
        assert out.column(column).to_pylist() == [
            None if pd.isna(v) else v for v in whole[column].tolist()], column
    assert out.column("手机号").to_pylist()[1] == "139****5678"


def test_policy_overrides_and_takes_the_profiled_entity(analyzer):
    policy = rules_from_policy({"身份证号": "hash", "备注": {"operator": "drop"},
                                "手机号": {"operator": "mask", "params": {"keep_last": 2}}})
    masker = ChunkedMasker(policy=policy, hash_key=KEY, analyzer=analyzer)
    chunks = _chunks(_table(100), 30)
    rules = masker.plan(chunks[0])
    assert rules["身份证号"] == ColumnRule("hash", "CN_RESIDENT_ID")
    assert rules["姓名"].operator == "mask"  # not named: the profiled default
    out = [masker.mask(c) for c in chunks]
    assert out[0].column_names == ["姓名", "身份证号", "手机号", "金额"]
    assert masker.output_columns(chunks[0].column_names) == out[0].column_names
    assert out[0].column("手机号").to_pylist()[1] == "139******78"
    assert len(set(pa.concat_tables(out).column("身份证号").to_pylist())) == 2


def test_report_counts_every_chunk(analyzer):
    masker = ChunkedMasker(policy=rules_from_policy({"备注": "drop"}), analyzer=analyzer)
    for chunk in _chunks(_table(100), 30):
        masker.mask(chunk)
    report = {r.column: r for r in masker.report()}
    assert report["手机号"].rows == 100 and report["手机号"].nulls == 15
    assert report["手机号"].changed == 85 and report["手机号"].rule_from == "profile"
    assert report["备注"].changed is None and report["备注"].rule_from == "policy"
    assert report["金额"].operator == "keep" and report["金额"].changed == 0
    assert report["身份证号"].to_dict()["entity"] == "CN_RESIDENT_ID"


def test_counts_of_copies_that_ran_elsewhere_add_up_to_one_report(analyzer):
    chunks = _chunks(_table(100), 30)
    whole = ChunkedMasker(policy=rules_from_policy({"备注": "drop"}), analyzer=analyzer)
    planned = ChunkedMasker(policy=rules_from_policy({"备注": "drop"}), analyzer=analyzer)
    planned.plan(chunks[0])
    shipped = copy.deepcopy(planned)  # the plan as pickled for the executors, no counts yet
    for chunk in chunks:
        whole.mask(chunk)
        elsewhere = copy.deepcopy(shipped)  # what one executor unpickles
        elsewhere.mask(chunk)
        planned.add_counts(elsewhere.counts())
    assert [r.to_dict() for r in planned.report()] == [r.to_dict() for r in whole.report()]
    with pytest.raises(InvalidMaskingPlan, match="other columns"):
        planned.add_counts({"姓名": (1, 0, 1)})


@pytest.mark.parametrize(("policy", "error", "match"), [
    ({"没有": "drop"}, InvalidMaskingPlan, "does not have"),
    ({"姓名": "shred"}, UnknownOperator, "shred"),
    ({"姓名": {"operator": "mask", "params": {"x": 1}}}, InvalidMaskingPlan, "no parameter"),
    ({"身份证号": "hash"}, InvalidMaskingPlan, "per-recipient key"),
])
def test_bad_plans_fail_before_any_chunk_is_masked(analyzer, policy, error, match):
    masker = ChunkedMasker(policy=rules_from_policy(policy), analyzer=analyzer)
    with pytest.raises(error, match=match):
        masker.mask(_table(10))


@pytest.mark.parametrize("policy", [["hash"], {"a": 3}, {"a": {"operator": "mask", "x": 1}},
                                    {"a": {"operator": "mask", "entity": 5}}, {"a": {}}])
def test_malformed_policies(policy):
    with pytest.raises(InvalidMaskingPlan):
        rules_from_policy(policy)


def test_a_chunk_with_other_columns_is_refused(analyzer):
    masker = ChunkedMasker(analyzer=analyzer)
    masker.mask(_table(5))
    with pytest.raises(InvalidMaskingPlan, match="columns differ"):
        masker.mask(_table(5).drop_columns(["金额"]))
    with pytest.raises(InvalidMaskingPlan, match="no plan"):
        ChunkedMasker().output_columns(["a"])


def test_an_adopted_plan_masks_as_the_profiled_one_without_profiling(analyzer):
    table = _table(90)
    profiled = ChunkedMasker(hash_key=KEY, analyzer=analyzer)
    rules = profiled.plan(table.slice(0, 30))
    profiles = profile_table(table.slice(0, 30).to_pandas(), analyzer=analyzer)
    adopted = ChunkedMasker(policy={c: ColumnRule(r.operator) for c, r in rules.items()},
                            hash_key=KEY, analyzer=analyzer)

    assert adopted.adopt(profiles) == rules  # each entity taken from its profile
    for chunk in _chunks(table, 30):
        assert adopted.mask(chunk).equals(profiled.mask(chunk))
    counts = [{**r.to_dict(), "rule_from": None} for r in profiled.report()]
    assert [{**r.to_dict(), "rule_from": None} for r in adopted.report()] == counts
    assert {r.rule_from for r in adopted.report()} == {"policy"}


@pytest.mark.parametrize("policy, profiled, problem", [
    ({"姓名": "mask"}, ["姓名", "金额"], "no rule for column(s): 金额"),
    ({"姓名": "mask", "电话": "mask"}, ["姓名"], "columns the table does not have"),
    ({"姓名": "mask"}, ["姓名", "姓名"], "duplicate column names"),
])
def test_adopting_a_plan_that_does_not_fit_the_columns_is_refused(policy, profiled, problem):
    from masking import ColumnProfile

    masker = ChunkedMasker(policy={c: ColumnRule(op) for c, op in policy.items()}, hash_key=KEY)
    with pytest.raises(InvalidMaskingPlan, match=re.escape(problem)):
        masker.adopt([ColumnProfile(c, "none", None, 0.0, 0, 0) for c in profiled])
