"""Signing in to the pages, against an instance of its own whose clock the tests move: failed
sign-ins throttled per username and per client address, their audit entries, and sessions kept
in the database (sign-out, a deleted row and expiry end them whatever the cookie says)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
import sqlalchemy as sa

from exchange.app import create_app
from exchange.auth import check_password, end_sessions, hash_token
from exchange.config import load_settings
from exchange.errors import Unauthenticated
from exchange.models import sign_in_failures, users, web_sessions
from exchange.services import Services, utcnow
from exchange.usecases import signin
from exchange.usecases.admin import create_user, ensure_department, init_instance

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "right-password-for-tests"
PEOPLE = ("ana", "ben", "cai", "dong")  # each test signs in as its own one or two


class Clock:
    """The instance's clock; every test starts an hour after the last one, so no test sees
    another's failures, lock-outs or sessions as recent."""

    def __init__(self) -> None:
        self.now = utcnow() + dt.timedelta(days=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def svc(tmp_path_factory, clock, settings_for) -> Services:
    settings = load_settings(settings_for(tmp_path_factory.mktemp("sign-in")), environ={})
    init_instance(settings, admin_password="admin-password-for-tests")
    svc = Services(settings, clock=clock)
    ensure_department(svc, "civil", "市民政局", "Civil Affairs")
    for name in PEOPLE:
        create_user(svc, username=name, password=PASSWORD, role="requester",
                    department="civil")
    return svc


@pytest.fixture(scope="module")
def app(svc):
    app = create_app(services=svc)
    app.config["TESTING"] = True
    return app


@pytest.fixture(autouse=True)
def _fresh_hour(clock) -> None:
    clock.advance(hours=1)


class Browser:
    """A test client from one client address, posting the sign-in form with its CSRF token."""

    def __init__(self, app, address: str = "192.0.2.1", lang: str = "en") -> None:
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address
        self.headers = {"Accept-Language": lang}

    def get(self, path: str):
        return self.client.get(path, headers=self.headers)

    def post(self, path: str, data: dict | None = None):
        token = CSRF.search(self.get("/sign-in").get_data(as_text=True)).group(1)
        return self.client.post(path, data={"csrf_token": token, **(data or {})},
                                headers=self.headers)

    def sign_in(self, username: str, password: str = PASSWORD):
        return self.post("/sign-in", {"username": username, "password": password})

    def fail(self, username: str, times: int) -> list[int]:
        return [self.sign_in(username, f"wrong-password-{n}").status_code for n in range(times)]

    @property
    def cookie(self) -> str:
        return self.client.get_cookie("govex_session").value


def entries(svc: Services, **filters) -> list[dict]:
    with svc.reader.connect() as conn:
        return [e for _i, e in svc.audit_log().entries(conn, limit=1000, **filters)]


def logged_text(svc: Services) -> str:
    with svc.reader.connect() as conn:
        return "\n".join(t for _i, t in svc.audit_log().entries(conn, limit=100_000,
                                                                logged=True))


# -- throttling -----------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["ana", "nobody-of-that-name"])
def test_five_failures_lock_the_username_known_or_not(app, username):
    b = Browser(app)
    assert b.fail(username, 5) == [401] * 5
    r = b.sign_in(username)  # the right password for ana; no matter: not even checked
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 15 * 60
    assert "Too many failed sign-ins" in r.get_data(as_text=True)
    assert Browser(app, "192.0.2.99").sign_in(username).status_code == 429  # not per client


def test_a_new_password_from_the_admin_lifts_the_lock(app, svc):
    from exchange.usecases.admin import reset_password
    b = Browser(app)
    assert b.fail("cai", 5) == [401] * 5
    assert b.sign_in("cai").status_code == 429
    reset_password(svc, "cai", "a-new-password-for-cai")
    assert b.sign_in("cai", PASSWORD).status_code == 401  # the old one is gone
    assert b.sign_in("cai", "a-new-password-for-cai").status_code == 303
    reset_password(svc, "cai", PASSWORD)  # as the other tests expect


def test_the_lock_ends_after_fifteen_minutes(app, clock):
    b = Browser(app)
    b.fail("ben", 5)
    clock.advance(minutes=14, seconds=59)
    assert b.sign_in("ben").status_code == 429
    clock.advance(seconds=1)
    assert b.sign_in("ben").status_code == 303


@pytest.mark.parametrize("first,pause,then,expected", [
    (4, dt.timedelta(minutes=14), 1, 429),  # five within 15 minutes
    (4, dt.timedelta(minutes=15), 1, 303),  # the first four are out of the window
    (4, dt.timedelta(0), 0, 303),  # four are allowed
])
def test_the_count_is_of_failures_within_fifteen_minutes(app, clock, first, pause, then,
                                                         expected):
    b = Browser(app)
    b.fail("cai", first)
    clock.advance(seconds=pause.total_seconds())
    b.fail("cai", then)
    assert b.sign_in("cai").status_code == expected


def test_a_successful_sign_in_clears_the_count(app):
    b = Browser(app)
    b.fail("dong", 4)
    assert b.sign_in("dong").status_code == 303
    b.fail("dong", 4)
    assert b.sign_in("dong").status_code == 303


def test_a_locked_username_is_refused_without_checking_the_password(app, monkeypatch):
    b = Browser(app)
    b.fail("ana", 5)
    checked = []
    monkeypatch.setattr(signin, "check_password", lambda *a: checked.append(a))
    assert b.sign_in("ana").status_code == 429 and checked == []


def test_one_address_may_not_try_many_usernames(app):
    spray = Browser(app, "198.51.100.7")
    assert all(spray.fail(f"guess-{n}", 1) == [401] for n in range(20))
    assert spray.sign_in("ben").status_code == 429  # even with the right password
    assert Browser(app, "198.51.100.8").sign_in("ben").status_code == 303


def test_the_locked_page_is_in_both_languages(app):
    Browser(app).fail("cai", 5)
    zh = Browser(app, lang="zh-CN").sign_in("cai")
    page = zh.get_data(as_text=True)
    assert zh.status_code == 429 and "登录失败次数过多" in page and "15 分钟后再试" in page
    assert "Too many" not in page


def test_unknown_usernames_cost_the_same_argon2_time(svc):
    def fastest(username: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with svc.reader.connect() as conn, pytest.raises(Unauthenticated):
                check_password(conn, username, "wrong-password")
            times.append(time.perf_counter() - start)
        return min(times)
    known, unknown = fastest("ana"), fastest("nobody-at-all")
    assert unknown > known / 2, (known, unknown)


def test_failures_checked_in_parallel_start_one_lock_out(svc, clock):
    # eight threads may all pass the lock check before the first failure is counted
    with svc.engine.begin() as conn:
        began = [signin.record_failure(conn, signin.USER_LIMIT, "same-key", now=clock.now)
                 for _ in range(8)]
    assert began == [False] * 4 + [True] + [False] * 3


# -- audit entries --------------------------------------------------------------------------

def test_failures_and_one_lock_out_are_logged_never_the_password(app, svc):
    before = len(entries(svc, actor="dong"))
    b = Browser(app)
    b.fail("dong", 5)
    for _ in range(3):
        assert b.sign_in("dong", "still-the-wrong-one").status_code == 429
    new = entries(svc, actor="dong")[before:]
    assert [e["type"] for e in new] == ["sign_in_failed"] * 5 + ["sign_in_locked"]
    assert new[0]["reason"] == "wrong_password" and new[0]["actor_department"] == "civil"
    assert new[-1]["scope"] == "user" and new[-1]["until"].endswith("Z")
    text = logged_text(svc)
    assert "wrong-password-" not in text and "still-the-wrong-one" not in text


def test_a_mistyped_username_is_not_logged(app, svc):
    b = Browser(app)
    b.fail("my-secret-password", 5)
    assert "my-secret-password" not in logged_text(svc)
    locks = entries(svc, type="sign_in_locked")
    assert locks[-1] == {"type": "sign_in_locked", "time": locks[-1]["time"], "scope": "user",
                         "outcome": "locked", "until": locks[-1]["until"]}


def test_the_throttle_keeps_no_username_or_address(app, svc):
    Browser(app, "203.0.113.5").fail("ben", 2)
    with svc.reader.connect() as conn:
        rows = json.dumps([list(map(str, r)) for r in conn.execute(sa.select(sign_in_failures))])
    assert rows.count('"failure"') >= 4 and "ben" not in rows and "203.0.113.5" not in rows


def test_auditors_filter_the_new_events(app, svc):
    auditor = Browser(app)
    create_user(svc, username="aud", password=PASSWORD, role="auditor", department="civil")
    Browser(app).fail("cai", 1)
    assert auditor.sign_in("aud").status_code == 303
    page = auditor.get("/audit/log?type=sign_in_failed&actor=cai").get_data(as_text=True)
    assert "Failed sign-in</td>" in page and "<td>cai</td>" in page


# -- sessions in the database -----------------------------------------------------------------

def test_the_cookie_names_a_session_stored_only_as_its_hash(app, svc):
    b = Browser(app)
    b.sign_in("ana")
    session_id = app.session_interface.get_signing_serializer(app).loads(b.cookie)["sid"]
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(web_sessions).where(
            web_sessions.c.id_hash == hash_token(session_id))).one()
        assert conn.execute(sa.select(sa.func.count()).where(
            web_sessions.c.id_hash == session_id)).scalar() == 0
    assert row.username == "ana"
    assert row.expires_at - row.created_at == dt.timedelta(hours=8)


def test_a_signed_out_cookie_replayed_opens_nothing(app):
    b = Browser(app)
    b.sign_in("ben")
    kept = b.cookie
    replay = Browser(app, "192.0.2.50")
    replay.client.set_cookie("govex_session", kept)
    assert replay.get("/catalog").status_code == 200  # the copy works while signed in
    assert b.post("/sign-out").status_code == 303
    r = replay.get("/catalog")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in")


def test_signing_in_again_ends_the_session_the_browser_held(app):
    b = Browser(app)
    b.sign_in("ben")
    kept = b.cookie
    assert b.sign_in("ben").status_code == 303 and b.cookie != kept
    replay = Browser(app, "192.0.2.51")
    replay.client.set_cookie("govex_session", kept)
    r = replay.get("/catalog")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in")
    assert b.get("/catalog").status_code == 200  # the new session works


@pytest.mark.parametrize("end", ["deleted", "disabled"])
def test_the_server_ends_a_session(app, svc, end):
    b = Browser(app)
    b.sign_in("cai")
    assert b.get("/catalog").status_code == 200
    with svc.engine.begin() as conn:
        if end == "deleted":
            assert end_sessions(conn, "cai") == 1
        else:
            conn.execute(users.update().where(users.c.username == "cai").values(disabled=True))
    try:
        r = b.get("/catalog")
        assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in")
    finally:
        with svc.engine.begin() as conn:
            conn.execute(users.update().where(users.c.username == "cai").values(disabled=False))


@pytest.mark.parametrize("after,status", [
    (dt.timedelta(hours=7, minutes=59, seconds=59), 200), (dt.timedelta(hours=8), 302)])
def test_a_session_expires_after_eight_hours(app, clock, after, status):
    b = Browser(app)
    b.sign_in("dong")
    clock.advance(seconds=after.total_seconds())
    assert b.get("/catalog").status_code == status


def test_a_page_view_records_when_the_session_was_last_seen(app, svc, clock):
    b = Browser(app)
    b.sign_in("ana")
    clock.advance(minutes=5)
    b.get("/catalog")
    with svc.reader.connect() as conn:
        seen = conn.execute(sa.select(sa.func.max(web_sessions.c.last_seen_at)).where(
            web_sessions.c.username == "ana")).scalar()
    assert seen.replace(tzinfo=dt.timezone.utc) == clock.now

