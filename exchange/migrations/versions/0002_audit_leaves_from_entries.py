"""audit: leaf hashes are no longer stored twice

The stored log used to keep every leaf's hash both in ``audit_entries.leaf_hash`` and as a
level-0 row of ``audit_nodes``. Proofs now read level 0 from ``audit_entries`` and appends
store only the interior subtrees (level ≥ 1): one row and one B-tree page fewer per durable
append. This removes the duplicate rows; the downgrade writes them back from the entries, so
the earlier code finds every subtree it reads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:40:00
"""
from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM audit_nodes WHERE level = 0")


def downgrade() -> None:
    op.execute("INSERT INTO audit_nodes (level, position, hash) "
               "SELECT 0, idx, leaf_hash FROM audit_entries")
