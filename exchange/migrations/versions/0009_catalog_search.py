"""catalog: full-text search — an index of the jieba-segmented metadata, ranked

Search was every word a substring of the title, description, keywords or column names (so
``医院 病床`` found nothing unless both substrings appeared, and ``医疗机构名单`` as one
string rarely did). ``catalog_search`` holds each dataset's segmented words per field (title,
keywords, columns, description), kept in the same transaction as every edit; SQLite indexes it
with an FTS5 table (kept by triggers), PostgreSQL with a weighted ``tsvector`` column and a
GIN index. A covering index counts the catalog's facets. Existing datasets are indexed by
0010.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from catalog import search

    bind = op.get_bind()
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
    op.create_index("ix_catalog_datasets_facets", "catalog_datasets",
                    ["withdrawn_at", "department", "sharing", "level"])
    # Existing datasets are indexed by 0010, which reshapes this table (the indexing code of
    # today writes the columns 0010 adds).


def downgrade() -> None:
    from catalog import search

    bind = op.get_bind()
    op.drop_index("ix_catalog_datasets_facets", table_name="catalog_datasets")
    if bind.dialect.name == "sqlite":
        search.drop_sqlite_index(bind)
    op.drop_table("catalog_search")
