"""Row scopes on grants (issue 16): a district receives its own rows of a city register, and
no other district's; the scope is in the receipt and the audit entries; what cannot be a
scope is refused."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from exchange.app import create_app
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.receipts import verify_receipt

from .conftest import Browser, api_caller, new_instance, text

STEWARD = Principal("civil-steward", "", "civil", "steward")
JINJIANG = Principal("jinjiang-requester", "", "jinjiang", "requester")
REGIONS = ["510104", "510107", "510108", "510104", "510105", "510104", "510107"]


def _register() -> bytes:
    lines = ["区划代码,姓名,手机号码,服务次数"]
    names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏"]
    lines += [f"{region},{names[i]},1381234{i:04d},{i}" for i, region in enumerate(REGIONS)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, JINJIANG,
                               places={"jinjiang": ("district", "510104")})
    svc.engine.dispose()
    call = api_caller(config, tokens)
    app = call.app
    published = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(_register()), "register.csv"), "metadata": json.dumps({
            "title": "居民服务登记", "sharing": "conditional", "level": "L3"})})
    assert published.status_code == 201, published.get_json()
    asked = call(JINJIANG, "POST", "/requests", json={
        "dataset_id": published.get_json()["id"], "purpose": "核对本区居民服务记录",
        "columns": ["区划代码", "姓名", "手机号码", "服务次数"]})
    assert asked.status_code == 201, asked.get_json()
    return call, app, asked.get_json()["id"]


def test_a_district_receives_its_own_rows_masked(city):
    call, app, request_id = city
    approved = call(STEWARD, "POST", f"/requests/{request_id}/approve",
                    json={"rows": {"区划代码": ["510104"]}})
    assert approved.status_code == 200, approved.get_json()
    grant = approved.get_json()["grant"]
    assert grant["rows"] == {"区划代码": ["510104"]}
    done = call(JINJIANG, "POST", f"/grants/{grant['id']}/exchanges", json={"format": "csv"})
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    data = call(JINJIANG, "GET", body["data_url"].removeprefix("/api/v1")).data
    delivered = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [r["区划代码"] for r in delivered] == ["510104"] * REGIONS.count("510104")
    assert [r["服务次数"] for r in delivered] == ["0", "3", "5"]  # those rows, in order
    assert not any("1381234" in r["手机号码"] for r in delivered)  # masked (L3)
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    manifest = verify_receipt(body["receipt"], jwks=jwks, data=data)
    assert manifest["rows"] == {"区划代码": ["510104"]} and manifest["row_count"] == 3
    assert body["audit_entry"]["rows"] == {"区划代码": ["510104"]}
    assert body["audit_entry"]["row_count"] == 3
    logged = call(STEWARD, "GET", "/grants").get_json()["grants"][0]
    assert logged["rows"] == {"区划代码": ["510104"]}


def test_a_scope_matching_nothing_delivers_no_row(city):
    call, _app, request_id = city
    grant = call(STEWARD, "POST", f"/requests/{request_id}/approve",
                 json={"rows": {"区划代码": ["510199"]}}).get_json()["grant_id"]
    done = call(JINJIANG, "POST", f"/grants/{grant}/exchanges", json={"format": "csv"})
    assert done.status_code == 201 and done.get_json()["row_count"] == 0
    data = call(JINJIANG, "GET", done.get_json()["data_url"].removeprefix("/api/v1")).data
    assert data.decode("utf-8").strip() == "区划代码,姓名,手机号码,服务次数"


@pytest.mark.parametrize(("rows", "code"), [
    ({"手机号码": ["13812340000"]}, "rows_column_personal"),  # would log a phone number
    ({"姓名": ["张伟"]}, "rows_column_personal"),
    ({"街道": ["510104"]}, "rows_column_unknown"),
    ({"区划代码": "510104"}, "rows_malformed"),                # not a list
    ({"区划代码": []}, "rows_malformed"),
    ({"区划代码": [510104]}, "rows_malformed"),                # not text
    ({"区划代码": [" "]}, "rows_malformed"),
    (["区划代码"], "rows_malformed"),
    ({"区划代码": [str(510000 + n) for n in range(1001)]}, "rows_too_many"),
])
def test_what_cannot_be_a_scope_is_refused(city, rows, code):
    call, _app, request_id = city
    refused = call(STEWARD, "POST", f"/requests/{request_id}/approve", json={"rows": rows})
    assert 400 <= refused.status_code < 500, refused.get_json()
    assert refused.get_json()["error"]["code"] == code
    listed = call(STEWARD, "GET", "/requests").get_json()["requests"]
    assert [(r["id"], r["status"]) for r in listed] == [(request_id, "pending")]


def test_the_region_column_is_found_and_the_districts_rows_proposed(city):
    call, app, request_id = city
    dataset = call(STEWARD, "GET", "/datasets").get_json()["datasets"][0]["id"]
    columns = call(STEWARD, "GET", f"/datasets/{dataset}").get_json()["columns"]
    assert [c["name"] for c in columns if c.get("region")] == ["区划代码"]
    steward = Browser(app.test_client(), "zh")
    assert steward.sign_in("civil-steward", "pw-" * 5).status_code == 303
    page = text(steward.get(f"/steward/requests/{request_id}"))
    assert "建议：按“区划代码”列只交付四川省 锦江区（510104）的数据行" in page
    assert re.search(r'<option value="区划代码" selected>', page)
    assert 'name="rows_values" type="text" value="510104"' in page
    preview = page.split('id="preview"', 1)[1].split("</table>", 1)[0]
    assert preview.count("510104") == 3 and "510107" not in preview  # the scoped rows
    # another district's code typed in: its preview, then its grant
    form = {"action": "preview", "op:区划代码": "keep", "op:姓名": "mask",
            "op:手机号码": "mask", "op:服务次数": "keep", "expires_in_days": "30",
            "follows": "latest", "rows_column": "区划代码", "rows_values": "510107"}
    page = f"/steward/requests/{request_id}"
    other = text(steward.submit(page, page, form))
    shown = other.split('id="preview"', 1)[1].split("</table>", 1)[0]
    assert shown.count("510107") == 2 and "510104" not in shown
    personal = steward.submit(page, page, form | {"rows_column": "手机号码",
                                                  "rows_values": "13812340000"})
    assert personal.status_code == 422 and 'href="#rows"' in text(personal)
    approved = steward.submit(page, page, form | {"action": "approve",
                                                  "rows_values": "510104"})
    assert approved.status_code == 303
    grant = call(STEWARD, "GET", "/grants").get_json()["grants"][0]
    assert grant["rows"] == {"区划代码": ["510104"]}


def test_a_city_department_is_proposed_no_scope(tmp_path, settings_for):
    config = settings_for(tmp_path)
    civil = Principal("tax-requester", "", "tax", "requester")
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, civil)
    app = create_app(config)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['civil-steward']}"}
    published = client.post("/api/v1/datasets", headers=headers, data={
        "file": (io.BytesIO(_register()), "register.csv"), "metadata": json.dumps({
            "title": "居民服务登记", "sharing": "conditional", "level": "L3"})})
    asked = client.post("/api/v1/requests", headers={
        "Authorization": f"Bearer {tokens['tax-requester']}"}, json={
        "dataset_id": published.get_json()["id"], "purpose": "核对", "columns": ["区划代码"]})
    steward = Browser(app.test_client(), "zh")
    assert steward.sign_in("civil-steward", "pw-" * 5).status_code == 303
    page = text(steward.get(f"/steward/requests/{asked.get_json()['id']}"))
    assert "建议：" not in page and '<option value="" selected' not in page
    assert 'name="rows_values" type="text" value=""' in page


def test_a_data_authority_oversees_the_requests_of_its_region(tmp_path, settings_for):
    """The city's 市数据局 sees every district's requests; 锦江区's authority only 锦江区's;
    neither decides nor asks."""
    from exchange.usecases import departments as ud
    from exchange.usecases.admin import create_user

    config = settings_for(tmp_path)
    wuhou = Principal("wuhou-requester", "", "wuhou", "requester")
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, JINJIANG, wuhou,
                               places={"jinjiang": ("district", "510104"),
                                       "wuhou": ("district", "510107")})
    ud.add_department(svc, code="data", name="市数据局", level="city", region="510100")
    ud.add_department(svc, code="jinjiang-data", name="锦江区数据局", level="district",
                      region="510104")
    tokens |= {name: create_user(svc, username=name, password="pw-" * 5, role="authority",
                                 department=dept)
               for name, dept in (("city-authority", "data"),
                                  ("jinjiang-authority", "jinjiang-data"))}
    svc.engine.dispose()
    client = create_app(config).test_client()

    def call(username: str, method: str, path: str, **kw):
        return client.open("/api/v1" + path, method=method, headers={
            "Authorization": f"Bearer {tokens[username]}"}, **kw)

    dataset = call("civil-steward", "POST", "/datasets", data={
        "file": (io.BytesIO(_register()), "register.csv"), "metadata": json.dumps({
            "title": "居民服务登记", "sharing": "conditional", "level": "L3"})}).get_json()["id"]
    asked = {who: call(who, "POST", "/requests", json={
        "dataset_id": dataset, "purpose": "核对本区居民服务记录",
        "columns": ["区划代码", "服务次数"]}).get_json()["id"]
        for who in ("jinjiang-requester", "wuhou-requester")}

    def seen(username: str) -> set[str]:
        listed = call(username, "GET", "/requests?status=pending")
        assert listed.status_code == 200, listed.get_json()
        return {r["id"] for r in listed.get_json()["requests"]}

    assert seen("city-authority") == set(asked.values())
    assert seen("jinjiang-authority") == {asked["jinjiang-requester"]}
    assert seen("wuhou-requester") == {asked["wuhou-requester"]}
    for username, expected in (("city-authority", set(asked.values())),
                               ("jinjiang-authority", {asked["jinjiang-requester"]})):
        page = Browser(client.application.test_client(), "zh")
        assert page.sign_in(username, "pw-" * 5).status_code == 303
        shown = text(page.get("/authority/requests"))
        assert {rid for rid in asked.values() if rid in shown} == expected
        assert "辖区内的数据申请" in shown
    assert Browser(client.application.test_client(), "zh").get(
        "/authority/requests").status_code in (302, 303)  # signed out: to the sign-in
    refused = call("city-authority", "POST", f"/requests/{asked['wuhou-requester']}/approve",
                   json={})
    assert refused.status_code == 403
    assert call("city-authority", "POST", "/requests", json={
        "dataset_id": dataset, "purpose": "x", "columns": ["区划代码"]}).status_code == 403
