"""Notices: who is told what when the sharing process moves, in the change's own transaction.

Every audit entry the exchange appends passes through :func:`from_entry`, which names the
notices it causes (a request waiting for a provider, a decision for the requester, an
escalation for the data authority); :func:`write` stores each one in the in-app inbox of the
role it is addressed to, and queues in the outbox a webhook call per subscribed department and
an e-mail per user with an address (when e-mail is configured). A notice holds ids, department
codes, times and outcomes, never a purpose, a reason or a comment: those may name people, and
webhooks and e-mail leave the exchange.

    notices.write(conn, notices.from_entry(entry), now=now, email=True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from ._crypto import new_webhook_secret, seal, unseal
from .errors import InvalidInput, NotFound
from .models import notification_reads, notifications, outbox, users, webhooks
from .workdays import TZ

__all__ = ["Notice", "NOTICE_TYPES", "from_entry", "write", "schedule", "listing",
           "unread_count", "mark_read", "add_webhook", "list_webhooks", "disable_webhook",
           "webhook_secret", "label", "new_message_id", "schedule_deadline", "REMIND_AT"]

#: Every kind of notice, with its Chinese and English wording (pages, e-mail subjects).
NOTICE_TYPES: dict[str, tuple[str, str]] = {
    "request.created": ("新的共享申请待答复", "A request waits for your reply"),
    "request.due_soon": ("共享申请即将到期", "A request is due soon"),
    "request.escalated": ("共享申请逾期，已提交数据主管部门", "A request is overdue and was "
                          "escalated to the data authority"),
    "request.approved": ("共享申请已批准", "A request was approved"),
    "request.first_approval": ("共享申请待第二位管理员审批", "A request waits for a second "
                               "steward's approval"),
    "request.denied": ("共享申请未获批准", "A request was refused"),
    "request.withdrawn": ("共享申请已撤回", "A request was withdrawn"),
    "request.appealed": ("共享申请被申诉，待协调", "A refusal was appealed"),
    "request.appeal_decided": ("申诉已有协调结果", "An appeal was decided"),
    "grant.revoked": ("授权已撤销", "A grant was revoked"),
    "grant.moved": ("授权已移至新版本", "A grant moved to a new version"),
    "grant.held_back": ("数据集新版本待审核：授权仍交付原版本", "A new version holds a grant "
                        "back: deliveries stay on the version before until a steward moves it"),
    "grant.alert": ("接口调用异常告警", "Calls under a query grant look like a table dump"),
    "grant.suspended": ("接口授权已暂停", "A query grant was suspended"),
    "grant.resumed": ("接口授权已恢复", "A query grant was resumed"),
    "exchange.rated": ("收到一条服务评价", "A delivery was rated"),
    "objection.filed": ("收到数据纠错申请，待答复", "An error report waits for your answer"),
    "objection.due_soon": ("数据纠错申请即将到期", "An error report is due soon"),
    "objection.escalated": ("数据纠错申请逾期，已提交数据主管部门", "An error report is "
                            "overdue and was escalated to the data authority"),
    "objection.answered": ("数据纠错申请已答复", "An error report was answered"),
}

# What a notice may carry from its entry: ids, department codes, times, outcomes.
_CARRIED = ("request_id", "grant_id", "dataset_id", "dataset_version", "provider", "receiver",
            "exchange_id", "objection_id", "appeal_id", "due_at", "expires_at", "outcome",
            "rating", "fixed_version", "suspended", "change")


@dataclasses.dataclass(frozen=True)
class Notice:
    """One notice: its type, the (department, role) pairs it goes to, what it is about."""

    type: str
    to: tuple[tuple[str, str], ...]
    subject_id: str | None
    data: Mapping[str, Any]


def label(kind: str, locale: str = "zh") -> str:
    """A notice type's wording in ``locale`` (zh or en)."""
    zh, en = NOTICE_TYPES.get(kind, (kind, kind))
    return en if locale.startswith("en") else zh


def from_entry(entry: Mapping[str, Any]) -> list[Notice]:
    """The notices an audit entry causes (none for most kinds)."""
    kind, outcome = entry.get("type"), entry.get("outcome")
    provider, receiver = entry.get("provider"), entry.get("receiver")
    data = {k: entry[k] for k in _CARRIED if entry.get(k) is not None}
    subject = (entry.get("request_id") or entry.get("objection_id") or entry.get("grant_id")
               or entry.get("exchange_id"))
    steward = ((provider, "steward"),) if provider else ()
    requester = ((receiver, "requester"),) if receiver else ()
    authorities = tuple((code, "authority") for code in entry.get("authorities") or ())

    def one(notice_type: str, *to: tuple[str, str], about: str | None = subject) -> list[Notice]:
        return [Notice(notice_type, tuple(dict.fromkeys(to)), about, data)] if to else []

    if kind == "request" and outcome == "pending":
        return one("request.created", *steward)
    if kind == "approve" and outcome == "granted":
        # an unconditional grant is also told to its provider (授权结果同步推送提供部门)
        auto = entry.get("actor_department") is None
        return one("request.approved", *requester, *(steward if auto else ()))
    if kind == "approve" and outcome == "first_approval":
        return one("request.first_approval", *steward)
    if kind == "deny":
        return one("request.denied", *requester)
    if kind == "request_withdraw":
        return one("request.withdrawn", *steward)
    if kind == "revoke":
        return one("grant.revoked", *requester, about=entry.get("grant_id"))
    if kind == "grant_move":
        return one("grant.moved", *requester, about=entry.get("grant_id"))
    if kind == "escalate":
        return one("objection.escalated" if entry.get("objection_id") else "request.escalated",
                   *authorities, *steward, *requester)
    if kind == "query_alert":  # its reason is a code (miss_burst, key_scan), not text
        data["alert"] = entry.get("reason")
        return one("grant.alert", *steward, *authorities, *requester,
                   about=entry.get("grant_id"))
    if kind == "grant_suspend":
        return one(f"grant.{entry.get('change')}", *requester, *steward,
                   about=entry.get("grant_id"))
    if kind == "feedback":
        return one("exchange.rated", *steward, about=entry.get("exchange_id"))
    if kind == "objection":
        return one("objection.filed", *steward)
    if kind == "objection_answer":
        return one("objection.answered", *requester)
    if kind == "appeal":
        return one("request.appealed", *authorities, *steward)
    if kind == "appeal_decision":
        return one("request.appeal_decided", *requester, *steward)
    return []


def new_message_id() -> str:
    """A fresh outbox id (the Standard Webhooks ``webhook-id`` of what it sends)."""
    return "msg_" + secrets.token_urlsafe(18)


def write(conn: sa.Connection, found: Iterable[Notice], *, now: dt.datetime,
          email: bool) -> int:
    """Store ``found`` in the inbox and queue their webhook calls (one per notice and
    subscribed department) and, with ``email``, their e-mails (one per user of the
    addressed role with an address). Returns how many inbox rows were written."""
    written = 0
    for notice in found:
        rows = [{"created_at": now, "department": dept, "role": role, "type": notice.type,
                 "subject_id": notice.subject_id, "data": dict(notice.data)}
                for dept, role in notice.to]
        if not rows:
            continue
        conn.execute(notifications.insert(), rows)
        written += len(rows)
        body = {"type": notice.type, "timestamp": now.isoformat(), "data": dict(notice.data)}
        departments = list(dict.fromkeys(dept for dept, _ in notice.to))
        queued = [{"id": new_message_id(), "kind": "webhook", "target": hook,
                   "payload": body, "created_at": now, "due_at": now}
                  for hook in conn.execute(sa.select(webhooks.c.id).where(
                      webhooks.c.department.in_(departments), webhooks.c.disabled_at.is_(None))
                      .order_by(webhooks.c.id)).scalars()]
        if email:
            queued += [{"id": new_message_id(), "kind": "email", "target": name,
                        "payload": body, "created_at": now, "due_at": now}
                       for name in _addressed(conn, notice.to)]
        if queued:
            conn.execute(outbox.insert(), queued)
    return written


def _addressed(conn: sa.Connection, to: Sequence[tuple[str, str]]) -> list[str]:
    """Enabled users holding one of the (department, role) pairs, with an e-mail address."""
    pairs = [sa.and_(users.c.department == dept, users.c.role == role) for dept, role in to]
    return list(conn.execute(sa.select(users.c.username).where(
        sa.or_(*pairs), users.c.disabled.is_(False), users.c.email.is_not(None))
        .order_by(users.c.username)).scalars())


def schedule(conn: sa.Connection, name: str, *, subject_id: str, at: dt.datetime,
             data: Mapping[str, Any], now: dt.datetime) -> str:
    """Queue a timer (``request.remind``, ``request.escalate``) the worker runs at ``at``;
    its id."""
    ident = new_message_id()
    conn.execute(outbox.insert().values(
        id=ident, kind="timer", target=name, created_at=now, due_at=at,
        payload={"subject_id": subject_id, **data}))
    return ident


#: The reminder goes out at this time (Shanghai) on the day a request is due.
REMIND_AT = dt.time(9, 0)


def schedule_deadline(conn: sa.Connection, request: Any, *, now: dt.datetime,
                      kind: str = "request") -> None:
    """Queue the reminder (09:00 Shanghai on its last working day, if that is still ahead)
    and the escalation (just after its due time) of a pending request (or, ``kind``
    ``objection``, an open objection), in the caller's transaction. Each timer checks, when
    it fires, that it is still waiting with the same due time."""
    waiting = "open" if kind == "objection" else "pending"
    if request.status != waiting or request.due_at is None:
        return
    due = request.due_at.astimezone(dt.timezone.utc)
    data = {"due_at": due.isoformat()}
    remind = dt.datetime.combine(due.astimezone(TZ).date(), REMIND_AT, TZ)
    if remind > now:
        schedule(conn, f"{kind}.remind", subject_id=request.id,
                 at=remind.astimezone(dt.timezone.utc), data=data, now=now)
    schedule(conn, f"{kind}.escalate", subject_id=request.id,
             at=due + dt.timedelta(seconds=1), data=data, now=now)


# -- the inbox ---------------------------------------------------------------------------------
def _addressed_to(department: str | None, role: str) -> Any:
    return sa.and_(notifications.c.department == (department or ""),
                   notifications.c.role == role)


def _unread(username: str) -> Any:
    return ~sa.exists().where(notification_reads.c.notification_id == notifications.c.id,
                              notification_reads.c.username == username)


def listing(conn: sa.Connection, *, username: str, department: str | None, role: str,
            unread_only: bool = False, before: int | None = None,
            limit: int = 50) -> list[dict[str, Any]]:
    """A user's notices, newest first, at most ``limit`` older than id ``before``."""
    read_at = sa.select(notification_reads.c.read_at).where(
        notification_reads.c.notification_id == notifications.c.id,
        notification_reads.c.username == username).scalar_subquery()
    query = sa.select(notifications, read_at.label("read_at")).where(
        _addressed_to(department, role))
    if unread_only:
        query = query.where(_unread(username))
    if before is not None:
        query = query.where(notifications.c.id < before)
    rows = conn.execute(query.order_by(notifications.c.id.desc()).limit(limit))
    return [{"id": row.id, "at": _aware(row.created_at).astimezone(TZ).isoformat(),
             "type": row.type,
             "subject_id": row.subject_id, "data": row.data, "read": row.read_at is not None}
            for row in rows]


def unread_count(conn: sa.Connection, *, username: str, department: str | None,
                 role: str) -> int:
    """How many of a user's notices they have not read."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(notifications).where(
        _addressed_to(department, role), _unread(username))).scalar_one())


def mark_read(conn: sa.Connection, *, username: str, department: str | None, role: str,
              ids: Sequence[int] | None, now: dt.datetime) -> int:
    """Mark the user's notices ``ids`` (every unread one when None) read; how many were
    newly marked. Ids of notices not addressed to the user are ignored."""
    query = sa.select(notifications.c.id).where(_addressed_to(department, role),
                                                _unread(username))
    if ids is not None:
        query = query.where(notifications.c.id.in_(list(ids)))
    found = list(conn.execute(query).scalars())
    if found:
        conn.execute(notification_reads.insert(), [
            {"notification_id": n, "username": username, "read_at": now} for n in found])
    return len(found)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


# -- webhooks -----------------------------------------------------------------------------------
def _check_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("give the webhook's URL", code="webhook_url_required", field="url")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("the webhook URL must be an http(s) URL with a host",
                           code="webhook_url_invalid", field="url")
    if parts.username or parts.password:
        raise InvalidInput("put no password in a webhook URL: the signature authenticates "
                           "the exchange", code="webhook_url_invalid", field="url")
    return url


def add_webhook(conn: sa.Connection, key: bytes, *, department: str, url: Any, by: str,
                now: dt.datetime) -> tuple[dict[str, Any], str]:
    """Subscribe ``department`` to its notices at ``url``; the webhook and its signing
    secret (shown once: only its encryption is kept). Raises InvalidInput."""
    url = _check_url(url)
    ident = "wh_" + secrets.token_hex(8)
    secret = new_webhook_secret()
    conn.execute(webhooks.insert().values(
        id=ident, department=department, url=url, secret=seal(key, secret, context=ident),
        created_by=by, created_at=now))
    return _webhook(conn, ident), secret


def _webhook(conn: sa.Connection, ident: str) -> dict[str, Any]:
    row = conn.execute(sa.select(webhooks).where(webhooks.c.id == ident)).first()
    if row is None:
        raise NotFound(f"no webhook {ident}", code="webhook_not_found")
    disabled = row.disabled_at
    return {"id": row.id, "department": row.department, "url": row.url,
            "created_by": row.created_by, "created_at": _aware(row.created_at).isoformat(),
            "disabled_at": _aware(disabled).isoformat() if disabled else None}


def list_webhooks(conn: sa.Connection, department: str | None = None) -> list[dict[str, Any]]:
    """Every webhook (of ``department``), oldest first."""
    query = sa.select(webhooks.c.id).order_by(webhooks.c.created_at, webhooks.c.id)
    if department is not None:
        query = query.where(webhooks.c.department == department)
    return [_webhook(conn, ident) for ident in conn.execute(query).scalars().all()]


def disable_webhook(conn: sa.Connection, ident: str, *, now: dt.datetime) -> dict[str, Any]:
    """Stop sending to a webhook (what is queued for it is dropped). Raises NotFound."""
    _webhook(conn, ident)
    conn.execute(webhooks.update().where(webhooks.c.id == ident, webhooks.c.disabled_at.is_(None))
                 .values(disabled_at=now))
    return _webhook(conn, ident)


def webhook_secret(conn: sa.Connection, key: bytes, ident: str) -> tuple[str, str] | None:
    """An enabled webhook's URL and signing secret (None when disabled or gone)."""
    row = conn.execute(sa.select(webhooks.c.url, webhooks.c.secret).where(
        webhooks.c.id == ident, webhooks.c.disabled_at.is_(None))).first()
    return None if row is None else (row.url, unseal(key, row.secret, context=ident))
