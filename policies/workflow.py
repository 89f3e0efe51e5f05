"""Access requests, decisions and grants over SQLAlchemy Core.

Every function takes a ``Connection`` whose transaction the caller owns, so that a decision and
its audit entry commit together. Times are passed in (``now``); ids are random.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from . import rules
from .errors import AlreadyDecided, GrantInactive, GrantNotFound, InvalidRequest, RequestNotFound
from .models import (
    AccessRequest,
    Appeal,
    DatasetFacts,
    Grant,
    appeals_table,
    approvals_table,
    aware,
    grants_table,
    requests_table,
)

__all__ = ["check_purpose", "create_request", "approve", "deny", "revoke", "get_request",
           "list_requests", "get_grant", "list_grants", "active_grant", "check_active",
           "first_conditions", "Decision", "AUTO_APPROVER", "FOLLOWS", "check_follows",
           "revoke_all", "refuse_pending", "count_requests", "count_grants", "granted_datasets",
           "move_grant", "following_grants", "escalate", "appeal", "decide_appeal", "appeals_of",
           "open_appeal", "suspend", "resume",
           "APPEALABLE", "APPEAL_OUTCOMES"]

AUTO_APPROVER = "system:auto"
MAX_PURPOSE = 2000
#: What a grant delivers once the dataset has newer versions: ``latest`` the newest one its
#: conditions still fit (the default: a grant is for the data, kept current), ``pinned``
#: exactly the version approved.
FOLLOWS = ("latest", "pinned")


class Decision:
    """The outcome of an approval: the grant, or ``None`` while a second steward is awaited."""

    def __init__(self, request: AccessRequest, grant: Grant | None) -> None:
        self.request = request
        self.grant = grant


def check_purpose(purpose: str | None) -> str:
    """``purpose`` stripped; raises InvalidRequest when it is empty or longer than
    :data:`MAX_PURPOSE` characters."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidRequest("state the purpose of the request", code="purpose_required",
                             field="purpose")
    if len(purpose) > MAX_PURPOSE:
        raise InvalidRequest(f"purpose is longer than {MAX_PURPOSE} characters",
                             code="purpose_too_long", field="purpose", max=MAX_PURPOSE)
    return purpose


def check_follows(follows: str | None) -> str:
    """``follows`` (``latest`` when not given). Raises InvalidRequest."""
    if follows is None:
        return "latest"
    if follows not in FOLLOWS:
        raise InvalidRequest(f"follows must be one of {', '.join(FOLLOWS)}",
                             code="follows_unknown", field="follows")
    return follows


def create_request(conn: sa.Connection, *, facts: DatasetFacts, requester: str, receiver: str,
                   purpose: str, columns: Sequence[str], default_masking: Mapping[str, str],
                   now: dt.datetime, logged_purpose: str | None = None,
                   due_at: dt.datetime | None = None, mode: str | None = None,
                   key_columns: Any = None) -> Decision:
    """Record a request. Unconditional data is granted at once (default masking), not-shareable
    data refused with its legal basis, anything else waits for a steward. ``logged_purpose``
    is the purpose as the audit log shows it, kept with the request and its grant.

    Raises InvalidRequest for an empty purpose or bad columns.
    """
    purpose = check_purpose(purpose)
    cols = rules.check_columns(columns, facts)
    mode = rules.check_mode(mode)
    keys = rules.check_key_columns(key_columns, facts) if mode == "query" else None
    if mode == "file" and key_columns is not None:
        raise InvalidRequest("key_columns are for a query request (mode query)",
                             code="key_columns_without_query", field="key_columns")
    status = rules.initial_status(facts)
    reason = None
    if status == "refused":
        reason = f"不予共享 (not shareable): {facts.legal_basis or 'no legal basis recorded'}"
    request_id = "rq_" + secrets.token_hex(8)
    conn.execute(requests_table.insert().values(
        id=request_id, dataset_id=facts.id, dataset_version=facts.version,
        provider=facts.provider, receiver=receiver, requester=requester, purpose=purpose,
        logged_purpose=logged_purpose, columns=cols,
        status="pending" if status == "granted" else status, reason=reason,
        level=facts.level, created_at=now, decided_at=now if status == "refused" else None,
        decided_by=AUTO_APPROVER if status == "refused" else None,
        due_at=due_at if status == "pending" else None, mode=mode, key_columns=keys))
    if status != "granted":
        return Decision(get_request(conn, request_id), None)
    masking = rules.resolve_masking(cols, defaults=default_masking, explicit={}, facts=facts)
    grant = _issue_grant(conn, get_request(conn, request_id), columns=cols, masking=masking,
                         approvers=[AUTO_APPROVER], days=rules.DEFAULT_EXPIRY_DAYS, now=now,
                         daily_limit=rules.check_daily_limit(None) if mode == "query" else None)
    return Decision(get_request(conn, request_id), grant)


def approve(conn: sa.Connection, request_id: str, *, steward: str, facts: DatasetFacts,
            default_masking: Mapping[str, str], columns: Sequence[str] | None = None,
            masking: Mapping[str, str] | None = None, expires_in_days: int | None = None,
            follows: str | None = None, rows: Any = None, daily_limit: Any = None,
            now: dt.datetime) -> Decision:
    """Approve with conditions. The caller has checked that ``steward`` may decide for the
    provider. L4 needs two distinct stewards: the first approval is recorded and the request
    stays pending; the second issues the grant with the first approval's conditions.

    Raises RequestNotFound, AlreadyDecided (decided before, or the same steward twice),
    InvalidRequest (columns outside the request, operators on columns outside the grant, a
    second approval with other conditions, bad expiry).
    """
    request = _pending(conn, request_id)
    cols = rules.check_columns(columns if columns is not None else request.columns, facts)
    extra = [c for c in cols if c not in request.columns]
    if extra:
        raise InvalidRequest(f"column(s) not requested: {', '.join(extra)}",
                             code="columns_not_requested", field="columns", columns=extra)
    plan = rules.resolve_masking(cols, defaults=default_masking, explicit=masking or {},
                                 facts=facts)
    days = rules.check_expiry(expires_in_days)
    scope = rules.check_rows(rows, facts)
    if request.mode != "query" and daily_limit is not None:
        raise InvalidRequest("a daily limit is for a query grant", code="daily_limit_file",
                             field="daily_limit")
    conditions = {"columns": cols, "masking": plan, "expires_in_days": days,
                  "follows": check_follows(follows), "rows": scope}
    if request.mode == "query":
        conditions["daily_limit"] = rules.check_daily_limit(daily_limit)
    first = first_conditions(conn, request_id)
    if first is not None:
        _check_confirms(first, columns=cols if columns is not None else None,
                        masking=plan if masking else None, days=expires_in_days,
                        follows=follows, rows=scope if rows is not None else None)
    _record_approval(conn, request, steward=steward, conditions=first or conditions, now=now)
    if len(request.approvals) + 1 < rules.approvals_needed(request.level):
        return Decision(get_request(conn, request_id), None)
    agreed = first or conditions
    grant = _issue_grant(conn, request, columns=agreed["columns"], masking=agreed["masking"],
                         approvers=[*request.approvals, steward],
                         days=agreed["expires_in_days"], now=now,
                         follows=agreed.get("follows", "latest"), rows=agreed.get("rows"),
                         daily_limit=agreed.get("daily_limit"))
    return Decision(get_request(conn, request_id), grant)


def deny(conn: sa.Connection, request_id: str, *, steward: str, reason: str,
         now: dt.datetime) -> AccessRequest:
    """Refuse a pending request with a reason. Raises InvalidRequest without a reason,
    RequestNotFound, AlreadyDecided."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("give the reason for the refusal", code="reason_required",
                             field="reason")
    _pending(conn, request_id)
    _set_status(conn, request_id, status="denied", reason=reason, by=steward, now=now)
    return get_request(conn, request_id)


def approvals_of(conn: sa.Connection, request_id: str) -> list[tuple[str, dt.datetime]]:
    """Who approved a request and when, first first."""
    rows = conn.execute(sa.select(approvals_table.c.steward, approvals_table.c.created_at)
                        .where(approvals_table.c.request_id == request_id)
                        .order_by(approvals_table.c.created_at))
    return [(steward, aware(at)) for steward, at in rows]


def withdraw(conn: sa.Connection, request_id: str, *, by: str, reason: str | None,
             now: dt.datetime) -> AccessRequest:
    """The requesting department withdraws a pending request. Raises RequestNotFound,
    AlreadyDecided (decided, or withdrawn, before)."""
    _pending(conn, request_id)
    _set_status(conn, request_id, status="withdrawn",
                reason=(reason or "").strip() or None, by=by, now=now)
    return get_request(conn, request_id)


def escalate(conn: sa.Connection, request_id: str, *, now: dt.datetime) -> AccessRequest | None:
    """Mark a request escalated to the data authority: it is still pending after its due
    time and was not escalated since. The request, or None when that no longer holds (it was
    decided, withdrawn or escalated meanwhile, or its due time moved)."""
    table = requests_table
    result = conn.execute(table.update().where(
        table.c.id == request_id, table.c.status == "pending", table.c.escalated_at.is_(None),
        table.c.due_at.is_not(None), table.c.due_at <= now).values(escalated_at=now))
    return get_request(conn, request_id) if result.rowcount == 1 else None


#: The outcomes of a request a requester may appeal: a steward's refusal, and the refusal of
#: data marked not shareable (the data authority coordinates both).
APPEALABLE = ("denied", "refused")
#: What the data authority decides on an appeal.
APPEAL_OUTCOMES = ("upheld", "returned")
MAX_APPEAL_TEXT = 2000


def _check_text(text: str | None, field: str, code: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidRequest(f"give the {field}", code=code, field=field)
    if len(text) > MAX_APPEAL_TEXT:
        raise InvalidRequest(f"{field} is longer than {MAX_APPEAL_TEXT} characters",
                             code=f"{field}_too_long", field=field, max=MAX_APPEAL_TEXT)
    return text


def appeal(conn: sa.Connection, request_id: str, *, by: str, reason: str,
           logged_reason: str, due_at: dt.datetime, now: dt.datetime) -> Appeal:
    """The requesting department appeals a refusal to the data authority: the request is
    ``appealed`` until the authority decides. Raises InvalidRequest (no reason),
    RequestNotFound, AlreadyDecided (not refused, or appealed already)."""
    reason = _check_text(reason, "reason", "appeal_reason_required")
    request = get_request(conn, request_id)
    if request.status not in APPEALABLE:
        code = "already_appealed" if request.status == "appealed" else "not_appealable"
        raise AlreadyDecided(f"a request that is {request.status} cannot be appealed",
                             code=code, status=request.status)
    result = conn.execute(requests_table.update().where(
        requests_table.c.id == request_id, requests_table.c.status == request.status
    ).values(status="appealed"))
    if result.rowcount != 1:
        raise AlreadyDecided("the request changed meanwhile", code="decided_meanwhile")
    appeal_id = "apl_" + secrets.token_hex(8)
    conn.execute(appeals_table.insert().values(
        id=appeal_id, request_id=request_id, reason=reason, logged_reason=logged_reason,
        appealed_by=by, created_at=now, due_at=due_at, previous_status=request.status,
        refused_by=request.decided_by, refused_at=request.decided_at,
        refusal_reason=request.reason))
    return _appeal(conn, appeal_id)


def open_appeal(conn: sa.Connection, request_id: str) -> Appeal | None:
    """The request's appeal the authority has not decided yet, if any."""
    row = conn.execute(sa.select(appeals_table).where(
        appeals_table.c.request_id == request_id, appeals_table.c.outcome.is_(None))).first()
    return None if row is None else _appeal_from_row(row)


def decide_appeal(conn: sa.Connection, request_id: str, *, by: str, outcome: str,
                  instruction: str | None, due_at: dt.datetime | None,
                  now: dt.datetime) -> tuple[Appeal, AccessRequest]:
    """The data authority decides an open appeal: ``upheld`` (the refusal stands) or
    ``returned`` (the request is pending again, due at ``due_at``, with the authority's
    ``instruction`` to its provider). Raises InvalidRequest, RequestNotFound, AlreadyDecided
    (no open appeal)."""
    if outcome not in APPEAL_OUTCOMES:
        raise InvalidRequest(f"outcome must be one of {', '.join(APPEAL_OUTCOMES)}",
                             code="appeal_outcome_unknown", field="outcome")
    text = _check_text(instruction, "instruction", "instruction_required") \
        if outcome == "returned" else ((instruction or "").strip() or None)
    request = get_request(conn, request_id)
    pending = open_appeal(conn, request_id)
    if pending is None or request.status != "appealed":
        raise AlreadyDecided("the request has no appeal waiting for a decision",
                             code="no_open_appeal")
    result = conn.execute(appeals_table.update().where(
        appeals_table.c.id == pending.id, appeals_table.c.outcome.is_(None)).values(
        outcome=outcome, instruction=text, decided_by=by, decided_at=now))
    if result.rowcount != 1:
        raise AlreadyDecided("the appeal was decided meanwhile", code="decided_meanwhile")
    if outcome == "upheld":
        values: dict[str, Any] = {"status": pending.previous_status}  # its decision kept
    else:
        values = {"status": "pending", "reason": None, "decided_at": None,
                  "decided_by": None, "due_at": due_at, "escalated_at": None}
    conn.execute(requests_table.update().where(requests_table.c.id == request_id)
                 .values(**values))
    return _appeal(conn, pending.id), get_request(conn, request_id)


def appeals_of(conn: sa.Connection, request_id: str) -> list[Appeal]:
    """A request's appeals, first first."""
    rows = conn.execute(sa.select(appeals_table).where(appeals_table.c.request_id == request_id)
                        .order_by(appeals_table.c.created_at, appeals_table.c.id))
    return [_appeal_from_row(row) for row in rows]


def _appeal(conn: sa.Connection, appeal_id: str) -> Appeal:
    row = conn.execute(sa.select(appeals_table).where(appeals_table.c.id == appeal_id)).one()
    return _appeal_from_row(row)


def _appeal_from_row(row: sa.Row) -> Appeal:
    data = dict(row._mapping)
    for key in ("created_at", "due_at", "decided_at", "refused_at"):
        data[key] = aware(data[key])
    return Appeal(**data)


def suspend(conn: sa.Connection, grant_id: str, *, reason: str, now: dt.datetime) -> bool:
    """Suspend an active query grant (``reason``: ``miss_burst``, ``key_scan``, ``steward``);
    False when it was suspended, revoked or is no query grant."""
    result = conn.execute(grants_table.update().where(
        grants_table.c.id == grant_id, grants_table.c.mode == "query",
        grants_table.c.revoked_at.is_(None), grants_table.c.suspended_at.is_(None)).values(
        suspended_at=now, suspended_reason=reason))
    return result.rowcount == 1


def resume(conn: sa.Connection, grant_id: str) -> Grant:
    """Lift a grant's suspension. Raises GrantNotFound, AlreadyDecided (not suspended)."""
    result = conn.execute(grants_table.update().where(
        grants_table.c.id == grant_id, grants_table.c.suspended_at.is_not(None)).values(
        suspended_at=None, suspended_reason=None))
    if result.rowcount != 1:
        get_grant(conn, grant_id)
        raise AlreadyDecided("the grant is not suspended", code="grant_not_suspended")
    return get_grant(conn, grant_id)


def revoke(conn: sa.Connection, grant_id: str, *, by: str, reason: str | None,
           now: dt.datetime) -> Grant:
    """Revoke a grant. Raises GrantNotFound, AlreadyDecided if already revoked."""
    grant = get_grant(conn, grant_id, lock=True)
    if grant.revoked_at is not None:
        raise AlreadyDecided("the grant was already revoked", code="grant_already_revoked")
    conn.execute(grants_table.update().where(grants_table.c.id == grant_id).values(
        revoked_at=now, revoked_by=by, revoke_reason=(reason or "").strip() or None))
    return get_grant(conn, grant_id)


def revoke_all(conn: sa.Connection, dataset_id: str, *, by: str, reason: str,
               now: dt.datetime) -> list[Grant]:
    """Revoke every grant of a dataset that is still active at ``now`` (the dataset is
    withdrawn); returns them as revoked."""
    query = sa.select(grants_table.c.id).where(
        grants_table.c.dataset_id == dataset_id, grants_table.c.revoked_at.is_(None),
        grants_table.c.expires_at > now)
    return [revoke(conn, grant_id, by=by, reason=reason, now=now)
            for grant_id in conn.execute(query).scalars().all()]


def refuse_pending(conn: sa.Connection, dataset_id: str, *, by: str, reason: str,
                   now: dt.datetime) -> list[AccessRequest]:
    """Refuse every pending request for a dataset (it was withdrawn), with ``reason``."""
    query = sa.select(requests_table.c.id).where(requests_table.c.dataset_id == dataset_id,
                                                 requests_table.c.status == "pending")
    refused = []
    for request_id in conn.execute(query).scalars().all():
        _set_status(conn, request_id, status="refused", reason=reason, by=by, now=now)
        refused.append(get_request(conn, request_id))
    return refused


def active_grant(conn: sa.Connection, grant_id: str, *, now: dt.datetime,
                 lock: bool = False) -> Grant:
    """The grant if it is active. Raises GrantNotFound, GrantInactive (revoked or expired).

    ``lock``: hold the grant's row until the transaction ends (``FOR UPDATE`` where the
    database has row locks; SQLite's writer already holds the whole database), so a
    revocation waits for, or is seen by, what the caller records under the grant.
    """
    return check_active(get_grant(conn, grant_id, lock=lock), now=now)


def check_active(grant: Grant, *, now: dt.datetime) -> Grant:
    """``grant`` if it is active at ``now``; raises GrantInactive (revoked or expired)."""
    status = grant.status(now)
    if status != "active":
        raise GrantInactive(f"the grant is {status}", code="grant_inactive", status=status)
    return grant


def get_request(conn: sa.Connection, request_id: str) -> AccessRequest:
    """Raises RequestNotFound."""
    row = conn.execute(sa.select(requests_table).where(requests_table.c.id == request_id)).first()
    if row is None:
        raise RequestNotFound(f"no request {request_id}", code="request_not_found")
    return _request_from_row(conn, row)


def list_requests(conn: sa.Connection, *, receiver: str | None = None,
                  provider: str | None = None, status: str | Collection[str] | None = None,
                  limit: int | None = 200, newest_first: bool = False,
                  after: tuple[dt.datetime, str] | None = None,
                  involving: Collection[str] | None = None) -> list[AccessRequest]:
    """Requests made by ``receiver`` and/or addressed to ``provider`` (or, ``involving``,
    made by or addressed to any of those departments), oldest first (or ``newest_first``),
    at most ``limit`` after the one made at ``after`` (its time and id: keyset paging)."""
    query = _listed(requests_table, newest_first=newest_first, after=after, limit=limit)
    query = query.where(*_request_filters(receiver, provider, status, involving))
    return [_request_from_row(conn, row) for row in conn.execute(query)]


def count_requests(conn: sa.Connection, *, receiver: str | None = None,
                   provider: str | None = None, status: str | Collection[str] | None = None,
                   involving: Collection[str] | None = None) -> int:
    """How many requests :func:`list_requests` selects (every page)."""
    query = sa.select(sa.func.count()).select_from(requests_table).where(
        *_request_filters(receiver, provider, status, involving))
    return int(conn.execute(query).scalar_one())


def _request_filters(receiver: str | None, provider: str | None,
                     status: str | Collection[str] | None,
                     involving: Collection[str] | None) -> list[Any]:
    table = requests_table
    found = [table.c[column] == value for column, value in (
        ("receiver", receiver), ("provider", provider)) if value is not None]
    if isinstance(status, str):
        found.append(table.c.status == status)
    elif status is not None:  # one of several
        found.append(table.c.status.in_(sorted(status)))
    if involving is not None:
        codes = sorted(involving)
        found.append(sa.or_(table.c.provider.in_(codes), table.c.receiver.in_(codes)))
    return found


def _listed(table: sa.Table, *, newest_first: bool, after: tuple[dt.datetime, str] | None,
            limit: int | None) -> sa.Select:
    """Rows of ``table`` by creation time then id, after the keyset ``after``."""
    created, ident = table.c.created_at, table.c.id
    query = sa.select(table)
    if after is not None:
        moment, last = after
        if newest_first:
            query = query.where(sa.or_(created < moment, sa.and_(created == moment,
                                                                   ident > last)))
        else:
            query = query.where(sa.or_(created > moment, sa.and_(created == moment,
                                                                   ident > last)))
    order = created.desc() if newest_first else created
    return query.order_by(order, ident).limit(limit)


# built once (read on every call of interface sharing: the compiled form is cached)
_GRANT = sa.select(grants_table).where(grants_table.c.id == sa.bindparam("grant_id"))
_GRANT_LOCKED = _GRANT.with_for_update()


def get_grant(conn: sa.Connection, grant_id: str, *, lock: bool = False) -> Grant:
    """Raises GrantNotFound. ``lock``: see :func:`active_grant`."""
    row = conn.execute(_GRANT_LOCKED if lock else _GRANT, {"grant_id": grant_id}).first()
    if row is None:
        raise GrantNotFound(f"no grant {grant_id}", code="grant_not_found")
    return _grant_from_row(row)


def list_grants(conn: sa.Connection, *, receiver: str | None = None,
                provider: str | None = None, limit: int | None = 500,
                after: tuple[dt.datetime, str] | None = None) -> list[Grant]:
    """Grants received by ``receiver`` and/or given by ``provider``, newest first, at most
    ``limit`` after the one issued at ``after`` (keyset paging)."""
    query = _listed(grants_table, newest_first=True, after=after, limit=limit)
    if receiver is not None:
        query = query.where(grants_table.c.receiver == receiver)
    if provider is not None:
        query = query.where(grants_table.c.provider == provider)
    return [_grant_from_row(row) for row in conn.execute(query)]


def move_grant(conn: sa.Connection, grant_id: str, *, dataset_version: int,
               masking: Mapping[str, str]) -> Grant:
    """Move a grant to ``dataset_version`` of its dataset with ``masking`` (a steward's
    decision on a version its conditions did not fit). Raises GrantNotFound."""
    get_grant(conn, grant_id, lock=True)
    conn.execute(grants_table.update().where(grants_table.c.id == grant_id).values(
        dataset_version=dataset_version, masking=dict(masking)))
    return get_grant(conn, grant_id)


def following_grants(conn: sa.Connection, dataset_id: str, *,
                     now: dt.datetime) -> list[Grant]:
    """The active grants of a dataset that follow its latest version."""
    query = sa.select(grants_table).where(
        grants_table.c.dataset_id == dataset_id, grants_table.c.revoked_at.is_(None),
        grants_table.c.expires_at > now, grants_table.c.follows == "latest")
    return [_grant_from_row(row) for row in conn.execute(query.order_by(grants_table.c.id))]


def granted_datasets(conn: sa.Connection, receiver: str, dataset_ids: Sequence[str], *,
                     now: dt.datetime) -> set[str]:
    """Which of ``dataset_ids`` ``receiver`` holds an active grant for at ``now``."""
    query = sa.select(grants_table.c.dataset_id).where(
        grants_table.c.receiver == receiver, grants_table.c.dataset_id.in_(list(dataset_ids)),
        grants_table.c.revoked_at.is_(None), grants_table.c.expires_at > now)
    return set(conn.execute(query).scalars())


def count_grants(conn: sa.Connection, *, receiver: str | None = None,
                 provider: str | None = None) -> int:
    """How many grants :func:`list_grants` selects (every page)."""
    query = sa.select(sa.func.count()).select_from(grants_table)
    if receiver is not None:
        query = query.where(grants_table.c.receiver == receiver)
    if provider is not None:
        query = query.where(grants_table.c.provider == provider)
    return int(conn.execute(query).scalar_one())


# -- internals -----------------------------------------------------------------------------
def _pending(conn: sa.Connection, request_id: str) -> AccessRequest:
    request = get_request(conn, request_id)
    if request.status != "pending":  # say what happened instead (a stale page's action)
        code = {"granted": "request_already_granted", "denied": "request_already_denied",
                "withdrawn": "request_already_withdrawn", "refused": "request_already_refused",
                "appealed": "request_under_appeal"}.get(request.status,
                                                        "request_already_decided")
        raise AlreadyDecided(f"the request is already {request.status}", code=code,
                             by=request.decided_by or "")
    return request


def first_conditions(conn: sa.Connection, request_id: str) -> dict | None:
    """The conditions of the first approval of an L4 request (columns, masking,
    expires_in_days), which a second steward confirms; ``None`` before any approval."""
    earlier = conn.execute(sa.select(approvals_table.c.conditions).where(
        approvals_table.c.request_id == request_id).order_by(approvals_table.c.created_at)).first()
    return earlier[0] if earlier else None


def _check_confirms(first: dict, *, columns: list[str] | None, masking: dict | None,
                    days: int | None, follows: str | None,
                    rows: dict[str, list[str]] | None = None) -> None:
    """A second approval confirms the first: anything it states must be the same."""
    for name, given, agreed in (("columns", columns, first["columns"]),
                                ("masking", masking, first["masking"]),
                                ("expires_in_days", days, first["expires_in_days"]),
                                ("follows", follows, first.get("follows", "latest")),
                                ("rows", rows, first.get("rows"))):
        if given is not None and given != agreed:
            raise InvalidRequest(f"the second approval must confirm the first one's {name}: "
                                 f"{agreed}", code="second_approval_differs", field=name,
                                 name=name)


def _record_approval(conn: sa.Connection, request: AccessRequest, *, steward: str,
                     conditions: dict, now: dt.datetime) -> None:
    """Store this steward's approval."""
    if steward in request.approvals:
        raise AlreadyDecided("you already approved this request; another steward must confirm",
                             code="already_approved")
    conn.execute(approvals_table.insert().values(
        request_id=request.id, steward=steward, conditions=conditions, created_at=now))


def _issue_grant(conn: sa.Connection, request: AccessRequest, *, columns: list[str],
                 masking: dict[str, str], approvers: list[str], now: dt.datetime,
                 days: int | None = None, expires_at: dt.datetime | None = None,
                 follows: str = "latest", rows: dict[str, list[str]] | None = None,
                 flowback_id: str | None = None, daily_limit: int | None = None) -> Grant:
    """Issue the grant of ``request`` (valid ``days`` from ``now``, or until ``expires_at``)
    and mark the request granted."""
    grant_id = "gr_" + secrets.token_hex(8)
    expiry = expires_at if expires_at is not None else now + dt.timedelta(days=days or 0)
    conn.execute(grants_table.insert().values(
        id=grant_id, request_id=request.id, dataset_id=request.dataset_id,
        dataset_version=request.dataset_version, provider=request.provider,
        receiver=request.receiver, purpose=request.purpose,
        logged_purpose=request.logged_purpose, columns=columns, masking=masking,
        approved_by=approvers, created_at=now, expires_at=expiry,
        follows=follows, rows=rows, flowback_id=flowback_id, mode=request.mode,
        key_columns=request.key_columns, daily_limit=daily_limit))
    _set_status(conn, request.id, status="granted", reason=None, by=approvers[-1], now=now)
    return get_grant(conn, grant_id)


def _set_status(conn: sa.Connection, request_id: str, *, status: str, reason: str | None,
                by: str, now: dt.datetime) -> None:
    result = conn.execute(requests_table.update().where(
        (requests_table.c.id == request_id) & (requests_table.c.status == "pending")
    ).values(status=status, reason=reason, decided_at=now, decided_by=by))
    if result.rowcount != 1:  # a concurrent decision won the race
        raise AlreadyDecided("the request was decided by someone else meanwhile",
                             code="decided_meanwhile")


def _request_from_row(conn: sa.Connection, row: sa.Row) -> AccessRequest:
    approvals = [r[0] for r in conn.execute(sa.select(approvals_table.c.steward).where(
        approvals_table.c.request_id == row.id).order_by(approvals_table.c.created_at))]
    grant = conn.execute(sa.select(grants_table.c.id).where(
        grants_table.c.request_id == row.id)).scalar()
    data = dict(row._mapping)
    for key in ("created_at", "decided_at", "due_at", "escalated_at"):
        data[key] = aware(data[key])
    return AccessRequest(**data, approvals=approvals, grant_id=grant)


def _grant_from_row(row: sa.Row) -> Grant:
    data = dict(row._mapping)
    for key in ("created_at", "expires_at", "revoked_at", "suspended_at"):
        data[key] = aware(data[key])
    return Grant(**data)
