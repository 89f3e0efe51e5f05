"""接口共享: query requests and grants, their lookup index and call counters

govex shipped whole tables; a service window checking one citizen's record needed the whole
register. A request may now ask for lookups by key columns (``mode`` query); its grant carries
a daily call limit and may be suspended. Each call's keyed key hash is indexed with its
audit entry, to answer who received data about a person. The lookup index (one encrypted row per record, keyed
hashes of the key columns' values) is built once per dataset version and key column; calls are
counted per grant and day.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_requests") as batch:
        batch.add_column(sa.Column("mode", sa.String(8), nullable=False, server_default="file"))
        batch.add_column(sa.Column("key_columns", sa.JSON(), nullable=True))
    with op.batch_alter_table("policy_grants") as batch:
        batch.add_column(sa.Column("mode", sa.String(8), nullable=False, server_default="file"))
        batch.add_column(sa.Column("key_columns", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("daily_limit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("suspended_reason", sa.String(40), nullable=True))
    op.create_table(
        "exchange_query_indexes",
        sa.Column("dataset_id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("key_column", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "exchange_query_rows",
        sa.Column("dataset_id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("row_number", sa.Integer(), primary_key=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "exchange_query_keys",
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key_column", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
    )
    op.create_index("ix_exchange_query_keys_lookup", "exchange_query_keys",
                    ["key_hash", "dataset_id", "version", "key_column"])
    op.create_table(
        "exchange_query_calls",
        sa.Column("grant_id", sa.String(40), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("next_key", sa.LargeBinary(32), nullable=True),
        sa.Column("run", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "exchange_subject_calls",
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("audit_index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
    )
    op.create_index("ix_exchange_subject_calls_key", "exchange_subject_calls", ["key_hash"])


def downgrade() -> None:
    op.drop_index("ix_exchange_subject_calls_key", "exchange_subject_calls")
    op.drop_table("exchange_subject_calls")
    op.drop_table("exchange_query_calls")
    op.drop_index("ix_exchange_query_keys_lookup", "exchange_query_keys")
    op.drop_table("exchange_query_keys")
    op.drop_table("exchange_query_rows")
    op.drop_table("exchange_query_indexes")
    with op.batch_alter_table("policy_grants") as batch:
        for column in ("suspended_reason", "suspended_at", "daily_limit", "key_columns",
                       "mode"):
            batch.drop_column(column)
    with op.batch_alter_table("policy_requests") as batch:
        batch.drop_column("key_columns")
        batch.drop_column("mode")
