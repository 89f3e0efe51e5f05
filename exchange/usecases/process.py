"""Use cases of the sharing process around a request: its time limits (a reminder before the
due time, escalation to the data authority after it), appeals against refusals, each user's
notices, and departments' webhooks.

The rules (《政务数据共享条例》, in force 2025-08-01, and the provincial measures before it,
e.g. Shanxi's 《政务数据管理与应用办法》): a provider replies within a number of working days
(:mod:`exchange.workdays`) and gives its reasons when it refuses; a requester that still needs
refused data negotiates, and failing that the data authority of the same level
(同级政务数据主管部门) coordinates: here an appeal the authority decides by upholding the
refusal or returning the request with its instruction and a new due time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from masking import loggable_text
from policies import workflow

from .. import departments, events, notices, workdays
from ..auth import Principal
from ..errors import Forbidden, InvalidInput
from ..paging import PageRequest, page_of
from ..services import Services
from .access import appeal_view, request_view

__all__ = ["appeal", "decide_appeal", "list_notifications",
           "read_notifications", "unread", "add_webhook", "list_webhooks", "disable_webhook",
           "WORKER"]

#: The actor the worker's own steps are logged under.
WORKER = "system:worker"


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"the {field} must be text", code=f"{field}_not_text", field=field)
    return value


def appeal(svc: Services, who: Principal, request_id: str, *, reason: Any) -> dict[str, Any]:
    """The requesting department appeals a refusal of its request to the data authority
    nearest its provider's level. Raises Forbidden (another department's), RequestNotFound,
    InvalidRequest (no reason), AlreadyDecided (not refused, or appealed already)."""
    svc.require(who, "request", "appeal")
    reason = _text(reason, "reason")
    with svc.reader.connect() as conn:
        if workflow.get_request(conn, request_id).receiver != who.department:
            raise Forbidden("only the requesting department may appeal its request",
                            code="not_your_request")
    scrubbed = loggable_text(reason, analyzer=svc.analyzer()) if reason.strip() else ""
    now = svc.clock()
    with svc.recording() as rec:
        due = workdays.due_after(now, svc.settings.appeal_working_days,
                                 recorded=workdays.recorded_days(rec.conn))
        made = workflow.appeal(rec.conn, request_id, by=who.username, reason=reason,
                               logged_reason=scrubbed, now=now,
                               due_at=due.astimezone(dt.timezone.utc))
        request = workflow.get_request(rec.conn, request_id)
        rec.append(events.Appeal(
            actor=who.username, actor_department=who.department, provider=request.provider,
            receiver=request.receiver, request_id=request.id, dataset_id=request.dataset_id,
            appeal_id=made.id, reason=scrubbed, due_at=made.due_at.isoformat(),
            authorities=departments.authorities_of(rec.conn, request.provider)))
    return request_view(request, now=now) | {"appeal": appeal_view(made)}


def decide_appeal(svc: Services, who: Principal, request_id: str, *, outcome: Any,
                  instruction: Any = None) -> dict[str, Any]:
    """A data authority overseeing the provider decides the request's open appeal:
    ``upheld`` or ``returned`` (with an ``instruction`` to the provider; the request is
    pending again with a new due time). Raises Forbidden, RequestNotFound, InvalidRequest,
    AlreadyDecided (no open appeal)."""
    svc.require(who, "request", "coordinate")
    if instruction is not None:
        instruction = _text(instruction, "instruction")
    if not isinstance(outcome, str):
        raise InvalidInput("outcome must be upheld or returned", code="appeal_outcome_unknown",
                           field="outcome")
    now = svc.clock()
    with svc.recording() as rec:
        current = workflow.get_request(rec.conn, request_id)
        if current.provider not in departments.overseen(rec.conn, who.department):
            raise Forbidden("the request's provider is not one you oversee",
                            code="not_overseen")
        due = None
        if outcome == "returned":
            due = workdays.due_after(now, svc.settings.reply_working_days,
                                     recorded=workdays.recorded_days(rec.conn))
            due = due.astimezone(dt.timezone.utc)
        decided, request = workflow.decide_appeal(rec.conn, request_id, by=who.username,
                                                  outcome=outcome, instruction=instruction,
                                                  due_at=due, now=now)
        notices.schedule_deadline(rec.conn, request, now=now)
        rec.append(events.AppealDecision(
            actor=who.username, actor_department=who.department, provider=request.provider,
            receiver=request.receiver, request_id=request.id, dataset_id=request.dataset_id,
            appeal_id=decided.id, outcome=outcome,
            due_at=due.isoformat() if due else None))
    return request_view(request, now=now) | {"appeal": appeal_view(decided)}


# -- notices ------------------------------------------------------------------------------------
def _inbox(who: Principal) -> dict[str, Any]:
    return {"username": who.username, "department": who.department, "role": who.role}


def list_notifications(svc: Services, who: Principal, *, unread_only: bool = False,
                       page: PageRequest = PageRequest()) -> dict[str, Any]:
    """A page of the user's notices, newest first: ``notifications`` (each with ``id``,
    ``at``, ``type``, ``title``, ``subject_id``, ``data``, ``read``), ``unread`` (the count
    over every page), ``next_page_token``."""
    before = None
    if page.after is not None:
        try:
            before = int(page.after[1])
        except ValueError:
            raise InvalidInput("page_token is not one this list gave",
                               code="page_token_invalid", field="page_token") from None
    with svc.reader.connect() as conn:
        found = notices.listing(conn, **_inbox(who), unread_only=unread_only, before=before,
                                limit=page.size + 1)
        count = notices.unread_count(conn, **_inbox(who))
    shown, token = page_of(found, page, order="notices",
                           key=lambda n: (dt.datetime.fromisoformat(n["at"]), str(n["id"])))
    for item in shown:
        item["title"] = notices.label(item["type"], "zh")
        item["title_en"] = notices.label(item["type"], "en")
    return {"notifications": shown, "unread": count, "next_page_token": token}


def unread(svc: Services, who: Principal) -> int:
    """How many notices the user has not read (the count in every page's header)."""
    with svc.reader.connect() as conn:
        return notices.unread_count(conn, **_inbox(who))


def read_notifications(svc: Services, who: Principal, *, ids: Any = None) -> dict[str, Any]:
    """Mark the user's notices ``ids`` read (every one when None); ``marked`` and the
    ``unread`` left. Raises InvalidInput for ids that are not a list of whole numbers."""
    if ids is not None and (not isinstance(ids, list) or len(ids) > 1000 or not all(
            type(i) is int for i in ids)):
        raise InvalidInput("ids must be a list of notice ids (whole numbers, at most 1,000)",
                           code="notification_ids_invalid", field="ids")
    with svc.engine.begin() as conn:
        marked = notices.mark_read(conn, **_inbox(who), ids=ids, now=svc.clock())
        left = notices.unread_count(conn, **_inbox(who))
    return {"marked": marked, "unread": left}


# -- webhooks -----------------------------------------------------------------------------------
def _webhook_key(svc: Services) -> bytes:
    return svc.master.derive("webhook-secrets")


def add_webhook(svc: Services, who: Principal | None, *, department: Any,
                url: Any) -> dict[str, Any]:
    """Subscribe a department to its notices at ``url`` (an admin; ``who`` None: the
    command line on the server). The answer holds the signing ``secret``, shown this once.
    Raises Forbidden, NotFound (no such department), InvalidInput."""
    if who is not None:
        svc.require(who, "webhook", "manage")
    if not isinstance(department, str):
        raise InvalidInput("name the department", code="department_required",
                           field="department")
    actor = who.username if who else "cli"
    with svc.recording() as rec:
        departments.get(rec.conn, department)
        made, secret = notices.add_webhook(rec.conn, _webhook_key(svc), department=department,
                                           url=url, by=actor, now=svc.clock())
        rec.append(events.WebhookChange(actor=actor, subject=made["id"], department=department,
                                        host=urlsplit(made["url"]).hostname or "",
                                        change="added"))
    return made | {"secret": secret}


def list_webhooks(svc: Services, who: Principal | None,
                  department: str | None = None) -> dict[str, Any]:
    """Every webhook (an admin), with no secret."""
    if who is not None:
        svc.require(who, "webhook", "manage")
    with svc.reader.connect() as conn:
        return {"webhooks": notices.list_webhooks(conn, department)}


def disable_webhook(svc: Services, who: Principal | None, webhook_id: str) -> dict[str, Any]:
    """Stop a webhook (an admin). Raises Forbidden, NotFound."""
    if who is not None:
        svc.require(who, "webhook", "manage")
    with svc.recording() as rec:
        hook = notices.disable_webhook(rec.conn, webhook_id, now=svc.clock())
        rec.append(events.WebhookChange(actor=who.username if who else "cli",
                                        subject=webhook_id, department=hook["department"],
                                        host=urlsplit(hook["url"]).hostname or "",
                                        change="disabled"))
    return hook
