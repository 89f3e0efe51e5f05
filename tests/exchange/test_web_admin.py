"""The admin's pages (issue 16): departments and users added, disabled and enabled, a new
token shown once, a lock-out lifted — each through the use cases, logged; refused to anyone
else."""

from __future__ import annotations

import re

import pytest

from exchange.app import create_app
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.usecases.admin import create_user

from .conftest import Browser, new_instance, text

STEWARD = Principal("civil-steward", "", "civil", "steward")


@pytest.fixture
def site(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD,
                               places={"civil": ("city", "510100")})
    create_user(svc, username="root", password="pw-" * 5, role="admin", department=None)
    app = create_app(config)
    admin = Browser(app.test_client(), "zh")
    assert admin.sign_in("root", "pw-" * 5).status_code == 303
    return app, admin, svc


def test_an_admin_adds_a_district_department_and_its_user(site):
    app, admin, svc = site
    page = "/admin/departments"
    assert "成都市" in text(admin.get(page)) or "510100" in text(admin.get(page))
    refused = admin.submit(page, page, {"code": "jinjiang-civil", "name": "锦江区民政局",
                                        "name_en": "", "level": "district", "parent": "civil",
                                        "region": "510100"})
    body = text(refused)
    assert refused.status_code == 422 and 'href="#region"' in body
    assert 'value="锦江区民政局"' in body  # what was typed is kept
    added = admin.submit(page, page, {"code": "jinjiang-civil", "name": "锦江区民政局",
                                      "name_en": "", "level": "district", "parent": "civil",
                                      "region": "510104"})
    assert added.status_code == 303
    listed = text(admin.get(page))
    assert "jinjiang-civil" in listed and "四川省 锦江区" in listed
    users = "/admin/users"
    made = admin.submit(users, users, {"username": "li.na", "display_name": "李娜",
                                       "role": "requester", "department": "jinjiang-civil",
                                       "password": "pw-" * 5})
    assert made.status_code == 200
    token = re.search(r'<code class="token">(gvx_[\w-]+)</code>', text(made)).group(1)
    assert app.test_client().get("/api/v1/datasets", headers={
        "Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in text(admin.get(users))  # shown once
    # a new token: the old one stops
    renewed = admin.submit(users, "/admin/users/li.na/token", {})
    fresh = re.search(r'<code class="token">(gvx_[\w-]+)</code>', text(renewed)).group(1)
    client = app.test_client()
    assert client.get("/api/v1/datasets", headers={
        "Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/datasets", headers={
        "Authorization": f"Bearer {fresh}"}).status_code == 200
    assert admin.submit(users, "/admin/users/li.na/disable", {}).status_code == 303
    assert client.get("/api/v1/datasets", headers={
        "Authorization": f"Bearer {fresh}"}).status_code == 401
    assert "已停用" in text(admin.get(users + "?department=jinjiang-civil"))
    assert admin.submit(users, "/admin/users/li.na/unlock", {}).status_code == 303
    with svc.engine.connect() as conn:
        log = svc.audit_log()
        kinds = [(e["type"], e.get("change")) for e in (log.entry(conn, i)
                                                         for i in range(log.size(conn)))]
    assert ("department_change", "added") in kinds
    assert [c for t, c in kinds if t == "user_change"][-3:] == ["token_reissued", "disabled",
                                                                 "unlocked"]


@pytest.mark.parametrize("path", ["/admin/departments", "/admin/users"])
def test_only_an_admin_opens_them(site, path):
    app, _admin, _svc = site
    steward = Browser(app.test_client(), "zh")
    assert steward.sign_in("civil-steward", "pw-" * 5).status_code == 303
    assert steward.get(path).status_code == 403
    refused = steward.submit("/steward/publish", "/admin/users/civil-steward/disable", {})
    assert refused.status_code == 403
