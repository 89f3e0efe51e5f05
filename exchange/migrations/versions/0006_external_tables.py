"""catalog: external tables — a version may name a folder of Parquet files and their manifest

A dataset too large for one machine stays where it lies (a folder on a shared file system)
and is masked by Spark on delivery. Its version records the folder (``location``) and the
manifest of its files (path, size, SHA-256 each), whose digest is the version's ``sha256``:
a delivery is refused if the folder no longer matches. Uploaded datasets have neither (NULL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_versions") as batch:
        batch.add_column(sa.Column("location", sa.Text(), nullable=True))
        batch.add_column(sa.Column("manifest", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog_versions") as batch:
        batch.drop_column("manifest")
        batch.drop_column("location")
