"""The real server for end-to-end tests: a demo instance built with ``govex demo`` and served
by ``govex serve`` (waitress) on a free port, one per test module; its database is SQLite in
its home, or PostgreSQL under ``--database postgresql``. And the browser the page tests drive
(``chromium``, ``person``; see ``browser.py``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .browser import ARGS, CHROMIUM, SHOTS, Person

GOVEX = str(Path(sys.executable).with_name("govex"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    home = tmp_path_factory.mktemp("e2e-home")
    env = {**os.environ, "GOVEX_HOME": str(home), "GOVEX_DATABASE_URL": database_url(home)}
    subprocess.run([GOVEX, "demo", "--no-serve", "--rows", "300"], env=env, check=True,
                   capture_output=True, timeout=600)
    with serving(env, home / "server.log") as (url, _port, _proc):
        users = {u["username"]: u for u in json.loads((home / "demo-users.json").read_text())}
        yield {"url": url, "home": home, "users": users, "log": home / "server.log",
               "env": env}


@contextmanager
def serving(env: dict[str, str], log_path: Path, *args: str
            ) -> Iterator[tuple[str, int, subprocess.Popen]]:
    """``govex serve [args]`` with ``env`` on a free port, its output appended to
    ``log_path``, once it answers: ``(url, port, process)``. Stopped on leaving (if it still
    runs)."""
    port = free_port()
    with log_path.open("ab") as log:
        proc = subprocess.Popen([GOVEX, "serve", "--port", str(port), *args], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, proc)
            yield url, port, proc
        finally:
            if proc.poll() is None:
                proc.terminate()
            proc.wait(timeout=60)


def wait_until_up(url: str, proc: subprocess.Popen) -> None:
    """Return once the server at ``url`` answers /healthz; raise if ``proc`` exits first."""
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return
        except (requests.ConnectionError, requests.Timeout):  # held in the backlog till up
            time.sleep(0.2)
    raise RuntimeError("server did not start")


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's package "
                    f"(apt-get install -y chromium) or set GOVEX_CHROMIUM", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is not installed (pip install playwright; "
                    "never 'playwright install': the system Chromium is used)", pytrace=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def person(chromium, server):
    """``person(username, locale=...)``: that user signed in, in a browser context of their
    own (``person(None)``: nobody signed in yet); closed after the test."""
    opened: list[Person] = []

    def open_as(username: str | None, **kw) -> Person:
        opened.append(Person(chromium, server, username, **kw))
        return opened[-1]
    yield open_as
    for p in opened:
        p.close()
