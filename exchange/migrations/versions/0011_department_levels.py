"""departments: levels, parents and regions (市县两级, 回流)

A department was a code and two names: it had no level of government, no region and no
parent, so a district's departments could not be told from the city's and no data could flow
back down by region. Each department now has a level (province, city, district, street), a
parent, a GB/T 2260 region code and a disabled flag. Departments that exist are city-level,
with no parent or region, until an admin moves them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_departments") as batch:
        batch.add_column(sa.Column("level", sa.String(10), nullable=False,
                                   server_default="city"))
        batch.add_column(sa.Column("parent", sa.String(40), nullable=True))
        batch.add_column(sa.Column("region", sa.String(6), nullable=True))
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_foreign_key("fk_exchange_departments_parent", "exchange_departments",
                                 ["parent"], ["code"])
        batch.create_index("ix_exchange_departments_parent", ["parent"])
        batch.create_index("ix_exchange_departments_region", ["region"])


def downgrade() -> None:
    with op.batch_alter_table("exchange_departments") as batch:
        batch.drop_index("ix_exchange_departments_region")
        batch.drop_index("ix_exchange_departments_parent")
        batch.drop_constraint("fk_exchange_departments_parent", type_="foreignkey")
        batch.drop_column("disabled")
        batch.drop_column("region")
        batch.drop_column("parent")
        batch.drop_column("level")
