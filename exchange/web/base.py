"""The parent blueprint of the pages: who is signed in, what they may do, error pages."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..auth import Principal, principal_for_session, touch_session
from ..errors import (
    InvalidInput,
    Unauthenticated,
    http_code,
    public_message,
    retry_after,
    status_for,
)
from ..messages import problems_of, text_of
from ..services import Services
from ..usecases.admin import department_names
from ..usecases.signin import sign_out

__all__ = ["event_labels", "bp", "services", "principal", "may", "safe_next", "PUBLIC_ENDPOINTS",
           "sign_in_as", "attempt", "department_label", "FormError", "form_errors", "form_fields"]

log = logging.getLogger("govex")

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

# Pages anyone may open without signing in.
PUBLIC_ENDPOINTS = {"web.static", "web.account.sign_in", "web.account.language",
                    "web.account.start"}


def services() -> Services:
    """The process's services."""
    return current_app.extensions["govex"]


def principal() -> Principal:
    """The signed-in user of this request (pages other than the public ones have one)."""
    return g.principal


def may(obj: str, act: str) -> bool:
    """Whether the signed-in user may ``act`` on ``obj`` in their department (Casbin)."""
    who = g.get("principal")
    if who is None:
        return False
    return services().allowed(who.username, who.domain, obj, act)


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def form_fields(*names: str, prefixes: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """The fields a page's form posts (and the CSRF token): a POST with any other field is
    refused with 400 ``unknown_field`` naming them, as the API refuses a body's (a misspelt
    condition is never dropped silently). ``prefixes``: families of fields, one per column
    (``op:`` + a column's name)."""
    allowed = frozenset({"csrf_token", *names})

    def wrap(view: Any) -> Any:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                sent = set(request.form) | set(request.files)
                unknown = sorted(name for name in sent if name not in allowed
                                 and not name.startswith(prefixes))
                if unknown:
                    raise InvalidInput(f"unknown field(s): {', '.join(unknown)}",
                                       code="unknown_field", fields=unknown)
            return view(*args, **kwargs)
        return checked
    return wrap


def sign_in_as(session_id: str) -> None:
    """Start a fresh cookie for the server-side session ``session_id`` (a new CSRF token).
    A session the browser still held (signing in again without signing out) is ended, so a
    copy of the old cookie opens nothing."""
    previous = session.get("sid")
    if isinstance(previous, str) and previous != session_id:
        sign_out(services(), previous)
    session.clear()
    session.permanent = True
    session["sid"] = session_id


def _load_principal(session_id: str | None) -> Principal | None:
    """The user of the session the cookie names, if that session still exists in the database
    and has not expired (signing out, an operator or expiry ends it whatever the cookie says)."""
    if not session_id:
        return None
    svc = services()
    now = svc.clock()
    try:
        with svc.reader.connect() as conn:
            who, stale = principal_for_session(conn, session_id, now=now)
    except Unauthenticated:
        return None
    if stale:
        with svc.engine.begin() as conn:
            touch_session(conn, session_id, now=now)
    return who


@bp.before_request
def _authenticate() -> Any:
    if request.endpoint == "web.static":
        g.principal = None
        return None
    g.principal = _load_principal(session.get("sid"))
    if g.principal is None and ("sid" in session or "user" in session):
        session.clear()  # ended, expired, user disabled or removed; or a cookie from before
    if g.principal is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("web.account.sign_in", next=request.full_path.rstrip("?")))
    return None


@bp.after_request
def _no_store(response: Any) -> Any:
    """Pages show personal data and tokens: never cache them; never frame them."""
    if request.endpoint != "web.static":
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'")
    return response


@bp.context_processor
def _page_globals() -> dict[str, Any]:
    return {"who": g.get("principal"), "may": may, "dept": department_label,
            "instance_name": services().settings.instance_name}


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> Any:
    return _error_page(400, "csrf", exc.description)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    return _error_page(exc.code or 500, "http", exc.description)


@bp.errorhandler(Exception)
def _any_error(exc: Exception) -> Any:
    status = status_for(exc)
    if status == 500:
        log.exception("internal error on a page")
    problems = problems_of(exc)
    if problems:  # worded for the reader
        message = " ".join(text_of(p, gettext) for p in problems)
        page = render_template("web/error.html", status=status, kind="domain", message=message,
                               translated=True)
    else:
        page, status = _error_page(status, "domain", public_message(exc))
    return page, status, retry_after(exc, services().clock())


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _unrouted(exc: HTTPException) -> Any:
    """A URL no route serves (or a method it does not take): a page in the reader's language
    for a browser, the API's JSON error for the API and for clients that do not ask for HTML."""
    status = exc.code or 404
    if request.path.startswith(("/api/", "/.well-known/")) or \
            not request.accept_mimetypes.accept_html:
        return {"error": {"code": http_code(status), "message": exc.description}}, status
    if request.blueprint != "web":  # outside the pages: their before_request did not run
        g.principal = _load_principal(session.get("sid"))
    return render_template("web/error.html", status=status, kind="http", message=None,
                           **_page_globals()), status


def _error_page(status: int, kind: str, message: str | None) -> Any:
    return render_template("web/error.html", status=status, kind=kind, message=message), status


@dataclasses.dataclass(frozen=True)
class FormError:
    """One problem of a form, in the reader's language: the ``field`` it concerns (the id of
    the input the error summary links to; None for the form as a whole) and its ``message``."""

    field: str | None
    message: str


def attempt(action: Any) -> tuple[Any, list[FormError]]:
    """Run ``action()``; our refusal of the input (a ValueError kind: a missing purpose, an
    unknown column) comes back as the form's errors, every problem it names, so the form can
    show them beside the fields. Everything else (foreign errors included) propagates to the
    error pages."""
    try:
        return action(), []
    except ValueError as exc:
        if status_for(exc) >= 500:  # not one of ours: may quote data; the error page logs it
            raise
        return None, form_errors(exc)


def form_errors(exc: BaseException) -> list[FormError]:
    """The problems ``exc`` names, worded for the reader (its own message if it names none)."""
    problems = problems_of(exc)
    if not problems:
        return [FormError(None, public_message(exc))]
    return [FormError(p.field, text_of(p, gettext)) for p in problems]


class DatasetTitles:
    """Dataset titles for a page, looked up as the page names them (``titles.get(id,
    default)``, as a dict would answer) and kept for the request."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def get(self, dataset_id: str, default: str | None = None) -> str | None:
        if dataset_id not in self._known:
            from ..usecases import publishing
            self._known.update(publishing.titles(services(), principal(), [dataset_id]))
        return self._known.get(dataset_id, default)


def event_labels() -> dict[str, str]:
    """Each kind of audit entry's name in the page's language (pages and exports)."""
    return {"publish": gettext("Publish"), "dataset_change": gettext("Metadata edited"),
            "withdraw": gettext("Dataset withdrawn"),
            "grant_move": gettext("Grant moved to a new version"),
            "request": gettext("Request"),
            "request_withdraw": gettext("Request withdrawn"), "approve": gettext("Approve"),
            "deny": gettext("Deny"), "escalate": gettext("Escalated to the data authority"),
            "appeal": gettext("Appeal"), "appeal_decision": gettext("Appeal decided"),
            "revoke": gettext("Revoke"), "exchange": gettext("Delivery"),
            "lookup": gettext("Lookup or verification"), "feedback": gettext("Rating"),
            "query_alert": gettext("Query grant alert"),
            "grant_suspend": gettext("Query grant suspended or resumed"),
            "subject_search": gettext("Who received data about a person"),
            "objection": gettext("Error report"),
            "objection_answer": gettext("Error report answered"),
            "authz_denied": gettext("Refused access"), "user_add": gettext("User added"),
            "user_change": gettext("User change"),
            "department_change": gettext("Department change"),
            "calendar_change": gettext("Calendar change"),
            "webhook_change": gettext("Webhook change"),
            "flowback": gettext("Flow back to the districts"), "key_rotate": gettext("Key change"),
            "init": gettext("Instance created"), "sign_in_failed": gettext("Failed sign-in"),
            "sign_in_locked": gettext("Sign-in locked"),
            "authz_throttled": gettext("Throttled after refusals")}


def department_label(code: str | None) -> str:
    """A department's name in the page's language (its code when unknown)."""
    if not code:
        return ""
    if "departments" not in g:
        g.departments = department_names(services())
    zh, en = g.departments.get(code, (code, code))
    return zh if str(get_locale()) == "zh" else en
