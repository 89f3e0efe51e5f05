"""Notices leaving the exchange (issue 17): webhooks signed per the Standard Webhooks
specification (checked by its own library), retried with backoff under one id, e-mail
received by a real SMTP server, and exactly one of each per event with two servers and two
workers racing."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import socket
import threading
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from exchange.auth import Principal
from exchange.config import load_settings
from exchange.models import outbox, webhooks
from exchange.services import Services
from exchange.usecases import access, process, worker

from .conftest import api_caller, new_instance

STEWARD = Principal("civil-steward", "", "civil", "steward")
REQUESTER = Principal("tax-requester", "", "tax", "requester")
NOW = dt.datetime(2026, 11, 30, 2, tzinfo=dt.timezone.utc)  # Monday 10:00 in Shanghai


class Receiver:
    """A real HTTP server that records each POST and answers with the next status."""

    def __init__(self, statuses=()):
        self.calls: list[tuple[dict, bytes]] = []
        self.statuses = list(statuses)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/govex?token=abc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd's handler: keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content,
                                                                    policy=policy.default)))
        return "250 OK"


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def smtp():
    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks it started by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.url = f"smtp://127.0.0.1:{port}"
    yield box
    controller.stop()


def _city(tmp_path, settings_for, **more):
    config = settings_for(tmp_path, **more)
    svc, tokens = new_instance(load_settings(config, environ={}), STEWARD, REQUESTER)
    call = api_caller(config, tokens)
    made = call(STEWARD, "POST", "/datasets", data={
        "file": (io.BytesIO("街道,服务次数\n春熙路,3\n".encode()), "r.csv"),
        "metadata": json.dumps({"title": "服务台账", "sharing": "conditional", "level": "L2"})})
    assert made.status_code == 201, made.get_json()
    svc.clock = lambda: NOW
    return svc, config, made.get_json()["id"]


def _ask(svc, dataset, purpose="核对张三的低保资格"):
    return access.create_request(svc, REQUESTER, dataset_id=dataset, purpose=purpose,
                                 columns=["街道"])


def test_a_webhook_is_signed_per_the_specification_and_carries_no_personal_data(
        tmp_path, settings_for, receiver):
    svc, _config, dataset = _city(tmp_path, settings_for)
    hook = process.add_webhook(svc, None, department="civil", url=receiver.url)
    assert hook["secret"].startswith("whsec_")
    with svc.reader.connect() as conn:
        stored = conn.execute(sa.select(webhooks.c.secret)).scalar_one()
    assert hook["secret"] not in stored and hook["secret"][6:] not in stored  # encrypted
    made = _ask(svc, dataset)
    assert worker.run_once(svc) == {"webhook.done": 1}  # its timers are not due yet
    assert len(receiver.calls) == 1
    headers, body = receiver.calls[0]
    payload = Webhook(hook["secret"]).verify(body, headers)
    assert payload["type"] == "request.created"
    assert payload["data"]["request_id"] == made["id"]
    assert "张三" not in body.decode() and "核对" not in body.decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(body.replace(b"created", b"cr3ated"), headers)
    other = process.add_webhook(svc, None, department="civil", url=receiver.url)
    with pytest.raises(WebhookVerificationError):
        Webhook(other["secret"]).verify(body, headers)


def test_a_failed_webhook_is_retried_with_backoff_under_the_same_id(
        tmp_path, settings_for):
    receiver = Receiver(statuses=[500, 503])
    try:
        svc, _config, dataset = _city(tmp_path, settings_for)
        hook = process.add_webhook(svc, None, department="civil", url=receiver.url)
        _ask(svc, dataset)
        assert worker.run_once(svc) == {"webhook.retry": 1}
        assert worker.run_once(svc) == {}  # not due again for 5 s
        svc.clock = lambda: NOW + dt.timedelta(seconds=5)
        assert worker.run_once(svc) == {"webhook.retry": 1}
        svc.clock = lambda: NOW + dt.timedelta(seconds=5 + 299)
        assert worker.run_once(svc) == {}  # then 5 minutes
        svc.clock = lambda: NOW + dt.timedelta(seconds=5 + 300)
        assert worker.run_once(svc) == {"webhook.done": 1}
        ids = {h["webhook-id"] for h, _ in receiver.calls}
        assert len(receiver.calls) == 3 and len(ids) == 1
        for headers, body in receiver.calls:
            Webhook(hook["secret"]).verify(body, headers)
        with svc.reader.connect() as conn:
            row = conn.execute(sa.select(outbox).where(outbox.c.kind == "webhook")).one()
        assert row.state == "done" and row.attempts == 3 and row.last_error == "HTTP 503"
    finally:
        receiver.close()


def test_an_unreachable_webhook_gives_up_after_the_schedule(tmp_path, settings_for):
    svc, _config, dataset = _city(tmp_path, settings_for)
    process.add_webhook(svc, None, department="civil", url="http://127.0.0.1:9/nothing")
    _ask(svc, dataset)
    moment = NOW
    outcomes = []
    for _ in range(8):
        svc.clock = lambda m=moment: m
        outcomes.append(dict(worker.run_once(svc)))
        moment += dt.timedelta(hours=11)
    assert outcomes[:7] == [{"webhook.retry": 1}] * 7 and outcomes[7] == {"webhook.failed": 1}


def test_a_disabled_webhook_sends_nothing_more(tmp_path, settings_for, receiver):
    svc, _config, dataset = _city(tmp_path, settings_for)
    hook = process.add_webhook(svc, None, department="civil", url=receiver.url)
    _ask(svc, dataset)
    process.disable_webhook(svc, None, hook["id"])
    assert worker.run_once(svc) == {"webhook.dropped": 1}
    _ask(svc, dataset)
    assert worker.run_once(svc) == {}
    assert receiver.calls == []


@pytest.mark.parametrize("url", ["ftp://x/y", "http://", "https://user:pw@host/x", "", 7])
def test_a_webhook_needs_an_http_url_without_a_password(tmp_path, settings_for, url):
    svc, _config, _dataset = _city(tmp_path, settings_for)
    with pytest.raises(Exception) as refused:
        process.add_webhook(svc, None, department="civil", url=url)
    assert getattr(refused.value, "code", None) in ("webhook_url_invalid",
                                                     "webhook_url_required")


def test_webhooks_are_managed_by_an_admin_and_logged(tmp_path, settings_for, receiver):
    from exchange.usecases.admin import create_user
    svc, config, _dataset = _city(tmp_path, settings_for)
    token = create_user(svc, username="root", password="pw-" * 5, role="admin",
                        department=None)
    call = api_caller(config, {"root": token})
    made = call("root", "POST", "/webhooks", json={"department": "civil", "url": receiver.url})
    assert made.status_code == 201 and made.get_json()["secret"].startswith("whsec_")
    listed = call("root", "GET", "/webhooks").get_json()["webhooks"]
    assert [w["id"] for w in listed] == [made.get_json()["id"]]
    assert "secret" not in listed[0]
    unknown = call("root", "POST", "/webhooks", json={"department": "nope", "url": receiver.url})
    assert unknown.status_code == 404
    with svc.reader.connect() as conn:
        logged = [e for _, e in svc.log_reader.entries(conn, type="webhook_change", limit=9)]
    assert [(e["change"], e["host"]) for e in logged] == [("added", "127.0.0.1")]
    assert "token=abc" not in json.dumps(logged)


def test_a_notice_is_emailed_to_users_with_an_address(tmp_path, settings_for, smtp):
    from exchange.usecases.admin import set_user_email
    svc, _config, dataset = _city(tmp_path, settings_for, smtp_url=smtp.url,
                                  smtp_from="govex@chengdu.gov.example",
                                  public_url="https://govex.chengdu.example/")
    set_user_email(svc, REQUESTER.username, "tax-requester@chengdu.gov.example")
    made = _ask(svc, dataset)
    access.deny(svc, STEWARD, made["id"], reason="张三的数据不予提供")
    assert worker.run_once(svc) == {"email.done": 1}  # the steward has no address
    (to, message), = smtp.messages
    assert to == ["tax-requester@chengdu.gov.example"]
    assert message["From"] == "govex@chengdu.gov.example"
    assert "共享申请未获批准" in message["Subject"] and made["id"] in message["Subject"]
    text = message.get_content()
    assert f"https://govex.chengdu.example/requests/{made['id']}" in text
    assert "张三" not in text and "张三" not in message["Subject"]


def test_no_email_is_queued_without_an_smtp_server(tmp_path, settings_for):
    from exchange.usecases.admin import set_user_email
    svc, _config, dataset = _city(tmp_path, settings_for)
    set_user_email(svc, STEWARD.username, "steward@chengdu.gov.example")
    _ask(svc, dataset)
    with svc.reader.connect() as conn:
        kinds = set(conn.execute(sa.select(outbox.c.kind)).scalars())
    assert kinds == {"timer"}


def test_two_servers_and_two_workers_send_each_notice_once(tmp_path, settings_for, receiver):
    svc, config, dataset = _city(tmp_path, settings_for)
    hook = process.add_webhook(svc, None, department="civil", url=receiver.url)
    other = Services(load_settings(config, environ={}))  # a second server on the database
    other.clock = lambda: NOW
    for i in range(6):
        _ask(svc if i % 2 else other, dataset, purpose=f"核对 {i}")
    # the reminders are due too: six requests, each one reminder at 09:00 on its due day
    due_day = dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.timezone.utc)
    done = []

    def work(services):
        services.clock = lambda: due_day
        for _ in range(3):
            done.append(worker.run_once(services, worker=f"w{id(services)}"))

    workers = [Services(load_settings(config, environ={})) for _ in range(2)]
    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [h["webhook-id"] for h, _ in receiver.calls]
    # six request.created and six request.due_soon notices, each sent once
    assert len(sent) == 12 and len(set(sent)) == 12
    kinds = sorted(Webhook(hook["secret"]).verify(b, h)["type"] for h, b in receiver.calls)
    assert kinds == ["request.created"] * 6 + ["request.due_soon"] * 6
    total = sum((sum(d.values()) for d in done))
    assert total == 12 + 6  # twelve webhooks and six reminders, each done by one worker
    due = process.list_notifications(svc, STEWARD)["notifications"]
    assert [n["type"] for n in due].count("request.due_soon") == 6
