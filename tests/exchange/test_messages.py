"""Every problem a person can be told of has a code, English words and Chinese words, and the
same words reach them through the API, the pages and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from exchange.messages import MESSAGES, SUMMARY, Problem, text_of

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "exchange/web/translations/zh/LC_MESSAGES/messages.po"
SOURCES = [p for d in ("exchange", "policies", "catalog", "masking", "audit")
           for p in (ROOT / d).rglob("*.py")]
CODE_USED = re.compile(r"""\bcode=["']([a-z_]+)["']|Problem\(\s*["']([a-z_]+)["']""")


def _chinese() -> dict[str, str]:
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str)}


def test_every_code_in_the_source_is_registered():
    used = {code for path in SOURCES for found in CODE_USED.findall(path.read_text())
            for code in found if code}
    assert used, "the scan found no code at all"
    assert sorted(used - set(MESSAGES)) == []


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_registered_message_has_its_chinese_with_the_same_parameters(code):
    english = MESSAGES[code]
    chinese = _chinese().get(english)
    assert chinese, f"{code}: no Chinese for {english!r}"
    assert set(re.findall(r"%\((\w+)\)s", chinese)) == set(re.findall(r"%\((\w+)\)s", english))
    assert re.search(r"[\u4e00-\u9fff]", chinese)


def test_the_summary_line_has_its_chinese():
    assert _chinese().get(SUMMARY)


def test_a_problem_in_words_joins_lists_the_way_each_language_does():
    zh = _chinese()
    problem = Problem("columns_unknown", "columns", {"columns": ["身份证", "电话"]})
    assert text_of(problem) == "The dataset has no column named 身份证、电话."
    assert text_of(problem, lambda s: zh.get(s, s)) == "该数据集没有名为 身份证、电话 的列。"
    many = Problem("xlsx_too_many_rows", "format", {"max": 1048575, "rows": 2000000})
    assert "1,048,575" in text_of(many) and "2,000,000" in text_of(many)


@pytest.mark.parametrize("lang, expected", [
    ("zh-CN,zh;q=0.9", ["请说明申请用途。", "请至少选择一列：只申请所需的列。"]),
    ("en", ["State the purpose of the request.",
            "Choose at least one column: ask only for the columns you need."]),
])
def test_the_api_names_every_problem_of_a_request_in_the_callers_language(
        as_role, datasets, lang, expected):
    answer = as_role("civil-requester").post(
        "/api/v1/requests", headers={"Accept-Language": lang},
        json={"dataset_id": datasets["hotline_tickets"]["id"], "purpose": " ", "columns": []})
    error = answer.get_json()["error"]  # well-formed, against the rules: 422
    assert answer.status_code == 422 and error["code"] == "invalid"
    assert [(f["name"], f["code"]) for f in error["fields"]] == [
        ("purpose", "purpose_required"), ("columns", "columns_required")]
    assert [f["message"] for f in error["fields"]] == expected


def test_one_problem_is_the_errors_own_code_and_message(as_role, datasets):
    answer = as_role("civil-requester").post(
        "/api/v1/requests", headers={"Accept-Language": "zh"},
        json={"dataset_id": datasets["hotline_tickets"]["id"], "purpose": "核查",
              "columns": ["没有这一列"]})
    error = answer.get_json()["error"]
    assert error["code"] == "columns_unknown"
    assert error["message"] == "该数据集没有名为 没有这一列 的列。"
    assert error["fields"] == [{"name": "columns", "code": "columns_unknown",
                                "message": "该数据集没有名为 没有这一列 的列。"}]


def test_a_refusal_is_worded_in_chinese(as_role):
    answer = as_role("civil-requester").get("/api/v1/audit/entries",
                                            headers={"Accept-Language": "zh"})
    assert answer.status_code == 403
    assert answer.get_json()["error"] == {"code": "forbidden", "message": "您无权进行此操作。"}


@pytest.mark.parametrize("environ, language", [
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW.UTF-8"}, "zh"),
    ({"LC_MESSAGES": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({}, "en"),
])
def test_the_cli_asks_for_the_users_language(environ, language):
    from exchange.client import locale_language
    assert locale_language(environ) == language
