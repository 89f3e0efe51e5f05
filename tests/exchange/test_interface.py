"""Interface sharing (issue 18, 接口共享): query grants, lookups and verifications under them,
each its own audit entry holding the key's keyed pseudonym (never the key) and its own signed
receipt; keys normalized; masking, row scope, daily limits, another department's grant and a
revoked grant refused."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from jwcrypto import jwk, jws

from exchange.auth import Principal
from exchange.config import load_settings
from exchange.usecases import worker

from .conftest import api_caller, new_instance

STEWARD = Principal("civil-steward", "", "civil", "steward")
TAX = Principal("tax-requester", "", "tax", "requester")
HEALTH = Principal("health-requester", "", "health", "requester")
AUDITOR = Principal("city-auditor", "", "audit", "auditor")

ZHANG = "11010519491231002X"
LI = "510104198001011236"
WANG = "510107199002022344"
REGISTER = ("身份证号,姓名,户籍地址,所属区划\n"
            f"{ZHANG},张伟,北京市东城区景山前街4号,110101\n"
            f"{LI},李娜,成都市锦江区红星路二段1号,510104\n"
            f"{WANG},王芳,成都市武侯区人民南路四段9号,510107\n")


@pytest.fixture
def city(tmp_path, settings_for):
    config = settings_for(tmp_path)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, TAX, HEALTH, AUDITOR)
    call = api_caller(config, tokens)
    made = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO(REGISTER.encode()), "r.csv"),
        "metadata": json.dumps({"title": "户籍人口登记", "sharing": "conditional",
                                "level": "L3"})})
    assert made.status_code == 201, made.get_json()
    return svc, call, made.get_json()["id"]


def _query_grant(call, dataset, *, limit=None, rows=None, columns=("姓名", "户籍地址")):
    asked = call(TAX, "POST", "/requests", json={
        "dataset_id": dataset, "purpose": "办理业务时核验户籍", "columns": list(columns),
        "mode": "query", "key_columns": ["身份证号"]})
    assert asked.status_code == 201, asked.get_json()
    assert asked.get_json()["mode"] == "query"
    body = {"masking": {"姓名": "mask"}} | ({"daily_limit": limit} if limit else {}) | (
        {"rows": rows} if rows else {})
    approved = call(STEWARD, "POST", f"/requests/{asked.get_json()['id']}/approve", json=body)
    assert approved.status_code == 200, approved.get_json()
    return approved.get_json()["grant"]


def _verify_receipt(call, receipt: str) -> dict:
    keys = call.app.test_client().get("/.well-known/jwks.json").get_json()
    token = jws.JWS()
    token.deserialize(receipt)
    token.verify(jwk.JWKSet.from_json(json.dumps(keys)).get_key(token.jose_header["kid"]))
    return json.loads(token.payload)


def test_a_lookup_returns_the_masked_record_with_its_own_entry_and_receipt(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    assert grant["mode"] == "query" and grant["key_columns"] == ["身份证号"]
    assert grant["daily_limit"] == 1000
    early = call(TAX, "POST", f"/grants/{grant['id']}/lookup", json={"key": {"身份证号": LI}})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "index_not_ready"
    assert worker.run_once(svc).get("timer.done") == 1  # the index, built by the worker
    for typed in (LI, " 5101 0419 8001 0112 36 ", "５１０１０４１９８００１０１１２３６"):
        found = call(TAX, "POST", f"/grants/{grant['id']}/lookup",
                     json={"key": {"身份证号": typed}})
        assert found.status_code == 200, found.get_json()
        answer = found.get_json()
        # L3: the address is personal data, masked by default as the name is by choice
        assert answer["rows"] == [{"姓名": "李*", "户籍地址": "成都市锦江区*******"}]
    lower = call(TAX, "POST", f"/grants/{grant['id']}/lookup",
                 json={"key": {"身份证号": ZHANG.lower()}})
    assert lower.get_json()["rows"][0]["姓名"] == "张*"  # the check character's case
    manifest = _verify_receipt(call, answer["receipt"])
    assert manifest["audit_index"] == answer["audit_index"] and manifest["outcome"] == "found"
    assert manifest["key"] == answer["key"] and LI not in json.dumps(manifest)
    entries = call(AUDITOR, "GET", "/audit/entries?type=lookup").get_json()["entries"]
    assert len(entries) == 4
    entry = entries[-2]["entry"]
    assert entry["grant_id"] == grant["id"] and entry["actor"] == TAX.username
    assert entry["columns"] == {"姓名": "mask", "户籍地址": "mask"}
    assert entry["key"] == answer["key"] and entry["key_column"] == "身份证号"
    logged = json.dumps([e["entry"] for e in entries], ensure_ascii=False)
    assert LI not in logged and ZHANG not in logged and "李娜" not in logged
    # the same person gives the same pseudonym whatever the spelling, another one another
    assert len({e["entry"]["key"] for e in entries}) == 2


def test_lookups_made_at_once_each_get_their_own_masked_record(city):
    """Concurrent lookups' rows are masked together (one pass per batch): each caller still
    gets exactly its own person's record, masked as one lookup alone would be."""
    from exchange.usecases import interface
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    served = call.app.extensions["govex"]  # the server's services: its masking lane
    expected = {ZHANG: [{"姓名": "张*", "户籍地址": "北京市东城区******"}],
                LI: [{"姓名": "李*", "户籍地址": "成都市锦江区*******"}],
                WANG: [{"姓名": "王*", "户籍地址": "成都市武侯区********"}],
                "440304198511117770": []}
    keys = list(expected) * 6
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda k: interface.lookup(
            served, TAX, grant["id"], key={"身份证号": k})["rows"], keys))
    assert answers == [expected[k] for k in keys]


def test_a_miss_is_answered_and_counted_and_the_daily_limit_holds(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset, limit=3)
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/lookup"
    nobody = call(TAX, "POST", path, json={"key": {"身份证号": "440304198511117770"}})
    assert nobody.status_code == 200 and nobody.get_json()["rows"] == []
    assert call(TAX, "POST", path, json={"key": {"身份证号": LI}}).status_code == 200
    assert call(TAX, "POST", f"/grants/{grant['id']}/verify",
                json={"claims": {"身份证号": WANG, "姓名": "王芳"}}).status_code == 200
    spent = call(TAX, "POST", path, json={"key": {"身份证号": LI}})
    assert spent.status_code == 429 and spent.get_json()["error"]["code"] == "daily_limit_reached"
    assert int(spent.headers["Retry-After"]) >= 1
    outcomes = [e["entry"]["outcome"] for e in call(
        AUDITOR, "GET", "/audit/entries?type=lookup").get_json()["entries"]]
    assert outcomes == ["not_found", "found", "match"]  # the refused call left no entry
    # spent, then suspended: the caller hears of the suspension, not of tomorrow
    assert call(STEWARD, "POST", f"/grants/{grant['id']}/suspend").status_code == 200
    after = call(TAX, "POST", path, json={"key": {"身份证号": LI}})
    assert after.status_code == 403 and after.get_json()["error"]["code"] == "grant_inactive"


def test_an_index_built_again_answers_not_ready_instead_of_false_misses(city):
    from exchange import lookups
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/lookup"
    assert call(TAX, "POST", path, json={"key": {"身份证号": LI}}).get_json()["rows"]
    with svc.engine.begin() as conn:  # a worker runs the build again (its lease ran out)
        lookups.clear(conn, dataset, 1, ["身份证号"], rows=False)
    again = call(TAX, "POST", path, json={"key": {"身份证号": LI}})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "index_not_ready"
    entries = call(AUDITOR, "GET", "/audit/entries?type=lookup").get_json()["entries"]
    assert [e["entry"]["outcome"] for e in entries] == ["found"]  # no miss was counted


def test_calls_under_several_grants_through_two_servers_never_deadlock(city, settings_for,
                                                                      tmp_path):
    """Two processes' writers (two services here), each batching calls under two grants,
    while a steward revokes one: every writer takes the log's head before any grant's row,
    so none waits for another in the opposite order (PostgreSQL aborts one that does)."""
    from exchange.services import Services
    from exchange.usecases import interface
    svc, call, dataset = city
    first, second = _query_grant(call, dataset), _query_grant(call, dataset)
    worker.run_once(svc)
    servers = [call.app.extensions["govex"], Services(svc.settings)]
    keys = [ZHANG, LI, WANG, "440304198511117770"]

    def look(n: int) -> str:
        server, grant = servers[n % 2], (first, second)[(n // 2) % 2]
        try:
            interface.lookup(server, TAX, grant["id"], key={"身份证号": keys[n % 4]})
        except Exception as exc:  # noqa: BLE001 (the outcome is what is compared)
            return type(exc).__name__
        return "ok"
    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(look, range(160)))
        revoked = call(STEWARD, "POST", f"/grants/{second['id']}/revoke",
                       json={"reason": "业务结束"})
        outcomes += list(pool.map(look, range(160, 200)))
    assert revoked.status_code == 200
    assert set(outcomes) <= {"ok", "Forbidden", "GrantInactive"}, outcomes
    assert outcomes[:160] == ["ok"] * 160


def test_a_verification_answers_only_match(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/verify"
    yes = call(TAX, "POST", path, json={"claims": {"身份证号": WANG, "姓名": "王芳"}})
    assert yes.status_code == 200 and yes.get_json()["match"] is True
    assert set(yes.get_json()) == {"match", "audit_index", "receipt", "key"}
    no = call(TAX, "POST", path, json={"claims": {"身份证号": WANG, "姓名": "王五"}})
    assert no.get_json()["match"] is False
    address = call(TAX, "POST", path, json={"claims": {"身份证号": LI,
                                                       "户籍地址": "成都市锦江区红星路二段1号"}})
    assert address.get_json()["match"] is True
    for claims in ({"姓名": "王芳"}, {"身份证号": WANG, "所属区划": "510107"}, {}):
        bad = call(TAX, "POST", path, json={"claims": claims})
        assert bad.status_code == 400, claims
    entry = call(AUDITOR, "GET", "/audit/entries?type=lookup").get_json()["entries"][0]["entry"]
    assert entry["call"] == "verify" and entry["claims"] == ["姓名", "身份证号"]
    assert "columns" not in entry and "王芳" not in json.dumps(entry, ensure_ascii=False)


def test_a_row_scope_holds_for_lookups(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset, rows={"所属区划": ["510104"]})
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/lookup"
    assert call(TAX, "POST", path, json={"key": {"身份证号": LI}}).get_json()["rows"]
    assert call(TAX, "POST", path, json={"key": {"身份证号": WANG}}).get_json()["rows"] == []


def test_another_department_and_a_revoked_grant_are_refused_at_once(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/lookup"
    other = call(HEALTH, "POST", path, json={"key": {"身份证号": LI}})
    assert other.status_code == 403
    # the server keeps what it read of the grant between calls: a revocation counts at once
    assert call(TAX, "POST", path, json={"key": {"身份证号": LI}}).status_code == 200
    assert call(STEWARD, "POST", f"/grants/{grant['id']}/revoke",
                json={"reason": "业务结束"}).status_code == 200
    revoked = call(TAX, "POST", path, json={"key": {"身份证号": LI}})
    assert revoked.status_code == 403
    verify = call(TAX, "POST", f"/grants/{grant['id']}/verify",
                  json={"claims": {"身份证号": LI, "姓名": "李娜"}})
    assert verify.status_code == 403


@pytest.mark.parametrize(("body", "code"), [
    ({"key": {"姓名": "李娜"}}, "key_invalid"),
    ({"key": {"身份证号": ""}}, "key_value_invalid"),
    ({"key": {"身份证号": LI, "姓名": "李娜"}}, "invalid_input"),
    ({"key": "510104198001011236"}, "invalid_input"),
])
def test_a_malformed_key_is_refused(city, body, code):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    answer = call(TAX, "POST", f"/grants/{grant['id']}/lookup", json=body)
    assert answer.status_code == 400, answer.get_json()
    if code != "invalid_input":
        assert answer.get_json()["error"]["code"] == code


def test_a_file_grant_takes_no_lookup_and_a_query_request_names_its_keys(city):
    svc, call, dataset = city
    asked = call(TAX, "POST", "/requests", json={
        "dataset_id": dataset, "purpose": "核对", "columns": ["姓名"]})
    granted = call(STEWARD, "POST", f"/requests/{asked.get_json()['id']}/approve", json={})
    grant = granted.get_json()["grant"]
    assert grant["mode"] == "file" and grant["daily_limit"] is None
    refused = call(TAX, "POST", f"/grants/{grant['id']}/lookup",
                   json={"key": {"身份证号": LI}})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "not_a_query_grant"
    for body, code in (({"mode": "query"}, "key_columns_required"),
                       ({"mode": "query", "key_columns": ["护照号"]}, "columns_unknown"),
                       ({"key_columns": ["身份证号"]}, "key_columns_without_query"),
                       ({"mode": "stream"}, None)):
        answer = call(TAX, "POST", "/requests", json={
            "dataset_id": dataset, "purpose": "核对", "columns": ["姓名"]} | body)
        assert answer.status_code in (400, 422), body
        if code:
            assert answer.get_json()["error"]["code"] == code
    file_limit = call(STEWARD, "POST", f"/requests/{asked.get_json()['id']}/approve",
                      json={"daily_limit": 5})
    assert file_limit.status_code == 409  # decided already


def _ids_after(base: str, n: int) -> list[str]:
    from masking import resident_id_check_char
    return [f"{int(base) + i:017d}" + resident_id_check_char(f"{int(base) + i:017d}")
            for i in range(n)]


def test_a_scan_of_consecutive_keys_suspends_the_grant_and_tells_everyone(city):
    from exchange.usecases import interface, process
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/lookup"
    scan = _ids_after("51010419800101000", interface.SCAN_RUN + 2)
    answers = [call(TAX, "POST", path, json={"key": {"身份证号": k}}).status_code
               for k in scan]
    # the tenth consecutive key still gets its answer; the grant is suspended with it
    assert answers[:interface.SCAN_RUN] == [200] * interface.SCAN_RUN
    assert answers[interface.SCAN_RUN:] == [403, 403]
    alerts = [e["entry"] for e in call(AUDITOR, "GET", "/audit/entries?type=query_alert")
              .get_json()["entries"]]
    assert [(a["reason"], a["suspended"], a["grant_id"]) for a in alerts] == [
        ("key_scan", True, grant["id"])]
    for who in (STEWARD, TAX):
        told = [n["type"] for n in process.list_notifications(svc, who)["notifications"]]
        assert "grant.alert" in told, who
    listed = {g["id"]: g for g in call(STEWARD, "GET", "/grants").get_json()["grants"]}
    assert listed[grant["id"]]["status"] == "suspended"
    assert listed[grant["id"]]["suspended_reason"] == "key_scan"
    # the steward resumes it once the department explained; another steward may not
    assert call(TAX, "POST", f"/grants/{grant['id']}/resume").status_code == 403
    resumed = call(STEWARD, "POST", f"/grants/{grant['id']}/resume")
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "active"
    assert call(TAX, "POST", path, json={"key": {"身份证号": LI}}).status_code == 200
    again = call(STEWARD, "POST", f"/grants/{grant['id']}/resume")
    assert again.status_code == 409


def test_keys_that_are_not_consecutive_raise_nothing(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/lookup"
    scattered = _ids_after("51010419800101000", 30)[::2]  # every other one
    assert all(call(TAX, "POST", path, json={"key": {"身份证号": k}}).status_code == 200
               for k in scattered)
    assert call(AUDITOR, "GET", "/audit/entries?type=query_alert").get_json()["entries"] == []


def test_a_day_of_misses_raises_one_alert_without_suspending(city):
    from exchange.usecases import interface
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    path = f"/grants/{grant['id']}/lookup"
    misses = _ids_after("44030419851111000", 2 * interface.MISS_ALERT_AT + 4)[::2]
    for key in misses:
        assert call(TAX, "POST", path, json={"key": {"身份证号": key}}).status_code == 200
    alerts = [e["entry"] for e in call(AUDITOR, "GET", "/audit/entries?type=query_alert")
              .get_json()["entries"]]
    assert [(a["reason"], a["suspended"], a["misses"]) for a in alerts] == [
        ("miss_burst", False, interface.MISS_ALERT_AT)]
    assert call(TAX, "POST", path, json={"key": {"身份证号": LI}}).status_code == 200


def test_a_steward_suspends_a_query_grant_by_hand(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    claims = {"claims": {"身份证号": LI, "姓名": "李娜"}}
    assert call(TAX, "POST", f"/grants/{grant['id']}/verify", json=claims).status_code == 200
    assert call(TAX, "POST", f"/grants/{grant['id']}/suspend").status_code == 403
    done = call(STEWARD, "POST", f"/grants/{grant['id']}/suspend")
    assert done.status_code == 200 and done.get_json()["suspended_reason"] == "steward"
    refused = call(TAX, "POST", f"/grants/{grant['id']}/verify", json=claims)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "grant_inactive"
    # the next call reads the grant afresh and is refused before anything is looked up
    assert call(TAX, "POST", f"/grants/{grant['id']}/verify", json=claims).status_code == 403
    assert call(STEWARD, "POST", f"/grants/{grant['id']}/suspend").status_code == 409


def test_who_received_data_about_a_person(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    for key in (LI, LI.replace("0", "０")):
        call(TAX, "POST", f"/grants/{grant['id']}/lookup", json={"key": {"身份证号": key}})
    call(TAX, "POST", f"/grants/{grant['id']}/verify",
         json={"claims": {"身份证号": WANG, "姓名": "王芳"}})
    # a file delivery to health, scoped to 锦江区 (510104): 李娜's row is in it, 王芳's is not
    asked = call(HEALTH, "POST", "/requests", json={
        "dataset_id": dataset, "purpose": "核对就诊人户籍", "columns": ["姓名", "户籍地址"]})
    approved = call(STEWARD, "POST", f"/requests/{asked.get_json()['id']}/approve",
                    json={"rows": {"所属区划": ["510104"]}})
    file_grant = approved.get_json()["grant_id"]
    delivered = call(HEALTH, "POST", f"/grants/{file_grant}/exchanges", json={"format": "csv"})
    assert delivered.status_code == 201
    worker.run_once(svc)  # the subject index of the delivered version

    li = call(AUDITOR, "GET", f"/audit/subjects?value={LI}").get_json()
    assert [(c["call"], c["receiver"], c["outcome"]) for c in li["calls"]] == [
        ("lookup", "tax", "found"), ("lookup", "tax", "found")]
    assert [(d["receiver"], d["exchange_id"]) for d in li["deliveries"]] == [
        ("health", delivered.get_json()["id"])]
    assert li["deliveries"][0]["columns"] == {"姓名": "mask", "户籍地址": "mask"}
    wang = call(AUDITOR, "POST", "/audit/subjects", json={"value": WANG}).get_json()
    assert [c["call"] for c in wang["calls"]] == ["verify"] and wang["deliveries"] == []
    nobody = call(AUDITOR, "GET", "/audit/subjects?value=440304198511117770").get_json()
    assert nobody["calls"] == [] and nobody["deliveries"] == []
    assert li["key"] != wang["key"] and li["indexes_building"] == 0
    searches = [e["entry"] for e in call(AUDITOR, "GET", "/audit/entries?type=subject_search")
                .get_json()["entries"]]
    assert [(s["calls"], s["deliveries"]) for s in searches] == [(2, 1), (1, 0), (0, 0)]
    assert LI not in json.dumps(searches) and WANG not in json.dumps(searches)
    # the provider's steward sees its own datasets'; a requester may not ask
    assert len(call(STEWARD, "GET", f"/audit/subjects?value={LI}").get_json()["calls"]) == 2
    assert call(TAX, "GET", f"/audit/subjects?value={LI}").status_code == 403
    assert call(AUDITOR, "GET", "/audit/subjects?value=").status_code == 400


def test_a_new_version_a_query_grant_follows_is_indexed_for_it(city):
    from exchange.usecases import publishing
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    claims = {"claims": {"身份证号": LI, "户籍地址": "成都市锦江区红星路二段1号"}}
    before = call(TAX, "POST", f"/grants/{grant['id']}/verify", json=claims)
    assert before.get_json()["match"] is True  # version 1, as the server now keeps it
    moved = REGISTER.replace("红星路二段1号", "红星路二段3号")
    # published through another process's services: the server sees it on its next call
    publishing.add_version(svc, STEWARD, dataset, filename="r.csv", data=moved.encode())
    early = call(TAX, "POST", f"/grants/{grant['id']}/verify",
                 json={"claims": {"身份证号": LI, "户籍地址": "成都市锦江区红星路二段3号"}})
    assert early.status_code == 409  # version 2 is read now; its index is being built
    assert worker.run_once(svc).get("timer.done") == 1
    now = call(TAX, "POST", f"/grants/{grant['id']}/verify",
               json={"claims": {"身份证号": LI, "户籍地址": "成都市锦江区红星路二段3号"}})
    assert now.get_json()["match"] is True
    assert call(TAX, "POST", f"/grants/{grant['id']}/verify",
                json=claims).get_json()["match"] is False
    entries = call(AUDITOR, "GET", "/audit/entries?type=lookup").get_json()["entries"]
    assert [e["entry"]["dataset_version"] for e in entries] == [1, 2, 2]


def test_a_query_grant_delivers_no_table(city):
    """Minimum necessity: a query grant answers lookups, never the whole register — not as a
    file through the delivery API either."""
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    pulled = call(TAX, "POST", f"/grants/{grant['id']}/exchanges", json={"format": "csv"})
    assert pulled.status_code == 400, pulled.get_json()
    assert pulled.get_json()["error"]["code"] == "query_grant_no_file"
    assert call(AUDITOR, "GET", "/audit/entries?type=deliver").get_json()["entries"] == []


def _window(call, who=TAX, lang="en"):
    from .conftest import Browser
    b = Browser(call.app.test_client(), lang)
    assert b.sign_in(who.username, "pw-" * 5).status_code == 303
    return b


def test_a_service_window_looks_up_and_checks_through_the_pages(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    window = _window(call)
    listed = window.get("/my/grants").get_data(as_text=True)
    assert "Looked up by" in listed and "身份证号" in listed
    assert f"/my/grants/{grant['id']}/lookup" in listed and "Download masked data" not in listed
    page = f"/my/grants/{grant['id']}/lookup"
    shown = window.get(page)
    assert shown.status_code == 200 and "0 of 1,000" in shown.get_data(as_text=True)
    found = window.submit(page, page, {"column": "身份证号", "value": LI.lower()})
    body = found.get_data(as_text=True)
    assert found.status_code == 200 and "Record found" in body
    assert "李*" in body and "成都市锦江区*******" in body and "李娜" not in body
    assert LI not in body and LI.lower() not in body  # the key is not shown back
    missing = window.submit(page, page, {"column": "身份证号", "value": "440304198511117770"})
    assert "No record has this key" in missing.get_data(as_text=True)
    checked = window.submit(page, f"/my/grants/{grant['id']}/check",
                            {"column": "身份证号", "value": LI, "claim:姓名": "李娜",
                             "claim:户籍地址": ""})
    assert "Match: the record holds every value checked" in checked.get_data(as_text=True)
    wrong = window.submit(page, f"/my/grants/{grant['id']}/check",
                          {"column": "身份证号", "value": LI, "claim:姓名": "王芳"})
    assert "No match" in wrong.get_data(as_text=True)
    assert "4 of 1,000" in window.get(page).get_data(as_text=True)
    entries = call(AUDITOR, "GET", "/audit/entries?type=lookup").get_json()["entries"]
    assert [e["entry"]["call"] for e in entries] == ["lookup", "lookup", "verify", "verify"]
    zh = _window(call, lang="zh").get(page).get_data(as_text=True)
    assert "今日调用" in zh


def test_the_lookup_page_shows_mistakes_beside_their_field_and_refuses_others(city):
    svc, call, dataset = city
    grant = _query_grant(call, dataset)
    worker.run_once(svc)
    window = _window(call)
    page = f"/my/grants/{grant['id']}/lookup"
    empty = window.submit(page, page, {"column": "身份证号", "value": "  "})
    body = empty.get_data(as_text=True)
    assert empty.status_code == 422 and 'href="#key"' in body and 'id="key-error"' in body
    other = _window(call, HEALTH)
    assert other.get(page).status_code == 404
    refused = other.client.post(page, data={"column": "身份证号", "value": LI})
    assert refused.status_code in (400, 403)  # no CSRF token of a page it could open
    assert call(STEWARD, "POST", f"/grants/{grant['id']}/suspend").status_code == 200
    suspended = window.get(page).get_data(as_text=True)
    assert "Suspended" in suspended and "Look up</button>" not in suspended
    entries = call(AUDITOR, "GET", "/audit/entries?type=lookup").get_json()["entries"]
    assert entries == []  # a refused form records no call


def test_a_query_request_is_asked_reviewed_and_approved_through_the_pages(city):
    svc, call, dataset = city
    window = _window(call)
    form = f"/request/{dataset}"
    missing = window.submit(form, form, [("purpose", "办理业务时核验户籍"), ("columns", "姓名"),
                                         ("mode", "query")])
    assert missing.status_code == 422 and 'href="#key_columns"' in missing.get_data(
        as_text=True)
    asked = window.submit(form, form, [("purpose", "办理业务时核验户籍"), ("columns", "姓名"),
                                       ("mode", "query"), ("key_columns", "身份证号")])
    assert asked.status_code == 303
    request_id = asked.headers["Location"].split("made=")[1]
    steward = _window(call, STEWARD)
    review = f"/steward/requests/{request_id}"
    shown = steward.get(review).get_data(as_text=True)
    assert "Lookups by 身份证号, one record at a time" in shown and "Calls a day at most" in shown
    too_many = steward.submit(review, review, {"action": "approve", "expires_in_days": "30",
                                               "follows": "latest", "daily_limit": "0",
                                               "op:姓名": "mask"})
    assert too_many.status_code == 422 and 'id="daily_limit-error"' in too_many.get_data(
        as_text=True)
    approved = steward.submit(review, review, {"action": "approve", "expires_in_days": "30",
                                               "follows": "latest", "daily_limit": "50",
                                               "op:姓名": "mask"})
    assert approved.status_code == 303
    grant = call(TAX, "GET", "/grants").get_json()["grants"][0]
    assert (grant["mode"], grant["key_columns"], grant["daily_limit"]) == (
        "query", ["身份证号"], 50)
    worker.run_once(svc)
    page = f"/my/grants/{grant['id']}/lookup"
    found = window.submit(page, page, {"column": "身份证号", "value": WANG})
    assert "王*" in found.get_data(as_text=True) and "1 of 50" in found.get_data(as_text=True)
