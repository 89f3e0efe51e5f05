"""catalog and grants: a dataset's metadata edited and withdrawn; grants follow new versions

A dataset records when its metadata was last edited (``updated_at``) and when, by whom and
why it was withdrawn (out of the catalog, its grants ended, its history kept). A grant says
whether it follows the newest version its conditions still fit (``latest``, what grants made
before this did in effect) or stays on the version approved (``pinned``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(80), nullable=True))
        batch.add_column(sa.Column("withdraw_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("policy_grants") as batch:
        batch.add_column(sa.Column("follows", sa.String(8), nullable=False,
                                   server_default="latest"))


def downgrade() -> None:
    with op.batch_alter_table("policy_grants") as batch:
        batch.drop_column("follows")
    with op.batch_alter_table("catalog_datasets") as batch:
        batch.drop_column("withdraw_reason")
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
        batch.drop_column("updated_at")
