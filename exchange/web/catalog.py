"""The catalog (everyone signed in): search and filter, and one dataset's page."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..paging import PageRequest
from ..usecases import publishing
from ..usecases.admin import department_names
from ..usecases.masking_plan import planned_masking
from .base import may, principal, services

__all__ = ["bp", "FILTERS"]

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

FILTERS = ("q", "department", "sharing", "level")


@bp.get("")
def index():
    chosen = {k: request.args.get(k, "").strip()[:200] for k in FILTERS}
    found = publishing.search(services(), principal(), **chosen,
                              page=PageRequest.from_args(request.args))
    return render_template("web/catalog.html", datasets=found["datasets"], found=found,
                           chosen=chosen,
                           departments=department_names(services()),
                           sharing_types=publishing.SHARING_TYPES, levels=publishing.LEVELS)


@bp.get("/<dataset_id>")
def dataset(dataset_id: str):
    svc, who = services(), principal()
    shown = publishing.get_dataset(svc, who, dataset_id)
    can_request = may("request", "create") and shown["department"] != who.department
    # a not-shareable dataset delivers nothing: no column "arrives" in any form
    plan = planned_masking(svc, who, dataset_id) if can_request \
        and shown["sharing"] != "none" else {}
    return render_template("web/dataset.html", ds=shown, plan=plan, can_request=can_request)
