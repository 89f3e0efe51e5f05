"""``/datasets``: the catalog."""

from __future__ import annotations

import json

from flask import request

from ..errors import InvalidInput
from ..paging import PageRequest
from ..uploads import spooled_path
from ..usecases import publishing
from .base import json_body, principal, route, services

__all__: list[str] = []


@route("/datasets", "GET", summary="Search the catalog, a page at a time, with facet counts",
       tag="catalog", params=("q", "department", "sharing", "level", "theme", "sort",
                              "page_size", "page_token"))
def list_datasets():
    args = request.args
    return publishing.search(services(), principal(), q=args.get("q"),
                             department=args.get("department"), sharing=args.get("sharing"),
                             level=args.get("level"), theme=args.get("theme"),
                             sort=args.get("sort"), page=PageRequest.from_args(args))


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
    upload = _uploaded_file()
    created = publishing.publish(services(), principal(), filename=upload.filename,
                                 data=spooled_path(upload), metadata=_form_json("metadata"))
    return created, 201


@route("/datasets/{dataset_id}/versions", "POST", tag="catalog", status=201,
       summary="Publish a new version (multipart: file, optional metadata JSON with strict "
               "and not_null) — steward of the dataset's department",
       body={"multipart/form-data": {"type": "object", "required": ["file"],
                                     "properties": {"file": {"type": "string",
                                                             "format": "binary"},
                                                    "metadata": {"type": "string"}}}})
def add_version(dataset_id: str):
    upload = _uploaded_file()
    options = _form_json("metadata") if request.form.get("metadata") else {}
    created = publishing.add_version(services(), principal(), dataset_id,
                                     filename=upload.filename, data=spooled_path(upload),
                                     options=options)
    return created, 201


@route("/datasets/{dataset_id}/versions", "GET", tag="catalog",
       summary="Every version of a dataset, newest first")
def list_versions(dataset_id: str):
    return publishing.list_versions(services(), principal(), dataset_id)


_EDIT = {"application/json": {"type": "object", "properties": {
    **{name: {} for name in publishing.EDITABLE},
    "confirm_personal_data": {"type": "boolean", "description": "lowering the level to L1 "
                              "or L2 of a dataset holding personal data needs it"}}}}


@route("/datasets/{dataset_id}", "PATCH", tag="catalog", body=_EDIT,
       summary="Edit a dataset's metadata — steward of its department")
def edit_dataset(dataset_id: str):
    return publishing.edit_metadata(services(), principal(), dataset_id, json_body())


@route("/datasets/{dataset_id}/withdraw", "POST", tag="catalog",
       body={"application/json": {"type": "object", "required": ["reason"],
                                  "properties": {"reason": {"type": "string"}}}},
       summary="Withdraw a dataset from the catalog: its grants end, its history stays — "
               "steward of its department")
def withdraw_dataset(dataset_id: str):
    body = json_body()
    return publishing.withdraw(services(), principal(), dataset_id, reason=body.get("reason"))


def _uploaded_file():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("send the file as multipart field 'file'")
    return upload


def _form_json(field: str):
    try:
        return json.loads(request.form.get(field) or "")
    except (json.JSONDecodeError, RecursionError):
        raise InvalidInput(f"field '{field}' must be a JSON object") from None



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


@route("/datasets/{dataset_id}/versions/external", "POST", tag="catalog", status=201,
       summary="The next version of a dataset as its folder of Parquet files is now (JSON: "
               "location, default the current version's folder; metadata: strict, not_null, "
               "confirm_personal_data, region_column) — steward of its department",
       body={"application/json": {"type": "object",
                                  "properties": {"location": {"type": "string"},
                                                 "metadata": {"type": "object"}}}})
def add_external_version(dataset_id: str):
    body = json_body(optional=True)
    created = publishing.add_external_version(services(), principal(), dataset_id,
                                              location=body.get("location"),
                                              options=body.get("metadata"))
    return created, 201
