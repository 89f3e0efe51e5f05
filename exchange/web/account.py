"""Signing in and out, the start page, and the language switch."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..auth import Principal
from ..errors import TooManyAttempts, Unauthenticated, retry_after
from ..usecases.signin import sign_in as open_session
from ..usecases.signin import sign_out as end_session
from .base import FormError, form_fields, may, safe_next, services, sign_in_as
from .i18n import LANGUAGES

__all__ = ["bp", "landing_page"]

bp = Blueprint("account", __name__)

MAX_FIELD = 200


def landing_page() -> str:
    """Where a user starts: their work list, else the catalog."""
    if may("request", "decide"):
        return url_for("web.steward.inbox")
    if may("user", "manage"):
        return url_for("web.admin.departments")
    if may("request", "oversee"):
        return url_for("web.authority.requests")
    if may("audit", "read"):
        return url_for("web.auditor.log")
    return url_for("web.catalog.index")


@bp.get("/")
def start():
    if g.get("principal") is None:
        return redirect(url_for(".sign_in"))
    return redirect(landing_page())


@bp.route("/sign-in", methods=["GET", "POST"])
@form_fields("username", "password", "next")
def sign_in():
    """The sign-in form. A failure says the same whichever of the two was wrong; an empty
    field is named (that reveals nothing)."""
    form = {"next": request.values.get("next"), "username": ""}
    if request.method == "GET":
        return render_template("web/sign_in.html", **form, errors=[], wrong=False)
    form["username"] = username = request.form.get("username", "").strip()[:MAX_FIELD]
    password = request.form.get("password", "")[:MAX_FIELD]
    missing = ([FormError("username", _("Enter your username."))] if not username else []) + (
        [FormError("password", _("Enter your password."))] if not password else [])
    if missing:
        return render_template("web/sign_in.html", **form, errors=missing, wrong=False), 401
    try:
        who, session_id = _check(username, password)
    except TooManyAttempts as exc:
        headers = retry_after(exc, services().clock())
        minutes = math.ceil(int(headers["Retry-After"]) / 60)
        locked = ngettext("Too many failed sign-ins for this username or from this computer. "
                          "Try again in %(num)d minute.",
                          "Too many failed sign-ins for this username or from this computer. "
                          "Try again in %(num)d minutes.", minutes)
        return render_template("web/sign_in.html", **form, errors=locked,
                               wrong=False), 429, headers
    except Unauthenticated:  # the summary links to the first field; both are marked
        wrong = [FormError("username", _("Enter a correct username and password."))]
        return render_template("web/sign_in.html", **form, errors=wrong, wrong=True), 401
    lang = session.get("lang")
    sign_in_as(session_id)
    if lang:
        session["lang"] = lang
    g.principal = who
    return redirect(safe_next(form["next"], landing_page()), code=303)


def _check(username: str, password: str) -> tuple[Principal, str]:
    """The user and a new session id. Raises TooManyAttempts, Unauthenticated."""
    return open_session(services(), username=username, password=password,
                        address=request.remote_addr or "",
                        lifetime=current_app.permanent_session_lifetime)


@bp.route("/sign-out", methods=["GET", "POST"])
@form_fields()
def sign_out():
    """GET: ask first (a stray Enter on the link ends nothing). POST: end the session."""
    if request.method == "GET":
        if not session.get("sid"):
            return redirect(url_for(".sign_in"), code=303)
        return render_template("web/sign_out.html")
    if session.get("sid"):
        end_session(services(), session["sid"])
    session.clear()
    return redirect(url_for(".sign_in", signed_out=1), code=303)


@bp.get("/language/<lang>")
def language(lang: str):
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.args.get("next"), url_for(".start")))

