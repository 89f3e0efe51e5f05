"""Tables of the policies package (its own MetaData) and the records read from them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy_adapter import CasbinRule

__all__ = ["metadata", "requests_table", "approvals_table", "grants_table", "changes_table",
           "head_table", "flowbacks_table", "appeals_table", "AccessRequest", "Grant",
           "DatasetFacts", "FlowBack", "Appeal"]

metadata = sa.MetaData()

requests_table = sa.Table(
    "policy_requests", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("dataset_id", sa.String(40), nullable=False, index=True),
    sa.Column("dataset_version", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(40), nullable=False, index=True),
    sa.Column("receiver", sa.String(40), nullable=False, index=True),
    sa.Column("requester", sa.String(80), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    # the purpose as the audit log shows it (personal data and secrets starred), made once
    sa.Column("logged_purpose", sa.Text),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("reason", sa.Text),
    sa.Column("level", sa.String(4), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decided_by", sa.String(80)),
    # when the provider must have replied (working days; None: decided at once)
    sa.Column("due_at", sa.DateTime(timezone=True)),
    # when it was escalated to the data authority, still pending after its due time
    sa.Column("escalated_at", sa.DateTime(timezone=True)),
    # file (a whole table delivered) or query (接口: one-record lookups and verifications by
    # key_columns)
    sa.Column("mode", sa.String(8), nullable=False, server_default="file"),
    sa.Column("key_columns", sa.JSON),
)

# A requester's appeal against a refusal, which the data authority decides: it upholds the
# refusal or returns the request to its provider with an instruction and a new due time.
appeals_table = sa.Table(
    "policy_appeals", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("request_id", sa.String(40), sa.ForeignKey("policy_requests.id"),
              nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("logged_reason", sa.Text, nullable=False),  # as the audit log shows it
    sa.Column("appealed_by", sa.String(80), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("previous_status", sa.String(16), nullable=False),  # denied | refused
    # the refusal appealed (a returned request is pending again: its row forgets it)
    sa.Column("refused_by", sa.String(80)),
    sa.Column("refused_at", sa.DateTime(timezone=True)),
    sa.Column("refusal_reason", sa.Text),
    sa.Column("outcome", sa.String(10)),  # None while open | upheld | returned
    sa.Column("instruction", sa.Text),
    sa.Column("decided_by", sa.String(80)),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
)

approvals_table = sa.Table(
    "policy_approvals", metadata,
    sa.Column("request_id", sa.String(40), sa.ForeignKey("policy_requests.id"), primary_key=True),
    sa.Column("steward", sa.String(80), primary_key=True),
    sa.Column("conditions", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

grants_table = sa.Table(
    "policy_grants", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("request_id", sa.String(40), sa.ForeignKey("policy_requests.id"), nullable=False,
              unique=True),
    sa.Column("dataset_id", sa.String(40), nullable=False, index=True),
    sa.Column("dataset_version", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(40), nullable=False, index=True),
    sa.Column("receiver", sa.String(40), nullable=False, index=True),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("logged_purpose", sa.Text),  # the request's, copied
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("masking", sa.JSON, nullable=False),
    sa.Column("approved_by", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_by", sa.String(80)),
    sa.Column("revoke_reason", sa.Text),
    # "latest": deliveries read the newest version the grant's conditions still fit; "pinned":
    # always dataset_version
    sa.Column("follows", sa.String(8), nullable=False, server_default="latest"),
    # the rows it delivers: {column: [values]} (None: every row; see rules.check_rows)
    sa.Column("rows", sa.JSON),
    # derived from a 回流 decision (policy_flowbacks), for one district
    sa.Column("flowback_id", sa.String(40), index=True),
    # a query grant (接口): its key columns, calls allowed a day (Shanghai), and whether it is
    # suspended (a burst of misses, a scan of keys: until its steward resumes it)
    sa.Column("mode", sa.String(8), nullable=False, server_default="file"),
    sa.Column("key_columns", sa.JSON),
    sa.Column("daily_limit", sa.Integer),
    sa.Column("suspended_at", sa.DateTime(timezone=True)),
    sa.Column("suspended_reason", sa.String(40)),
)


# The feed of policy changes every process applies (policies.enforcer): one row per change,
# numbered under the lock of the one head row, so rows commit in the order of their numbers.
# 回流: a city steward's decision that a dataset flows back to the districts under the city,
# each receiving a grant scoped to its own region (derived from this row; see
# policies.flowback)
flowbacks_table = sa.Table(
    "policy_flowbacks", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("dataset_id", sa.String(40), nullable=False, index=True),
    sa.Column("dataset_version", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(40), nullable=False, index=True),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("logged_purpose", sa.Text),
    sa.Column("legal_basis", sa.Text, nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("masking", sa.JSON, nullable=False),
    sa.Column("region_column", sa.String(200), nullable=False),
    sa.Column("level", sa.String(4), nullable=False),
    sa.Column("review_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # pending | active | ended
    sa.Column("approved_by", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("ended_by", sa.String(80)),
    sa.Column("end_reason", sa.Text),
)

changes_table = sa.Table(
    "policy_changes", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sec", sa.String(2), nullable=False),  # p (a permission) or g (a role)
    sa.Column("op", sa.String(8), nullable=False),  # add or remove
    sa.Column("rules", sa.JSON, nullable=False),  # the rules added or removed
)

head_table = sa.Table(
    "policy_changes_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
)

# Revoking a grant removes the rules on its object (casbin_rule.v2): indexed, for 10k+ grants.
sa.Index("ix_casbin_rule_ptype_v2", CasbinRule.__table__.c.ptype, CasbinRule.__table__.c.v2)


@dataclasses.dataclass(frozen=True)
class DatasetFacts:
    """What the workflow needs to know of a dataset, passed in by the caller."""

    id: str
    version: int
    provider: str
    sharing: str  # unconditional | conditional | none
    level: str  # L1..L4
    columns: tuple[str, ...]
    personal_columns: frozenset[str] = frozenset()
    legal_basis: str | None = None
    #: columns its steward marked public by law (依法公示): delivered as they are by default
    public_columns: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class AccessRequest:
    """A department's request for a dataset, with its purpose and the columns it needs."""

    id: str
    dataset_id: str
    dataset_version: int
    provider: str
    receiver: str
    requester: str
    purpose: str
    columns: list[str]
    status: str  # pending | granted | refused | denied | withdrawn
    reason: str | None
    level: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    approvals: list[str] = dataclasses.field(default_factory=list)
    grant_id: str | None = None
    #: the purpose as the audit log shows it; None for requests made before it was stored
    logged_purpose: str | None = None
    #: when the provider must have replied (None: decided at once, or made before deadlines)
    due_at: dt.datetime | None = None
    #: when it was escalated to the data authority (still pending after ``due_at``)
    escalated_at: dt.datetime | None = None
    #: ``file`` (the table delivered) or ``query`` (lookups and verifications by key)
    mode: str = "file"
    #: a query request's key columns
    key_columns: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as RFC 3339)."""
        return _jsonable(dataclasses.asdict(self), omit="logged_purpose")


@dataclasses.dataclass(frozen=True)
class Grant:
    """Permission for one department to receive the approved columns, masked, until expiry."""

    id: str
    request_id: str
    dataset_id: str
    dataset_version: int
    provider: str
    receiver: str
    purpose: str
    columns: list[str]
    masking: dict[str, str]
    approved_by: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    #: the purpose as the audit log shows it; None for grants made before it was stored
    logged_purpose: str | None = None
    #: ``latest`` (the newest version the grant's conditions still fit) or ``pinned``
    #: (exactly ``dataset_version``)
    follows: str = "latest"
    #: the rows it delivers, ``{column: [values]}`` (None: every row)
    rows: dict[str, list[str]] | None = None
    #: the 回流 decision it was derived from, if any
    flowback_id: str | None = None
    #: ``file`` or ``query`` (接口), with a query grant's key columns and daily call limit
    mode: str = "file"
    key_columns: list[str] | None = None
    daily_limit: int | None = None
    #: a query grant suspended (by an alert or its steward) until its steward resumes it
    suspended_at: dt.datetime | None = None
    suspended_reason: str | None = None

    def status(self, now: dt.datetime) -> str:
        """"active", "revoked", "expired" or "suspended" at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "suspended" if self.suspended_at is not None else "active"

    def to_dict(self, *, now: dt.datetime) -> dict[str, Any]:
        """JSON-ready form with the status at ``now``."""
        return _jsonable(dataclasses.asdict(self), omit="logged_purpose") | {
            "status": self.status(now)}


@dataclasses.dataclass(frozen=True)
class Appeal:
    """An appeal against a refusal (see :data:`appeals_table`)."""

    id: str
    request_id: str
    reason: str
    logged_reason: str
    appealed_by: str
    created_at: dt.datetime
    due_at: dt.datetime
    previous_status: str
    refused_by: str | None
    refused_at: dt.datetime | None
    refusal_reason: str | None
    outcome: str | None
    instruction: str | None
    decided_by: str | None
    decided_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as RFC 3339; the reason as given, for the parties)."""
        return _jsonable(dataclasses.asdict(self), omit="logged_reason")


def _jsonable(data: dict[str, Any], *, omit: str) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in data.items()
            if k != omit}


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; every time in govex is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment


@dataclasses.dataclass(frozen=True)
class FlowBack:
    """A 回流 decision: a city dataset flows back to the districts under its provider, each
    receiving a grant of its own region's rows, until ``review_at``."""

    id: str
    dataset_id: str
    dataset_version: int
    provider: str
    purpose: str
    legal_basis: str
    columns: list[str]
    masking: dict[str, str]
    region_column: str
    level: str
    review_at: dt.datetime
    status: str  # pending (an L4 decision waits for its second steward) | active | ended
    approved_by: list[str]
    created_at: dt.datetime
    logged_purpose: str | None = None
    ended_at: dt.datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return _jsonable(dataclasses.asdict(self), omit="logged_purpose")
