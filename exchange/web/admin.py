"""The admin's pages: the city's departments and the users in them (add, disable or enable,
a new API token, a lifted lock-out). Every change goes through the same use cases as the CLI
and the API (Casbin decides: ``user manage``) and is an audit entry."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import NotFound
from ..usecases import admin as ua
from ..usecases import departments as ud
from .base import attempt, form_fields, principal, services

__all__ = ["bp"]

bp = Blueprint("admin", __name__, url_prefix="/admin")

_DEPARTMENT_FIELDS = ("code", "name", "name_en", "level", "parent", "region")
_USER_FIELDS = ("username", "display_name", "role", "department", "password")


@bp.route("/departments", methods=["GET", "POST"])
@form_fields(*_DEPARTMENT_FIELDS)
def departments():
    """GET: every department, and a form to add one. POST: add it."""
    svc, who = services(), principal()
    svc.require(who, "user", "manage")  # any user may read the list; this page is the admin's
    listed = ud.list_departments(svc, who)["departments"]
    form = {k: request.form.get(k, "").strip() for k in _DEPARTMENT_FIELDS}
    errors: list = []
    if request.method == "POST":
        made, errors = attempt(lambda: ud.add_department(
            svc, who, code=form["code"], name=form["name"], name_en=form["name_en"] or None,
            level=form["level"], parent=form["parent"] or None,
            region=form["region"] or None))
        if not errors:
            flash(_("Department %(name)s (%(code)s) was added.", name=made["name"],
                    code=made["code"]))
            return redirect(url_for(".departments"), code=303)
    page = render_template("web/admin_departments.html", departments=listed, form=form,
                           errors=errors, levels=ud.LEVELS)
    return page, (422 if errors else 200)


@bp.post("/departments/<code>/<action>")
@form_fields()
def department_action(code: str, action: str):
    svc, who = services(), principal()
    if action == "disable":
        done = ud.disable_department(svc, who, code=code)
        flash(_("Department %(code)s was disabled with %(n)s user(s).", code=code,
                n=len(done["users_disabled"])))
    elif action == "enable":
        ud.enable_department(svc, who, code=code)
        flash(_("Department %(code)s was enabled; enable its users one by one.", code=code))
    else:
        raise NotFound("no such action")
    return redirect(url_for(".departments"), code=303)


@bp.route("/users", methods=["GET", "POST"])
@form_fields(*_USER_FIELDS)
def users():
    """GET: the users (of a department), and a form to add one. POST: add it; its API token
    is shown once."""
    svc, who = services(), principal()
    department = request.args.get("department") or None
    listed, errors = attempt(lambda: ud.list_users(svc, who, department=department))
    form = {k: request.form.get(k, "").strip() for k in _USER_FIELDS if k != "password"}
    token = None
    if request.method == "POST":
        token, errors = attempt(lambda: ua.add_account(
            svc, who, username=form["username"], password=request.form.get("password", ""),
            role=form["role"], department=form["department"] or None,
            display_name=form["display_name"] or None))
        if not errors:
            listed = ud.list_users(svc, who, department=department)
            flash(_("User %(name)s was added.", name=form["username"]))
    page = render_template(
        "web/admin_users.html", users=(listed or {}).get("users", []), form=form,
        errors=errors, token=token, token_for=form.get("username"), department=department,
        departments=ud.list_departments(svc, who)["departments"], roles=_roles())
    return page, (422 if errors else 200)


@bp.post("/users/<username>/<action>")
@form_fields()
def user_action(username: str, action: str):
    """Disable, enable, a new API token (shown once, on the page it returns) or lift a
    sign-in lock-out."""
    svc, who = services(), principal()
    if action not in ua.USER_ACTIONS:
        raise NotFound("no such action")
    token = ua.change_user(svc, who, username, action)
    if token is None:
        flash({"disable": _("%(name)s was disabled: their tokens and sessions stopped.",
                            name=username),
               "enable": _("%(name)s was enabled.", name=username),
               "unlock": _("The sign-in lock-out of %(name)s was lifted.", name=username)}
              [action])
        return redirect(url_for(".users"), code=303)
    return render_template(
        "web/admin_users.html", users=ud.list_users(svc, who)["users"], form={}, errors=[],
        token=token, token_for=username, department=None,
        departments=ud.list_departments(svc, who)["departments"], roles=_roles())


def _roles() -> tuple[str, ...]:
    from ..auth import ROLES
    return ROLES
