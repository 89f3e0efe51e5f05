"""Steward pages: the inbox, reviewing a request with a preview, grants, publishing."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import Forbidden, InvalidInput
from ..messages import Problem, problems_of
from ..paging import PageRequest
from ..uploads import spooled_path
from ..usecases import access, masking_plan, publishing
from ..usecases.departments import region_name
from ..usecases.masking_plan import operator_names
from .base import (
    DatasetTitles,
    FormError,
    attempt,
    department_label,
    form_errors,
    form_fields,
    principal,
    services,
)

__all__ = ["bp"]

log = logging.getLogger("govex")

bp = Blueprint("steward", __name__, url_prefix="/steward")

MAX_TEXT = 2000
PREVIEW_ROWS = 5


@bp.before_request
def _stewards_only() -> None:
    services().require(principal(), "request", "decide")


def _titles() -> dict[str, str]:
    return DatasetTitles()


@bp.get("/inbox")
def inbox():
    svc = services()
    listed = access.list_requests(svc, principal(), status="pending",
                                  page=PageRequest.from_args(request.args))
    return render_template("web/inbox.html", requests=listed["requests"], listed=listed,
                           titles=_titles(), now=svc.clock())


@bp.route("/requests/<request_id>", methods=["GET", "POST"])
@form_fields("action", "expires_in_days", "follows", "rows_column", "rows_values",
             "daily_limit", prefixes=("op:",))
def review(request_id: str):
    """GET: the request with the proposed operators and a preview. POST: preview again with
    the operators chosen, or approve with them — only once their preview masks cleanly."""
    svc, who = services(), principal()
    chosen = _chosen_masking() if request.method == "POST" else None
    expiry = request.form.get("expires_in_days", "90").strip()[:10]
    follows = request.form.get("follows") or "latest"
    limit = request.form.get("daily_limit", "").strip()[:10]  # a query request's
    scope = _chosen_rows() if request.method == "POST" else masking_plan.PROPOSED
    agreed = access.first_approval(svc, who, request_id)
    if agreed is not None:  # L4: the second steward confirms the first one's conditions
        chosen, expiry = dict(agreed["masking"]), str(agreed["expires_in_days"])
        follows, scope = agreed.get("follows", "latest"), agreed.get("rows")
        limit = str(agreed.get("daily_limit") or "")
    shown, errors = attempt(lambda: masking_plan.preview(svc, who, request_id, masking=chosen,
                                                     rows=PREVIEW_ROWS, scope=scope))
    if not errors and request.form.get("action") == "approve":
        query = shown["request"].get("mode") == "query"
        done, errors = attempt(lambda: access.approve(
            svc, who, request_id, masking=chosen, expires_in_days=_days(expiry),
            follows=follows, rows=shown["scope"],
            daily_limit=(int(limit) if limit.isdigit() else limit or None) if query
            else None))
        if not errors:
            flash(_("Approved. Grant %(grant)s was issued.", grant=done["grant_id"])
                  if done["grant_id"] else
                  _("Your approval is recorded. A second steward must approve as well."))
            return redirect(url_for(".inbox"), code=303)
    return _review_page(request_id, shown, chosen=chosen, expiry=expiry, errors=errors,
                        follows=follows, limit=limit)


def _review_page(request_id: str, shown: dict | None, *, chosen: dict | None, expiry: str,
                 errors: list, reason: str = "", follows: str = "latest",
                 limit: str = "") -> tuple[str, int]:
    svc, who = services(), principal()
    if shown is None:  # the chosen operators do not fit: show the defaults and say why
        shown = masking_plan.preview(svc, who, request_id, rows=PREVIEW_ROWS)
    ds = publishing.get_dataset(svc, who, shown["request"]["dataset_id"])
    profiles = {c["name"]: c.get("profile") for c in ds["columns"]}
    operators = {col: operator_names((profiles.get(col) or {}).get("entity"),
                                     keep=(chosen or {}).get(col, shown["masking"].get(col)))
                 for col in shown["request"]["columns"]}
    if request.method == "POST" and "rows_column" in request.form:  # as typed
        rows_form = (request.form.get("rows_column", ""), request.form.get("rows_values", ""))
    else:
        scope = shown.get("scope") or {}
        column = next(iter(scope), "")
        rows_form = (column, ", ".join(scope.get(column, [])))
    page = render_template(
        "web/review.html", req=shown["request"], preview=shown, chosen=chosen or {},
        operators=operators, expiry=expiry, errors=errors, now=svc.clock(), ds=ds,
        profiles=profiles, reason=reason, max_reason=MAX_TEXT, follows=follows,
        daily_limit=limit or str(access.DEFAULT_DAILY_LIMIT),
        max_daily_limit=access.MAX_DAILY_LIMIT,
        rows_form=rows_form, rows_columns=[c["name"] for c in ds["columns"]
                                           if (c.get("profile") or {}).get("kind", "none")
                                           == "none"],
        region_name=region_name)
    return page, (422 if errors else 200)


def _chosen_rows() -> dict[str, list[str]] | str | None:
    """The row scope chosen on the review page: a column and its values (separated by
    commas, 、 or spaces); None for every row. A value list without a column is given back
    as it is, for the rules to refuse."""
    column = request.form.get("rows_column", "").strip()
    values = [v for v in re.split(r"[,，、\s]+", request.form.get("rows_values", "")) if v]
    if not column:
        return None if not values else {"": values}
    return {column: values}


def _chosen_masking() -> dict[str, str]:
    return {key[3:]: value for key, value in request.form.items(multi=False)
            if key.startswith("op:")}


def _days(text: str) -> int | str:
    """The expiry as a number when it is one; otherwise the text, which the rules refuse."""
    return int(text) if text.isdigit() else text


@bp.post("/requests/<request_id>/deny")
@form_fields("reason")
def deny(request_id: str):
    svc, who = services(), principal()
    reason = request.form.get("reason", "")
    errors = _too_long(reason)
    if not errors:
        done, errors = attempt(lambda: access.deny(svc, who, request_id, reason=reason))
    if errors:  # the review page again, the reason's problem beside it
        return _review_page(request_id, None, chosen=None, expiry="90", errors=errors,
                            reason=reason)
    flash(_("Request %(id)s was refused.", id=request_id))
    return redirect(url_for(".inbox"), code=303)


def _too_long(reason: str) -> list[FormError]:
    """A reason longer than the pages take is refused beside its field, never cut short."""
    if len(reason) <= MAX_TEXT:
        return []
    return form_errors(InvalidInput.of([Problem("reason_too_long", "reason", {"max": MAX_TEXT})],
                                       malformed=False))


@bp.get("/grants")
def grants():
    svc = services()
    listed = access.list_grants(svc, principal(), page=PageRequest.from_args(request.args))
    return render_template("web/steward_grants.html", grants=listed["grants"], listed=listed,
                           titles=_titles())


@bp.route("/grants/<grant_id>/revoke", methods=["GET", "POST"])
@form_fields("reason")
def revoke(grant_id: str):
    """GET: what revoking the grant stops, and the reason to give. POST: revoke it."""
    svc, who = services(), principal()
    grant = access.grant_to_revoke(svc, who, grant_id)
    reason, errors = request.form.get("reason", ""), []
    if request.method == "POST":
        errors = _too_long(reason)
        if not errors:
            done, errors = attempt(lambda: access.revoke(svc, who, grant_id, reason=reason))
        if not errors:
            flash(_("The grant of %(title)s to %(dept)s was revoked; they can no longer "
                    "download it and can read your reason.",
                    title=_titles().get(grant["dataset_id"], grant["dataset_id"]),
                    dept=department_label(grant["receiver"])))
            return redirect(url_for(".grants"), code=303)
    page = render_template("web/revoke.html", grant=grant, reason=reason, errors=errors,
                           titles=_titles(), max_reason=MAX_TEXT)
    return page, (422 if errors else 200)


_PUBLISH_FIELDS = ("title", "description", "sharing", "level", "legal_basis", "keywords",
                   "resource_code", "theme", "update_frequency", "open_type", "share_condition",
                   "contact", "contact_email", "contact_phone", "confirm_personal_data")
_CONTACT = ("contact", "contact_email", "contact_phone")
_CONFIRM = "confirm_personal_data"


@bp.route("/publish", methods=["GET", "POST"])
@form_fields("file", *_PUBLISH_FIELDS)
def publish():
    form = {k: request.form.get(k, "").strip() for k in _PUBLISH_FIELDS}  # as typed
    errors: list = []
    if request.method == "POST":
        upload = request.files.get("file")
        created, errors = attempt(lambda: _publish(upload, form))
        if not errors:
            flash(_("Published %(title)s.", title=created["title"]))
            return redirect(url_for("web.catalog.dataset", dataset_id=created["id"]), code=303)
    page = render_template("web/publish.html", form=form, errors=errors,
                           sharing_types=publishing.SHARING_TYPES, levels=publishing.LEVELS,
                           vocab=publishing.VOCABULARIES, max_text=MAX_TEXT)
    return page, (422 if errors else 200)




def _publish(upload: object, form: dict[str, str]) -> dict:
    metadata: dict[str, object] = {k: v for k, v in form.items()
                                   if v and k not in _CONTACT and k != _CONFIRM}
    metadata[_CONFIRM] = form[_CONFIRM] == "yes"
    if any(form[k] for k in _CONTACT):  # one contact point: a name, an e-mail, a phone
        metadata["contact"] = {"name": form["contact"], "email": form["contact_email"] or None,
                               "phone": form["contact_phone"] or None}
    problems = [] if upload is not None and getattr(upload, "filename", "") else [
        Problem("file_required", "file")]
    problems += [Problem("text_too_long", k, {"max": MAX_TEXT}) for k, v in form.items()
                 if len(v) > MAX_TEXT]  # refused beside the field, never cut short
    try:
        publishing.check_metadata(metadata)
    except InvalidInput as exc:  # every problem of the form at once
        problems += problems_of(exc)
    if problems:
        raise InvalidInput.of(problems)
    return _stored(upload, lambda: publishing.publish(
        services(), principal(), filename=upload.filename, data=spooled_path(upload),
        metadata=metadata))


def _stored(upload: object, store: Callable[[], dict]) -> dict:
    """``store()`` the uploaded file; a file that cannot be published is said beside the
    file field, in the page's language (the reader's English details go to the log)."""
    try:
        return store()
    except publishing.InvalidUpload as exc:
        if problems_of(exc):
            raise
        log.info("publish: %s refused: %s", getattr(upload, "filename", ""), exc)
        code = "too_large" if isinstance(exc, publishing.UploadTooLarge) else "file_unreadable"
        raise InvalidInput.of([Problem(code, "file")], malformed=False) from exc


@bp.route("/datasets/<dataset_id>/versions", methods=["GET", "POST"])
@form_fields("file", "confirm_personal_data")
def new_version(dataset_id: str):
    """A new version of a dataset of the steward's department: the file, profiled and
    checked like the first; grants that follow the latest version receive it."""
    svc, who = services(), principal()
    shown = publishing.get_dataset(svc, who, dataset_id)
    if shown["department"] != who.department:  # said before the form is filled in
        raise Forbidden("only a steward of the dataset's department may change it",
                        code="not_your_dataset")
    errors: list = []
    confirm = request.form.get(_CONFIRM) == "yes"
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors = [FormError("file", _("Choose the file of the new version."))]
        else:
            created, errors = attempt(lambda: _stored(upload, lambda: publishing.add_version(
                svc, who, dataset_id, filename=upload.filename, data=spooled_path(upload),
                options={_CONFIRM: confirm})))
        if not errors:
            flash(_("Published version %(n)s of %(title)s.", n=created["version"],
                    title=created["title"]))
            return redirect(url_for("web.catalog.dataset", dataset_id=dataset_id), code=303)
    page = render_template("web/new_version.html", ds=shown, errors=errors, confirm=confirm)
    return page, (422 if errors else 200)


@bp.route("/datasets/<dataset_id>/edit", methods=["GET", "POST"])
@form_fields(*_PUBLISH_FIELDS, prefixes=("desc:",))
def edit(dataset_id: str):
    """The metadata of a dataset of the steward's department, its directory fields and each
    column's description; the audit entry names the fields that changed."""
    svc, who = services(), principal()
    shown = publishing.get_dataset(svc, who, dataset_id)
    if shown["department"] != who.department:
        raise Forbidden("only a steward of the dataset's department may change it",
                        code="not_your_dataset")
    columns = [c["name"] for c in shown.get("columns", [])]
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in _PUBLISH_FIELDS}
        notes = {c: request.form.get(f"desc:{c}", "").strip() for c in columns}
    else:
        form, notes = _as_form(shown), {c["name"]: c.get("description") or ""
                                        for c in shown.get("columns", [])}
    errors: list = []
    if request.method == "POST":
        done, errors = attempt(lambda: _edit(dataset_id, form, notes))
        if not errors:
            flash(_("Saved. The change is in the audit log.") if done["changed"]
                  else _("Nothing changed."))
            return redirect(url_for("web.catalog.dataset", dataset_id=dataset_id), code=303)
    page = render_template("web/edit_dataset.html", ds=shown, form=form, notes=notes,
                           errors=errors, sharing_types=publishing.SHARING_TYPES,
                           levels=publishing.LEVELS, vocab=publishing.VOCABULARIES,
                           max_text=MAX_TEXT)
    return page, (422 if errors else 200)


def _as_form(shown: dict) -> dict[str, str]:
    """A dataset's metadata as the form's fields."""
    directory = shown.get("directory") or {}
    contact = directory.get("contact") or {}
    form = {k: shown.get(k) or "" for k in ("title", "description", "sharing", "level",
                                             "legal_basis", "keywords")}
    form |= {k: directory.get(k) or "" for k in ("resource_code", "theme", "update_frequency",
                                                 "open_type", "share_condition")}
    return form | {"contact": contact.get("name") or "",
                   "contact_email": contact.get("email") or "",
                   "contact_phone": contact.get("phone") or ""}


def _edit(dataset_id: str, form: dict[str, str], notes: dict[str, str]) -> dict:
    changes: dict[str, object] = {k: v or None for k, v in form.items()
                                  if k not in _CONTACT and k != _CONFIRM}
    changes[_CONFIRM] = form[_CONFIRM] == "yes"
    if not changes["resource_code"]:
        changes.pop("resource_code")  # kept: a dataset always has its code
    changes["contact"] = {"name": form["contact"], "email": form["contact_email"] or None,
                          "phone": form["contact_phone"] or None} \
        if any(form[k] for k in _CONTACT) else None
    changes["column_descriptions"] = {c: v for c, v in notes.items() if v}
    problems = [Problem("text_too_long", k, {"max": MAX_TEXT}) for k, v in form.items()
                if len(v) > MAX_TEXT]
    problems += [Problem("text_too_long", f"desc:{c}", {"max": MAX_TEXT})
                 for c, v in notes.items() if len(v) > MAX_TEXT]
    if problems:
        raise InvalidInput.of(problems)
    return publishing.edit_metadata(services(), principal(), dataset_id, changes)


@bp.route("/datasets/<dataset_id>/withdraw", methods=["GET", "POST"])
@form_fields("reason")
def withdraw(dataset_id: str):
    """GET: what withdrawing ends, and the reason to give. POST: withdraw."""
    svc, who = services(), principal()
    shown = publishing.get_dataset(svc, who, dataset_id)
    if shown["department"] != who.department:  # said before the form is filled in
        raise Forbidden("only a steward of the dataset's department may change it",
                        code="not_your_dataset")
    reason, errors = request.form.get("reason", ""), []
    if request.method == "POST":
        errors = _too_long(reason)
        if not errors:
            done, errors = attempt(lambda: publishing.withdraw(svc, who, dataset_id,
                                                               reason=reason))
        if not errors:
            flash(_("%(title)s was withdrawn from the catalog; %(n)s grants ended.",
                    title=shown["title"], n=len(done["grants_ended"])))
            return redirect(url_for("web.catalog.dataset", dataset_id=dataset_id), code=303)
    page = render_template("web/withdraw.html", ds=shown, reason=reason, errors=errors,
                           max_reason=MAX_TEXT)
    return page, (422 if errors else 200)

