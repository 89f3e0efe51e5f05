"""A dataset's life after its first publication, through the API of an instance of its own:
new versions (a grant pinned to one, a grant that follows the latest), metadata edits, and
withdrawal — each read back from the receipt, the audit log and the catalog."""

from __future__ import annotations

import io
import json

import pytest

from exchange.app import create_app
from exchange.auth import Principal
from exchange.config import load_settings
from exchange.receipts import verify_receipt

from .conftest import new_instance

STEWARD = Principal("civil-steward", "", "civil", "steward")
OTHER_STEWARD = Principal("health-steward", "", "health", "steward")
REQUESTER = Principal("tax-requester", "", "tax", "requester")
AUDITOR = Principal("audit-auditor", "", "audit", "auditor")
META = {"title": "社区服务站台账", "description": "各街道社区服务站的服务记录",
        "sharing": "conditional", "level": "L2", "keywords": "社区 服务站"}


def _csv(rows: int, *, note: str = "无", start: int = 0) -> bytes:
    lines = ["街道,服务次数,备注"]
    lines += [f"街道{start + i},{i % 7},{note if note != 'phone' else f'1381234{i:04d}'}"
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, OTHER_STEWARD,
                               REQUESTER, AUDITOR)
    svc.engine.dispose()
    app = create_app(config)
    client = app.test_client()

    def call(who: Principal, method: str, path: str, **kw):
        headers = {"Authorization": f"Bearer {tokens[who.username]}", "Accept-Language": "en"}
        return client.open("/api/v1" + path, method=method, headers=headers, **kw)

    published = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(_csv(12)), "v1.csv"), "metadata": json.dumps(META)})
    assert published.status_code == 201, published.get_json()
    yield call, published.get_json()["id"], app


def _grant(call, dataset_id: str, follows: str | None) -> str:
    asked = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset_id, "purpose": "统计各街道服务量",
        "columns": ["街道", "服务次数", "备注"]})
    assert asked.status_code == 201, asked.get_json()
    conditions = {"follows": follows} if follows else {}
    approved = call(STEWARD, "POST", f"/requests/{asked.get_json()['id']}/approve",
                    json=conditions)
    assert approved.status_code == 200, approved.get_json()
    return approved.get_json()["grant_id"]


def _new_version(call, dataset_id: str, data: bytes, who: Principal = STEWARD):
    """A new version; its steward confirms any personal data (the dataset is L2)."""
    return call(who, "POST", f"/datasets/{dataset_id}/versions", data={
        "file": (io.BytesIO(data), "next.csv"),
        "metadata": json.dumps({"confirm_personal_data": True})})


def _deliver(call, app, grant_id: str) -> tuple[dict, bytes]:
    done = call(REQUESTER, "POST", f"/grants/{grant_id}/exchanges", json={"format": "csv"})
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    data = call(REQUESTER, "GET", body["data_url"].removeprefix("/api/v1")).data
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    return verify_receipt(body["receipt"], jwks=jwks, data=data) | {
        "logged": body["audit_entry"]}, data


def test_a_republish_delivers_the_right_version_to_pinned_and_to_following_grants(city):
    call, dataset_id, app = city
    pinned, following = _grant(call, dataset_id, "pinned"), _grant(call, dataset_id, None)
    added = _new_version(call, dataset_id, _csv(30, start=100))
    assert added.status_code == 201 and added.get_json()["version"] == 2

    for grant_id, version, rows, first in ((pinned, 1, 12, "街道0"),
                                           (following, 2, 30, "街道100")):
        receipt, data = _deliver(call, app, grant_id)
        assert receipt["dataset_version"] == version
        assert receipt["logged"]["dataset_version"] == version  # the audit entry agrees
        assert receipt["row_count"] == rows
        assert data.decode().splitlines()[1].startswith(f'"{first}"')  # and the bytes
    grants = {g["id"]: g for g in call(REQUESTER, "GET", "/grants").get_json()["grants"]}
    assert grants[pinned]["follows"] == "pinned" and grants[following]["follows"] == "latest"


def test_a_version_that_makes_a_granted_column_personal_waits_for_the_steward(city):
    call, dataset_id, app = city
    following = _grant(call, dataset_id, "latest")
    assert _new_version(call, dataset_id, _csv(20, start=200)).status_code == 201
    assert _new_version(call, dataset_id, _csv(25, note="phone")).status_code == 201
    versions = call(REQUESTER, "GET", f"/datasets/{dataset_id}/versions").get_json()["versions"]
    assert [v["version"] for v in versions] == [3, 2, 1]
    notes = {c["name"]: c["profile"]["kind"] for c in versions[0]["columns"]}
    assert notes["备注"] != "none"  # version 3 holds mobile numbers where 1 held none
    receipt, data = _deliver(call, app, following)
    assert receipt["dataset_version"] == 2 and "1381234" not in data.decode()


@pytest.mark.parametrize("who,path,body,status,code", [
    (OTHER_STEWARD, "/versions", None, 403, "not_your_dataset"),
    (REQUESTER, "/versions", None, 403, "forbidden"),
    (STEWARD, "/versions", {"strict": "yes"}, 400, "strict_not_a_flag"),
    (STEWARD, "/versions", {"colour": "blue"}, 400, "unknown_field"),
])
def test_a_new_version_is_refused_when_it_is_not_yours_or_malformed(city, who, path, body,
                                                                    status, code):
    call, dataset_id, _app = city
    form = {"file": (io.BytesIO(_csv(5)), "v.csv")}
    if body is not None:
        form["metadata"] = json.dumps(body)
    refused = call(who, "POST", f"/datasets/{dataset_id}{path}", data=form)
    assert refused.status_code == status, refused.get_json()
    assert refused.get_json()["error"]["code"] == code
    versions = call(STEWARD, "GET", f"/datasets/{dataset_id}/versions").get_json()["versions"]
    assert len(versions) == 1  # nothing half-written


def test_editing_metadata_changes_what_it_names_and_logs_the_field_names(city):
    call, dataset_id, _app = city
    edited = call(STEWARD, "PATCH", f"/datasets/{dataset_id}",
                  json={"title": "社区服务站台账（2026）", "level": "L3"})
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["changed"] == ["title", "level"]
    shown = call(REQUESTER, "GET", f"/datasets/{dataset_id}").get_json()
    assert shown["title"] == "社区服务站台账（2026）" and shown["level"] == "L3"
    entries = call(AUDITOR, "GET", "/audit/entries?type=dataset_change").get_json()["entries"]
    assert [e["entry"]["fields"] for e in entries] == [["title", "level"]]
    assert "社区服务站" not in json.dumps(entries[0]["entry"], ensure_ascii=False)
    same = call(STEWARD, "PATCH", f"/datasets/{dataset_id}", json={"level": "L3"})
    assert same.get_json()["changed"] == []  # no change, no entry
    assert call(AUDITOR, "GET", "/audit/entries?type=dataset_change").get_json()["total"] == 1


@pytest.mark.parametrize("who,body,status,code", [
    (STEWARD, {"colour": "blue"}, 400, "unknown_field"),
    (STEWARD, {"sharing": "none"}, 400, "legal_basis_required"),  # not shareable: say why
    (STEWARD, {"title": "  "}, 400, "title_required"),
    (OTHER_STEWARD, {"title": "别人的"}, 403, "not_your_dataset"),
    (REQUESTER, {"title": "别人的"}, 403, "forbidden"),
])
def test_a_bad_edit_is_refused_and_changes_nothing(city, who, body, status, code):
    call, dataset_id, _app = city
    refused = call(who, "PATCH", f"/datasets/{dataset_id}", json=body)
    assert refused.status_code == status and refused.get_json()["error"]["code"] == code
    assert call(REQUESTER, "GET", f"/datasets/{dataset_id}").get_json()["title"] == META["title"]


def test_withdrawing_ends_grants_and_requests_and_keeps_the_history(city):
    call, dataset_id, _app = city
    granted = _grant(call, dataset_id, None)
    pending = call(REQUESTER, "POST", "/requests", json={
        "dataset_id": dataset_id, "purpose": "核对", "columns": ["街道"]}).get_json()["id"]
    no_reason = call(STEWARD, "POST", f"/datasets/{dataset_id}/withdraw", json={"reason": " "})
    assert no_reason.status_code == 400
    done = call(STEWARD, "POST", f"/datasets/{dataset_id}/withdraw",
                json={"reason": "台账已并入新系统"})
    assert done.status_code == 200 and done.get_json()["grants_ended"] == [granted]

    assert dataset_id not in [d["id"] for d in call(REQUESTER, "GET", "/datasets").get_json()[
        "datasets"]]
    kept = call(REQUESTER, "GET", f"/datasets/{dataset_id}").get_json()
    assert kept["withdrawn_at"] and kept["withdraw_reason"] == "台账已并入新系统"
    refused = call(REQUESTER, "POST", f"/grants/{granted}/exchanges", json={"format": "csv"})
    assert refused.status_code == 403
    grants = {g["id"]: g for g in call(REQUESTER, "GET", "/grants").get_json()["grants"]}
    assert grants[granted]["status"] == "revoked"
    assert grants[granted]["revoke_reason"] == "台账已并入新系统"
    requests_ = {r["id"]: r for r in call(REQUESTER, "GET", "/requests").get_json()["requests"]}
    assert requests_[pending]["status"] == "refused"
    for method, path, kw in (("POST", "/requests", {"json": {
            "dataset_id": dataset_id, "purpose": "再次申请", "columns": ["街道"]}}),
            ("PATCH", f"/datasets/{dataset_id}", {"json": {"title": "新"}}),
            ("POST", f"/datasets/{dataset_id}/withdraw", {"json": {"reason": "再撤"}})):
        who = REQUESTER if path == "/requests" else STEWARD
        late = call(who, method, path, **kw)
        assert late.status_code == 409 and late.get_json()["error"]["code"] == "dataset_withdrawn"
    assert _new_version(call, dataset_id, _csv(3)).status_code == 409
    logged = {kind: [e["entry"] for e in call(AUDITOR, "GET", f"/audit/entries?type={kind}")
                     .get_json()["entries"]] for kind in ("withdraw", "revoke", "deny")}
    assert [(e["dataset_id"], e["grants_ended"]) for e in logged["withdraw"]] == [(dataset_id, 1)]
    assert [e["grant_id"] for e in logged["revoke"]] == [granted]
    assert [(e["request_id"], e["outcome"]) for e in logged["deny"]] == [(pending, "refused")]
    assert "台账已并入新系统" not in json.dumps(logged, ensure_ascii=False)  # reasons stay out


def test_a_steward_moves_a_held_back_grant_to_the_new_version_with_new_masking(city):
    call, dataset_id, app = city
    following = _grant(call, dataset_id, "latest")
    assert _new_version(call, dataset_id, _csv(25, note="phone")).status_code == 201
    grant = {g["id"]: g for g in call(STEWARD, "GET", "/grants").get_json()["grants"]}[following]
    assert (grant["delivers_version"], grant["waiting_version"]) == (1, 2)
    # the steward and the receiver are told, in their inboxes
    for who in (STEWARD, REQUESTER):
        told = call(who, "GET", "/notifications").get_json()["notifications"]
        held = [n for n in told if n["type"] == "grant.held_back"]
        assert [(n["subject_id"], n["data"]["dataset_version"]) for n in held] == \
            [(following, 2)], who

    for who, body, status, code in (
            (REQUESTER, {"version": 2}, 403, "forbidden"),
            (OTHER_STEWARD, {"version": 2}, 403, "forbidden"),
            (STEWARD, {"version": 1}, 400, "version_not_newer"),
            (STEWARD, {"version": "2"}, 400, "version_not_newer"),
            (STEWARD, {"version": 2, "masking": {"备注": "shout"}}, 400, "invalid_input"),
            (STEWARD, {"version": 2, "masking": {"其他": "mask"}}, 400, "masking_outside_grant"),
            (STEWARD, {"version": 2, "colour": 1}, 400, "unknown_field"),
            (STEWARD, {"version": 9}, 404, "dataset_not_found")):
        refused = call(who, "POST", f"/grants/{following}/version", json=body)
        assert refused.status_code == status, (body, refused.get_json())
        if code != "invalid_input":
            assert refused.get_json()["error"]["code"] == code, body
    moved = call(STEWARD, "POST", f"/grants/{following}/version",
                 json={"version": 2, "masking": {"备注": "redact"}})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["masking"]["备注"] == "redact"
    receipt, data = _deliver(call, app, following)
    assert receipt["dataset_version"] == 2 and receipt["row_count"] == 25
    assert "1381234" not in data.decode()  # the new personal column arrives redacted
    entry = call(AUDITOR, "GET", "/audit/entries?type=grant_move").get_json()["entries"]
    assert [(e["entry"]["grant_id"], e["entry"]["dataset_version"]) for e in entry] == [
        (following, 2)]


def test_deliveries_are_listed_for_both_sides_a_page_at_a_time(city):
    call, dataset_id, app = city
    grant = _grant(call, dataset_id, None)
    made = [_deliver(call, app, grant)[0]["exchange_id"] for _ in range(3)]
    seen, token = [], None
    while True:
        page = call(REQUESTER, "GET", "/exchanges?page_size=2" + (
            f"&page_token={token}" if token else "")).get_json()
        seen += [e["id"] for e in page["exchanges"]]
        assert page["total"] == 3
        token = page["next_page_token"]
        if not token:
            break
    assert sorted(seen) == sorted(made)  # each once (ties within a second: by id)
    given = call(STEWARD, "GET", "/exchanges").get_json()
    assert [e["id"] for e in given["exchanges"]] == seen
    times = [e["created_at"] for e in given["exchanges"]]
    assert times == sorted(times, reverse=True)  # newest first
    assert call(OTHER_STEWARD, "GET", "/exchanges").get_json()["total"] == 0
    one = given["exchanges"][0]
    assert set(one) >= {"grant_id", "dataset_version", "sha256", "audit_index", "data_url"}
    assert call(REQUESTER, "GET", "/exchanges?page_size=0").status_code == 400
