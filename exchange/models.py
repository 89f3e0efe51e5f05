"""Tables owned by the exchange itself: departments, users, tokens, signing keys, exchanges."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "departments", "users", "tokens", "signing_keys", "exchanges"]

metadata = sa.MetaData()

departments = sa.Table(
    "exchange_departments", metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
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
