"""policies: a request's purpose as the audit log shows it, scrubbed once and kept

A purpose is written to the audit log with personal data and secrets starred. It used to be
scrubbed again for every entry that carries it (the request, the approval, each delivery),
running the detector and the NER model each time. The scrubbed text is now made once, when
the request is made, and kept beside the purpose on the request and its grant. Requests and
grants from before have none (NULL): their entries are scrubbed as before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_requests") as batch:
        batch.add_column(sa.Column("logged_purpose", sa.Text(), nullable=True))
    with op.batch_alter_table("policy_grants") as batch:
        batch.add_column(sa.Column("logged_purpose", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_grants") as batch:
        batch.drop_column("logged_purpose")
    with op.batch_alter_table("policy_requests") as batch:
        batch.drop_column("logged_purpose")
