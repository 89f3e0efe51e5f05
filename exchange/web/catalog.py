"""The catalog (everyone signed in): search and filter, and one dataset's page."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..errors import NotFound
from ..files import content_disposition
from ..paging import PageRequest
from ..usecases import access, publishing
from ..usecases.admin import department_names
from ..usecases.masking_plan import planned_masking, sample
from .base import may, principal, services

__all__ = ["bp", "FILTERS"]

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

FILTERS = ("q", "department", "sharing", "level", "theme")


@bp.get("")
def index():
    chosen = {k: request.args.get(k, "").strip()[:200] for k in FILTERS}
    sort = request.args.get("sort") or None
    if sort == "relevance" and not publishing.is_ranked(chosen["q"], sort):
        sort = None  # the search words were cleared: no relevance to order by
    found = publishing.search(services(), principal(), **chosen, sort=sort,
                              page=PageRequest.from_args(request.args))
    granted = access.granted_datasets(services(), principal(),
                                      [d["id"] for d in found["datasets"]])
    return render_template("web/catalog.html", datasets=found["datasets"], found=found,
                           chosen=chosen, granted=granted,
                           departments=department_names(services()),
                           sharing_types=publishing.SHARING_TYPES, levels=publishing.LEVELS,
                           themes=publishing.VOCABULARIES["theme"], sorts=publishing.SORTS)


@bp.get("/<dataset_id>")
def dataset(dataset_id: str):
    svc, who = services(), principal()
    shown = publishing.get_dataset(svc, who, dataset_id)
    can_request = may("request", "create") and shown["department"] != who.department
    # a not-shareable dataset delivers nothing: no column "arrives" in any form
    plan = planned_masking(svc, who, dataset_id) if can_request \
        and shown["sharing"] != "none" else {}
    own = may("dataset", "publish") and shown["department"] == who.department
    return render_template(
        "web/dataset.html", ds=shown, plan=plan, can_request=can_request, own=own,
        sample=sample(svc, who, dataset_id) if can_request else None,
        versions=publishing.list_versions(svc, who, dataset_id)["versions"],
        vocab=publishing.VOCABULARIES,
        api_url=request.host_url.rstrip("/") + f"/api/v1/datasets/{dataset_id}")


@bp.get("/<dataset_id>/dictionary.<fmt>")
def data_dictionary(dataset_id: str, fmt: str):
    """The data dictionary (信息项) as CSV for Excel or XLSX: names, types, lengths,
    descriptions, what personal data each column holds (never a value)."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound("no such format")
    data, media_type, name = publishing.data_dictionary_file(services(), principal(),
                                                             dataset_id, fmt)
    return Response(data, content_type=media_type, headers={
        "Content-Disposition": content_disposition(
            name, fallback=f"{dataset_id}-dictionary.{fmt}"), "Cache-Control": "no-store"})
