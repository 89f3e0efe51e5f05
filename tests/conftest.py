"""Shared fixtures: no network, no writes outside tmp dirs, and the database the tests run on.

``pytest`` runs every test on SQLite files (the embedded default). ``pytest --database
postgresql`` runs the tests that store anything (those using the ``database_url`` fixture) on
PostgreSQL instead, and only those: a throwaway cluster is
created with ``initdb`` in a temporary folder (as the ``postgres`` user when run as root),
serves on a Unix socket only, gives each test instance a database of its own and is removed
at the end. ``GOVEX_TEST_POSTGRES_URL`` (``postgresql+psycopg://user@host/db``) uses a running
server instead; its databases are created and dropped the same way.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database", choices=("sqlite", "postgresql"), default="sqlite",
                     help="where tests that store anything keep it (default: SQLite files)")


#: psycopg warns when the garbage collector closes a connection (SQLite's driver does not):
#: tests make many short-lived Services and leave their pools to it.
_UNCLOSED = "ignore:.*was deleted while still open:ResourceWarning"


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--database") == "postgresql":
        config.addinivalue_line("filterwarnings", _UNCLOSED)  # inside each test
        warnings.filterwarnings("ignore", ".*was deleted while still open", ResourceWarning)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, only the tests that store something (those using ``database_url``).
    The heaviest end-to-end tests (marked ``postgresql_pass``) run in that pass only."""
    if config.getoption("--database") != "postgresql":
        kept = [item for item in items if not item.get_closest_marker("postgresql_pass")]
    else:
        kept = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The admin URL of a PostgreSQL server to create test databases on; None on SQLite."""
    if request.config.getoption("--database") != "postgresql":
        yield None
        return
    if os.environ.get("GOVEX_TEST_POSTGRES_URL"):
        yield os.environ["GOVEX_TEST_POSTGRES_URL"]
        return
    with throwaway_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(postgres_server: str | None,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """``database_url(home)``: the database of the test instance whose home is ``home``: a
    SQLite file in it, or a PostgreSQL database of its own (the same one for the same home)."""
    made: dict[str, str] = {}

    def url_for(home: str | os.PathLike[str]) -> str:
        key = str(Path(home).resolve())
        if key not in made:
            if postgres_server is None:
                Path(key).mkdir(parents=True, exist_ok=True)
                made[key] = f"sqlite:///{key}/govex.db"
            else:
                made[key] = create_database(postgres_server)
        return made[key]

    yield url_for
    if postgres_server is not None:
        for url in made.values():
            _drop_database(postgres_server, url)


def create_database(server: str) -> str:
    """A new, empty database on ``server`` (an admin URL); its URL."""
    import sqlalchemy as sa
    name = f"govex_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return str(sa.make_url(server).set(database=name).render_as_string(hide_password=False))


def _drop_database(server: str, url: str) -> None:
    import sqlalchemy as sa
    name = sa.make_url(url).database
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


class throwaway_cluster:  # noqa: N801 - used as a context manager, like a function
    """initdb + pg_ctl in a temporary folder, on a Unix socket only; removed on exit. The
    tests' cluster does not wait for the disk (``fsync=False``); the benchmarks' does.
    (``benchmarks/servers.py`` uses it too.)"""

    def __init__(self, *, fsync: bool = False) -> None:
        self.fsync = fsync

    def __enter__(self) -> str:
        bin_dir = _postgres_bin()
        # a short path: the server's Unix socket lives in it (at most 107 bytes)
        base = "/tmp" if os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="govex-pg-", dir=base))
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.run_as:
            shutil.chown(self.root, "postgres")
        self.pg_ctl = [*self.run_as, str(bin_dir / "pg_ctl"), "-D", str(self.root / "data")]
        _run([*self.run_as, str(bin_dir / "initdb"), "-D", str(self.root / "data"), "-A",
              "trust", "-U", "govex", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        no_fsync = "" if self.fsync else " -F"
        _run([*self.pg_ctl, "-o", f"-k {self.root} -h ''{no_fsync} -c max_connections=200",
              "-l", str(self.root / "server.log"), "-w", "start"])
        return f"postgresql+psycopg://govex@/postgres?host={self.root}"

    def __exit__(self, *_exc: object) -> None:
        subprocess.run([*self.pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True,
                       check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_bin() -> Path:
    """The folder of initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(re.sub(r"\D", "", p.parent.parent.name) or 0))
    if not versions:
        raise pytest.UsageError("--database postgresql needs PostgreSQL's initdb and pg_ctl "
                                "(Debian: apt-get install postgresql) or GOVEX_TEST_POSTGRES_URL")
    return versions[-1].parent


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}")


@pytest.fixture
def refusing_inserts() -> Callable[..., object]:
    """``with refusing_inserts(engine, table, message):`` every INSERT into ``table`` fails
    with an integrity error carrying ``message`` (a trigger, on SQLite or PostgreSQL)."""
    return _refusing_inserts


@contextmanager
def _refusing_inserts(engine, table: str, message: str) -> Iterator[None]:  # noqa: ANN001
    if engine.dialect.name == "sqlite":
        create = [f"CREATE TRIGGER govex_test_refuse BEFORE INSERT ON {table} "
                  f"BEGIN SELECT RAISE(ABORT, '{message}'); END"]
        drop = ["DROP TRIGGER govex_test_refuse"]
    else:
        create = ["CREATE FUNCTION govex_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                  f"$$ BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = '23000'; END $$",
                  f"CREATE TRIGGER govex_test_refuse BEFORE INSERT ON {table} "
                  "FOR EACH ROW EXECUTE FUNCTION govex_test_refuse()"]
        drop = [f"DROP TRIGGER govex_test_refuse ON {table}", "DROP FUNCTION govex_test_refuse()"]
    with engine.begin() as conn:
        for statement in create:
            conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in drop:
                conn.exec_driver_sql(statement)


@pytest.fixture(scope="session")
def spark_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test Spark session writes its event log."""
    return tmp_path_factory.mktemp("spark-events")


@pytest.fixture(scope="session")
def spark(spark_events: Path) -> Iterator[object]:
    """One real ``local[2]`` Spark session for the whole run (the JVM takes seconds to start),
    as ``govex mask --engine spark`` builds it, with an event log, Arrow batches of 40 rows and
    small file splits so that a small table still makes several tasks and batches."""
    from masking import spark_session

    session = spark_session("local[2]", {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": spark_events.as_uri(),
        "spark.eventLog.compress": "false",  # the tests read it
        "spark.sql.files.maxPartitionBytes": "8k",
        "spark.sql.files.openCostInBytes": "1k",
    }, batch_rows=40)
    yield session
    session.stop()
