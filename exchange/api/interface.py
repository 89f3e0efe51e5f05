"""``/grants/{id}/lookup`` and ``/grants/{id}/verify``: interface sharing (接口共享)."""

from __future__ import annotations

from ..usecases import interface
from .base import json_body, principal, route, services

__all__: list[str] = []

_LOOKUP = {"application/json": {"type": "object", "required": ["key"], "properties": {
    "key": {"type": "object", "additionalProperties": {"type": "string"},
            "minProperties": 1, "maxProperties": 1}}}}
_VERIFY = {"application/json": {"type": "object", "required": ["claims"], "properties": {
    "claims": {"type": "object", "additionalProperties": {"type": "string"},
               "minProperties": 1, "maxProperties": 10}}}}


@route("/grants/{grant_id}/lookup", "POST", tag="delivery", body=_LOOKUP,
       summary="Look one record up by a key column of a query grant: the rows, masked as "
               "granted, with the call's audit index and signed receipt — the receiving "
               "department")
def lookup(grant_id: str):
    return interface.lookup(services(), principal(), grant_id, key=json_body().get("key"))


@route("/grants/{grant_id}/verify", "POST", tag="delivery", body=_VERIFY,
       summary="Check claims against a record (核验): only match true or false leaves, with "
               "the call's audit index and signed receipt — the receiving department")
def verify(grant_id: str):
    return interface.verify(services(), principal(), grant_id,
                            claims=json_body().get("claims"))


@route("/grants/{grant_id}/suspend", "POST", tag="access",
       summary="Suspend a query grant: its calls are refused until it is resumed — steward of "
               "the provider")
def suspend(grant_id: str):
    return interface.suspend(services(), principal(), grant_id)


@route("/grants/{grant_id}/resume", "POST", tag="access",
       summary="Resume a suspended query grant — steward of the provider")
def resume(grant_id: str):
    return interface.resume(services(), principal(), grant_id)
