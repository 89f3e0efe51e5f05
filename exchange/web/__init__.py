"""Server-rendered pages for requesters, stewards and auditors (Flask + Jinja).

The pages call the same use-case functions as the REST API (``publishing``, ``access``,
``delivery``, ``auditing``); authorization stays in Casbin through ``Services.require``, so a
page never decides by itself who may do what. Usage::

    from exchange import web
    web.init_app(app, svc, exempt=[api_blueprint])   # in create_app

One parent blueprint ``web`` holds the sign-in, the error pages and the per-request principal;
one child blueprint per area (catalog, requester, steward, auditor, dashboard) holds its pages.
Every form carries a CSRF token (Flask-WTF); the session cookie is HttpOnly, SameSite=Lax and
Secure when ``secure_cookies`` is set, signed with a key derived from the master key. The user
it signs in is not in the cookie: it carries the id of a session row in the database
(``exchange.auth``), so signing out, expiry or the server end it. Failed sign-ins are throttled
and audit-logged by ``exchange.usecases.signin``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from ..services import Services
from ..usecases import masking_plan
from . import (
    account,
    admin,
    auditor,
    authority,
    catalog,
    dashboard,
    i18n,
    process,
    requester,
    steward,
)
from .base import bp, event_labels

__all__ = ["init_app", "bp", "csrf", "SESSION_HOURS", "PAGES"]

#: The areas of pages, each a blueprint under ``web``.
PAGES: tuple[Blueprint, ...] = (account.bp, catalog.bp, requester.bp, steward.bp, auditor.bp,
                                dashboard.bp, admin.bp, authority.bp, process.bp)
for _area in PAGES:
    bp.register_blueprint(_area)

SESSION_HOURS = 8
csrf = CSRFProtect()


def init_app(app: Flask, svc: Services, *, exempt: Iterable[Blueprint] = ()) -> None:
    """Attach the pages, sessions, CSRF protection and translations to ``app``.

    ``exempt`` lists blueprints that authenticate otherwise (the bearer-token API).
    """
    lifetime = dt.timedelta(hours=SESSION_HOURS)
    app.config.update(
        SECRET_KEY=svc.master.derive("web-session"),
        SESSION_COOKIE_NAME="govex_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(svc.settings.secure_cookies),
        PERMANENT_SESSION_LIFETIME=lifetime,
        WTF_CSRF_TIME_LIMIT=int(lifetime.total_seconds()),
    )
    csrf.init_app(app)
    for blueprint in exempt:
        csrf.exempt(blueprint)
    i18n.init_app(app, svc)
    # the pages' one glossary of what operators do, shown on invented values
    app.jinja_env.globals.update(masking_example=masking_plan.example,
                                 event_labels=event_labels,
                                 unread_notices=process.unread_notices)
    app.register_blueprint(bp)
