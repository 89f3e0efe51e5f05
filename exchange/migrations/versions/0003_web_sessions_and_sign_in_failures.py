"""web sessions kept server-side; failed sign-ins counted for throttling

``exchange_web_sessions`` holds one row per signed-in page session (the SHA-256 of its random
id, the user, when it was created, last seen and expires), so signing out, or a row deleted by
an operator, ends the session even if someone kept the cookie. ``exchange_sign_in_failures``
holds the failed sign-ins of the last minutes and the lock-outs they caused, keyed by a keyed
hash of the username or client address. Both start empty: sessions signed in before this
migration (a signed cookie naming the user) are no longer accepted, so everyone signs in once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_web_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['username'], ['exchange_users.username'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('exchange_web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_web_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exchange_web_sessions_username'), ['username'], unique=False)

    op.create_table('exchange_sign_in_failures',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exchange_sign_in_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exchange_sign_in_failures_at'), ['at'], unique=False)
        batch_op.create_index('ix_exchange_sign_in_failures_key', ['scope', 'key', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('exchange_sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_exchange_sign_in_failures_key')
        batch_op.drop_index(batch_op.f('ix_exchange_sign_in_failures_at'))

    op.drop_table('exchange_sign_in_failures')
    with op.batch_alter_table('exchange_web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchange_web_sessions_username'))
        batch_op.drop_index(batch_op.f('ix_exchange_web_sessions_expires_at'))

    op.drop_table('exchange_web_sessions')
