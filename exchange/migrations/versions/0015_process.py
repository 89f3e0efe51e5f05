"""the sharing process: notices, webhooks, background work, escalation and appeals

Nothing told a department that a request waited for it, that its request was decided, or that
a time limit passed; a refusal could not be appealed. This adds the in-app inbox
(``exchange_notifications`` and who read what), departments' outgoing webhooks (their secrets
encrypted), the outbox of background work a ``govex worker`` does (webhooks, e-mails, timers),
users' e-mail addresses, a request's escalation time, appeals, and the role permissions the
new steps need, for every department that exists (new departments get them when created).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

FOREVER = "9999-12-31T23:59:59Z"
# The permissions this revision adds to every department (policies.enforcer.ROLE_PERMISSIONS
# as of this revision; the authority's first three were never given to departments that
# existed before revision 0011).
NEW_PERMISSIONS = (
    ("requester", "request", "appeal"), ("requester", "exchange", "rate"),
    ("requester", "objection", "file"), ("steward", "objection", "answer"),
    ("auditor", "metrics", "read"),
    ("authority", "catalog", "read"), ("authority", "request", "list"),
    ("authority", "request", "oversee"), ("authority", "request", "coordinate"),
    ("authority", "metrics", "read"), ("admin", "webhook", "manage"),
)


def upgrade() -> None:
    with op.batch_alter_table("exchange_users") as batch:
        batch.add_column(sa.Column("email", sa.String(254), nullable=True))
    with op.batch_alter_table("policy_requests") as batch:
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "policy_appeals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("request_id", sa.String(40), sa.ForeignKey("policy_requests.id"),
                  nullable=False, index=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("logged_reason", sa.Text(), nullable=False),
        sa.Column("appealed_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_status", sa.String(16), nullable=False),
        sa.Column("refused_by", sa.String(80), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "exchange_notifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_exchange_notifications_to", "exchange_notifications",
                    ["department", "role", "id"])
    op.create_table(
        "exchange_notification_reads",
        sa.Column("notification_id", sa.Integer(),
                  sa.ForeignKey("exchange_notifications.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("username", sa.String(80), primary_key=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "exchange_webhooks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("department", sa.String(40), sa.ForeignKey("exchange_departments.code"),
                  nullable=False, index=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "exchange_outbox",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(80), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
    )
    op.create_index("ix_exchange_outbox_due", "exchange_outbox", ["state", "due_at"])
    _add_permissions()


def _add_permissions() -> None:
    conn = op.get_bind()
    rule = sa.table("casbin_rule", *(sa.column(c) for c in
                                     ("ptype", "v0", "v1", "v2", "v3", "v4")))
    domains = set(conn.execute(sa.text("SELECT code FROM exchange_departments")).scalars())
    domains |= set(conn.execute(sa.text(
        "SELECT DISTINCT v1 FROM casbin_rule WHERE ptype = 'p' AND v0 = 'requester' "
        "AND v2 = 'request'")).scalars())
    have = {tuple(r) for r in conn.execute(sa.text(
        "SELECT v0, v1, v2, v3 FROM casbin_rule WHERE ptype = 'p'"))}
    rows = [{"ptype": "p", "v0": role, "v1": dom, "v2": obj, "v3": act, "v4": FOREVER}
            for dom in sorted(domains) for role, obj, act in NEW_PERMISSIONS
            if (role, dom, obj, act) not in have]
    if rows:
        op.bulk_insert(rule, rows)


def downgrade() -> None:
    conn = op.get_bind()
    for role, obj, act in NEW_PERMISSIONS:
        if (role, obj, act) in {("authority", "catalog", "read"),
                                ("authority", "request", "list"),
                                ("authority", "request", "oversee")}:
            continue
        conn.execute(sa.text("DELETE FROM casbin_rule WHERE ptype = 'p' AND v0 = :r "
                             "AND v2 = :o AND v3 = :a"), {"r": role, "o": obj, "a": act})
    op.drop_index("ix_exchange_outbox_due", "exchange_outbox")
    op.drop_table("exchange_outbox")
    op.drop_table("exchange_webhooks")
    op.drop_table("exchange_notification_reads")
    op.drop_index("ix_exchange_notifications_to", "exchange_notifications")
    op.drop_table("exchange_notifications")
    op.drop_table("policy_appeals")
    with op.batch_alter_table("policy_requests") as batch:
        batch.drop_column("escalated_at")
    with op.batch_alter_table("exchange_users") as batch:
        batch.drop_column("email")
