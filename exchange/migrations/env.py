"""Alembic environment: one schema from the metadata of every package."""

from __future__ import annotations

from alembic import context
from sqlalchemy_adapter import Base as CasbinBase

import audit
import catalog
import policies
from exchange import models
from exchange.migrations.env_names import include_name

target_metadata = [models.metadata, catalog.metadata, policies.metadata, audit.metadata,
                   CasbinBase.metadata]


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
