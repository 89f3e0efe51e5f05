"""好差评 and 校核纠错: ratings of deliveries, objections to errors in delivered data

A receiving department could neither rate a delivery nor report errors in the data it
received. ``exchange_feedback`` holds one rating per delivery (its comment scrubbed);
``exchange_objections`` holds reports naming columns and row numbers, each with a due time
for the provider's answer (fixed in a new version, or explained).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_feedback",
        sa.Column("exchange_id", sa.String(40), sa.ForeignKey("exchange_exchanges.id"),
                  primary_key=True),
        sa.Column("provider", sa.String(40), nullable=False, index=True),
        sa.Column("receiver", sa.String(40), nullable=False),
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "exchange_objections",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("exchange_id", sa.String(40), sa.ForeignKey("exchange_exchanges.id"),
                  nullable=False, index=True),
        sa.Column("grant_id", sa.String(40), nullable=False),
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False, index=True),
        sa.Column("receiver", sa.String(40), nullable=False, index=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(80), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fixed_version", sa.Integer(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("exchange_objections")
    op.drop_table("exchange_feedback")
