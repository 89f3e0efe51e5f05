"""Signing in and out, the start page, and the language switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from ..auth import check_password
from ..errors import Unauthenticated
from .base import bp as parent
from .base import may, safe_next, services, sign_in_as
from .i18n import LANGUAGES

__all__ = ["bp", "landing_page"]

bp = Blueprint("account", __name__)
parent.register_blueprint(bp)

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
    next_url = request.values.get("next")
    if request.method == "GET":
        return render_template("web/sign_in.html", next=next_url, error=None, username="")
    username = request.form.get("username", "").strip()[:MAX_FIELD]
    password = request.form.get("password", "")[:MAX_FIELD]
    who = _check(username, password)
    if who is None:
        return render_template("web/sign_in.html", next=next_url, username=username,
                               error="wrong"), 401
    lang = session.get("lang")
    sign_in_as(who)
    if lang:
        session["lang"] = lang
    g.principal = who
    return redirect(safe_next(next_url, landing_page()), code=303)


def _check(username: str, password: str) -> Any:
    if not username or not password:
        return None
    try:
        with services().reader.connect() as conn:
            return check_password(conn, username, password)
    except Unauthenticated:
        return None


@bp.post("/sign-out")
def sign_out():
    session.clear()
    return redirect(url_for(".sign_in", signed_out=1), code=303)


@bp.get("/language/<lang>")
def language(lang: str):
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.args.get("next"), url_for(".start")))

