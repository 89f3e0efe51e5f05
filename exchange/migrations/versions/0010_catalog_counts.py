"""catalog: pages and counts at a million entries — facets and times in the index, kept counts

A catalog page counted its total and facets over every dataset (~2 s at 10^6 entries) and
sorted them by date without an index to read in that order; a search looked every match up
in ``catalog_datasets`` for its facets and date. ``catalog_search`` now copies each dataset's
facets, publication time and last change (metadata or version) ahead of its words, with
covering indexes in both orders (newest, changed), and ``catalog_counts`` keeps how many
datasets have each combination of facets, in the same transaction as the index: a page's
total and facet counts are sums over a few hundred rows. The index is rebuilt here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_FACETS = ("department", "sharing", "level", "theme")


def upgrade() -> None:
    from catalog import search

    bind = op.get_bind()
    _drop_search(bind)
    op.create_table(
        "catalog_search",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(40), sa.ForeignKey("catalog_datasets.id"),
                  nullable=False, unique=True),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("sharing", sa.String(16), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("theme", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(field, sa.Text(), nullable=False) for field in search.FIELDS),
        sa.Column("document", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
                  nullable=True),
    )
    if bind.dialect.name == "postgresql":
        search.create_pg_index(bind)
    else:
        search.create_sqlite_index(bind)
    op.create_index("ix_catalog_search_newest", "catalog_search",
                    ["created_at", "dataset_id", *_FACETS])
    op.create_index("ix_catalog_search_changed", "catalog_search",
                    ["changed_at", "dataset_id", *_FACETS])
    op.drop_index("ix_catalog_datasets_facets", table_name="catalog_datasets")
    op.create_table(
        "catalog_counts",
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("sharing", sa.String(16), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("theme", sa.String(40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department", "sharing", "level", "theme",
                                name="pk_catalog_counts"),
    )
    search.rebuild(bind)


def downgrade() -> None:
    from catalog import search

    bind = op.get_bind()
    op.drop_table("catalog_counts")
    op.create_index("ix_catalog_datasets_facets", "catalog_datasets",
                    ["withdrawn_at", "department", "sharing", "level"])
    op.drop_index("ix_catalog_search_newest", table_name="catalog_search")
    op.drop_index("ix_catalog_search_changed", table_name="catalog_search")
    if bind.dialect.name == "sqlite":
        search.drop_sqlite_index(bind)
    else:
        bind.exec_driver_sql(f"DROP INDEX {search.PG_INDEX}")
    op.rename_table("catalog_search", "catalog_search_0010")
    op.create_table(
        "catalog_search",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(40), sa.ForeignKey("catalog_datasets.id"),
                  nullable=False, unique=True),
        *(sa.Column(field, sa.Text(), nullable=False) for field in search.FIELDS),
        sa.Column("document", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
                  nullable=True),
    )
    if bind.dialect.name == "postgresql":
        search.create_pg_index(bind)
    else:
        search.create_sqlite_index(bind)
    kept = ", ".join(("id", "dataset_id", *search.FIELDS, "document"))
    bind.exec_driver_sql(f"INSERT INTO catalog_search ({kept}) "  # noqa: S608 (our names)
                         f"SELECT {kept} FROM catalog_search_0010")
    op.drop_table("catalog_search_0010")


def _drop_search(bind: sa.Connection) -> None:
    from catalog import search

    if bind.dialect.name == "sqlite":
        search.drop_sqlite_index(bind)
    op.drop_table("catalog_search")
