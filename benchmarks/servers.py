"""Two ``govex serve`` processes on one PostgreSQL database under one load, against one server.

    .venv/bin/python benchmarks/servers.py [--seconds 20] [--clients 8]
                                          [--database-url postgresql+psycopg://...]

A demo instance (``govex demo --rows 300``) on a throwaway PostgreSQL cluster (fsync on;
``--database-url`` uses a running server instead), then the same load in four runs, each with
its own servers:

- one server on SQLite (the embedded default; a demo instance of its own): the baseline;
- one server on PostgreSQL;
- two servers on PostgreSQL, the clients spread over both;
- two servers on PostgreSQL, one killed with SIGKILL halfway: its clients go to the other.

Each client repeats: read the catalog, list its grants, take a delivery (residents, 300 rows,
three masked columns) under one of 20 grants. Printed per run: requests/s and p50/p99 per kind,
failures (a refused connection to the killed server, retried on the other, is counted apart).
Afterwards every delivery answered 201 must have its ``exchange`` entry in the log (same index,
same exchange id), and ``govex audit verify`` must pass. Not a test: figures to read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOVEX = str(Path(sys.executable).with_name("govex"))
COLUMNS = ["姓名", "身份证号", "出生日期"]
MASKING = {"姓名": "mask", "身份证号": "hash", "出生日期": "generalize"}
GRANTS = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", help="a PostgreSQL admin URL (default: throwaway)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govex-bench-") as tmp, _postgres(
            args.database_url) as admin_url:
        runs = [("1 server, SQLite", "sqlite", 1, False), ("1 server, PostgreSQL", "pg", 1, False),
                ("2 servers, PostgreSQL", "pg", 2, False),
                ("2 servers, PostgreSQL, 1 killed", "pg", 2, True)]
        instances = {"sqlite": _instance(Path(tmp) / "sqlite", None),
                     "pg": _instance(Path(tmp) / "pg", _new_database(admin_url))}
        print(f"load: {args.clients} clients x {args.seconds:.0f} s per run; each repeats "
              f"catalog, grants, delivery (300 rows); {os.cpu_count()} cores")
        print(f"{'run':<34}{'req/s':>8}{'deliv/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'deliv p50':>11}{'deliv p99':>11}{'failed':>8}{'failover':>10}")
        for label, db, servers, kill in runs:
            result = _run(instances[db], servers=servers, kill=kill, seconds=args.seconds,
                          clients=args.clients)
            _print(label, result, args.seconds)
        for db, instance in instances.items():
            print(f"{db}: {_check_log(instance)}")


# -- the instance and its servers ----------------------------------------------------------


def _instance(home: Path, database_url: str | None) -> dict[str, Any]:
    home.mkdir(parents=True)
    env = {**os.environ, "GOVEX_HOME": str(home)}
    if database_url:
        env["GOVEX_DATABASE_URL"] = database_url
    subprocess.run([GOVEX, "demo", "--no-serve", "--rows", "300"], env=env, check=True,
                   capture_output=True, timeout=900)
    users = {u["username"]: u for u in json.loads((home / "demo-users.json").read_text())}
    instance = {"home": home, "env": env, "users": users, "delivered": []}
    with _servers(instance, 1) as (urls, _):
        instance["grants"] = _grants(urls[0], users)
    return instance


def _auth(users: dict, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users[name]['token']}"}


def _grants(url: str, users: dict) -> list[str]:
    datasets = requests.get(url + "/api/v1/datasets", headers=_auth(users, "health-requester"),
                            timeout=60).json()["datasets"]
    residents = next(d["id"] for d in datasets if d["department"] == "civil")
    grants = []
    for _ in range(GRANTS):
        asked = requests.post(url + "/api/v1/requests", headers=_auth(users, "health-requester"),
                              json={"dataset_id": residents, "purpose": "核对就诊人户籍信息",
                                    "columns": COLUMNS}, timeout=60).json()
        approved = requests.post(url + f"/api/v1/requests/{asked['id']}/approve",
                                 headers=_auth(users, "civil-steward"),
                                 json={"masking": MASKING}, timeout=60).json()
        grants.append(approved["grant_id"])
    return grants


@contextmanager
def _servers(instance: dict, count: int) -> Iterator[tuple[list[str], list[subprocess.Popen]]]:
    from tests.e2e.conftest import serving

    with contextlib.ExitStack() as stack:
        started = [stack.enter_context(serving(instance["env"],
                                               instance["home"] / f"server-{n}.log"))
                   for n in range(count)]
        yield [url for url, _, _ in started], [proc for _, _, proc in started]


# -- the load ------------------------------------------------------------------------------


def _run(instance: dict, *, servers: int, kill: bool, seconds: float,
         clients: int) -> dict[str, Any]:
    times: dict[str, list[float]] = defaultdict(list)
    failed, failover = [0], [0]
    lock = threading.Lock()
    with _servers(instance, servers) as (urls, procs):
        dead: set[str] = set()
        deadline = time.monotonic() + seconds
        headers = _auth(instance["users"], "health-requester")

        def client(n: int) -> None:
            session = requests.Session()
            i = 0
            while time.monotonic() < deadline:
                url = urls[(n + i) % len(urls)]
                if url in dead:
                    url = next(u for u in urls if u not in dead)
                grant = instance["grants"][(n * 7 + i) % GRANTS]
                for kind, method, path in (("catalog", "GET", "/api/v1/datasets"),
                                           ("grants", "GET", "/api/v1/grants"),
                                           ("delivery", "POST",
                                            f"/api/v1/grants/{grant}/exchanges")):
                    started = time.perf_counter()
                    try:
                        answer = session.request(method, url + path, headers=headers,
                                                 json={} if method == "POST" else None,
                                                 timeout=120)
                    except requests.ConnectionError:
                        with lock:
                            failover[0] += 1
                            dead.add(url)
                        break  # the next round goes to a live server
                    elapsed = time.perf_counter() - started
                    with lock:
                        if answer.status_code >= 300:
                            failed[0] += 1
                            continue
                        times[kind].append(elapsed)
                        if kind == "delivery":
                            body = answer.json()
                            instance["delivered"].append((body["audit_index"], body["id"]))
                i += 1

        workers = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for worker in workers:
            worker.start()
        if kill:
            time.sleep(seconds / 2)
            procs[-1].send_signal(signal.SIGKILL)
        for worker in workers:
            worker.join()
    return {"times": times, "failed": failed[0], "failover": failover[0]}


def _print(label: str, result: dict, seconds: float) -> None:
    times = result["times"]
    every = [t for kind in times.values() for t in kind]
    deliveries = times["delivery"]
    print(f"{label:<34}{len(every) / seconds:>8.1f}{len(deliveries) / seconds:>9.1f}"
          f"{_pct(every, 50):>9.1f}{_pct(every, 99):>9.1f}{_pct(deliveries, 50):>11.1f}"
          f"{_pct(deliveries, 99):>11.1f}{result['failed']:>8}{result['failover']:>10}")


def _pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100)[p - 1] * 1000


# -- afterwards: every delivery in the log, the log verified --------------------------------


def _check_log(instance: dict) -> str:
    with _servers(instance, 1) as (urls, _):
        headers = _auth(instance["users"], "audit-auditor")
        logged: dict[int, str] = {}
        offset = 0
        while True:
            page = requests.get(urls[0] + "/api/v1/audit/entries", headers=headers, timeout=120,
                                params={"type": "exchange", "offset": offset,
                                        "limit": 1000}).json()["entries"]
            logged.update({e["index"]: e["entry"]["exchange_id"] for e in page})
            if len(page) < 1000:
                break
            offset += 1000
        missing = [(i, x) for i, x in instance["delivered"] if logged.get(i) != x]
        env = {**os.environ, "GOVEX_URL": urls[0],
               "GOVEX_TOKEN": instance["users"]["audit-auditor"]["token"]}
        verify = subprocess.run([GOVEX, "audit", "verify"], env=env, capture_output=True,
                                text=True, timeout=900)
    verdict = (verify.stdout or verify.stderr).strip().splitlines()[0]
    return (f"{len(instance['delivered'])} deliveries answered 201, {len(missing)} without their "
            f"entry; govex audit verify: {verdict}")


# -- PostgreSQL ----------------------------------------------------------------------------


@contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from tests.conftest import throwaway_cluster

    with throwaway_cluster(fsync=True) as admin:
        yield admin


def _new_database(admin_url: str) -> str:
    from tests.conftest import create_database

    return create_database(admin_url)


if __name__ == "__main__":
    main()
