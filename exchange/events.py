"""The audit log's entries: one typed builder per kind of event.

Every entry the exchange writes is built here, so what each kind holds is written once and
checked by the type checker. An entry holds metadata, never personal data: who acted (user
and department), on what (ids, hashes, counts, operators) and the outcome; a purpose only as
scrubbed for the log. ``time`` is stamped when the entry is appended (:meth:`Event.entry`);
fields that are ``None`` are left out (RFC 8785 has no gaps).

    rec.append(Deny(actor=who.username, actor_department=who.department,
                    provider=request.provider, receiver=request.receiver,
                    request_id=request.id, dataset_id=request.dataset_id))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = ["Event", "Publish", "DatasetChange", "Withdraw", "Request", "RequestWithdraw",
           "Approve", "FirstApproval",
           "FlowBack",
           "Deny", "Revoke", "GrantMove", "Escalate", "Appeal", "AppealDecision", "Exchange",
           "Feedback", "Objection", "ObjectionAnswer", "Lookup", "QueryAlert",
           "GrantSuspend", "SubjectSearch",
           "AuthzDenied", "AuthzThrottled",
           "SignInFailed", "SignInLocked", "UserAdd", "UserChange", "DepartmentChange",
           "CalendarChange", "WebhookChange",
           "KeyRotate", "Init", "EVENTS", "EVENT_TYPES"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """An audit entry before it is stamped and appended."""

    TYPE: ClassVar[str]
    actor: str | None

    def entry(self, *, time: str) -> dict[str, Any]:
        """The entry as the log stores it: ``type``, ``time`` and every field that is set."""
        entry: dict[str, Any] = {"type": self.TYPE, "time": time}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, (list, tuple)):
                value = list(value)
            if value is not None:
                entry[field.name] = value
        return entry


@dataclasses.dataclass(frozen=True, kw_only=True)
class Publish(Event):
    """A steward published a dataset (or a new version of it); ``public_columns``: the
    columns its steward marked public by law (依法公示: delivered as they are)."""

    TYPE = "publish"
    actor: str
    actor_department: str
    provider: str
    dataset_id: str
    dataset_version: int
    sha256: str
    row_count: int
    public_columns: Sequence[str] | None = None
    outcome: str = "published"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DatasetChange(Event):
    """A steward edited a dataset's metadata; ``fields`` names what changed (the values are
    the catalog's, public to every department)."""

    TYPE = "dataset_change"
    actor: str
    actor_department: str
    provider: str
    dataset_id: str
    fields: Sequence[str]
    outcome: str = "changed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Withdraw(Event):
    """A steward withdrew a dataset from the catalog; ``grants_ended`` active grants ended
    with it (each its own revoke entry)."""

    TYPE = "withdraw"
    actor: str
    actor_department: str
    provider: str
    dataset_id: str
    grants_ended: int
    outcome: str = "withdrawn"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Request(Event):
    """A department asked for a dataset; ``outcome`` is the request's status."""

    TYPE = "request"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    dataset_id: str
    dataset_version: int
    request_id: str
    purpose: str
    columns: Sequence[str]
    outcome: str
    due_at: str | None = None  # when the provider must reply (RFC 3339), if pending


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestWithdraw(Event):
    """The requesting department withdrew its pending request (the reason is not kept in the
    log: it may name people)."""

    TYPE = "request_withdraw"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    dataset_id: str
    request_id: str
    outcome: str = "withdrawn"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Approve(Event):
    """A grant was issued (by a steward, or by the exchange itself for unconditional data,
    when ``actor_department`` is None); ``columns`` maps each granted column to its
    operator; ``expires_at`` RFC 3339."""

    TYPE = "approve"
    actor: str
    actor_department: str | None
    provider: str
    receiver: str
    dataset_id: str
    dataset_version: int
    request_id: str
    grant_id: str
    purpose: str
    columns: Mapping[str, str]
    expires_at: str
    rows: Mapping[str, Sequence[str]] | None = None  # the grant's row scope, if it has one
    # a query grant (接口共享): its key columns and calls a day
    key_columns: Sequence[str] | None = None
    daily_limit: int | None = None
    outcome: str = "granted"


@dataclasses.dataclass(frozen=True, kw_only=True)
class FlowBack(Event):
    """回流: a steward decided that a dataset flows back to the districts under its
    department (``change``: decided, confirmed by a second steward at L4, or ended); each
    district's grant is an ``approve`` entry of its own. ``columns`` maps each column to its
    operator; ``districts`` names the departments that received a grant."""

    TYPE = "flowback"
    actor: str
    actor_department: str
    provider: str
    dataset_id: str
    dataset_version: int
    flowback_id: str
    change: str
    purpose: str | None = None
    legal_basis: str | None = None
    columns: Mapping[str, str] | None = None
    region_column: str | None = None
    review_at: str | None = None
    districts: Sequence[str] | None = None
    outcome: str = "recorded"


@dataclasses.dataclass(frozen=True, kw_only=True)
class FirstApproval(Event):
    """The first of the two stewards an L4 request needs approved it (no grant yet)."""

    TYPE = "approve"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    request_id: str
    dataset_id: str
    outcome: str = "first_approval"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Deny(Event):
    """A steward refused a request."""

    TYPE = "deny"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    request_id: str
    dataset_id: str
    outcome: str = "denied"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Escalate(Event):
    """A request (or an objection) still unanswered at its due time was escalated to the
    data authorities ``authorities`` (by the exchange: ``actor`` is ``system:worker``)."""

    TYPE = "escalate"
    actor: str
    provider: str
    receiver: str
    dataset_id: str
    due_at: str
    authorities: Sequence[str]
    request_id: str | None = None
    objection_id: str | None = None
    outcome: str = "escalated"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Feedback(Event):
    """好差评: the receiving department rated a delivery 1 to 5 (its comment, scrubbed, is
    kept with the rating, not in the log)."""

    TYPE = "feedback"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    dataset_id: str
    exchange_id: str
    rating: int
    outcome: str = "rated"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Objection(Event):
    """校核纠错: the receiving department reported errors in a delivery, naming ``columns``
    and the delivered file's ``rows`` (row numbers, never values); the provider answers by
    ``due_at``."""

    TYPE = "objection"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    dataset_id: str
    dataset_version: int
    exchange_id: str
    objection_id: str
    columns: Sequence[str]
    rows: Sequence[int]
    due_at: str
    outcome: str = "filed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ObjectionAnswer(Event):
    """The provider answered an objection: ``fixed`` (in ``fixed_version``) or
    ``explained``."""

    TYPE = "objection_answer"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    dataset_id: str
    objection_id: str
    outcome: str
    fixed_version: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Appeal(Event):
    """The requesting department appealed a refusal to the data authorities
    ``authorities``; ``reason`` as scrubbed for the log."""

    TYPE = "appeal"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    request_id: str
    dataset_id: str
    appeal_id: str
    reason: str
    due_at: str
    authorities: Sequence[str]
    outcome: str = "appealed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class AppealDecision(Event):
    """A data authority decided an appeal: ``upheld`` (the refusal stands) or ``returned``
    (pending again, due at ``due_at``); the instruction is not kept in the log."""

    TYPE = "appeal_decision"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    request_id: str
    dataset_id: str
    appeal_id: str
    outcome: str
    due_at: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Revoke(Event):
    """A steward revoked a grant."""

    TYPE = "revoke"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    grant_id: str
    dataset_id: str
    outcome: str = "revoked"


@dataclasses.dataclass(frozen=True, kw_only=True)
class GrantMove(Event):
    """A steward moved a grant to a newer version of its dataset (one its conditions did not
    fit), with ``columns`` mapping each delivered column to its operator from now on."""

    TYPE = "grant_move"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    grant_id: str
    dataset_id: str
    dataset_version: int
    columns: Mapping[str, str]
    outcome: str = "moved"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Exchange(Event):
    """Data left the exchange: what was delivered under which grant, its SHA-256 and rows;
    ``columns`` maps each delivered column to its operator; ``rows`` is the grant's row scope
    (``{column: [values]}``) when it delivers only some rows."""

    TYPE = "exchange"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    dataset_id: str
    dataset_version: int
    request_id: str
    grant_id: str
    exchange_id: str
    purpose: str
    columns: Mapping[str, str]
    row_count: int
    sha256: str
    rows: Mapping[str, Sequence[str]] | None = None  # the grant's row scope, if it has one
    outcome: str = "delivered"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Lookup(Event):
    """接口共享: one lookup (``lookup``) or verification (``verify``) under a query grant.
    ``key`` is the keyed pseudonym (HMAC-SHA-256 hex) of the value looked up by
    ``key_column``, never the value; ``columns`` maps each returned column to its operator (a
    verification returns none: ``claims`` names the columns compared); ``rows`` how many rows
    were returned or matched; ``outcome`` found, not_found, match or no_match."""

    TYPE = "lookup"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    dataset_id: str
    dataset_version: int
    grant_id: str
    call: str  # lookup | verify
    key_column: str
    key: str
    rows: int
    outcome: str
    columns: Mapping[str, str] | None = None
    claims: Sequence[str] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueryAlert(Event):
    """Calls under a query grant look like a table dump through the keyhole: ``reason``
    ``miss_burst`` (most of a day's calls found nothing) or ``key_scan`` (keys looked up one
    after another); ``suspended`` when the grant was suspended for it (a scan). By the
    exchange (``actor`` ``system:alert``)."""

    TYPE = "query_alert"
    actor: str
    provider: str
    receiver: str
    dataset_id: str
    grant_id: str
    reason: str
    calls: int
    misses: int
    suspended: bool
    authorities: Sequence[str]
    outcome: str = "alerted"


@dataclasses.dataclass(frozen=True, kw_only=True)
class GrantSuspend(Event):
    """A steward suspended a query grant or resumed it (``change``)."""

    TYPE = "grant_suspend"
    actor: str
    actor_department: str
    provider: str
    receiver: str
    grant_id: str
    change: str
    outcome: str = "changed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SubjectSearch(Event):
    """Someone asked who received data about a person: ``key`` is the keyed pseudonym of the
    identifier searched (never the value), with how many calls and deliveries were found."""

    TYPE = "subject_search"
    actor: str
    actor_department: str | None
    key: str
    calls: int
    deliveries: int
    outcome: str = "answered"


@dataclasses.dataclass(frozen=True, kw_only=True)
class AuthzDenied(Event):
    """Casbin refused a decision. ``object`` is the kind tried (``grant``), ``target`` its id
    when one was named, ``provider`` the department that owns it."""

    TYPE = "authz_denied"
    actor: str
    actor_department: str | None
    object: str
    target: str | None
    action: str
    provider: str | None
    outcome: str = "denied"


@dataclasses.dataclass(frozen=True, kw_only=True)
class AuthzThrottled(Event):
    """A user refused too often is refused everything for ``seconds``."""

    TYPE = "authz_throttled"
    actor: str
    actor_department: str | None
    seconds: int
    outcome: str = "throttled"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SignInFailed(Event):
    """A failed sign-in; ``actor`` only when the username exists. ``reason``:
    unknown_user, disabled_user or wrong_password."""

    TYPE = "sign_in_failed"
    actor: str | None = None
    actor_department: str | None = None
    reason: str
    outcome: str = "refused"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SignInLocked(Event):
    """Sign-ins of a username or from an address are locked ``until`` (RFC 3339)."""

    TYPE = "sign_in_locked"
    actor: str | None = None
    actor_department: str | None = None
    scope: str
    until: str
    outcome: str = "locked"


@dataclasses.dataclass(frozen=True, kw_only=True)
class UserAdd(Event):
    """An administrator added ``subject`` with ``role`` in ``actor_department`` (the new
    user's department, as the log has always named it)."""

    TYPE = "user_add"
    actor: str
    subject: str
    role: str
    actor_department: str | None
    outcome: str = "created"


@dataclasses.dataclass(frozen=True, kw_only=True)
class UserChange(Event):
    """An administrator changed ``subject``: disabled, enabled, password_reset,
    token_reissued."""

    TYPE = "user_change"
    actor: str
    subject: str
    change: str
    outcome: str = "changed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DepartmentChange(Event):
    """An administrator added a department (``change``: added) or changed it (renamed,
    moved, disabled, enabled); its level, parent and region as they are after the change
    (an organisation's facts, not personal data). A disabled department's users are
    disabled with it: ``users_disabled`` counts them."""

    TYPE = "department_change"
    actor: str
    subject: str
    change: str
    level: str | None = None
    parent: str | None = None
    region: str | None = None
    users_disabled: int | None = None
    outcome: str = "changed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class CalendarChange(Event):
    """An admin recorded ``day`` (YYYY-MM-DD) as a working day or a holiday, over the
    statutory calendar the time limits count by."""

    TYPE = "calendar_change"
    actor: str
    day: str
    working: bool
    outcome: str = "recorded"


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebhookChange(Event):
    """An admin subscribed a department's webhook (``change``: added) or stopped it
    (disabled); ``host`` is where it sends (the URL's path may hold a receiver's token, so
    it is not logged)."""

    TYPE = "webhook_change"
    actor: str
    subject: str
    department: str
    host: str
    change: str
    outcome: str = "changed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class KeyRotate(Event):
    """The signing key was rotated; ``kid`` is the new key's thumbprint."""

    TYPE = "key_rotate"
    actor: str
    kid: str
    outcome: str = "rotated"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Init(Event):
    """The instance was created."""

    TYPE = "init"
    actor: str
    outcome: str = "initialized"


#: Every kind of event, and the entry types the log holds (in the order auditors read them).
EVENTS: tuple[type[Event], ...] = (Publish, DatasetChange, Withdraw, Request, RequestWithdraw,
                                   Approve,
                                   FirstApproval, FlowBack, Deny, Escalate, Appeal,
                                   AppealDecision, Revoke, GrantMove, Exchange, Lookup,
                                   QueryAlert, GrantSuspend, SubjectSearch,
                                   Feedback,
                                   Objection, ObjectionAnswer,
                                   AuthzDenied,
                                   AuthzThrottled, SignInFailed, SignInLocked, UserAdd,
                                   UserChange, DepartmentChange, CalendarChange,
                                   WebhookChange, KeyRotate,
                                   Init)
EVENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(e.TYPE for e in EVENTS))
