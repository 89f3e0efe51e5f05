"""catalog: the national directory's metadata (政务信息资源目录)

A dataset records its resource code (信息资源代码, unique), its theme (a facet of the
catalog), the directory's other fields (分类, 共享条件, 共享方式, 开放属性, 更新周期,
关联资源代码, contact point, licence, temporal and spatial coverage) as one JSON document, and
the steward's description of each column (信息项描述), kept across versions. Datasets
published before get ``DEPARTMENT/`` + their id's hex part as resource code.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.add_column(sa.Column("resource_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("theme", sa.String(40), nullable=True))
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("column_notes", sa.JSON(), nullable=True))
    datasets = sa.table("catalog_datasets", sa.column("id", sa.String),
                        sa.column("department", sa.String),
                        sa.column("resource_code", sa.String))
    op.execute(datasets.update().values(
        resource_code=datasets.c.department + "/" + sa.func.substr(datasets.c.id, 4)))
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.create_unique_constraint("uq_catalog_datasets_resource_code", ["resource_code"])
        batch.create_index("ix_catalog_datasets_theme", ["theme"])


def downgrade() -> None:
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.drop_index("ix_catalog_datasets_theme")
        batch.drop_constraint("uq_catalog_datasets_resource_code", type_="unique")
        batch.drop_column("column_notes")
        batch.drop_column("details")
        batch.drop_column("theme")
        batch.drop_column("resource_code")
