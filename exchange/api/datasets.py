"""``/datasets``: the catalog."""

from __future__ import annotations

import json

from flask import request

from ..errors import InvalidInput
from ..uploads import spooled_path
from ..usecases import publishing
from .base import json_body, principal, route, services

__all__: list[str] = []


@route("/datasets", "GET", summary="Search the catalog", tag="catalog",
       params=("q", "department", "sharing", "level"))
def list_datasets():
    args = request.args
    found = publishing.search(services(), principal(), q=args.get("q"),
                              department=args.get("department"), sharing=args.get("sharing"),
                              level=args.get("level"))
    return {"datasets": found}


@route("/datasets/{dataset_id}", "GET", tag="catalog",
       summary="A dataset: metadata, columns, personal data per column, quality report")
def get_dataset(dataset_id: str):
    return publishing.get_dataset(services(), principal(), dataset_id)


@route("/datasets", "POST", tag="catalog", status=201,
       summary="Publish a dataset (multipart: file, metadata JSON) — steward",
       body={"multipart/form-data": {"type": "object", "required": ["file", "metadata"],
                                     "properties": {"file": {"type": "string",
                                                             "format": "binary"},
                                                    "metadata": {"type": "string"}}}})
def publish_dataset():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("send the file as multipart field 'file'")
    try:
        metadata = json.loads(request.form.get("metadata") or "")
    except (json.JSONDecodeError, RecursionError):
        raise InvalidInput("field 'metadata' must be a JSON object") from None
    created = publishing.publish(services(), principal(), filename=upload.filename,
                                 data=spooled_path(upload), metadata=metadata)
    return created, 201



@route("/datasets/external", "POST", tag="catalog", status=201,
       summary="Register a folder of Parquet files read where it lies, masked by Spark on "
               "delivery (JSON: location, metadata) — steward",
       body={"application/json": {"type": "object", "required": ["location", "metadata"],
                                  "properties": {"location": {"type": "string"},
                                                 "metadata": {"type": "object"}}}})
def register_external():
    body = json_body()
    created = publishing.register_external(services(), principal(),
                                           location=body.get("location"),
                                           metadata=body.get("metadata"))
    return created, 201
