"""The sharing process around requests: appeals, notices, webhooks."""

from __future__ import annotations

from flask import request

from ..errors import InvalidInput
from ..paging import PageRequest
from ..usecases import process
from .base import json_body, principal, route, services

__all__: list[str] = []

_TEXT = {"type": "string"}
_APPEAL = {"application/json": {"type": "object", "required": ["reason"],
                                "properties": {"reason": _TEXT}}}
_DECISION = {"application/json": {"type": "object", "required": ["outcome"], "properties": {
    "outcome": {"type": "string", "enum": ["upheld", "returned"]}, "instruction": _TEXT}}}
_READ = {"application/json": {"type": "object", "properties": {
    "ids": {"type": "array", "items": {"type": "integer"}}}}}
_WEBHOOK = {"application/json": {"type": "object", "required": ["department", "url"],
                                 "properties": {"department": _TEXT, "url": _TEXT}}}


@route("/requests/{request_id}/appeal", "POST", tag="access", body=_APPEAL, status=201,
       summary="Appeal a refusal to the data authority, with a reason — the requesting "
               "department")
def appeal(request_id: str):
    body = json_body()
    return process.appeal(services(), principal(), request_id, reason=body.get("reason")), 201


@route("/requests/{request_id}/appeal/decision", "POST", tag="access", body=_DECISION,
       summary="Decide an appeal: uphold the refusal, or return the request to its provider "
               "with an instruction and a new due time — data authority")
def decide_appeal(request_id: str):
    body = json_body()
    return process.decide_appeal(services(), principal(), request_id,
                                 outcome=body.get("outcome"),
                                 instruction=body.get("instruction"))


@route("/notifications", "GET", tag="notices", params=("unread", "page_size", "page_token"),
       summary="My notices, newest first, with the unread count (unread=true: only those)")
def list_notifications():
    flag = request.args.get("unread", "")
    if flag not in ("", "true", "false"):
        raise InvalidInput("unread must be true or false", code="flag_invalid", field="unread")
    return process.list_notifications(services(), principal(), unread_only=flag == "true",
                                      page=PageRequest.from_args(request.args))


@route("/notifications/read", "POST", tag="notices", body=_READ,
       summary="Mark my notices read (ids; every one when none are given)")
def read_notifications():
    return process.read_notifications(services(), principal(),
                                      ids=json_body(optional=True).get("ids"))


@route("/webhooks", "GET", tag="admin", params=("department",),
       summary="Departments' webhooks (no secrets) — admin")
def list_webhooks():
    return process.list_webhooks(services(), principal(), request.args.get("department"))


@route("/webhooks", "POST", tag="admin", body=_WEBHOOK, status=201,
       summary="Send a department's notices to a URL, signed per Standard Webhooks; the "
               "answer holds the signing secret, this once — admin")
def add_webhook():
    body = json_body()
    made = process.add_webhook(services(), principal(), department=body.get("department"),
                               url=body.get("url"))
    return made, 201


@route("/webhooks/{webhook_id}/disable", "POST", tag="admin",
       summary="Stop a webhook — admin")
def disable_webhook(webhook_id: str):
    return process.disable_webhook(services(), principal(), webhook_id)
