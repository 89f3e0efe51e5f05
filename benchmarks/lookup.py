"""Interface sharing under load: lookups and verifications against a real server (waitress),
each answered only once its audit entry is durable, with its own signed receipt.

    .venv/bin/python benchmarks/lookup.py [--rows 1000000] [--seconds 20] [--clients 16]
                                          [--database sqlite|postgresql|both]
                                          [--processes 1,2]

A resident register of ``--rows`` rows (valid 身份证号, names, addresses) is published by a
steward, a query grant by 身份证号 approved for another department (名字 masked, a daily limit
above the load), and its lookup index built (timed). Then ``govex serve --processes N`` on
loopback, for each N of ``--processes``, and ``--clients`` threads with keep-alive sessions:
first ``GET /healthz`` for ``--seconds`` (the floor: what the same clients get from a server
that does nothing), then lookups of random residents (one in ten unknown), then verifications
for as long. Printed per kind: calls/s, p50/p99 latency, and the CPU the server processes and
the clients spent per call (they share the machine's cores), beside the target (1,000 calls/s,
p99 ≤ 50 ms) and X-Road's published ~110 calls/s per pair of security servers; then ``govex
audit verify`` over the log the run wrote, and its time. PostgreSQL's own processes are not in
the server's CPU column. Not a test: figures to read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOVEX = str(Path(sys.executable).with_name("govex"))
TARGET_RATE, TARGET_P99, XROAD_RATE = 1000, 50.0, 110


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--processes", type=lambda v: [int(n) for n in v.split(",")],
                        default=[1, 2], help="server processes to run with, e.g. 1,2")
    args = parser.parse_args()
    print(f"register of {args.rows:,} residents; {args.clients} clients x {args.seconds:.0f} s "
          f"per kind; {os.cpu_count()} cores (clients and server share them)")
    print(f"target: {TARGET_RATE:,} calls/s, p99 <= {TARGET_P99:.0f} ms; X-Road: "
          f"~{XROAD_RATE} calls/s per pair of security servers")
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory(prefix="govex-lookup-") as tmp:
        for kind in kinds:
            with _database(kind, Path(tmp) / kind) as url:
                _run(kind, Path(tmp) / kind, url, args)


@contextlib.contextmanager
def _database(kind: str, home: Path) -> Iterator[str | None]:
    home.mkdir(parents=True)
    if kind == "sqlite":
        yield None
        return
    from tests.conftest import create_database, throwaway_cluster

    with throwaway_cluster(fsync=True) as admin:
        yield create_database(admin)


def _register(rows: int, seed: int = 20261207) -> tuple[bytes, list[str]]:
    from masking import resident_id_check_char

    rng = random.Random(seed)
    out, ids = io.StringIO(), []
    out.write("身份证号,姓名,户籍地址,所属区划\n")
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    for i in range(rows):
        base = f"5101{rng.randrange(4, 16):02d}{rng.randrange(1940, 2020)}" \
               f"{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{i % 1000:03d}"
        idn = base + resident_id_check_char(base)
        ids.append(idn)
        out.write(f"{idn},{rng.choice(surnames)}{rng.choice(given)},成都市锦江区红星路{i}号,"
                  f"{base[:6]}\n")
    return out.getvalue().encode(), ids


def _setup(home: Path, url: str | None, rows: int) -> dict[str, Any]:
    from exchange.auth import Principal
    from exchange.config import load_settings
    from exchange.services import Services
    from exchange.usecases import access, publishing, worker
    from exchange.usecases.admin import create_user, ensure_department, init_instance

    settings = load_settings({"home": home, **({"database_url": url} if url else {})},
                             environ={})
    init_instance(settings)
    svc = Services(settings)
    steward = Principal("civil-steward", "", "civil", "steward")
    requester = Principal("window-requester", "", "window", "requester")
    auditor = Principal("city-auditor", "", "audit", "auditor")
    tokens = {}
    for who in (steward, requester, auditor):
        ensure_department(svc, who.department, who.department, who.department)
        tokens[who.username] = create_user(svc, username=who.username, password="pw-" * 5,
                                           role=who.role, department=who.department)
    data, ids = _register(rows)
    started = time.perf_counter()
    made = publishing.publish(svc, steward, filename="register.csv", data=data, metadata={
        "title": "户籍人口登记", "sharing": "conditional", "level": "L3"})
    published = time.perf_counter() - started
    asked = access.create_request(svc, requester, dataset_id=made["id"], purpose="窗口核验户籍",
                                  columns=["姓名", "户籍地址"], mode="query",
                                  key_columns=["身份证号"])
    grant = access.approve(svc, steward, asked["id"], masking={"姓名": "mask"},
                           daily_limit=1_000_000)["grant_id"]
    started = time.perf_counter()
    assert worker.run_once(svc).get("timer.done") == 1  # the worker builds the index
    built = time.perf_counter() - started
    indexed = rows
    print(f"  published {rows:,} rows in {published:.1f} s; lookup index of {indexed:,} rows "
          f"built in {built:.1f} s ({indexed / built:,.0f} rows/s)")
    return {"grant": grant, "ids": ids, "tokens": tokens,
            "env": {**os.environ, "GOVEX_HOME": str(home),
                    **({"GOVEX_DATABASE_URL": url} if url else {})}}


def _run(kind: str, home: Path, url: str | None, args: argparse.Namespace) -> None:
    from tests.e2e.conftest import serving

    print(f"\n{kind}:")
    setup = _setup(home, url, args.rows)
    print(f"  {'server':<12}{'kind':<8}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'server':>9}{'clients':>9}  outcomes")
    print(f"  {'':<12}{'':<8}{'':>9}{'':>9}{'':>9}{'':>8}{'ms CPU/call':>18}")
    for processes in args.processes:
        with serving(setup["env"], home / "server.log", "--processes", str(processes)) as (
                base, _port, proc):
            server = f"{processes} process" + ("es" if processes > 1 else "")
            _load(base, setup, "healthz", args, proc.pid, server)  # the floor: no work at all
            for call in ("lookup", "verify"):
                _load(base, setup, call, args, proc.pid, server)
    env = {**setup["env"]}
    with serving(env, home / "server-2.log") as (base, _port, _proc):
        env |= {"GOVEX_URL": base, "GOVEX_TOKEN": setup["tokens"]["city-auditor"]}
        started = time.perf_counter()
        verified = subprocess.run([GOVEX, "audit", "verify"], env=env, capture_output=True,
                                  text=True, timeout=3600)
        took = time.perf_counter() - started
    first = (verified.stdout or verified.stderr).strip().splitlines()[0]
    print(f"  govex audit verify: {first} ({took:.1f} s)")


def _cpu(pid: int, *, children: bool = True) -> float:
    """Seconds of CPU a process (and its server processes: ``--processes``) have used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    listed = Path(f"/proc/{pid}/task/{pid}/children")
    if children and listed.exists():
        used += sum(_cpu(int(child)) for child in listed.read_text().split())
    return used


def _load(base: str, setup: dict, call: str, args: argparse.Namespace, server: int,
          label: str) -> None:
    token = setup["tokens"]["window-requester"]
    ids, grant = setup["ids"], setup["grant"]
    times: list[float] = []
    outcomes: Counter[str] = Counter()
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        path = f"{base}/api/v1/grants/{grant}/{call}"
        while time.monotonic() < deadline:
            known = rng.random() >= 0.1
            key = rng.choice(ids) if known else "44030419851111777" + "0"
            body = ({"key": {"身份证号": key}} if call == "lookup"
                    else {"claims": {"身份证号": key, "户籍地址": "成都市锦江区红星路1号"}})
            started = time.perf_counter()
            answer = (session.get(f"{base}/healthz", timeout=60) if call == "healthz" else
                      session.post(path, json=body, headers=headers, timeout=60))
            elapsed = time.perf_counter() - started
            with lock:
                if answer.status_code != 200:
                    errors[0] += 1
                    continue
                times.append(elapsed)
                got = answer.json()
                outcomes["ok" if call == "healthz" else ("found" if got["rows"] else "not found")
                         if call == "lookup" else ("match" if got["match"] else "no match")] += 1

    workers = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    server_cpu, client_cpu = _cpu(server), _cpu(os.getpid(), children=False)
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    server_cpu = _cpu(server) - server_cpu
    client_cpu = _cpu(os.getpid(), children=False) - client_cpu
    done = max(1, len(times) + errors[0])
    rate = len(times) / args.seconds
    print(f"  {label:<12}{call:<8}{rate:>9.0f}{_pct(times, 50):>9.1f}{_pct(times, 99):>9.1f}"
          f"{errors[0]:>8}{server_cpu / done * 1000:>9.2f}{client_cpu / done * 1000:>9.2f}  "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


def _pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100)[p - 1] * 1000


if __name__ == "__main__":
    main()
