"""An exchange instance built once per session (departments, users, small demo datasets),
the Flask test client, and ``as_role`` to act as one demo user."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from exchange.app import create_app
from exchange.config import load_settings
from exchange.demo import build_demo

ROWS = 120


def new_instance(settings, *people, places: dict | None = None) -> tuple:
    """A fresh instance for ``settings`` with the departments of ``people`` (Principals) and a
    user for each: ``(services, {username: API token})``. ``places``: a department's level
    and region, ``{code: ("district", "510104")}`` (default city-level, no region)."""
    from exchange.services import Services
    from exchange.usecases.admin import create_user, ensure_department, init_instance

    init_instance(settings)
    svc = Services(settings)
    for code in dict.fromkeys(who.department for who in people):
        level, region = (places or {}).get(code, ("city", None))
        ensure_department(svc, code, code, code, level=level, region=region)
    tokens = {who.username: create_user(svc, username=who.username, password="pw-" * 5,
                                        role=who.role, department=who.department)
              for who in people}
    return svc, tokens


def api_caller(config: dict, tokens: dict, *, lang: str = "en"):
    """``call(who, method, path, **kw)``: the API of a new app for ``config``, as ``who`` (a
    Principal or a username of ``tokens``), in ``lang``; the app is ``call.app``."""
    from exchange.app import create_app

    app = create_app(config)
    client = app.test_client()

    def call(who, method: str, path: str, **kw):
        name = who if isinstance(who, str) else who.username
        return client.open("/api/v1" + path, method=method, headers={
            "Authorization": f"Bearer {tokens[name]}", "Accept-Language": lang}, **kw)
    call.app = app
    return call


@pytest.fixture(scope="session")
def settings_for(database_url):
    """``settings_for(home, **settings)``: the settings of the test instance at ``home``, its
    database included (SQLite in it, or PostgreSQL under ``--database postgresql``)."""
    def settings_of(home, **more) -> dict:
        return {"home": home, "database_url": database_url(home), **more}
    return settings_of


@pytest.fixture(scope="session")
def home(tmp_path_factory, settings_for) -> Path:
    home = tmp_path_factory.mktemp("govex-home")
    build_demo(load_settings(settings_for(home), environ={}), rows=ROWS, echo=lambda _m: None)
    return home


@pytest.fixture(scope="session")
def users(home) -> dict[str, dict]:
    return {u["username"]: u for u in json.loads((home / "demo-users.json").read_text())}


@pytest.fixture(scope="session")
def app(home, settings_for):
    app = create_app(settings_for(home))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class Actor:
    """The test client acting as one user (bearer token)."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, *, headers: dict | None = None, **kw):
        return self.client.get(path, headers=self.headers | (headers or {}), **kw)

    def post(self, path: str, *, headers: dict | None = None, **kw):
        return self.client.post(path, headers=self.headers | (headers or {}), **kw)


@pytest.fixture
def as_role(client, users):
    def act(username: str | None) -> Actor:
        return Actor(client, users[username]["token"] if username else None)
    return act


@pytest.fixture(scope="session")
def datasets(app, users) -> dict[str, dict]:
    """Dataset id by demo key, found through the API."""
    c = app.test_client()
    headers = {"Authorization": f"Bearer {users['civil-requester']['token']}"}
    found = c.get("/api/v1/datasets", headers=headers).get_json()["datasets"]
    by_dept = {d["department"]: d for d in found}
    return {"residents": by_dept["civil"], "hotline_tickets": by_dept["hotline"],
            "market_entities": by_dept["market"], "case_files": by_dept["police"],
            "health_clinics": by_dept["health"]}


# -- the pages, as a browser without JavaScript uses them -------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client signed in through the sign-in form, posting forms with their token."""

    def __init__(self, client, lang: str = "en") -> None:
        self.client = client
        self.headers = {"Accept-Language": lang}

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def token(self, path: str) -> str:
        page = self.get(path)
        return CSRF.search(page.get_data(as_text=True)).group(1)

    def submit(self, form_page: str, action: str, data: dict | list, **kw):
        token = self.token(form_page)
        if isinstance(data, dict):
            data = list(data.items())
        return self.client.post(action, data=MultiDict([("csrf_token", token), *data]),
                                headers=self.headers, **kw)

    def sign_in(self, username: str, password: str):
        return self.submit("/sign-in", "/sign-in",
                           {"username": username, "password": password})


@pytest.fixture
def browse(app, users):
    def open_as(username: str | None, lang: str = "en") -> Browser:
        b = Browser(app.test_client(), lang)
        if username:
            assert b.sign_in(username, users[username]["password"]).status_code == 303
        return b
    return open_as


def text(response) -> str:
    return response.get_data(as_text=True)
