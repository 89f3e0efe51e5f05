"""grants: row scopes (a district receives its own rows)

An approval could name columns but not rows: a district department asking for a city
register received every district's rows (a ``row_filter`` sent with an approval was ignored).
A grant now records the rows it delivers, ``{column: [values]}``; existing grants deliver
every row, as they did.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_grants") as batch:
        batch.add_column(sa.Column("rows", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_grants") as batch:
        batch.drop_column("rows")
