"""``/audit``: the tamper-evident log, for auditors."""

from __future__ import annotations

from flask import Response, request

from ..usecases import auditing
from . import principal, route, services

__all__: list[str] = []


@route("/audit/entries", "GET", summary="Log entries, filtered and paged — auditor",
       tag="audit", params=("offset", "limit", "form") + auditing.FILTERS)
def entries():
    return auditing.entries(services(), principal(), request.args.to_dict())


@route("/audit/checkpoint", "GET", summary="The latest signed checkpoint (C2SP signed note)",
       tag="audit", produces="text/plain")
def checkpoint():
    return Response(auditing.checkpoint(services(), principal()), mimetype="text/plain")


@route("/audit/proofs/inclusion", "GET", summary="Inclusion proof of one entry", tag="audit",
       params=("index", "size"))
def inclusion():
    return auditing.inclusion(services(), principal(), request.args.to_dict())


@route("/audit/proofs/consistency", "GET", summary="Consistency proof between two sizes",
       tag="audit", params=("old", "new"))
def consistency():
    return auditing.consistency(services(), principal(), request.args.to_dict())


@route("/audit/key", "GET", summary="The checkpoint signer's C2SP verifier key", tag="audit",
       public=True)
def verifier_key():
    return auditing.verifier_key(services())
