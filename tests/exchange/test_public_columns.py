"""Columns public by law (依法公示, issue 16): a company's 统一社会信用代码 in the market
registry is delivered as published by default at every level, named in the audit log and
the catalog; without the marking it is masked, as before."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest

from exchange.auth import Principal
from exchange.config import load_settings
from exchange.demo.data import credit_code

from .conftest import Browser, api_caller, new_instance, text

STEWARD = Principal("market-steward", "", "market", "steward")
REQUESTER = Principal("tax-requester", "", "tax", "requester")
AUDITOR = Principal("audit-auditor", "", "audit", "auditor")
rng = random.Random(7)
CODES = [credit_code(rng) for _ in range(6)]
PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]


def _registry() -> bytes:
    lines = ["统一社会信用代码,企业名称,法定代表人,登记机关"]
    lines += [f"{code},成都{i}号商贸有限公司,{PEOPLE[i]},锦江区市场监管局"
              for i, code in enumerate(CODES)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, REQUESTER,
                               AUDITOR)
    svc.engine.dispose()
    call = api_caller(config, tokens)
    return call, call.app


def _publish(call, **meta):
    return call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(_registry()), "registry.csv"), "metadata": json.dumps({
            "title": "市场主体登记", "sharing": "conditional", "level": "L3"} | meta)})


def _delivered(call, dataset_id: str) -> tuple[list[dict], dict]:
    asked = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset_id, "purpose": "核对纳税人登记信息",
        "columns": ["统一社会信用代码", "法定代表人"]}).get_json()
    approved = call(STEWARD, "POST", f"/requests/{asked['id']}/approve", json={}).get_json()
    done = call(REQUESTER, "POST", f"/grants/{approved['grant_id']}/exchanges",
                json={"format": "csv"}).get_json()
    data = call(REQUESTER, "GET", done["data_url"].removeprefix("/api/v1")).data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8")))), approved["grant"]


@pytest.mark.parametrize("marked", [True, False])
def test_a_public_column_is_delivered_as_published_at_l3(city, marked):
    call, app = city
    published = _publish(call, **({"public_columns": ["统一社会信用代码"]} if marked else {}))
    assert published.status_code == 201, published.get_json()
    dataset = published.get_json()
    rows, grant = _delivered(call, dataset["id"])
    codes = [r["统一社会信用代码"] for r in rows]
    assert (codes == CODES) is marked  # kept, or masked as any identifier at L3
    assert grant["masking"]["统一社会信用代码"] == ("keep" if marked else "mask")
    assert not set(r["法定代表人"] for r in rows) & set(PEOPLE)  # a person's name: masked
    logged = call(AUDITOR, "GET", "/audit/entries?type=publish").get_json()["entries"]
    assert logged[-1]["entry"].get("public_columns") == (["统一社会信用代码"] if marked
                                                         else None)
    steward = Browser(app.test_client(), "zh")
    assert steward.sign_in("market-steward", "pw-" * 5).status_code == 303
    page = text(steward.get(f"/catalog/{dataset['id']}"))
    assert ("依法公示" in page) is marked


@pytest.mark.parametrize(("public", "code"), [
    (["注册资本"], "columns_unknown"), ("统一社会信用代码", "public_columns_malformed"),
    (["统一社会信用代码", "统一社会信用代码"], "public_columns_malformed"),
])
def test_what_cannot_be_public_is_refused(city, public, code):
    call, _app = city
    refused = _publish(call, public_columns=public)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == code
    assert call(STEWARD, "GET", "/datasets").get_json()["total"] == 0


def test_marking_later_is_an_edit_named_in_the_log(city):
    call, _app = city
    dataset = _publish(call).get_json()["id"]
    edited = call(STEWARD, "PATCH", f"/datasets/{dataset}",
                  json={"public_columns": ["统一社会信用代码"]})
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["changed"] == ["public_columns"]
    assert edited.get_json()["directory"]["public_columns"] == ["统一社会信用代码"]
    rows, _grant = _delivered(call, dataset)
    assert [r["统一社会信用代码"] for r in rows] == CODES
