"""The audit log as the exchange uses it (the shared demo instance): a delivery hands over the
evidence that it was logged, and concurrent requests append to one tree that verifies whole."""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from jwcrypto import jws

from audit import NoteVerifier, ProofInvalid, verify_entry, verify_log
from exchange.events import Event


@dataclasses.dataclass(frozen=True, kw_only=True)
class Note(Event):
    """An entry of the tests' own kind, to grow the log."""

    TYPE = "note"
    actor: str
    seq: int
    outcome: str = "recorded"


DELIVERERS = 3
DELIVERIES_EACH = 2
APPENDERS = 5
APPENDS_EACH = 20


def _market_grant(as_role, datasets) -> str:
    asked = as_role("civil-requester").post("/api/v1/requests", json={
        "dataset_id": datasets["market_entities"]["id"], "purpose": "核验企业法人信息",
        "columns": ["企业名称", "法定代表人"]})
    assert asked.status_code == 201 and asked.get_json()["status"] == "granted"
    return asked.get_json()["grant_id"]


def _hashes(proof: dict) -> list[bytes]:
    return [base64.b64decode(h) for h in proof["hashes"]]


def test_a_delivery_returns_its_entry_inclusion_proof_and_checkpoint(as_role, datasets, client):
    grant = _market_grant(as_role, datasets)
    done = as_role("civil-requester").post(f"/api/v1/grants/{grant}/exchanges", json={})
    assert done.status_code == 201, done.get_json()
    body = done.get_json()
    entry, proof, index = body["audit_entry"], body["inclusion_proof"], body["audit_index"]
    token = jws.JWS()
    token.deserialize(body["receipt"])
    manifest = json.loads(token.objects["payload"])
    assert entry["exchange_id"] == manifest["exchange_id"] == body["id"]
    assert entry["sha256"] == manifest["sha256"] and manifest["audit_index"] == index

    key = client.get("/api/v1/audit/key").get_json()
    verifier = NoteVerifier.from_vkey(key["vkey"])
    signed = verify_entry(entry, index=index, proof=_hashes(proof), verifier=verifier,
                          checkpoint=body["checkpoint"], origin=key["origin"])
    assert signed.size == proof["size"] > index and proof["index"] == index
    with pytest.raises(ProofInvalid):
        verify_entry(entry | {"row_count": entry["row_count"] + 1}, index=index,
                     proof=_hashes(proof), verifier=verifier, checkpoint=body["checkpoint"])


def test_the_key_endpoint_lists_every_key(client):
    key = client.get("/api/v1/audit/key").get_json()
    assert key["keys"][0] == {"kid": key["keys"][0]["kid"], "status": "active",
                              "vkey": key["vkey"]}
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert [k["kid"] for k in key["keys"]] == [k["kid"] for k in jwks["keys"]]


def test_concurrent_deliveries_and_appends_never_fork_the_tree(app, as_role, datasets, users,
                                                               client):
    grant = _market_grant(as_role, datasets)
    svc = app.extensions["govex"]
    start = threading.Barrier(DELIVERERS + APPENDERS)
    headers = {"Authorization": f"Bearer {users['civil-requester']['token']}"}

    def deliver(_n: int) -> list[int]:
        mine = app.test_client()
        start.wait()
        answers = [mine.post(f"/api/v1/grants/{grant}/exchanges", json={}, headers=headers)
                   for _ in range(DELIVERIES_EACH)]
        assert all(a.status_code == 201 for a in answers), [a.get_json() for a in answers]
        return [a.get_json()["audit_index"] for a in answers]

    def append(n: int) -> list[int]:
        start.wait()
        return [svc.record(Note(actor=f"thread-{n}", seq=i)) for i in range(APPENDS_EACH)]

    with ThreadPoolExecutor(DELIVERERS + APPENDERS) as pool:
        delivered = [pool.submit(deliver, n) for n in range(DELIVERERS)]
        appended = [pool.submit(append, n) for n in range(APPENDERS)]
        indexes = [i for f in delivered + appended for i in f.result()]
    assert len(set(indexes)) == len(indexes) == DELIVERERS * DELIVERIES_EACH + \
        APPENDERS * APPENDS_EACH

    auditor = {"Authorization": f"Bearer {users['audit-auditor']['token']}"}
    note = client.get("/api/v1/audit/checkpoint", headers=auditor).get_data(as_text=True)
    entries, offset = [], 0
    while True:
        page = client.get(f"/api/v1/audit/entries?offset={offset}&limit=1000",
                          headers=auditor).get_json()["entries"]
        entries += page
        offset += len(page)
        if len(page) < 1000:
            break
    assert [e["index"] for e in entries] == list(range(len(entries)))
    vkey = client.get("/api/v1/audit/key").get_json()["vkey"]
    verified = verify_log([e["entry"] for e in entries], checkpoint=note,
                          verifier=NoteVerifier.from_vkey(vkey))
    assert verified.size == len(entries) > max(indexes)
    by_thread = [e["entry"]["seq"] for e in entries if e["entry"].get("actor") == "thread-0"]
    assert by_thread == list(range(APPENDS_EACH))  # each writer's entries in its own order
