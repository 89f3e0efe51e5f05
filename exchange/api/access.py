"""``/requests`` and ``/grants``: asking, deciding, revoking."""

from __future__ import annotations

from flask import request

from ..paging import PageRequest
from ..usecases import access, flowback
from ..usecases.masking_plan import OPERATOR_NAMES
from .base import json_body, principal, route, services

__all__: list[str] = []

_REQUEST = {"application/json": {"type": "object", "required": ["dataset_id", "purpose",
                                                                "columns"],
                                 "properties": {"dataset_id": {"type": "string"},
                                                "purpose": {"type": "string"},
                                                "columns": {"type": "array",
                                                            "items": {"type": "string"}},
                                                "mode": {"type": "string",
                                                         "enum": ["file", "query"]},
                                                "key_columns": {"type": "array",
                                                                "items": {"type": "string"}}}}}
_APPROVE = {"application/json": {"type": "object", "properties": {
    "columns": {"type": "array", "items": {"type": "string"}},
    "masking": {"type": "object", "additionalProperties": {"type": "string",
                                                           "enum": list(OPERATOR_NAMES)}},
    "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 365},
    "follows": {"type": "string", "enum": ["latest", "pinned"]},
    "rows": {"type": "object", "additionalProperties": {"type": "array",
                                                        "items": {"type": "string"}}},
    "daily_limit": {"type": "integer", "minimum": 1, "maximum": 1_000_000}}}}
_REASON = {"application/json": {"type": "object", "properties": {"reason": {"type": "string"}}}}


@route("/requests", "POST", summary="Ask for a dataset, stating purpose and columns",
       tag="access", body=_REQUEST, status=201)
def create_request():
    body = json_body()
    created = access.create_request(services(), principal(), dataset_id=body.get("dataset_id"),
                                     purpose=body.get("purpose"), columns=body.get("columns"),
                                     mode=body.get("mode"), key_columns=body.get("key_columns"))
    return created, 201


@route("/requests", "GET", summary="Requests of my department (requester) or for its datasets"
       " (steward), a page at a time", tag="access",
       params=("status", "page_size", "page_token"))
def list_requests():
    return access.list_requests(services(), principal(), status=request.args.get("status"),
                                page=PageRequest.from_args(request.args))


@route("/requests/{request_id}", "GET", tag="access",
       summary="One request: its due time (working days, Shanghai time) and its timeline")
def get_request(request_id: str):
    return access.get_request(services(), principal(), request_id)


@route("/requests/{request_id}/withdraw", "POST", tag="access", body=_REASON,
       summary="Withdraw a pending request — the requesting department")
def withdraw_request(request_id: str):
    return access.withdraw(services(), principal(), request_id,
                           reason=json_body(optional=True).get("reason"))


@route("/requests/{request_id}/approve", "POST", tag="access", body=_APPROVE,
       summary="Approve with conditions (columns, masking per column, rows, expiry) — steward")
def approve(request_id: str):
    body = json_body(optional=True)
    return access.approve(services(), principal(), request_id, columns=body.get("columns"),
                          masking=body.get("masking"),
                          expires_in_days=body.get("expires_in_days"),
                          follows=body.get("follows"), rows=body.get("rows"),
                          daily_limit=body.get("daily_limit"))


@route("/requests/{request_id}/deny", "POST", summary="Refuse with a reason — steward",
       tag="access", body=_REASON)
def deny(request_id: str):
    return access.deny(services(), principal(), request_id, reason=json_body().get("reason"))


@route("/grants", "GET", summary="Grants my department received or gave, a page at a time",
       tag="access", params=("page_size", "page_token"))
def list_grants():
    return access.list_grants(services(), principal(), page=PageRequest.from_args(request.args))


@route("/grants/{grant_id}/version", "POST", tag="access",
       body={"application/json": {"type": "object", "required": ["version"], "properties": {
           "version": {"type": "integer", "minimum": 2},
           "masking": {"type": "object", "additionalProperties": {
               "type": "string", "enum": list(OPERATOR_NAMES)}}}}},
       summary="Move a grant to a newer version its conditions did not fit, with operators "
               "for the columns that changed — steward of the providing department")
def move_grant(grant_id: str):
    body = json_body()
    return access.move_grant(services(), principal(), grant_id, version=body.get("version"),
                             masking=body.get("masking"))


@route("/grants/{grant_id}/revoke", "POST", summary="Revoke a grant — steward", tag="access",
       body=_REASON)
def revoke(grant_id: str):
    body = json_body(optional=True)
    return access.revoke(services(), principal(), grant_id, reason=body.get("reason"))


_FLOWBACK = {"application/json": {"type": "object", "required": ["purpose", "legal_basis"],
                                  "properties": {
    "purpose": {"type": "string"}, "legal_basis": {"type": "string"},
    "columns": {"type": "array", "items": {"type": "string"}},
    "masking": {"type": "object", "additionalProperties": {"type": "string",
                                                           "enum": list(OPERATOR_NAMES)}},
    "review_in_days": {"type": "integer", "minimum": 1, "maximum": 365}}}}


@route("/datasets/{dataset_id}/flowback", "POST", tag="access", body=_FLOWBACK, status=201,
       summary="回流: the dataset flows back to every district under the steward's department, "
               "each receiving its own region's rows — steward")
def create_flowback(dataset_id: str):
    body = json_body()
    made = flowback.flow_back(services(), principal(), dataset_id, purpose=body.get("purpose"),
                              legal_basis=body.get("legal_basis"), columns=body.get("columns"),
                              masking=body.get("masking"),
                              review_in_days=body.get("review_in_days"))
    return made, 201


@route("/flowbacks", "GET", tag="access", summary="The 回流 decisions of my department — steward")
def list_flowbacks():
    return flowback.list_flowbacks(services(), principal())


@route("/flowbacks/{flowback_id}/confirm", "POST", tag="access",
       summary="Confirm an L4 回流 decision as its second steward: the grants are issued")
def confirm_flowback(flowback_id: str):
    return flowback.confirm(services(), principal(), flowback_id)


@route("/flowbacks/{flowback_id}/end", "POST", tag="access", body=_REASON,
       summary="End a 回流 decision: every district grant derived from it ends — steward")
def end_flowback(flowback_id: str):
    return flowback.end(services(), principal(), flowback_id,
                        reason=json_body().get("reason"))
