"""Quality checks through Great Expectations on an in-memory table."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from catalog.quality import QualityReport, validate_table

PATTERNS = {"身份证号": r"^[0-9]{17}[0-9Xx]$", "手机号": r"^1[3-9][0-9]{9}$"}


def people(rows: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"姓名": ["张三"] * rows, "身份证号": ["11010519491231002X"] * rows,
                         "手机号": ["13812345678"] * rows}, dtype="str")


def by_check(report: QualityReport) -> dict[tuple[str, str | None], dict]:
    return {(r["expectation"], r["column"]): r for r in report.results}


def test_clean_table_passes() -> None:
    frame = people()
    report = validate_table(frame, columns=list(frame.columns), not_null=["姓名"],
                            patterns=PATTERNS)
    assert report.success and report.checked_rows == 10
    assert len(report.results) == 4 and all(r["success"] for r in report.results)


def test_nulls_and_malformed_ids_fail_with_their_counts() -> None:
    frame = people(10)
    frame.loc[[1, 2], "姓名"] = None
    frame.loc[3, "身份证号"] = "11010519491231002"  # 17 characters
    frame.loc[4, "身份证号"] = "1101051949123100２X"  # a full-width digit
    frame.loc[5, "身份证号"] = None  # missing: counted by not-null, not by the pattern
    frame.loc[6, "手机号"] = "12812345678"
    report = validate_table(frame, columns=list(frame.columns), not_null=["姓名", "身份证号"],
                            patterns=PATTERNS)
    checks = by_check(report)
    assert not report.success
    assert checks[("expect_column_values_to_not_be_null", "姓名")]["unexpected_count"] == 2
    assert checks[("expect_column_values_to_not_be_null", "身份证号")]["unexpected_count"] == 1
    assert checks[("expect_column_values_to_match_regex", "身份证号")]["unexpected_count"] == 2
    assert checks[("expect_column_values_to_match_regex", "手机号")]["unexpected_count"] == 1
    assert checks[("expect_column_values_to_not_be_null", "姓名")]["unexpected_percent"] == 20.0
    assert checks[("expect_table_columns_to_match_set", None)]["success"]


@pytest.mark.parametrize(("columns", "not_null", "patterns", "failed"), [
    (["姓名", "身份证号"], (), {}, ("expect_table_columns_to_match_set", None)),
    (["姓名", "身份证号", "手机号", "住址"], (), {},
     ("expect_table_columns_to_match_set", None)),
    (["姓名", "身份证号", "手机号"], ["住址"], {}, ("expect_column_values_to_not_be_null", "住址")),
    (["姓名", "身份证号", "手机号"], (), {"住址": "."},
     ("expect_column_values_to_match_regex", "住址")),
], ids=["extra-column", "missing-column", "not-null-unknown-column", "pattern-unknown-column"])
def test_column_mismatches_fail(columns: list[str], not_null: list[str],
                                patterns: dict[str, str], failed: tuple[str, str | None]) -> None:
    report = validate_table(people(), columns=columns, not_null=not_null, patterns=patterns)
    assert not report.success
    assert [(r["expectation"], r["column"]) for r in report.failures] == [failed]


def test_report_holds_no_values_and_round_trips() -> None:
    frame = people()
    frame.loc[0, "手机号"] = "99999999999"
    report = validate_table(frame, columns=list(frame.columns), patterns=PATTERNS)
    assert "99999999999" not in repr(report.to_dict())
    assert QualityReport.from_dict(report.to_dict()) == report


def test_invalid_pattern_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid pattern for column '手机号'"):
        validate_table(people(), columns=list(people().columns), patterns={"手机号": "("})


def test_five_thousand_rows_well_under_a_second() -> None:
    frame = people(5000)
    validate_table(frame, columns=list(frame.columns))  # import Great Expectations first
    started = time.perf_counter()
    validate_table(frame, columns=list(frame.columns), not_null=["姓名"], patterns=PATTERNS)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(("value", "matches"), [
    ("13812345678", True),
    ("138123456789", False),  # longer: the pattern must cover the whole value
    ("13812345678\n", False),  # a trailing newline is not ignored
    ("1381234567８", False),  # a full-width digit is not in [0-9]
    ("x13812345678", False),
])
def test_patterns_match_whole_values(value: str, matches: bool) -> None:
    frame = pd.DataFrame({"手机号": [value, "13900000000"]}, dtype="str")
    report = validate_table(frame, columns=["手机号"], patterns={"手机号": r"1[3-9][0-9]{9}"})
    assert report.success is matches


# -- counted over every chunk: ColumnCounts ----------------------------------------------------

GOOD_ID, GOOD_MOBILE = "11010519491231002X", "13812345678"


def _table(rows: int, **planted: dict[int, str | None]):
    """``rows`` rows of good people as a pyarrow table, with ``planted`` {column: {row: value}}."""
    import pyarrow as pa

    columns = {"姓名": ["张三"] * rows, "身份证号": [GOOD_ID] * rows,
               "手机号": [GOOD_MOBILE] * rows}
    for column, values in planted.items():
        for row, value in values.items():
            columns[column][row] = value
    return pa.table({name: pa.array(cells, pa.string()) for name, cells in columns.items()})


def _streamed(table, *, chunk: int, sample: int = 5) -> QualityReport:
    from catalog.formats import frame_of
    from catalog.quality import ColumnCounts

    counts = ColumnCounts(not_null=["姓名", "身份证号"], patterns=PATTERNS)
    for start in range(0, table.num_rows, chunk):
        counts.add(table.slice(start, chunk))
    return validate_table(frame_of(table.slice(0, sample)), columns=table.column_names,
                          not_null=["姓名", "身份证号"], patterns=PATTERNS, counts=counts)


@pytest.mark.parametrize(("planted", "failed"), [
    ({}, {}),
    ({"身份证号": {49: "11010519491231002"}},  # too short, in the last chunk of seven
     {("expect_column_values_to_match_regex", "身份证号"): 1}),
    ({"手机号": {0: "1381234567８", 23: "x", 49: "12812345678"}},  # first, middle, last chunk
     {("expect_column_values_to_match_regex", "手机号"): 3}),
    ({"姓名": {30: None, 48: None}, "身份证号": {49: None}},  # missing: not-null, not the pattern
     {("expect_column_values_to_not_be_null", "姓名"): 2,
      ("expect_column_values_to_not_be_null", "身份证号"): 1}),
], ids=["clean", "bad-id-in-last-chunk", "bad-mobiles-in-three-chunks", "missing-values"])
def test_counts_cover_every_chunk_not_only_the_sample(planted, failed) -> None:
    table = _table(50, **planted)
    report = _streamed(table, chunk=7)
    assert report.checked_rows == 50 and report.success is not failed
    assert {key: r["unexpected_count"] for key, r in by_check(report).items()
            if not r["success"]} == failed
    # the same figures as Great Expectations on the whole table at once
    from catalog.formats import frame_of
    whole = validate_table(frame_of(table), columns=table.column_names,
                           not_null=["姓名", "身份证号"], patterns=PATTERNS)
    assert report == whole


@pytest.mark.parametrize("seed", range(12))
def test_counts_follow_great_expectations_arithmetic(seed: int) -> None:
    """Random tables of awkward values (full-width digits, trailing newlines, Unicode \\d and \\w
    patterns, all-missing columns) in random chunks: the report equals GX's on the whole."""
    import random

    import pyarrow as pa

    from catalog.formats import frame_of
    from catalog.quality import ColumnCounts

    rng = random.Random(seed)
    values = [GOOD_ID, "1101051949123100２X", GOOD_MOBILE, "138 1234 5678", "13812345678\n",
              "a@b.cn", "a b@c.d", "１３８１２３４５６７８", "x\n", None, None]
    patterns = {**PATTERNS, "d": r"\d{11}", "w": r"\w+@\w+\.\w+", "empty": r"[0-9]+"}
    rows = rng.randint(1, 40)
    table = pa.table({c: pa.array([None if c == "empty" else rng.choice(values)
                                   for _ in range(rows)], pa.string())
                      for c in [*patterns, "姓名"]})
    not_null = ["姓名", "empty"]
    counts = ColumnCounts(not_null=not_null, patterns=patterns)
    chunk = rng.randint(1, rows)
    for start in range(0, rows, chunk):
        counts.add(table.slice(start, chunk))
    streamed = validate_table(frame_of(table.slice(0, rng.randint(1, rows))),
                              columns=table.column_names, not_null=not_null, patterns=patterns,
                              counts=counts)
    assert streamed == validate_table(frame_of(table), columns=table.column_names,
                                      not_null=not_null, patterns=patterns)
