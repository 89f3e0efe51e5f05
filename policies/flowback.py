"""回流: data a city collects flowing back down to its districts.

One decision by a steward of the providing (city) department — purpose, legal basis, columns,
masking, a review date; at L4 confirmed by a second steward — from which each district under
the city receives a grant of its own region's rows (``rows = {region_column: [region]}``),
with a request row of its own so that every delivery is logged like any other. A district
created later gets its grant derived from the same decision (:func:`derive`). Ending the
decision revokes every grant derived from it.

Framework-free, like :mod:`.workflow`: every function takes the caller's connection, whose
transaction also holds the audit entries, and commits nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from . import rules
from .errors import AlreadyDecided, InvalidRequest, RequestNotFound
from .models import (
    DatasetFacts,
    FlowBack,
    Grant,
    aware,
    flowbacks_table,
    grants_table,
    requests_table,
)
from .workflow import _issue_grant, check_purpose, get_request, revoke

__all__ = ["decide", "confirm", "derive", "end", "get", "list_flowbacks", "active_over",
           "granted_to",
           "MAX_REVIEW_DAYS"]

#: A 回流 decision is reviewed at least once a year (its grants end then unless renewed).
MAX_REVIEW_DAYS = rules.MAX_EXPIRY_DAYS
_T = flowbacks_table


def decide(conn: sa.Connection, *, facts: DatasetFacts, steward: str, purpose: str,
           legal_basis: str, columns: Sequence[str], masking: Mapping[str, str],
           default_masking: Mapping[str, str], region_column: str, review_in_days: Any,
           districts: Iterable[tuple[str, str]], now: dt.datetime,
           logged_purpose: str | None = None) -> tuple[FlowBack, list[Grant]]:
    """Record the decision and, unless it waits for a second steward (L4), the grant of each
    ``(district, region)``. Raises InvalidRequest (no purpose or legal basis, bad columns,
    masking or review period, a dataset that is not shareable)."""
    purpose = check_purpose(purpose)
    basis = (legal_basis or "").strip() if isinstance(legal_basis, str) else ""
    if not basis:
        raise InvalidRequest("回流 needs its legal basis", code="legal_basis_required",
                             field="legal_basis")
    if facts.sharing == "none":
        raise InvalidRequest("a dataset that is not shareable does not flow back",
                             code="flowback_not_shareable", field="dataset_id")
    cols = rules.check_columns(columns, facts)
    plan = rules.resolve_masking(cols, defaults=default_masking, explicit=masking or {},
                                 facts=facts)
    days = rules.check_expiry(review_in_days)
    flowback_id = "fb_" + secrets.token_hex(8)
    active = rules.approvals_needed(facts.level) == 1
    conn.execute(_T.insert().values(
        id=flowback_id, dataset_id=facts.id, dataset_version=facts.version,
        provider=facts.provider, purpose=purpose, logged_purpose=logged_purpose,
        legal_basis=basis, columns=cols, masking=plan, region_column=region_column,
        level=facts.level, review_at=now + dt.timedelta(days=days),
        status="active" if active else "pending", approved_by=[steward], created_at=now))
    decision = get(conn, flowback_id)
    if not active:
        return decision, []
    return decision, [derive(conn, decision, code, region, now=now) for code, region in districts]


def confirm(conn: sa.Connection, flowback_id: str, *, steward: str,
            districts: Iterable[tuple[str, str]], now: dt.datetime
            ) -> tuple[FlowBack, list[Grant]]:
    """The second steward of an L4 decision confirms it: its grants are derived. Raises
    RequestNotFound, AlreadyDecided (not pending, or the same steward again)."""
    decision = get(conn, flowback_id)
    if decision.status != "pending":
        raise AlreadyDecided("this 回流 decision is not waiting for a confirmation",
                             code="flowback_not_pending")
    if steward in decision.approved_by:
        raise AlreadyDecided("you already approved it; another steward must confirm",
                             code="already_approved")
    done = conn.execute(_T.update().where(_T.c.id == flowback_id, _T.c.status == "pending")
                        .values(status="active", approved_by=[*decision.approved_by, steward]))
    if done.rowcount != 1:
        raise AlreadyDecided("decided by someone else meanwhile", code="decided_meanwhile")
    decision = get(conn, flowback_id)
    return decision, [derive(conn, decision, code, region, now=now) for code, region in districts]


def derive(conn: sa.Connection, decision: FlowBack, district: str, region: str, *,
           now: dt.datetime) -> Grant:
    """The grant of one district under an active decision: a request in the district's name
    stating the decision's purpose, granted at once by the decision's stewards, scoped to the
    district's region, valid until the review date."""
    request_id = "rq_" + secrets.token_hex(8)
    conn.execute(requests_table.insert().values(
        id=request_id, dataset_id=decision.dataset_id, dataset_version=decision.dataset_version,
        provider=decision.provider, receiver=district, requester=f"flowback:{decision.id}",
        purpose=decision.purpose, logged_purpose=decision.logged_purpose,
        columns=decision.columns, status="pending", level=decision.level, created_at=now))
    return _issue_grant(conn, get_request(conn, request_id), columns=decision.columns,
                        masking=decision.masking, approvers=list(decision.approved_by),
                        now=now, expires_at=decision.review_at, flowback_id=decision.id,
                        rows={decision.region_column: [region]})


def granted_to(conn: sa.Connection, flowback_id: str, district: str) -> bool:
    """Whether a decision already gave ``district`` a grant."""
    return conn.execute(sa.select(grants_table.c.id).where(
        grants_table.c.flowback_id == flowback_id, grants_table.c.receiver == district)
        .limit(1)).first() is not None


def end(conn: sa.Connection, flowback_id: str, *, by: str, reason: str,
        now: dt.datetime) -> tuple[FlowBack, list[Grant]]:
    """End a decision: every grant derived from it still active is revoked. Raises
    RequestNotFound, InvalidRequest (no reason), AlreadyDecided (ended before)."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidRequest("give the reason for ending it", code="reason_required",
                             field="reason")
    done = conn.execute(_T.update().where(_T.c.id == flowback_id, _T.c.status != "ended")
                        .values(status="ended", ended_at=now, ended_by=by, end_reason=reason))
    if done.rowcount != 1:
        get(conn, flowback_id)  # RequestNotFound if there is none
        raise AlreadyDecided("this 回流 decision already ended", code="flowback_ended")
    ids = conn.execute(sa.select(grants_table.c.id).where(
        grants_table.c.flowback_id == flowback_id, grants_table.c.revoked_at.is_(None),
        grants_table.c.expires_at > now)).scalars().all()
    return get(conn, flowback_id), [revoke(conn, gid, by=by, reason=reason, now=now)
                                    for gid in ids]


def get(conn: sa.Connection, flowback_id: str) -> FlowBack:
    """One decision. Raises RequestNotFound."""
    row = conn.execute(sa.select(_T).where(_T.c.id == flowback_id)).first()
    if row is None:
        raise RequestNotFound(f"no 回流 decision {flowback_id}", code="flowback_not_found")
    return _from_row(row)


def list_flowbacks(conn: sa.Connection, *, provider: str | None = None) -> list[FlowBack]:
    """Decisions (of ``provider``), newest first."""
    query = sa.select(_T).order_by(_T.c.created_at.desc(), _T.c.id.desc())
    if provider is not None:
        query = query.where(_T.c.provider == provider)
    return [_from_row(row) for row in conn.execute(query)]


def active_over(conn: sa.Connection, providers: Iterable[str], *,
                now: dt.datetime) -> list[FlowBack]:
    """The active decisions, not past review, of any of ``providers`` (a new district's
    grants are derived from them)."""
    codes = sorted(set(providers))
    if not codes:
        return []
    rows = conn.execute(sa.select(_T).where(_T.c.provider.in_(codes), _T.c.status == "active",
                                            _T.c.review_at > now))
    return [_from_row(row) for row in rows]


def _from_row(row: sa.Row) -> FlowBack:
    data = dict(row._mapping)
    for key in ("created_at", "review_at", "ended_at"):
        data[key] = aware(data[key])
    return FlowBack(**data)
