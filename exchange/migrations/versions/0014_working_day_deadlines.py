"""requests: working-day deadlines, withdrawal; days an admin records in the calendar

A request had no due time (the inbox showed only how long it had waited) and could not be
withdrawn. A pending request now records when its provider must reply, counted in working
days in Asia/Shanghai (exchange.workdays); ``exchange_calendar_days`` holds the days an admin
records over the statutory calendar (a year it does not cover yet, a local holiday).
Requests made before have no due time.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_requests") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "exchange_calendar_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("added_by", sa.String(80), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("exchange_calendar_days")
    with op.batch_alter_table("policy_requests") as batch:
        batch.drop_column("due_at")
