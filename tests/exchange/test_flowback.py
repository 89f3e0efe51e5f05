"""回流 (issue 16): one decision by the city steward, from which each district under the city
receives a grant of its own region's rows; a district added later gets its own; two stewards
at L4; ending the decision ends its grants."""

from __future__ import annotations

import csv
import io
import json

import pytest

from exchange.auth import Principal
from exchange.config import load_settings
from exchange.usecases import departments as ud
from exchange.usecases import worker
from exchange.usecases.admin import create_user

from .conftest import api_caller, new_instance
from .test_row_scope import _register

STEWARD = Principal("civil-steward", "", "civil", "steward")
SECOND = Principal("civil-steward2", "", "civil", "steward")
JINJIANG = Principal("jinjiang-requester", "", "jinjiang", "requester")
WUHOU = Principal("wuhou-requester", "", "wuhou", "requester")
AUDITOR = Principal("audit-auditor", "", "audit", "auditor")
DECISION = {"purpose": "各区核对本区低保对象的服务记录",
            "legal_basis": "《社会救助暂行办法》第十条", "review_in_days": 180}


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(
        load_settings(config, environ={}), STEWARD, SECOND, JINJIANG, WUHOU, AUDITOR,
        places={"civil": ("city", "510100"), "jinjiang": ("district", "510104"),
                "wuhou": ("district", "510107")})
    call = api_caller(config, tokens)

    def publish(level: str = "L3", data: bytes | None = None) -> str:
        made = call("civil-steward", "POST", "/datasets", data={
            "file": (io.BytesIO(data or _register()), "register.csv"),
            "metadata": json.dumps({"title": "居民服务登记", "sharing": "conditional",
                                    "level": level})})
        assert made.status_code == 201, made.get_json()
        return made.get_json()["id"]
    return call, publish, svc, tokens


def _rows(call, username: str, grant_id: str) -> list[dict]:
    done = call(username, "POST", f"/grants/{grant_id}/exchanges", json={"format": "csv"})
    assert done.status_code == 201, done.get_json()
    data = call(username, "GET", done.get_json()["data_url"].removeprefix("/api/v1")).data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_each_district_receives_its_own_rows_and_a_new_district_its_grant(city):
    call, publish, svc, tokens = city
    dataset = publish()
    made = call("civil-steward", "POST", f"/datasets/{dataset}/flowback", json=DECISION)
    assert made.status_code == 201, made.get_json()
    grants = {g["receiver"]: g for g in made.get_json()["grants"]}
    assert set(grants) == {"jinjiang", "wuhou"}
    assert grants["jinjiang"]["rows"] == {"区划代码": ["510104"]}
    jinjiang = _rows(call, "jinjiang-requester", grants["jinjiang"]["id"])
    wuhou = _rows(call, "wuhou-requester", grants["wuhou"]["id"])
    assert {r["区划代码"] for r in jinjiang} == {"510104"} and len(jinjiang) == 3
    assert {r["区划代码"] for r in wuhou} == {"510107"} and len(wuhou) == 2
    assert not any("1381234" in r["手机号码"] for r in jinjiang + wuhou)  # masked (L3)
    # wuhou cannot use jinjiang's grant
    assert call("wuhou-requester", "POST", f"/grants/{grants['jinjiang']['id']}/exchanges",
                json={"format": "csv"}).status_code == 403
    # a district created afterwards receives its own grant from the same decision
    # (derived by the worker, from the outbox row written with the department)
    added = ud.add_department(svc, code="chenghua", name="成华区民政局", level="district",
                              region="510108")
    assert added["flowback_pending"] == 1
    # the derivation, and the subject index of the version delivered above (手机号码)
    assert worker.run_once(svc) == {"timer.done": 2}
    assert worker.run_once(svc) == {}  # once
    tokens["chenghua-requester"] = create_user(svc, username="chenghua-requester",
                                               password="pw-" * 5, role="requester",
                                               department="chenghua")
    derived = [g for g in call("civil-steward", "GET", "/grants").get_json()["grants"]
               if g["receiver"] == "chenghua"]
    assert len(derived) == 1
    chenghua = _rows(call, "chenghua-requester", derived[0]["id"])
    assert [r["区划代码"] for r in chenghua] == ["510108"]
    logged = call("audit-auditor", "GET", "/audit/entries?type=flowback").get_json()["entries"]
    assert [e["entry"]["change"] for e in logged] == ["decided"]
    assert sorted(logged[0]["entry"]["districts"]) == ["jinjiang", "wuhou"]
    assert logged[0]["entry"]["legal_basis"] == DECISION["legal_basis"]


@pytest.mark.parametrize(("change", "code"), [
    ({"legal_basis": " "}, "legal_basis_required"),
    ({"purpose": ""}, "purpose_required"),
    ({"review_in_days": 400}, "expiry_range"),
    ({"columns": ["街道"]}, "columns_unknown"),
    ({"masking": {"手机号码": "shred"}}, "operator_unknown"),
])
def test_what_a_decision_cannot_be(city, change, code):
    call, publish, _svc, _tokens = city
    dataset = publish()
    refused = call("civil-steward", "POST", f"/datasets/{dataset}/flowback",
                   json=DECISION | change)
    assert 400 <= refused.status_code < 500 and refused.get_json()["error"]["code"] == code
    assert call("civil-steward", "GET", "/flowbacks").get_json()["flowbacks"] == []
    assert call("jinjiang-requester", "GET", "/grants").get_json()["grants"] == []


def test_no_region_column_no_flow_back_and_only_its_own_steward(city):
    call, publish, _svc, _tokens = city
    plain = publish(data="街道,服务次数\n春熙路,3\n东大街,5\n".encode())
    refused = call("civil-steward", "POST", f"/datasets/{plain}/flowback", json=DECISION)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "flowback_no_region_column"
    dataset = publish()
    assert call("jinjiang-requester", "POST", f"/datasets/{dataset}/flowback",
                json=DECISION).status_code == 403


def test_l4_waits_for_a_second_steward_and_ending_ends_the_grants(city):
    call, publish, _svc, _tokens = city
    dataset = publish(level="L4")
    made = call("civil-steward", "POST", f"/datasets/{dataset}/flowback", json=DECISION)
    assert made.status_code == 201 and made.get_json()["grants"] == []
    decision = made.get_json()["flowback"]
    assert decision["status"] == "pending"
    again = call("civil-steward", "POST", f"/flowbacks/{decision['id']}/confirm")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_approved"
    confirmed = call("civil-steward2", "POST", f"/flowbacks/{decision['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.get_json()
    grants = {g["receiver"]: g["id"] for g in confirmed.get_json()["grants"]}
    assert set(grants) == {"jinjiang", "wuhou"}
    assert confirmed.get_json()["flowback"]["approved_by"] == ["civil-steward",
                                                               "civil-steward2"]
    ended = call("civil-steward", "POST", f"/flowbacks/{decision['id']}/end",
                 json={"reason": "复核期满"})
    assert ended.status_code == 200 and sorted(ended.get_json()["grants_ended"]) == sorted(
        grants.values())
    assert call("jinjiang-requester", "POST", f"/grants/{grants['jinjiang']}/exchanges",
                json={"format": "csv"}).status_code == 403
    assert call("civil-steward", "POST", f"/flowbacks/{decision['id']}/end",
                json={"reason": "x"}).status_code == 409
