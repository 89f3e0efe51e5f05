"""Local administration: a new instance, secrets at rest, idempotence, users, key rotation."""

from __future__ import annotations

import json
import logging
import stat

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from exchange.auth import check_password
from exchange.cli import cli
from exchange.config import load_settings
from exchange.errors import Conflict, InvalidInput, Unauthenticated
from exchange.keys import SigningKeys
from exchange.services import Services
from exchange.usecases.admin import create_user, ensure_department, init_instance, rotate_keys


@pytest.fixture
def settings(tmp_path, settings_for):
    return load_settings(settings_for(tmp_path / "home"), environ={})


def test_init_creates_everything_once(settings):
    first = init_instance(settings, admin_password="correct horse battery")
    assert first["created_admin"] and first["admin_token"].startswith("gvx_")
    second = init_instance(settings)
    assert second["created_admin"] is False and "admin_token" not in second
    key_file = settings.home / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    if settings.db_url.startswith("sqlite"):  # password and token hashes, encrypted keys
        for name in ("govex.db", "govex.db-wal", "govex.db-shm"):
            if (settings.home / name).exists():
                assert stat.S_IMODE((settings.home / name).stat().st_mode) == 0o600, name


def test_secrets_are_stored_hashed_or_encrypted(settings):
    result = init_instance(settings, admin_password="correct horse battery")
    engine = sa.create_engine(settings.db_url)
    with engine.connect() as db:
        pem = db.exec_driver_sql("select private_pem from exchange_signing_keys").scalar()
        assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        password_hash = db.exec_driver_sql("select password_hash from exchange_users").scalar()
        assert password_hash.startswith("$argon2id$")
        stored = "\n".join(str(row) for table in sa.inspect(db).get_table_names()
                           for row in db.exec_driver_sql(f'select * from "{table}"'))
    engine.dispose()
    assert result["admin_token"] not in stored and "correct horse battery" not in stored
    if settings.db_url.startswith("sqlite"):  # the file too, free pages included
        raw = (settings.home / "govex.db").read_bytes()
        assert result["admin_token"].encode() not in raw
        assert b"correct horse battery" not in raw


def test_users_roles_and_passwords(settings):
    init_instance(settings)
    svc = Services(settings)
    ensure_department(svc, "civil", "市民政局", "Civil Affairs Bureau")
    create_user(svc, username="li.na", password="a long password", role="steward",
                department="civil")
    with svc.reader.connect() as conn:
        assert check_password(conn, "li.na", "a long password").role == "steward"
        with pytest.raises(Unauthenticated, match="wrong username or password"):
            check_password(conn, "li.na", "wrong password!")
        with pytest.raises(Unauthenticated, match="wrong username or password"):
            check_password(conn, "nobody", "a long password")
    assert svc.enforcer.allowed("li.na", "civil", "request", "decide", now=svc.clock())


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"username": "Bad Name"}, InvalidInput, "username"),
    ({"password": "short"}, InvalidInput, "at least 10"),
    ({"role": "root"}, InvalidInput, "role"),
    ({"department": "nowhere"}, InvalidInput, "unknown department"),
    ({"department": None}, InvalidInput, "needs one"),
    ({"username": "dup"}, Conflict, "exists"),
])
def test_bad_users_are_refused(settings, kwargs, error, message):
    init_instance(settings)
    svc = Services(settings)
    ensure_department(svc, "civil", "市民政局", "Civil Affairs Bureau")
    create_user(svc, username="dup", password="a long password", role="requester",
                department="civil")
    args = {"username": "new-user", "password": "a long password", "role": "requester",
            "department": "civil"} | kwargs
    with pytest.raises(error, match=message):
        create_user(svc, **args)


def test_key_rotation_keeps_the_old_key_published(settings):
    init_instance(settings)
    svc = Services(settings)
    with svc.reader.connect() as conn:
        before = svc.keys.jwks(conn)["keys"]
    new_kid = rotate_keys(svc)
    with svc.reader.connect() as conn:
        after = svc.keys.jwks(conn)["keys"]
    assert after[0]["kid"] == new_kid and before[0]["kid"] in [k["kid"] for k in after]
    assert len(after) == 2


def test_a_rotation_by_another_process_is_picked_up_without_restart(settings):
    from audit import NoteVerifier, open_checkpoint
    from audit.errors import SignatureInvalid
    init_instance(settings)
    server = Services(settings)
    ticks = [100.0]
    server.keys = SigningKeys(server.master, recheck_seconds=5.0, clock=lambda: ticks[0])
    old = server.keys.active(server.reader)
    new_kid = rotate_keys(Services(settings))  # e.g. `govex keys rotate` while serving
    ticks[0] += 4.9
    assert server.keys.active(server.reader).kid == old.kid  # cached, still published
    ticks[0] += 0.2
    assert server.keys.active(server.reader).kid == new_kid
    signer = server.audit_log().signer
    note = server.checkpoint()
    assert open_checkpoint(note, signer.verifier).size >= 3
    old_verifier = NoteVerifier(settings.log_origin, old.private_key.public_key())
    with pytest.raises(SignatureInvalid):
        open_checkpoint(note, old_verifier)


def test_cli_init_and_users_add(tmp_path):
    runner = CliRunner()
    home = str(tmp_path / "h")
    out = runner.invoke(cli, ["init", "--home", home])
    assert out.exit_code == 0 and "admin token:" in out.output
    again = runner.invoke(cli, ["init", "--home", home])
    assert again.exit_code == 0 and "admin token:" not in again.output
    bad = runner.invoke(cli, ["users", "add", "--home", home, "someone", "--role", "requester",
                              "--department", "civil", "--password", "a long password"])
    assert bad.exit_code == 1 and "unknown department" in bad.output
    # without --password: the mistake is told before the password is asked for
    asked = runner.invoke(cli, ["users", "add", "--home", home, "someone", "--role", "requester",
                                "--department", "civil"], input="")
    assert "unknown department" in asked.output and "Password" not in asked.output
    prompted = runner.invoke(cli, ["users", "add", "--home", home, "boss", "--role", "admin"],
                             input="a long password\na long password\n")
    assert prompted.exit_code == 0 and "Password" in prompted.output
    assert "token: gvx_" in prompted.output


def test_demo_token_reads_the_demo_users_file(tmp_path):
    home = tmp_path / "d"
    home.mkdir()
    (home / "demo-users.json").write_text(json.dumps([{"username": "a", "token": "gvx_x"}]))
    runner = CliRunner()
    assert runner.invoke(cli, ["demo-token", "--home", str(home), "a"]).output == "gvx_x\n"
    missing = runner.invoke(cli, ["demo-token", "--home", str(home), "b"])
    assert missing.exit_code != 0 and "no demo user" in missing.output


def test_a_user_added_by_another_process_is_known_without_restart(settings):
    init_instance(settings)
    server = Services(settings)
    ensure_department(server, "civil", "市民政局", "Civil Affairs Bureau")
    assert not server.allowed("late", "civil", "request", "create")  # loads policies
    other = Services(settings)  # e.g. `govex users add` while the server runs
    create_user(other, username="late", password="a long password", role="requester",
                department="civil")
    server._reloaded = 0.0  # the rate limit (a few seconds) has passed
    assert server.allowed("late", "civil", "request", "create")


# -- changing users: disable, enable, password, token ----------------------------------------

def _user_instance(settings):
    import datetime as dt

    from exchange.auth import open_session
    init_instance(settings)
    svc = Services(settings)
    ensure_department(svc, "civil", "市民政局", "Civil Affairs Bureau")
    token = create_user(svc, username="clerk", password="first password", role="requester",
                        department="civil")
    with svc.engine.begin() as conn:
        session = open_session(conn, "clerk", now=svc.clock(), lifetime=dt.timedelta(hours=8))
    return svc, token, session


def _can(svc, *, token=None, password=None, session=None) -> bool:
    from exchange.auth import principal_for_session, principal_for_token
    with svc.reader.connect() as conn:
        try:
            if token:
                principal_for_token(conn, token)
            if password:
                check_password(conn, "clerk", password)
            if session:
                principal_for_session(conn, session, now=svc.clock())
        except Unauthenticated:
            return False
    return True


def _admin_cli(settings, *args: str):
    """``govex ARGS --home HOME`` on the instance of ``settings`` (its database included)."""
    return CliRunner().invoke(cli, [*args, "--home", str(settings.home)],
                              env={"GOVEX_DATABASE_URL": settings.database_url or ""})


@pytest.mark.parametrize(("args", "says", "old_token", "old_password", "old_session", "change"), [
    (["disable"], "ended 1 web session", False, False, False, "disabled"),
    (["password", "--password", "second password"], "ended 1 web session", True, False, False,
     "password_reset"),
    (["token"], "token: gvx_", False, True, True, "token_reissued"),
])
def test_an_admin_changes_a_user_from_the_command_line(settings, args, says, old_token,
                                                      old_password, old_session, change):
    svc, token, session = _user_instance(settings)
    out = _admin_cli(settings, "users", args[0], "clerk", *args[1:])
    assert out.exit_code == 0 and says in out.output, out.output
    assert _can(svc, token=token) is old_token
    assert _can(svc, password="first password") is old_password
    assert _can(svc, session=session) is old_session
    if args[0] == "password":
        assert _can(svc, password="second password")
    if args[0] == "token":
        assert _can(svc, token=out.output.split("token: ")[1].strip())
    with svc.reader.connect() as conn:
        entries = [e for _, e in svc.audit_log().entries(conn, limit=1000)]
    logged = [e for e in entries if e["type"] == "user_change"]
    assert [(e["subject"], e["change"]) for e in logged] == [("clerk", change)]
    assert "second password" not in json.dumps(entries, ensure_ascii=False)


def test_a_disabled_user_enabled_again_uses_the_same_token(settings):
    svc, token, _session = _user_instance(settings)
    assert _admin_cli(settings, "users", "disable", "clerk").exit_code == 0
    assert not _can(svc, token=token)
    assert _admin_cli(settings, "users", "enable", "clerk").exit_code == 0
    assert _can(svc, token=token) and _can(svc, password="first password")


@pytest.mark.parametrize(("args", "message"), [
    (["disable", "nobody"], "no user 'nobody'"),
    (["token", "nobody"], "no user 'nobody'"),
    (["password", "clerk", "--password", "short"], "at least 10 characters"),
])
def test_bad_user_changes_are_refused_and_change_nothing(settings, args, message):
    svc, token, session = _user_instance(settings)
    out = _admin_cli(settings, "users", *args)
    assert out.exit_code != 0 and message in out.output
    assert _can(svc, token=token, password="first password", session=session)


@pytest.mark.parametrize(("logger", "level", "shown"), [
    ("great_expectations.data_context.types.base", logging.INFO, False),  # temp dir chatter
    ("great_expectations.expectations", logging.WARNING, True),
    ("presidio-analyzer", logging.INFO, False),
    ("govex", logging.INFO, True),
    ("waitress", logging.INFO, True),
])
def test_the_server_log_keeps_our_lines_and_dependencies_warnings_only(logger, level, shown):
    from exchange.cli.admin import _quiet_dependencies
    record = logging.LogRecord(logger, level, __file__, 1, "message", None, None)
    assert _quiet_dependencies(record) is shown
