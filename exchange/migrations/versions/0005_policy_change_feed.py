"""policies: a feed of policy changes, so that every server sees every decision at once

Each server process keeps the Casbin policies in memory. A grant approved or revoked through
one server used to reach the others only when they reloaded (a refusal triggered a reload at
most every 5 s), so a delivery on server B right after an approval on server A was refused and
logged as a false denial. Now every change to ``casbin_rule`` also writes a row to
``policy_changes`` in the same transaction, numbered under the lock of the one row of
``policy_changes_head``; every server applies the rows it has not seen before each decision.
``casbin_rule`` gets an index on (ptype, v2): revoking a grant removes the rules on its object.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_changes",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sec", sa.String(length=2), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "policy_changes_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_casbin_rule_ptype_v2", "casbin_rule", ["ptype", "v2"])


def downgrade() -> None:
    op.drop_index("ix_casbin_rule_ptype_v2", table_name="casbin_rule")
    op.drop_table("policy_changes_head")
    op.drop_table("policy_changes")
