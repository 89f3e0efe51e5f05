"""Two ``govex serve`` processes on one database, as the README describes for more load: every
decision made through one counts on the other before its next request.

Heavy (a demo instance and two servers), so it runs in the PostgreSQL pass of ``make test``,
the setup it describes; ``pytest --database postgresql tests/e2e/test_two_servers.py`` runs it
alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from .conftest import GOVEX, serving

pytestmark = pytest.mark.postgresql_pass

RESIDENT_COLUMNS = ["姓名", "身份证号", "出生日期"]
MASKING = {"姓名": "mask", "身份证号": "hash", "出生日期": "generalize"}


@pytest.fixture(scope="module")
def two(tmp_path_factory, database_url) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("two-servers")
    env = {**os.environ, "GOVEX_HOME": str(home), "GOVEX_DATABASE_URL": database_url(home)}
    subprocess.run([GOVEX, "demo", "--no-serve", "--rows", "60"], env=env, check=True,
                   capture_output=True, timeout=600)
    with contextlib.ExitStack() as stack:
        a, b = (stack.enter_context(serving(env, home / f"server-{name}.log"))[0]
                for name in ("a", "b"))
        users = {u["username"]: u for u in json.loads((home / "demo-users.json").read_text())}
        residents = next(d["id"] for d in requests.get(
            a + "/api/v1/datasets", headers=_auth(users, "health-requester")).json()["datasets"]
            if d["department"] == "civil")
        yield {"a": a, "b": b, "users": users, "env": env, "residents": residents}


def _auth(users: dict, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users[username]['token']}"}


def _grant(two: dict, on: str) -> str:
    """A request by health for civil's residents, approved by civil's steward, both on ``on``."""
    users = two["users"]
    asked = requests.post(two[on] + "/api/v1/requests", headers=_auth(users, "health-requester"),
                          json={"dataset_id": two["residents"], "purpose": "核对就诊人户籍信息",
                                "columns": RESIDENT_COLUMNS})
    assert asked.status_code == 201, asked.text
    approved = requests.post(two[on] + f"/api/v1/requests/{asked.json()['id']}/approve",
                             headers=_auth(users, "civil-steward"), json={"masking": MASKING})
    assert approved.status_code == 200, approved.text
    return approved.json()["grant_id"]


def _deliver(two: dict, on: str, grant: str) -> requests.Response:
    return requests.post(two[on] + f"/api/v1/grants/{grant}/exchanges", json={},
                         headers=_auth(two["users"], "health-requester"))


def _entries(two: dict, **filters: str) -> list[tuple[int, dict]]:
    found = requests.get(two["a"] + "/api/v1/audit/entries",
                         headers=_auth(two["users"], "audit-auditor"),
                         params={"limit": 1000, **filters}).json()
    return [(e["index"], e["entry"]) for e in found["entries"]]


def test_a_grant_approved_on_one_server_is_honoured_at_once_by_the_other(two):
    grants, delivered = [], []
    for _ in range(6):
        grants.append(_grant(two, "a"))
        delivered.append(_deliver(two, "b", grants[-1]))  # at once, on the other server

    assert [d.status_code for d in delivered] == [201] * 6, [d.text for d in delivered]
    denied = [e for _, e in _entries(two, type="authz_denied", actor="health-requester")
              if e.get("target") in grants]
    assert denied == [], "no false refusal in the log"


def test_no_delivery_is_recorded_after_its_grant_was_revoked_on_the_other_server(two):
    grant = _grant(two, "a")
    answers: list[requests.Response] = []
    stop = threading.Event()

    def keep_delivering() -> None:
        while not stop.is_set():
            answer = _deliver(two, "b", grant)
            answers.append(answer)
            if answer.status_code != 201:
                return

    workers = [threading.Thread(target=keep_delivering) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(0.6)
    revoked = requests.post(two["a"] + f"/api/v1/grants/{grant}/revoke",
                            headers=_auth(two["users"], "civil-steward"),
                            json={"reason": "核对结束"})
    stop.set()
    for worker in workers:
        worker.join(timeout=120)

    assert revoked.status_code == 200, revoked.text
    assert _deliver(two, "b", grant).status_code == 403  # and from now on
    logged = _entries(two, dataset_id=two["residents"])
    revoke_at = next(i for i, e in logged if e["type"] == "revoke" and e["grant_id"] == grant)
    exchanges = [(i, e) for i, e in logged if e["type"] == "exchange" and e["grant_id"] == grant]
    assert all(i < revoke_at for i, _ in exchanges), "an exchange recorded after its revocation"
    ok = [a.json() for a in answers if a.status_code == 201]
    assert ok, "some deliveries ran before the revocation"
    assert sorted(a["audit_index"] for a in ok) == sorted(i for i, _ in exchanges)
    assert {a.status_code for a in answers} <= {201, 403}


def test_refusals_on_both_servers_count_towards_one_throttle(two):
    headers = _auth(two["users"], "jinjiang-requester")
    refused = [requests.get(two[side] + "/api/v1/audit/entries", headers=headers).status_code
               for _ in range(15) for side in ("a", "b")]  # 30 refusals, half on each

    assert refused == [403] * 30
    for side in ("a", "b"):
        answer = requests.get(two[side] + "/api/v1/datasets", headers=headers)
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
    kinds = [e["type"] for _, e in _entries(two, actor="jinjiang-requester")]
    assert kinds.count("authz_denied") == 30 and kinds.count("authz_throttled") == 1


def test_a_user_disabled_and_a_key_rotated_by_the_cli_count_on_both_servers(two):
    env = two["env"]
    headers = _auth(two["users"], "police-requester")
    assert requests.get(two["b"] + "/api/v1/datasets", headers=headers).status_code == 200
    subprocess.run([GOVEX, "users", "disable", "police-requester"], env=env, check=True,
                   capture_output=True, timeout=120)
    for side in ("a", "b"):
        assert requests.get(two[side] + "/api/v1/datasets", headers=headers).status_code == 401

    rotated = subprocess.run([GOVEX, "keys", "rotate"], env=env, check=True,
                             capture_output=True, text=True, timeout=120)
    jwks = requests.get(two["a"] + "/.well-known/jwks.json").json()["keys"]
    new_kid = jwks[0]["kid"]
    assert new_kid in rotated.stdout
    grant = _grant(two, "a")
    for side in ("a", "b"):
        receipt = _deliver(two, side, grant).json()["receipt"]
        header = json.loads(_b64url(receipt.split(".")[0]))
        assert header["kid"] == new_kid, f"server {side} signed with the retired key"


def _b64url(text: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_two_servers_and_a_worker_send_each_notice_once(two):
    """DESIGN (background work): requests made on both servers, a `govex worker` loop and a
    `govex worker --once` racing it — each webhook leaves once, signed (verified by the
    Standard Webhooks library), and every outbox row ends done."""
    import http.server

    from standardwebhooks import Webhook

    calls: list[tuple[dict, bytes]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            calls.append(({k.lower(): v for k, v in self.headers.items()},
                          self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    env = two["env"]
    try:
        added = subprocess.run(
            [GOVEX, "webhooks", "add", "civil",
             f"http://127.0.0.1:{receiver.server_port}/govex"],
            env=env, check=True, capture_output=True, text=True, timeout=120)
        secret = added.stdout.split("secret: ")[1].strip()
        users, made = two["users"], []
        for side in ("a", "b", "a", "b"):
            asked = requests.post(two[side] + "/api/v1/requests",
                                  headers=_auth(users, "health-requester"),
                                  json={"dataset_id": two["residents"], "purpose": "核对",
                                        "columns": ["出生日期"]})
            assert asked.status_code == 201, asked.text
            made.append(asked.json()["id"])
        loop = subprocess.Popen([GOVEX, "worker", "--interval", "0.2"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            once = subprocess.run([GOVEX, "worker", "--once"], env=env, check=True,
                                  capture_output=True, text=True, timeout=120)
            deadline = time.monotonic() + 60
            while len(calls) < 4 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.5)  # a duplicate would arrive meanwhile
        finally:
            loop.terminate()
            loop.wait(timeout=30)
        ids = [h["webhook-id"] for h, _ in calls]
        assert len(ids) == 4 and len(set(ids)) == 4, (ids, once.stdout)
        found = sorted(Webhook(secret).verify(body, headers)["data"]["request_id"]
                       for headers, body in calls)
        assert found == sorted(made)
        state = subprocess.run([GOVEX, "outbox"], env=env, check=True, capture_output=True,
                               text=True, timeout=120).stdout
        assert "webhook: done 4" in state, state
    finally:
        receiver.shutdown()
        receiver.server_close()
