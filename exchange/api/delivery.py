"""``/grants/{id}/exchanges`` and ``/exchanges/{id}/data``: delivery of masked data."""

from __future__ import annotations

from flask import Response, request

from ..files import content_disposition
from ..paging import PageRequest
from ..usecases import delivery
from .base import json_body, principal, route, services

__all__: list[str] = []

_FORMAT = {"application/json": {"type": "object", "properties": {
    "format": {"type": "string", "enum": list(delivery.DELIVERY_FORMATS), "default": "csv"},
    "bom": {"type": "boolean", "default": False,
            "description": "CSV only: start with a UTF-8 byte-order mark (for Excel)"}}}}


@route("/grants/{grant_id}/exchanges", "POST", tag="delivery", body=_FORMAT, status=201,
       summary="Deliver the masked dataset under an active grant; returns a signed receipt")
def create_exchange(grant_id: str):
    body = json_body(optional=True)
    return delivery.deliver(services(), principal(), grant_id, fmt=body.get("format", "csv"),
                            bom=body.get("bom", False)), 201


@route("/exchanges", "GET", tag="delivery", params=("page_size", "page_token"),
       summary="Deliveries my department received (requester) or provided (steward), newest "
               "first, a page at a time")
def list_exchanges():
    return delivery.list_exchanges(services(), principal(),
                                   page=PageRequest.from_args(request.args))


@route("/exchanges/{exchange_id}/data", "GET", summary="The delivered (masked) bytes",
       tag="delivery", produces="application/octet-stream")
def exchange_data(exchange_id: str):
    data, media_type, filename, size = delivery.exchange_data(services(), principal(),
                                                              exchange_id)
    ext = filename.rsplit(".", 1)[-1]
    return Response(data, content_type=media_type, headers={
        "Content-Disposition": content_disposition(filename, fallback=f"{exchange_id}.{ext}"),
        "Content-Length": str(size), "Cache-Control": "no-store"})
