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
