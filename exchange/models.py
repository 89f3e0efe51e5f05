"""Tables owned by the exchange itself: departments, users, tokens, web sessions, sign-in
failures, signing keys, exchanges."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "departments", "users", "tokens", "web_sessions", "sign_in_failures",
           "calendar_days", "notifications", "notification_reads", "webhooks", "outbox",
           "feedback", "objections", "query_indexes", "query_rows", "query_keys",
           "query_calls", "subject_calls",
           "signing_keys", "exchanges"]

metadata = sa.MetaData()

departments = sa.Table(
    "exchange_departments", metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    # its level of government, the department it answers to, its region (GB/T 2260), and
    # whether it was dissolved or merged (see exchange.departments)
    sa.Column("level", sa.String(10), nullable=False, server_default="city"),
    sa.Column("parent", sa.String(40), sa.ForeignKey("exchange_departments.code"),
              index=True),
    sa.Column("region", sa.String(6), index=True),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)

users = sa.Table(
    "exchange_users", metadata,
    sa.Column("username", sa.String(80), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("department", sa.String(40), sa.ForeignKey("exchange_departments.code")),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    # where notices are e-mailed (a work address; never written to the log)
    sa.Column("email", sa.String(254)),
)

tokens = sa.Table(
    "exchange_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # SHA-256 hex of the token
    sa.Column("username", sa.String(80), sa.ForeignKey("exchange_users.username"),
              nullable=False, index=True),
    sa.Column("label", sa.String(80), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

# A signed-in web page session; the cookie carries the random id, the table only its hash, so
# deleting the row ends the session and a copy of the table opens none.
web_sessions = sa.Table(
    "exchange_web_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # SHA-256 hex of the session id
    sa.Column("username", sa.String(80),
              sa.ForeignKey("exchange_users.username", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# Recent failed sign-ins and the lock-outs they caused, per username and per client address.
# ``key`` is a keyed hash of the username or address (never the text typed), and rows older
# than the window are deleted as new ones come, so the table holds minutes of history.
sign_in_failures = sa.Table(
    "exchange_sign_in_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(10), nullable=False),  # user | address
    sa.Column("key", sa.String(64), nullable=False),  # HMAC-SHA-256 hex of the name or address
    sa.Column("kind", sa.String(10), nullable=False),  # failure | lockout
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Index("ix_exchange_sign_in_failures_key", "scope", "key", "at"),
)

signing_keys = sa.Table(
    "exchange_signing_keys", metadata,
    sa.Column("kid", sa.String(64), primary_key=True),  # RFC 7638 thumbprint
    sa.Column("public_key", sa.String(64), nullable=False),  # base64url raw Ed25519
    sa.Column("private_pem", sa.Text, nullable=False),  # PKCS#8, encrypted
    sa.Column("status", sa.String(10), nullable=False),  # active | retired
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired_at", sa.DateTime(timezone=True)),
)

exchanges = sa.Table(
    "exchange_exchanges", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("grant_id", sa.String(40), nullable=False, index=True),
    sa.Column("dataset_id", sa.String(40), nullable=False),
    sa.Column("dataset_version", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(40), nullable=False),
    sa.Column("receiver", sa.String(40), nullable=False, index=True),
    sa.Column("format", sa.String(10), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("byte_size", sa.Integer, nullable=False),
    sa.Column("receipt", sa.Text, nullable=False),
    sa.Column("audit_index", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


# Days an admin recorded as working days or holidays, over the statutory calendar (a year the
# calendar package does not cover yet, a local holiday): see exchange.workdays.
calendar_days = sa.Table(
    "exchange_calendar_days", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("working", sa.Boolean, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("added_by", sa.String(80), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)


# The in-app inbox: one row per notice, addressed to a role within a department (every user
# holding it sees it); ``data`` holds ids, department codes and times, never personal data.
notifications = sa.Table(
    "exchange_notifications", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("department", sa.String(40), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),  # request.created, request.escalated...
    sa.Column("subject_id", sa.String(40)),  # the request, grant or objection it is about
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_exchange_notifications_to", "department", "role", "id"),
)

# Which user has read which notice.
notification_reads = sa.Table(
    "exchange_notification_reads", metadata,
    sa.Column("notification_id", sa.Integer,
              sa.ForeignKey("exchange_notifications.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("username", sa.String(80), primary_key=True),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
)

# A department's outgoing webhook (Standard Webhooks): its signing secret is encrypted with a
# key derived from the master key, like private keys.
webhooks = sa.Table(
    "exchange_webhooks", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("department", sa.String(40), sa.ForeignKey("exchange_departments.code"),
              nullable=False, index=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),  # encrypted whsec_ secret
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
)

# Background work, written in the transaction of the change that causes it and done by one
# ``govex worker`` (exchange.usecases.worker): a webhook call, an e-mail, or a timer (a
# reminder or an escalation at a due time). ``id`` is stable (the Standard Webhooks
# ``webhook-id``): a retry sends the same id, and a row is claimed under a lease, so no
# second worker sends it again. ``state``: pending, done, failed (gave up), dropped (no
# longer applies: the request was decided before its reminder).
outbox = sa.Table(
    "exchange_outbox", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),  # webhook | email | timer
    sa.Column("target", sa.String(80), nullable=False),  # webhook id | username | timer name
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),  # next attempt
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("leased_by", sa.String(80)),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.String(200)),  # a status code or an error class, no content
    sa.Index("ix_exchange_outbox_due", "state", "due_at"),
)


# 好差评: the receiving department's rating of a delivery (one per delivery); the comment is
# scrubbed of personal data before it is stored.
feedback = sa.Table(
    "exchange_feedback", metadata,
    sa.Column("exchange_id", sa.String(40), sa.ForeignKey("exchange_exchanges.id"),
              primary_key=True),
    sa.Column("provider", sa.String(40), nullable=False, index=True),
    sa.Column("receiver", sa.String(40), nullable=False),
    sa.Column("dataset_id", sa.String(40), nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),  # 1..5
    sa.Column("comment", sa.Text),  # scrubbed
    sa.Column("rated_by", sa.String(80), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# 校核纠错: a receiving department's report of errors in data it received, naming columns and
# row numbers of the delivery (never values); the provider answers by its due time: fixed in
# a new version, or explained.
objections = sa.Table(
    "exchange_objections", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("exchange_id", sa.String(40), sa.ForeignKey("exchange_exchanges.id"),
              nullable=False, index=True),
    sa.Column("grant_id", sa.String(40), nullable=False),
    sa.Column("dataset_id", sa.String(40), nullable=False),
    sa.Column("dataset_version", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(40), nullable=False, index=True),
    sa.Column("receiver", sa.String(40), nullable=False, index=True),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("rows", sa.JSON, nullable=False),  # row numbers of the delivered file, from 1
    sa.Column("description", sa.Text, nullable=False),  # scrubbed
    sa.Column("filed_by", sa.String(80), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("escalated_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(10), nullable=False),  # open | fixed | explained
    sa.Column("answer", sa.Text),  # scrubbed
    sa.Column("answered_by", sa.String(80)),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
    sa.Column("fixed_version", sa.Integer),
)


# 接口共享: the index a query grant looks rows up by, built once per dataset version and key
# column (exchange.lookups). A row is stored once, encrypted (AES-256-GCM, bound to its
# dataset, version and number); each key column maps the keyed hash of its normalized value
# (HMAC-SHA-256 under a key derived from the master key: no raw value is stored) to the rows
# that hold it.
query_indexes = sa.Table(
    "exchange_query_indexes", metadata,
    sa.Column("dataset_id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("key_column", sa.String(200), primary_key=True),
    sa.Column("state", sa.String(10), nullable=False),  # building | ready | failed
    sa.Column("rows", sa.Integer),
    sa.Column("built_at", sa.DateTime(timezone=True)),
)

query_rows = sa.Table(
    "exchange_query_rows", metadata,
    sa.Column("dataset_id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("row_number", sa.Integer, primary_key=True),  # from 1, as delivered files count
    sa.Column("payload", sa.LargeBinary, nullable=False),
)

query_keys = sa.Table(
    "exchange_query_keys", metadata,
    sa.Column("dataset_id", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("key_column", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Index("ix_exchange_query_keys_lookup", "key_hash", "dataset_id", "version", "key_column"),
)

# Calls made under each query grant per day (Shanghai), and how many found nothing: the daily
# limit is counted here, in the transaction of each call's audit entry.
query_calls = sa.Table(
    "exchange_query_calls", metadata,
    sa.Column("grant_id", sa.String(40), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("calls", sa.Integer, nullable=False),
    sa.Column("misses", sa.Integer, nullable=False),
    # a burst of misses is alerted once a day
    sa.Column("alerted", sa.Boolean, nullable=False, server_default=sa.false()),
    # a scan of keys one after another: the keyed hash of the key that would come next after
    # the last one, and how many keys in a row came one after the other
    sa.Column("next_key", sa.LargeBinary(32)),
    sa.Column("run", sa.Integer, nullable=False, server_default="0"),
)


# Who received data about this person: each lookup's and verification's keyed hash of its key,
# with its audit entry's index (the log holds the hash too, but is not indexed by it).
subject_calls = sa.Table(
    "exchange_subject_calls", metadata,
    sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("audit_index", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              nullable=False),
    sa.Index("ix_exchange_subject_calls_key", "key_hash"),
)
