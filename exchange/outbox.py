"""The outbox of background work (``exchange_outbox``): claiming rows under a lease, finishing
or retrying them, and the two ways out of the exchange it uses: a Standard Webhooks call and
an e-mail over SMTP.

A row is claimed by one worker at a time: the claim is a conditional update (pending, due,
not leased or its lease run out), so two workers (or a worker restarted while its old lease
runs) never both take it. What a row sends keeps its id on every attempt (the
``webhook-id``: receivers drop what they have seen).
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
import time
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import sqlalchemy as sa

from ._crypto import webhook_signature
from .models import outbox

__all__ = ["Item", "claim", "finish", "retry", "BACKOFF", "post_webhook", "send_email",
           "SendFailed", "check_smtp_url", "pending_counts"]

#: Seconds before each retry after a failed attempt (the Standard Webhooks specification's
#: suggested schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); then the row has failed.
BACKOFF = (5, 300, 1800, 7200, 18000, 36000, 36000)
WEBHOOK_TIMEOUT = 15.0  # seconds a receiver has to answer


class SendFailed(Exception):
    """A webhook or e-mail was not accepted; the message names a status or an error class,
    never content."""


class Item:
    """A claimed outbox row."""

    def __init__(self, row: sa.Row) -> None:
        self.id: str = row.id
        self.kind: str = row.kind
        self.target: str = row.target
        self.payload: dict[str, Any] = dict(row.payload)
        self.attempts: int = row.attempts


def claim(engine: sa.Engine, *, worker: str, now: dt.datetime, limit: int = 50,
          lease: int = 120) -> list[Item]:
    """Claim up to ``limit`` rows due at ``now`` for ``lease`` seconds, oldest due first."""
    now = now.astimezone(dt.timezone.utc)  # stored as UTC (naive on SQLite)
    free = sa.or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)
    with engine.connect() as conn:
        ids = list(conn.execute(sa.select(outbox.c.id).where(
            outbox.c.state == "pending", outbox.c.due_at <= now, free)
            .order_by(outbox.c.due_at, outbox.c.id).limit(limit)).scalars())
    claimed = []
    for ident in ids:
        with engine.begin() as conn:
            taken = conn.execute(outbox.update().where(
                outbox.c.id == ident, outbox.c.state == "pending", free).values(
                lease_until=now + dt.timedelta(seconds=lease), leased_by=worker))
            if taken.rowcount == 1:
                claimed.append(Item(conn.execute(sa.select(outbox).where(
                    outbox.c.id == ident)).one()))
    return claimed


def finish(conn: sa.Connection, item: Item, *, worker: str, now: dt.datetime,
           state: str = "done") -> bool:
    """Mark a claimed row ``done`` (or ``dropped``) in ``conn``'s transaction; False when
    the lease was lost to another worker (the caller's transaction should then roll back)."""
    result = conn.execute(outbox.update().where(
        outbox.c.id == item.id, outbox.c.leased_by == worker, outbox.c.state == "pending")
        .values(state=state, done_at=now, attempts=item.attempts + 1, lease_until=None))
    return result.rowcount == 1


def retry(engine: sa.Engine, item: Item, *, worker: str, now: dt.datetime,
          error: str) -> str:
    """Record a failed attempt: due again after the next backoff, or ``failed`` once the
    backoff is spent. Returns the row's state."""
    attempts = item.attempts + 1
    state = "failed" if attempts > len(BACKOFF) else "pending"
    due = now + dt.timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == item.id,
                                           outbox.c.leased_by == worker).values(
            state=state, attempts=attempts, due_at=due, lease_until=None,
            last_error=error[:200], done_at=now if state == "failed" else None))
    return state


def pending_counts(conn: sa.Connection) -> dict[str, dict[str, int]]:
    """How many rows of each kind are in each state."""
    rows = conn.execute(sa.select(outbox.c.kind, outbox.c.state, sa.func.count())
                        .group_by(outbox.c.kind, outbox.c.state))
    counts: dict[str, dict[str, int]] = {}
    for kind, state, n in rows:
        counts.setdefault(kind, {})[state] = int(n)
    return counts


# -- the ways out ------------------------------------------------------------------------------
def post_webhook(url: str, secret: str, *, msg_id: str, payload: Mapping[str, Any],
                 session: requests.Session | None = None) -> None:
    """POST ``payload`` to ``url`` signed per the Standard Webhooks specification
    (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``). Raises SendFailed
    unless the receiver answers 2xx. Redirects are not followed."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    stamp = int(time.time())
    headers = {"content-type": "application/json", "user-agent": "govex-webhooks",
               "webhook-id": msg_id, "webhook-timestamp": str(stamp),
               "webhook-signature": webhook_signature(secret, msg_id=msg_id, timestamp=stamp,
                                                      body=body)}
    try:
        answer = (session or requests).post(url, data=body, headers=headers,
                                            timeout=WEBHOOK_TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise SendFailed(type(exc).__name__) from None
    if not 200 <= answer.status_code < 300:
        raise SendFailed(f"HTTP {answer.status_code}")


def check_smtp_url(url: str) -> dict[str, Any]:
    """The parts of a ``GOVEX_SMTP_URL``: ``smtp://[user:password@]host[:port][?starttls=1]``
    or ``smtps://...`` (TLS from the start). Raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("GOVEX_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    query = parse_qs(parts.query)
    return {"tls": parts.scheme == "smtps", "host": parts.hostname,
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "starttls": query.get("starttls", ["0"])[0] in ("1", "true", "yes")}


def send_email(url: str, *, sender: str, to: str, subject: str, text: str,
               msg_id: str) -> None:
    """Send one plain-text e-mail through the SMTP server of ``url``
    (:func:`check_smtp_url`). Raises SendFailed."""
    server = check_smtp_url(url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{msg_id}@govex>"  # the same id on a retry
    message.set_content(text)
    try:
        if server["tls"]:
            client: smtplib.SMTP = smtplib.SMTP_SSL(server["host"], server["port"], timeout=30,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(server["host"], server["port"], timeout=30)
        with client:
            if server["starttls"]:
                client.starttls(context=ssl.create_default_context())
            if server["user"]:
                client.login(server["user"], server["password"] or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(type(exc).__name__) from None
