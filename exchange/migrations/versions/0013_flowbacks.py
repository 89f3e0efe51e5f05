"""回流: flow-back decisions and the district grants derived from them

A city steward's decision that a dataset flows back to the districts under the city (its
purpose, legal basis, columns, masking, review date; two stewards at L4) is a row of
``policy_flowbacks``; each district's grant names the decision it was derived from.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_flowbacks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("dataset_id", sa.String(40), nullable=False, index=True),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False, index=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("logged_purpose", sa.Text(), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("masking", sa.JSON(), nullable=False),
        sa.Column("region_column", sa.String(200), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("review_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("approved_by", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(80), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
    )
    with op.batch_alter_table("policy_grants") as batch:
        batch.add_column(sa.Column("flowback_id", sa.String(40), nullable=True))
        batch.create_index("ix_policy_grants_flowback_id", ["flowback_id"])


def downgrade() -> None:
    with op.batch_alter_table("policy_grants") as batch:
        batch.drop_index("ix_policy_grants_flowback_id")
        batch.drop_column("flowback_id")
    op.drop_table("policy_flowbacks")
