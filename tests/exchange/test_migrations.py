"""The Alembic migrations build exactly the schema the models describe, and 0003 (web sessions,
sign-in failures) goes down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy_adapter import Base as CasbinBase

import audit.log
import catalog.models
import policies.models
from exchange import models
from exchange.db import MIGRATIONS, make_engine, upgrade
from exchange.migrations.env_names import include_name

NEW_IN_0003 = {"exchange_web_sessions", "exchange_sign_in_failures"}


def _migrate(engine: sa.Engine, how: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, how)(config, revision)


def test_the_migrations_build_the_schema_of_the_models(tmp_path, database_url):
    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        differences = compare_metadata(context, [
            models.metadata, catalog.models.metadata, policies.models.metadata,
            audit.log.metadata, CasbinBase.metadata])
    engine.dispose()
    assert differences == []


def test_0003_goes_down_and_up(tmp_path, database_url):
    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    assert NEW_IN_0003 <= set(sa.inspect(engine).get_table_names())
    _migrate(engine, "downgrade", "0002")
    assert not NEW_IN_0003 & set(sa.inspect(engine).get_table_names())
    _migrate(engine, "upgrade", "head")
    assert NEW_IN_0003 <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_0010_reshapes_the_search_index_and_counts_what_is_there(tmp_path, database_url):
    import datetime as dt

    from catalog import repository, search

    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    with engine.begin() as conn:
        for n, (title, level) in enumerate([("医院病床台账", "L2"), ("低保对象名单", "L1"),
                                            ("医院名录", "L2")]):
            repository.add_dataset(conn, department="health", title=title, description="",
                                   sharing="conditional", level=level, legal_basis=None,
                                   keywords="", created_by="x", now=now + dt.timedelta(hours=n))

    def found() -> tuple[list[str], int, list]:
        with engine.connect() as conn:
            titles = [d.title for d in repository.search_datasets(conn, q="医院")]
            return titles, repository.count_datasets(conn)[0], sorted(search.counts(conn))

    before = found()
    assert before[:2] == (["医院名录", "医院病床台账"], 3)
    _migrate(engine, "downgrade", "0009")  # the words are kept in 0009's shape
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM catalog_search").scalar_one() == 3
        assert "catalog_counts" not in sa.inspect(conn).get_table_names()
    _migrate(engine, "upgrade", "head")  # indexed and counted again
    assert found() == before
    engine.dispose()
