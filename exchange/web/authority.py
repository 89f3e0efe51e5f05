"""The data authority's pages (政务数据主管部门): every request made by or to the departments
it oversees (its region's, at its level and below), pending ones first by how long they have
waited. Deciding disputes and the service metrics build on this page (the workflow issue)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..paging import PageRequest
from ..usecases import access
from .base import DatasetTitles, principal, services

__all__ = ["bp"]

bp = Blueprint("authority", __name__, url_prefix="/authority")


@bp.get("/requests")
def requests():
    svc, who = services(), principal()
    svc.require(who, "request", "oversee")
    status = request.args.get("status") or "pending"
    listed = access.list_requests(svc, who, status=None if status == "all" else status,
                                  page=PageRequest.from_args(request.args))
    return render_template("web/authority_requests.html", requests=listed["requests"],
                           listed=listed, status=status, titles=DatasetTitles(),
                           now=svc.clock())
