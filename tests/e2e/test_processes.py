"""``govex serve --processes N``: server processes sharing one port, each with its own writer
of the audit log (issue 18: calls at rate use every core). Lookups made at once through both
are each answered with their own durable entry and the log still verifies; SIGTERM stops them
all; a server process that dies takes the others down with it (the service manager restarts
the whole), never leaving half a server answering."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from exchange.auth import Principal
from exchange.config import load_settings
from exchange.services import Services
from exchange.usecases import access, publishing, worker
from exchange.usecases.admin import create_user, ensure_department, init_instance
from masking import resident_id_check_char

from .conftest import GOVEX, serving

STEWARD = Principal("civil-steward", "", "civil", "steward")
WINDOW = Principal("window-requester", "", "window", "requester")
AUDITOR = Principal("city-auditor", "", "audit", "auditor")


@pytest.fixture
def instance(tmp_path, database_url):
    """A register of 30 residents under a query grant whose index is built: the env to
    serve it, the requester's and auditor's tokens, the grant and the residents' IDs."""
    url = database_url(tmp_path)
    settings = load_settings({"home": tmp_path, "database_url": url}, environ={})
    init_instance(settings)
    svc = Services(settings)
    tokens = {}
    for who in (STEWARD, WINDOW, AUDITOR):
        ensure_department(svc, who.department, who.department, who.department)
        tokens[who.username] = create_user(svc, username=who.username, password="pw-" * 5,
                                           role=who.role, department=who.department)
    ids = [f"51010419800101{n:03d}" for n in range(30)]
    ids = [base + resident_id_check_char(base) for base in ids]
    data = "身份证号,姓名\n" + "".join(f"{i},李{n}\n" for n, i in enumerate(ids))
    made = publishing.publish(svc, STEWARD, filename="r.csv", data=data.encode(), metadata={
        "title": "户籍人口登记", "sharing": "conditional", "level": "L3"})
    asked = access.create_request(svc, WINDOW, dataset_id=made["id"], purpose="窗口核验户籍",
                                  columns=["姓名"], mode="query", key_columns=["身份证号"])
    grant = access.approve(svc, STEWARD, asked["id"], masking={"姓名": "mask"})["grant_id"]
    assert worker.run_once(svc).get("timer.done") == 1
    svc.engine.dispose()
    env = {**os.environ, "GOVEX_HOME": str(tmp_path), "GOVEX_DATABASE_URL": url}
    return {"env": env, "tokens": tokens, "grant": grant, "ids": ids, "home": Path(tmp_path)}


def _children(pid: int) -> list[int]:
    listed = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in listed.read_text().split()]


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_two_server_processes_answer_calls_at_once_and_stop_together(instance):
    token = instance["tokens"]["window-requester"]
    with serving(instance["env"], instance["home"] / "server.log", "--processes", "2") as (
            base, _port, parent):
        servers = _children(parent.pid)
        assert len(servers) == 2

        def look(key: str) -> requests.Response:  # a new connection each: both processes
            return requests.post(f"{base}/api/v1/grants/{instance['grant']}/lookup",
                                 json={"key": {"身份证号": key}}, timeout=60,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Connection": "close"})
        # not one after another: a scan of consecutive IDs would suspend the grant
        keys = instance["ids"][::3] * 4
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(look, keys))
        assert [a.status_code for a in answers] == [200] * len(keys)
        assert all(a.json()["rows"][0]["姓名"].startswith("李") for a in answers)
        indexes = [a.json()["audit_index"] for a in answers]
        assert len(set(indexes)) == len(keys)  # each call its own entry, none lost
        audited = subprocess.run(
            [GOVEX, "audit", "verify"], capture_output=True, text=True, timeout=300,
            env={**instance["env"], "GOVEX_URL": base,
                 "GOVEX_TOKEN": instance["tokens"]["city-auditor"]})
        assert audited.returncode == 0 and audited.stdout.startswith("OK"), audited.stderr
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 0
        assert all(_gone(pid) for pid in servers)


def test_a_server_process_that_dies_stops_the_others(instance):
    with serving(instance["env"], instance["home"] / "server.log", "--processes", "2") as (
            _base, _port, parent):
        first, second = _children(parent.pid)
        os.kill(first, signal.SIGKILL)
        assert parent.wait(timeout=60) == 1
        deadline = time.monotonic() + 10
        while not _gone(second) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(second)
    log = (instance["home"] / "server.log").read_text()
    assert f"server process {first} exited" in log
