"""The background worker (``govex worker``): does what the outbox holds when it is due.

* a **timer**: ``request.remind`` tells a provider's stewards, on the morning a request is due,
  that it still waits; ``request.escalate`` escalates a request still pending after its due
  time to the data authority (an ``escalate`` entry, whose notices go to the authority, the
  provider and the requester). Each checks that the request is still pending with the due
  time it was set for, and is marked done in the same transaction as what it changes: it
  happens once however many workers run.
* a **webhook**: POSTed to the department's URL, signed (Standard Webhooks), retried with
  backoff under the same ``webhook-id``.
* an **e-mail**: sent through ``GOVEX_SMTP_URL`` to the user's address, read when it is sent
  (a user disabled or without an address since is skipped).

Rows are claimed under a lease (:func:`exchange.outbox.claim`), so two workers never take the
same row, and one that dies leaves its rows to the next after the lease.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
from collections import Counter
from typing import Any

import requests
import sqlalchemy as sa

from policies import workflow

from .. import departments, events, notices, outbox
from ..models import objections, users
from ..services import Services
from . import interface
from .flowback import derive_for_district

__all__ = ["run_once", "run", "email_text", "WORKER"]

log = logging.getLogger("govex")
WORKER = "system:worker"  # the actor of the worker's own audit entries


def worker_name() -> str:
    """This worker's name in the outbox's lease (host and process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def run_once(svc: Services, *, worker: str | None = None, limit: int = 50,
             session: requests.Session | None = None) -> Counter[str]:
    """Do every outbox row due now (at most ``limit``); counts of what happened
    (``webhook.done``, ``email.failed``, ``timer.dropped``, ...)."""
    worker = worker or worker_name()
    done: Counter[str] = Counter()
    for item in outbox.claim(svc.engine, worker=worker, now=svc.clock(), limit=limit):
        try:
            state = _do(svc, item, worker=worker, session=session)
        except outbox.SendFailed as exc:
            state = outbox.retry(svc.engine, item, worker=worker, now=svc.clock(),
                                 error=str(exc))
            log.warning("outbox %s %s (%s): %s; attempt %d, now %s", item.kind, item.id,
                        item.target, exc, item.attempts + 1, state)
            state = "retry" if state == "pending" else state
        done[f"{item.kind}.{state}"] += 1
    return done


def _do(svc: Services, item: outbox.Item, *, worker: str,
        session: requests.Session | None) -> str:
    if item.kind == "timer":
        return _timer(svc, item, worker=worker)
    if item.kind == "webhook":
        with svc.reader.connect() as conn:
            found = notices.webhook_secret(conn, svc.master.derive("webhook-secrets"),
                                           item.target)
        if found is None:  # disabled meanwhile
            return _finish(svc, item, worker, "dropped")
        url, secret = found
        outbox.post_webhook(url, secret, msg_id=item.id, payload=item.payload,
                            session=session)
        return _finish(svc, item, worker, "done")
    if item.kind == "email":
        address = _address(svc, item.target)
        if address is None or not svc.settings.smtp_url:
            return _finish(svc, item, worker, "dropped")
        subject, text = email_text(item.payload, public_url=svc.settings.public_url)
        outbox.send_email(svc.settings.smtp_url, sender=svc.settings.smtp_from, to=address,
                          subject=subject, text=text, msg_id=item.id)
        return _finish(svc, item, worker, "done")
    raise ValueError(f"unknown outbox kind {item.kind!r}")


def _finish(svc: Services, item: outbox.Item, worker: str, state: str) -> str:
    with svc.engine.begin() as conn:
        if not outbox.finish(conn, item, worker=worker, now=svc.clock(), state=state):
            return "lost"
    return state


def _address(svc: Services, username: str) -> str | None:
    with svc.reader.connect() as conn:
        row = conn.execute(sa.select(users.c.email, users.c.disabled).where(
            users.c.username == username)).first()
    return None if row is None or row.disabled else row.email


class _Lost(Exception):
    """The lease went to another worker: roll the step back."""


def _timer(svc: Services, item: outbox.Item, *, worker: str) -> str:
    kind, _, step = item.target.partition(".")  # request.remind, objection.escalate, ...
    subject, due = item.payload["subject_id"], item.payload.get("due_at")
    now = svc.clock()
    if kind == "flowback":
        return _flow_back(svc, item, worker=worker)
    if kind == "index":
        return _build_index(svc, item, worker=worker)
    try:
        with svc.recording() as rec:
            waiting = _waiting(rec.conn, kind, subject)
            current = waiting is not None and waiting["due_at"] == due
            state = "done" if current else "dropped"
            if current and step == "remind":
                notices.write(rec.conn, [notices.Notice(
                    f"{kind}.due_soon", ((waiting["provider"], "steward"),), subject,
                    {f"{kind}_id": subject, "dataset_id": waiting["dataset_id"],
                     "provider": waiting["provider"], "receiver": waiting["receiver"],
                     "due_at": due})], now=now, email=bool(svc.settings.smtp_url))
            elif current and step == "escalate":
                if not _escalate(rec.conn, kind, subject, now=now):
                    state = "dropped"
                else:
                    rec.append(events.Escalate(
                        actor=WORKER, provider=waiting["provider"],
                        receiver=waiting["receiver"], dataset_id=waiting["dataset_id"],
                        due_at=due, **{f"{kind}_id": subject},
                        authorities=departments.authorities_of(rec.conn, waiting["provider"])))
            if not outbox.finish(rec.conn, item, worker=worker, now=now, state=state):
                raise _Lost(item.id)
    except _Lost:
        return "lost"
    return state


def _build_index(svc: Services, item: outbox.Item, *, worker: str) -> str:
    """A query grant's lookup index, built in batches; retried with backoff while the rows it
    needs are still stored by another build, or when reading the version failed."""
    data = item.payload
    try:
        interface.build_index(svc, data["dataset_id"], int(data["version"]),
                              list(data["columns"]))
    except Exception as exc:  # noqa: BLE001 (retried; the index says failed meanwhile)
        state = outbox.retry(svc.engine, item, worker=worker, now=svc.clock(),
                             error=type(exc).__name__)
        log.warning("lookup index of %s v%s: %s; %s", data["dataset_id"], data["version"],
                    type(exc).__name__, state)
        return "retry" if state == "pending" else state
    return _finish(svc, item, worker, "done")


def _flow_back(svc: Services, item: outbox.Item, *, worker: str) -> str:
    """A district department added while 回流 decisions above it were active receives its
    grants (each an ``approve`` entry), in the transaction that marks the timer done."""
    try:
        with svc.recording() as rec:
            district = departments.get(rec.conn, item.payload["subject_id"])
            made = [] if district.disabled else derive_for_district(svc, rec, district,
                                                                      actor=WORKER)
            state = "done" if made else "dropped"
            if not outbox.finish(rec.conn, item, worker=worker, now=svc.clock(), state=state):
                raise _Lost(item.id)
    except _Lost:
        return "lost"
    return state


def _waiting(conn: sa.Connection, kind: str, subject: str) -> dict[str, Any] | None:
    """The request still pending (or objection still open) with its due time as the timer
    recorded it (UTC, ISO 8601); None when it no longer waits."""
    if kind == "request":
        request = workflow.get_request(conn, subject)
        if request.status != "pending" or request.due_at is None:
            return None
        found = {"provider": request.provider, "receiver": request.receiver,
                 "dataset_id": request.dataset_id, "due_at": request.due_at}
    else:
        row = conn.execute(sa.select(objections).where(objections.c.id == subject)).first()
        if row is None or row.status != "open":
            return None
        found = {"provider": row.provider, "receiver": row.receiver,
                 "dataset_id": row.dataset_id, "due_at": row.due_at}
    due = found["due_at"]
    due = due.replace(tzinfo=dt.timezone.utc) if due.tzinfo is None else due
    found["due_at"] = due.astimezone(dt.timezone.utc).isoformat()
    return found


def _escalate(conn: sa.Connection, kind: str, subject: str, *, now: dt.datetime) -> bool:
    """Mark it escalated, once (False when it was escalated or answered meanwhile)."""
    if kind == "request":
        return workflow.escalate(conn, subject, now=now) is not None
    result = conn.execute(objections.update().where(
        objections.c.id == subject, objections.c.status == "open",
        objections.c.escalated_at.is_(None)).values(escalated_at=now))
    return result.rowcount == 1


def email_text(payload: dict[str, Any], *, public_url: str | None) -> tuple[str, str]:
    """The subject and plain-text body of a notice's e-mail, in Chinese then English: what
    happened and the ids, with a link to the page (no purpose, reason or comment)."""
    kind, data = payload.get("type", ""), payload.get("data") or {}
    zh, en = notices.label(kind, "zh"), notices.label(kind, "en")
    subject_id = data.get("request_id") or data.get("grant_id") or ""
    subject = f"[govex] {zh} / {en} {subject_id}".strip()
    lines = [zh, en, ""]
    for key in ("request_id", "grant_id", "dataset_id", "provider", "receiver", "due_at",
                "outcome"):
        if data.get(key):
            lines.append(f"{key}: {data[key]}")
    if data.get("request_id"):
        base = (public_url or "").rstrip("/")
        lines += ["", f"{base}/requests/{data['request_id']}"]
    return subject, "\n".join(lines) + "\n"


@dataclasses.dataclass
class Loop:
    """A running worker loop (:func:`run`)."""

    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    rounds: int = 0


def run(svc: Services, *, interval: float = 5.0, loop: Loop | None = None) -> None:
    """Run :func:`run_once` every ``interval`` seconds (at once again while rows are left)
    until ``loop.stop`` is set. An error in one round is logged and the next round runs."""
    loop = loop or Loop()
    name = worker_name()
    with requests.Session() as session:
        while not loop.stop.is_set():
            try:
                done = run_once(svc, worker=name, session=session)
            except Exception:  # a database restart must not end the worker
                log.exception("worker round failed")
                done = Counter()
            loop.rounds += 1
            if sum(done.values()) == 0:
                loop.stop.wait(interval)
