"""The sharing process around requests: appeals, notices, webhooks."""

from __future__ import annotations

from flask import Response, request

from ..errors import InvalidInput
from ..paging import PageRequest
from ..usecases import feedback, metrics, process
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


_RATE = {"application/json": {"type": "object", "required": ["rating"], "properties": {
    "rating": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": _TEXT}}}
_OBJECTION = {"application/json": {"type": "object", "required": ["columns", "rows",
                                                                  "description"],
                                   "properties": {
                                       "columns": {"type": "array", "items": _TEXT},
                                       "rows": {"type": "array",
                                                "items": {"type": "integer", "minimum": 1}},
                                       "description": _TEXT}}}
_ANSWER = {"application/json": {"type": "object", "required": ["outcome"], "properties": {
    "outcome": {"type": "string", "enum": ["fixed", "explained"]},
    "version": {"type": "integer"}, "explanation": _TEXT}}}


@route("/exchanges/{exchange_id}/feedback", "POST", tag="delivery", body=_RATE, status=201,
       summary="Rate a delivery 1-5 with an optional comment (scrubbed before it is stored) "
               "— the receiving department")
def rate(exchange_id: str):
    body = json_body()
    return feedback.rate(services(), principal(), exchange_id, rating=body.get("rating"),
                         comment=body.get("comment")), 201


@route("/exchanges/{exchange_id}/objections", "POST", tag="delivery", body=_OBJECTION,
       status=201, summary="Report errors in a delivery by columns and row numbers "
                           "(校核纠错) — the receiving department")
def file_objection(exchange_id: str):
    body = json_body()
    return feedback.file_objection(services(), principal(), exchange_id,
                                   columns=body.get("columns"), rows=body.get("rows"),
                                   description=body.get("description")), 201


@route("/objections", "GET", tag="delivery", params=("state", "page_size", "page_token"),
       summary="Objections my department filed (requester), about its data (steward), or in "
               "the region (authority), newest first")
def list_objections():
    return feedback.list_objections(services(), principal(),
                                    status=request.args.get("state") or None,
                                    page=PageRequest.from_args(request.args))


@route("/objections/{objection_id}", "GET", tag="delivery", summary="One objection")
def get_objection(objection_id: str):
    return feedback.get_objection(services(), principal(), objection_id)


@route("/objections/{objection_id}/answer", "POST", tag="delivery", body=_ANSWER,
       summary="Answer an objection: fixed (in a newer version) or explained — steward")
def answer_objection(objection_id: str):
    body = json_body()
    return feedback.answer_objection(services(), principal(), objection_id,
                                     outcome=body.get("outcome"),
                                     explanation=body.get("explanation"),
                                     version=body.get("version"))


@route("/metrics/departments", "GET", tag="audit", params=("from", "to", "period", "format"),
       summary="How each department serves, per period: requests, replies on time, median "
               "reply in working hours, approvals, appeals, ratings, objections (format=csv "
               "for a spreadsheet) — data authority, auditors")
def department_metrics():
    args = request.args
    found = metrics.department_metrics(services(), principal(), start=args.get("from"),
                                       end=args.get("to"), period=args.get("period", "month"))
    if args.get("format") == "csv":
        return Response(metrics.as_csv(found["metrics"]), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="metrics.csv"'})
    if args.get("format") not in (None, "", "json"):
        raise InvalidInput("format must be json or csv", code="metrics_format",
                           field="format")
    return found
