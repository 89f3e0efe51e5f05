"""Signing in and out, the start page, and the language switch."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for

from ..auth import Principal
from ..errors import TooManyAttempts, Unauthenticated, retry_after
from ..usecases.signin import sign_in as open_session
from ..usecases.signin import sign_out as end_session
from .base import may, safe_next, services, sign_in_as
from .i18n import LANGUAGES

__all__ = ["bp", "landing_page"]

bp = Blueprint("account", __name__)

MAX_FIELD = 200


def landing_page() -> str:
    """Where a user starts: their work list, else the catalog."""
    if may("request", "decide"):
        return url_for("web.steward.inbox")
    if may("audit", "read"):
        return url_for("web.auditor.log")
    return url_for("web.catalog.index")


@bp.get("/")
def start():
    if g.get("principal") is None:
        return redirect(url_for(".sign_in"))
    return redirect(landing_page())


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = {"next": request.values.get("next"), "username": ""}
    if request.method == "GET":
        return render_template("web/sign_in.html", **form, error=None)
    form["username"] = username = request.form.get("username", "").strip()[:MAX_FIELD]
    password = request.form.get("password", "")[:MAX_FIELD]
    try:
        who, session_id = _check(username, password)
    except TooManyAttempts as exc:
        headers = retry_after(exc, services().clock())
        return render_template("web/sign_in.html", **form, error="locked",
                               minutes=math.ceil(int(headers["Retry-After"]) / 60)), 429, headers
    except Unauthenticated:
        return render_template("web/sign_in.html", **form, error="wrong"), 401
    lang = session.get("lang")
    sign_in_as(session_id)
    if lang:
        session["lang"] = lang
    g.principal = who
    return redirect(safe_next(form["next"], landing_page()), code=303)


def _check(username: str, password: str) -> tuple[Principal, str]:
    """The user and a new session id. Raises TooManyAttempts, Unauthenticated."""
    if not username or not password:
        raise Unauthenticated("enter a username and a password")
    return open_session(services(), username=username, password=password,
                        address=request.remote_addr or "",
                        lifetime=current_app.permanent_session_lifetime)


@bp.route("/sign-out", methods=["GET", "POST"])
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

