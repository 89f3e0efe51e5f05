"""Requester pages: ask for a dataset, follow the requests, receive data under a grant."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..files import content_disposition
from ..paging import PageRequest
from ..usecases import access, delivery, feedback, interface, masking_plan, publishing
from .base import DatasetTitles, FormError, attempt, form_fields, principal, services

__all__ = ["bp"]

bp = Blueprint("requester", __name__)



@bp.before_request
def _requesters_only() -> None:
    services().require(principal(), "request", "create")


def _titles() -> dict[str, str]:
    return DatasetTitles()


@bp.route("/request/<dataset_id>", methods=["GET", "POST"])
@form_fields("purpose", "columns", "mode", "key_columns")
def new_request(dataset_id: str):
    svc, who = services(), principal()
    shown = publishing.get_dataset(svc, who, dataset_id)
    cannot = ("own" if shown["department"] == who.department
              else "not_shareable" if shown["sharing"] == "none" else None)
    if cannot:  # said up front, not after the form is filled in
        return render_template("web/request_form.html", ds=shown, cannot=cannot, errors=[],
                               plan={}, purpose="", picked=[], max_purpose=access.MAX_PURPOSE,
                               mode="file", keys=[])
    plan = masking_plan.planned_masking(svc, who, dataset_id)
    errors: list = []
    purpose, picked = "", []  # nothing ticked: the requester asks only for what it needs
    mode, keys = "file", []  # the table, or lookups by key columns (接口)
    # no maxlength on the field: a browser would cut a pasted text short without a word; the
    # rules refuse a long one and the page gives it back whole, to be shortened
    if request.method == "POST":
        purpose = request.form.get("purpose", "")
        picked = request.form.getlist("columns")
        mode = request.form.get("mode") or "file"
        keys = request.form.getlist("key_columns")  # ignored for the table, as unticked
        created, errors = attempt(lambda: access.create_request(
            svc, who, dataset_id=dataset_id, purpose=purpose, columns=picked, mode=mode,
            key_columns=keys if mode == "query" else None))
        if not errors:
            return redirect(url_for(".requests", made=created["id"]), code=303)
    page = render_template("web/request_form.html", ds=shown, plan=plan, errors=errors,
                           purpose=purpose, picked=picked,  # as typed, to be shortened
                           max_purpose=access.MAX_PURPOSE, mode=mode, keys=keys)
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


@bp.get("/my/grants/<grant_id>/lookup")
def lookup_page(grant_id: str):
    return _lookup_page(grant_id)


def _lookup_page(grant_id: str, *, errors: list[FormError] | None = None,
                 form: str | None = None, typed: dict[str, Any] | None = None,
                 answer: dict[str, Any] | None = None):
    """A query grant's page (接口共享 at a service window): look one record up by a key
    column, or check claims against it (核验), each call audited; ``answer`` is the last
    call's. What was typed is shown again only beside its errors."""
    grant = interface.query_grant(services(), principal(), grant_id)
    page = render_template("web/lookup.html", grant=grant, titles=_titles(),
                           errors=errors or [], form=form, typed=typed or {}, answer=answer)
    return page, (422 if errors else 200)


@bp.post("/my/grants/<grant_id>/lookup")
@form_fields("column", "value")
def lookup(grant_id: str):
    svc, who = services(), principal()
    typed = {"column": request.form.get("column", ""), "value": request.form.get("value", "")}
    found, errors = attempt(lambda: interface.lookup(
        svc, who, grant_id, key={typed["column"]: typed["value"]}))
    if errors:
        return _lookup_page(grant_id, errors=errors, form="lookup", typed=typed)
    return _lookup_page(grant_id, form="lookup", answer=found)


@bp.post("/my/grants/<grant_id>/check")
@form_fields("column", "value", prefixes=("claim:",))
def check(grant_id: str):
    svc, who = services(), principal()
    typed = {name: value for name, value in request.form.items() if name != "csrf_token"}
    claims = {typed.get("column", ""): typed.get("value", "")} | {
        name.removeprefix("claim:"): value for name, value in typed.items()
        if name.startswith("claim:") and value.strip()}
    checked, errors = attempt(lambda: interface.verify(svc, who, grant_id, claims=claims))
    if errors:
        return _lookup_page(grant_id, errors=errors, form="check", typed=typed)
    return _lookup_page(grant_id, form="check", answer=checked)


@bp.get("/my/exchanges/<exchange_id>")
def exchange(exchange_id: str):
    return _exchange_page(exchange_id)


def _exchange_page(exchange_id: str, *, errors: list[FormError] | None = None,
                   form: str | None = None, typed: dict[str, Any] | None = None):
    svc, who = services(), principal()
    manifest = delivery.signed_manifest(svc, who, exchange_id)
    page = render_template("web/exchange.html", exchange_id=exchange_id, manifest=manifest,
                           titles=_titles(), rated=feedback.rating_of(svc, who, exchange_id),
                           errors=errors or [], form=form, typed=typed or {},
                           max_text=feedback.MAX_TEXT)
    return page, (422 if errors else 200)


@bp.post("/my/exchanges/<exchange_id>/feedback")
@form_fields("rating", "comment")
def rate(exchange_id: str):
    svc, who = services(), principal()
    given = request.form.get("rating", "")
    comment = request.form.get("comment", "")
    rating: Any = int(given) if given.isdigit() else given
    _done, errors = attempt(lambda: feedback.rate(svc, who, exchange_id, rating=rating,
                                                  comment=comment))
    if errors:
        return _exchange_page(exchange_id, errors=errors, form="rate",
                              typed={"rating": given, "comment": comment})
    flash(_("Thank you: your rating was recorded."))
    return redirect(url_for(".exchange", exchange_id=exchange_id), code=303)


@bp.post("/my/exchanges/<exchange_id>/objections")
@form_fields("columns", "rows", "description")
def object_to(exchange_id: str):
    svc, who = services(), principal()
    typed = {"columns": request.form.getlist("columns"), "rows": request.form.get("rows", ""),
             "description": request.form.get("description", "")}
    rows = _row_numbers(typed["rows"])
    made, errors = attempt(lambda: feedback.file_objection(
        svc, who, exchange_id, columns=typed["columns"], rows=rows,
        description=typed["description"]))
    if errors:
        return _exchange_page(exchange_id, errors=errors, form="object", typed=typed)
    flash(_("Your error report %(id)s was sent to the providing department.", id=made["id"]))
    return redirect(url_for("web.process.objection", objection_id=made["id"]), code=303)


def _row_numbers(text: str) -> Any:
    """Row numbers as typed ("3, 7-9"), or the text itself when it is not (the use case
    refuses it with its own words)."""
    found: list[int] = []
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not first.strip().isdigit() or (dash and not last.strip().isdigit()):
            return text
        lo, hi = int(first), int(last) if dash else int(first)
        if hi < lo or hi - lo > feedback.MAX_ROWS:
            return text
        found.extend(range(lo, hi + 1))
    return found if found else text


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
