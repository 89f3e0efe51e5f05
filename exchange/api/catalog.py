"""``/catalog.jsonld`` and ``/catalog/directory.*``: the whole catalog (metadata only) for other
catalogs — DCAT-AP 3.0.1 JSON-LD and the national directory's structure."""

from __future__ import annotations

from flask import Response, request

from ..usecases import directory
from .base import principal, route, services

__all__: list[str] = []


@route("/catalog.jsonld", "GET", tag="catalog", produces="application/ld+json",
       summary="The catalog as DCAT-AP 3.0.1 JSON-LD (context inline; withdrawn datasets "
               "left out; metadata only)")
def catalog_jsonld():
    return _send("jsonld")


@route("/catalog/directory.json", "GET", tag="catalog", produces="application/json",
       summary="The catalog in the national directory's structure (政务信息资源目录编制指南, "
               "GB/T 21063.3 core metadata) as JSON")
def directory_json():
    return _send("directory-json")


@route("/catalog/directory.xlsx", "GET", tag="catalog",
       produces=directory.EXPORT_FORMATS["directory-xlsx"][0],
       summary="The catalog in the national directory's structure as XLSX: sheets 信息资源 "
               "(one row per resource) and 信息项 (one row per column)")
def directory_xlsx():
    return _send("directory-xlsx")


def _send(fmt: str) -> Response:
    made = directory.export(services(), principal(), fmt=fmt, base_url=request.url_root)
    return Response(made.blocks, content_type=made.media_type, headers=made.headers())
