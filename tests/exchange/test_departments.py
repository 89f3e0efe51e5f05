"""A city sets itself up: departments with levels, parents and GB/T 2260 regions (CLI, API,
audit), users listed, a department disabled with its users."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from exchange.auth import Principal
from exchange.cli import cli
from exchange.config import load_settings
from exchange.errors import Conflict, ExchangeError, Forbidden, InvalidInput, NotFound
from exchange.usecases import departments as ud

from .conftest import new_instance

ADMIN = Principal("admin", "admin", None, "admin")


@pytest.fixture
def city(tmp_path, settings_for):
    """A fresh instance with 成都市民政局 and 锦江区 (government and its civil affairs bureau)."""
    config = settings_for(tmp_path / "home")
    svc, _tokens = new_instance(load_settings(config, environ={}))
    ud.add_department(svc, code="civil", name="成都市民政局", name_en="Civil Affairs",
                      level="city", region="510100")
    ud.add_department(svc, code="jinjiang", name="锦江区人民政府", level="district",
                      region="510104")
    ud.add_department(svc, code="jinjiang-civil", name="锦江区民政局", level="district",
                      parent="jinjiang", region="510104")
    return svc, config


@pytest.mark.parametrize(("fields", "code"), [
    ({"code": "Civil2"}, "department_code"),                       # upper case
    ({"code": "c"}, "department_code"),                            # too short
    ({"level": "county"}, "department_level"),
    ({"name": "  "}, "department_name"),
    ({"region": None}, "region_required"),                         # a district needs one
    ({"region": "999999"}, "region_unknown"),
    ({"region": "51010"}, "region_unknown"),
    ({"region": "510122"}, "region_unknown"),                      # 双流县, abolished 2015
    ({"region": "510100"}, "region_level_mismatch"),               # a city's code
    ({"parent": "nowhere"}, "parent_unknown"),
    ({"parent": "jinjiang", "region": "510107"}, "region_outside_parent"),  # 武侯 under 锦江
    ({"level": "city", "region": "510100", "parent": "jinjiang"}, "parent_below"),
])
def test_what_a_department_cannot_be(city, fields, code):
    svc, _ = city
    new = {"code": "wuhou-civil", "name": "武侯区民政局", "level": "district",
           "region": "510107"} | fields
    with pytest.raises(InvalidInput) as refused:
        ud.add_department(svc, **new)
    assert refused.value.code == code
    assert "wuhou-civil" not in [d["code"] for d in ud.list_departments(svc)["departments"]]


def test_a_department_is_listed_with_its_region_and_logged(city):
    svc, _ = city
    made = ud.add_department(svc, code="shuangliu", name="双流区人民政府", level="district",
                             region="510116")
    assert made["region_name"] == "四川省 双流区" and made["parent"] is None
    with pytest.raises(Conflict):
        ud.add_department(svc, code="shuangliu", name="又一个", level="district",
                          region="510116")
    listed = ud.list_departments(svc)["departments"]
    assert [d["code"] for d in listed][:1] == ["civil"]  # the city first
    assert {d["code"]: d["parent"] for d in listed}["jinjiang-civil"] == "jinjiang"
    log = svc.audit_log()
    with svc.engine.connect() as conn:
        entries = [log.entry(conn, i) for i in range(log.size(conn))]
    added = [e for e in entries if e["type"] == "department_change"]
    assert [(e["subject"], e["change"]) for e in added][-1] == ("shuangliu", "added")
    assert added[-1]["region"] == "510116" and added[-1]["level"] == "district"


def test_moving_keeps_the_tree_a_tree(city):
    svc, _ = city
    with pytest.raises(InvalidInput) as cycle:  # the government under its own bureau
        ud.move_department(svc, code="jinjiang", parent="jinjiang-civil")
    assert cycle.value.code == "parent_cycle"
    with pytest.raises(InvalidInput) as misfit:  # its bureau would be outside its region
        ud.move_department(svc, code="jinjiang", parent=None, region="510107")
    assert misfit.value.code == "children_misfit"
    moved = ud.move_department(svc, code="jinjiang-civil", parent="civil")  # the line
    assert moved["parent"] == "civil" and moved["region"] == "510104"
    renamed = ud.rename_department(svc, code="jinjiang-civil", name="锦江区民政局（新）")
    assert renamed["name"] == "锦江区民政局（新）"
    with pytest.raises(NotFound):
        ud.rename_department(svc, code="nowhere", name="x")


def test_disabling_a_department_disables_its_users(city):
    svc, _ = city
    from exchange.auth import principal_for_token
    from exchange.usecases.admin import create_user

    token = create_user(svc, username="li.na", password="pw-" * 5, role="requester",
                        department="jinjiang-civil")
    with svc.engine.connect() as conn:
        assert principal_for_token(conn, token).department == "jinjiang-civil"
    with pytest.raises(InvalidInput) as children:
        ud.disable_department(svc, code="jinjiang")
    assert children.value.code == "department_has_children"
    done = ud.disable_department(svc, code="jinjiang-civil")
    assert done["disabled"] and done["users_disabled"] == ["li.na"]
    with svc.engine.connect() as conn, pytest.raises(ExchangeError):
        principal_for_token(conn, token)
    with pytest.raises(InvalidInput) as closed:
        create_user(svc, username="wang.wu", password="pw-" * 5, role="requester",
                    department="jinjiang-civil")
    assert closed.value.code == "department_disabled"
    users = ud.list_users(svc, department="jinjiang-civil")["users"]
    assert [(u["username"], u["disabled"]) for u in users] == [("li.na", True)]
    assert "password_hash" not in users[0]


def test_only_an_admin_manages_departments(city):
    svc, _ = city
    from exchange.usecases.admin import create_user

    create_user(svc, username="zhang.san", password="pw-" * 5, role="steward",
                department="civil")
    steward = Principal("zhang.san", "张三", "civil", "steward")
    assert ud.list_departments(svc, steward)["departments"]  # anyone reads them
    for change in (lambda: ud.add_department(svc, steward, code="x-civil", name="x",
                                             level="city"),
                   lambda: ud.disable_department(svc, steward, code="jinjiang-civil"),
                   lambda: ud.list_users(svc, steward)):
        with pytest.raises(Forbidden):
            change()


def test_the_api_lists_and_adds_departments(city):
    svc, config = city
    from exchange.app import create_app
    from exchange.usecases.admin import create_user

    token = create_user(svc, username="zhang.san", password="pw-" * 5, role="requester",
                        department="civil")
    admin = create_user(svc, username="root2", password="pw-" * 5, role="admin",
                        department=None)
    client = create_app(config).test_client()

    def call(method, who_token, body=None):
        return client.open("/api/v1/departments", method=method, json=body, headers={
            "Authorization": f"Bearer {who_token}", "Accept-Language": "zh"})

    listed = call("GET", token).get_json()["departments"]
    assert {"code": "jinjiang", "name": "锦江区人民政府", "level": "district", "parent": None,
            "region": "510104"}.items() <= next(d for d in listed
                                                if d["code"] == "jinjiang").items()
    new = {"code": "wuhou", "name": "武侯区人民政府", "level": "district", "region": "510107"}
    assert call("POST", token, new).status_code == 403
    made = call("POST", admin, new)
    assert made.status_code == 201 and made.get_json()["region_name"] == "四川省 武侯区"
    for body, code in ((new | {"code": "wuhou2", "colour": "red"}, "unknown_field"),
                       (new | {"code": "wuhou3", "region": 510107}, "metadata_not_text"),
                       (new | {"code": "wuhou4", "region": "510100"}, "region_level_mismatch")):
        refused = call("POST", admin, body)
        assert refused.status_code == 400, body
        error = refused.get_json()["error"]
        assert error["code"] == code and error["message"], error
    assert call("POST", admin, new).status_code == 409


def test_the_cli_sets_a_city_up(tmp_path):
    home = tmp_path / "home"
    runner = CliRunner()

    def govex(*args):
        result = runner.invoke(cli, [*args[:2], "--home", str(home), *args[2:]])
        return result

    assert runner.invoke(cli, ["init", "--home", str(home)]).exit_code == 0
    refused = govex("users", "add", "alice", "--role", "steward", "--department", "civil",
                    "--password", "pw-" * 5)
    assert refused.exit_code != 0 and "govex departments add" in refused.output
    assert govex("departments", "add", "civil", "--name", "成都市民政局", "--level", "city",
                 "--region", "510100").exit_code == 0
    added = govex("departments", "add", "jinjiang-civil", "--name", "锦江区民政局", "--level",
                  "district", "--parent", "civil", "--region", "510104")
    assert added.exit_code == 0 and "四川省 锦江区" in added.output
    bad = govex("departments", "add", "wuhou-civil", "--name", "武侯区民政局", "--level",
                "district", "--parent", "civil", "--region", "510100")
    assert bad.exit_code != 0 and "510100" in bad.output and "Traceback" not in bad.output
    listed = json.loads(govex("departments", "list", "--json").output)
    assert [(d["code"], d["level"], d["parent"], d["region"]) for d in listed["departments"]] \
        == [("civil", "city", None, "510100"), ("jinjiang-civil", "district", "civil", "510104")]
    assert govex("users", "add", "alice", "--role", "steward", "--department",
                 "jinjiang-civil", "--password", "pw-" * 5).exit_code == 0
    users = json.loads(govex("users", "list", "--department", "jinjiang-civil",
                             "--json").output)["users"]
    assert [(u["username"], u["role"]) for u in users] == [("alice", "steward")]
    assert govex("departments", "disable", "jinjiang-civil").exit_code == 0
    assert "disabled" in govex("users", "list").output
