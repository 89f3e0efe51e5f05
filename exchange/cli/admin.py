"""Local admin commands of ``govex``: init, demo, serve, users, departments, keys (no server
needed)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

__all__ = ["COMMANDS"]

_home = click.option("--home", type=click.Path(file_okay=False, path_type=Path),
                     envvar="GOVEX_HOME", default="govex-data", show_default=True,
                     help="Data directory (GOVEX_HOME).")


def _settings(home: Path):
    from ..config import load_settings
    return load_settings({"home": home})


@click.command()
@_home
@click.option("--admin-password", help="Password of the first admin (default: generated).")
def init(home: Path, admin_password: str | None) -> None:
    """Create the instance: database, signing key, first admin. Safe to run again."""
    from ..usecases.admin import init_instance
    result = init_instance(_settings(home), admin_password=admin_password)
    click.echo(f"instance ready in {result['home']} ({result['database']})")
    if result["created_admin"]:
        click.echo(f"admin password: {result['admin_password']}\n"
                   f"admin token:    {result['admin_token']}\n(shown once; stored hashed)")


@click.command()
@_home
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int,
              help="Threads per server process.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port, each with its threads and its own "
                   "writer of the audit log: one per core serves calls at rate (interface "
                   "sharing) on all of them.")
@click.option("--worker", "with_worker", is_flag=True,
              help="Also do the background work (reminders, escalations, webhooks, e-mail) in "
                   "this process, as `govex worker` would.")
@click.option("--listen-fd", type=int, hidden=True)  # one of --processes: the shared socket
@click.option("--supervisor", type=int, hidden=True)  # and the process that started it
def serve(home: Path, host: str, port: int, threads: int, processes: int, with_worker: bool,
          listen_fd: int | None, supervisor: int | None) -> None:
    """Serve the exchange with waitress (a production WSGI server); an upload without a valid
    token or session, or declared over the limit, is refused before its body is received."""
    import os
    import socket
    import sys

    from ..app import create_app
    from ..services import Services
    from ..serving import as_server_process, listening_socket, supervise
    from ..usecases.admin import init_instance
    if listen_fd is not None:  # started by the command below: the instance is ready
        as_server_process(parent=supervisor or os.getppid())
        _logging()
        _serve(create_app({"home": home}), threads, with_worker=with_worker,
               sock=socket.socket(fileno=listen_fd))
        return
    settings = _settings(home)
    init_instance(settings)
    if processes == 1:
        _serve_here(create_app({"home": home}), host, port, threads, with_worker=with_worker)
        return
    _logging()
    svc = Services(settings)
    _sweep(svc)  # before any server process starts
    svc.engine.dispose()
    sock = listening_socket(host, port)
    command = [sys.executable, "-m", "exchange.cli", "serve", "--home", str(home),
               "--threads", str(threads), "--listen-fd", str(sock.fileno()),
               "--supervisor", str(os.getpid())]
    click.echo(f"govex serving on http://{host}:{port} with {processes} processes  (Ctrl+C "
               "to stop)" + ("; background work in the first" if with_worker else ""))
    code = supervise([command + (["--worker"] if with_worker and n == 0 else [])
                      for n in range(processes)], sock)
    sock.close()
    if code:
        raise SystemExit(code)


def _serve_here(app, host: str, port: int, threads: int, *,  # noqa: ANN001 (Flask)
                with_worker: bool) -> None:
    """Serve in this one process."""
    _logging()
    _sweep(app.extensions["govex"])
    click.echo(f"govex serving on http://{host}:{port}  (Ctrl+C to stop)"
               + ("; background work in this process" if with_worker else ""))
    _serve(app, threads, with_worker=with_worker, host=host, port=port)


def _sweep(svc) -> None:  # noqa: ANN001 (Services, imported lazily)
    """Before serving: remove what a crash left in the payload store (nothing is serving)."""
    from ..uploads import sweep_spool
    swept = svc.sweep_payloads()
    if swept and (swept.temporary_files or swept.unreferenced_payloads):
        click.echo(f"removed what an interrupted job left in the payload store: "
                   f"{swept.temporary_files} temporary files, "
                   f"{swept.unreferenced_payloads} payloads no record refers to")
    spooled = sweep_spool(svc.settings.spool_dir)
    if spooled:
        click.echo(f"removed {spooled} uploads an interrupted server left in the spool")


_NOISY = ("presidio-analyzer", "presidio_analyzer", "great_expectations", "jieba")


def _quiet_dependencies(record) -> bool:  # noqa: ANN001 (logging.LogRecord)
    """Only warnings and errors from libraries that log their internals at INFO (Great
    Expectations sets its own loggers' levels, so raising the parent's is not enough)."""
    return record.levelno >= logging.WARNING or not record.name.startswith(_NOISY)


def _serve(app, threads: int, *, with_worker: bool = False,  # noqa: ANN001 (Flask)
           **where) -> None:  # noqa: ANN003 (host and port, or sock)
    from ..serving import serve
    loop = None
    if with_worker:
        import threading

        from ..usecases.worker import Loop, run
        loop = Loop()
        threading.Thread(target=run, args=(app.extensions["govex"],), kwargs={"loop": loop},
                         name="govex-worker", daemon=True).start()
    try:
        serve(app, threads=threads, **where)
    finally:
        if loop is not None:
            loop.stop.set()


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for handler in logging.root.handlers:
        handler.addFilter(_quiet_dependencies)


@click.command()
@_home
@click.option("--once", is_flag=True, help="Do what is due now, print what was done, stop.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between rounds when nothing is due.")
def worker(home: Path, once: bool, interval: float) -> None:
    """Do the background work: reminders and escalations at due times, webhooks (retried with
    backoff) and e-mail. Run one (or more: rows are leased, none is done twice) beside the
    servers; stop with Ctrl+C or SIGTERM."""
    import signal

    from ..services import Services
    from ..usecases.worker import Loop, run, run_once
    svc = Services(_settings(home))
    if once:
        done = run_once(svc)
        click.echo(", ".join(f"{k}: {v}" for k, v in sorted(done.items())) or "nothing due")
        return
    _logging()
    loop = Loop()
    signal.signal(signal.SIGTERM, lambda *_: loop.stop.set())
    click.echo(f"govex worker: every {interval:g} s when idle (Ctrl+C to stop)")
    try:
        run(svc, interval=interval, loop=loop)
    except KeyboardInterrupt:
        loop.stop.set()


@click.command()
@_home
def outbox(home: Path) -> None:
    """What the background work holds: each kind (timer, webhook, email) by state."""
    from ..outbox import pending_counts
    from ..services import Services
    svc = Services(_settings(home))
    with svc.reader.connect() as conn:
        counts = pending_counts(conn)
    for kind, states in sorted(counts.items()):
        click.echo(f"{kind}: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    if not counts:
        click.echo("empty")


@click.group()
def webhooks() -> None:
    """Departments' outgoing webhooks (admin, local)."""


@webhooks.command("add")
@_home
@click.argument("department")
@click.argument("url")
def webhooks_add(home: Path, department: str, url: str) -> None:
    """Send DEPARTMENT's notices to URL, signed per Standard Webhooks; prints the signing
    secret (shown once: give it to the receiver)."""
    from ..usecases.process import add_webhook
    made = _user_change(home, lambda svc: add_webhook(svc, None, department=department,
                                                       url=url))
    click.echo(f"webhook {made['id']} for {department}: {made['url']}\n"
               f"secret: {made['secret']}")


@webhooks.command("list")
@_home
@click.option("--department", help="Only this department's.")
def webhooks_list(home: Path, department: str | None) -> None:
    """The webhooks (no secrets)."""
    from ..usecases.process import list_webhooks
    found = _user_change(home, lambda svc: list_webhooks(svc, None, department))
    for w in found["webhooks"]:
        click.echo(f"{w['id']}  {w['department']}  {w['url']}"
                   + ("  (disabled)" if w["disabled_at"] else ""))


@webhooks.command("disable")
@_home
@click.argument("webhook_id")
def webhooks_disable(home: Path, webhook_id: str) -> None:
    """Stop a webhook (what is queued for it is dropped)."""
    from ..usecases.process import disable_webhook
    _user_change(home, lambda svc: disable_webhook(svc, None, webhook_id))
    click.echo(f"disabled {webhook_id}")


@click.command()
@_home
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--rows", default=3000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the instance and stop.")
def demo(home: Path, port: int, host: str, rows: int, no_serve: bool) -> None:
    """Build a demo instance (departments, users, datasets) and serve it."""
    from ..demo import build_demo, users_table
    users = build_demo(_settings(home), rows=rows, echo=click.echo)
    click.echo(users_table(users))
    click.echo(f"sign-in details: {home / 'demo-users.json'}")
    if not no_serve:
        from ..app import create_app
        _serve_here(create_app({"home": home}), host, port, 8, with_worker=True)


@click.group()
def users() -> None:
    """Manage users (admin, local)."""


@users.command("add")
@_home
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["requester", "steward", "auditor",
                                                          "authority", "admin"]),
              help="authority: the data authority (政务数据主管部门) of its department's "
                   "region, which oversees the requests of that region and below.")
@click.option("--department", help="Department code (none for admin).")
@click.option("--name", "display_name")
@click.option("--password", help="Password for the web pages (prompted when omitted).")
@click.option("--email", help="Work e-mail address the user's notices go to (GOVEX_SMTP_URL).")
def users_add(home: Path, username: str, role: str, department: str | None,
              display_name: str | None, password: str | None, email: str | None) -> None:
    """Add a user and print their API token (shown once)."""
    from ..auth import check_email, check_new_account
    from ..services import Services
    from ..usecases.admin import create_user
    svc = Services(_settings(home))
    with svc.reader.connect() as conn:  # a typo in the rest is told before the password is asked
        _clearly(lambda: check_new_account(conn, username, role, department))
        _clearly(lambda: check_email(email))
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    token = _clearly(lambda: create_user(svc, username=username, password=password, role=role,
                                         department=department, display_name=display_name,
                                         email=email))
    click.echo(f"created {username} ({role}{', ' + department if department else ''})\n"
               f"token: {token}")


@users.command("disable")
@_home
@click.argument("username")
def users_disable(home: Path, username: str) -> None:
    """Disable a user: their API tokens and web sessions stop working at once."""
    from ..usecases.admin import disable_user
    ended = _user_change(home, disable_user, username)
    click.echo(f"disabled {username}; ended {ended} web session(s)")


@users.command("enable")
@_home
@click.argument("username")
def users_enable(home: Path, username: str) -> None:
    """Enable a disabled user again."""
    from ..usecases.admin import enable_user
    _user_change(home, enable_user, username)
    click.echo(f"enabled {username}")


@users.command("password")
@_home
@click.argument("username")
@click.password_option(help="The new password (prompted when omitted).")
def users_password(home: Path, username: str, password: str) -> None:
    """Set a new web password, end the user's web sessions and lift a sign-in lock-out."""
    from ..usecases.admin import reset_password
    ended = _user_change(home, reset_password, username, password)
    click.echo(f"new password for {username}; ended {ended} web session(s)")


@users.command("email")
@_home
@click.argument("username")
@click.argument("address", required=False)
def users_email(home: Path, username: str, address: str | None) -> None:
    """Set the work e-mail address USERNAME's notices go to (none given: remove it)."""
    from ..usecases.admin import set_user_email
    _user_change(home, set_user_email, username, address)
    click.echo(f"{username}: notices e-mailed to {address}" if address
               else f"{username}: no e-mail address")


@users.command("token")
@_home
@click.argument("username")
def users_token(home: Path, username: str) -> None:
    """Revoke every API token of the user and print a new one (shown once)."""
    from ..usecases.admin import reissue_token
    token = _user_change(home, reissue_token, username)
    click.echo(f"revoked the tokens of {username}\ntoken: {token}")


def _user_change(home: Path, change, *args):  # noqa: ANN001, ANN002, ANN202
    """Run an admin change; its errors (no such user, short password) become one line."""
    from ..services import Services
    svc = Services(_settings(home))
    return _clearly(lambda: change(svc, *args))


def _clearly(run):  # noqa: ANN001, ANN202
    """``run()``, its errors (no such user, short password, unknown department) one line."""
    from ..errors import ExchangeError
    try:
        return run()
    except ExchangeError as exc:
        raise click.ClickException(str(exc)) from exc


@users.command("list")
@_home
@click.option("--department", help="Only this department's users.")
@click.option("--json", "as_json", is_flag=True, help='Print {"users": [...]} as JSON.')
def users_list(home: Path, department: str | None, as_json: bool) -> None:
    """List the users: username, role, department, disabled (no password or token)."""
    from ..usecases.departments import list_users
    found = _user_change(home, lambda svc: list_users(svc, department=department))
    if as_json:
        return _print_json(found)
    for u in found["users"]:
        click.echo(f"{u['username']:<24} {u['role']:<10} {u['department'] or '-':<20} "
                   f"{'disabled' if u['disabled'] else ''}".rstrip())
    if not found["users"]:
        click.echo("no users")


def _print_json(value: object) -> None:
    import json
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group()
def departments() -> None:
    """Manage departments: levels, parents, regions (admin, local)."""


_LEVEL = click.Choice(["province", "city", "district", "street"])


@departments.command("add")
@_home
@click.argument("code")
@click.option("--name", required=True, help="Its name, in Chinese (锦江区民政局).")
@click.option("--name-en", help="Its name in English (default: the code).")
@click.option("--level", required=True, type=_LEVEL)
@click.option("--parent", help="The department it answers to (a code).")
@click.option("--region", help="Its region, a GB/T 2260 code (510104); needed for district "
                               "and street departments.")
def departments_add(home: Path, code: str, name: str, name_en: str | None, level: str,
                    parent: str | None, region: str | None) -> None:
    """Add a department."""
    from ..usecases.departments import add_department
    made = _user_change(home, lambda svc: add_department(
        svc, code=code, name=name, name_en=name_en, level=level, parent=parent,
        region=region))
    over = made.get("flowback_pending") or 0
    click.echo(f"added {_line(made)}" + (f"; 回流: {over} decision(s) above it, its grants "
                                         f"queued for govex worker" if over else ""))


def _line(d: dict) -> str:
    region = f" {d['region']} ({d['region_name']})" if d["region"] else ""
    parent = f", under {d['parent']}" if d["parent"] else ""
    return f"{d['code']}: {d['name']} · {d['level']}{region}{parent}"


@departments.command("list")
@_home
@click.option("--json", "as_json", is_flag=True,
              help='Print {"departments": [{"code", "name", "level", "parent", "region", '
                   '...}]} as JSON.')
def departments_list(home: Path, as_json: bool) -> None:
    """List the departments, highest level first."""
    from ..usecases.departments import list_departments
    found = _user_change(home, list_departments)
    if as_json:
        return _print_json(found)
    for d in found["departments"]:
        click.echo(_line(d) + (" · disabled" if d["disabled"] else ""))
    if not found["departments"]:
        click.echo("no departments: add one with 'govex departments add'")


@departments.command("rename")
@_home
@click.argument("code")
@click.option("--name", help="The new Chinese name.")
@click.option("--name-en", help="The new English name.")
def departments_rename(home: Path, code: str, name: str | None, name_en: str | None) -> None:
    """Rename a department (its code stays)."""
    from ..usecases.departments import rename_department
    if name is None and name_en is None:
        raise click.UsageError("give --name, --name-en or both")
    changed = _user_change(home, lambda svc: rename_department(svc, code=code, name=name,
                                                               name_en=name_en))
    click.echo(f"renamed {_line(changed)}")


@departments.command("move")
@_home
@click.argument("code")
@click.option("--parent", help="The department it answers to now (omit: none).")
@click.option("--region", help="Its new region (GB/T 2260).")
@click.option("--level", type=_LEVEL, help="Its new level.")
def departments_move(home: Path, code: str, parent: str | None, region: str | None,
                     level: str | None) -> None:
    """Put a department under another parent, with a new level or region if they change."""
    from ..usecases.departments import move_department
    moved = _user_change(home, lambda svc: move_department(svc, code=code, parent=parent,
                                                           region=region, level=level))
    click.echo(f"moved {_line(moved)}")


@departments.command("disable")
@_home
@click.argument("code")
def departments_disable(home: Path, code: str) -> None:
    """Disable a department (merged or dissolved) and its users."""
    from ..usecases.departments import disable_department
    done = _user_change(home, lambda svc: disable_department(svc, code=code))
    click.echo(f"disabled {code} and {len(done['users_disabled'])} user(s)")


@departments.command("enable")
@_home
@click.argument("code")
def departments_enable(home: Path, code: str) -> None:
    """Enable a disabled department again (its users one by one: govex users enable)."""
    from ..usecases.departments import enable_department
    _user_change(home, lambda svc: enable_department(svc, code=code))
    click.echo(f"enabled {code}")


@click.group()
def calendar() -> None:
    """Working days the time limits count by: days an admin records over the statutory
    calendar (admin, local)."""


@calendar.command("set")
@_home
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--working/--holiday", required=True,
              help="A working day (an adjusted Saturday) or a holiday.")
def calendar_set(home: Path, day, working: bool) -> None:  # noqa: ANN001 (a datetime)
    """Record DAY (YYYY-MM-DD), e.g. next year's holidays once the State Council announces
    them and before the calendar package knows them."""
    from ..usecases.admin import set_calendar_day
    _user_change(home, lambda svc: set_calendar_day(svc, day.date(), working=working))
    click.echo(f"{day.date()} is a {'working day' if working else 'holiday'}")


@calendar.command("list")
@_home
def calendar_list(home: Path) -> None:
    """The days recorded."""
    from ..usecases.admin import calendar_days
    days = _user_change(home, calendar_days)
    for d in days:
        click.echo(f"{d['day']}  {'working day' if d['working'] else 'holiday'}")
    if not days:
        click.echo("no day recorded: the statutory calendar alone")


@click.group()
def keys() -> None:
    """Manage the exchange's signing keys (admin, local)."""


@keys.command("rotate")
@_home
def keys_rotate(home: Path) -> None:
    """Retire the signing key (still published for old receipts) and start a new one.
    Running servers sign with the new key from their next signature."""
    from ..services import Services
    from ..usecases.admin import rotate_keys
    kid = rotate_keys(Services(_settings(home)))
    click.echo(f"new signing key {kid}; running servers sign with it from their next signature")


@click.command("demo-token")
@_home
@click.argument("username")
def demo_token(home: Path, username: str) -> None:
    """Print a demo user's API token (from HOME/demo-users.json), for GOVEX_TOKEN."""
    import json
    path = home / "demo-users.json"
    if not path.exists():
        raise click.ClickException(f"{path} not found: run 'govex demo' first")
    for user in json.loads(path.read_text(encoding="utf-8")):
        if user["username"] == username:
            click.echo(user["token"])
            return
    raise click.ClickException(f"no demo user {username!r} in {path}")


#: The commands this module adds to ``govex`` (see :mod:`exchange.cli`).
COMMANDS: tuple[click.Command, ...] = (init, serve, worker, outbox, webhooks, demo, users,
                                       departments, calendar, keys, demo_token)
