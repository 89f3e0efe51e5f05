"""Use cases of access: request a dataset, decide (approve / deny), list and revoke grants."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from catalog import DatasetWithdrawn, repository
from masking import get_operator, loggable_text
from policies import GrantInactive, InvalidRequest, rules, workflow

from .. import departments, events, lookups, notices, workdays
from ..auth import Principal
from ..errors import Conflict, Forbidden, InvalidInput
from ..messages import Problem, problems_of
from ..paging import PageRequest, page_of
from ..services import Services
from .masking_plan import (
    check_operators,
    check_plan,
    dataset_facts,
    default_masking,
    proposed_rows,
    version_for,
)

__all__ = ["granted_datasets", "move_grant", "create_request", "list_requests", "approve", "deny",
           "get_request", "withdraw", "request_view", "appeal_view",
           "list_grants", "revoke",
           "first_approval", "logged_purpose", "grant_to_revoke", "MAX_PURPOSE",
           "REQUEST_STATUSES", "REQUEST_STATES", "DEFAULT_DAILY_LIMIT", "MAX_DAILY_LIMIT"]

#: The longest purpose a request may state (the sharing workflow's rule).
MAX_PURPOSE = workflow.MAX_PURPOSE
#: A query grant's calls a day when its steward names none, and the most it may allow.
DEFAULT_DAILY_LIMIT, MAX_DAILY_LIMIT = rules.DEFAULT_DAILY_LIMIT, rules.MAX_DAILY_LIMIT


def create_request(svc: Services, who: Principal, *, dataset_id: str, purpose: Any,
                   columns: Any, mode: Any = None, key_columns: Any = None) -> dict[str, Any]:
    """A department asks for a dataset. Granted at once for unconditional data, refused for
    not-shareable data, else pending. ``mode`` ``query`` asks for lookups by ``key_columns``
    (接口共享) instead of the table. Raises Forbidden, DatasetNotFound, InvalidRequest."""
    svc.require(who, "request", "create")
    _check_request(svc, who, dataset_id=dataset_id, purpose=purpose, columns=columns)
    # scrubbed before the write lock: that may load Presidio and the NER model
    scrubbed = loggable_text(purpose, analyzer=svc.analyzer())
    now = svc.clock()
    with svc.recording() as rec:
        dataset = repository.get_dataset(rec.conn, dataset_id)
        if dataset.withdrawn:
            raise DatasetWithdrawn(f"dataset {dataset_id} is withdrawn", code="dataset_withdrawn")
        if dataset.department == who.department:
            raise InvalidInput("your department owns this dataset; no request is needed",
                               code="own_dataset")
        due = workdays.due_after(now, svc.settings.reply_working_days,
                                 recorded=workdays.recorded_days(rec.conn))
        due = due.astimezone(dt.timezone.utc)  # stored as UTC, like every time
        decision = workflow.create_request(
            rec.conn, facts=dataset_facts(dataset), requester=who.username,
            receiver=who.department, purpose=purpose, logged_purpose=scrubbed,
            columns=columns, default_masking=default_masking(dataset), now=now, due_at=due,
            mode=mode, key_columns=key_columns)
        request, grant = decision.request, decision.grant
        rec.append(events.Request(
            actor=who.username, actor_department=who.department, provider=request.provider,
            receiver=request.receiver, dataset_id=request.dataset_id,
            dataset_version=request.dataset_version, request_id=request.id,
            purpose=scrubbed, columns=request.columns, outcome=request.status,
            due_at=request.due_at.isoformat()
            if request.status == "pending" and request.due_at else None))
        notices.schedule_deadline(rec.conn, request, now=now)
        if grant is not None:
            rec.append(_granted(grant, actor=workflow.AUTO_APPROVER, department=None))
            _allow(svc, rec.conn, grant)
            _index_for(rec.conn, grant, now=now)
    return request_view(request, now=now)


def _index_for(conn: Any, grant: Any, *, now: Any) -> None:
    """A query grant's lookup index, queued for the worker (once per version and column)."""
    if grant.mode == "query":
        lookups.schedule_build(conn, grant.dataset_id, version_for(conn, grant).version,
                               grant.key_columns, now=now)


REQUEST_STATUSES = ("pending", "granted", "denied", "refused", "withdrawn", "appealed")
#: The tabs of request lists: 办理中 (the provider or the authority still has to act) and
#: 已办结 (decided, refused or withdrawn).
REQUEST_STATES = {"open": ("pending", "appealed"),
                  "closed": ("granted", "denied", "refused", "withdrawn")}


def request_view(request: Any, *, now: Any) -> dict[str, Any]:
    """A request as clients see it: ``due_at`` in Shanghai time (ISO 8601 with its offset)
    and ``overdue`` (still pending after it)."""
    view = request.to_dict()
    if request.due_at is not None:
        view["due_at"] = request.due_at.astimezone(workdays.TZ).isoformat()
    view["overdue"] = bool(request.status == "pending" and request.due_at is not None
                           and now > request.due_at)
    return view


def get_request(svc: Services, who: Principal, request_id: str) -> dict[str, Any]:
    """One request with its due time and ``events``, its timeline (``at``, ``type``,
    ``actor``, ``detail``): asked, each approval, the decision or withdrawal, the grant's
    revocation. For the requesting department, a steward of the provider or a data authority
    overseeing either. Raises Forbidden, RequestNotFound."""
    svc.require(who, "request", "list")
    with svc.reader.connect() as conn:
        request = workflow.get_request(conn, request_id)
        if who.role == "authority":
            allowed = {request.provider, request.receiver} & set(
                departments.overseen(conn, who.department))
        else:
            allowed = who.department in ((request.receiver,) if who.role == "requester"
                                         else (request.provider,))
        if not allowed:
            raise Forbidden("this request is another department's", code="not_your_request")
        approvals = workflow.approvals_of(conn, request_id)
        grant = workflow.get_grant(conn, request.grant_id) if request.grant_id else None
        appeals = workflow.appeals_of(conn, request_id)
    timeline = [{"at": request.created_at, "type": "asked", "actor": request.requester,
                 "detail": {"columns": request.columns}}]
    decided = {"granted": "granted", "denied": "denied", "refused": "refused",
               "withdrawn": "withdrawn", "appealed": _refusal(appeals)}.get(request.status)
    for steward, at in approvals:
        if not (decided == "granted" and steward == request.decided_by):
            timeline.append({"at": at, "type": "approved", "actor": steward, "detail": {}})
    if decided and request.decided_at is not None:
        timeline.append({"at": request.decided_at, "type": decided,
                         "actor": request.decided_by,
                         "detail": {"reason": request.reason} if request.reason else
                         ({"grant_id": grant.id} if grant else {})})
    for made in appeals:
        timeline += _appeal_events(made)
    if request.escalated_at is not None:
        timeline.append({"at": request.escalated_at, "type": "escalated",
                         "actor": "system:worker", "detail": {}})
    if grant is not None and grant.revoked_at is not None:
        timeline.append({"at": grant.revoked_at, "type": "revoked", "actor": grant.revoked_by,
                         "detail": {"reason": grant.revoke_reason}
                         if grant.revoke_reason else {}})
    # every time here is already aware (the workflow's records); steps of the same second in
    # the order they happen
    ordered = sorted(timeline, key=lambda e: (e["at"], _STEP_ORDER.get(e["type"], 9)))
    events_ = [e | {"at": e["at"].astimezone(workdays.TZ).isoformat()} for e in ordered]
    shown = [appeal_view(made) for made in appeals]
    now = svc.clock()
    return request_view(request, now=now) | {
        "events": events_, "appeals": shown,
        # a grant revoked or expired since: the request was granted, its data no longer is
        "grant_status": grant.status(now) if grant is not None else None}


#: The order of a request's steps that share a second (the log's times are whole seconds).
_STEP_ORDER = {"asked": 0, "escalated": 1, "denied": 2, "refused": 2, "appealed": 3,
               "appeal_upheld": 4, "appeal_returned": 4, "approved": 5, "granted": 6,
               "withdrawn": 6, "revoked": 7}


def _refusal(appeals: list[Any]) -> str | None:
    """The status an appealed request had before its open appeal."""
    return appeals[-1].previous_status if appeals else None


def _appeal_events(made: Any) -> list[dict[str, Any]]:
    """An appeal on a request's timeline: the refusal it answered (when the request's row
    no longer holds it: it was returned), the appeal, and the authority's decision."""
    found = []
    if made.outcome == "returned" and made.refused_at is not None:  # the row forgot it
        found.append({"at": made.refused_at, "type": made.previous_status,
                      "actor": made.refused_by,
                      "detail": {"reason": made.refusal_reason} if made.refusal_reason else {}})
    found.append({"at": made.created_at, "type": "appealed", "actor": made.appealed_by,
                  "detail": {"reason": made.reason}})
    if made.outcome is not None and made.decided_at is not None:
        found.append({"at": made.decided_at, "type": f"appeal_{made.outcome}",
                      "actor": made.decided_by,
                      "detail": {"instruction": made.instruction} if made.instruction else {}})
    return found


def appeal_view(made: Any) -> dict[str, Any]:
    """An appeal as clients see it (times in Shanghai time)."""
    view = made.to_dict()
    for key in ("created_at", "due_at", "decided_at", "refused_at"):
        moment = getattr(made, key)
        view[key] = moment.astimezone(workdays.TZ).isoformat() if moment else None
    return view


def withdraw(svc: Services, who: Principal, request_id: str, *,
             reason: Any = None) -> dict[str, Any]:
    """The requesting department withdraws its pending request. Raises Forbidden (another
    department's), RequestNotFound, AlreadyDecided, InvalidInput (a reason that is not
    text)."""
    svc.require(who, "request", "create")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("the reason must be text", code="reason_not_text", field="reason")
    with svc.recording() as rec:
        current = workflow.get_request(rec.conn, request_id)
        if current.receiver != who.department:
            raise Forbidden("only the requesting department may withdraw its request",
                            code="not_your_request")
        request = workflow.withdraw(rec.conn, request_id, by=who.username, reason=reason,
                                    now=svc.clock())
        rec.append(events.RequestWithdraw(
            actor=who.username, actor_department=who.department, provider=request.provider,
            receiver=request.receiver, dataset_id=request.dataset_id, request_id=request.id))
    return request_view(request, now=svc.clock())


def _check_request(svc: Services, who: Principal, *, dataset_id: Any, purpose: Any,
                   columns: Any) -> None:
    """Every problem of a request at once (a form shows them all). Raises InvalidInput,
    DatasetNotFound. The purpose's length is checked before it is scrubbed: a long text
    costs the scrubber seconds."""
    malformed: list[Problem] = []  # wrong types (400)
    refused: list[Problem] = []  # well-formed, against the rules (422)
    if not isinstance(dataset_id, str) or not dataset_id:
        malformed.append(Problem("dataset_id_required", "dataset_id"))
    if not isinstance(purpose, str):
        malformed.append(Problem("purpose_not_text", "purpose"))
    else:
        refused += _problems(workflow.check_purpose, purpose)
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        malformed.append(Problem("columns_not_a_list", "columns"))
    elif not any(p.field == "dataset_id" for p in malformed):
        with svc.reader.connect() as conn:
            dataset = repository.get_dataset(conn, dataset_id)
        if dataset.department == who.department:
            raise InvalidInput("your department owns this dataset; no request is needed",
                               code="own_dataset")
        refused += _problems(rules.check_columns, columns, dataset_facts(dataset))
    if malformed or refused:
        raise InvalidInput.of(malformed + refused, malformed=bool(malformed))


def _problems(check: Any, *args: Any) -> list[Problem]:
    """The problem ``check(*args)`` raises (a domain error with a code), or none."""
    try:
        check(*args)
    except InvalidRequest as exc:
        found = problems_of(exc)
        if not found:
            raise
        return found
    return []


def logged_purpose(svc: Services, record: Any) -> str:
    """The purpose of a request or grant as the audit log shows it: the text scrubbed when
    the request was made (requests made before it was kept are scrubbed now)."""
    if record.logged_purpose is not None:
        return record.logged_purpose
    return loggable_text(record.purpose, analyzer=svc.analyzer())


def _granted(grant: Any, *, actor: str, department: str | None) -> events.Approve:
    return events.Approve(
        actor=actor, actor_department=department, provider=grant.provider,
        receiver=grant.receiver, dataset_id=grant.dataset_id,
        dataset_version=grant.dataset_version, request_id=grant.request_id, grant_id=grant.id,
        purpose=grant.logged_purpose, columns=grant.masking,
        expires_at=grant.expires_at.isoformat(), rows=grant.rows,
        key_columns=grant.key_columns, daily_limit=grant.daily_limit)


def _allow(svc: Services, conn: Any, grant: Any) -> None:
    """The grant's permission, committed with it (every server applies it before its next
    decision)."""
    svc.enforcer.allow_grant(grant.id, grant.receiver, until=grant.expires_at, conn=conn)


def list_requests(svc: Services, who: Principal, *, status: str | None = None,
                  page: PageRequest = PageRequest()) -> dict[str, Any]:
    """A page of requests: a requester sees its department's, a steward those for its
    datasets, a data authority those made by or to any department it oversees (its region's,
    at its level and below) — newest first, except pending ones in a steward's or an
    authority's inbox, oldest (soonest due) first:
    ``requests``, ``next_page_token``, ``total``. Raises Forbidden; InvalidInput for a
    status that does not exist."""
    svc.require(who, "request", "list")
    if status and status not in REQUEST_STATUSES and status not in REQUEST_STATES:
        raise InvalidInput(f"status must be one of {', '.join(REQUEST_STATUSES)}, open or "
                           f"closed", field="status")
    inbox = who.role != "requester" and status == "pending"
    selected = REQUEST_STATES.get(status or "", status or None)
    with svc.reader.connect() as conn:
        if who.role == "authority":  # its region's departments and those below
            side: dict[str, Any] = {"involving": departments.overseen(conn, who.department)}
        elif who.role == "requester":
            side = {"receiver": who.department}
        else:
            side = {"provider": who.department}
        found = workflow.list_requests(conn, status=selected, limit=page.size + 1,
                                       newest_first=not inbox, after=page.after, **side)
        total = workflow.count_requests(conn, status=selected, **side)
        shown, token = page_of(found, page, key=lambda r: (r.created_at, r.id))
        views = [request_view(r, now=svc.clock()) for r in shown]
        if who.role == "steward":  # what the review proposes for each pending one
            datasets: dict[str, Any] = {}
            for view in views:
                if view["status"] != "pending":
                    continue
                if view["dataset_id"] not in datasets:
                    datasets[view["dataset_id"]] = repository.get_dataset(conn,
                                                                          view["dataset_id"])
                view["proposed_rows"] = proposed_rows(conn, datasets[view["dataset_id"]],
                                                      view["receiver"])
    return {"requests": views, "next_page_token": token, "total": total}


def _decider(svc: Services, who: Principal, request_id: str) -> tuple[Any, Any]:
    with svc.reader.connect() as conn:
        request = workflow.get_request(conn, request_id)
        dataset = repository.get_dataset(conn, request.dataset_id)
    svc.require(who, "request", "decide", dom=request.provider, target=request.id)
    return request, dataset


def approve(svc: Services, who: Principal, request_id: str, *, columns: Any = None,
            masking: Any = None, expires_in_days: Any = None,
            follows: Any = None, rows: Any = None, daily_limit: Any = None) -> dict[str, Any]:
    """A steward of the owning department approves with conditions; ``follows``: whether the
    grant delivers the newest version its conditions still fit (``latest``, the default) or
    exactly the version requested (``pinned``); ``rows``: the rows it delivers,
    ``{column: [values]}`` (default every row; see :func:`policies.rules.check_rows`).
    Raises Forbidden, RequestNotFound, AlreadyDecided, InvalidRequest, InvalidInput."""
    request, dataset = _decider(svc, who, request_id)
    if follows is not None and follows not in workflow.FOLLOWS:
        raise InvalidInput(f"follows must be one of {', '.join(workflow.FOLLOWS)}",
                           code="follows_unknown", field="follows")
    plan = check_operators(masking)
    if expires_in_days is not None:
        try:
            rules.check_expiry(expires_in_days)
        except ValueError as exc:  # out of the documented range: malformed, like a bad name
            raise InvalidInput(str(exc), code=getattr(exc, "code", None),
                               field=getattr(exc, "field", None),
                               **getattr(exc, "params", {})) from None
    if columns is not None and (not isinstance(columns, list)
                                or not all(isinstance(c, str) for c in columns)):
        raise InvalidInput("columns must be a list of column names", code="columns_not_a_list",
                           field="columns")
    if plan:
        facts = dataset_facts(dataset)
        wanted = rules.check_columns(columns if columns is not None else request.columns, facts)
        resolved = rules.resolve_masking(wanted, defaults=default_masking(dataset),
                                         explicit=plan, facts=facts)
        if all(get_operator(op).drops_column for op in resolved.values()):  # nothing to deliver
            raise InvalidInput.of([Problem("masking_drops_every_column", "masking")],
                                  malformed=False)
        check_plan(svc, dataset, resolved, receiver=request.receiver)
    purpose = logged_purpose(svc, request)
    with svc.recording() as rec:
        decision = workflow.approve(
            rec.conn, request_id, steward=who.username, facts=dataset_facts(dataset),
            default_masking=default_masking(dataset), columns=columns, masking=plan,
            expires_in_days=expires_in_days, follows=follows, rows=rows,
            daily_limit=daily_limit, now=svc.clock())
        grant = decision.grant
        if grant is not None:
            rec.append(_granted(dataclasses.replace(grant, logged_purpose=purpose),
                                actor=who.username, department=who.department))
            _allow(svc, rec.conn, grant)
            _index_for(rec.conn, grant, now=svc.clock())
        else:
            rec.append(events.FirstApproval(
                actor=who.username, actor_department=who.department,
                provider=request.provider, receiver=request.receiver, request_id=request.id,
                dataset_id=request.dataset_id))
    return {"request": request_view(decision.request, now=svc.clock()),
            "grant_id": grant.id if grant else None,
            "grant": grant.to_dict(now=svc.clock()) if grant else None}


def first_approval(svc: Services, who: Principal, request_id: str) -> dict[str, Any] | None:
    """For an L4 request one steward already approved: the conditions the second steward
    confirms (columns, masking, expires_in_days). Raises Forbidden, RequestNotFound."""
    _decider(svc, who, request_id)
    with svc.reader.connect() as conn:
        return workflow.first_conditions(conn, request_id)


def deny(svc: Services, who: Principal, request_id: str, *, reason: Any) -> dict[str, Any]:
    """A steward of the owning department refuses, with a reason."""
    request, _ = _decider(svc, who, request_id)
    if not isinstance(reason, str):
        raise InvalidInput("reason must be text", code="reason_not_text", field="reason")
    with svc.recording() as rec:
        denied = workflow.deny(rec.conn, request_id, steward=who.username, reason=reason,
                               now=svc.clock())
        rec.append(events.Deny(actor=who.username, actor_department=who.department,
                               provider=request.provider, receiver=request.receiver,
                               request_id=request.id, dataset_id=request.dataset_id))
    return denied.to_dict()


def list_grants(svc: Services, who: Principal, *,
                page: PageRequest = PageRequest()) -> dict[str, Any]:
    """A page of the grants the department received (requester) or gave (steward), newest
    first: ``grants``, ``next_page_token``, ``total``."""
    svc.require(who, "grant", "list")
    side = {"receiver": who.department} if who.role == "requester" else {
        "provider": who.department}
    now = svc.clock()
    with svc.reader.connect() as conn:
        found = workflow.list_grants(conn, limit=page.size + 1, after=page.after, **side)
        total = workflow.count_grants(conn, **side)
        shown, token = page_of(found, page, key=lambda g: (g.created_at, g.id))
        views = [g.to_dict(now=now) | _versions_of(conn, g) for g in shown]
    return {"grants": views, "next_page_token": token, "total": total}


def _versions_of(conn: Any, grant: Any) -> dict[str, Any]:
    """``delivers_version``: what a delivery under ``grant`` reads now; ``waiting_version``:
    a newer version it does not fit (a steward's decision moves it), or None."""
    if grant.follows == "pinned":  # no version to read: it is the grant's own
        return {"delivers_version": grant.dataset_version, "waiting_version": None}
    newest = repository.get_dataset(conn, grant.dataset_id).current_version
    delivers = grant.dataset_version if newest <= grant.dataset_version \
        else version_for(conn, grant).version
    return {"delivers_version": delivers,
            "waiting_version": newest if newest > delivers else None}


def granted_datasets(svc: Services, who: Principal, dataset_ids: Any) -> set[str]:
    """Which of ``dataset_ids`` ``who``'s department holds an active grant for (a badge on
    the catalog's page)."""
    if not who.department or not dataset_ids:
        return set()
    with svc.reader.connect() as conn:
        return workflow.granted_datasets(conn, who.department, list(dataset_ids),
                                         now=svc.clock())


def move_grant(svc: Services, who: Principal, grant_id: str, *, version: Any,
               masking: Any = None) -> dict[str, Any]:
    """A steward of the providing department moves a grant to a newer version of its dataset
    — the decision a version that gives a granted column personal data waits for — with
    operators for the columns whose content changed (``masking``; the others keep theirs),
    each checked on that version's rows. Raises Forbidden, GrantNotFound, DatasetNotFound,
    InvalidInput, InvalidMaskingPlan, Conflict (the grant is no longer active)."""
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
    svc.require(who, "grant", "revoke", dom=grant.provider, target=grant_id)
    if isinstance(version, bool) or not isinstance(version, int) \
            or version <= grant.dataset_version:
        raise InvalidInput(f"version must be a version after {grant.dataset_version}",
                           code="version_not_newer", field="version",
                           version=grant.dataset_version)
    explicit = check_operators(masking)
    outside = sorted(set(explicit) - set(grant.columns))
    if outside:
        raise InvalidInput("masking names columns outside the grant",
                           code="masking_outside_grant", field="masking",
                           columns="、".join(outside))
    with svc.reader.connect() as conn:
        dataset = repository.get_dataset(conn, grant.dataset_id)
        newer = repository.get_version(conn, grant.dataset_id, version)
    missing = [c for c in grant.columns if c not in newer.column_names]
    if missing:
        raise InvalidInput("the version lacks granted columns", code="columns_unknown",
                           field="version", columns="、".join(missing))
    plan = {c: explicit.get(c, grant.masking[c]) for c in grant.columns}
    check_plan(svc, dataclasses.replace(dataset, version=newer), plan, receiver=grant.receiver)
    try:
        with svc.recording() as rec:
            workflow.active_grant(rec.conn, grant_id, now=svc.clock(), lock=True)
            moved = workflow.move_grant(rec.conn, grant_id, dataset_version=version,
                                        masking=plan)
            _index_for(rec.conn, moved, now=svc.clock())
            rec.append(events.GrantMove(
                actor=who.username, actor_department=who.department, provider=grant.provider,
                receiver=grant.receiver, grant_id=grant_id, dataset_id=grant.dataset_id,
                dataset_version=version, columns=plan))
    except GrantInactive as exc:
        raise Conflict("the grant is no longer active", code="grant_inactive",
                       status=exc.params.get("status")) from exc
    return moved.to_dict(now=svc.clock())


def grant_to_revoke(svc: Services, who: Principal, grant_id: str) -> dict[str, Any]:
    """A grant as its provider's steward sees it before revoking it. Raises Forbidden,
    GrantNotFound."""
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
    svc.require(who, "grant", "revoke", dom=grant.provider, target=grant_id)
    return grant.to_dict(now=svc.clock())


def revoke(svc: Services, who: Principal, grant_id: str, *, reason: Any = None) -> dict:
    """A steward of the providing department revokes a grant, saying why (the receiving
    department reads the reason); access stops at once. Raises Forbidden, GrantNotFound,
    AlreadyDecided, Unprocessable (no reason)."""
    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
    svc.require(who, "grant", "revoke", dom=grant.provider, target=grant_id)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput.of([Problem("revoke_reason_required", "reason")], malformed=False)
    with svc.recording() as rec:
        svc.enforcer.revoke_grant(grant_id, conn=rec.conn)  # every server, at its next decision
        revoked = workflow.revoke(rec.conn, grant_id, by=who.username, reason=reason,
                                  now=svc.clock())
        rec.append(events.Revoke(actor=who.username, actor_department=who.department,
                                 provider=grant.provider, receiver=grant.receiver,
                                 grant_id=grant_id, dataset_id=grant.dataset_id))
    return revoked.to_dict(now=svc.clock())
