"""``/audit``: the tamper-evident log, for auditors."""

from __future__ import annotations

from flask import Response, request

from ..usecases import audit_export, auditing
from ..usecases import subjects as subjects_uc
from .base import json_body, principal, route, services

__all__: list[str] = []


@route("/audit/entries", "GET", summary="Log entries, filtered and paged — auditor",
       tag="audit", params=("offset", "limit", "form", "order") + auditing.FILTERS)
def entries():
    return auditing.entries(services(), principal(), auditing.EntryQuery.from_args(request.args))


@route("/audit/entries.csv", "GET", tag="audit", params=("order",) + auditing.FILTERS,
       summary="The entries the filters select as CSV (UTF-8 with a byte-order mark, for "
               "Excel), at most 100,000 — auditor", produces="text/csv")
def entries_csv():
    return _export("csv")


@route("/audit/entries.xlsx", "GET", tag="audit", params=("order",) + auditing.FILTERS,
       summary="The entries the filters select as an XLSX sheet, at most 100,000 — auditor",
       produces=audit_export.XLSX_MEDIA_TYPE)
def entries_xlsx():
    return _export("xlsx")


def _export(fmt: str) -> Response:
    """The export of the filtered entries (in English; ``X-Govex-Selected`` counts every entry
    the filters select, ``X-Govex-Entries`` those the file holds)."""
    made = audit_export.export(services(), principal(),
                               auditing.EntryQuery.from_args(request.args), fmt=fmt)
    return Response(made.blocks, content_type=made.media_type, headers=made.headers())


@route("/audit/checkpoint", "GET", summary="The latest signed checkpoint (C2SP signed note)",
       tag="audit", produces="text/plain")
def checkpoint():
    return Response(auditing.checkpoint(services(), principal()), mimetype="text/plain")


@route("/audit/proofs/inclusion", "GET", summary="Inclusion proof of one entry", tag="audit",
       params=("index", "size"))
def inclusion():
    args = request.args
    return auditing.inclusion(services(), principal(),
                              index=auditing.whole_number(args.get("index"), "index"),
                              size=auditing.whole_number(args.get("size"), "size", low=1))


@route("/audit/proofs/consistency", "GET", summary="Consistency proof between two sizes",
       tag="audit", params=("old", "new"))
def consistency():
    args = request.args
    return auditing.consistency(services(), principal(),
                                old=auditing.whole_number(args.get("old"), "old", low=1),
                                new=auditing.whole_number(args.get("new"), "new", low=1))


@route("/audit/key", "GET", summary="The checkpoint signer's C2SP verifier key", tag="audit",
       public=True)
def verifier_key():
    return auditing.verifier_key(services())


@route("/audit/subjects", "GET", tag="audit", params=("value",),
       summary="Who received data about a person: every lookup, verification and file "
               "delivery whose data held the identifier (matched by its keyed hash; the "
               "search is logged, the value is not) — auditors; a steward for its own "
               "datasets")
def subjects():
    return subjects_uc.who_received(services(), principal(), value=request.args.get("value"))


_SUBJECT = {"application/json": {"type": "object", "required": ["value"],
                                 "properties": {"value": {"type": "string"}}}}


@route("/audit/subjects", "POST", tag="audit", body=_SUBJECT,
       summary="The same search with the identifier in the body: use it behind a proxy that "
               "logs URLs")
def subjects_post():
    return subjects_uc.who_received(services(), principal(), value=json_body().get("value"))
