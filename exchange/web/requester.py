"""Requester pages: ask for a dataset, follow the requests, receive data under a grant."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..files import content_disposition
from ..paging import PageRequest
from ..usecases import access, delivery, masking_plan, publishing
from .base import DatasetTitles, FormError, attempt, form_fields, principal, services

__all__ = ["bp"]

bp = Blueprint("requester", __name__)



@bp.before_request
def _requesters_only() -> None:
    services().require(principal(), "request", "create")


def _titles() -> dict[str, str]:
    return DatasetTitles()


@bp.route("/request/<dataset_id>", methods=["GET", "POST"])
@form_fields("purpose", "columns")
def new_request(dataset_id: str):
    svc, who = services(), principal()
    shown = publishing.get_dataset(svc, who, dataset_id)
    cannot = ("own" if shown["department"] == who.department
              else "not_shareable" if shown["sharing"] == "none" else None)
    if cannot:  # said up front, not after the form is filled in
        return render_template("web/request_form.html", ds=shown, cannot=cannot, errors=[],
                               plan={}, purpose="", picked=[], max_purpose=access.MAX_PURPOSE)
    plan = masking_plan.planned_masking(svc, who, dataset_id)
    errors: list = []
    purpose, picked = "", []  # nothing ticked: the requester asks only for what it needs
    # no maxlength on the field: a browser would cut a pasted text short without a word; the
    # rules refuse a long one and the page gives it back whole, to be shortened
    if request.method == "POST":
        purpose = request.form.get("purpose", "")
        picked = request.form.getlist("columns")
        created, errors = attempt(lambda: access.create_request(
            svc, who, dataset_id=dataset_id, purpose=purpose, columns=picked))
        if not errors:
            return redirect(url_for(".requests", made=created["id"]), code=303)
    page = render_template("web/request_form.html", ds=shown, plan=plan, errors=errors,
                           purpose=purpose, picked=picked,  # as typed, to be shortened
                           max_purpose=access.MAX_PURPOSE)
    return page, (422 if errors else 200)


@bp.get("/my/requests")
def requests():
    svc, who = services(), principal()
    tab = request.args.get("tab", "all")
    if tab not in ("all", "open", "closed"):
        tab = "all"
    listed = access.list_requests(svc, who, status=None if tab == "all" else tab,
                                  page=PageRequest.from_args(request.args))
    return render_template("web/my_requests.html", requests=listed["requests"], listed=listed,
                           titles=_titles(), made=request.args.get("made"), tab=tab)


@bp.get("/my/grants")
def grants():
    svc, who = services(), principal()
    listed = access.list_grants(svc, who, page=PageRequest.from_args(request.args))
    return render_template("web/my_grants.html", grants=listed["grants"], listed=listed,
                           titles=_titles())


@bp.post("/my/grants/<grant_id>/deliver")
@form_fields("format")
def deliver(grant_id: str):
    fmt = request.form.get("format", "csv")  # "csv-excel": CSV with a byte-order mark
    done = delivery.deliver(services(), principal(), grant_id,
                            fmt="csv" if fmt == "csv-excel" else fmt, bom=fmt == "csv-excel")
    return redirect(url_for(".exchange", exchange_id=done["id"]), code=303)


@bp.get("/my/exchanges/<exchange_id>")
def exchange(exchange_id: str):
    manifest = delivery.signed_manifest(services(), principal(), exchange_id)
    return render_template("web/exchange.html", exchange_id=exchange_id, manifest=manifest,
                           titles=_titles())


@bp.route("/my/exchanges/<exchange_id>/check", methods=["GET", "POST"])
@form_fields("file")
def check_file(exchange_id: str):
    """Check a downloaded file against the delivery's signed receipt, in the browser: the
    file is hashed on the server as it arrives and kept nowhere."""
    svc, who = services(), principal()
    manifest = delivery.signed_manifest(svc, who, exchange_id)
    result, errors = None, []
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors = [FormError("file", _("Choose the file you downloaded."))]
        else:
            result = delivery.check_file(svc, who, exchange_id, upload.stream)
    page = render_template("web/exchange_check.html", exchange_id=exchange_id,
                           manifest=manifest, result=result, errors=errors, titles=_titles())
    return page, (422 if errors else 200)


@bp.get("/my/exchanges/<exchange_id>/data")
def exchange_data(exchange_id: str):
    data, media_type, filename, size = delivery.exchange_data(services(), principal(),
                                                              exchange_id)
    response = _attachment(data, media_type, filename, exchange_id)
    response.headers["Content-Length"] = str(size)  # a browser shows the download's progress
    return response


@bp.get("/my/exchanges/<exchange_id>/receipt")
def exchange_receipt(exchange_id: str):
    receipt, filename = delivery.exchange_receipt(services(), principal(), exchange_id)
    return _attachment(receipt.encode(), "application/jose", filename, exchange_id)


def _attachment(data: Any, media_type: str, filename: str, exchange_id: str) -> Response:
    fallback = exchange_id + filename[filename.index("."):] if "." in filename else exchange_id
    return Response(data, content_type=media_type, headers={
        "Content-Disposition": content_disposition(filename, fallback=fallback),
        "Cache-Control": "no-store"})
